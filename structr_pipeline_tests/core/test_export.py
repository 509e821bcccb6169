"""Bundle files written from validated and rejected frames and read back from disk."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from structr_pipeline.core.export import (
    build_summary,
    escape_formula,
    product_records,
    write_errors_csv,
    write_products_jsonl,
    write_summary,
)
from structr_pipeline.core.fields import CANONICAL_FIELDS, PRODUCT_FRAME_COLUMNS
from structr_pipeline.core.issues import RowIssue, issues_to_json

HEADER = ["Handle", "Title", "Variant SKU", "Variant Price", "Variant Barcode", "Note"]


def validated_frame(rows: list[dict]) -> pd.DataFrame:
    records = []
    for partial in rows:
        record = {c: "" for c in CANONICAL_FIELDS}
        record.update(
            compare_at_price=np.nan,
            cost_per_item=np.nan,
            inventory_qty=pd.NA,
            weight_grams=np.nan,
            images="[]",
            attributes="{}",
            warnings="[]",
        )
        record.update(partial)
        record["_source_lines"] = json.dumps(partial.get("_source_lines", [record["_source_line"]]))
        records.append(record)
    frame = pd.DataFrame(records, columns=list(PRODUCT_FRAME_COLUMNS))
    for name in ("price", "compare_at_price", "cost_per_item", "weight_grams"):
        frame[name] = frame[name].astype("float64")
    frame["inventory_qty"] = frame["inventory_qty"].astype("Int64")
    return frame


IMAGES = json.dumps(
    [
        {"src": "https://cdn.example/tee-1.jpg", "position": 1, "alt": "Front"},
        {"src": "https://cdn.example/tee-2.jpg", "position": 2, "alt": "Back"},
    ]
)


def tee(size: str, line: int, **extra) -> dict:
    return {
        "handle": "organic-tee",
        "title": "Organic Tee — ünïcode",
        "vendor": "Ridgeline",
        "option1_name": "Size",
        "option1_value": size,
        "sku": f"TEE-{size}",
        "price": 25.0,
        "inventory_qty": 3,
        "images": IMAGES,
        "attributes": json.dumps({"Gift Card": "FALSE", "Variant Tax Code": f"T-{size}"}),
        "_source_line": line,
        **extra,
    }


def sample_validated() -> pd.DataFrame:
    return validated_frame(
        [
            tee("S", 2, _source_lines=[2, 5]),
            {"handle": "mug", "title": "Mug", "price": 12.5, "_source_line": 3},
            tee(
                "M",
                4,
                compare_at_price=30.0,
                warnings=issues_to_json(
                    [RowIssue(4, "Variant Grams", "weight_unit", "lb", "assumed pounds")]
                ),
            ),
        ]
    )


def rejected_frame(rows: list[tuple[int, dict, list[RowIssue]]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_source_line": [line for line, _, _ in rows],
            "_source_lines": [json.dumps([line]) for line, _, _ in rows],
            "original": [json.dumps(cells, ensure_ascii=False) for _, cells, _ in rows],
            "errors": [issues_to_json(issues) for _, _, issues in rows],
        },
        columns=["_source_line", "_source_lines", "original", "errors"],
    )


def sample_rejected() -> pd.DataFrame:
    return rejected_frame(
        [
            (
                12,
                {
                    "Handle": "socks",
                    "Title": "Socks",
                    "Variant SKU": "SOCK-XL",
                    "Variant Price": "-5",
                    "Variant Barcode": "12ab",
                    "Note": "",
                },
                [
                    RowIssue(12, "Variant Price", "price_min", "-5", "'-5' is below 0"),
                    RowIssue(12, "Variant Barcode", "barcode", "12ab", "'12ab' is not a barcode"),
                ],
            ),
            (
                7,
                {
                    "Handle": "socks",
                    "Title": '=HYPERLINK("http://x")',
                    "Variant SKU": "SOCK-L",
                    "Variant Price": "abc",
                    "Variant Barcode": "",
                    "Note": "@home, +1 more\nsecond line",
                },
                [RowIssue(7, "Variant Price", "price", "abc", "'abc' is not a price")],
            ),
        ]
    )


def test_products_jsonl_nests_variants_and_images(tmp_path) -> None:
    path = tmp_path / "bundle" / "products.jsonl"
    assert write_products_jsonl(sample_validated(), path) == 2

    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert "ünïcode" in lines[0]
    tee_record, mug = (json.loads(line) for line in lines)
    assert [tee_record["handle"], mug["handle"]] == ["organic-tee", "mug"]
    assert tee_record["title"] == "Organic Tee — ünïcode"
    assert [v["sku"] for v in tee_record["variants"]] == ["TEE-S", "TEE-M"]
    assert [i["src"] for i in tee_record["images"]] == [
        "https://cdn.example/tee-1.jpg",
        "https://cdn.example/tee-2.jpg",
    ]
    assert tee_record["attributes"] == {"Gift Card": "FALSE"}
    assert tee_record["variants"][0]["attributes"] == {"Variant Tax Code": "T-S"}
    assert tee_record["variants"][0]["compare_at_price"] is None
    assert tee_record["variants"][1]["compare_at_price"] == 30.0
    assert tee_record["variants"][1]["inventory_qty"] == 3
    assert tee_record["variants"][1]["warnings"][0]["check"] == "weight_unit"
    assert tee_record["source_lines"] == [2, 4, 5]
    assert mug["variants"][0]["inventory_qty"] is None
    assert mug["variants"][0]["price"] == 12.5
    assert mug["images"] == [] and mug["attributes"] == {}
    assert "variants" not in tee_record["variants"][0]
    assert set(tee_record) >= {"vendor", "status", "seo_title", "option1_name"}


def test_product_records_of_an_empty_frame() -> None:
    assert list(product_records(validated_frame([]))) == []


def test_errors_csv_gives_back_the_original_columns(tmp_path) -> None:
    path = tmp_path / "errors.csv"
    assert write_errors_csv(sample_rejected(), HEADER, path) == 2

    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [*HEADER, "errors"]
    first, second = (dict(zip(rows[0], row, strict=True)) for row in rows[1:])
    assert first["Variant SKU"] == "SOCK-L" and second["Variant SKU"] == "SOCK-XL"
    assert first["Variant Price"] == "abc"
    assert first["Title"] == '\'=HYPERLINK("http://x")'
    assert first["Note"] == "'@home, +1 more\nsecond line"
    assert second["Variant Price"] == "-5"
    assert first["errors"] == "line 7, column 'Variant Price': 'abc' is not a price"
    assert second["errors"] == (
        "line 12, column 'Variant Price': '-5' is below 0; "
        "line 12, column 'Variant Barcode': '12ab' is not a barcode"
    )


def test_errors_csv_without_rejects_has_the_header_only(tmp_path) -> None:
    path = tmp_path / "errors.csv"
    assert write_errors_csv(rejected_frame([]), HEADER, path) == 0
    assert path.read_bytes() == (",".join([*HEADER, "errors"]) + "\r\n").encode()


def test_formula_escaping() -> None:
    assert escape_formula("=SUM(A1:A2)") == "'=SUM(A1:A2)"
    assert escape_formula("+49 30 1234") == "'+49 30 1234"
    assert escape_formula("@user") == "'@user"
    assert escape_formula("-") == "'-"
    assert escape_formula("-5") == "-5"
    assert escape_formula("+1.5e3") == "+1.5e3"
    assert escape_formula("-.25") == "-.25"
    assert escape_formula("plain = text") == "plain = text"
    assert escape_formula("") == ""


def test_summary_json(tmp_path) -> None:
    validated = sample_validated()
    another = rejected_frame(
        [(9, {"Handle": "cap"}, [RowIssue(9, "Variant Price", "price", "x", "'x' is not a price")])]
    )
    rejected = pd.concat([sample_rejected(), another], ignore_index=True)
    files = {"products_jsonl": tmp_path / "products.jsonl", "errors_csv": tmp_path / "errors.csv"}
    summary = build_summary(
        batch_id="shopify_csv-20240305T120709-abcdef01",
        source_file="products.csv",
        sha256="ab" * 32,
        rows_in=6,
        validated=validated,
        rejected=rejected,
        files=files,
        extra_counts={"catalog_inserted": 2},
        created_at=datetime(2024, 3, 5, 12, 7, 9, tzinfo=UTC),
    )
    path = tmp_path / "summary.json"
    write_summary(summary, path)

    text = path.read_text(encoding="utf-8")
    loaded = json.loads(text)
    assert text.startswith('{\n  "batch_id"')
    assert list(loaded) == sorted(loaded)
    assert set(loaded) == {
        "batch_id",
        "counts",
        "created_at",
        "files",
        "held_back",
        "rejection_reasons",
        "sha256",
        "source_file",
        "source_format",
    }
    assert loaded["counts"] == {
        "rows_in": 6,
        "rows_accepted": 4,
        "rows_rejected": 3,
        "products": 2,
        "variants": 3,
        "warnings": 1,
        "catalog_inserted": 2,
    }
    assert [(r["check"], r["rows"]) for r in loaded["rejection_reasons"]] == [
        ("price", 2),
        ("barcode", 1),
        ("price_min", 1),
    ]
    assert loaded["rejection_reasons"][0]["example"].startswith("line 7, column 'Variant Price'")
    assert loaded["files"]["errors_csv"] == str(tmp_path / "errors.csv")
    assert loaded["created_at"] == "2024-03-05T12:07:09+00:00"


def test_write_summary_adds_created_at(tmp_path) -> None:
    path = tmp_path / "out" / "summary.json"
    write_summary({"batch_id": "b", "counts": {"rows_in": np.int64(3)}}, path)
    loaded = json.loads(path.read_text(encoding="utf-8"))
    assert loaded["counts"] == {"rows_in": 3}
    assert datetime.fromisoformat(loaded["created_at"]).tzinfo is not None
