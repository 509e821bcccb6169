"""The catalog-wide assets and the nightly schedules, materialized and evaluated for real."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import dagster as dg

from structr_pipeline.assets.catalog import catalog_export, quality_snapshot_asset
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.store.catalog import count_products

catalog_quality_snapshot = quality_snapshot_asset("UTC")


def import_sample(defs, instance, path):
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, path).manifest.batch_id
    run = run_batch(defs, instance, batch_id)
    assert run.success, run.errors + run.check_failures
    return batch_id


def test_catalog_export_and_quality_snapshot(defs, instance, sample_csv) -> None:
    batch_id = import_sample(defs, instance, sample_csv)
    catalog = defs.resources["catalog"]
    products, variants = count_products(catalog.db())
    today = datetime.now(UTC).strftime("%Y-%m-%d")

    result = dg.materialize(
        [catalog_export],
        instance=instance,
        resources={"catalog": catalog},
    )
    assert result.success
    out = catalog.settings.exports_dir / "catalog"
    with (out / "shopify_import.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["URL handle"] for r in rows} == {
        json.loads(line)["handle"] for line in (out / "products.jsonl").open()
    }
    assert len({r["URL handle"] for r in rows}) == products
    meta = result.asset_materializations_for_node("catalog_export")[0].metadata
    assert meta["products"].value == products and meta["variants"].value == variants
    # The batch's generated SEO titles reach the catalog-wide export.
    bundle = [
        json.loads(line)
        for line in (catalog.settings.exports_dir / batch_id / "products.jsonl").open()
    ]
    seo = {r["handle"]: r["generated_copy"]["copy"].get("seo_title") for r in bundle}
    assert all(r["SEO title"] == seo[r["URL handle"]] for r in rows if r["Title"])

    snapshot = dg.materialize(
        [catalog_quality_snapshot],
        instance=instance,
        resources={"catalog": catalog},
        partition_key=today,
    )
    assert snapshot.success
    meta = snapshot.asset_materializations_for_node("catalog_quality_snapshot")[0].metadata
    grades = [meta[f"grade_{g}"].value for g in "ABCDE"]
    assert sum(grades) == meta["audited"].value == products
    assert meta["products_added"].value == products  # all added today
    assert 0 <= meta["mean_score"].value <= 100
    written = json.loads((out / "quality" / f"{today}.json").read_text())
    assert written["grade_counts"] == dict(zip("ABCDE", grades, strict=True))


def test_nightly_schedules_target_the_catalog_jobs(defs, instance) -> None:
    nightly_catalog_export = defs.resolve_schedule_def("nightly_catalog_export")
    nightly_quality_snapshot = defs.resolve_schedule_def("nightly_quality_snapshot")
    moment = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=moment)
    request = nightly_quality_snapshot(context)
    assert request.partition_key == "2026-11-23"  # the day that just ended
    assert nightly_quality_snapshot.job_name == "quality_snapshot_job"
    export = nightly_catalog_export(context)
    assert export.run_key == "catalog-export-2026-11-24T0200"
    assert nightly_catalog_export.job_name == "catalog_export_job"
    assert nightly_catalog_export.cron_schedule == "0 2 * * *"
    assert nightly_catalog_export.execution_timezone == "UTC"
