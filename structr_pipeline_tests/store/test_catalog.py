"""The catalog upsert and read-back, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from structr_pipeline.core.fields import CANONICAL_FIELDS, PRODUCT_FRAME_COLUMNS
from structr_pipeline.store import catalog as catalog_store
from structr_pipeline.store.catalog import (
    CATALOG_COLUMNS,
    count_products,
    read_catalog,
    upsert_products,
    variant_key,
)
from structr_pipeline.store.db import products


def validated_frame(rows: list[dict]) -> pd.DataFrame:
    """A validated frame (contract dtypes) from partial rows; line numbers follow row order."""
    records = []
    for line, partial in enumerate(rows, start=2):
        record = {c: "" for c in CANONICAL_FIELDS}
        record.update(
            compare_at_price=np.nan,
            cost_per_item=np.nan,
            inventory_qty=pd.NA,
            weight_grams=np.nan,
            images="[]",
            attributes="{}",
            warnings="[]",
            _source_line=line,
            _source_lines=json.dumps([line]),
        )
        record.update(partial)
        records.append(record)
    frame = pd.DataFrame(records, columns=list(PRODUCT_FRAME_COLUMNS))
    for name in ("price", "compare_at_price", "cost_per_item", "weight_grams"):
        frame[name] = frame[name].astype("float64")
    frame["inventory_qty"] = frame["inventory_qty"].astype("Int64")
    frame["_source_line"] = frame["_source_line"].astype("int64")
    return frame


def sweater(size: str, price: float = 89.0, **extra) -> dict:
    return {
        "handle": "merino-crew-sweater",
        "title": "Merino Crew Sweater",
        "description_html": "<p>Soft <strong>merino</strong>.</p>",
        "vendor": "Ridgeline",
        "tags": "knitwear, winter",
        "status": "active",
        "option1_name": "Size",
        "option1_value": size,
        "sku": f"RL-SWT-{size}",
        "price": price,
        "compare_at_price": 120.0,
        "inventory_qty": 7,
        "weight_grams": 340.5,
        "images": json.dumps(
            [
                {"src": "https://cdn.example/sweater-1.jpg", "position": 1, "alt": "Front"},
                {"src": "https://cdn.example/sweater-2.jpg", "position": 2, "alt": ""},
            ]
        ),
        "attributes": json.dumps({"Gift Card": "FALSE", "Variant Tax Code": f"T-{size}"}),
        **extra,
    }


def dripper(color: str, price: float) -> dict:
    return {
        "handle": "ceramic-pour-over",
        "title": "Ceramic Pour-Over Dripper",
        "vendor": "Hearth & Grain",
        "status": "active",
        "option1_name": "Color",
        "option1_value": color,
        "price": price,
        "cost_per_item": 11.25,
    }


def catalog_rows() -> list[dict]:
    return [
        sweater("S"),
        sweater("M"),
        dripper("White", 29.9),
        sweater("L"),
        dripper("Black", 32.0),
        {"handle": "gift-card", "title": "Gift Card", "price": 0.0, "sku": ""},
    ]


def test_upsert_and_read_back_typed(db) -> None:
    frame = validated_frame(catalog_rows())
    result = upsert_products(db, frame, "batch-1")
    assert (result.inserted_products, result.updated_products, result.unchanged_products) == (
        3,
        0,
        0,
    )
    assert result.variants_written == 6
    assert count_products(db) == (3, 6)

    catalog = read_catalog(db)
    assert list(catalog.columns) == list(CATALOG_COLUMNS)
    assert (
        list(catalog["handle"])
        == ["ceramic-pour-over"] * 2 + ["gift-card"] + ["merino-crew-sweater"] * 3
    )
    assert list(catalog["option1_value"]) == ["White", "Black", "", "S", "M", "L"]
    assert catalog["price"].dtype == "float64"
    assert catalog["inventory_qty"].dtype == "Int64"
    assert catalog["compare_at_price"].dtype == "float64"
    assert list(catalog["price"]) == [29.9, 32.0, 0.0, 89.0, 89.0, 89.0]
    assert catalog["compare_at_price"].isna().tolist() == [True, True, True, False, False, False]
    assert catalog["inventory_qty"].tolist()[2:] == [pd.NA, 7, 7, 7]
    assert catalog.loc[3, "weight_grams"] == 340.5
    assert catalog.loc[0, "vendor"] == "Hearth & Grain"
    assert catalog.loc[2, "barcode"] == ""
    assert catalog.loc[3, "description_html"] == "<p>Soft <strong>merino</strong>.</p>"
    assert json.loads(catalog.loc[3, "images"])[1]["src"] == "https://cdn.example/sweater-2.jpg"
    assert json.loads(catalog.loc[4, "attributes"]) == {
        "Gift Card": "FALSE",
        "Variant Tax Code": "T-M",
    }
    # the same values as the validated frame, column for column
    expected = (
        frame.sort_values(["handle", "_source_line"], kind="stable")
        .reset_index(drop=True)
        .loc[:, list(CANONICAL_FIELDS)]
    )
    pd.testing.assert_frame_equal(catalog.loc[:, list(CANONICAL_FIELDS)], expected)


def test_upsert_is_idempotent(db) -> None:
    frame = validated_frame(catalog_rows())
    upsert_products(db, frame, "batch-1")
    before = read_catalog(db)
    with db.engine.connect() as conn:
        stamps = dict(conn.execute(sa.select(products.c.handle, products.c.updated_at)).all())

    again = upsert_products(db, frame, "batch-2")
    assert (again.inserted_products, again.updated_products, again.unchanged_products) == (0, 0, 3)
    assert again.variants_written == 0
    pd.testing.assert_frame_equal(read_catalog(db), before)
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(products.c.handle, products.c.updated_at, products.c.last_batch_id)
        ).all()
    assert {h: u for h, u, _ in rows} == stamps
    assert {b for _, _, b in rows} == {"batch-2"}


def test_shuffled_rows_give_the_same_catalog(db, database_url) -> None:
    frame = validated_frame(catalog_rows())
    upsert_products(db, frame, "batch-1")
    before = read_catalog(db)
    shuffled = frame.sample(frac=1.0, random_state=7)
    result = upsert_products(db, shuffled, "batch-2")
    assert result.unchanged_products == 3
    pd.testing.assert_frame_equal(read_catalog(db), before)


def test_changed_price_updates_one_product(db) -> None:
    upsert_products(db, validated_frame(catalog_rows()), "batch-1")
    rows = catalog_rows()
    rows[2] = dripper("White", 27.5)
    result = upsert_products(db, validated_frame(rows), "batch-2")
    assert (result.inserted_products, result.updated_products, result.unchanged_products) == (
        0,
        1,
        2,
    )
    assert result.variants_written == 2
    catalog = read_catalog(db)
    assert catalog.loc[catalog["option1_value"] == "White", "price"].tolist() == [27.5]
    assert count_products(db) == (3, 6)


def test_removed_variants_disappear_and_other_products_stay(db) -> None:
    upsert_products(db, validated_frame(catalog_rows()), "batch-1")
    result = upsert_products(db, validated_frame([sweater("S"), sweater("XL")]), "batch-2")
    assert (result.inserted_products, result.updated_products) == (0, 1)
    catalog = read_catalog(db)
    sweaters = catalog[catalog["handle"] == "merino-crew-sweater"]
    assert sweaters["option1_value"].tolist() == ["S", "XL"]
    assert count_products(db) == (3, 5)


def test_failed_upsert_leaves_the_catalog_unchanged(db) -> None:
    upsert_products(db, validated_frame(catalog_rows()), "batch-1")
    before = read_catalog(db)
    rows = catalog_rows()
    rows[0] = sweater("S", price=1.0)
    rows.append({"handle": "new-product", "title": "New", "price": 5.0})
    rows.append({"handle": "zz-broken", "title": "No price", "price": np.nan})
    with pytest.raises(sa.exc.IntegrityError):
        upsert_products(db, validated_frame(rows), "batch-2")
    pd.testing.assert_frame_equal(read_catalog(db), before)
    assert count_products(db) == (3, 6)


def test_variant_keys_stay_unique_without_skus(db) -> None:
    rows = [
        {"handle": "poster", "title": "Poster", "price": 10.0},
        {"handle": "poster", "title": "Poster", "price": 12.0},
        {"handle": "poster", "title": "Poster", "price": 14.0, "sku": " ABC "},
        {"handle": "poster", "title": "Poster", "price": 15.0, "sku": "abc"},
    ]
    result = upsert_products(db, validated_frame(rows), "batch-1")
    assert result.variants_written == 4
    assert read_catalog(db)["price"].tolist() == [10.0, 12.0, 14.0, 15.0]
    assert variant_key("", ["Red", "", "XL "]) == "red / xl"
    assert variant_key("", ["", "", ""]) == "default"


def test_the_catalog_reads_the_same_in_small_pieces(db, monkeypatch) -> None:
    upsert_products(db, validated_frame(catalog_rows()), "batch-1")
    whole = read_catalog(db)
    monkeypatch.setattr(catalog_store, "_READ_ROWS", 4)  # 6 variants: two pieces
    pd.testing.assert_frame_equal(read_catalog(db), whole)
    # A product's fields are one string shared by its variant rows.
    sweater_rows = whole[whole["handle"] == "merino-crew-sweater"]
    assert len({id(text) for text in sweater_rows["description_html"]}) == 1


def test_empty_frame_and_empty_catalog(db) -> None:
    result = upsert_products(db, validated_frame([]), "batch-1")
    assert result.variants_written == 0
    catalog = read_catalog(db)
    assert catalog.empty
    assert list(catalog.columns) == list(CATALOG_COLUMNS)
    assert count_products(db) == (0, 0)


@pytest.mark.slow
def test_a_hundred_thousand_variants(db) -> None:
    n = 100_000
    frame = validated_frame([])
    frame = pd.DataFrame(
        {
            **{c: [""] * n for c in PRODUCT_FRAME_COLUMNS},
            "handle": [f"product-{i // 4:06d}" for i in range(n)],
            "title": [f"Product {i // 4}" for i in range(n)],
            "option1_name": ["Size"] * n,
            "option1_value": [f"S{i % 4}" for i in range(n)],
            "sku": [f"SKU-{i}" for i in range(n)],
            "price": np.arange(n, dtype="float64") / 100,
            "compare_at_price": np.nan,
            "cost_per_item": np.nan,
            "inventory_qty": pd.array(np.arange(n) % 13, dtype="Int64"),
            "weight_grams": np.nan,
            "images": "[]",
            "attributes": "{}",
            "warnings": "[]",
            "_source_line": np.arange(2, n + 2),
            "_source_lines": "[]",
        },
        columns=list(PRODUCT_FRAME_COLUMNS),
    )
    started = time.perf_counter()
    result = upsert_products(db, frame, "batch-1")
    assert result.inserted_products == n // 4
    assert result.variants_written == n
    again = upsert_products(db, frame, "batch-1")
    assert again.unchanged_products == n // 4
    assert count_products(db) == (n // 4, n)
    assert time.perf_counter() - started < 60
