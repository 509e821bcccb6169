"""Batches without a stored `source_deletes` (ingested before that output existed) re-run."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import read_catalog
from structr_pipeline_tests.core.connectors.test_json_batch import TEE


def events_file(path, *events):
    path.write_text("\n".join(json.dumps(e) for e in events) + "\n", encoding="utf-8")
    return path


def run(defs, instance, batch_id: str, start: str | None = None):
    result = run_batch(defs, instance, batch_id, start=start)
    assert result.success, result.errors + result.check_failures
    return result


def register(defs, instance, path) -> str:
    return register_batch(defs.resources["catalog"], instance, path).manifest.batch_id


def stored_deletes(instance, batch_id: str) -> Path:
    """Where the IO manager stored the batch's ``source_deletes`` (its ``path`` metadata)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("source_deletes"), asset_partitions=[batch_id]),
        limit=1,
    ).records
    return Path(records[0].asset_materialization.metadata["path"].value)


def tee_archived(defs) -> bool:
    catalog = read_catalog(defs.resources["catalog"].db())
    statuses = set(catalog[catalog["handle"] == "tee"]["status"])
    assert statuses, "the tee is not in the catalog"
    return statuses == {"archived"}


def archived_count(settings, batch_id: str) -> int:
    summary = json.loads((settings.exports_dir / batch_id / "summary.json").read_text("utf-8"))
    return summary["counts"]["catalog_archived"]


def test_a_batch_without_stored_deletes_reruns_from_mapping_with_its_deletes(
    settings, defs, instance, tmp_path
) -> None:
    create = events_file(
        tmp_path / "create.jsonl",
        {"source": "shopify", "topic": "products/create", "payload": TEE},
    )
    created = register(defs, instance, create)
    run(defs, instance, created)
    assert not tee_archived(defs)

    delete = events_file(
        tmp_path / "delete.jsonl",
        {"source": "shopify", "topic": "products/delete", "payload": {"id": TEE["id"]}},
    )
    deleting = register(defs, instance, delete)
    run(defs, instance, deleting)
    assert tee_archived(defs)
    assert archived_count(settings, deleting) == 1

    run(defs, instance, created)  # imported again: the tee is back
    assert not tee_archived(defs)

    stored = stored_deletes(instance, deleting)
    assert stored.is_file()
    stored.unlink()  # as a batch ingested before source_rows had that output

    loaded = defs.load_asset_value("source_deletes", partition_key=deleting, instance=instance)
    assert loaded["external_id"].tolist() == [f"shopify:{TEE['id']}"]

    run(defs, instance, deleting, start="mapping")
    assert tee_archived(defs)
    assert archived_count(settings, deleting) == 1
    assert not stored.exists()


def test_a_file_batch_without_stored_deletes_deletes_nothing(
    settings, defs, instance, sample_csv
) -> None:
    batch_id = register(defs, instance, sample_csv)
    run(defs, instance, batch_id)
    stored_deletes(instance, batch_id).unlink()

    loaded = defs.load_asset_value("source_deletes", partition_key=batch_id, instance=instance)
    assert list(loaded.columns) == ["external_id"] and loaded.empty
    run(defs, instance, batch_id, start="generation")
    assert archived_count(settings, batch_id) == 0


def test_without_stored_deletes_or_landed_input_the_error_says_to_reingest(
    settings, defs, instance, tmp_path
) -> None:
    delete = events_file(
        tmp_path / "delete.jsonl",
        {"source": "shopify", "topic": "products/delete", "payload": {"id": 7}},
    )
    batch_id = register(defs, instance, delete)
    run(defs, instance, batch_id)
    stored_deletes(instance, batch_id).unlink()
    Path(get_batch(defs.resources["catalog"].db(), batch_id).landing_path).unlink()

    with pytest.raises(FileNotFoundError, match="re-run the batch from ingestion"):
        defs.load_asset_value("source_deletes", partition_key=batch_id, instance=instance)
    result = run_batch(defs, instance, batch_id, start="mapping")
    assert not result.success
    assert any("re-run the batch from ingestion" in error for error in result.errors)
