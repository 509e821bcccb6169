"""Jobs users launch from the UI, the CLI, sensors and schedules."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from structr_pipeline.names import IMPORT_GROUP, IMPORT_JOB

# Where a partial re-run of a batch starts: generation for failed items and prompt or
# model changes, mapping for profile changes, ingestion for everything.
START_ASSETS: Mapping[str, tuple[str, ...]] = {
    "generation": ("generated_copy",),
    "mapping": ("mapped_products", "column_mapping"),
    "ingestion": ("source_rows", "source_deletes"),
}


def stage_selection(start: str) -> dg.AssetSelection:
    """The batch assets from the ``start`` stage (a key of ``START_ASSETS``) downward."""
    return dg.AssetSelection.assets(*START_ASSETS[start]).downstream() & dg.AssetSelection.groups(
        IMPORT_GROUP
    )


# Everything one import batch goes through, checks included.
import_batch_job = dg.define_asset_job(
    name=IMPORT_JOB,
    selection=dg.AssetSelection.groups(IMPORT_GROUP),
    description="Run one import batch through every stage, from source rows to the bundle.",
)

catalog_export_job = dg.define_asset_job(
    name="catalog_export_job",
    selection=dg.AssetSelection.assets("catalog_export"),
    description="Write the whole catalog as one Shopify import CSV and one JSON Lines file.",
)

quality_snapshot_job = dg.define_asset_job(
    name="quality_snapshot_job",
    selection=dg.AssetSelection.assets("catalog_quality_snapshot"),
    description="Take the day's catalog quality snapshot (grades, mean score, top issues).",
)
