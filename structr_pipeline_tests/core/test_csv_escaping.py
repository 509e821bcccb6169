"""Exports a spreadsheet or a storefront cannot be tricked by.

Every cell and header of every exported CSV goes through one escaping rule; the files
are RFC 4180 (CRLF, quoted where needed) and read back into exactly their rows; only
``http(s)`` image URLs are kept, every other one is reported where it was and never
exported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.export import (
    escape_formula,
    write_errors_csv,
    write_frame_csv,
    write_products_jsonl,
)
from structr_pipeline.core.issues import RowIssue, issues_to_json
from structr_pipeline.core.normalize import image_url_problem
from structr_pipeline.core.validation import validate_products

FORMULA_HEADER = '=HYPERLINK("http://evil.example","x")'


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def assert_every_cell_is_inert(rows: list[list[str]]) -> None:
    """No cell, header included, starts as a spreadsheet would run it (plain numbers aside)."""
    for row in rows:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
                float(cell)  # only a plain number may start so


def assert_crlf_records(path: Path, records: int) -> None:
    """The file is CRLF-terminated records: no line feed or CR outside quotes."""
    data = path.read_bytes()
    assert data.endswith(b"\r\n")
    in_quotes = False
    ends = 0
    for i, byte in enumerate(data):
        if byte == ord('"'):
            in_quotes = not in_quotes
        elif not in_quotes and byte in b"\r\n":
            if byte == ord("\r"):
                assert data[i + 1 : i + 2] == b"\n"
                ends += 1
            else:
                assert data[i - 1 : i] == b"\r"
    assert ends == records


# --- the one rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "escaped"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+2", "'\t=1+2"),
        ("\r=1+2", "'\r=1+2"),
        ("\n=1+2", "'\n=1+2"),
        ("\r", "'\r"),
        ("-3.5", "-3.5"),
        ("+1.5e3", "+1.5e3"),
        ("-0", "-0"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_escape_formula(cell: str, escaped: str) -> None:
    assert escape_formula(cell) == escaped


# --- errors.csv -------------------------------------------------------------------------

HOSTILE_HEADER = ["Handle", FORMULA_HEADER, "\tTabbed", "Price"]


def hostile_rejected() -> pd.DataFrame:
    cells = [
        (2, {"Handle": "a", FORMULA_HEADER: "\tcmd", "\tTabbed": "\r=1+2", "Price": "x"}),
        (3, {"Handle": "b\rc", FORMULA_HEADER: "\r", "\tTabbed": "\n", "Price": "-3.5"}),
        (4, {"Handle": "d", FORMULA_HEADER: "line\r\nbreak", "\tTabbed": '"q"', "Price": "+1"}),
    ]
    issues = [[RowIssue(line, "Price", "price_format", "x", "=not a price")] for line, _ in cells]
    return pd.DataFrame(
        {
            "_source_line": [line for line, _ in cells],
            "_source_lines": [json.dumps([line]) for line, _ in cells],
            "original": [json.dumps(c) for _, c in cells],
            "errors": [issues_to_json(i) for i in issues],
        }
    )


def test_errors_csv_escapes_headers_and_cells_and_reads_back_row_by_row(tmp_path) -> None:
    path = tmp_path / "errors.csv"
    assert write_errors_csv(hostile_rejected(), HOSTILE_HEADER, path) == 3

    rows = read_rows(path)
    assert rows == [
        ["Handle", "'" + FORMULA_HEADER, "'\tTabbed", "Price", "errors"],
        ["a", "'\tcmd", "'\r=1+2", "x", "line 2, column 'Price': =not a price"],
        ["b\rc", "'\r", "'\n", "-3.5", "line 3, column 'Price': =not a price"],
        ["d", "line\r\nbreak", '"q"', "+1", "line 4, column 'Price': =not a price"],
    ]
    assert_every_cell_is_inert(rows)
    assert_crlf_records(path, 4)


def test_errors_csv_without_rejects_is_the_crlf_header_only(tmp_path) -> None:
    path = tmp_path / "errors.csv"
    empty = hostile_rejected().iloc[0:0]
    assert write_errors_csv(empty, HOSTILE_HEADER, path) == 0
    assert path.read_bytes() == (
        b'Handle,"\'=HYPERLINK(""http://evil.example"",""x"")",\'\tTabbed,Price,errors\r\n'
    )


def test_report_frames_use_the_same_rule(tmp_path) -> None:
    frame = pd.DataFrame({FORMULA_HEADER: ["@x", "\rcell"], "score": [-0.5, float("nan")]})
    path = tmp_path / "possible_duplicates.csv"
    assert write_frame_csv(frame, path) == 2

    assert read_rows(path) == [["'" + FORMULA_HEADER, "score"], ["'@x", "-0.5"], ["'\rcell", ""]]
    assert_crlf_records(path, 3)


# --- a hostile source file through the pipeline -------------------------------------------

SOURCE_HEADER = [
    "Handle", "Title", "Body (HTML)", "Variant SKU", "Variant Price", "Image Src",
    "Image Position", "Variant Image", FORMULA_HEADER,
]  # fmt: skip
GOOD_IMAGE = "https://cdn.example.com/mug.jpg"
# By the physical line their row starts on: the first row's description spans lines 2-3.
BAD_IMAGES = {
    4: "javascript:alert(1)",
    5: 'https://cdn.example.com/x.jpg" onerror="alert(1)',
    6: "data:image/svg+xml;base64,PHN2Zz4=",
    7: "/media/relative.jpg",
    8: "//cdn.example.com/no-scheme.jpg",
    9: "file:///etc/passwd",
}


def source_file(path: Path) -> Path:
    rows = [
        {
            "Handle": "mug", "Title": "=1+2 Mug", "Body (HTML)": "<p>Line one\nline two</p>",
            "Variant SKU": "@mug", "Variant Price": "5", "Image Src": GOOD_IMAGE,
            "Image Position": "1", "Variant Image": "vbscript:msgbox(1)", FORMULA_HEADER: "+x",
        },  # lines 2-3
        *(
            {"Handle": "mug", "Image Src": url, "Image Position": str(line)}
            for line, url in BAD_IMAGES.items()
        ),  # lines 4-9: image-only rows
    ]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, SOURCE_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(path: Path):
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    return validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)


def test_unsafe_image_urls_are_dropped_and_reported_where_they_were(tmp_path) -> None:
    result = run(source_file(tmp_path / "hostile.csv"))

    assert len(result.rejected) == 0
    (mug,) = result.valid.to_dict("records")
    assert mug["image_src"] == "" and mug["image_alt"] == ""
    assert json.loads(mug["images"]) == [{"src": GOOD_IMAGE, "position": 1, "alt": ""}]
    warnings = [
        (w["line"], w["column"], w["check"], w["value"]) for w in json.loads(mug["warnings"])
    ]
    assert warnings == [
        (2, "Variant Image", "image_url_refused", "vbscript:msgbox(1)"),
        *((line, "Image Src", "image_url_refused", url) for line, url in BAD_IMAGES.items()),
    ]
    assert sorted(json.loads(mug["_source_lines"])) == [2, *BAD_IMAGES]


def test_exported_files_hold_no_unsafe_url_and_every_cell_is_escaped(tmp_path) -> None:
    result = run(source_file(tmp_path / "hostile.csv"))
    shopify = tmp_path / "shopify_import.csv"
    jsonl = tmp_path / "products.jsonl"
    assert write_shopify_csv(result.valid, shopify) == 1
    write_products_jsonl(result.valid, jsonl)

    rows = read_rows(shopify)
    assert len(rows) == 2
    header, row = rows
    cells = dict(zip(header, row, strict=True))
    assert header[-1] == "'" + FORMULA_HEADER
    assert cells["'" + FORMULA_HEADER] == "'+x"
    assert (cells["Title"], cells["SKU"]) == ("'=1+2 Mug", "'@mug")
    assert cells["Product image URL"] == GOOD_IMAGE and cells["Variant image URL"] == ""
    assert cells["Description"] == "<p>Line one\nline two</p>"
    assert_every_cell_is_inert(rows)
    assert_crlf_records(shopify, 2)
    exported = shopify.read_text(encoding="utf-8")
    refused = [*BAD_IMAGES.values(), "vbscript:msgbox(1)"]
    assert not [url for url in refused if url in exported]
    (record,) = (json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines())
    (variant,) = record["variants"]
    assert [image["src"] for image in record["images"]] == [GOOD_IMAGE]
    assert variant["image_src"] == ""
    # products.jsonl names each refused URL only in the warning that reports it.
    assert [w["value"] for w in variant["warnings"]] == [refused[-1], *refused[:-1]]


def test_the_escaped_export_imports_again_as_the_same_catalog(tmp_path) -> None:
    first = run(source_file(tmp_path / "hostile.csv")).valid
    shopify = tmp_path / "shopify_import.csv"
    write_shopify_csv(first, shopify)
    second = run(shopify).valid

    for name in ("title", "sku", "description_html", "price", "images"):
        assert second[name].tolist() == first[name].tolist()
    assert json.loads(second["warnings"].iat[0]) == []


# --- which image URLs are accepted ------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.shopify.com/s/files/1/tee.jpg?v=123",
        "http://img.example.com/a/b.png",
        "HTTPS://IMG.EXAMPLE.COM/A.PNG",
        "https://münchen.example/bild.jpg",
        "https://img.example.com:8443/a.jpg",
    ],
)
def test_web_image_urls_are_accepted(url: str) -> None:
    assert image_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "only http:// and https:// addresses are accepted"),
        ("JavaScript:alert(1)", "only http:// and https:// addresses are accepted"),
        ("data:image/png;base64,AAAA", "only http:// and https:// addresses are accepted"),
        ("file:///etc/passwd", "only http:// and https:// addresses are accepted"),
        ("ftp://files.example.com/a.jpg", "only http:// and https:// addresses are accepted"),
        ("/media/a.jpg", "is a relative path, not an image URL"),
        ("a.jpg", "is a relative path, not an image URL"),
        ("//cdn.example.com/a.jpg", "it names no scheme"),
        ("https:///a.jpg", "it names no host"),
        ("https://img.example.com:port/a.jpg", "is not a valid URL"),
        ('https://x.example/a.jpg"onerror="alert(1)', "holds a space, quote"),
        ("https://x.example/a.jpg'", "holds a space, quote"),
        ("https://x.example/<script>", "holds a space, quote"),
        ("https://x.example/a b.jpg", "holds a space, quote"),
        ("https://x.example/a\tb.jpg", "holds a space, quote"),
        ("https://x.example/a\\b.jpg", "holds a space, quote"),
        ("https://x.example/\u202egpj.exe", "holds a space, quote"),
        ("https://x.example/a\x00.jpg", "holds a space, quote"),
    ],
)
def test_other_image_urls_are_refused_with_a_reason(url: str, reason: str) -> None:
    problem = image_url_problem(url)
    assert problem is not None and reason in problem
