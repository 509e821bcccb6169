"""JSON Lines batches (webhook events, PIM items, product records) read as source rows."""

from __future__ import annotations

import json

import pytest

from structr_pipeline.core.connectors.json_batch import complete_record, read_json_batch
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.fields import PARSE_ERROR, SOURCE_LINE
from structr_pipeline.core.issues import SourceFileError, issues_from_json
from structr_pipeline.core.validation import validate_products

TEE = {
    "id": 42,
    "title": "Tee",
    "handle": "tee",
    "vendor": "Acme",
    "options": [{"name": "Size", "position": 1, "values": ["S", "M"]}],
    "variants": [
        {"id": 1, "sku": "T-S", "price": "10.00", "option1": "S"},
        {"id": 2, "sku": "T-M", "price": "11.00", "option1": "M"},
    ],
    "images": [{"id": 5, "src": "https://cdn.example.com/tee.jpg", "position": 1}],
}


def write_lines(tmp_path, *lines) -> object:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


def validated(batch, name="events.jsonl"):
    mapping = map_source_frame(batch.frame, name)
    return validate_products(mapping.frame, batch.frame, mapping.field_sources, name)


def test_shopify_events_become_variant_rows_and_deletes(tmp_path) -> None:
    path = write_lines(
        tmp_path,
        {"source": "shopify", "topic": "products/create", "payload": TEE},
        {"source": "shopify", "topic": "products/delete", "payload": {"id": 7}},
    )
    batch = read_json_batch(path)
    assert batch.items == 2 and batch.deletes == ["shopify:7"]
    assert list(batch.frame["SKU"]) == ["T-S", "T-M"]
    assert list(batch.frame[SOURCE_LINE]) == [2, 3]  # rows of the Shopify-format table
    result = validated(batch)
    assert sorted(result.valid["sku"]) == ["T-M", "T-S"]
    assert set(result.valid["option1_name"]) == {"Size"}
    assert result.rejected.empty


def test_records_upsert_and_delete_and_bare_bundle_lines(tmp_path) -> None:
    record = {"handle": "mug", "title": "Mug", "variants": [{"sku": "M-1", "price": 9.5}]}
    path = write_lines(
        tmp_path,
        {"source": "record", "topic": "product.upsert", "payload": record},
        {"source": "record", "topic": "product.delete", "payload": {"external_id": "erp:9"}},
        {**record, "handle": "bowl", "title": "Bowl"},  # a line of a bundle's products.jsonl
    )
    batch = read_json_batch(path)
    assert batch.deletes == ["erp:9"]
    assert sorted(validated(batch).valid["handle"]) == ["bowl", "mug"]


def test_an_item_that_cannot_be_mapped_is_a_rejected_row_naming_field_and_reason(tmp_path):
    path = write_lines(
        tmp_path,
        {"source": "shopify", "topic": "products/create", "payload": TEE},
        {"source": "record", "topic": "product.upsert", "payload": {"handle": "x", "variants": 3}},
        {"source": "webhook", "topic": "orders/create", "payload": {"id": 1}},
        {"source": "pim", "item": {"id": "p-1"}},
    )
    batch = read_json_batch(path)
    assert batch.item_errors == 3
    errors = [e for e in batch.frame[PARSE_ERROR] if e]
    assert "line 2 of events.jsonl (handle 'x'): field 'variants'" in errors[0]
    assert "field 'topic'" in errors[1] and "names no PIM source" in errors[2]
    result = validated(batch)
    rows_in = len(batch.frame)
    assert len(result.valid) + len(result.rejected) == rows_in  # every row accounted for
    reasons = [issues_from_json(text)[0] for text in result.rejected["errors"]]
    assert [(r.line, r.column) for r in reasons] == [(4, "variants"), (5, "topic"), (6, "source")]


def test_a_file_that_is_not_json_lines_is_refused(tmp_path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"source": "record"}\nnot json\n', encoding="utf-8")
    with pytest.raises(SourceFileError, match="line 2"):
        read_json_batch(path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match="no JSON lines"):
        read_json_batch(empty)


def test_complete_record_fills_every_field() -> None:
    record = complete_record({"title": "Mug"})
    assert record["handle"] == "" and record["attributes"] == {}
    (variant,) = record["variants"]  # one empty variant, so the product is not lost
    assert variant["price"] is None and variant["sku"] == ""
    with pytest.raises(ValueError, match="field 'images'"):
        complete_record({"images": "a.jpg"})
