"""Sensor tests evaluate ticks and start backfills: they need an instance on disk."""

from __future__ import annotations

import dagster as dg
import pytest


@pytest.fixture
def instance(disk_instance) -> dg.DagsterInstance:
    """The on-disk instance: backfills and sensor ticks are stored there."""
    return disk_instance
