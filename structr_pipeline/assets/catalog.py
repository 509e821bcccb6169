"""Catalog-wide assets: the whole catalog as one export, and a daily quality snapshot."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg

from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.export import atomic_text, product_records, write_product_records
from structr_pipeline.core.publish import published_record
from structr_pipeline.metadata import md_table
from structr_pipeline.names import CATALOG_GROUP
from structr_pipeline.partitions import quality_days
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.catalog import catalog_event_counts, read_catalog
from structr_pipeline.store.quality import catalog_quality, published_copy


@dg.asset(group_name=CATALOG_GROUP, kinds={"csv", "json"})
def catalog_export(context: dg.AssetExecutionContext, catalog: CatalogStoreResource):
    """The whole catalog as one Shopify-importable CSV and one JSON Lines file.

    Written to `exports/catalog/`: every product the catalog holds (archived ones with
    status `archived`, so an import archives them too), with the generated copy it was
    last published with laid over its own fields.
    """
    db = catalog.db()
    frame = read_catalog(db)
    copy = published_copy(db)
    records = []
    for record in product_records(frame):
        if record["handle"] in copy:
            record["generated_copy"] = {"status": "cached", "copy": copy[record["handle"]]}
        records.append(record)
    out_dir = catalog.settings.exports_dir / "catalog"
    csv_path = out_dir / "shopify_import.csv"
    jsonl_path = out_dir / "products.jsonl"
    rows = write_shopify_csv([published_record(r) for r in records], csv_path)
    write_product_records(records, jsonl_path)
    archived = sum(1 for r in records if r["status"] == "archived")
    return dg.MaterializeResult(
        metadata={
            "products": len(records),
            "variants": len(frame),
            "archived_products": archived,
            "with_generated_copy": sum(1 for r in records if "generated_copy" in r),
            "csv_rows": rows,
            "shopify_import_csv": dg.MetadataValue.path(str(csv_path)),
            "products_jsonl": dg.MetadataValue.path(str(jsonl_path)),
        }
    )


def day_bounds(day: str, timezone: str) -> tuple[datetime, datetime]:
    """The start and end (exclusive) of a calendar day in ``timezone``, as aware datetimes."""
    start = datetime.fromisoformat(day).replace(tzinfo=ZoneInfo(timezone))
    return start, start + timedelta(days=1)


def catalog_quality_snapshot(context: dg.AssetExecutionContext, catalog: CatalogStoreResource):
    """The catalog's quality on one day: grades, mean score, top issues, what changed.

    Counts per grade (A–E) and the mean score over live products as audited so far, the
    most frequent issue codes, and the products added, changed and archived during that
    day. The figures are numeric metadata, so the asset's page plots them over time;
    each snapshot is also written to `exports/catalog/quality/<day>.json`. Grades describe
    the catalog when the snapshot ran; the day's changes come from the catalog's events.
    """
    day = context.partition_key
    start, end = day_bounds(day, context.assets_def.partitions_def.timezone)
    db = catalog.db()
    quality = catalog_quality(db)
    events = catalog_event_counts(db, start, end)
    good = sum(quality.grade_counts[g] for g in ("A", "B", "C"))
    share = round(good / quality.audited, 4) if quality.audited else 0.0
    snapshot = {
        "day": day,
        "taken_at": datetime.now(ZoneInfo("UTC")).isoformat(),
        "products": quality.products,
        "audited": quality.audited,
        "mean_score": quality.mean_score,
        "grade_counts": quality.grade_counts,
        "share_c_or_better": share,
        "top_issues": [{"code": c, "products": n} for c, n in quality.top_issues],
        "products_added": events["added"],
        "products_changed": events["changed"],
        "products_archived": events["archived"],
    }
    path = catalog.settings.exports_dir / "catalog" / "quality" / f"{day}.json"
    with atomic_text(path) as f:
        json.dump(snapshot, f, indent=2, ensure_ascii=False)
    return dg.MaterializeResult(
        metadata={
            "products": quality.products,
            "audited": quality.audited,
            "mean_score": quality.mean_score if quality.mean_score is not None else 0.0,
            "share_c_or_better": share,
            **{f"grade_{g}": n for g, n in quality.grade_counts.items()},
            "products_added": events["added"],
            "products_changed": events["changed"],
            "products_archived": events["archived"],
            "top_issues": dg.MetadataValue.md(
                md_table(["issue", "products"], quality.top_issues)
                if quality.top_issues
                else "no issues"
            ),
            "snapshot_json": dg.MetadataValue.path(str(path)),
        }
    )


def quality_snapshot_asset(timezone: str) -> dg.AssetsDefinition:
    """The daily quality snapshot asset, its days counted in ``timezone`` (``STRUCTR_TIMEZONE``)."""
    return dg.asset(
        name="catalog_quality_snapshot",
        group_name=CATALOG_GROUP,
        partitions_def=quality_days(timezone),
        kinds={"json"},
    )(catalog_quality_snapshot)
