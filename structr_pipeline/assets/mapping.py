"""Stage 2: map source columns onto the canonical product schema.

`mapped_products` holds the rows, `column_mapping` the mapping that made them (one row
per source column, with its confidence and evidence), which the required-fields check
and the validation stage read.
"""

import json

import dagster as dg
import pandas as pd

from structr_pipeline.core.batch_settings import batch_profile
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.fields import ROW_ERRORS
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.metadata import md_table
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.schema_checks import column_schema
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.stages import record_stage


def mapping_table(mapping: pd.DataFrame) -> str:
    """The column mapping as a markdown table: source column, field, confidence, evidence."""
    rows = [
        (
            row.column,
            row.field if isinstance(row.field, str) else "— (kept as attribute)",
            f"{row.confidence:.2f}",
            "; ".join(json.loads(row.evidence)),
        )
        for row in mapping.itertuples(index=False)
    ]
    return md_table(["source column", "field", "confidence", "evidence"], rows)


@dg.multi_asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    outs={
        "mapped_products": dg.AssetOut(
            description=(
                "Source rows mapped onto the canonical schema, one row per variant. The "
                "format is detected (or fixed by the batch's mapping profile): Shopify "
                "exports use their column spec (variant rows inherit their product's fields, "
                "image-only rows are folded into the product's images); WooCommerce, "
                "Magento, BigCommerce, Amazon and Google Merchant exports have their "
                "parent and child rows assembled into products with their variants; any "
                "other CSV is mapped by header and value evidence or by the profile. "
                "Unmapped columns are kept in `attributes`."
            ),
            kinds={"pandas"},
            metadata=column_schema("mapped_products"),
        ),
        "column_mapping": dg.AssetOut(
            description=(
                "The mapping used for the batch: each source column, the canonical field it "
                "fills (or none), the confidence in [0, 1] and the evidence behind it."
            ),
            kinds={"pandas"},
            metadata=column_schema("column_mapping"),
        ),
    },
)
@mark_transient_failures
@collect_less
def map_batch(
    context: dg.AssetExecutionContext, catalog: CatalogStoreResource, source_rows: pd.DataFrame
):
    """Map the batch's columns (Shopify spec, a platform's, proposal or profile) into products."""
    manifest = get_batch(catalog.db(), context.partition_key)
    profile = batch_profile(catalog.settings.profiles_dir, manifest.options)
    mapping = map_source_frame(source_rows, manifest.original_name, profile)
    frame = mapping.frame
    columns = mapping.mapping_frame()
    mapped = columns[columns["field"].notna() & ~columns["derived"]]
    table = dg.MetadataValue.md(mapping_table(columns))
    profile_metadata = (
        {"profile": profile.name, "profile_fingerprint": profile.fingerprint()} if profile else {}
    )
    grouping = mapping.grouping
    record_stage(
        catalog.db(),
        context.partition_key,
        "mapping",
        produced_with={
            **profile_metadata,
            "format": mapping.source_format,
            "grouping": grouping.to_json(),
        },
        counts={
            "rows_in": len(source_rows),
            "products": grouping.products,
            "variants": grouping.variants,
        },
    )
    yield dg.Output(
        frame,
        output_name="mapped_products",
        metadata={
            "dagster/row_count": len(frame),
            "source_format": mapping.source_format,
            "grouping": grouping.sentence(),
            "rows_in": len(source_rows),
            "products": grouping.products,
            "variants": grouping.variants,
            "image_rows_folded": mapping.image_rows,
            "rows_without_product": (
                int((frame[ROW_ERRORS] != "[]").sum()) if ROW_ERRORS in frame else 0
            ),
            "mapping": table,
            **profile_metadata,
        },
    )
    yield dg.Output(
        columns,
        output_name="column_mapping",
        metadata={
            "dagster/row_count": len(columns),
            "source_format": mapping.source_format,
            "columns_mapped": len(mapped),
            "columns_kept_as_attributes": int(columns["field"].isna().sum()),
            "lowest_confidence": float(mapped["confidence"].min()) if len(mapped) else 0.0,
            "mapping": table,
            **profile_metadata,
        },
    )
