"""`structr import` of a hostile sheet, end to end: the bundle files read back strictly."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from structr_pipeline.cli import app

FORMULA_HEADER = '=HYPERLINK("http://evil.example","x")'
HUGE = "1" + "0" * 400
HEADER = [
    "Handle", "Title", "Variant SKU", "Variant Price", "Variant Inventory Qty",
    "Variant Grams", "Image Src", FORMULA_HEADER,
]  # fmt: skip
ROWS = [
    ["inf-price", "Infinite", "S1", HUGE, "1", "10", "", "a"],  # line 2
    ["tiny", "Tiny", "S2", "0.00001", "1", "10", "", "b"],  # line 3
    ["big-stock", "Big", "S3", "5", "99999999999999999999", "10", "", "c"],  # line 4
    ["mug", "Mug", "S4", "12.34567", "3", "250", "javascript:alert(1)", "=1+2"],  # line 5
    ["mug", "", "", "", "", "", 'https://cdn.example.com/m.jpg" onerror="alert(1)', ""],  # 6
    ["mug", "", "", "", "", "", "https://cdn.example.com/mug.jpg", ""],  # line 7
    ["tabby", "\tTabbed", "S5", "abc", "1", "1", "", "\r"],  # line 8
]


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("STRUCTR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("STRUCTR_DATABASE_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    return tmp_path


def refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


@pytest.mark.slow
def test_import_of_a_hostile_sheet_gives_strict_and_inert_bundle_files(cli_env) -> None:
    sheet = cli_env / "hostile.csv"
    with sheet.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([HEADER, *ROWS])

    result = CliRunner().invoke(app, ["import", str(sheet)])
    assert result.exit_code == 0, result.output
    (bundle,) = list((cli_env / "home" / "exports").iterdir())

    with (bundle / "errors.csv").open(newline="", encoding="utf-8") as f:
        errors = list(csv.reader(f))
    assert errors[0] == [*HEADER[:-1], "'" + FORMULA_HEADER, "errors"]
    assert [row[0] for row in errors[1:]] == ["inf-price", "tiny", "big-stock", "tabby"]
    assert errors[1][3] == HUGE  # the cell as the user wrote it, to correct
    reasons = [row[-1] for row in errors[1:]]
    assert reasons[0].startswith("line 2, column 'Variant Price': '1000")
    assert "out of range: a price must be below 10,000,000,000" in reasons[0]
    assert reasons[1].startswith(
        "line 3, column 'Variant Price': '0.00001' would be published as 0.00"
    )
    assert reasons[2].startswith("line 4, column 'Variant Inventory Qty': '99999999999999999999'")
    assert (errors[4][1], errors[4][-2]) == ("'\tTabbed", "'\r")
    assert (bundle / "errors.csv").read_bytes().count(b"\r\n") == len(errors)

    products = [
        json.loads(line, parse_constant=refuse_constant)
        for line in (bundle / "products.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    (mug,) = products
    assert mug["variants"][0]["price"] == 12.3457
    assert [image["src"] for image in mug["images"]] == ["https://cdn.example.com/mug.jpg"]
    refused = [
        (w["line"], w["column"], w["value"])
        for w in mug["variants"][0]["warnings"]
        if w["check"] == "image_url_refused"
    ]
    assert refused == [
        (5, "Image Src", "javascript:alert(1)"),
        (6, "Image Src", 'https://cdn.example.com/m.jpg" onerror="alert(1)'),
    ]

    with (bundle / "shopify_import.csv").open(newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header[-1] == "'" + FORMULA_HEADER
    cells = dict(zip(header, rows[0], strict=True))
    assert (cells["Price"], cells["'" + FORMULA_HEADER]) == ("12.3457", "'=1+2")
    shopify_text = (bundle / "shopify_import.csv").read_text(encoding="utf-8")
    assert "javascript:" not in shopify_text and "onerror" not in shopify_text
    assert "inf" not in shopify_text.lower()

    report = (bundle / "report.html").read_text(encoding="utf-8")
    assert FORMULA_HEADER not in report and 'onerror="alert(1)' not in report
    assert "=HYPERLINK(&quot;http://evil.example&quot;" in report
