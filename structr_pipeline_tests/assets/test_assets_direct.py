"""Every asset called directly: `build_asset_context` and its inputs as plain DataFrames.

Beside the end-to-end runs of the other modules, these call each stage's function the way
Dagster would, with the previous stage's value in hand, so a stage can be tested alone.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dagster as dg
import pandas as pd
import pytest

from structr_pipeline.assets.audit import audited_products
from structr_pipeline.assets.bundle import product_bundle
from structr_pipeline.assets.catalog import catalog_export, quality_snapshot_asset
from structr_pipeline.assets.dedup import deduplicate_batch
from structr_pipeline.assets.generation import generated_copy
from structr_pipeline.assets.ingestion import source_rows
from structr_pipeline.assets.mapping import map_batch
from structr_pipeline.assets.pim_sync import pim_sync
from structr_pipeline.assets.validation import validate_batch
from structr_pipeline.core.bundle import BUNDLE_FILES
from structr_pipeline.core.export import accounted_lines
from structr_pipeline.runner import register_batch
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import read_catalog
from structr_pipeline_tests.core.connectors.test_json_batch import TEE


def events_file(path, *events):
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    return path


def context(defs, instance, batch_id: str, *resources: str):
    """The context Dagster would give the asset for ``batch_id``, with these resources."""
    return dg.build_asset_context(
        partition_key=batch_id,
        resources={name: defs.resources[name] for name in resources},
        instance=instance,
    )


def outputs(results) -> dict[str, pd.DataFrame]:
    """A multi-asset's yielded outputs, by name."""
    return {output.output_name: output.value for output in results}


def register(defs, instance, path) -> str:
    return register_batch(defs.resources["catalog"], instance, path).manifest.batch_id


def run_stages(defs, instance, batch_id: str) -> dict:
    """Each batch asset called in turn on the values of the ones before it."""
    values = outputs(source_rows(context(defs, instance, batch_id, "catalog")))
    values |= outputs(
        map_batch(context(defs, instance, batch_id, "catalog"), source_rows=values["source_rows"])
    )
    values |= outputs(
        validate_batch(
            context(defs, instance, batch_id, "catalog"),
            source_rows=values["source_rows"],
            mapped_products=values["mapped_products"],
            column_mapping=values["column_mapping"],
        )
    )
    values |= outputs(
        deduplicate_batch(
            context(defs, instance, batch_id, "catalog"),
            validated_products=values["validated_products"],
            column_mapping=values["column_mapping"],
        )
    )
    values["generated_copy"] = generated_copy(
        context(defs, instance, batch_id, "catalog", "llm"),
        deduplicated_products=values["deduplicated_products"],
    )
    values["audited_products"] = audited_products(
        context(defs, instance, batch_id, "catalog", "llm"),
        deduplicated_products=values["deduplicated_products"],
        generated_copy=values["generated_copy"],
    )
    values["product_bundle"] = product_bundle(
        context(defs, instance, batch_id, "catalog"),
        **{name: values[name] for name in product_bundle.keys_by_input_name},
    )
    values["pim_sync"] = pim_sync(
        context(defs, instance, batch_id, "catalog"),
        deduplicated_products=values["deduplicated_products"],
        audited_products=values["audited_products"],
    )
    return values


def test_source_rows_reads_the_rows_of_a_file_and_the_deletes_of_a_json_batch(
    defs, instance, sample_csv, tmp_path
) -> None:
    batch_id = register(defs, instance, sample_csv)
    read = outputs(source_rows(context(defs, instance, batch_id, "catalog")))
    assert len(read["source_rows"]) > 0 and "_source_line" in read["source_rows"]
    assert list(read["source_deletes"].columns) == ["external_id"]
    assert read["source_deletes"].empty

    events = events_file(
        tmp_path / "events.jsonl",
        {"source": "shopify", "topic": "products/create", "payload": TEE},
        {"source": "shopify", "topic": "products/delete", "payload": {"id": 7}},
    )
    batch_id = register(defs, instance, events)
    read = outputs(source_rows(context(defs, instance, batch_id, "catalog")))
    assert list(read["source_rows"]["SKU"]) == ["T-S", "T-M"]
    assert read["source_deletes"]["external_id"].tolist() == ["shopify:7"]


def test_every_stage_called_directly_makes_the_bundle(defs, instance, sample_csv) -> None:
    batch_id = register(defs, instance, sample_csv)
    values = run_stages(defs, instance, batch_id)

    mapping = values["column_mapping"]
    assert {"sku", "title", "price"} <= set(mapping["field"].dropna())
    lines = set(values["source_rows"]["_source_line"].astype(int))
    validated, rejected = values["validated_products"], values["rejected_rows"]
    assert set(accounted_lines(validated)) | set(accounted_lines(rejected)) == lines
    assert len(rejected) > 0  # the sample's deliberately bad rows

    products = values["deduplicated_products"]
    assert set(products["_change"]) == {"new"}
    copy = values["generated_copy"]
    assert set(copy["handle"]) == set(products["handle"])
    assert set(copy["status"]) <= {"generated", "cached"}
    audited = values["audited_products"]
    assert set(audited["handle"]) == set(products["handle"])
    assert audited["score"].between(0, 100).all()

    bundle = values["product_bundle"]
    out = defs.resources["catalog"].settings.exports_dir / batch_id
    assert sorted(p.name for p in out.iterdir()) == sorted(BUNDLE_FILES.values())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["catalog_inserted"] == products["handle"].nunique()
    assert bundle.metadata["catalog_inserted"] == summary["counts"]["catalog_inserted"]
    assert get_batch(defs.resources["catalog"].db(), batch_id).status == "completed"
    assert values["pim_sync"].metadata == {"pim_batch": False}


def test_the_bundle_archives_the_deletes_its_batch_carries(defs, instance, tmp_path) -> None:
    created = events_file(
        tmp_path / "created.jsonl",
        {"source": "shopify", "topic": "products/create", "payload": TEE},
    )
    run_stages(defs, instance, register(defs, instance, created))
    db = defs.resources["catalog"].db()
    assert set(read_catalog(db)["status"]) != {"archived"}

    deleted = events_file(
        tmp_path / "deleted.jsonl",
        {"source": "shopify", "topic": "products/delete", "payload": {"id": 42}},
    )
    batch_id = register(defs, instance, deleted)
    values = run_stages(defs, instance, batch_id)
    assert values["source_deletes"]["external_id"].tolist() == ["shopify:42"]
    assert values["product_bundle"].metadata["catalog_archived"] == 1
    assert set(read_catalog(db)["status"]) == {"archived"}


@pytest.mark.parametrize("asset", [catalog_export, quality_snapshot_asset("UTC")])
def test_the_catalog_assets_called_directly(defs, instance, sample_csv, asset) -> None:
    run_stages(defs, instance, register(defs, instance, sample_csv))
    catalog = defs.resources["catalog"]
    if asset is catalog_export:
        result = asset(dg.build_asset_context(resources={"catalog": catalog}))
        assert result.metadata["products"] == read_catalog(catalog.db())["handle"].nunique()
        assert (catalog.settings.exports_dir / "catalog" / "shopify_import.csv").is_file()
    else:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        context = dg.build_asset_context(partition_key=day, resources={"catalog": catalog})
        result = asset(context)
        assert result.metadata["audited"] == read_catalog(catalog.db())["handle"].nunique()
        assert (catalog.settings.exports_dir / "catalog" / "quality" / f"{day}.json").is_file()
