"""Publishing a batch: upsert, archives, quality and status in one transaction, or nothing."""

from __future__ import annotations

import pytest

from structr_pipeline.store.batches import get_batch, register_file
from structr_pipeline.store.catalog import count_products, read_catalog
from structr_pipeline.store.publish import CatalogChanges, publish_batch
from structr_pipeline.store.quality import catalog_quality
from structr_pipeline_tests.store.test_catalog import catalog_rows, validated_frame


def audited(handles) -> list[dict]:
    return [
        {
            "handle": h,
            "audit": {"score": 80.0, "grade": "B", "issues": []},
            "generated_copy": {"copy": {"title": h.title()}},
        }
        for h in handles
    ]


@pytest.fixture
def batch_id(db, tmp_path) -> str:
    source = tmp_path / "catalog.csv"
    source.write_text("sku,title,price\nA,Thing,1\n", encoding="utf-8")
    registered = register_file(db, source, source_kind="shopify_csv", landing_dir=tmp_path / "in")
    return registered.manifest.batch_id


def test_a_batch_publishes_in_one_transaction(db, batch_id) -> None:
    frame = validated_frame(catalog_rows())
    handles = sorted(set(frame["handle"]))
    seen: list[CatalogChanges] = []
    placed: list[bool] = []

    def write_results(changes: CatalogChanges) -> dict:
        seen.append(changes)
        return {"rows_in": len(frame), **changes.counts()}

    counts = publish_batch(
        db,
        batch_id,
        frame,
        records=audited(handles),
        deletes=[],
        retired=["gift-card"],
        write_results=write_results,
        put_in_place=lambda: placed.append(True),
    )
    assert seen[0].inserted == len(handles) and seen[0].archived == ["gift-card"]
    assert counts["catalog_inserted"] == len(handles) and counts["catalog_archived"] == 1
    assert placed == [True]
    manifest = get_batch(db, batch_id)
    assert manifest.status == "completed" and manifest.counts == counts
    assert catalog_quality(db).audited == len(handles) - 1  # the archived one is not live
    catalog = read_catalog(db)
    assert set(catalog.loc[catalog["handle"] == "gift-card", "status"]) == {"archived"}


def test_a_failure_before_the_commit_leaves_the_catalog_untouched(db, batch_id) -> None:
    def write_results(changes: CatalogChanges) -> dict:
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        publish_batch(
            db,
            batch_id,
            validated_frame(catalog_rows()),
            records=audited(["gift-card"]),
            deletes=["shopify:1"],
            retired=[],
            write_results=write_results,
            put_in_place=lambda: None,
        )
    assert count_products(db) == (0, 0)
    assert catalog_quality(db).audited == 0
    assert get_batch(db, batch_id).status != "completed"
