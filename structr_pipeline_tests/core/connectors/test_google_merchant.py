"""Google Merchant Center feeds read as products, items grouped by ``item_group_id``.

The two fixtures in ``fixtures/platforms`` hold the same items: ``google_merchant_feed.tsv``
with the specification's attribute names, ``google_merchant_feed.csv`` with the English
names older feeds used (``image link``; see the README there). Each goes through the
strategy the registry calls (``read_table`` → ``PLATFORM.assemble`` →
``validate_products``): the products and their variant counts must be what the raw file
says, grouped here with the stdlib ``csv`` module; every line must be accounted for
exactly once; the values must be the feed's; and the ``shopify_import.csv`` written from
the result must import to the same catalog. Small feeds written to ``tmp_path`` cover
the edge cases.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.platforms import detect_platform, google_merchant
from structr_pipeline.core.connectors.platforms.assembly import accounted
from structr_pipeline.core.connectors.platforms.google_merchant import (
    PLATFORM,
    attribute_key,
    common_title,
)
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
)
from structr_pipeline_tests.core.connectors.test_shopify_export_roundtrip import comparable

TSV = FIXTURES / "google_merchant_feed.tsv"
CSV = FIXTURES / "google_merchant_feed.csv"
BOTH = [pytest.param(TSV, id="tsv"), pytest.param(CSV, id="csv")]
DELIMITER = {TSV: "\t", CSV: ","}
POUND = 453.59237
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TEE = "organic-cotton-tee"


def run_strategy(path: Path, options: ProfileOptions | None = None) -> platform_runs.Run:
    """``read_table`` → ``PLATFORM.assemble`` → ``validate_products``."""
    return platform_runs.run_strategy(PLATFORM, path, options)


def raw_items(path: Path) -> list[dict[str, str]]:
    """The feed's items, keyed by attribute name (spaces in the CSV's names made ``_``)."""
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=DELIMITER.get(path, "\t"))
        names = [name.replace(" ", "_") for name in next(reader)]
        return [dict(zip(names, row, strict=True)) for row in reader]


def raw_products(path: Path) -> list[list[str]]:
    """The ids of each product's items: grouped by ``item_group_id``, others alone."""
    groups: dict[str, list[str]] = {}
    products: list[list[str]] = []
    for item in raw_items(path):
        group = item["item_group_id"]
        if not group:
            products.append([item["id"]])
        elif group in groups:
            groups[group].append(item["id"])
        else:
            groups[group] = [item["id"]]
            products.append(groups[group])
    return products


def image_names(product: pd.DataFrame) -> list[str]:
    return [i["src"].rsplit("/", 1)[1] for i in json.loads(product["images"].iat[0])]


def warned(result: ValidationResult, check: str) -> list[dict]:
    found = [w for text in result.valid["warnings"] for w in json.loads(text)]
    return [w for w in found if w["check"] == check]


FEED_HEADER = ["id", "title", "description", "link", "image_link", "price", "brand",
               "availability", "item_group_id", "color", "size"]  # fmt: skip


def write_feed(path: Path, items: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, FEED_HEADER, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(items)
    return path


def item(id_: str, title: str, **cells: str) -> dict[str, str]:
    return {
        "id": id_, "title": title, "description": "A plain mug.", "price": "10.00 USD",
        "link": "https://shop.example.com/p/mug", "image_link": "https://img.example.com/m.jpg",
        "brand": "Acme", "availability": "in_stock", **cells,
    }  # fmt: skip


# --- both fixtures: counts and lines ----------------------------------------------------


@pytest.mark.parametrize("path", BOTH)
def test_products_and_their_items_are_those_of_the_raw_feed(path):
    run = run_strategy(path)
    produced = [group["sku"].tolist() for group in by_handle(run.result.valid).values()]

    assert len(run.result.rejected) == 0
    assert produced == raw_products(path)
    assert run.assembly.grouping.products == len(produced)
    assert run.assembly.grouping.variants == len(run.result.valid)


@pytest.mark.parametrize("path", BOTH)
def test_every_source_line_is_accounted_for_exactly_once(path):
    run = run_strategy(path)
    lines = [line for text in run.result.valid["_source_lines"] for line in json.loads(text)]
    lines += run.result.rejected["_source_line"].tolist()
    reading = google_merchant.read(run.table, ProfileOptions())
    counted = accounted(reading.products, reading.rejections, reading.rows)

    assert sorted(lines) == sorted(run.table.frame["_source_line"].tolist())
    assert len(lines) == len(raw_items(path))
    assert set(counted.values()) == {1}
    assert set(counted) == set(run.table.frame["_source_line"])


def test_grouping_counts_the_item_groups():
    grouping = run_strategy(TSV).assembly.grouping

    assert grouping.format == "google_merchant"
    assert grouping.counts == {
        "item_groups": 3, "items_in_groups": 9, "single_items": 2, "repeated_ids": 0,
        "products": 5, "variants": 11, "rows_without_product": 0,
    }  # fmt: skip
    assert "9 items in 3 item groups; 2 single-item products" in grouping.sentence()


def test_the_english_attribute_names_give_the_same_catalog_as_the_attribute_names():
    names = comparable(run_strategy(TSV).result.valid)
    english = comparable(run_strategy(CSV).result.valid)
    spelled = [{k.replace(" ", "_"): v for k, v in a.items()} for a in english.pop("attributes")]

    assert spelled == names.pop("attributes").tolist()
    pd.testing.assert_frame_equal(english, names)


# --- values as in the feed --------------------------------------------------------------


def test_each_items_id_gtin_and_variant_values_are_its_variants():
    valid = run_strategy(TSV).result.valid.set_index("sku")
    items = raw_items(TSV)

    assert valid.index.tolist() == [i["id"] for i in items]
    assert valid["barcode"].tolist() == [i["gtin"] for i in items]
    tee = valid[valid["handle"] == TEE]
    tee_items = [i for i in items if i["item_group_id"] == "TEE-01"]
    assert tee["option1_name"].unique().tolist() == ["Color"]
    assert tee["option2_name"].unique().tolist() == ["Size"]
    assert tee["option1_value"].tolist() == [i["color"] for i in tee_items]
    assert tee["option2_value"].tolist() == [i["size"] for i in tee_items]


def test_options_are_only_the_attributes_that_vary_within_a_group():
    products = by_handle(run_strategy(TSV).result.valid)
    mug, boots = products["enamel-camping-mug"], products["kids-rain-boots"]

    assert mug["option1_name"].tolist() == ["Color", "Color"]
    assert mug["option2_name"].tolist() == ["", ""]
    assert attributes(mug)["material"] == "enamel steel"
    assert boots["option1_name"].unique().tolist() == ["Size"]
    assert boots["option1_value"].tolist() == ["10", "11", "12"]
    assert attributes(boots)["color"] == "Yellow"
    assert attributes(products[TEE])["material"] == "organic cotton"


def test_titles_drop_the_variant_words_or_come_from_the_item_group_title():
    products = by_handle(run_strategy(TSV).result.valid)

    assert products[TEE]["title"].iat[0] == "Greenfield Organic Cotton Tee"
    assert products["enamel-camping-mug"]["title"].iat[0] == "Campfire Enamel Camping Mug"
    assert products["kids-rain-boots"]["title"].iat[0] == "Puddle Kids' Rain Boots"
    assert products["highland-wool-throw"]["title"].iat[0] == "Highland Wool Throw Blanket"
    tee_attributes = attributes(products[TEE], 3)
    assert tee_attributes["title"] == "Greenfield Organic Cotton Tee - Green - M"


def test_prices_follow_the_sale_price_effective_date():
    valid = run_strategy(TSV).result.valid.set_index("sku")

    # sale from 2024 to 2099: sale price, regular price struck through
    assert valid.loc["tee-blue-s", ["price", "compare_at_price"]].tolist() == [19.0, 25.0]
    # sale in November 2020, long over: the regular price
    assert valid.loc["tee-green-m", "price"] == 25.0
    assert pd.isna(valid.loc["tee-green-m", "compare_at_price"])
    assert json.loads(valid.loc["tee-green-m", "attributes"])["sale_price"] == "18.00 USD"
    # no dates: the sale runs
    assert valid.loc["BLANKET-01", ["price", "compare_at_price"]].tolist() == [69.0, 89.0]


def test_out_of_stock_is_an_inventory_of_zero_and_other_availability_none():
    valid = run_strategy(TSV).result.valid.set_index("sku")

    assert valid.loc["tee-green-m", "inventory_qty"] == 0
    assert valid.loc["mug-white", "inventory_qty"] == 0
    assert pd.isna(valid.loc["tee-blue-s", "inventory_qty"])
    assert pd.isna(valid.loc["GIFTSET-01", "inventory_qty"])
    assert json.loads(valid.loc["GIFTSET-01", "attributes"])["availability"] == "backorder"


def test_weights_are_read_with_their_units():
    valid = run_strategy(TSV).result.valid.set_index("sku")

    assert valid.loc["tee-blue-s", "weight_grams"] == pytest.approx(0.4 * POUND, abs=1e-6)
    assert valid.loc["mug-red", "weight_grams"] == 350.0
    assert valid.loc["BLANKET-01", "weight_grams"] == 1500.0  # product_weight only
    assert valid.loc["GIFTSET-01", "weight_grams"] == pytest.approx(2.2 * POUND, abs=1e-6)


def test_images_are_the_items_images_then_the_additional_ones():
    products = by_handle(run_strategy(TSV).result.valid)
    tee, blanket = products[TEE], products["highland-wool-throw"]

    assert image_names(tee) == ["tee-blue.jpg", "tee-green.jpg", "tee-back.jpg", "tee-detail.jpg"]
    assert [s.rsplit("/", 1)[1] for s in tee["image_src"]] == [
        "tee-blue.jpg", "tee-blue.jpg", "tee-green.jpg", "tee-green.jpg",
    ]  # fmt: skip
    assert image_names(blanket) == ["blanket.jpg", "blanket-folded.jpg", "blanket-sofa.jpg"]
    assert blanket["image_src"].tolist() == [""]


def test_handles_come_from_the_shared_link_path():
    handles = list(by_handle(run_strategy(TSV).result.valid))

    assert handles == [
        TEE, "enamel-camping-mug", "highland-wool-throw", "morning-ritual-gift-set",
        "kids-rain-boots",
    ]  # fmt: skip


def test_categories_brand_and_description_come_from_the_first_item():
    products = by_handle(run_strategy(TSV).result.valid)
    tee, mug = products[TEE], products["enamel-camping-mug"]

    assert tee["category"].iat[0] == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert tee["product_type"].iat[0] == "T-Shirts"
    assert attributes(tee)["product_type"] == "Home > Men > Tops > T-Shirts"
    assert tee["vendor"].iat[0] == "Greenfield"
    assert tee["description_html"].iat[0] == (
        "Made from 100% organic cotton.\nPre-shrunk, with a relaxed fit."
    )
    # a numeric category id is not a taxonomy path: kept as an attribute
    assert mug["category"].iat[0] == ""
    assert attributes(mug)["google_product_category"] == "2169"


def test_per_item_attributes_stay_on_their_variants():
    tee = by_handle(run_strategy(TSV).result.valid)[TEE]

    assert [attributes(tee, n)["mpn"] for n in range(4)] == [
        "GF-TEE-BS", "GF-TEE-BM", "GF-TEE-GS", "GF-TEE-GM",
    ]  # fmt: skip
    assert attributes(tee)["custom_label_0"] == "summer-2024"
    assert attributes(tee)["item_group_id"] == "TEE-01"


# --- shopify_import.csv imports to the same products --------------------------------------

REIMPORTED_FIELDS = [
    "handle", "title", "option1_name", "option1_value", "option2_name", "option2_value",
    "sku", "barcode", "price", "compare_at_price", "inventory_qty", "weight_grams",
    "image_src", "images", "vendor", "category",
]  # fmt: skip


@pytest.mark.parametrize("path", BOTH)
def test_the_shopify_import_file_imports_to_the_same_products(path, tmp_path):
    first = run_strategy(path).result.valid
    assert_reimports_unchanged(first, tmp_path, REIMPORTED_FIELDS)


def test_the_registry_routes_a_feed_to_this_strategy():
    table = read_table(TSV)

    assert map_source_frame(table.frame, TSV.name).source_format == "google_merchant"


# --- edge cases -----------------------------------------------------------------------------


def test_two_items_of_a_group_with_the_same_variant_values_are_warned_about(tmp_path):
    items = [
        item("m-1", "Mug - Red", item_group_id="G", color="Red", size="S"),
        item("m-2", "Mug - Blue", item_group_id="G", color="Blue", size="S"),
        item("m-3", "Mug - red", item_group_id="G", color="red", size="S"),
    ]
    run = run_strategy(write_feed(tmp_path / "repeat.tsv", items))
    (found,) = warned(run.result, "variant_options_repeated")

    assert len(run.result.rejected) == 0
    assert run.result.valid["option1_name"].tolist() == ["Color"] * 3
    assert (found["line"], found["column"]) == (4, "color")
    assert "as the variant on line 2" in found["message"]


def test_a_group_disagreeing_on_brand_keeps_the_first_with_a_warning(tmp_path):
    items = [
        item("m-1", "Mug - Red", item_group_id="G", color="Red"),
        item("m-2", "Mug - Blue", item_group_id="G", color="Blue", brand="Other Co"),
    ]
    run = run_strategy(write_feed(tmp_path / "brand.tsv", items))
    (found,) = warned(run.result, "merchant_group_disagrees")

    assert run.result.valid["vendor"].tolist() == ["Acme", "Acme"]
    assert (found["line"], found["column"], found["value"]) == (3, "brand", "Other Co")
    assert "the product keeps the first one" in found["message"]
    assert attributes(run.result.valid, 1)["brand"] == "Other Co"


def test_a_group_disagreeing_on_the_description_is_warned_about(tmp_path):
    items = [
        item("m-1", "Mug - Red", item_group_id="G", color="Red"),
        item("m-2", "Mug - Blue", item_group_id="G", color="Blue", description="Other."),
    ]
    run = run_strategy(write_feed(tmp_path / "description.tsv", items))
    (found,) = warned(run.result, "merchant_group_disagrees")

    assert run.result.valid["description_html"].tolist() == ["A plain mug.", "A plain mug."]
    assert found["column"] == "description"


def test_an_item_without_an_id_is_rejected_with_its_reason(tmp_path):
    items = [item("m-1", "Mug"), item("", "Nameless mug")]
    run = run_strategy(write_feed(tmp_path / "no_id.tsv", items))
    (issue,) = issues(run.result, 3)

    assert issue["check"] == "merchant_item_without_id"
    assert issue["column"] == "id"
    assert "needs a unique id" in issue["message"]
    assert run.result.valid["sku"].tolist() == ["m-1"]


def test_a_repeated_id_is_warned_about(tmp_path):
    items = [item("m-1", "Mug"), item("m-1", "Mug again")]
    run = run_strategy(write_feed(tmp_path / "repeat_id.tsv", items))
    (found,) = warned(run.result, "merchant_id_repeated")

    assert found["line"] == 3
    assert run.assembly.grouping.counts["repeated_ids"] == 1


def test_items_differing_in_no_variant_attribute_are_told_apart_by_their_titles(tmp_path):
    items = [
        item("p-64", "Phone 64GB", item_group_id="PH"),
        item("p-128", "Phone 128GB", item_group_id="PH"),
    ]
    run = run_strategy(write_feed(tmp_path / "phones.tsv", items))

    assert run.result.valid["title"].tolist() == ["Phone", "Phone"]
    assert run.result.valid["option1_name"].tolist() == ["Variant", "Variant"]
    assert run.result.valid["option1_value"].tolist() == ["64GB", "128GB"]
    assert warned(run.result, "merchant_group_without_variant_attributes")


def test_a_sale_is_only_on_inside_its_effective_dates(tmp_path):
    path = tmp_path / "sale.tsv"
    header = ["id", "title", "price", "sale_price", "sale_price_effective_date", "link"]
    rows = [
        ["a", "A", "20.00 USD", "15.00 USD", "2026-05-01T00:00-0800/2026-06-30T23:59-0800"],
        ["b", "B", "20.00 USD", "15.00 USD", "2026-07-01T00:00Z/2026-07-31T23:59Z"],
        ["c", "C", "20.00 USD", "15.00 USD", "2026-01-01T00:00Z/2026-01-31T23:59Z"],
        ["d", "D", "20.00 USD", "25.00 USD", ""],
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, delimiter="\t").writerows([header, *[[*r, "https://x.test/p"] for r in rows]])
    frame = google_merchant.assemble(read_table(path), ProfileOptions(), now=NOW).frame

    assert frame[["price", "compare_at_price"]].values.tolist() == [
        ["15.00 USD", "20.00 USD"],
        ["20.00 USD", ""],
        ["20.00 USD", ""],
        ["20.00 USD", ""],
    ]


@pytest.mark.parametrize(
    ("titles", "common"),
    [
        (["Classic Tee - Blue, M", "Classic Tee - Navy, M"], "Classic Tee"),
        (["Mug, Red", "Mug, White"], "Mug"),
        (["Tee (Blue)", "Tee (Red)"], "Tee"),
        (["Red Mug", "Blue Mug"], ""),
    ],
)
def test_common_title(titles, common):
    assert common_title(titles) == common


@pytest.mark.parametrize(
    ("header", "attribute"),
    [
        ("image_link", "image_link"),
        ("g:image_link", "image_link"),
        ("Image link", "image_link"),
        ("IMAGE LINK", "image_link"),
        ("Image link [image_link]", "image_link"),
        ("item group id", "item_group_id"),
        ("g:item_group_id", "item_group_id"),
        ("Colour", "color"),
        ("sale-price", "sale_price"),
    ],
)
def test_header_spellings_name_their_attribute(header, attribute):
    assert attribute_key(header) == attribute


def test_a_feed_with_g_prefixed_headers_is_read_like_the_plain_one(tmp_path):
    items = raw_items(TSV)
    names = list(items[0])
    path = tmp_path / "prefixed.tsv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow([f"g:{name}" for name in names])
        writer.writerows([[i[n] for n in names] for i in items])
    prefixed = comparable(run_strategy(path).result.valid).drop(columns="attributes")
    plain = comparable(run_strategy(TSV).result.valid).drop(columns="attributes")

    pd.testing.assert_frame_equal(prefixed, plain)


# --- detection --------------------------------------------------------------------------


@pytest.mark.parametrize("path", BOTH)
def test_the_fixtures_are_detected_as_merchant_feeds(path):
    header = read_table(path).header

    assert google_merchant.detect(header)
    assert detect_platform(header) is PLATFORM


OTHER_PLATFORM_FILES = [
    "shopifypartners-product-csvs/apparel.csv",
    "magento2-sample-data/products.csv",
    "woocommerce-sample-products/sample_products.csv",
]


def first_record(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f))


def test_other_platforms_headers_are_not_merchant_feeds(datasets_dir):
    paths = [datasets_dir / name for name in OTHER_PLATFORM_FILES]
    paths += sorted((datasets_dir / "woocommerce-product-export").glob("*.csv"))
    paths += sorted(FIXTURES.glob("bigcommerce_*.csv"))
    headers = {path.name: first_record(path) for path in paths}
    # an Amazon template's header is its third row, as read_table finds it
    headers |= {path.name: read_table(path).header for path in FIXTURES.glob("amazon_*")}

    assert len(headers) == len(paths) + 2
    for name, header in headers.items():
        assert not google_merchant.detect(header), name
