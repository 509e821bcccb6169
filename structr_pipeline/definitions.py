"""The Dagster code location: one `Definitions` object assembled from the stage modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from structr_pipeline import schema_checks
from structr_pipeline.assets import (
    audit,
    bundle,
    catalog,
    checks,
    dedup,
    generation,
    ingestion,
    mapping,
    pim_sync,
    validation,
)
from structr_pipeline.core.connectors.pim import load_sources
from structr_pipeline.jobs import catalog_export_job, import_batch_job, quality_snapshot_job
from structr_pipeline.resources.automation import AutomationPolicyResource
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.resources.parquet_io_manager import PartitionedParquetIOManager
from structr_pipeline.resources.pim import PimResource, resource_key
from structr_pipeline.resources.source_deletes_io_manager import (
    SOURCE_DELETES_IO_MANAGER,
    SourceDeletesIOManager,
)
from structr_pipeline.schedules import nightly_schedules
from structr_pipeline.sensors.inbox import inbox_sensor
from structr_pipeline.sensors.pim import build_pim_resync, build_pim_sensor
from structr_pipeline.sensors.reprocess import reprocess_sensor, reprocessing_report
from structr_pipeline.sensors.staleness import staleness_sensor
from structr_pipeline.sensors.webhook_queue import (
    webhook_batch_failed,
    webhook_batch_succeeded,
    webhook_queue_sensor,
)
from structr_pipeline.settings import LLM_API_KEY_VARIABLE, StructrSettings


def default_resources(settings: StructrSettings) -> dict[str, Any]:
    """The resources for the given settings: catalog store, automation policy, Parquet asset
    storage (the batch's deletes with their own, see ``SourceDeletesIOManager``), the LLM
    (its API key by variable name, when the environment sets one)."""
    api_key = (
        dg.EnvVar(LLM_API_KEY_VARIABLE) if LLM_API_KEY_VARIABLE in settings.secrets_in_env else None
    )
    catalog = CatalogStoreResource.from_settings(settings)
    storage = str(settings.storage_dir)
    return {
        "catalog": catalog,
        "automation": AutomationPolicyResource.from_settings(settings),
        "io_manager": PartitionedParquetIOManager(base_dir=storage),
        SOURCE_DELETES_IO_MANAGER: SourceDeletesIOManager.for_catalog(storage, catalog),
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
    pim_sources = load_sources(settings.pim_sources_file)
    pim_resources = {
        resource_key(name): PimResource(
            source_name=name, sources_file=str(settings.pim_sources_file)
        )
        for name in pim_sources
    }
    resources = {**default_resources(settings), **pim_resources, **(resource_overrides or {})}
    stage_modules = [ingestion, mapping, validation, dedup, generation, audit, bundle, pim_sync]
    assets = [
        *dg.load_assets_from_modules([*stage_modules, catalog]),
        catalog.quality_snapshot_asset(settings.timezone),
        reprocessing_report,
    ]
    return dg.Definitions(
        assets=assets,
        asset_checks=[
            *dg.load_asset_checks_from_modules([checks]),
            *schema_checks.schema_checks(assets),
        ],
        jobs=[import_batch_job, catalog_export_job, quality_snapshot_job],
        schedules=[
            *nightly_schedules(settings),
            *(build_pim_resync(source) for source in pim_sources.values()),
        ],
        sensors=[
            inbox_sensor,
            reprocess_sensor,
            staleness_sensor,
            webhook_queue_sensor,
            webhook_batch_succeeded,
            webhook_batch_failed,
            *(build_pim_sensor(source) for source in pim_sources.values()),
        ],
        resources=resources,
    )


defs = build_defs()
