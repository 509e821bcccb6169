"""The Dagster code location: one `Definitions` object assembled from the stage modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from structr_pipeline.assets import bundle, checks, dedup, ingestion, mapping, validation
from structr_pipeline.jobs import import_batch_job
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.parquet_io_manager import PartitionedParquetIOManager
from structr_pipeline.settings import StructrSettings


def default_resources(settings: StructrSettings) -> dict[str, Any]:
    """The resources for the given settings: catalog store and Parquet asset storage."""
    return {
        "catalog": CatalogStoreResource.from_settings(settings),
        "io_manager": PartitionedParquetIOManager(base_dir=str(settings.storage_dir)),
    }


def build_defs(
    settings: StructrSettings | None = None, resource_overrides: Mapping[str, Any] | None = None
) -> dg.Definitions:
    """Assemble the Definitions; tests pass their own settings or resources."""
    settings = settings or StructrSettings.from_env()
    resources = {**default_resources(settings), **(resource_overrides or {})}
    stage_modules = [ingestion, mapping, validation, dedup, bundle]
    return dg.Definitions(
        assets=dg.load_assets_from_modules(stage_modules),
        asset_checks=dg.load_asset_checks_from_modules([checks]),
        jobs=[import_batch_job],
        resources=resources,
    )


defs = build_defs()
