"""Stage 7: the files a user takes away, and the upsert into the catalog (`product_bundle`)."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd

from structr_pipeline.assets.audit import audit_settings
from structr_pipeline.assets.failures import mark_transient_failures
from structr_pipeline.assets.ingestion import GROUP
from structr_pipeline.core.audit import ProductAudit, ReportData, rejected_entries, write_report
from structr_pipeline.core.connectors.json_batch import is_json_batch
from structr_pipeline.core.connectors.registry import source_header
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.connectors.sources import read_batch_source
from structr_pipeline.core.dedup.merge import retired_handles
from structr_pipeline.core.dedup.review import listed_counts, listed_note
from structr_pipeline.core.export import (
    build_summary,
    product_records,
    write_errors_csv,
    write_frame_csv,
    write_product_records,
    write_summary,
)
from structr_pipeline.core.publish import PUBLISH_ERRORS_OPTION, held_back, published_record
from structr_pipeline.core.staged_folder import StagedFolder
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch, update_batch_status
from structr_pipeline.store.catalog import archive_handles, archive_products, upsert_products
from structr_pipeline.store.quality import QualityRow, save_quality
from structr_pipeline.store.stages import stages_of

# The batch option that, set to false, writes the import file with the source's own copy.
PUBLISH_COPY_OPTION = "publish_generated_copy"


def audited_records(deduplicated_products: pd.DataFrame, audited: pd.DataFrame) -> list[dict]:
    """Product records with their final copy (``generated_copy``) and ``audit`` nested."""
    by_handle = {row["handle"]: row for row in audited.to_dict("records")}
    records = []
    for record in product_records(deduplicated_products):
        row = by_handle.get(record["handle"])
        if row is not None:
            record["generated_copy"] = {
                "status": row["copy_status"],
                "copy": json.loads(row["copy"] or "{}"),
                "flags": json.loads(row["flags"] or "[]"),
                "model": row["model"],
                "prompt_version": row["prompt_version"],
            }
            record["audit"] = {
                "score": row["score"],
                "grade": row["grade"],
                "issues": json.loads(row["issues"] or "[]"),
                "score_before_fixes": row["score_before"],
                "grade_before_fixes": row["grade_before"],
                "fix": row["fix"],
            }
        records.append(record)
    return records


def _audits(audited: pd.DataFrame, suffix: str = "") -> list[ProductAudit]:
    return [
        ProductAudit.from_dict(
            {
                "handle": row["handle"],
                "score": row[f"score{suffix}"],
                "grade": row[f"grade{suffix}"],
                "issues": json.loads(row[f"issues{suffix}"] or "[]"),
                "components": json.loads(row[f"components{suffix}"] or "{}"),
            }
        )
        for row in audited.to_dict("records")
    ]


@dg.asset(
    partitions_def=import_batch,
    group_name=GROUP,
    kinds={"json", "csv"},
    ins={
        "deduplicated_products": dg.AssetIn(),
        "duplicate_merges": dg.AssetIn(),
        "possible_duplicates": dg.AssetIn(),
        "generated_copy": dg.AssetIn(),
        "audited_products": dg.AssetIn(),
        "rejected_rows": dg.AssetIn(),
        "source_rows": dg.AssetIn(),
    },
)
@mark_transient_failures
def product_bundle(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    deduplicated_products: pd.DataFrame,
    duplicate_merges: pd.DataFrame,
    possible_duplicates: pd.DataFrame,
    generated_copy: pd.DataFrame,
    audited_products: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    source_rows: pd.DataFrame,
) -> dg.MaterializeResult:
    """The batch's bundle under `exports/<batch_id>/`, and its products upserted into the catalog.

    Writes `products.jsonl` (one product per line, variants, images, generated copy and
    audit nested), `shopify_import.csv` (Shopify's current import format, with the
    generated copy laid over the product's own unless the batch option
    `publish_generated_copy` is false; products with an error-severity audit issue are
    held back when a problem would make them wrong or unsellable once published (no title,
    no price or a zero price, a GTIN with a wrong check digit), unless the batch option
    `publish_products_with_errors` is set; the report lists them first),
    `errors.csv` (rejected rows in their original columns plus an `errors` column,
    ready to fix and re-import),
    `merges.csv` (what was merged into what, and why), `possible_duplicates.csv` (pairs
    to review), `report.html` (the quality report, one self-contained page) and
    `summary.json`. Publishing is one unit: the files are written beside the bundle
    folder and put in place just before the catalog upsert, the quality rows and the
    batch's `completed` status commit in one transaction; if any of it fails, the
    catalog is untouched and the previous bundle stays. The upsert is idempotent;
    products a webhook or PIM batch deleted are archived, never removed, and so are
    catalog products merged into another at the user's request.
    """
    db = catalog.db()
    batch_id = context.partition_key
    manifest = get_batch(db, batch_id)
    out_dir = catalog.settings.exports_dir / batch_id
    names = {
        "products_jsonl": "products.jsonl",
        "shopify_import_csv": "shopify_import.csv",
        "errors_csv": "errors.csv",
        "merges_csv": "merges.csv",
        "possible_duplicates_csv": "possible_duplicates.csv",
        "report_html": "report.html",
        "summary_json": "summary.json",
    }
    paths = {key: out_dir / name for key, name in names.items()}
    records = audited_records(deduplicated_products, audited_products)
    held = held_back(
        zip(audited_products["handle"], audited_products["holds_back"], strict=True),
        allowed=bool((manifest.options or {}).get(PUBLISH_ERRORS_OPTION)),
    )
    deletes = (
        read_batch_source(
            Path(manifest.landing_path),
            manifest.original_name,
            options=manifest.options,
            pim_sources_file=catalog.settings.pim_sources_file,
        ).deletes
        if is_json_batch(manifest.original_name)
        else []
    )
    publish_copy = (manifest.options or {}).get(PUBLISH_COPY_OPTION, True) is not False
    # One unit: the files go in place and the catalog, quality rows and batch status
    # commit together, or none of it happens.
    with StagedFolder(out_dir) as staged:
        staged_paths = {key: staged.path / name for key, name in names.items()}
        write_product_records(records, staged_paths["products_jsonl"])
        write_shopify_csv(
            [
                published_record(r) if publish_copy else r
                for r in records
                if r["handle"] not in held.handles
            ],
            staged_paths["shopify_import_csv"],
        )
        write_errors_csv(rejected_rows, source_header(source_rows), staged_paths["errors_csv"])
        write_frame_csv(duplicate_merges, staged_paths["merges_csv"])
        write_frame_csv(possible_duplicates, staged_paths["possible_duplicates_csv"])
        with db.write():
            upsert = upsert_products(db, deduplicated_products, batch_id)
            archived = archive_products(db, deletes, batch_id) if deletes else []
            archived += archive_handles(db, retired_handles(duplicate_merges), batch_id)
            save_quality(
                db,
                [
                    QualityRow(
                        handle=r["handle"],
                        score=r["audit"]["score"],
                        grade=r["audit"]["grade"],
                        issues=r["audit"]["issues"],
                        copy=r["generated_copy"]["copy"],
                    )
                    for r in records
                    if "audit" in r
                ],
                batch_id,
            )
            summary = build_summary(
                batch_id=batch_id,
                source_file=manifest.original_name,
                sha256=manifest.sha256,
                rows_in=len(source_rows),
                validated=deduplicated_products,
                rejected=rejected_rows,
                files=paths,
                extra_counts={
                    "rows_merged": sum(
                        len(json.loads(t)) for t in duplicate_merges["merged_lines"]
                    ),
                    "possible_duplicates": len(possible_duplicates),
                    **listed_counts(possible_duplicates),
                    **{
                        f"copy_{status}": int(n)
                        for status, n in generated_copy["status"].value_counts().items()
                    },
                    "catalog_inserted": upsert.inserted_products,
                    "catalog_updated": upsert.updated_products,
                    "catalog_unchanged": upsert.unchanged_products,
                    "catalog_archived": len(archived),
                    "held_back": len(held.handles),
                },
                source_format=stages_of(db, batch_id)["mapping"].produced_with.get("grouping"),
                held_back=held.to_json(),
            )
            write_report(
                ReportData(
                    summary=summary,
                    records=records,
                    audits=_audits(audited_products),
                    audits_before=_audits(audited_products, "_before"),
                    rejected=rejected_entries(rejected_rows),
                    settings=audit_settings(catalog, manifest),
                    possible_duplicates=possible_duplicates.to_dict("records"),
                    merges=duplicate_merges.to_dict("records"),
                    held_back=frozenset(held.handles),
                    duplicates_note=listed_note(summary["counts"], sentence=True),
                ),
                staged_paths["report_html"],
            )
            write_summary(summary, staged_paths["summary_json"])
            counts = summary["counts"]
            update_batch_status(db, batch_id, "completed", counts=counts)
            staged.put_in_place()
        staged.finish()
    return dg.MaterializeResult(
        metadata={
            **counts,
            **{name: dg.MetadataValue.path(str(path)) for name, path in paths.items()},
            "bundle_dir": dg.MetadataValue.path(str(Path(out_dir))),
        }
    )
