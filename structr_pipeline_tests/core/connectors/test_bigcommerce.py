"""BigCommerce product exports (bulk edit and legacy) read as products with their variants.

The two fixtures in ``fixtures/platforms`` follow BigCommerce's documented column sets
(see the README there). Each goes through the strategy the registry calls
(``PLATFORM.assemble`` → ``validate_products``): the products and their variant counts
must be what the raw file says, counted here with the stdlib ``csv`` module; every
source line must be accounted for exactly once; the values must be the file's; and the
``shopify_import.csv`` written from the result must import to the same catalog. Small
files written to ``tmp_path`` cover the edge cases and detection.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.platforms import detect_platform
from structr_pipeline.core.connectors.platforms.assembly import accounted
from structr_pipeline.core.connectors.platforms.bigcommerce import PLATFORM, read
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.validation import validate_products
from structr_pipeline_tests.core.connectors import platform_runs
from structr_pipeline_tests.core.connectors.platform_runs import (
    FIXTURES,
    attributes,
    by_handle,
    issues,
    warnings,
)
from structr_pipeline_tests.core.connectors.test_shopify_export_roundtrip import comparable

BULK_EDIT = FIXTURES / "bigcommerce_bulk_edit.csv"
LEGACY = FIXTURES / "bigcommerce_legacy.csv"
BOTH = [pytest.param(BULK_EDIT, id="bulk_edit"), pytest.param(LEGACY, id="legacy")]
# The column that says what a row is, and the value of a variant row, per format.
KIND_COLUMN = {BULK_EDIT: ("Item", {"variant", "sku"}), LEGACY: ("Item Type", {"sku"})}
POUND = 453.59237


def run_strategy(path: Path, options: ProfileOptions | None = None) -> platform_runs.Run:
    """``read_table`` → ``PLATFORM.assemble`` → ``validate_products``."""
    return platform_runs.run_strategy(PLATFORM, path, options)


def raw_products(path: Path) -> list[tuple[str, int]]:
    """(product name, number of variants) per Product row, counted from the raw file."""
    kind_column, variant_kinds = KIND_COLUMN[path]
    name_column = "Name" if kind_column == "Item" else "Product Name"
    products: list[list] = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            kind = row[kind_column].strip().lower()
            if kind == "product":
                products.append([row[name_column], 0])
            elif kind in variant_kinds:
                products[-1][1] += 1
    return [(name, count or 1) for name, count in products]


def images(product: pd.DataFrame) -> list[tuple[str, str]]:
    return [(i["src"].rsplit("/", 1)[1], i["alt"]) for i in json.loads(product["images"].iat[0])]


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


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
    reading = read(run.table, ProfileOptions())
    counted = accounted(reading.products, reading.rejections, reading.rows)

    assert sorted(lines) == sorted(run.table.frame["_source_line"].tolist())
    assert set(counted.values()) == {1}
    assert set(counted) == set(run.table.frame["_source_line"])


def test_grouping_counts_the_bulk_edit_rows():
    grouping = run_strategy(BULK_EDIT).assembly.grouping

    assert grouping.format == "bigcommerce"
    assert grouping.counts == {
        "products": 4, "variants": 14, "sku_rows": 13, "rule_rows": 0, "rules_applied": 0,
        "image_rows": 8, "modifier_rows": 0, "video_rows": 0, "rows_without_product": 0,
    }  # fmt: skip
    assert "3 products with 13 SKU rows" in grouping.sentence()


def test_grouping_counts_the_legacy_rule_rows():
    grouping = run_strategy(LEGACY).assembly.grouping

    assert grouping.counts["sku_rows"] == 7
    assert grouping.counts["rule_rows"] == grouping.counts["rules_applied"] == 2
    assert "2 rule rows applied to their SKUs" in grouping.details


# --- bulk edit fixture: the values --------------------------------------------------------


@pytest.fixture(scope="module")
def bulk() -> dict[str, pd.DataFrame]:
    return by_handle(run_strategy(BULK_EDIT).result.valid)


def test_bulk_simple_product_is_its_own_variant_with_msrp_as_compare_at(bulk):
    mug = bulk["enamel-camp-mug"]

    assert mug[
        ["sku", "barcode", "price", "compare_at_price", "cost_per_item"]
    ].values.tolist() == [["MUG-ENAMEL-12", "812345001013", 14.0, 18.0, 5.5]]
    assert mug["inventory_qty"].tolist() == [40]
    assert mug["weight_grams"].iat[0] == pytest.approx(0.75 * POUND, abs=1e-5)
    assert mug["option1_name"].iat[0] == ""
    assert mug["product_type"].iat[0] == "Mugs"
    assert mug["tags"].iat[0] == "mug, enamel, camping"
    assert mug["seo_title"].iat[0] == "Enamel Camp Mug | Northwood"
    assert images(mug) == [("mug-front.jpg", "Mug, front view"), ("mug-side.jpg", "Mug, side view")]
    assert attributes(mug)["Categories"] == "Kitchen/Mugs;Camping"
    assert attributes(mug)["BigCommerce Type"] == "physical"


def test_bulk_description_keeps_its_commas_and_line_breaks(bulk):
    description = bulk["enamel-camp-mug"]["description_html"].iat[0]

    assert description.startswith("<p>A 12 oz enamel mug, chip-resistant, dishwasher safe.</p>\n")
    assert "<li>Rolled rim, easy to clean</li>" in description


def test_bulk_variants_with_their_own_prices_two_options_and_a_sale(bulk):
    shirt = bulk["linen-shirt"]
    rows = shirt[
        ["option1_value", "option2_value", "sku", "price", "compare_at_price", "inventory_qty"]
    ]

    assert shirt["option1_name"].unique().tolist() == ["Size"]
    assert shirt["option2_name"].unique().tolist() == ["Color"]
    assert rows.astype(object).where(rows.notna(), None).values.tolist() == [
        ["S", "Natural", "LINEN-NAT-S", 39.0, None, 5],
        ["M", "Natural", "LINEN-NAT-M", 39.0, None, 8],
        ["L", "Natural", "LINEN-NAT-L", 42.0, None, 0],
        ["S", "Navy", "LINEN-NAV-S", 39.0, None, 6],
        ["M", "Navy", "LINEN-NAV-M", 33.0, 39.0, 7],
        ["L", "Navy", "LINEN-NAV-L", 42.0, None, 5],
    ]
    assert shirt["barcode"].tolist()[:2] == ["812345002003", "812345002010"]
    assert shirt["status"].unique().tolist() == ["active"]
    assert shirt["product_type"].iat[0] == "Linen"


def test_bulk_variant_weight_is_its_own_else_the_products(bulk):
    weights = bulk["linen-shirt"]["weight_grams"].tolist()

    assert weights == pytest.approx(
        [0.4 * POUND] * 2 + [0.45 * POUND] + [0.4 * POUND] * 2 + [0.45 * POUND], abs=1e-5
    )


def test_bulk_images_put_the_thumbnail_first_and_add_the_variant_image(bulk):
    shirt = bulk["linen-shirt"]

    assert images(shirt) == [
        ("linen-shirt-front.jpg", "Linen shirt, front"),
        ("linen-shirt-back.jpg", "Linen shirt, back"),
        ("linen-shirt-detail.jpg", "Button detail"),
        ("linen-shirt-navy.jpg", ""),
    ]
    assert shirt["image_src"].str.rsplit("/", n=1).str[-1].tolist() == [
        "", "", "", "linen-shirt-navy.jpg", "", "",
    ]  # fmt: skip


def test_bulk_variants_inherit_the_product_price_and_its_sale(bulk):
    beanie = bulk["wool-beanie"]

    assert beanie["option1_value"].tolist() == ["Charcoal", "Mustard", "Forest"]
    assert beanie["price"].tolist() == [19.0, 19.0, 19.0]
    assert beanie["compare_at_price"].tolist() == [24.0, 24.0, 24.0]
    assert beanie["status"].unique().tolist() == ["draft"]


def test_bulk_product_msrp_is_every_variants_compare_at_and_export_urls_are_read(bulk):
    runner = bulk["trail-runner"]

    assert runner["price"].tolist() == [120.0, 125.0, 120.0, 125.0]
    assert runner["compare_at_price"].tolist() == [140.0] * 4
    assert runner["cost_per_item"].tolist() == [60.0] * 4
    assert runner["inventory_qty"].tolist() == [3, 2, 0, 1]
    assert images(runner) == [
        ("trail-runner.jpg", "Trail runner, side"),
        ("trail-runner-sole.jpg", "Outsole"),
    ]


# --- legacy fixture: the values -----------------------------------------------------------


@pytest.fixture(scope="module")
def legacy() -> dict[str, pd.DataFrame]:
    return by_handle(run_strategy(LEGACY).result.valid)


def test_legacy_simple_product_on_sale_with_its_image_slots(legacy):
    board = legacy["cedar-cutting-board"]

    assert board[["sku", "price", "compare_at_price", "cost_per_item"]].values.tolist() == [
        ["BOARD-CEDAR", 39.0, 45.0, 18.0]
    ]
    assert board["barcode"].iat[0] == "812345002010"
    assert board["inventory_qty"].tolist() == [15]
    assert board["vendor"].iat[0] == "Northwood"
    assert board["weight_grams"].iat[0] == pytest.approx(2.5 * POUND, abs=1e-5)
    assert images(board) == [
        ("cedar-board-top.jpg", "Cedar board, top"),
        ("cedar-board-edge.jpg", "Cedar board, edge"),
    ]
    assert board["product_type"].iat[0] == "Cutting Boards"


def test_legacy_sku_rows_take_their_options_from_the_product_name(legacy):
    tote = legacy["canvas-tote"]

    assert tote["option1_name"].unique().tolist() == ["Color"]
    assert tote["option2_name"].unique().tolist() == ["Size"]
    assert list(zip(tote["option1_value"], tote["option2_value"], strict=True)) == [
        ("Sand", "Standard"), ("Sand", "Large"), ("Olive", "Standard"), ("Olive", "Large"),
    ]  # fmt: skip
    assert tote["sku"].tolist() == [
        "TOTE-SAND-STA", "TOTE-SAND-LAR", "TOTE-OLIVE-STA", "TOTE-OLIVE-LAR",
    ]  # fmt: skip
    assert tote["inventory_qty"].tolist() == [10, 6, 8, 0]


def test_legacy_rules_adjust_price_weight_and_image_of_the_skus_they_match(legacy):
    tote = legacy["canvas-tote"]

    # [ADD]6.00 for Size=Large; [FIXED]25.00 for TOTE-OLIVE-STA; the rest keep 28.
    assert tote["price"].tolist() == [28.0, 34.0, 25.0, 34.0]
    assert tote["weight_grams"].tolist() == pytest.approx(
        [POUND, 1.25 * POUND, POUND, 1.25 * POUND], abs=1e-5
    )
    assert tote["image_src"].str.rsplit("/", n=1).str[-1].tolist() == [
        "", "", "tote-olive-front.jpg", "",
    ]  # fmt: skip
    assert [json.loads(t) for t in tote["_source_lines"]] == [[5, 4], [6, 9], [7, 10], [8]]


def test_legacy_msrp_is_compare_at_only_above_the_price(legacy):
    tote = legacy["canvas-tote"]
    compare = tote["compare_at_price"].tolist()

    assert compare[0] == 32.0 and compare[2] == 32.0
    assert pd.isna(compare[1]) and pd.isna(compare[3])
    assert attributes(tote, 1)["Retail Price"] == "32.0000"


def test_legacy_variants_inherit_the_products_sale_price(legacy):
    scarf = legacy["merino-scarf"]

    assert scarf["option1_value"].tolist() == ["Grey", "Rust", "Ink"]
    assert scarf["price"].tolist() == [44.0] * 3
    assert scarf["compare_at_price"].tolist() == [55.0] * 3
    assert scarf["status"].unique().tolist() == ["draft"]
    assert len(images(scarf)) == 3


# --- shopify_import.csv -------------------------------------------------------------------


@pytest.mark.parametrize("path", BOTH)
def test_shopify_import_csv_reimports_to_the_same_products(path, tmp_path):
    first = run_strategy(path).result.valid
    exported = tmp_path / "shopify_import.csv"
    write_shopify_csv(first, exported)
    table = read_table(exported)
    mapping = map_source_frame(table.frame, exported.name)
    second = validate_products(mapping.frame, table.frame, mapping.field_sources, exported.name)

    assert len(second.rejected) == 0
    # The Shopify file carries the attributes as columns of its own; the rest must agree.
    pd.testing.assert_frame_equal(
        comparable(second.valid).drop(columns="attributes"),
        comparable(first).drop(columns="attributes"),
    )


@pytest.mark.parametrize("path", BOTH)
def test_the_registry_reads_both_fixtures_as_bigcommerce(path):
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)

    assert mapping.source_format == "bigcommerce"
    assert mapping.grouping.products == len(raw_products(path))


# --- edge cases ---------------------------------------------------------------------------

BULK_HEADER = ["Item", "Name", "Type", "SKU", "Options", "Inventory Tracking", "Current Stock"]
BULK_HEADER += ["Price", "Sale Price", "Categories", "Weight", "Is Visible", "Product URL"]
LEGACY_HEADER = ["Item Type", "Product Name", "Product Code/SKU", "Price", "Product Weight"]
LEGACY_HEADER += ["Track Inventory", "Current Stock Level", "Category", "Product Visible?"]


def test_a_variant_row_before_any_product_row_is_rejected(tmp_path):
    path = write_csv(tmp_path / "bc.csv", BULK_HEADER, [
        {"Item": "Variant", "SKU": "LOST-1", "Options": "Type=Rectangle|Name=Size|Value=S"},
        {"Item": "Product", "Name": "Mug", "SKU": "MUG", "Price": "9"},
    ])  # fmt: skip
    result = run_strategy(path).result

    assert len(result.valid) == 1
    (issue,) = issues(result, 2)
    assert issue["column"] == "Item"
    assert issue["check"] == "bigcommerce_row_without_product"
    assert "before any Product row" in issue["message"]


def test_a_legacy_sku_row_before_any_product_row_is_rejected(tmp_path):
    path = write_csv(tmp_path / "bc.csv", LEGACY_HEADER, [
        {"Item Type": "SKU", "Product Name": "[S]Size=Small", "Product Code/SKU": "X-S"},
        {"Item Type": "Product", "Product Name": "Tee", "Product Code/SKU": "X", "Price": "5"},
    ])  # fmt: skip
    result = run_strategy(path).result

    (issue,) = issues(result, 2)
    assert issue["column"] == "Item Type"
    assert issue["value"] == "SKU"
    assert "belongs to no product" in issue["message"]


def test_variants_that_repeat_option_values_are_warned_about(tmp_path):
    option = "Type=Rectangle|Name=Size|Value=M"
    path = write_csv(tmp_path / "bc.csv", BULK_HEADER, [
        {"Item": "Product", "Name": "Tee", "SKU": "TEE", "Price": "10"},
        {"Item": "Variant", "SKU": "TEE-M1", "Options": option},
        {"Item": "Variant", "SKU": "TEE-M2", "Options": option},
    ])  # fmt: skip
    found = warnings(run_strategy(path).result)

    (issue,) = [w for w in found if w["check"] == "variant_options_repeated"]
    assert issue["line"] == 4
    assert issue["column"] == "Options"
    assert "same options (M) as the variant on line 3" in issue["message"]


def test_a_rule_that_matches_no_sku_is_rejected(tmp_path):
    path = write_csv(tmp_path / "bc.csv", LEGACY_HEADER, [
        {"Item Type": "Product", "Product Name": "Tee", "Product Code/SKU": "T", "Price": "5"},
        {"Item Type": "SKU", "Product Name": "[S]Size=Small", "Product Code/SKU": "T-S"},
        {"Item Type": "Rule", "Product Code/SKU": "T-XL", "Price": "[ADD]2"},
        {"Item Type": "Rule", "Product Name": "[S]Size=Huge", "Price": "[ADD]3"},
    ])  # fmt: skip
    result = run_strategy(path).result

    (by_sku,) = issues(result, 4)
    assert (by_sku["column"], by_sku["check"], by_sku["value"]) == (
        "Product Code/SKU", "rule_matches_no_sku", "T-XL",
    )  # fmt: skip
    assert "SKU 'T-XL' matches no SKU row of product 'tee'" in by_sku["message"]
    (by_option,) = issues(result, 5)
    assert by_option["column"] == "Product Name"
    assert "Size=Huge" in by_option["message"]
    assert result.valid["price"].tolist() == [5.0]


def test_a_row_of_no_known_type_is_rejected(tmp_path):
    path = write_csv(tmp_path / "bc.csv", BULK_HEADER, [
        {"Item": "Product", "Name": "Tee", "SKU": "TEE", "Price": "10"},
        {"Item": "Bundle", "SKU": "B-1"},
    ])  # fmt: skip
    (issue,) = issues(run_strategy(path).result, 3)

    assert issue["check"] == "bigcommerce_row_type"
    assert "'Bundle' is not a BigCommerce row type" in issue["message"]


@pytest.mark.parametrize(
    "joint", ["", "|", " || ", "\n"], ids=["none", "pipe", "spaced", "newline"]
)
def test_options_are_read_however_the_groups_are_joined(tmp_path, joint):
    options = f"Type=Rectangle|Name=Size|Value=S{joint}Type=Swatch|Name=Color|Value=Red[#FF0000]"
    path = write_csv(tmp_path / "bc.csv", BULK_HEADER, [
        {"Item": "Product", "Name": "Tee", "SKU": "TEE", "Price": "10"},
        {"Item": "Variant", "SKU": "TEE-S-R", "Options": options},
    ])  # fmt: skip
    valid = run_strategy(path).result.valid

    assert valid[
        ["option1_name", "option1_value", "option2_name", "option2_value"]
    ].values.tolist() == [["Size", "S", "Color", "Red"]]


def test_zero_sale_price_is_no_sale_and_category_ids_give_no_type(tmp_path):
    path = write_csv(tmp_path / "bc.csv", BULK_HEADER, [
        {"Item": "Product", "Name": "Tee", "SKU": "TEE", "Price": "10.00", "Sale Price": "0.00",
         "Categories": "23;41", "Weight": "2"},
    ])  # fmt: skip
    valid = run_strategy(path, ProfileOptions(weight_unit="kg", default_vendor="Acme")).result.valid

    assert valid["vendor"].tolist() == ["Acme"]
    assert valid["price"].tolist() == [10.0]
    assert pd.isna(valid["compare_at_price"].iat[0])
    assert valid["product_type"].tolist() == [""]
    assert valid["weight_grams"].tolist() == [2000.0]
    assert valid["handle"].tolist() == ["tee"]


def test_untracked_stock_gives_no_count_and_product_level_stock_is_warned(tmp_path):
    path = write_csv(tmp_path / "bc.csv", BULK_HEADER, [
        {"Item": "Product", "Name": "Mug", "SKU": "MUG", "Price": "9",
         "Inventory Tracking": "none", "Current Stock": "0"},
        {"Item": "Product", "Name": "Tee", "SKU": "TEE", "Price": "9",
         "Inventory Tracking": "product", "Current Stock": "12"},
        {"Item": "Variant", "SKU": "TEE-S", "Options": "Type=Rectangle|Name=Size|Value=S"},
        {"Item": "Variant", "SKU": "TEE-M", "Options": "Type=Rectangle|Name=Size|Value=M"},
    ])  # fmt: skip
    result = run_strategy(path).result

    assert result.valid["inventory_qty"].isna().all()
    (issue,) = [w for w in warnings(result) if w["check"] == "stock_tracked_per_product"]
    assert "tracked for the product as a whole" in issue["message"]
    assert json.loads(result.valid["attributes"].iat[1])["Current Stock"] == "12"


def test_a_fixed_rule_replaces_the_sale_price_and_stop_processing_holds_later_rules(tmp_path):
    path = write_csv(tmp_path / "bc.csv", [*LEGACY_HEADER, "Sale Price", "Stop Processing Rules"], [
        {"Item Type": "Product", "Product Name": "Tee", "Product Code/SKU": "T", "Price": "20",
         "Sale Price": "15"},
        {"Item Type": "SKU", "Product Name": "[S]Size=Small", "Product Code/SKU": "T-S"},
        {"Item Type": "SKU", "Product Name": "[S]Size=Large", "Product Code/SKU": "T-L"},
        {"Item Type": "Rule", "Product Code/SKU": "T-S", "Price": "[FIXED]18",
         "Stop Processing Rules": "Y"},
        {"Item Type": "Rule", "Product Name": "[S]Size=Small", "Price": "[ADD]100"},
        {"Item Type": "Rule", "Product Name": "[S]Size=Large", "Price": "[REMOVE]1"},
    ])  # fmt: skip
    result = run_strategy(path).result

    assert result.valid["price"].tolist() == [18.0, 14.0]
    assert pd.isna(result.valid["compare_at_price"].iat[0])
    assert result.valid["compare_at_price"].iat[1] == 19.0
    (held,) = [w for w in warnings(result) if w["check"] == "rule_not_applied"]
    assert held["line"] == 6
    assert "stops processing later rules" in held["message"]


def test_modifier_and_video_rows_are_kept_on_their_product_not_made_variants(tmp_path):
    header = [*BULK_HEADER, "YouTube ID", "Video Title"]
    path = write_csv(tmp_path / "bc.csv", header, [
        {"Item": "Product", "Name": "Mug", "SKU": "MUG", "Price": "9"},
        {"Item": "Modifier", "Options": "Type=Checkbox|Name=Gift wrap|Value=Yes"},
        {"Item": "Video", "YouTube ID": "dQw4w9WgXcQ", "Video Title": "Mug in use"},
    ])  # fmt: skip
    run = run_strategy(path)
    (lines,) = [json.loads(t) for t in run.result.valid["_source_lines"]]
    kept = json.loads(run.result.valid["attributes"].iat[0])

    assert sorted(lines) == [2, 3, 4]
    assert kept["Modifier Options"] == "Type=Checkbox|Name=Gift wrap|Value=Yes"
    assert kept["Video YouTube ID"] == "dQw4w9WgXcQ"
    assert run.assembly.grouping.counts["modifier_rows"] == 1


def test_relative_legacy_image_paths_get_the_profiles_image_base_url(tmp_path):
    header = [*LEGACY_HEADER, "Product Image File - 1", "Product Image Is Thumbnail - 1"]
    path = write_csv(tmp_path / "bc.csv", header, [
        {"Item Type": "Product", "Product Name": "Tee", "Product Code/SKU": "T", "Price": "5",
         "Product Image File - 1": "a/201/tee.jpg", "Product Image Is Thumbnail - 1": "Y"},
    ])  # fmt: skip
    options = ProfileOptions(image_base_url="https://shop.example.com/product_images/")
    valid = run_strategy(path, options).result.valid

    assert [i["src"] for i in json.loads(valid["images"].iat[0])] == [
        "https://shop.example.com/product_images/a/201/tee.jpg"
    ]


# --- detection ----------------------------------------------------------------------------


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


@pytest.mark.parametrize("path", BOTH)
def test_both_fixtures_are_detected_as_bigcommerce(path):
    header = header_of(path)

    assert PLATFORM.detect(header)
    assert detect_platform(header).name == "bigcommerce"


@pytest.mark.parametrize(
    "name",
    [
        "shopifypartners-product-csvs/apparel.csv",
        "shopify-product-template/product_template.csv",
        "woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv",
        "magento2-sample-data/products.csv",
    ],
)
def test_other_platforms_exports_are_not_bigcommerce(datasets_dir, name):
    assert not PLATFORM.detect(header_of(datasets_dir / name))


@pytest.mark.parametrize(
    "header",
    [
        # Amazon inventory flat file (parent/child rows).
        [
            "item_sku",
            "item_name",
            "external_product_id",
            "brand_name",
            "item_type",
            "standard_price",
            "quantity",
            "parent_child",
            "parent_sku",
            "variation_theme",
        ],
        # Google Merchant Center feed.
        [
            "id",
            "title",
            "description",
            "link",
            "image_link",
            "price",
            "sale_price",
            "brand",
            "gtin",
            "item_group_id",
            "color",
            "size",
        ],
        # WooCommerce's own columns, which share ID, Type, SKU and Name.
        ["ID", "Type", "SKU", "Name", "Published", "Regular price", "Sale price", "Parent"],
        # A generic inventory sheet with an Item column but nothing of BigCommerce's.
        ["Item", "Name", "SKU", "Price", "Quantity"],
    ],
    ids=["amazon", "google_merchant", "woocommerce", "generic"],
)
def test_headers_without_bigcommerces_columns_are_not_bigcommerce(header):
    assert not PLATFORM.detect(header)


def test_the_exported_shopify_file_is_not_bigcommerce(tmp_path):
    exported = tmp_path / "shopify_import.csv"
    write_shopify_csv(run_strategy(LEGACY).result.valid, exported)

    assert not PLATFORM.detect(header_of(exported))
