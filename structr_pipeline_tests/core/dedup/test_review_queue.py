"""The review queue on the shared real store exports, and its rules on small files.

The true duplicates below were established by reading each export's products side by
side (title, vendor, options, SKUs, barcodes, prices, description and image files):

- jewelry.csv lists "14k Dangling Pendant Earrings" twice and "18k Dangling Pendant
  Earrings" twice (under ``pendant-earrings``): same title and vendor, one variant each.
- Bicycles.csv lists eleven bikes twice, each pair with the same SKUs on every variant
  (and the same barcodes where they have one): "The Foxtrot" / "Foxtrot", "Micro Echo" /
  "Echo" and so on.
- The WooCommerce export holds its sample catalog several times over: 17 titles, each
  listed 2 to 6 times with the same title, image and price under other ids.

Every other export holds no duplicate: its same-title products are colours, sizes or
model years of one product (siblings), which the queue must not list.
"""

from __future__ import annotations

import pandas as pd
import pytest

from structr_pipeline.core.connectors.registry import map_table
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.dedup.merge import deduplicate, default_matcher, retired_handles
from structr_pipeline.core.dedup.review import LISTED, is_placeholder
from structr_pipeline.core.validation import validate_products
from structr_pipeline_tests.core.dedup.test_merge import (
    NO_CATALOG,
    catalog_frame,
    product,
    validated,
)

WOO_EXPORT = "woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv"
WOO_REPEATED = {
    "album": 4, "beanie": 5, "beanie-with-logo": 4, "belt": 6, "cap": 5,
    "hoodie-with-logo": 4, "hoodie-with-pocket": 4, "hoodie-with-zipper": 4, "jacket": 2,
    "long-sleeve-tee": 4, "polo": 5, "shirt-cream": 2, "single": 4, "sunglasses": 6,
    "t-shirt": 6, "t-shirt-with-logo": 4, "wordpress-pennant": 4,
}  # fmt: skip
TRUE_DUPLICATES = {
    "levinmejia-shopify-product-csvs/jewelry.csv": {
        frozenset({"14k-dangling-pendant-earrings", "14k-dangling-pendant-earrings-1"}),
        frozenset({"18k-dangling-pendant-earrings", "pendant-earrings"}),
    },
    "levinmejia-shopify-product-csvs/Bicycles.csv": {
        frozenset(pair)
        for pair in (
            ("charlie", "the-charlie"),
            ("colorful-fixie-lima", "the-gold"),
            ("delta-green-pink-fixie", "the-delta"),
            ("foxtrot-purple-white-fixie", "the-foxtrot"),
            ("golf-orange-bicycle", "the-golf"),
            ("orange-fixie-tango", "the-tango"),
            ("black-red-fixie-the-echo", "the-micro-echo"),
            ("glow-in-the-dark-fixie-bike-kilo", "the-micro-kilo"),
            ("matte-black-fixie", "the-micro-juliet"),
            ("papa-grey-orange-fixie", "the-micro-papa"),
            ("the-micro-romeo", "white-fixie-the-romeo"),
        )
    },
    WOO_EXPORT: {
        frozenset({name, f"{name}-{n}"})
        for name, k in WOO_REPEATED.items()
        for n in range(2, k + 1)
    },
}
NO_DUPLICATES = (
    "levinmejia-shopify-product-csvs/Apparel.csv",
    "levinmejia-shopify-product-csvs/Fashion.csv",
    "levinmejia-shopify-product-csvs/SnowDevil.csv",
    "shopifypartners-product-csvs/apparel.csv",
    "shopifypartners-product-csvs/home-and-garden.csv",
    "shopifypartners-product-csvs/jewelery.csv",
    "shopify-product-template/product_template.csv",
    "magento2-sample-data/products.csv",
    "woocommerce-sample-products/sample_products.csv",
    "classic-commerce-sample-products/sample_products.csv",
)
# Apart from the true duplicates, the queue holds at most this share of the catalog.
MAX_OTHER_PAIRS_SHARE = 0.05


def _queue(path):
    table = read_table(path)
    mapping = map_table(table)
    valid = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name).valid
    handles_given = "handle" not in set(mapping.mapping_frame().query("derived")["field"])
    result = deduplicate(valid, NO_CATALOG, matcher=default_matcher(), handles_given=handles_given)
    return result, valid["handle"].nunique()


def _pairs(queue: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(p) for p in zip(queue["handle"], queue["other_handle"], strict=True)}


@pytest.mark.parametrize("name", sorted(TRUE_DUPLICATES) + list(NO_DUPLICATES))
def test_the_queue_holds_the_true_duplicates_and_little_else(datasets_dir, name) -> None:
    result, products = _queue(datasets_dir / name)
    queue = result.possible
    found = _pairs(queue)
    truth = TRUE_DUPLICATES.get(name, set())
    assert truth <= found, sorted(map(sorted, truth - found))
    others = found - truth
    assert len(others) <= MAX_OTHER_PAIRS_SHARE * products, sorted(map(sorted, others))
    # each unordered pair once, ranked, the file's repeated listings first
    assert len(found) == len(queue)
    assert queue["rank"].tolist() == list(range(1, len(queue) + 1))
    kinds = queue["kind"].tolist()
    assert kinds == sorted(kinds, key=lambda k: k != LISTED)
    assert all(queue["rule"].str.len() > 0)


def test_a_product_listed_six_times_is_one_group_of_six(datasets_dir) -> None:
    result, _ = _queue(datasets_dir / WOO_EXPORT)
    belts = result.possible[result.possible["other_handle"] == "belt"]
    assert sorted(belts["handle"]) == [f"belt-{n}" for n in range(2, 7)]
    assert belts["group"].nunique() == 1
    assert belts["rule"].iat[0].startswith("listed 6 times; same title; same image (1)")


def test_colour_siblings_are_variants_not_duplicates(datasets_dir) -> None:
    result, _ = _queue(datasets_dir / "levinmejia-shopify-product-csvs" / "Fashion.csv")
    assert result.possible.empty
    groups = result.variants.set_index("title")
    assert groups.loc["Alia Knit Trouser", "handles"] == "alia-knit-trouser; alia-knit-trouser-1"
    assert "stone" in groups.loc["Alia Knit Trouser", "differ_in"]


def test_karat_siblings_are_variants(datasets_dir) -> None:
    result, _ = _queue(datasets_dir / "levinmejia-shopify-product-csvs" / "jewelry.csv")
    handles = "; ".join(result.variants["handles"])
    assert "14k-wire-bloom-earrings; 18k-wire-bloom-earrings" in handles


def test_merge_listed_duplicates_merges_the_repeated_listings(datasets_dir) -> None:
    path = datasets_dir / WOO_EXPORT
    table = read_table(path)
    mapping = map_table(table)
    valid = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name).valid
    before = valid["handle"].nunique()
    result = deduplicate(valid, NO_CATALOG, matcher=default_matcher(), merge_listed=True)
    repeats = sum(k - 1 for k in WOO_REPEATED.values())
    assert result.products["handle"].nunique() == before - repeats
    assert (result.possible["kind"] != LISTED).all()
    merged = result.merges[result.merges["survivor_handle"] == "belt"]
    assert set(merged["merged_handle"]) >= {f"belt-{n}" for n in range(2, 7)}
    # every row is in a product or merged into one
    assert len(result.products) + result.rows_merged == len(valid)
    # the copies' variants are one variant each, whatever SKUs the copies carried, so
    # no product sells one option combination twice (Shopify would refuse it)
    products = result.products
    options = ["handle", "option1_value", "option2_value", "option3_value"]
    assert not products[options].fillna("").duplicated().any()
    assert (products["handle"] == "belt").sum() == 1
    hoodie = products[products["handle"] == "hoodie"]
    assert set(zip(hoodie["option1_value"], hoodie["option2_value"], strict=True)) == {
        ("Blue", "Yes"),
        ("Red", "No"),
        ("Green", "No"),
        ("Blue", "No"),
    }
    assert len(hoodie) == 4


def test_listings_the_catalog_already_holds_are_listed_and_merged_on_request(tmp_path) -> None:
    rows = [
        product("mug", "Stoneware Mug", "MUG-1", "12.00", Vendor="Kiln"),
        product("mug-2", "Stoneware Mug", "MUG-2", "12.00", Vendor="Kiln"),
        product("cup", "Espresso Cup", "CUP-1", "8.50", Vendor="Kiln"),
    ]
    # the file was imported once without the option: the catalog holds both listings
    catalog = catalog_frame(tmp_path, rows)
    batch = validated(tmp_path, rows)
    listed = deduplicate(batch, catalog, matcher=default_matcher())
    (row,) = listed.possible.to_dict("records")
    assert (row["kind"], row["handle"], row["other_handle"], row["other_in"]) == (
        LISTED,
        "mug-2",
        "mug",
        "batch",
    )
    assert retired_handles(listed.merges) == []
    merged = deduplicate(batch, catalog, matcher=default_matcher(), merge_listed=True)
    assert sorted(merged.products["handle"]) == ["cup", "mug"]
    assert merged.possible.empty
    assert retired_handles(merged.merges) == ["mug-2"]


def test_a_shared_barcode_on_other_options_is_not_a_listing_twice(tmp_path) -> None:
    def grip(handle, title, option, sku, barcode, price):
        return product(handle, title, sku, price, Vendor="Brooks", **{
            "Option1 Name": "Color" if title else "", "Option1 Value": option,
            "Variant Barcode": barcode,
        })  # fmt: skip

    rows = [
        grip("ring-grips", "Brooks Leather Ring Grips", "Brown", "RING", "831273600792", "80.00"),
        grip("slender-grips", "Brooks Slender Leather Grips", "Honey", "SL", "831273600792", "90"),
        grip("slender-grips", "", "Brown", "SL-BR", "", "90.00"),
        # the 43 cm size, listed on its own too: same SKU, barcode and option
        grip("echo", "Echo", "43 cm", "MICRO-ECHO", "741360638518", "329.00"),
        grip("echo", "", "47 cm", "ECHO-XS", "741360638624", "329.00"),
        grip("micro-echo", "Micro Echo", "43 cm", "MICRO-ECHO", "741360638518", "329.00"),
    ]  # fmt: skip
    result = deduplicate(validated(tmp_path, rows), NO_CATALOG, matcher=default_matcher())
    listed = {
        frozenset((r["handle"], r["other_handle"])) for r in result.possible.to_dict("records")
    }
    assert listed == {frozenset({"echo", "micro-echo"})}


def test_placeholder_skus_are_no_evidence(tmp_path) -> None:
    assert is_placeholder("soldout") and is_placeholder("n/a") and is_placeholder("000")
    assert not is_placeholder("tee-1")
    rows = [product(f"item-{n}", f"Item {n} Lamp", "SOLD OUT") for n in range(3)]
    rows += [product(f"shared-{n}", f"Chair model {n}", "STORE-1") for n in range(7)]
    batch = validated(tmp_path, rows)
    result = deduplicate(batch, NO_CATALOG, handles_given=False)
    assert result.merges.empty and result.possible.empty
    assert result.products["handle"].nunique() == 10


def test_same_title_with_overlapping_variants_is_listed(tmp_path) -> None:
    rows = [
        product("mug", "Enamel Mug", "", "12.00", Vendor="Campfire"),
        product("mug-1", "Enamel Mug", "", "12.00", Vendor="Campfire"),
        product("mug-red", "Enamel Mug Red", "", "12.00", Vendor="Campfire"),
    ]
    result = deduplicate(validated(tmp_path, rows), NO_CATALOG, matcher=default_matcher())
    (row,) = result.possible.to_dict("records")
    assert (row["handle"], row["other_handle"], row["kind"]) == ("mug-1", "mug", LISTED)
    assert row["rule"].startswith("same title and brand; same price 12.00")
    (group,) = result.variants.to_dict("records")
    assert "mug-red" in group["handles"] and "red" in group["differ_in"]
