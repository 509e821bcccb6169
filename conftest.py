"""Shared pytest fixtures: real folders, a real catalog database and a real Dagster instance."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
SAMPLES = REPO_ROOT / "samples"


@pytest.fixture
def datasets_dir() -> Path:
    """The shared public datasets beside the checkout (skips when a clone has none)."""
    if not DATASETS.is_dir():
        pytest.skip(f"shared datasets folder {DATASETS} is absent")
    return DATASETS


@pytest.fixture
def sample_csv() -> Path:
    """The small Shopify export shipped in samples/ (good rows and deliberately bad ones)."""
    return SAMPLES / "shopify_sample.csv"
