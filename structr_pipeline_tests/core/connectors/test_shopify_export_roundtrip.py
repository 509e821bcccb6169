"""``shopify_import.csv`` read back: exporting a catalog and importing it again keeps it.

Every Shopify CSV of the shared datasets, and ``samples/shopify_sample.csv``, goes through
the core pipeline (``read_table`` → ``map_source_frame`` → ``validate_products``); its
valid rows are written with ``write_shopify_csv`` and the written file goes through the
pipeline again. The two valid frames must agree on the canonical fields, the images and
the attributes. Focused tests on small CSVs written to ``tmp_path`` then cover the
current header set as input, formula escaping, number formatting and the Option columns.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.registry import SourceMapping, map_source_frame
from structr_pipeline.core.connectors.shopify_export import (
    format_money,
    format_number,
    write_shopify_csv,
)
from structr_pipeline.core.connectors.shopify_spec import CURRENT_HEADER
from structr_pipeline.core.csv_reading import SourceTable, read_table
from structr_pipeline.core.fields import CANONICAL_FIELDS, IMAGES
from structr_pipeline.core.validation import ValidationResult, validate_products

SAMPLE = "samples/shopify_sample.csv"
DATASET_FILES: tuple[str, ...] = (
    "shopifypartners-product-csvs/apparel.csv",
    "shopifypartners-product-csvs/home-and-garden.csv",
    "shopifypartners-product-csvs/jewelery.csv",
    "shopify-product-template/product_template.csv",
    "levinmejia-shopify-product-csvs/Apparel.csv",
    "levinmejia-shopify-product-csvs/Bicycles.csv",
    "levinmejia-shopify-product-csvs/Fashion.csv",
    "levinmejia-shopify-product-csvs/SnowDevil.csv",
    "levinmejia-shopify-product-csvs/jewelry.csv",
)

COMPARED_FIELDS: tuple[str, ...] = (*CANONICAL_FIELDS, IMAGES)


@dataclass(frozen=True)
class Run:
    """The core pipeline's output for one file."""

    table: SourceTable
    mapping: SourceMapping
    result: ValidationResult


@dataclass(frozen=True)
class Roundtrip:
    """A file's first import, the exported ``shopify_import.csv`` and its second import."""

    first: Run
    exported: Path
    rows_written: int
    second: Run


def run_pipeline(path: Path) -> Run:
    """``read_table`` → ``map_source_frame`` → ``validate_products``."""
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    return Run(table, mapping, result)


_ROUNDTRIPS: dict[Path, Roundtrip] = {}


def roundtrip_of(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Roundtrip:
    """Import ``source``, export ``shopify_import.csv``, import that (cached per file)."""
    if source not in _ROUNDTRIPS:
        first = run_pipeline(source)
        exported = tmp_path_factory.mktemp(source.stem) / "shopify_import.csv"
        written = write_shopify_csv(first.result.valid, exported)
        _ROUNDTRIPS[source] = Roundtrip(first, exported, written, run_pipeline(exported))
    return _ROUNDTRIPS[source]


ALL_FILES = [pytest.param(name, id=Path(name).name) for name in (SAMPLE, *DATASET_FILES)]


@pytest.fixture
def roundtrip(request, tmp_path_factory) -> Roundtrip:
    """The round trip of the file named by the test's ``source`` parameter."""
    name = request.node.callspec.params["source"]
    if name == SAMPLE:
        path = request.getfixturevalue("sample_csv")
    else:
        path = request.getfixturevalue("datasets_dir") / name
    return roundtrip_of(path, tmp_path_factory)


def comparable(valid: pd.DataFrame) -> pd.DataFrame:
    """The canonical fields and images, plus the attributes parsed into dicts."""
    frame = valid.reset_index(drop=True)
    out = frame[list(COMPARED_FIELDS)].copy()
    out["attributes"] = [json.loads(text) for text in frame["attributes"]]
    return out


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_exported(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    return list(reader.fieldnames or []), rows


# --- every file: export and import again ------------------------------------------------


@pytest.mark.parametrize("source", ALL_FILES)
def test_reimport_gives_the_same_catalog(roundtrip, source):
    first = comparable(roundtrip.first.result.valid)
    second = comparable(roundtrip.second.result.valid)

    assert len(first) > 0
    pd.testing.assert_frame_equal(second, first)


@pytest.mark.parametrize("source", ALL_FILES)
def test_exported_header_starts_with_shopifys_current_header(roundtrip, source):
    header, rows = read_exported(roundtrip.exported)

    assert header[: len(CURRENT_HEADER)] == list(CURRENT_HEADER)
    assert len(header) == len(set(header))
    assert len(rows) == roundtrip.rows_written
    assert roundtrip.second.table.header == header


@pytest.mark.parametrize("source", ALL_FILES)
def test_reimport_rejects_nothing_and_accounts_for_every_exported_row(roundtrip, source):
    second = roundtrip.second

    assert len(second.result.rejected) == 0
    assert len(second.result.valid) == len(roundtrip.first.result.valid)
    lines = [line for text in second.result.valid["_source_lines"] for line in json.loads(text)]
    assert len(second.table.frame) == roundtrip.rows_written
    assert len(lines) == len(set(lines)) == roundtrip.rows_written
    assert set(lines) == set(second.table.frame["_source_line"])


@pytest.mark.parametrize("source", ALL_FILES)
def test_reimport_is_recognised_as_the_current_header_set(roundtrip, source):
    mapping = map_source_frame(roundtrip.second.table.frame, roundtrip.exported.name)

    assert mapping.source_format == "shopify_current"


@pytest.mark.parametrize(
    "body",
    [
        '<meta charset="utf-8">\n<p>Soft cotton.</p>',
        "<p>Soft cotton.</p>\n<script>alert(1)</script>",
        '<p>Soft.</p> <iframe src="https://example.com/v"></iframe> <p>Cotton.</p>',
    ],
    ids=["leading-meta", "trailing-script", "inner-iframe"],
)
def test_reimport_keeps_a_description_whose_markup_was_removed(tmp_path, body):
    source = write_csv(
        tmp_path / "description.csv",
        ["Handle", "Title", "Body (HTML)", "Variant Price"],
        [{"Handle": "tee", "Title": "Tee", "Body (HTML)": body, "Variant Price": "10"}],
    )
    first = run_pipeline(source).result.valid
    path = tmp_path / "shopify_import.csv"
    write_shopify_csv(first, path)
    second = run_pipeline(path).result.valid

    assert second["description_html"].tolist() == first["description_html"].tolist()


# --- a file in the current header set ---------------------------------------------------

CURRENT_COLUMNS = [
    "Title",
    "URL handle",
    "Description",
    "Vendor",
    "Product category",
    "Type",
    "Tags",
    "Published on online store",
    "Status",
    "SKU",
    "Barcode",
    "Option1 name",
    "Option1 value",
    "Option2 name",
    "Option2 value",
    "Price",
    "Compare-at price",
    "Inventory quantity",
    "Weight value (grams)",
    "Product image URL",
    "Image position",
    "Image alt text",
    "Variant image URL",
    "SEO title",
    "SEO description",
    "Price / United States",
    "Color (product.metafields.shopify.color-pattern)",
]
# The legacy spelling of each current column above (the last two have only one).
LEGACY_COLUMNS = {
    "Title": "Title",
    "URL handle": "Handle",
    "Description": "Body (HTML)",
    "Vendor": "Vendor",
    "Product category": "Product Category",
    "Type": "Type",
    "Tags": "Tags",
    "Published on online store": "Published",
    "Status": "Status",
    "SKU": "Variant SKU",
    "Barcode": "Variant Barcode",
    "Option1 name": "Option1 Name",
    "Option1 value": "Option1 Value",
    "Option2 name": "Option2 Name",
    "Option2 value": "Option2 Value",
    "Price": "Variant Price",
    "Compare-at price": "Variant Compare At Price",
    "Inventory quantity": "Variant Inventory Qty",
    "Weight value (grams)": "Variant Grams",
    "Product image URL": "Image Src",
    "Image position": "Image Position",
    "Image alt text": "Image Alt Text",
    "Variant image URL": "Variant Image",
    "SEO title": "SEO Title",
    "SEO description": "SEO Description",
    "Price / United States": "Price / United States",
    "Color (product.metafields.shopify.color-pattern)": (
        "Color (product.metafields.shopify.color-pattern)"
    ),
}
METAFIELD = "Color (product.metafields.shopify.color-pattern)"
MARKET_PRICE = "Price / United States"
CURRENT_ROWS = [
    {
        "Title": "Linen Shirt",
        "URL handle": "linen-shirt",
        "Description": "<p>Breezy linen.</p>",
        "Vendor": "Acme",
        "Product category": "Apparel & Accessories > Clothing > Shirts & Tops",
        "Type": "Shirts",
        "Tags": "linen, summer",
        "Published on online store": "TRUE",
        "Status": "active",
        "SKU": "LS-S",
        "Barcode": "036000291452",
        "Option1 name": "Size",
        "Option1 value": "S",
        "Option2 name": "Color",
        "Option2 value": "Blue",
        "Price": "29.90",
        "Compare-at price": "39.00",
        "Inventory quantity": "5",
        "Weight value (grams)": "180",
        "Product image URL": "https://img.example.com/linen-front.jpg",
        "Image position": "1",
        "Image alt text": "Front",
        "Variant image URL": "https://img.example.com/linen-front.jpg",
        "SEO title": "Linen shirt",
        "SEO description": "A light linen shirt",
        MARKET_PRICE: "31.00",
        METAFIELD: "blue",
    },
    {
        "URL handle": "linen-shirt",
        "SKU": "LS-M",
        "Option1 value": "M",
        "Option2 value": "Blue",
        "Price": "29.90",
        "Inventory quantity": "-3",
        "Weight value (grams)": "190",
        "Product image URL": "https://img.example.com/linen-back.jpg",
        "Image position": "2",
        "Image alt text": "Back",
        MARKET_PRICE: "32.50",
    },
    {
        "URL handle": "linen-shirt",
        "Product image URL": "https://img.example.com/linen-detail.jpg",
        "Image position": "3",
        "Image alt text": "Detail",
    },
]


@pytest.fixture
def current_csv(tmp_path) -> Path:
    """One product in the current header set: two variants and an image-only row."""
    return write_csv(tmp_path / "current.csv", CURRENT_COLUMNS, CURRENT_ROWS)


@pytest.fixture
def legacy_csv(tmp_path) -> Path:
    """The same product in the legacy header set."""
    rows = [{LEGACY_COLUMNS[k]: v for k, v in row.items()} for row in CURRENT_ROWS]
    return write_csv(tmp_path / "legacy.csv", [LEGACY_COLUMNS[c] for c in CURRENT_COLUMNS], rows)


def test_current_header_set_maps_two_variants_and_folds_the_image_row(current_csv):
    run = run_pipeline(current_csv)
    valid = run.result.valid

    assert len(run.result.rejected) == 0
    assert run.mapping.image_rows == 1
    assert valid["sku"].tolist() == ["LS-S", "LS-M"]
    assert valid["title"].tolist() == ["Linen Shirt", "Linen Shirt"]
    assert valid["vendor"].tolist() == ["Acme", "Acme"]
    assert valid["option1_name"].tolist() == ["Size", "Size"]
    assert valid["option2_name"].tolist() == ["Color", "Color"]
    assert valid["inventory_qty"].tolist() == [5, -3]
    assert valid["barcode"].tolist() == ["036000291452", ""]
    assert [json.loads(t) for t in valid["_source_lines"]] == [[2, 4], [3]]
    images = json.loads(valid["images"].iat[0])
    assert [(i["src"].rsplit("/", 1)[1], i["position"], i["alt"]) for i in images] == [
        ("linen-front.jpg", 1, "Front"),
        ("linen-back.jpg", 2, "Back"),
        ("linen-detail.jpg", 3, "Detail"),
    ]
    assert run.mapping.field_sources["handle"] == "URL handle"
    assert run.mapping.field_sources["image_src"] == "Variant image URL"


def test_current_header_set_keeps_market_price_per_variant_and_inherits_metafield(current_csv):
    valid = run_pipeline(current_csv).result.valid
    attributes = [json.loads(text) for text in valid["attributes"]]

    assert [a[MARKET_PRICE] for a in attributes] == ["31.00", "32.50"]
    assert [a[METAFIELD] for a in attributes] == ["blue", "blue"]
    assert [a["Published on online store"] for a in attributes] == ["TRUE", "TRUE"]


def test_current_header_set_is_mapped_like_the_legacy_one(current_csv, legacy_csv):
    current = run_pipeline(current_csv)
    legacy = run_pipeline(legacy_csv)

    assert legacy.mapping.source_format == "shopify_legacy"
    assert len(legacy.result.rejected) == 0
    pd.testing.assert_frame_equal(comparable(current.result.valid), comparable(legacy.result.valid))


def test_current_header_set_is_recognised_as_current(current_csv):
    table = read_table(current_csv)

    assert map_source_frame(table.frame, current_csv.name).source_format == "shopify_current"


# --- formula escaping -------------------------------------------------------------------

FORMULA_HEADER = [
    "Handle",
    "Title",
    "Tags",
    "Variant SKU",
    "Variant Price",
    "Variant Inventory Qty",
]
FORMULA_ROWS = [
    {
        "Handle": "sum-mug",
        "Title": "=1+2",
        "Tags": "+new",
        "Variant SKU": "@mug",
        "Variant Price": "5",
        "Variant Inventory Qty": "-3",
    }
]


@pytest.fixture
def formula_export(tmp_path) -> Path:
    source = write_csv(tmp_path / "formula.csv", FORMULA_HEADER, FORMULA_ROWS)
    run = run_pipeline(source)
    assert len(run.result.rejected) == 0
    path = tmp_path / "shopify_import.csv"
    write_shopify_csv(run.result.valid, path)
    return path


def test_export_escapes_cells_a_spreadsheet_would_run_as_formulas(formula_export):
    _, (row,) = read_exported(formula_export)

    assert row["Title"] == "'=1+2"
    assert row["Tags"] == "'+new"
    assert row["SKU"] == "'@mug"


def test_export_leaves_negative_numbers_unescaped(formula_export):
    _, (row,) = read_exported(formula_export)

    assert row["Inventory quantity"] == "-3"
    assert row["Price"] == "5.00"


def test_reimport_of_escaped_cells_gives_back_the_original_text(formula_export):
    valid = run_pipeline(formula_export).result.valid

    assert valid["title"].tolist() == ["=1+2"]
    assert valid["tags"].tolist() == ["+new"]
    assert valid["sku"].tolist() == ["@mug"]


# --- number formatting ------------------------------------------------------------------


def test_export_writes_money_with_two_to_four_decimals_and_whole_weights_bare(tmp_path):
    header = ["Handle", "Title", "Option1 Name", "Option1 Value", "Variant Price"]
    header += ["Variant Compare At Price", "Cost per item", "Variant Grams"]
    rows = [
        {"Handle": "m", "Title": "Money", "Option1 Name": "Size", "Option1 Value": "A",
         "Variant Price": "29.9", "Variant Compare At Price": "12", "Cost per item": "9.995",
         "Variant Grams": "250.0"},
        {"Handle": "m", "Option1 Value": "B", "Variant Price": "9.995", "Variant Grams": "12.5"},
        {"Handle": "m", "Option1 Value": "C", "Variant Price": "12"},
    ]  # fmt: skip
    run = run_pipeline(write_csv(tmp_path / "money.csv", header, rows))
    path = tmp_path / "shopify_import.csv"
    write_shopify_csv(run.result.valid, path)
    _, exported = read_exported(path)

    assert [r["Price"] for r in exported] == ["29.90", "9.995", "12.00"]
    assert [r["Compare-at price"] for r in exported] == ["12.00", "", ""]
    assert [r["Cost per item"] for r in exported] == ["9.995", "", ""]
    assert [r["Weight value (grams)"] for r in exported] == ["250", "12.5", ""]


@pytest.mark.parametrize(
    ("amount", "text"),
    [(29.9, "29.90"), (9.995, "9.995"), (12, "12.00"), (12.0, "12.00"), (0.0, "0.00"), (None, "")],
)
def test_format_money(amount, text):
    assert format_money(amount) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [(250.0, "250"), (12.5, "12.5"), (226.796185, "226.796185"), (-3, "-3"), (None, "")],
)
def test_format_number(number, text):
    assert format_number(number) == text


# --- option columns ---------------------------------------------------------------------


def test_export_has_option_columns_even_when_no_product_has_options(tmp_path):
    source = write_csv(
        tmp_path / "no_options.csv",
        ["Handle", "Title", "Variant Price"],
        [{"Handle": "plain-mug", "Title": "Plain Mug", "Variant Price": "8"}],
    )
    run = run_pipeline(source)
    path = tmp_path / "shopify_import.csv"
    write_shopify_csv(run.result.valid, path)
    header, (row,) = read_exported(path)

    for n in (1, 2, 3):
        assert f"Option{n} name" in header
        assert f"Option{n} value" in header
        assert row[f"Option{n} name"] == ""
        assert row[f"Option{n} value"] == ""
    again = run_pipeline(path)
    assert len(again.result.rejected) == 0
    pd.testing.assert_frame_equal(comparable(again.result.valid), comparable(run.result.valid))
