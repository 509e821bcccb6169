"""The shared real WooCommerce and Magento exports come out as the products the store holds.

Each file goes through the core pipeline (``read_table`` → ``map_source_frame`` →
``validate_products``, no Dagster). The expected products and the variants of each are
worked out here from the raw file with the stdlib ``csv`` module, by the platform's own
rules as its documentation states them (a WooCommerce ``variation`` row names its
parent's SKU or ``id:NN`` in ``Parent``; a Magento ``configurable`` row lists its
children's SKUs in ``configurable_variations``), never with the package's code. A
product is found in the output by the source line of its own row: every output row
lists the lines it accounts for. Then ``shopify_import.csv`` is written and imported
again, and must give the same products.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.registry import SourceMapping, map_source_frame
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.csv_reading import SourceTable, read_table
from structr_pipeline.core.fields import CANONICAL_FIELDS, IMAGES
from structr_pipeline.core.validation import ValidationResult, validate_products

WOO_EXPORT = "woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv"
WOO_SAMPLE = "woocommerce-sample-products/sample_products.csv"
CLASSIC_SAMPLE = "classic-commerce-sample-products/sample_products.csv"
MAGENTO = "magento2-sample-data/products.csv"
MAGENTO_INSTALLER = tuple(
    f"magento2-sample-data/{name}.csv"
    for name in (
        "products_gear_bags",
        "products_gear_fitness_equipment",
        "products_gear_fitness_equipment_ball",
        "products_gear_fitness_equipment_strap",
        "products_gear_watches",
    )
)
WOO_FILES = (WOO_EXPORT, WOO_SAMPLE, CLASSIC_SAMPLE)
ALL_FILES = (*WOO_FILES, MAGENTO, *MAGENTO_INSTALLER)


@dataclass(frozen=True)
class Expected:
    """What the store holds: product line → its variants' SKUs, and lines that make none."""

    variants: dict[int, list[str]]
    # Source lines that cannot make a product, each with the check that says why.
    rejected: dict[int, str]
    rows: int


def raw_records(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(physical line the record starts on, its cells) for every record after the header."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames  # reads the header, so line_num counts from it
        out = []
        line = reader.line_num + 1
        for record in reader:
            out.append((line, {k: (v or "").strip() for k, v in record.items()}))
            line = reader.line_num + 1
        return out


def woo_expected(path: Path) -> Expected:
    """WooCommerce: simple and external rows sell themselves, variable rows through their
    variations, grouped rows are folded into their products; a simple row with no
    regular price cannot be sold."""
    records = raw_records(path)
    kinds = {line: {k.strip() for k in r["Type"].split(",")} for line, r in records}
    by_sku, by_id = {}, {}
    for line, r in records:
        if "variation" not in kinds[line]:
            by_sku.setdefault(r["SKU"], line) if r["SKU"] else None
            by_id.setdefault(r["ID"], line)
    children: dict[int, list[str]] = {}
    rejected: dict[int, str] = {}
    for line, r in records:
        if "variation" not in kinds[line]:
            continue
        parent = r["Parent"]
        target = by_id.get(parent[3:]) if parent.startswith("id:") else by_sku.get(parent)
        if target is None:
            rejected[line] = "variation_parent_missing"
        else:
            children.setdefault(target, []).append(r["SKU"])
    variants: dict[int, list[str]] = {}
    for line, r in records:
        if kinds[line] & {"variation", "grouped"}:
            continue
        if "variable" in kinds[line]:
            if line in children:
                variants[line] = children[line]
            else:
                rejected[line] = "variable_without_variations"
        elif not r["Regular price"]:
            rejected[line] = "required"
        else:
            variants[line] = [r["SKU"]]
    return Expected(variants, rejected, len(records))


def magento_expected(path: Path) -> Expected:
    """Magento: a configurable row with its listed children as variants; every other row
    (a simple product no configurable lists) is a product of its own."""
    records = raw_records(path)
    line_of = {r["sku"]: line for line, r in records if not r.get("store_view_code")}
    variants: dict[int, list[str]] = {}
    children: set[str] = set()
    for line, r in records:
        if r.get("product_type") == "configurable":
            listed = [
                part.split(",")[0].removeprefix("sku=")
                for part in r["configurable_variations"].split("|")
                if part
            ]
            variants[line] = [sku for sku in listed if sku in line_of]
            children.update(variants[line])
    for line, r in records:
        if r.get("product_type") != "configurable" and r["sku"] not in children:
            variants[line] = [r["sku"]]
    return Expected(variants, {}, len(records))


@dataclass(frozen=True)
class Run:
    """The core pipeline's output for one file."""

    table: SourceTable
    mapping: SourceMapping
    result: ValidationResult


def run_pipeline(path: Path) -> Run:
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    return Run(
        table,
        mapping,
        validate_products(mapping.frame, table.frame, mapping.field_sources, path.name),
    )


_RUNS: dict[Path, Run] = {}


def run_of(path: Path) -> Run:
    if path not in _RUNS:
        _RUNS[path] = run_pipeline(path)
    return _RUNS[path]


def expected_of(name: str, path: Path) -> Expected:
    return woo_expected(path) if name in WOO_FILES else magento_expected(path)


def products_by_line(valid: pd.DataFrame) -> dict[int, list[str]]:
    """Each output product under every source line it accounts for → its variants' SKUs."""
    out: dict[int, list[str]] = {}
    for _, rows in valid.groupby("handle", sort=False):
        skus = rows["sku"].tolist()
        for text in rows["_source_lines"]:
            for line in json.loads(text):
                out[line] = skus
    return out


@pytest.mark.parametrize("name", ALL_FILES, ids=[Path(n).name for n in ALL_FILES])
def test_products_and_variants_are_the_stores(datasets_dir, name):
    path = datasets_dir / name
    expected = expected_of(name, path)
    run = run_of(path)
    valid = run.result.valid
    found = products_by_line(valid)

    assert valid["handle"].nunique() == len(expected.variants)
    assert len(valid) == sum(len(v) for v in expected.variants.values())
    for line, skus in expected.variants.items():
        assert sorted(found[line]) == sorted(skus), f"{name}, product on line {line}"
    assert run.mapping.grouping.rows == expected.rows


@pytest.mark.parametrize("name", ALL_FILES, ids=[Path(n).name for n in ALL_FILES])
def test_every_line_is_accounted_for_once_and_rejections_say_why(datasets_dir, name):
    path = datasets_dir / name
    expected = expected_of(name, path)
    run = run_of(path)
    accepted = [line for text in run.result.valid["_source_lines"] for line in json.loads(text)]
    rejected = run.result.rejected["_source_line"].tolist()

    assert Counter(accepted + rejected) == Counter(run.table.frame["_source_line"].tolist())
    checks = {
        int(line): json.loads(text)[0]["check"]
        for line, text in zip(
            run.result.rejected["_source_line"], run.result.rejected["errors"], strict=True
        )
    }
    assert checks == expected.rejected


@pytest.mark.parametrize("name", ALL_FILES, ids=[Path(n).name for n in ALL_FILES])
def test_shopify_import_csv_reimports_to_the_same_products(datasets_dir, tmp_path, name):
    first = run_of(datasets_dir / name).result.valid
    exported = tmp_path / "shopify_import.csv"
    write_shopify_csv(first, exported)
    second = run_pipeline(exported)

    assert second.mapping.source_format == "shopify_current"
    assert len(second.result.rejected) == 0
    columns = [*CANONICAL_FIELDS, IMAGES]
    pd.testing.assert_frame_equal(
        second.result.valid[columns].reset_index(drop=True),
        first[columns].reset_index(drop=True),
    )


def test_woocommerce_export_detected_and_grouped(datasets_dir):
    mapping = run_of(datasets_dir / WOO_EXPORT).mapping

    assert mapping.source_format == "woocommerce"
    assert mapping.grouping.counts["variations"] == 28
    assert mapping.grouping.counts["variable"] == 2
    assert mapping.grouping.counts["variable_without_variations"] == 10
    assert "28 variations under 2 variable products" in mapping.grouping.sentence()


def test_woocommerce_variable_product_takes_options_prices_and_images_from_its_levels(
    datasets_dir,
):
    valid = run_of(datasets_dir / WOO_SAMPLE).result.valid
    hoodie = valid[valid["handle"] == "hoodie"].set_index("sku")

    assert hoodie["title"].unique().tolist() == ["Hoodie"]
    assert hoodie["option1_name"].unique().tolist() == ["Color"]
    assert hoodie["option2_name"].unique().tolist() == ["Logo"]
    assert hoodie.loc["woo-hoodie-red", ["option1_value", "option2_value"]].tolist() == [
        "Red",
        "No",
    ]
    # Sale price 42 under a regular 45: the storefront price, the regular one struck through.
    assert hoodie.loc["woo-hoodie-red", "price"] == 42.0
    assert hoodie.loc["woo-hoodie-red", "compare_at_price"] == 45.0
    assert hoodie.loc["woo-hoodie-blue", "image_src"].endswith("hoodie-blue-1.jpg")
    # The parent's description and its image list are shared by the variants.
    images = json.loads(hoodie["images"].iloc[0])
    assert len(images) == 4 and hoodie["description_html"].nunique() == 1
    # The parent's own weight (Weight (lbs) = 1.5) is the variations' weight, in grams.
    assert hoodie["weight_grams"].round(3).unique().tolist() == [680.389]


def test_woocommerce_variation_leaving_an_attribute_open_drops_it_from_the_options(datasets_dir):
    valid = run_of(datasets_dir / WOO_SAMPLE).result.valid
    tee = valid[valid["handle"] == "v-neck-t-shirt"]

    assert tee["option1_name"].unique().tolist() == ["Color"]
    assert tee["option2_name"].unique().tolist() == [""]
    assert json.loads(tee["attributes"].iloc[0])["Size (any)"] == "Large, Medium, Small"


def test_woocommerce_grouped_product_is_a_tag_on_the_products_it_groups(datasets_dir):
    valid = run_of(datasets_dir / WOO_SAMPLE).result.valid
    tagged = valid[valid["tags"].str.contains("Logo Collection")]

    assert sorted(tagged["sku"]) == ["woo-beanie", "woo-hoodie-with-logo", "woo-tshirt"]
    assert "Logo Collection" not in valid["title"].tolist()


def test_magento_configurable_takes_options_and_child_prices(datasets_dir):
    valid = run_of(datasets_dir / MAGENTO).result.valid
    hoodie = valid[valid["sku"].str.startswith("MH01-")]

    assert hoodie["handle"].unique().tolist() == ["chaz-kangeroo-hoodie"]
    assert hoodie["title"].unique().tolist() == ["Chaz Kangeroo Hoodie"]
    assert (hoodie["option1_name"].unique().tolist(), hoodie["option2_name"].unique().tolist()) == (
        ["Size"],
        ["Color"],
    )
    first = hoodie.iloc[0]
    assert (first["sku"], first["option1_value"], first["option2_value"]) == (
        "MH01-XS-Black",
        "XS",
        "Black",
    )
    assert hoodie["price"].unique().tolist() == [52.0]
    # Relative media paths are no image URLs without the image_base_url option.
    assert first["image_src"] == "" and first["images"] == "[]"
    refused = [w for w in json.loads(first["warnings"]) if w["check"] == "image_url_refused"]
    assert ("base_image", "/m/h/mh01-black_main.jpg") in [
        (w["column"], w["value"]) for w in refused
    ]
    assert json.loads(first["attributes"])["material"] == "Wool"
