"""Stage 3: normalize and validate mapped products (`validated_products`, `rejected_rows`)."""

import dagster as dg
import pandas as pd

from structr_pipeline.core.connectors.registry import field_sources_of
from structr_pipeline.core.export import rejection_reasons
from structr_pipeline.core.issues import issues_from_json
from structr_pipeline.core.validation import validate_products
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.metadata import md_table
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.schema_checks import column_schema
from structr_pipeline.store.batches import get_batch

PREVIEW_ROWS = 20


def rejection_preview(rejected: pd.DataFrame, file_name: str) -> str:
    """A markdown table of the first rejected rows and their reasons."""
    rows = [
        (line, "; ".join(i.describe() for i in issues_from_json(errors)))
        for line, errors in rejected[["_source_line", "errors"]]
        .head(PREVIEW_ROWS)
        .itertuples(index=False)
    ]
    more = (
        f"{len(rejected) - PREVIEW_ROWS} more in errors.csv" if len(rejected) > PREVIEW_ROWS else ""
    )
    table = md_table(["line", "reasons"], rows, more)
    return f"**{file_name}**: {len(rejected)} rejected rows\n\n" + table


def reasons_table(reasons: list[dict]) -> str:
    """A markdown table of rejection reasons: check, rows affected, one example."""
    return md_table(
        ["check", "rows", "example"], [(r["check"], r["rows"], r["example"]) for r in reasons]
    )


@dg.multi_asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    outs={
        "validated_products": dg.AssetOut(
            description=(
                "Products that passed normalization and validation against the canonical "
                "pandera schema, one row per variant, typed (prices as numbers, barcodes "
                "as strings, HTML sanitized)."
            ),
            kinds={"pandas"},
            metadata=column_schema("validated_products"),
        ),
        "rejected_rows": dg.AssetOut(
            description=(
                "Source rows that failed validation, each with its line number, its "
                "original values and every reason (column, check, value)."
            ),
            kinds={"pandas"},
            metadata=column_schema("rejected_rows"),
        ),
    },
)
@mark_transient_failures
@collect_less
def validate_batch(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    source_rows: pd.DataFrame,
    mapped_products: pd.DataFrame,
    column_mapping: pd.DataFrame,
):
    """Normalize text, prices, barcodes and HTML, then validate lazily (all errors at once)."""
    manifest = get_batch(catalog.db(), context.partition_key)
    field_sources = field_sources_of(column_mapping)
    result = validate_products(mapped_products, source_rows, field_sources, manifest.original_name)
    valid, rejected = result.valid, result.rejected
    reasons = rejection_reasons(rejected)
    yield dg.Output(
        valid,
        output_name="validated_products",
        metadata={
            "dagster/row_count": len(valid),
            "rows_in": len(mapped_products),
            "variants": len(valid),
            "products": int(valid["handle"].nunique()),
            "rows_with_warnings": result.warnings_count,
            **{f"fixed_{kind}": count for kind, count in sorted(result.fixes.items())},
        },
    )
    yield dg.Output(
        rejected,
        output_name="rejected_rows",
        metadata={
            "dagster/row_count": len(rejected),
            "rejected": len(rejected),
            "reasons": dg.MetadataValue.md(reasons_table(reasons)),
            "preview": dg.MetadataValue.md(rejection_preview(rejected, manifest.original_name)),
        },
    )
