"""WooCommerce exports as the built-in exporter documents them, on small files written here.

The shared real exports (``test_platform_datasets.py``) have no ``id:NN`` parents, no
``Attribute N default`` column, no scheduled sales and no broken structures; these
tests cover them, and each structure that cannot make a product gets its own reason.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.platforms import woocommerce
from structr_pipeline.core.connectors.platforms.assembly import SourceRows
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.mapping.profiles import ProfileOptions
from structr_pipeline.core.validation import validate_products

# The exporter's default columns (WooCommerce 9.x), in its order.
HEADER = [
    "ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published", "Is featured?",
    "Visibility in catalog", "Short description", "Description", "Date sale price starts",
    "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock",
    "Low stock amount", "Backorders allowed?", "Sold individually?", "Weight (kg)",
    "Length (cm)", "Width (cm)", "Height (cm)", "Allow customer reviews?", "Purchase note",
    "Sale price", "Regular price", "Categories", "Tags", "Shipping class", "Images",
    "Download limit", "Download expiry days", "Parent", "Grouped products", "Upsells",
    "Cross-sells", "External URL", "Button text", "Position", "Brands",
    "Attribute 1 name", "Attribute 1 value(s)", "Attribute 1 visible", "Attribute 1 global",
    "Attribute 1 default", "Attribute 2 name", "Attribute 2 value(s)", "Attribute 2 visible",
    "Attribute 2 global", "Attribute 2 default",
]  # fmt: skip
TODAY = date(2026, 6, 1)


def write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(**cells: str) -> dict[str, str]:
    base = {"Published": "1", "In stock?": "1", "Visibility in catalog": "visible"}
    return {**base, **{k.replace("_", " "): v for k, v in cells.items()}}


def woo(id_: str, type_: str, sku: str, name: str, **cells: str) -> dict[str, str]:
    return {**row(**cells), "ID": id_, "Type": type_, "SKU": sku, "Name": name}


def attr(n: int, name: str, values: str, default: str = "") -> dict[str, str]:
    return {
        f"Attribute {n} name": name,
        f"Attribute {n} value(s)": values,
        f"Attribute {n} visible": "1",
        f"Attribute {n} global": "1",
        f"Attribute {n} default": default,
    }


def assemble(path: Path):
    table = read_table(path)
    assembly = woocommerce.assemble(table, ProfileOptions(), today=TODAY)
    result = validate_products(assembly.frame, table.frame, assembly.field_sources, path.name)
    return table, assembly, result


@pytest.fixture
def shop(tmp_path) -> Path:
    """A variable tee (parent by id:NN, a default), a sale that ended, a scheduled one,
    a combined type, an external product, and every broken structure."""
    rows = [
        woo(
            "10", "variable", "tee", "Linen Tee",
            Description="Soft linen.\\nCut loose.", Categories="Clothing > Tops, Sale",
            Images="https://img.example/tee.jpg, https://img.example/tee-back.jpg",
            **{"Weight (kg)": "0.2", "Tags": "linen, summer"},
            **attr(1, "Color", "Blue, Sand", default="Sand"), **attr(2, "Size", "S, M"),
        ),
        woo(
            "11", "variation", "tee-blue-s", "Linen Tee - Blue, S", Parent="id:10",
            **{"Regular price": "30", "Sale price": "24", "Stock": "4",
               "Images": "https://img.example/tee-blue.jpg", "Position": "1",
               "GTIN, UPC, EAN, or ISBN": "4006381333931"},
            **attr(1, "Color", "Blue"), **attr(2, "Size", "S"),
        ),
        woo(
            "12", "variation", "tee-sand-m", "Linen Tee - Sand, M", Parent="tee",
            **{"Regular price": "30", "Position": "2", "Stock": "0"},
            **attr(1, "Color", "Sand"), **attr(2, "Size", "M"),
        ),
        woo(
            "13", "variation", "tee-sand-m-2", "Linen Tee - Sand, M", Parent="tee",
            **{"Regular price": "31", "Position": "3"},
            **attr(1, "Color", "Sand"), **attr(2, "Size", "M"),
        ),
        woo(
            "20", "simple, downloadable, virtual", "ebook", "Care Guide",
            **{"Regular price": "9", "Sale price": "5", "Date sale price ends": "2026-01-31"},
        ),
        woo(
            "21", "simple", "mug", "Mug",
            **{"Regular price": "12", "Sale price": "10", "Date sale price starts": "2026-09-01"},
        ),
        woo(
            "22", "external", "pennant", "Pennant",
            **{"Regular price": "11.05", "External URL": "https://example.org/pennant",
               "Button text": "Buy at the partner"},
        ),
        woo("30", "variation", "ghost-red", "Ghost - Red", Parent="ghost",
            **{"Regular price": "5"}, **attr(1, "Color", "Red")),
        woo("31", "variation", "mug-red", "Mug - Red", Parent="mug",
            **{"Regular price": "5"}, **attr(1, "Color", "Red")),
        woo("40", "variable", "scarf", "Scarf", **attr(1, "Color", "Red, Blue")),
        woo("50", "grouped", "set", "Tea Set", **{"Grouped products": "mug, pennant"}),
        woo("51", "grouped", "lost-set", "Lost Set", **{"Grouped products": "nothing-here"}),
    ]  # fmt: skip
    return write(tmp_path / "wc-product-export.csv", rows)


def by_sku(result) -> dict:
    return {r["sku"]: r for r in result.valid.to_dict("records")}


def test_detected_and_every_line_accounted_for_once(shop):
    table, assembly, result = assemble(shop)

    assert woocommerce.detect(table.header)
    rows = SourceRows(table)
    assert all(n == 1 for n in accounted_lines(assembly, rows).values())
    accepted = [x for t in result.valid["_source_lines"] for x in json.loads(t)]
    assert sorted(accepted + result.rejected["_source_line"].tolist()) == list(range(2, 14))


def accounted_lines(assembly, rows):
    lines = [x for t in assembly.frame["_source_lines"] for x in json.loads(t)]
    counted = {line: lines.count(line) for line in lines}
    assert set(counted) == {line for line, _ in rows}
    return counted


def test_variable_product_by_id_and_sku_with_default_first_and_options(shop):
    _, assembly, result = assemble(shop)
    tee = result.valid[result.valid["handle"] == "linen-tee"]

    # Attribute 1 default = Sand: the Sand variations first, each group by Position.
    assert tee["sku"].tolist() == ["tee-sand-m", "tee-sand-m-2", "tee-blue-s"]
    assert set(tee["option1_name"]) == {"Color"} and set(tee["option2_name"]) == {"Size"}
    assert tee["title"].unique().tolist() == ["Linen Tee"]
    assert tee["product_type"].unique().tolist() == ["Tops"]
    assert tee["tags"].iloc[0] == "linen, summer"
    assert tee["description_html"].iloc[0].count("\n") == 1  # the exporter's \n undone
    assert tee["weight_grams"].tolist() == [200.0, 200.0, 200.0]  # inherited, kg → g
    blue = by_sku(result)["tee-blue-s"]
    assert (blue["price"], blue["compare_at_price"], blue["inventory_qty"]) == (24.0, 30.0, 4)
    assert blue["barcode"] == "4006381333931"
    assert blue["image_src"] == "https://img.example/tee-blue.jpg"
    images = [i["src"] for i in json.loads(blue["images"])]
    assert images[:2] == ["https://img.example/tee.jpg", "https://img.example/tee-back.jpg"]
    assert "https://img.example/tee-blue.jpg" in images
    assert assembly.grouping.counts["variations"] == 3


def test_repeated_options_are_warned_on_the_repeat(shop):
    _, _, result = assemble(shop)
    warnings = json.loads(by_sku(result)["tee-sand-m-2"]["warnings"])

    assert [w["check"] for w in warnings] == ["variant_options_repeated"]
    assert "Sand / M" in warnings[0]["message"]


def test_sale_prices_follow_their_dates(shop):
    _, _, result = assemble(shop)
    skus = by_sku(result)

    # Ended on 2026-01-31 and starting 2026-09-01: neither is on sale on 2026-06-01.
    assert skus["ebook"]["price"] == 9.0 and pd.isna(skus["ebook"]["compare_at_price"])
    assert skus["mug"]["price"] == 12.0 and pd.isna(skus["mug"]["compare_at_price"])


def test_combined_types_and_external_products_are_products(shop):
    _, _, result = assemble(shop)
    skus = by_sku(result)

    assert skus["ebook"]["title"] == "Care Guide"
    pennant = json.loads(skus["pennant"]["attributes"])
    assert pennant["External URL"] == "https://example.org/pennant"


def test_grouped_product_tags_its_products_and_has_no_price(shop):
    _, _, result = assemble(shop)
    skus = by_sku(result)

    assert "Tea Set" in skus["mug"]["tags"] and "Tea Set" in skus["pennant"]["tags"]
    assert json.loads(skus["mug"]["attributes"])["Grouped in"] == "Tea Set"
    assert "set" not in skus


def test_structures_that_make_no_product_are_rejected_with_their_reason(shop):
    _, _, result = assemble(shop)
    reasons = {
        int(line): json.loads(text)[0]
        for line, text in zip(
            result.rejected["_source_line"], result.rejected["errors"], strict=True
        )
    }

    assert {line: r["check"] for line, r in reasons.items()} == {
        9: "variation_parent_missing",
        10: "variation_parent_not_variable",
        11: "variable_without_variations",
        13: "grouped_without_products",
    }
    assert (
        reasons[9]["column"] == "Parent" and "'ghost' is not in this file" in reasons[9]["message"]
    )
    assert "is a simple product" in reasons[10]["message"]
    assert "has no variations in this file" in reasons[11]["message"]
    assert "nothing-here" in reasons[13]["message"]


def test_the_registry_routes_the_file_and_a_profile_can_force_generic(shop, tmp_path):
    from structr_pipeline.core.mapping.profiles import MappingProfile

    table = read_table(shop)
    assert map_source_frame(table.frame, shop.name).source_format == "woocommerce"
    generic = MappingProfile("plain", {}, ProfileOptions(format="generic"))
    assert map_source_frame(table.frame, shop.name, generic).source_format == "profile"


def test_a_variation_leaving_an_attribute_open_on_some_variations_says_so(tmp_path):
    path = write(
        tmp_path / "open.csv",
        [
            woo("1", "variable", "cap", "Cap", **attr(1, "Color", "Red, Blue"),
                **attr(2, "Size", "S, M")),
            woo("2", "variation", "cap-red", "Cap - Red", Parent="cap",
                **{"Regular price": "10"}, **attr(1, "Color", "Red"), **attr(2, "Size", "")),
            woo("3", "variation", "cap-blue-m", "Cap - Blue, M", Parent="cap",
                **{"Regular price": "10"}, **attr(1, "Color", "Blue"), **attr(2, "Size", "M")),
        ],
    )  # fmt: skip
    _, _, result = assemble(path)
    red = by_sku(result)["cap-red"]

    assert red["option2_value"] == "Any Size"
    assert json.loads(red["warnings"])[0]["check"] == "variation_any_value"
