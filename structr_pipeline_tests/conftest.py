"""Fixtures for tests that run the Dagster layer for real, in-process."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from structr_pipeline.settings import StructrSettings


@pytest.fixture
def settings(tmp_path) -> StructrSettings:
    """A fresh STRUCTR_HOME with a SQLite catalog database in a temporary folder."""
    home = tmp_path / "structr_home"
    return StructrSettings(home=home, database_url=f"sqlite:///{home / 'catalog.db'}")


@pytest.fixture
def defs(settings) -> dg.Definitions:
    """The project's Definitions wired to the temporary settings."""
    from structr_pipeline.definitions import build_defs

    return build_defs(settings)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """A real, temporary Dagster instance (SQLite storage in a temporary folder)."""
    with dg.instance_for_test() as inst:
        yield inst
