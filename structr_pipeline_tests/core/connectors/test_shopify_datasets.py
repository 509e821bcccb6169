"""Every public Shopify product CSV in the shared datasets, through the core pipeline.

Each file goes through ``read_table`` → ``map_source_frame`` → ``validate_products``
(no Dagster). The expected figures (records, products, variants, image-only rows, the
images of each product, the title and vendor of each product) are worked out here from
the file with the stdlib ``csv`` module, without the package's code, and cross-checked
against the figures ``/work/shared/datasets/SOURCES.md`` (section 1) gives. Then each
quirk that section describes is checked on the file that has it.
"""

from __future__ import annotations

import csv
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.registry import SourceMapping, map_source_frame
from structr_pipeline.core.csv_reading import SourceTable, read_table
from structr_pipeline.core.validation import ValidationResult, validate_products

# (path under the datasets folder, records, distinct handles) as SOURCES.md gives them.
SHOPIFY_FILES: tuple[tuple[str, int, int], ...] = (
    ("shopifypartners-product-csvs/apparel.csv", 22, 20),
    ("shopifypartners-product-csvs/home-and-garden.csv", 21, 20),
    ("shopifypartners-product-csvs/jewelery.csv", 41, 20),
    ("shopify-product-template/product_template.csv", 17, 3),
    ("levinmejia-shopify-product-csvs/Apparel.csv", 104, 25),
    ("levinmejia-shopify-product-csvs/Bicycles.csv", 1399, 284),
    ("levinmejia-shopify-product-csvs/Fashion.csv", 5024, 997),
    ("levinmejia-shopify-product-csvs/SnowDevil.csv", 636, 278),
    ("levinmejia-shopify-product-csvs/jewelry.csv", 30, 19),
)
FILE_IDS = [Path(name).name for name, _, _ in SHOPIFY_FILES]
TEMPLATE = "shopify-product-template/product_template.csv"
BICYCLES = "levinmejia-shopify-product-csvs/Bicycles.csv"
FASHION = "levinmejia-shopify-product-csvs/Fashion.csv"
SNOWDEVIL = "levinmejia-shopify-product-csvs/SnowDevil.csv"
JEWELERY = "shopifypartners-product-csvs/jewelery.csv"

# A record with a non-empty cell in one of these columns is a variant, not an image row.
VARIANT_COLUMNS: tuple[str, ...] = (
    "Option1 Value",
    "Option2 Value",
    "Option3 Value",
    "Variant SKU",
    "Variant Barcode",
    "Variant Price",
    "Variant Compare At Price",
    "Variant Inventory Qty",
    "Variant Grams",
    "Variant Image",
    "Cost per item",
)


@dataclass(frozen=True)
class SourceRecord:
    """One CSV record as the stdlib reads it, with the physical line it starts on."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class Expected:
    """What the pipeline should find in one file, worked out with the ``csv`` module alone."""

    header: list[str]
    records: list[SourceRecord]
    products: int
    variants: int
    image_only_lines: list[int]
    first_record: dict[str, SourceRecord]
    image_srcs: dict[str, set[str]]


@dataclass(frozen=True)
class Run:
    """The core pipeline's output for one file."""

    table: SourceTable
    mapping: SourceMapping
    result: ValidationResult


def _read_records(path: Path) -> tuple[list[str], list[SourceRecord]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        start = reader.line_num + 1
        records = []
        for cells in reader:
            assert len(cells) == len(header), f"{path.name}: ragged record on line {start}"
            records.append(SourceRecord(start, dict(zip(header, cells, strict=True))))
            start = reader.line_num + 1
    return header, records


@functools.cache
def expected_for(path: Path) -> Expected:
    """The expected figures of a Shopify CSV, from the stdlib ``csv`` module only."""
    header, records = _read_records(path)
    first_record: dict[str, SourceRecord] = {}
    image_srcs: dict[str, set[str]] = {}
    variants = 0
    image_only: list[int] = []
    for record in records:
        handle = record.cells["Handle"].strip()
        first = handle not in first_record
        if first:
            first_record[handle] = record
        src = record.cells.get("Image Src", "").strip()
        if src:
            image_srcs.setdefault(handle, set()).add(src)
        if first or any(record.cells.get(c, "").strip() for c in VARIANT_COLUMNS):
            variants += 1
        elif src:
            image_only.append(record.line)
    return Expected(
        header=header,
        records=records,
        products=len({h for h in first_record if h}),
        variants=variants,
        image_only_lines=image_only,
        first_record=first_record,
        image_srcs=image_srcs,
    )


@functools.cache
def pipeline_for(path: Path) -> Run:
    """``read_table`` → ``map_source_frame`` → ``validate_products`` (cached per file)."""
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    return Run(table, mapping, result)


def _lines(frame: pd.DataFrame) -> list[int]:
    return [line for text in frame["_source_lines"] for line in json.loads(text)]


def _normalized(text: str) -> str:
    """A single-line cell as the catalog should hold it: no BOMs, NFC, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text.replace("\ufeff", "")).split())


def _checks(warnings_json: str) -> list[str]:
    return [issue["check"] for issue in json.loads(warnings_json)]


def _gtin_valid(digits: str) -> bool:
    """Independent GTIN check-digit test (weights 3, 1, 3, … from the right of the body)."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if k % 2 == 0 else 1) for k, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


@pytest.fixture(params=[name for name, _, _ in SHOPIFY_FILES], ids=FILE_IDS)
def shopify_file(request, datasets_dir: Path) -> Path:
    """Each Shopify CSV of the shared datasets in turn."""
    return datasets_dir / request.param


def _path(datasets_dir: Path, name: str) -> Path:
    return datasets_dir / name


# --- every file -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "records", "handles"), SHOPIFY_FILES, ids=FILE_IDS)
def test_csv_module_agrees_with_sources_md(datasets_dir, name, records, handles):
    expected = expected_for(datasets_dir / name)

    assert len(expected.records) == records
    assert expected.products == handles


def test_every_record_is_one_table_row_on_its_own_line(shopify_file):
    expected = expected_for(shopify_file)
    table = pipeline_for(shopify_file).table

    assert len(table.frame) == len(expected.records)
    assert table.frame["_source_line"].tolist() == [r.line for r in expected.records]
    assert table.header == expected.header
    assert (table.frame["_parse_error"] == "").all()


def test_one_mapped_row_per_variant_and_one_handle_per_product(shopify_file):
    expected = expected_for(shopify_file)
    mapping = pipeline_for(shopify_file).mapping

    assert len(mapping.frame) == expected.variants
    assert mapping.frame["handle"].nunique() == expected.products
    assert mapping.image_rows == len(expected.image_only_lines)
    assert mapping.source_format == "shopify_legacy"


def test_image_only_rows_are_folded_into_their_product(shopify_file):
    expected = expected_for(shopify_file)
    mapped = pipeline_for(shopify_file).mapping.frame

    own_lines = set(mapped["_source_line"])
    folded = set(_lines(mapped)) - own_lines
    assert folded == set(expected.image_only_lines)


def test_every_source_line_is_accepted_or_rejected_exactly_once(shopify_file):
    run = pipeline_for(shopify_file)
    accepted = _lines(run.result.valid)
    rejected = _lines(run.result.rejected)
    every_line = accepted + rejected

    assert len(every_line) == len(set(every_line)), "a source line is counted twice"
    assert set(every_line) == set(run.table.frame["_source_line"])
    assert len(every_line) == len(expected_for(shopify_file).records)


def test_product_images_list_each_image_src_exactly_once(shopify_file):
    expected = expected_for(shopify_file)
    mapped = pipeline_for(shopify_file).mapping.frame

    for handle, rows in mapped.groupby("handle"):
        assert rows["images"].nunique() == 1, f"{handle}: variants disagree on the images"
        images = json.loads(rows["images"].iat[0])
        sources = [image["src"] for image in images]
        assert len(sources) == len(set(sources)), f"{handle}: an image is listed twice"
        assert set(sources) == expected.image_srcs.get(handle, set()), handle
        assert [image["position"] for image in images] == list(range(1, len(images) + 1))


def test_variant_rows_inherit_the_products_title_and_vendor(shopify_file):
    expected = expected_for(shopify_file)
    valid = pipeline_for(shopify_file).result.valid

    assert (valid["title"].str.len() > 0).all()
    for handle, title, vendor in zip(valid["handle"], valid["title"], valid["vendor"], strict=True):
        first = expected.first_record[handle].cells
        assert title == _normalized(first["Title"]), handle
        assert vendor == _normalized(first["Vendor"]), handle


# --- product_template.csv ---------------------------------------------------------------


def test_template_shirt_variants_inherit_option_names_from_the_first_row(datasets_dir):
    path = _path(datasets_dir, TEMPLATE)
    shirt_records = [r for r in expected_for(path).records if r.cells["Handle"] == "example-shirt"]
    valid = pipeline_for(path).result.valid
    shirt = valid[valid["handle"] == "example-shirt"]

    # In the file only the first row names the options.
    assert [r.cells["Option1 Name"] for r in shirt_records] == ["Color"] + [""] * 11
    assert [r.cells["Option2 Name"] for r in shirt_records] == ["Size"] + [""] * 11
    assert len(shirt) == 12
    assert (shirt["option1_name"] == "Color").all()
    assert (shirt["option2_name"] == "Size").all()
    assert set(zip(shirt["option1_value"], shirt["option2_value"], strict=True)) == {
        (color, size) for color in ("Green", "Blue", "Gray", "Purple") for size in ("S", "M", "L")
    }


def test_template_pants_image_only_row_is_folded(datasets_dir):
    path = _path(datasets_dir, TEMPLATE)
    expected = expected_for(path)
    pants_lines = {r.line for r in expected.records if r.cells["Handle"] == "example-pants"}
    (image_line,) = [line for line in expected.image_only_lines if line in pants_lines]
    (image_record,) = [r for r in expected.records if r.line == image_line]
    valid = pipeline_for(path).result.valid
    pants = valid[valid["handle"] == "example-pants"]

    assert len(pants) == 3
    assert image_line not in set(pants["_source_line"])
    assert image_line in json.loads(pants["_source_lines"].iat[0])
    sources = [image["src"] for image in json.loads(pants["images"].iat[0])]
    assert image_record.cells["Image Src"] in sources
    assert len(sources) == 4


def test_template_scientific_notation_barcodes_are_emptied_with_a_warning(datasets_dir):
    path = _path(datasets_dir, TEMPLATE)
    raw = {r.line: r.cells["Variant Barcode"] for r in expected_for(path).records}
    valid = pipeline_for(path).result.valid

    assert raw[2] == "3.65275E+11"
    assert len(valid) == 16
    for line, barcode, warnings in zip(
        valid["_source_line"], valid["barcode"], valid["warnings"], strict=True
    ):
        assert re.fullmatch(r"\d\.\d+E\+11", raw[line]), raw[line]
        assert barcode == ""
        (issue,) = [w for w in json.loads(warnings) if w["check"] == "barcode_scientific_notation"]
        assert issue["column"] == "Variant Barcode"
        assert issue["value"] == raw[line]
        assert issue["line"] == line


# --- levinmejia Bicycles.csv ------------------------------------------------------------


def test_bicycles_apostrophe_barcodes_keep_their_leading_zero(datasets_dir):
    path = _path(datasets_dir, BICYCLES)
    raw = {r.line: r.cells["Variant Barcode"] for r in expected_for(path).records}
    valid = pipeline_for(path).result.valid.set_index("_source_line")

    assert raw[18] == "'030955168517"
    assert valid.at[18, "barcode"] == "030955168517"
    quoted = [line for line in valid.index if re.fullmatch(r"'\d{12,13}", raw[line])]
    assert len(quoted) == 315
    assert sum(raw[line].startswith("'0") for line in quoted) == 6
    for line in quoted:
        assert valid.at[line, "barcode"] == raw[line][1:], line
    assert not valid["barcode"].str.contains("'").any()


def test_bicycles_eleven_digit_upcs_get_their_leading_zero_back(datasets_dir):
    path = _path(datasets_dir, BICYCLES)
    raw = {r.line: r.cells["Variant Barcode"] for r in expected_for(path).records}
    valid = pipeline_for(path).result.valid.set_index("_source_line")
    eleven = [line for line in valid.index if re.fullmatch(r"'?\d{11}", raw[line])]
    restorable = [line for line in eleven if _gtin_valid("0" + raw[line].lstrip("'"))]

    assert len(restorable) == 58
    for line in restorable:
        digits = raw[line].lstrip("'")
        assert valid.at[line, "barcode"] == "0" + digits, line
        warnings = json.loads(valid.at[line, "warnings"])
        (issue,) = [w for w in warnings if w["check"] == "barcode_leading_zero"]
        assert issue["column"] == "Variant Barcode"
        assert issue["value"] == raw[line]
    others = [line for line in valid.index if line not in set(restorable)]
    assert not any("barcode_leading_zero" in _checks(valid.at[line, "warnings"]) for line in others)


def test_bicycles_script_is_removed_from_the_description_with_a_warning(datasets_dir):
    path = _path(datasets_dir, BICYCLES)
    raw = {r.line: r.cells["Body (HTML)"] for r in expected_for(path).records}
    valid = pipeline_for(path).result.valid.set_index("_source_line")
    (line,) = [line for line, body in raw.items() if "<script" in body.lower()]

    assert "<script" not in valid.at[line, "description_html"].lower()
    issues = [w for w in json.loads(valid.at[line, "warnings"]) if w["check"] == "html_sanitized"]
    assert len(issues) == 1
    assert "<script>" in issues[0]["message"]
    assert issues[0]["column"] == "Body (HTML)"


# --- levinmejia SnowDevil.csv -----------------------------------------------------------


def test_snowdevil_rejects_exactly_one_row_for_its_barcode_check_digit(datasets_dir):
    path = _path(datasets_dir, SNOWDEVIL)
    expected = expected_for(path)
    result = pipeline_for(path).result

    assert len(result.rejected) == 1
    row = result.rejected.iloc[0]
    line = int(row["_source_line"])
    (record,) = [r for r in expected.records if r.line == line]
    (error,) = json.loads(row["errors"])
    assert error["column"] == "Variant Barcode"
    assert error["check"] == "valid_gtin"
    assert error["line"] == line
    assert record.cells["Variant Barcode"] == "'" + error["value"]
    assert not _gtin_valid(error["value"])
    assert json.loads(row["original"]) == record.cells
    assert json.loads(row["_source_lines"]) == [line]
    # The product keeps its other variants.
    handle = record.cells["Handle"]
    assert (result.valid["handle"] == handle).sum() > 0
    assert line not in _lines(result.valid)


# --- levinmejia Fashion.csv -------------------------------------------------------------


def test_fashion_byte_order_marks_inside_cells_are_removed(datasets_dir):
    path = _path(datasets_dir, FASHION)
    raw_cells = sum(
        "\ufeff" in cell for record in expected_for(path).records for cell in record.cells.values()
    )
    valid = pipeline_for(path).result.valid

    assert raw_cells == 144
    text_columns = [c for c in valid.columns if valid[c].dtype == object]
    assert "description_html" in text_columns
    for column in text_columns:
        assert not valid[column].str.contains("\ufeff").any(), column


def test_fashion_descriptions_hold_no_scripts_or_event_handlers(datasets_dir):
    valid = pipeline_for(_path(datasets_dir, FASHION)).result.valid
    descriptions = valid["description_html"]

    assert (descriptions != "").sum() > 1000
    assert not descriptions.str.contains("<script", case=False).any()
    assert not descriptions.str.contains(r"\son\w+\s*=", case=False, regex=True).any()


# --- shopifypartners jewelery.csv -------------------------------------------------------


def test_jewelery_folds_eighteen_image_only_rows(datasets_dir):
    path = _path(datasets_dir, JEWELERY)
    run = pipeline_for(path)

    assert len(expected_for(path).image_only_lines) == 18
    assert run.mapping.image_rows == 18
    assert len(run.result.valid) == 41 - 18
    assert len(set(_lines(run.result.valid))) == 41


def test_jewelery_multiline_html_body_keeps_its_newlines(datasets_dir):
    path = _path(datasets_dir, JEWELERY)
    body = expected_for(path).first_record["gemstone"].cells["Body (HTML)"]
    valid = pipeline_for(path).result.valid
    gemstone = valid[valid["handle"] == "gemstone"]

    assert body.count("\n") == 6
    assert len(gemstone) == 2
    assert (gemstone["description_html"] == body).all()


def test_jewelery_line_separator_becomes_a_newline(datasets_dir):
    path = _path(datasets_dir, JEWELERY)
    body = expected_for(path).first_record["choker-with-gold-pendant"].cells["Body (HTML)"]
    valid = pipeline_for(path).result.valid
    (description,) = valid.loc[valid["handle"] == "choker-with-gold-pendant", "description_html"]

    assert "\u2028<ul>" in body
    assert "\u2028" not in description
    assert "strong.\n<ul>\n<li>14k yellow gold</li>" in description
