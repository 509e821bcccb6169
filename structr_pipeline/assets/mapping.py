"""Stage 2: map source columns onto the canonical product schema (`mapped_products`)."""

import dagster as dg
import pandas as pd

from structr_pipeline.assets.ingestion import GROUP
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch


@dg.asset(partitions_def=import_batch, group_name=GROUP, kinds={"pandas"})
def mapped_products(
    context: dg.AssetExecutionContext, catalog: CatalogStoreResource, source_rows: pd.DataFrame
) -> pd.DataFrame:
    """Source rows mapped onto the canonical schema, one row per variant.

    Shopify exports use their known column spec: variant rows inherit the product fields
    of their handle's first row, image-only rows are folded into the product's images.
    Columns that are not canonical fields are kept in `attributes`.
    """
    manifest = get_batch(catalog.db(), context.partition_key)
    mapping = map_source_frame(source_rows, manifest.original_name)
    frame = mapping.frame
    mapping_table = "\n".join(
        ["| canonical field | source column |", "|---|---|"]
        + [f"| {field} | {column} |" for field, column in mapping.field_sources.items()]
    )
    context.add_output_metadata(
        {
            "dagster/row_count": len(frame),
            "source_format": mapping.source_format,
            "rows_in": len(source_rows),
            "variants": len(frame),
            "products": int(frame["handle"].nunique()),
            "image_rows_folded": mapping.image_rows,
            "mapping": dg.MetadataValue.md(mapping_table),
        }
    )
    return frame
