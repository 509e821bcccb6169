"""Amazon inventory flat files (category templates) read as products with their variants.

The two fixtures in ``fixtures/platforms`` are the same Clothing template saved as
tab-delimited text and as CSV (see the README there). Each goes through the strategy
the registry calls (``read_table`` → ``PLATFORM.assemble`` → ``validate_products``): the
products and their variant counts must be what the raw file says, counted here with the
stdlib ``csv`` module; every source line but the template's three preamble rows must be
accounted for exactly once; the values must be the file's; and the ``shopify_import.csv``
written from the result must import to the same catalog. Small files written to
``tmp_path`` with the fixture's preamble cover the edge cases.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.platforms import amazon, detect_platform
from structr_pipeline.core.connectors.platforms.amazon import PLATFORM, theme_options
from structr_pipeline.core.connectors.platforms.assembly import accounted
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.validation import ValidationResult
from structr_pipeline_tests.core.connectors import platform_runs
from structr_pipeline_tests.core.connectors.platform_runs import (
    FIXTURES,
    assert_reimports_unchanged,
    attributes,
    by_handle,
    issues,
    warnings,
)
from structr_pipeline_tests.core.connectors.test_shopify_export_roundtrip import comparable

TXT = FIXTURES / "amazon_flat_file.txt"
CSV = FIXTURES / "amazon_flat_file.csv"
BOTH = [pytest.param(TXT, id="txt"), pytest.param(CSV, id="csv")]
DELIMITER = {TXT: "\t", CSV: ","}
PREAMBLE_LINES = (1, 2, 3)
OUNCE = 28.349523125
POUND = 453.59237
TODAY = date(2026, 6, 1)
TEE = "acme-men-s-classic-crew-neck-t-shirt"
BEANIE = "northwind-merino-wool-beanie"


def run_strategy(path: Path, options: ProfileOptions | None = None) -> platform_runs.Run:
    """``read_table`` → ``PLATFORM.assemble`` → ``validate_products``."""
    return platform_runs.run_strategy(PLATFORM, path, options)


def raw_records(path: Path) -> list[dict[str, str]]:
    """The data rows of a template: the records below the row of field names."""
    with path.open(encoding="utf-8", newline="") as f:
        records = list(csv.reader(f, delimiter=DELIMITER.get(path, "\t")))
    fields_at = next(i for i, r in enumerate(records) if "item_sku" in r)
    fields = records[fields_at]
    return [dict(zip(fields, r, strict=True)) for r in records[fields_at + 1 :]]


def raw_products(path: Path) -> list[tuple[str, int]]:
    """(title, number of variants) per product, in file order, from the raw records."""
    records = raw_records(path)
    products = []
    for record in records:
        if record["parent_child"] == "parent":
            children = [
                r
                for r in records
                if r["parent_child"] == "child" and r["parent_sku"] == record["item_sku"]
            ]
            products.append((record["item_name"], len(children)))
        elif record["parent_child"] == "":
            products.append((record["item_name"], 1))
    return products


def image_names(product: pd.DataFrame) -> list[str]:
    return [i["src"].rsplit("/", 1)[1] for i in json.loads(product["images"].iat[0])]


def warned(result: ValidationResult, check: str) -> list[dict]:
    return [w for w in warnings(result) if w["check"] == check]


def preamble() -> list[list[str]]:
    """The fixture's three top rows: metadata, labels, field names."""
    with TXT.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        return [next(reader) for _ in PREAMBLE_LINES]


def write_flat_file(path: Path, rows: list[dict[str, str]]) -> Path:
    """A tab-delimited template with the fixture's preamble and ``rows`` below it."""
    top = preamble()
    fields = top[-1]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\r\n")
        writer.writerows(top)
        writer.writerows([[row.get(name, "") for name in fields] for row in rows])
    return path


def parent(sku: str, name: str, theme: str = "SizeColor", **cells: str) -> dict[str, str]:
    return {
        "feed_product_type": "shirt", "item_sku": sku, "item_name": name,
        "brand_name": "Acme", "parent_child": "parent", "variation_theme": theme, **cells,
    }  # fmt: skip


def child(sku: str, parent_sku: str, price: str = "10.00", **cells: str) -> dict[str, str]:
    return {
        "feed_product_type": "shirt", "item_sku": sku, "item_name": f"{sku} title",
        "brand_name": "Acme", "parent_child": "child", "parent_sku": parent_sku,
        "relationship_type": "Variation", "standard_price": price, "quantity": "1", **cells,
    }  # fmt: skip


def single(sku: str, name: str, price: str = "10.00", **cells: str) -> dict[str, str]:
    return {
        "feed_product_type": "shirt", "item_sku": sku, "item_name": name,
        "brand_name": "Acme", "standard_price": price, "quantity": "1", **cells,
    }  # fmt: skip


# --- both fixtures: counts and lines ----------------------------------------------------


@pytest.mark.parametrize("path", BOTH)
def test_products_and_variants_per_product_are_those_of_the_raw_file(path):
    run = run_strategy(path)
    produced = [
        (group["title"].iat[0], len(group)) for group in by_handle(run.result.valid).values()
    ]

    assert len(run.result.rejected) == 0
    assert produced == raw_products(path)
    assert run.assembly.grouping.products == len(produced)
    assert run.assembly.grouping.variants == len(run.result.valid)


@pytest.mark.parametrize("path", BOTH)
def test_every_source_line_is_accounted_for_exactly_once(path):
    run = run_strategy(path)
    lines = [line for text in run.result.valid["_source_lines"] for line in json.loads(text)]
    lines += run.result.rejected["_source_line"].tolist()
    reading = amazon.read(run.table, ProfileOptions())
    counted = accounted(reading.products, reading.rejections, reading.rows)

    assert sorted(lines) == sorted(run.table.frame["_source_line"].tolist())
    assert len(lines) == len(raw_records(path))
    assert set(counted.values()) == {1}
    assert set(counted) == set(run.table.frame["_source_line"])
    assert not set(PREAMBLE_LINES) & set(lines)


@pytest.mark.parametrize("path", BOTH)
def test_the_header_is_the_row_of_field_names_below_the_preamble(path):
    table = read_table(path)

    assert table.header == preamble()[2]
    assert table.header[:4] == ["feed_product_type", "item_sku", "brand_name", "item_name"]
    assert table.frame["_source_line"].iat[0] == 4


def test_grouping_names_the_families_and_the_standalone_products():
    grouping = run_strategy(TXT).assembly.grouping

    assert grouping.format == "amazon"
    assert grouping.counts == {
        "parents": 2, "children": 6, "standalone": 3, "accessories": 0,
        "parents_without_children": 0, "products": 5, "variants": 9, "rows_without_product": 0,
    }  # fmt: skip
    assert grouping.sentence() == (
        "Amazon inventory flat file: 11 rows → 5 products with 9 variants; "
        "6 children under 2 parents; 3 standalone products"
    )


def test_the_csv_copy_gives_the_same_catalog_as_the_text_file():
    text = comparable(run_strategy(TXT).result.valid)
    comma = comparable(run_strategy(CSV).result.valid)

    pd.testing.assert_frame_equal(comma, text)


# --- values as in the file ----------------------------------------------------------------


def test_children_are_the_variants_with_the_files_skus_barcodes_stock_and_options():
    valid = run_strategy(TXT).result.valid
    children = [r for r in raw_records(TXT) if r["parent_child"] == "child"]
    rows = valid[valid["sku"].isin([r["item_sku"] for r in children])].reset_index(drop=True)

    assert rows["sku"].tolist() == [r["item_sku"] for r in children]
    assert rows["barcode"].tolist() == [r["external_product_id"] for r in children]
    assert rows["inventory_qty"].tolist() == [int(r["quantity"]) for r in children]
    tee = rows[rows["handle"] == TEE]
    assert tee["option1_name"].unique().tolist() == ["Size"]
    assert tee["option2_name"].unique().tolist() == ["Color"]
    assert tee["option1_value"].tolist() == [r["size_name"] for r in children[:4]]
    assert tee["option2_value"].tolist() == [r["color_name"] for r in children[:4]]


def test_a_one_option_family_keeps_its_constant_size_as_an_attribute():
    beanie = by_handle(run_strategy(TXT).result.valid)[BEANIE]

    assert beanie["option1_name"].tolist() == ["Color", "Color"]
    assert beanie["option1_value"].tolist() == ["Charcoal", "Forest Green"]
    assert beanie["option2_name"].tolist() == ["", ""]
    assert attributes(beanie)["size_name"] == "One Size"
    assert beanie["weight_grams"].tolist() == [85.0, 85.0]
    assert beanie["title"].tolist() == ["Northwind Merino Wool Beanie"] * 2


def test_prices_follow_sales_in_effect_and_the_list_price():
    valid = run_strategy(TXT).result.valid.set_index("sku")

    # on sale until 2099: the sale price, the standard price struck through
    assert valid.loc["CCT-NVY-S", ["price", "compare_at_price"]].tolist() == [14.99, 19.99]
    # its sale ended in 2020: the standard price, the list price (MSRP) struck through
    assert valid.loc["CCT-GRY-M", ["price", "compare_at_price"]].tolist() == [19.99, 24.99]
    assert valid.loc["CCT-NVY-M", ["price", "compare_at_price"]].tolist() == [19.99, 24.99]
    assert valid.loc["TOTE-001", ["price", "compare_at_price"]].tolist() == [27.60, 34.50]
    assert valid.loc["SOCK-3PK", ["price", "compare_at_price"]].tolist() == [12.00, 15.00]
    assert pd.isna(valid.loc["BEANIE-CHAR", "compare_at_price"])
    ended = json.loads(valid.loc["CCT-GRY-M", "attributes"])
    assert (ended["sale_price"], ended["sale_end_date"]) == ("12.99", "2020-12-31")


def test_weights_are_converted_from_each_unit_of_measure():
    valid = run_strategy(TXT).result.valid.set_index("sku")

    assert valid.loc["CCT-NVY-S", "weight_grams"] == pytest.approx(5.3 * OUNCE, abs=1e-6)
    assert valid.loc["TOTE-001", "weight_grams"] == pytest.approx(1.2 * POUND, abs=1e-6)
    assert valid.loc["SOCK-3PK", "weight_grams"] == 250.0
    assert pd.isna(valid.loc["BELT-OLD", "weight_grams"])


def test_only_upc_ean_and_gtin_ids_are_barcodes():
    valid = run_strategy(TXT).result.valid.set_index("sku")

    assert valid.loc["TOTE-001", "barcode"] == "10614141000019"
    assert valid.loc["BEANIE-CHAR", "barcode"] == "4006381333931"
    assert valid.loc["SOCK-3PK", "barcode"] == ""
    socks = json.loads(valid.loc["SOCK-3PK", "attributes"])
    assert (socks["external_product_id"], socks["external_product_id_type"]) == (
        "B08XYZ1234",
        "ASIN",
    )


def test_images_are_the_parents_then_each_childs_main_image_is_its_variants():
    products = by_handle(run_strategy(TXT).result.valid)
    tee, beanie, tote = products[TEE], products[BEANIE], products["harbor-canvas-tote-bag"]

    assert image_names(tee) == [
        "cct-main.jpg", "cct-back.jpg", "cct-detail.jpg", "cct-navy.jpg", "cct-grey.jpg",
    ]  # fmt: skip
    assert [s.rsplit("/", 1)[1] for s in tee["image_src"]] == [
        "cct-navy.jpg", "cct-navy.jpg", "cct-grey.jpg", "cct-grey.jpg",
    ]  # fmt: skip
    assert image_names(beanie) == [
        "beanie-main.jpg", "beanie-charcoal-worn.jpg", "beanie-charcoal.jpg", "beanie-forest.jpg",
    ]  # fmt: skip
    assert image_names(tote) == [
        "tote-main.jpg", "tote-inside.jpg", "tote-strap.jpg", "tote-worn.jpg",
    ]  # fmt: skip
    assert tote["image_src"].tolist() == [""]


def test_product_fields_come_from_the_parent_and_the_description_lists_the_bullets():
    tee = by_handle(run_strategy(TXT).result.valid)[TEE]
    parent_row = raw_records(TXT)[0]

    assert tee["title"].iat[0] == parent_row["item_name"]
    assert tee["vendor"].iat[0] == "Acme Apparel"
    assert tee["product_type"].iat[0] == "mens-t-shirts"
    description = tee["description_html"].iat[0]
    assert description.startswith("Soft, breathable cotton jersey.<br>")
    assert "<li>Machine wash cold &amp; tumble dry low</li>" in description
    own = attributes(tee)
    assert own["bullet_point1"] == "100% combed ring-spun cotton"
    assert own["parent_sku"] == "CCT-PARENT"
    assert own["variation_theme"] == "SizeColor"
    assert own["item_name"] == "Acme Men's Classic Crew Neck T-Shirt, Navy, Small"


def test_a_line_break_inside_a_description_keeps_the_lines_after_it_right():
    run = run_strategy(TXT)
    beanie = by_handle(run.result.valid)[BEANIE]

    assert "merino wool.\nOne size" in beanie["description_html"].iat[0]
    assert [json.loads(t) for t in beanie["_source_lines"]] == [[11, 9], [12]]


def test_a_row_marked_delete_is_archived_with_a_warning():
    run = run_strategy(TXT)
    belt = by_handle(run.result.valid)["acme-leather-dress-belt"]
    found = warned(run.result, "amazon_row_deletes_listing")

    assert belt["status"].tolist() == ["archived"]
    assert [(w["line"], w["column"], w["value"]) for w in found] == [
        (15, "update_delete", "Delete"),
    ]
    assert attributes(belt)["update_delete"] == "Delete"


# --- shopify_import.csv imports to the same products --------------------------------------

REIMPORTED_FIELDS = [
    "handle", "title", "option1_name", "option1_value", "option2_name", "option2_value",
    "sku", "barcode", "price", "compare_at_price", "inventory_qty", "weight_grams",
    "image_src", "images", "status", "vendor",
]  # fmt: skip


@pytest.mark.parametrize("path", BOTH)
def test_the_shopify_import_file_imports_to_the_same_products(path, tmp_path):
    first = run_strategy(path).result.valid
    assert_reimports_unchanged(first, tmp_path, REIMPORTED_FIELDS)


def test_the_registry_routes_a_flat_file_to_this_strategy():
    table = read_table(TXT)

    assert map_source_frame(table.frame, TXT.name).source_format == "amazon"


# --- edge cases -----------------------------------------------------------------------------


def test_a_child_whose_parent_is_not_in_the_file_is_rejected_naming_it(tmp_path):
    path = write_flat_file(
        tmp_path / "orphan.txt",
        [parent("P1", "Tee"), child("P1-S", "P1", size_name="S"), child("X-S", "MISSING")],
    )
    run = run_strategy(path)
    (issue,) = issues(run.result, 6)

    assert issue["check"] == "amazon_parent_missing"
    assert issue["column"] == "parent_sku"
    assert issue["value"] == "MISSING"
    assert "'MISSING' is not in this file" in issue["message"]
    assert run.result.valid["sku"].tolist() == ["P1-S"]


def test_a_child_naming_a_row_that_is_not_a_parent_is_rejected(tmp_path):
    path = write_flat_file(tmp_path / "not_parent.txt", [single("S1", "Mug"), child("C1", "S1")])
    (issue,) = issues(run_strategy(path).result, 5)

    assert issue["check"] == "amazon_parent_missing"
    assert "line 4, which is not a parent row" in issue["message"]


def test_a_parent_without_children_is_rejected_as_nothing_to_sell(tmp_path):
    path = write_flat_file(tmp_path / "childless.txt", [parent("P1", "Tee"), single("S1", "Mug")])
    run = run_strategy(path)
    (issue,) = issues(run.result, 4)

    assert issue["check"] == "amazon_parent_without_children"
    assert "nothing to sell" in issue["message"]
    assert run.assembly.grouping.counts["parents_without_children"] == 1
    assert run.result.valid["sku"].tolist() == ["S1"]


def test_an_accessory_child_is_a_product_of_its_own_with_a_warning(tmp_path):
    rows = [
        parent("P1", "Tee", theme="Size"),
        child("P1-S", "P1", size_name="S"),
        child("P1-CASE", "P1", relationship_type="Accessory", item_name="Tee travel case"),
    ]
    run = run_strategy(write_flat_file(tmp_path / "accessory.txt", rows))
    products = by_handle(run.result.valid)
    (found,) = warned(run.result, "amazon_relationship_not_variation")

    assert len(run.result.rejected) == 0
    assert list(products) == ["tee", "tee-travel-case"]
    assert products["tee-travel-case"]["sku"].tolist() == ["P1-CASE"]
    assert (found["line"], found["value"]) == (6, "Accessory")
    assert attributes(products["tee-travel-case"])["parent_sku"] == "P1"
    assert run.assembly.grouping.counts["accessories"] == 1


def test_children_repeating_option_values_are_warned_about(tmp_path):
    rows = [
        parent("P1", "Tee"),
        child("P1-A", "P1", size_name="S", color_name="Red"),
        child("P1-B", "P1", size_name="s", color_name="red"),
    ]
    run = run_strategy(write_flat_file(tmp_path / "repeat.txt", rows))
    (found,) = warned(run.result, "variant_options_repeated")

    assert found["line"] == 6
    assert "as the variant on line 5" in found["message"]


def test_a_theme_this_reader_does_not_know_takes_the_columns_the_children_fill(tmp_path):
    rows = [
        parent("P1", "Lamp", theme="Wattage"),
        child("P1-A", "P1", color_name="Brass"),
        child("P1-B", "P1", color_name="Chrome"),
    ]
    run = run_strategy(write_flat_file(tmp_path / "theme.txt", rows))
    (found,) = warned(run.result, "amazon_theme_unknown")

    assert run.result.valid["option1_name"].tolist() == ["Color", "Color"]
    assert run.result.valid["option1_value"].tolist() == ["Brass", "Chrome"]
    assert "'Wattage' is not a variation theme" in found["message"]


def test_a_weight_without_a_known_unit_is_kept_as_an_attribute_with_a_warning(tmp_path):
    rows = [single("S1", "Mug", item_weight="12", item_weight_unit_of_measure="stone")]
    run = run_strategy(write_flat_file(tmp_path / "unit.txt", rows))
    (found,) = warned(run.result, "amazon_weight_unit_unknown")

    assert pd.isna(run.result.valid["weight_grams"].iat[0])
    assert attributes(run.result.valid)["item_weight"] == "12"
    assert found["column"] == "item_weight_unit_of_measure"


def test_a_sale_that_has_not_started_leaves_the_standard_price(tmp_path):
    rows = [
        single("S1", "Mug", price="20.00", sale_price="15.00", sale_from_date="2026-07-01",
               sale_end_date="2026-07-31"),
    ]  # fmt: skip
    table = read_table(write_flat_file(tmp_path / "future.txt", rows))
    frame = amazon.assemble(table, ProfileOptions(), today=TODAY).frame

    assert frame[["price", "compare_at_price"]].values.tolist() == [["20.00", ""]]


@pytest.mark.parametrize(
    ("theme", "names"),
    [
        ("SizeColor", ["Size", "Color"]),
        ("Size-Color", ["Size", "Color"]),
        ("ColorSize", ["Color", "Size"]),
        ("SizeName-ColorName", ["Size", "Color"]),
        ("Color", ["Color"]),
        ("StyleName", ["Style"]),
        ("MaterialType", ["Material"]),
        ("ItemPackageQuantity", ["Item Package Quantity"]),
        ("FlavorName-Size", ["Flavor", "Size"]),
    ],
)
def test_variation_themes_name_their_options(theme, names):
    assert [o.name for o in theme_options(theme)] == names


def test_a_theme_word_this_reader_does_not_know_gives_none():
    assert theme_options("Wattage") is None


# --- detection --------------------------------------------------------------------------


@pytest.mark.parametrize("path", BOTH)
def test_the_fixtures_are_detected_as_amazon_flat_files(path):
    header = read_table(path).header

    assert amazon.detect(header)
    assert detect_platform(header) is PLATFORM


OTHER_PLATFORM_FILES = [
    "shopifypartners-product-csvs/apparel.csv",
    "magento2-sample-data/products.csv",
    "woocommerce-sample-products/sample_products.csv",
]


def test_other_platforms_headers_are_not_amazon(datasets_dir):
    paths = [datasets_dir / name for name in OTHER_PLATFORM_FILES]
    paths += sorted((datasets_dir / "woocommerce-product-export").glob("*.csv"))
    paths += sorted(FIXTURES.glob("bigcommerce_*.csv"))
    paths += sorted(FIXTURES.glob("google_merchant_feed.*"))

    for path in paths:
        delimiter = "\t" if path.suffix == ".tsv" else ","
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f, delimiter=delimiter))
        assert not amazon.detect(header), path.name
