"""Stage 1: read a batch's landed input file into `source_rows`, one row per record."""

from pathlib import Path

import dagster as dg
import pandas as pd

from structr_pipeline.assets.schema_checks import column_schema
from structr_pipeline.core.connectors.sources import read_batch_source
from structr_pipeline.core.fields import PARSE_ERROR
from structr_pipeline.core.mapping.profiles import MappingProfile, load_profile
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import BatchManifest, get_batch

GROUP = "import_batch"
# Metadata key of `source_rows`: what reading the file warned about (mixed encodings, say).
READ_WARNINGS = "read_warnings"


def batch_profile(catalog: CatalogStoreResource, manifest: BatchManifest) -> MappingProfile | None:
    """The mapping profile the batch names in its options, read as it is now, or None."""
    name = (manifest.options or {}).get("profile")
    return load_profile(catalog.settings.profiles_dir, name) if name else None


@dg.asset(
    partitions_def=import_batch,
    group_name=GROUP,
    kinds={"pandas", "csv"},
    metadata=column_schema("source_rows"),
)
def source_rows(context: dg.AssetExecutionContext, catalog: CatalogStoreResource) -> pd.DataFrame:
    """Every record of the batch's input file as text, with its source line number.

    Encoding, delimiter and BOM are detected, unless the batch's mapping profile fixes
    them. JSON Lines batches (webhook events, PIM pulls) become the rows of a
    Shopify-format table, one per variant; an item that cannot be converted is one row
    carrying the reason. Nothing is dropped here: records with the wrong number of cells
    are kept and flagged, and are rejected with reasons later. A file mixing UTF-8 with
    cp1252 lines is read line by line, and `read_warnings` names the lines not in UTF-8.
    """
    manifest = get_batch(catalog.db(), context.partition_key)
    profile = batch_profile(catalog, manifest)
    options = profile.options if profile else None
    source = read_batch_source(
        Path(manifest.landing_path),
        manifest.original_name,
        options=manifest.options,
        pim_sources_file=catalog.settings.pim_sources_file,
        encoding=options.encoding if options else None,
        delimiter=options.delimiter if options else None,
    )
    table = source.table
    frame = table.frame
    frame.attrs.clear()
    malformed = int((frame[PARSE_ERROR] != "").sum())
    for warning in table.warnings:
        context.log.info(f"{manifest.original_name}: {warning}")
    context.add_output_metadata(
        {
            "dagster/row_count": len(frame),
            "file": manifest.original_name,
            "sha256": manifest.sha256,
            "encoding": table.encoding,
            "delimiter": repr(table.delimiter),
            "columns": len(table.header),
            "malformed_rows": malformed,
            READ_WARNINGS: dg.MetadataValue.json(list(table.warnings)),
            **(
                {"json_items": source.items, "deletes": len(source.deletes)}
                if source.items is not None
                else {}
            ),
            "landing_path": dg.MetadataValue.path(manifest.landing_path),
        }
    )
    return frame
