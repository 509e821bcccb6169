"""Magento 2 catalog exports as Magento documents them, on small files written here.

The Luma sample (``test_platform_datasets.py``) has no store-view rows, no variation
labels, no special prices and no broken structures; these tests cover them.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.platforms import magento
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.validation import validate_products

# The columns of System → Export → Products that these files use, in Magento's order.
HEADER = [
    "sku", "store_view_code", "attribute_set_code", "product_type", "categories",
    "product_websites", "name", "description", "short_description", "weight",
    "product_online", "tax_class_name", "visibility", "price", "special_price",
    "special_price_from_date", "special_price_to_date", "url_key", "meta_title",
    "meta_keywords", "meta_description", "base_image", "base_image_label", "small_image",
    "thumbnail_image", "additional_attributes", "qty", "is_in_stock",
    "configurable_variations", "configurable_variation_labels", "additional_images",
    "additional_image_labels",
]  # fmt: skip
TODAY = date(2026, 6, 1)
CHILD = "Not Visible Individually"


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def product(sku: str, kind: str, name: str, **cells: str) -> dict[str, str]:
    return {
        "sku": sku,
        "attribute_set_code": "Default",
        "product_type": kind,
        "product_websites": "base",
        "name": name,
        "product_online": "1",
        "visibility": "Catalog, Search",
        "categories": "Default Category/Gear/Bags",
        **cells,
    }


@pytest.fixture
def export(tmp_path) -> Path:
    rows = [
        product(
            "TOTE", "configurable", "Canvas Tote", description="<p>Sturdy canvas.</p>",
            url_key="", price="30", base_image="/t/o/tote.jpg", base_image_label="Front",
            additional_images="/t/o/tote-side.jpg,/t/o/tote-in-use.jpg",
            additional_image_labels="Side,In use",
            additional_attributes="material=Canvas,manufacturer=Acme,climate=Dry|Wet",
            configurable_variations=(
                "sku=TOTE-S-Red,size=S,color=Red|sku=TOTE-L-Red,size=L,color=Red|"
                "sku=TOTE-XL-Red,size=XL,color=Red"
            ),
            configurable_variation_labels="size=Bag size,color=Colour",
        ),
        product(
            "TOTE-S-Red", "simple", "Canvas Tote-S-Red", visibility=CHILD, price="30",
            special_price="25", special_price_from_date="1/1/26", special_price_to_date="12/31/26",
            qty="5", weight="1.5", base_image="/t/o/tote-red.jpg",
            additional_attributes="size=S,color=Red,ean=4006381333931",
        ),
        product(
            "TOTE-L-Red", "simple", "Canvas Tote-L-Red", visibility=CHILD, price="34",
            special_price="20", special_price_to_date="1/31/26", qty="0",
            additional_attributes="size=L,color=Red",
        ),
        {"sku": "TOTE", "store_view_code": "de", "name": "Segeltuchtasche"},
        {"sku": "TOTE-L-Red", "store_view_code": "de", "name": "Segeltuchtasche-L-Rot"},
        product(
            "DUFFLE", "configurable", "Duffle", price="50",
            configurable_variations="sku=TOTE-S-Red,size=S,color=Red|sku=NOPE-1,size=M",
        ),
        product("EMPTY", "configurable", "Empty Shell", price="40"),
        {"sku": "EMPTY", "store_view_code": "fr", "name": "Coquille vide"},
        product("LOOSE", "simple", "Loose Strap", visibility=CHILD, price="8", url_key="strap"),
        product("MUG", "simple", "Mug", price="12", url_key="strap"),
        {"sku": "GONE", "store_view_code": "de", "name": "Weg"},
    ]  # fmt: skip
    return write(tmp_path / "catalog_product.csv", rows)


def assemble(path: Path, options: ProfileOptions | None = None):
    table = read_table(path)
    assembly = magento.assemble(table, options or ProfileOptions(), today=TODAY)
    return (
        table,
        assembly,
        validate_products(assembly.frame, table.frame, assembly.field_sources, path.name),
    )


def by_sku(result) -> dict:
    return {r["sku"]: r for r in result.valid.to_dict("records")}


def test_every_line_accounted_for_once(export):
    table, _, result = assemble(export)
    accepted = [x for t in result.valid["_source_lines"] for x in json.loads(t)]

    assert magento.detect(table.header)
    assert sorted(accepted + result.rejected["_source_line"].tolist()) == list(range(2, 13))


def test_configurable_with_labels_children_prices_and_handle_from_name(export):
    _, assembly, result = assemble(export)
    tote = result.valid[result.valid["handle"] == "canvas-tote"]

    assert tote["sku"].tolist() == ["TOTE-S-Red", "TOTE-L-Red"]
    assert set(tote["option1_name"]) == {"Bag size"} and set(tote["option2_name"]) == {"Colour"}
    assert tote["option1_value"].tolist() == ["S", "L"]
    skus = by_sku(result)
    # In its window, the special price is the price; past its end date, the regular one.
    assert (skus["TOTE-S-Red"]["price"], skus["TOTE-S-Red"]["compare_at_price"]) == (25.0, 30.0)
    assert skus["TOTE-L-Red"]["price"] == 34.0 and pd.isna(skus["TOTE-L-Red"]["compare_at_price"])
    assert skus["TOTE-S-Red"]["barcode"] == "4006381333931"
    assert skus["TOTE-S-Red"]["weight_grams"] == pytest.approx(680.389, abs=0.001)
    assert skus["TOTE-S-Red"]["vendor"] == "Acme"
    assert skus["TOTE-S-Red"]["product_type"] == "Bags"
    # Magento's image paths are relative to the store's media URL: without the
    # image_base_url option they are no URLs, so each is dropped and reported where it was.
    assert skus["TOTE-S-Red"]["image_src"] == "" and skus["TOTE-S-Red"]["images"] == "[]"
    attributes = json.loads(skus["TOTE-S-Red"]["attributes"])
    assert attributes["material"] == "Canvas" and attributes["climate"] == "Dry|Wet"
    assert attributes["name [de]"] == "Segeltuchtasche"
    assert json.loads(skus["TOTE-L-Red"]["attributes"])["name [de]"] == "Segeltuchtasche-L-Rot"
    warnings = json.loads(skus["TOTE-S-Red"]["warnings"])
    assert [w["check"] for w in warnings] == ["children_missing"] + ["image_url_refused"] * 4
    assert "TOTE-XL-Red" in warnings[0]["message"]
    assert [(w["line"], w["column"], w["value"]) for w in warnings[1:]] == [
        (3, "base_image", "/t/o/tote-red.jpg"),
        (2, "base_image", "/t/o/tote.jpg"),
        (2, "additional_images", "/t/o/tote-side.jpg"),
        (2, "additional_images", "/t/o/tote-in-use.jpg"),
    ]
    assert "image_base_url" in warnings[1]["message"]
    assert assembly.grouping.counts["store_view_rows"] == 3


def test_a_child_listed_by_two_parents_stays_with_the_first(export):
    _, _, result = assemble(export)
    duffle = result.valid[result.valid["handle"] == "duffle"]

    assert duffle.empty  # its only child stays with TOTE, NOPE-1 is not in the file
    reasons = dict(
        zip(
            result.rejected["_source_line"],
            [json.loads(t)[0] for t in result.rejected["errors"]],
            strict=True,
        )
    )
    assert reasons[7]["check"] == "configurable_without_children"
    assert "NOPE-1" in reasons[7]["message"]
    assert "'TOTE-S-Red' stays with 'TOTE'" in reasons[7]["message"]


def test_rows_that_make_no_product_say_why(export):
    _, _, result = assemble(export)
    checks = {
        int(line): json.loads(text)[0]["check"]
        for line, text in zip(
            result.rejected["_source_line"], result.rejected["errors"], strict=True
        )
    }

    assert checks == {
        7: "configurable_without_children",
        8: "configurable_without_children",
        9: "product_rejected",
        12: "store_view_without_default",
    }


def test_an_orphan_child_is_a_product_with_a_warning_and_handles_stay_unique(export):
    _, _, result = assemble(export)
    skus = by_sku(result)

    assert skus["LOOSE"]["handle"] == "strap" and skus["MUG"]["handle"] == "strap-2"
    assert json.loads(skus["LOOSE"]["warnings"])[0]["check"] == "child_without_parent"


def test_image_base_url_makes_urls_and_weight_unit_can_be_set(export):
    options = ProfileOptions(image_base_url="https://shop.example/media/catalog/product/",
                             weight_unit="kg")  # fmt: skip
    _, _, result = assemble(export, options)
    red = by_sku(result)["TOTE-S-Red"]

    assert red["image_src"] == "https://shop.example/media/catalog/product/t/o/tote-red.jpg"
    images = json.loads(red["images"])
    assert [(i["src"].rsplit("/", 1)[1], i["alt"]) for i in images[:3]] == [
        ("tote.jpg", "Front"),
        ("tote-side.jpg", "Side"),
        ("tote-in-use.jpg", "In use"),
    ]
    assert "image_url_refused" not in red["warnings"]
    assert red["weight_grams"] == 1500.0
