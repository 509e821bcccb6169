"""Stage 7: the files a user takes away, and the upsert into the catalog (`product_bundle`)."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from structr_pipeline.assets.generation import COPY_FIELDS
from structr_pipeline.assets.ingestion import GROUP
from structr_pipeline.core.connectors.registry import source_header
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.export import (
    build_summary,
    product_records,
    write_errors_csv,
    write_frame_csv,
    write_product_records,
    write_summary,
)
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch, update_batch_status
from structr_pipeline.store.catalog import upsert_products

# Copy that can be published: written now or taken from the cache.
USABLE = ("generated", "cached")


def with_generated_copy(records, generated: pd.DataFrame) -> list[dict]:
    """Product records with their generated copy (and its status and flags) nested."""
    by_handle = {row["handle"]: row for row in generated.to_dict("records")}
    out = []
    for record in records:
        row = by_handle.get(record["handle"])
        if row is not None:
            copy = {name: row[name] for name in COPY_FIELDS} if row["status"] in USABLE else {}
            for name in ("bullets", "image_alt"):
                if name in copy:
                    copy[name] = json.loads(copy[name] or "[]")
            record["generated_copy"] = {
                "status": row["status"],
                "copy": copy,
                "flags": json.loads(row["flags"] or "[]"),
                "model": row["model"],
                "prompt_version": row["prompt_version"],
            }
        out.append(record)
    return out


@dg.asset(
    partitions_def=import_batch,
    group_name=GROUP,
    kinds={"json", "csv"},
    ins={
        "deduplicated_products": dg.AssetIn(),
        "duplicate_merges": dg.AssetIn(),
        "possible_duplicates": dg.AssetIn(),
        "generated_copy": dg.AssetIn(),
        "rejected_rows": dg.AssetIn(),
        "source_rows": dg.AssetIn(),
    },
)
def product_bundle(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    deduplicated_products: pd.DataFrame,
    duplicate_merges: pd.DataFrame,
    possible_duplicates: pd.DataFrame,
    generated_copy: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    source_rows: pd.DataFrame,
) -> dg.MaterializeResult:
    """The batch's bundle under `exports/<batch_id>/`, and its products upserted into the catalog.

    Writes `products.jsonl` (one product per line, variants, images and generated copy
    nested),
    `shopify_import.csv` (Shopify's current import format), `errors.csv` (rejected rows
    in their original columns plus an `errors` column, ready to fix and re-import),
    `merges.csv` (what was merged into what, and why), `possible_duplicates.csv` (pairs
    to review) and `summary.json`. The catalog upsert runs in one transaction and is
    idempotent.
    """
    db = catalog.db()
    batch_id = context.partition_key
    manifest = get_batch(db, batch_id)
    out_dir = catalog.settings.exports_dir / batch_id
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "products_jsonl": out_dir / "products.jsonl",
        "shopify_import_csv": out_dir / "shopify_import.csv",
        "errors_csv": out_dir / "errors.csv",
        "merges_csv": out_dir / "merges.csv",
        "possible_duplicates_csv": out_dir / "possible_duplicates.csv",
        "summary_json": out_dir / "summary.json",
    }
    records = with_generated_copy(product_records(deduplicated_products), generated_copy)
    write_product_records(records, paths["products_jsonl"])
    write_shopify_csv(records, paths["shopify_import_csv"])
    write_errors_csv(rejected_rows, source_header(source_rows), paths["errors_csv"])
    write_frame_csv(duplicate_merges, paths["merges_csv"])
    write_frame_csv(possible_duplicates, paths["possible_duplicates_csv"])
    upsert = upsert_products(db, deduplicated_products, batch_id)

    summary = build_summary(
        batch_id=batch_id,
        source_file=manifest.original_name,
        sha256=manifest.sha256,
        rows_in=len(source_rows),
        validated=deduplicated_products,
        rejected=rejected_rows,
        files=paths,
        extra_counts={
            "rows_merged": sum(len(json.loads(t)) for t in duplicate_merges["merged_lines"]),
            "possible_duplicates": len(possible_duplicates),
            **{
                f"copy_{status}": int(n)
                for status, n in generated_copy["status"].value_counts().items()
            },
            "catalog_inserted": upsert.inserted_products,
            "catalog_updated": upsert.updated_products,
            "catalog_unchanged": upsert.unchanged_products,
        },
    )
    write_summary(summary, paths["summary_json"])
    counts = summary["counts"]
    update_batch_status(db, batch_id, "completed", counts=counts)
    return dg.MaterializeResult(
        metadata={
            **counts,
            **{name: dg.MetadataValue.path(str(path)) for name, path in paths.items()},
            "bundle_dir": dg.MetadataValue.path(str(Path(out_dir))),
        }
    )
