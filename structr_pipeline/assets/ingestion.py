"""Stage 1: read a batch's landed input file into `source_rows` and `source_deletes`."""

from pathlib import Path

import dagster as dg

from structr_pipeline.core.batch_settings import batch_profile
from structr_pipeline.core.connectors.sources import deletes_frame, read_batch_source
from structr_pipeline.core.fields import PARSE_ERROR
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.metadata import READ_WARNINGS
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.source_deletes_io_manager import SOURCE_DELETES_IO_MANAGER
from structr_pipeline.schema_checks import column_schema
from structr_pipeline.store.batches import get_batch


@dg.multi_asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    outs={
        "source_rows": dg.AssetOut(
            description=(
                "Every record of the batch's input file as text, with its source line "
                "number. Encoding, delimiter and BOM are detected, unless the batch's "
                "mapping profile fixes them. JSON Lines batches (webhook events, PIM pulls) "
                "become the rows of a Shopify-format table, one per variant; an item that "
                "cannot be converted is one row carrying the reason. Nothing is dropped "
                "here: records with the wrong number of cells are kept and flagged, and are "
                "rejected with reasons later. A file mixing UTF-8 with cp1252 lines is read "
                "line by line, and `read_warnings` names the lines not in UTF-8."
            ),
            kinds={"pandas", "csv"},
            metadata=column_schema("source_rows"),
        ),
        "source_deletes": dg.AssetOut(
            description=(
                "The products the batch deletes, by `external_id`: the delete events of a "
                "webhook or PIM batch (JSON Lines), none for a file. The bundle archives "
                "them in the catalog; nothing is removed."
            ),
            kinds={"pandas"},
            metadata=column_schema("source_deletes"),
            io_manager_key=SOURCE_DELETES_IO_MANAGER,
        ),
    },
)
@mark_transient_failures
@collect_less
def source_rows(context: dg.AssetExecutionContext, catalog: CatalogStoreResource):
    """Read the batch's landed file: its records as text rows, and the deletes it carries."""
    manifest = get_batch(catalog.db(), context.partition_key)
    profile = batch_profile(catalog.settings.profiles_dir, manifest.options)
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
    for warning in table.warnings:
        context.log.info(f"{manifest.original_name}: {warning}")
    yield dg.Output(
        frame,
        output_name="source_rows",
        metadata={
            "dagster/row_count": len(frame),
            "file": manifest.original_name,
            "sha256": manifest.sha256,
            "encoding": table.encoding,
            "delimiter": repr(table.delimiter),
            "columns": len(table.header),
            "malformed_rows": int((frame[PARSE_ERROR] != "").sum()),
            READ_WARNINGS: dg.MetadataValue.json(list(table.warnings)),
            **(
                {"json_items": source.items, "deletes": len(source.deletes)}
                if source.items is not None
                else {}
            ),
            "landing_path": dg.MetadataValue.path(manifest.landing_path),
        },
    )
    deletes = deletes_frame(source.deletes)
    yield dg.Output(
        deletes, output_name="source_deletes", metadata={"dagster/row_count": len(deletes)}
    )
