"""The Dagster code location: one `Definitions` object assembled from the stage modules."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

from structr_pipeline.assets import (
    bundle,
    checks,
    dedup,
    generation,
    ingestion,
    mapping,
    validation,
)
from structr_pipeline.jobs import import_batch_job
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.resources.parquet_io_manager import PartitionedParquetIOManager
from structr_pipeline.settings import StructrSettings


def default_resources(settings: StructrSettings) -> dict[str, Any]:
    """The resources for the given settings: catalog store, Parquet asset storage, the LLM."""
    api_key = dg.EnvVar("STRUCTR_LLM_API_KEY") if os.environ.get("STRUCTR_LLM_API_KEY") else None
    return {
        "catalog": CatalogStoreResource.from_settings(settings),
        "io_manager": PartitionedParquetIOManager(base_dir=str(settings.storage_dir)),
        "llm": LLMResource(
            provider=settings.llm_provider,
            base_url=settings.llm_base_url,
            model=settings.llm_model,
            api_key=api_key,
            max_in_flight=settings.llm_max_in_flight,
        ),
    }


def build_defs(
    settings: StructrSettings | None = None, resource_overrides: Mapping[str, Any] | None = None
) -> dg.Definitions:
    """Assemble the Definitions; tests pass their own settings or resources."""
    settings = settings or StructrSettings.from_env()
    resources = {**default_resources(settings), **(resource_overrides or {})}
    stage_modules = [ingestion, mapping, validation, dedup, generation, bundle]
    return dg.Definitions(
        assets=dg.load_assets_from_modules(stage_modules),
        asset_checks=dg.load_asset_checks_from_modules([checks]),
        jobs=[import_batch_job],
        resources=resources,
    )


defs = build_defs()
