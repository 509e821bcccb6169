"""Exact-key deduplication and merges, within a batch and against a catalog."""

from __future__ import annotations

import csv
import json

import pandas as pd

from structr_pipeline.core.connectors.registry import map_table
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.dedup.keys import name_key
from structr_pipeline.core.dedup.merge import deduplicate
from structr_pipeline.core.normalize import gtin14
from structr_pipeline.core.validation import validate_products
from structr_pipeline.core.values import sku_key

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Variant SKU", "Variant Price",
          "Variant Barcode", "Variant Inventory Qty", "Option1 Name", "Option1 Value"]  # fmt: skip


def validated(tmp_path, rows: list[dict], name: str = "batch.csv") -> pd.DataFrame:
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in HEADER})
    table = read_table(path)
    mapping = map_table(table)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    assert result.rejected.empty, result.rejected["errors"].tolist()
    return result.valid


def product(handle, title, sku, price="10.00", **extra) -> dict:
    return {"Handle": handle, "Title": title, "Variant SKU": sku, "Variant Price": price, **extra}


NO_CATALOG = pd.DataFrame(columns=["handle", "title", "vendor", "sku", "barcode"])


def lines(frame: pd.DataFrame) -> list[int]:
    return sorted(line for text in frame["_source_lines"] for line in json.loads(text))


def merged_lines(merges: pd.DataFrame) -> list[int]:
    return sorted(line for text in merges["merged_lines"] for line in json.loads(text))


def test_keys() -> None:
    assert sku_key(" ab-12 ") == sku_key("AB-12") == "ab-12"
    assert sku_key("AB 12") == sku_key("ab12")
    assert gtin14("012345678905") == gtin14("0012345678905") == "00012345678905"
    assert gtin14("4006381333931") == "04006381333931"
    assert gtin14("4006381333932") == ""  # wrong check digit: no key
    assert gtin14("12345") == ""
    assert name_key("Merino Crew-Sweater!", "Northwind") == name_key(
        "merino crew sweater", "NORTHWIND"
    )
    assert name_key("Sweater", "") == ""


def test_same_sku_in_two_products_merges_with_provenance(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("tee", "Organic Tee", "TEE-1", "25.00", **{"Body (HTML)": "Soft."}),
            product("tee-copy", "Organic T-Shirt", " tee-1 ", "27.00",
                    **{"Body (HTML)": "Soft organic cotton, fair made.", "Vendor": "Ridgeline"}),
        ],
    )  # fmt: skip
    kept_apart = deduplicate(batch, NO_CATALOG)  # a file's own handles are not merged
    assert sorted(kept_apart.products["handle"].unique()) == ["tee", "tee-copy"]
    assert "two handles" in kept_apart.possible["rule"].iat[0]

    result = deduplicate(batch, NO_CATALOG, handles_given=False)
    assert result.products["handle"].tolist() == ["tee"]
    (row,) = result.products.to_dict("records")
    assert row["price"] == 25.0  # same batch: the first row's value is kept
    assert row["vendor"] == "Ridgeline"  # non-empty beats empty
    assert row["description_html"] == "Soft organic cotton, fair made."  # the longer wins
    assert result.rows_merged == 1
    assert lines(result.products) == [2] and merged_lines(result.merges) == [3]
    by_rule = {m["rule"]: m for m in result.merges.to_dict("records")}
    product_merge = by_rule["same SKU"]
    assert (product_merge["survivor_handle"], product_merge["merged_handle"]) == ("tee", "tee-copy")
    assert json.loads(product_merge["fields"])["description_html"] == "the longer description wins"
    variant_merge = by_rule["same variant (sku)"]
    assert json.loads(variant_merge["conflicts"]) == {"price": ["25.0", "27.0"]}


def test_same_gtin_under_different_skus_is_one_variant(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("a", "Lamp", "A-1", **{"Variant Barcode": "012345678905"}),
            product("b", "Desk lamp", "B-9", **{"Variant Barcode": "0012345678905"}),
        ],
    )
    result = deduplicate(batch, NO_CATALOG, handles_given=False)
    assert result.products["handle"].tolist() == ["a"]
    assert "same GTIN" in result.merges["rule"].tolist()


def test_same_name_and_brand_gathers_variants_under_one_product(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("hoodie-s", "Hoodie", "H-S", Vendor="Fieldhouse", **{"Option1 Value": "S"}),
            product("hoodie-m", "hoodie", "H-M", Vendor="FIELDHOUSE", **{"Option1 Value": "M"}),
            product("hoodie-x", "Hoodie", "H-X", Vendor="Other brand"),
        ],
    )
    # handles derived from SKUs (a supplier sheet): one product, its sizes as variants
    result = deduplicate(batch, NO_CATALOG, handles_given=False)
    handles = result.products["handle"].tolist()
    # the first handle in sort order survives, whatever the row order
    assert handles.count("hoodie-m") == 2 and "hoodie-s" not in handles
    assert "hoodie-x" in handles  # another brand is another product
    assert result.rows_merged == 0
    assert lines(result.products) == [2, 3, 4]

    # handles the file chose itself (a Shopify export): kept apart; sizes S and M of one
    # hoodie are siblings, grouped as possible variants and not put in the review queue
    kept = deduplicate(batch, NO_CATALOG, handles_given=True)
    assert sorted(kept.products["handle"].unique()) == ["hoodie-m", "hoodie-s", "hoodie-x"]
    assert kept.possible.empty
    (group,) = kept.variants.to_dict("records")
    assert group["handles"] == "hoodie-m; hoodie-s" and group["products"] == 2


def test_same_options_without_skus_are_not_merged_by_name(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("belt-black", "Belt", "", Vendor="Garrison", **{"Option1 Value": "M"}),
            product("belt-brown", "Belt", "", Vendor="Garrison", **{"Option1 Value": "M"}),
        ],
    )
    result = deduplicate(batch, NO_CATALOG, handles_given=False)
    assert sorted(result.products["handle"]) == ["belt-black", "belt-brown"]
    assert "both have a different variant 'm'" in result.possible["rule"].iat[0]


def test_sku_shared_by_products_with_different_titles_is_for_review(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("curve-saddle", "Curve Saddle", "FYX-1"),
            product("bar-tape", "Loop Cloth Bar Tape", "FYX-1"),
        ],
    )
    result = deduplicate(batch, NO_CATALOG, handles_given=False)
    assert sorted(result.products["handle"]) == ["bar-tape", "curve-saddle"]
    assert result.possible["rule"].iat[0].startswith("same SKU (fyx-1), but the titles differ")


def catalog_frame(tmp_path, rows) -> pd.DataFrame:
    frame = validated(tmp_path, rows, name="catalog.csv")
    return frame.drop(columns=["warnings", "_source_line", "_source_lines"])


def test_a_duplicate_of_a_catalog_product_merges_into_it(tmp_path) -> None:
    catalog = catalog_frame(
        tmp_path,
        [
            product("merino", "Merino Sweater", "M-S", "89.00", Vendor="Northwind",
                    **{"Option1 Name": "Size", "Option1 Value": "S", "Variant Inventory Qty": "3"}),
            product("merino", "", "M-M", "89.00", **{"Option1 Value": "M"}),
        ],
    )  # fmt: skip
    batch = validated(
        tmp_path,
        [
            product("merino-sweater-new", "Merino Crew Sweater", "m-s", "79.00",
                    **{"Option1 Name": "Size", "Option1 Value": "S"}),
            product("merino-sweater-new", "", "M-L", "79.00", **{"Option1 Value": "L"}),
        ],
    )  # fmt: skip
    result = deduplicate(batch, catalog)
    out = result.products
    assert set(out["handle"]) == {"merino"}  # the catalog's identity survives
    assert sorted(out["sku"]) == ["M-L", "M-M", "m-s"]  # its variants kept, the batch's added
    s = out[out["sku"] == "m-s"].iloc[0]
    assert s["price"] == 79.0  # the newer batch wins for prices
    assert s["inventory_qty"] == 3  # non-empty beats empty
    assert set(out["title"]) == {"Merino Sweater"}  # the surviving product's title
    assert set(out["vendor"]) == {"Northwind"}
    assert lines(out) == [2, 3] and result.rows_merged == 0
    variant = result.merges[result.merges["rule"] == "same variant (sku)"].iloc[0]
    assert json.loads(variant["conflicts"]) == {"price": ["79.0", "89.0"]}


def test_an_ordinary_update_is_left_alone(tmp_path) -> None:
    catalog = catalog_frame(tmp_path, [product("mug", "Mug", "MUG-1", "12.00")])
    batch = validated(tmp_path, [product("mug", "Mug", "MUG-1", "14.00")])
    result = deduplicate(batch, catalog)
    assert result.products["price"].tolist() == [14.0]
    assert result.merges.empty and result.possible.empty


def test_shuffled_rows_merge_the_same_way(tmp_path) -> None:
    rows = [
        product("hoodie-s", "Hoodie", "H-S", Vendor="Fieldhouse", **{"Option1 Value": "S"}),
        product("hoodie-m", "Hoodie", "H-M", Vendor="Fieldhouse", **{"Option1 Value": "M"}),
        product("cap", "Cap", "C-1", Vendor="Fieldhouse"),
    ]
    first = deduplicate(validated(tmp_path, rows, "a.csv"), NO_CATALOG, handles_given=False)
    second = deduplicate(validated(tmp_path, rows[::-1], "b.csv"), NO_CATALOG, handles_given=False)
    first, second = first.products, second.products

    def comparable(frame):
        columns = ["handle", "title", "vendor", "sku", "price"]
        return frame[columns].sort_values("sku").reset_index(drop=True)

    pd.testing.assert_frame_equal(comparable(first), comparable(second))


def test_importing_a_file_again_keeps_its_products_apart(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("tee", "Organic Tee", "TEE-1", "25.00"),
            product("tee-copy", "Organic Tee", " tee-1 ", "27.00"),
        ],
    )
    first = deduplicate(batch, NO_CATALOG)
    assert sorted(first.products["handle"]) == ["tee", "tee-copy"]
    again = deduplicate(batch, first.products)  # the catalog now holds both
    pd.testing.assert_frame_equal(again.products, first.products)
    assert again.merges.empty  # each updates its own catalog product, tee-copy included
    # the queue reads as it did the first time: the file lists the tee twice
    pd.testing.assert_frame_equal(again.possible, first.possible)
    (note,) = again.possible.to_dict("records")
    assert (note["handle"], note["other_handle"], note["other_in"]) == ("tee-copy", "tee", "batch")


def test_importing_merged_products_again_changes_nothing(tmp_path) -> None:
    rows = [
        product("board-2016", "Ripcord Board", "", "339.95", Vendor="Burton",
                **{"Option1 Name": "Size", "Option1 Value": "150cm"}),
        product("board-2016", "", "", "339.95", **{"Option1 Value": "154cm"}),
        product("board-2014", "Ripcord Board", "", "224.96", Vendor="Burton",
                **{"Option1 Name": "Size", "Option1 Value": "145cm"}),
    ]  # fmt: skip
    batch = validated(tmp_path, rows)
    first = deduplicate(batch, NO_CATALOG, handles_given=False)
    assert first.products["handle"].tolist() == ["board-2014"] * 3  # one product now
    for again in (batch, validated(tmp_path, rows[2:] + rows[:2], "reordered.csv")):
        second = deduplicate(again, first.products, handles_given=False)
        columns = ["handle", "option1_value", "price"]
        assert (
            second.products[columns].sort_values(columns).values.tolist()
            == first.products[columns].sort_values(columns).values.tolist()
        )
        assert second.possible.empty


def test_a_variant_row_without_sku_joins_the_variant_of_its_options(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("cap", "Cap", "CAP-B", "15.00",
                    **{"Option1 Name": "Color", "Option1 Value": "Black"}),
            product("cap", "", "", "15.00", **{"Option1 Value": "Red"}),
            product("cap", "", "", "16.00",
                    **{"Option1 Value": "Black", "Variant Inventory Qty": "4"}),
        ],
    )  # fmt: skip
    result = deduplicate(batch, NO_CATALOG)
    out = result.products
    assert out["option1_value"].tolist() == ["Black", "Red"]
    black = out.iloc[0]
    assert black["sku"] == "CAP-B" and black["price"] == 15.0 and black["inventory_qty"] == 4
    assert result.rows_merged == 1
    assert result.merges["rule"].tolist() == ["same variant (options)"]
    assert sorted(lines(out) + merged_lines(result.merges)) == lines(batch)


def test_distinct_products_pass_through_unchanged(tmp_path) -> None:
    batch = validated(
        tmp_path,
        [
            product("mug", "Mug", "MUG-1", "12.00",
                    **{"Option1 Name": "Size", "Option1 Value": "S"}),
            product("tee", "Tee", "TEE-1", "20.00"),
            product("mug", "", "MUG-2", "14.00", **{"Option1 Value": "L"}),
        ],
    )  # fmt: skip
    result = deduplicate(batch, NO_CATALOG)
    # Each product's rows together, products in order of their first row.
    expected = batch.iloc[[0, 2, 1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(result.products, expected)
    assert result.merges.empty and result.rows_merged == 0


def test_nothing_lost_on_a_real_export(datasets_dir) -> None:
    path = datasets_dir / "levinmejia-shopify-product-csvs" / "Apparel.csv"
    table = read_table(path)
    mapping = map_table(table)
    valid = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name).valid
    result = deduplicate(valid, NO_CATALOG)
    assert sorted(lines(result.products) + merged_lines(result.merges)) == lines(valid)
    assert result.products["handle"].nunique() <= valid["handle"].nunique()


def test_fuzzy_matches_merge_only_with_a_model_number(tmp_path) -> None:
    from functools import partial

    from structr_pipeline.core.dedup.matching import MatchSettings, match

    catalog = catalog_frame(
        tmp_path,
        [
            product("sony-turntable", "Sony Turntable - PSLX350H", "SONY-1", "99.00",
                    Vendor="Sony"),
            product("bose-speakers", "Bose Acoustimass 5 Series III Speaker System", "BOSE-1",
                    "399.00", Vendor="Bose"),
        ],
    )  # fmt: skip
    batch = validated(
        tmp_path,
        [
            product("ps-lx350h", "Sony PS-LX350H Belt Drive Turntable", "X-77", "95.00",
                    Vendor="Sony"),
            product("acoustimass", "Bose Acoustimass 5 Speaker System Series III", "Y-12",
                    "389.00", Vendor="Bose"),
        ],
    )  # fmt: skip
    matcher = partial(match, settings=MatchSettings())
    result = deduplicate(batch, catalog, matcher=matcher)
    merged = result.merges[result.merges["merged_handle"] == "ps-lx350h"]
    assert merged["survivor_handle"].tolist() == ["sony-turntable"] * 2
    assert merged["rule"].iat[0].startswith("fuzzy match (model number")
    # one product sells its one option combination once, whatever the two SKUs were
    assert merged["rule"].iat[1] == "same variant (options)"
    assert (result.products["handle"] == "sony-turntable").sum() == 1
    # alike titles without a model number: listed for a person, not merged
    assert "acoustimass" in set(result.products["handle"])
    (pair,) = result.possible[result.possible["handle"] == "acoustimass"].to_dict("records")
    assert (pair["other_handle"], pair["other_in"]) == ("bose-speakers", "catalog")
