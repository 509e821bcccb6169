"""Numbers that are not numbers: non-finite, out-of-range and vanishing values, per row.

Every such cell is refused with its line, its column and a reason before it reaches the
bundle or the catalog store; ``products.jsonl`` stays strict JSON.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from structr_pipeline.core.connectors.json_batch import read_json_batch
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.connectors.shopify_export import (
    format_money,
    format_number,
    write_shopify_csv,
)
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.export import write_products_jsonl
from structr_pipeline.core.normalize import (
    OutOfRange,
    parse_number,
    parse_price,
    parse_weight,
    parse_whole_number,
)
from structr_pipeline.core.validation import validate_products
from structr_pipeline_tests.store.test_catalog import validated_frame

HUGE = "1" + "0" * 400


def strict_json(line: str) -> object:
    """``json.loads`` that refuses NaN and Infinity, which are not JSON."""

    def refuse(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


# --- the cell parsers -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "NaN", "Infinity", "-Infinity"])
def test_non_finite_words_are_no_numbers(text: str) -> None:
    for parse, what in (
        (parse_price, "a price"),
        (parse_number, "a number"),
        (parse_weight, "a number"),
        (parse_whole_number, "a whole number"),
    ):
        value, reason = parse(text)
        assert value is None
        assert reason == f"'{text}' is not {what}: it is not a finite number"


@pytest.mark.parametrize("parse", [parse_price, parse_number, parse_weight, parse_whole_number])
def test_four_hundred_digits_are_out_of_range_not_infinity(parse) -> None:
    value, reason = parse(HUGE)
    assert value is None
    assert isinstance(reason, OutOfRange)
    assert "out of range" in reason
    assert len(reason) < 200  # the cell is cut in the reason, not quoted whole
    assert reason.startswith("'" + "1" + "0" * 38 + "…'")


def test_scientific_notation_stays_unreadable() -> None:
    assert parse_price("1e309") == (
        None,
        "'1e309' is not a price (expected a number such as 12.99 or 12,99)",
    )
    assert parse_number("1e309") == (None, "'1e309' is not a number")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("9999999999.9999", 9999999999.9999),
        ("12.34567", 12.3457),
        ("1.00015", 1.0002),  # half-even
        ("1.00025", 1.0002),  # half-even
        ("0.005", 0.005),
    ],
)
def test_prices_keep_four_decimals_rounded_half_even(text: str, amount: float) -> None:
    assert parse_price(text) == (amount, None)


@pytest.mark.parametrize("text", ["0.00001", "0.00005", "0,00004 €", "-0.00001", "0.004"])
def test_a_price_that_would_be_published_as_zero_is_refused(text: str) -> None:
    value, reason = parse_price(text)
    assert value is None
    assert isinstance(reason, OutOfRange)
    assert reason == (
        f"'{text}' would be published as 0.00: a price that is not zero must be at least 0.005"
    )


@pytest.mark.parametrize("text", ["10000000000", "10.000.000.000,00", "9999999999.99995", "-1e10"])
def test_a_price_the_store_cannot_hold_is_refused(text: str) -> None:
    value, reason = parse_price(text)
    assert value is None
    if text == "-1e10":
        assert not isinstance(reason, OutOfRange)  # not a number at all
    else:
        assert isinstance(reason, OutOfRange)
        assert "a price must be below 10,000,000,000" in reason


def test_minus_zero_reads_as_plain_zero() -> None:
    for parse in (parse_price, parse_number, parse_weight):
        value, reason = parse("-0")
        assert reason is None and value == 0.0
        assert math.copysign(1.0, value) == 1.0
    assert parse_whole_number("-0") == (0, None)
    assert parse_price("-0,00") == (0.0, None)


@pytest.mark.parametrize(
    ("text", "count"),
    [("2147483647", 2**31 - 1), ("-2147483648", -(2**31)), ("2.147.483.647", 2**31 - 1)],
)
def test_whole_numbers_up_to_32_bits(text: str, count: int) -> None:
    assert parse_whole_number(text) == (count, None)


@pytest.mark.parametrize("text", ["2147483648", "-2147483649", "99999999999999999999"])
def test_whole_numbers_beyond_32_bits_are_refused(text: str) -> None:
    value, reason = parse_whole_number(text)
    assert value is None
    assert isinstance(reason, OutOfRange)
    assert "between -2,147,483,648 and 2,147,483,647" in reason


def test_a_fraction_is_not_whole_before_it_is_out_of_range() -> None:
    assert parse_whole_number("9999999999.5") == (None, "'9999999999.5' is not a whole number")


def test_weights_below_ten_billion_grams() -> None:
    assert parse_weight("9999999999") == (9999999999.0, None)
    value, reason = parse_weight("10000000000")
    assert value is None and isinstance(reason, OutOfRange)
    assert reason == "'10000000000' is out of range: a weight must be below 10,000,000,000 grams"
    assert parse_number("10000000000") == (1e10, None)  # a plain number has no such limit


# --- a real CSV file through validation -------------------------------------------------

HEADER = [
    "Handle", "Title", "Variant SKU", "Variant Price", "Variant Compare At Price",
    "Cost per item", "Variant Inventory Qty", "Variant Grams",
]  # fmt: skip


def write_sheet(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def run(path: Path):
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    return table, validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)


def reasons_by_line(result) -> dict[int, list[tuple[str, str, str]]]:
    return {
        int(line): [(e["column"], e["check"], e["value"]) for e in json.loads(text)]
        for line, text in zip(
            result.rejected["_source_line"], result.rejected["errors"], strict=True
        )
    }


@pytest.fixture
def hostile_sheet(tmp_path) -> Path:
    return write_sheet(
        tmp_path / "hostile.csv",
        [
            ["inf-price", "A", "A-1", HUGE, "", "", "1", "10"],  # line 2
            ["tiny", "B", "B-1", "0.00001", "", "", "1", "10"],  # line 3
            ["stock", "C", "C-1", "5", "", "", "99999999999999999999", "10"],  # line 4
            ["heavy", "D", "D-1", "5", "", "", "1", "1" + "0" * 320],  # line 5
            ["compare", "E", "E-1", "5", "1e10", "10000000000", "1", "1"],  # line 6
            ["words", "F", "F-1", "Infinity", "nan", "", "inf", "-inf"],  # line 7
            ["fine", "G", "G-1", "12.34567", "20", "0.5", "2147483647", "-0"],  # line 8
            ["zero", "H", "H-1", "-0", "", "", "-0", "250"],  # line 9
        ],
    )


def test_every_hostile_cell_is_refused_with_line_column_and_check(hostile_sheet) -> None:
    table, result = run(hostile_sheet)

    assert reasons_by_line(result) == {
        2: [("Variant Price", "price_range", HUGE)],
        3: [("Variant Price", "price_range", "0.00001")],
        4: [("Variant Inventory Qty", "inventory_qty_range", "99999999999999999999")],
        5: [("Variant Grams", "weight_grams_range", "1" + "0" * 320)],
        6: [
            ("Variant Compare At Price", "compare_at_price_format", "1e10"),
            ("Cost per item", "cost_per_item_range", "10000000000"),
        ],
        7: [
            ("Variant Price", "price_format", "Infinity"),
            ("Variant Compare At Price", "compare_at_price_format", "nan"),
            ("Variant Inventory Qty", "inventory_qty_format", "inf"),
            ("Variant Grams", "weight_grams_format", "-inf"),
        ],
    }
    valid = result.valid.set_index("handle")
    assert valid.loc["fine", "price"] == 12.3457
    assert valid.loc["fine", "inventory_qty"] == 2**31 - 1
    assert valid.loc["fine", "weight_grams"] == 0.0
    assert valid.loc["zero", "price"] == 0.0 and valid.loc["zero", "inventory_qty"] == 0
    assert len(result.valid) + len(result.rejected) == len(table.frame)


def test_the_bundle_of_a_hostile_sheet_holds_only_finite_numbers(hostile_sheet, tmp_path) -> None:
    _, result = run(hostile_sheet)
    jsonl = tmp_path / "products.jsonl"
    shopify = tmp_path / "shopify_import.csv"
    write_products_jsonl(result.valid, jsonl)
    write_shopify_csv(result.valid, shopify)

    records = [strict_json(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [r["handle"] for r in records] == ["fine", "zero"]
    fine = records[0]["variants"][0]
    assert (fine["price"], fine["inventory_qty"], fine["weight_grams"]) == (12.3457, 2**31 - 1, 0.0)
    assert "-0.0" not in jsonl.read_text(encoding="utf-8")

    with shopify.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["URL handle"], r["Price"], r["Inventory quantity"]) for r in rows] == [
        ("fine", "12.3457", "2147483647"),
        ("zero", "0.00", "0"),
    ]
    assert [r["Weight value (grams)"] for r in rows] == ["0", "250"]
    text = shopify.read_text(encoding="utf-8")
    assert "inf" not in text.lower() and "nan" not in text.lower()


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_products_jsonl_refuses_a_non_finite_number_instead_of_writing_it(tmp_path, value) -> None:
    path = tmp_path / "products.jsonl"
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_products_jsonl(
            validated_frame(
                [{"handle": "mug", "title": "Mug", "price": 5.0, "weight_grams": value}]
            ),
            path,
        )
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no partial file left behind


# --- JSON inputs: the same checks ---------------------------------------------------------


def json_batch(tmp_path, lines: list[str]):
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    batch = read_json_batch(path)
    mapping = map_source_frame(batch.frame, path.name)
    return batch, validate_products(mapping.frame, batch.frame, mapping.field_sources, path.name)


def record(handle: str, variant: str) -> str:
    return f'{{"handle": "{handle}", "title": "{handle.title()}", "variants": [{variant}]}}'


def test_json_numbers_go_through_the_same_checks(tmp_path) -> None:
    batch, result = json_batch(
        tmp_path,
        [
            record("inf", '{"sku": "I", "price": 1e400}'),  # row line 2
            record("nan", '{"sku": "N", "price": NaN}'),  # 3
            record("tiny", '{"sku": "T", "price": 0.00001}'),  # 4
            record("stock", '{"sku": "S", "price": 5, "inventory_qty": 1' + "0" * 30 + "}"),  # 5
            record("long", '{"sku": "L", "price": 1' + "0" * 5000 + "}"),  # 6
            record("heavy", '{"sku": "H", "price": 5, "weight_grams": -Infinity}'),  # 7
            record("fine", '{"sku": "F", "price": 12.34567, "inventory_qty": -0}'),  # 8
            '{"source": "shopify", "topic": "products/create", "payload": '
            '{"id": 1, "title": "Hook", "variants": [{"price": 1e400}]}}',  # 9
        ],
    )

    found = {
        int(line): [(e["line"], e["column"], e["check"]) for e in json.loads(text)]
        for line, text in zip(
            result.rejected["_source_line"], result.rejected["errors"], strict=True
        )
    }
    assert found == {
        2: [(2, "Price", "price_format")],
        3: [(3, "Price", "price_format")],
        4: [(4, "Price", "price_range")],
        5: [(5, "Inventory quantity", "inventory_qty_range")],
        6: [(6, "Price", "price_range")],
        7: [(7, "Weight value (grams)", "weight_grams_format")],
        9: [(9, "variants[0].price", "row_shape")],
    }
    messages = [e["message"] for text in result.rejected["errors"] for e in json.loads(text)]
    assert messages[0] == "'inf' is not a price: it is not a finite number"
    assert "would be published as 0.00" in messages[2]
    assert "field 'variants[0].price': 'inf' is not a price" in messages[-1]
    (fine,) = result.valid.to_dict("records")
    assert (fine["handle"], fine["price"], fine["inventory_qty"]) == ("fine", 12.3457, 0)
    assert len(batch.frame) == len(result.valid) + len(result.rejected)


# --- number cells written for Shopify ---------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (1e-05, "0.00001"),  # not 0.00: validation refuses it instead
        (12.34567, "12.34567"),
        (1e22, "10000000000000000000000.00"),
        (10**30, "1000000000000000000000000000000.00"),
        (-0.0, "0.00"),
        (math.inf, "inf"),
        (math.nan, "nan"),
        ("12.99", "12.99"),
    ],
)
def test_format_money_keeps_every_digit(amount, text) -> None:
    assert format_money(amount) == text


@pytest.mark.parametrize(
    ("number", "text"),
    [(1e-05, "0.00001"), (1e22, "10000000000000000000000"), (-0.0, "0"), (math.inf, "inf")],
)
def test_format_number_writes_plain_digits(number, text) -> None:
    assert format_number(number) == text
    if math.isfinite(number):
        assert parse_number(text) == (number + 0.0, None)
