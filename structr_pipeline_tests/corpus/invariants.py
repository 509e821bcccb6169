"""What every bundle must be, whatever went in: read back strictly and checked cell by cell.

Used by the hostile corpus and by the property tests. ``read_bundle`` reads a batch's
export folder the strict way (UTF-8 that must decode, JSON without ``NaN``/``Infinity``,
CSV parsed by Python's ``csv`` module); ``assert_bundle_invariants`` checks the promises
that hold for any input.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from structr_pipeline_tests.corpus.cases import Bundle, is_inert, unescape

CSV_FILES = ("errors.csv", "shopify_import.csv", "merges.csv", "possible_duplicates.csv")
BUNDLE_FILES = (*CSV_FILES, "products.jsonl", "summary.json", "report.html")
MONEY_COLUMNS = ("Price", "Compare-at price", "Cost per item")
# Money in plain digits with two to four decimals: never 1e+10, inf, nan or -0.
MONEY_TEXT = re.compile(r"(0|[1-9]\d{0,9})\.\d{2,4}")
WHOLE_TEXT = re.compile(r"-?(0|[1-9]\d*)")
NUMBER_TEXT = re.compile(r"(0|[1-9]\d*)(\.\d+)?")
INT32 = (-(2**31), 2**31 - 1)
CENT = Decimal("0.01")


def not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (products.jsonl must be strict JSON)")


def strict_json(text: str) -> Any:
    return json.loads(text, parse_constant=not_json)


def read_csv(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8")  # strict: undecodable bytes raise
    return list(csv.reader(io.StringIO(text, newline="")))


def read_bundle(folder: Path, output: str = "") -> Bundle:
    """The bundle in ``folder`` (``exports/<batch_id>``), every file read strictly."""
    present = {p.name for p in folder.iterdir()}
    missing = set(BUNDLE_FILES) - present
    assert not missing, f"bundle files missing: {sorted(missing)}"
    summary = strict_json((folder / "summary.json").read_bytes().decode("utf-8"))
    lines = (folder / "products.jsonl").read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == "", "products.jsonl does not end with a line feed"
    products = [strict_json(line) for line in lines[:-1]]
    return Bundle(
        dir=folder,
        summary=summary,
        products=products,
        csvs={name: read_csv(folder / name) for name in CSV_FILES},
        output=output,
    )


def _finite(value: Any, where: str) -> None:
    if value is None:
        return
    assert isinstance(value, int | float) and not isinstance(value, bool), (where, value)
    assert math.isfinite(value), (where, value)


def _products_are_sane(bundle: Bundle) -> None:
    for product in bundle.products:
        for variant in product["variants"]:
            where = f"{product['handle']!r} line {variant['source_line']}"
            for name in ("price", "compare_at_price", "cost_per_item"):
                value = variant[name]
                _finite(value, f"{where} {name}")
                if value is not None:
                    assert 0 <= value < 1e10, (where, name, value)
                    assert math.copysign(1, value) > 0, f"{where} {name} is -0.0"
            qty = variant["inventory_qty"]
            if qty is not None:
                assert isinstance(qty, int) and INT32[0] <= qty <= INT32[1], (where, qty)
            _finite(variant["weight_grams"], f"{where} weight_grams")


def _csvs_are_inert_and_rectangular(bundle: Bundle) -> None:
    for name, rows in bundle.csvs.items():
        assert rows, f"{name} has no header"
        width = len(rows[0])
        for number, row in enumerate(rows, start=1):
            assert len(row) == width, f"{name} record {number}: {len(row)} cells, header {width}"
            for cell in row:
                assert is_inert(cell), f"{name} record {number}: formula cell {cell!r}"


def _accounting(bundle: Bundle, rows_in: int | None) -> None:
    counts = bundle.counts
    assert counts["rows_in"] == counts["rows_accepted"] + counts["rows_rejected"] + counts.get(
        "rows_merged", 0
    ), counts
    if rows_in is not None:
        assert counts["rows_in"] == rows_in, f"rows_in {counts['rows_in']}, records {rows_in}"
    accepted = bundle.accepted_lines()
    errors = bundle.dicts("errors.csv")
    rejected = bundle.rejected()
    merged = bundle.merged_lines()
    assert len(errors) == counts["rows_rejected"] == len(rejected), (len(errors), counts)
    assert len(accepted) == counts["rows_accepted"], (sorted(accepted), counts)
    assert len(merged) == counts.get("rows_merged", 0), (sorted(merged), counts)
    assert not (accepted & set(rejected)), sorted(accepted & set(rejected))
    assert not (merged & (accepted | set(rejected))), sorted(merged)
    assert len(accepted | set(rejected) | merged) == counts["rows_in"]
    assert len(bundle.products) == counts["products"], counts
    assert sum(len(p["variants"]) for p in bundle.products) == counts["variants"], counts
    assert len(bundle.dicts("possible_duplicates.csv")) == counts.get("possible_duplicates", 0)


def published(bundle: Bundle) -> list[dict[str, Any]]:
    held = bundle.held_back()
    return [p for p in bundle.products if p["handle"] not in held]


def _shopify_file_matches_the_products(bundle: Bundle) -> None:
    rows = bundle.dicts("shopify_import.csv")
    products = published(bundle)
    handles = {unescape(row["URL handle"]) for row in rows}
    assert handles == {p["handle"] for p in products}, (handles, bundle.held_back())
    expected_rows = sum(max(len(p["variants"]), len(p["images"])) for p in products)
    assert len(rows) == expected_rows, (len(rows), expected_rows)
    for row in rows:
        for column in MONEY_COLUMNS:
            cell = row.get(column, "")
            assert cell == "" or MONEY_TEXT.fullmatch(cell), (column, cell)
            if cell:
                amount = Decimal(cell)
                assert amount == 0 or amount.quantize(CENT, rounding=ROUND_HALF_UP) != 0, (
                    f"{row['URL handle']}: {column} {cell} is published as 0.00"
                )
        qty = row.get("Inventory quantity", "")
        assert qty == "" or WHOLE_TEXT.fullmatch(qty), qty
        weight = row.get("Weight value (grams)", "")
        assert weight == "" or NUMBER_TEXT.fullmatch(weight), weight
    # each published variant is on its own row: handle, SKU and price read back equal
    for product in products:
        own = bundle.shopify_rows(product["handle"])
        for variant, row in zip(product["variants"], own, strict=False):
            assert row["SKU"] == variant["sku"], (row["SKU"], variant["sku"])
            price = variant["price"]
            if price is None:
                assert row["Price"] == "", row["Price"]
            else:
                assert Decimal(row["Price"]) == Decimal(repr(float(price))), (row["Price"], price)


def assert_bundle_invariants(bundle: Bundle, rows_in: int | None = None) -> None:
    """Every promise a bundle keeps whatever the input (``rows_in``: records written)."""
    _csvs_are_inert_and_rectangular(bundle)
    _products_are_sane(bundle)
    _accounting(bundle, rows_in)
    _shopify_file_matches_the_products(bundle)
