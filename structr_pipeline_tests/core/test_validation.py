"""Bad input, row by row and file by file: clear reasons, and no row lost."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.issues import SourceFileError
from structr_pipeline.core.validation import validate_products

HEADER = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Option1 Name", "Option1 Value",
    "Variant SKU", "Variant Price", "Variant Barcode", "Image Src", "Image Position", "Status",
]  # fmt: skip


def write_csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(handle="tee", title="", sku="", price="10.00", barcode="", image="", status="", **kw):
    cells = dict.fromkeys(HEADER, "")
    cells.update(
        {
            "Handle": handle,
            "Title": title,
            "Variant SKU": sku,
            "Variant Price": price,
            "Variant Barcode": barcode,
            "Image Src": image,
            "Status": status,
        }
    )
    cells.update(kw)
    return [cells[h] for h in HEADER]


def run(path: Path):
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    return table, result


def lines_of(frame) -> list[int]:
    return sorted(line for text in frame["_source_lines"] for line in json.loads(text))


def reasons(result, line: int) -> list[dict]:
    (text,) = result.rejected.loc[result.rejected["_source_line"] == line, "errors"]
    return json.loads(text)


def assert_conserved(table, result) -> None:
    accounted = sorted(lines_of(result.valid) + lines_of(result.rejected))
    assert accounted == sorted(table.frame["_source_line"].tolist())


def test_bad_cells_are_rejected_with_line_column_and_reason(tmp_path) -> None:
    path = write_csv(
        tmp_path / "products.csv",
        [
            row(title="Tee", sku="T-S", price="abc"),  # line 2
            row(sku="T-M", price="-5", barcode="7612345678925"),  # line 3: two problems
            row(sku="T-L", price="12,50", barcode="4006381333931"),  # line 4: fine
            row(handle="", title="Orphan", sku="O-1"),  # line 5: no handle
            row(handle="cap", title="Cap", sku="C-1", status="retired"),  # line 6
        ],
    )
    table, result = run(path)
    assert_conserved(table, result)
    assert result.valid["sku"].tolist() == ["T-L"]
    assert result.valid["price"].tolist() == [12.5]

    (price,) = reasons(result, 2)
    assert price["column"] == "Variant Price" and price["value"] == "abc"
    assert "'abc' is not a price" in price["message"]

    both = {r["column"]: r for r in reasons(result, 3)}
    assert set(both) == {"Variant Price", "Variant Barcode"}
    assert "'-5' is below 0" in both["Variant Price"]["message"]
    assert "check digit is 5, it should be 4" in both["Variant Barcode"]["message"]

    (handle,) = reasons(result, 5)
    assert handle["column"] == "Handle" and "empty" in handle["message"]
    (status,) = reasons(result, 6)
    assert status["column"] == "Status" and "'retired'" in status["message"]

    original = json.loads(
        result.rejected.loc[result.rejected["_source_line"] == 2, "original"].iat[0]
    )
    assert original["Variant Price"] == "abc" and original["Variant SKU"] == "T-S"


def test_rows_with_too_many_or_too_few_cells(tmp_path) -> None:
    path = tmp_path / "ragged.csv"
    good = ",".join(row(title="Tee", sku="T-S"))
    path.write_text(
        ",".join(HEADER) + "\n" + good + "\n" + "tee,,,,,M,T-M\n" + good + ",surplus\n",
        encoding="utf-8",
    )
    table, result = run(path)
    assert_conserved(table, result)
    (short,) = reasons(result, 3)
    assert short["check"] == "row_shape"
    assert short["column"] == "Variant Price"  # the first column the row has no cell for
    assert "7 cells but the header has 12" in short["message"]
    (long,) = reasons(result, 4)
    assert "surplus" in long["message"]


def test_image_rows_follow_their_product(tmp_path) -> None:
    path = write_csv(
        tmp_path / "images.csv",
        [
            row(
                title="Tee",
                sku="T-S",
                price="bad",
                image="https://x/1.jpg",
                **{"Image Position": "1"},
            ),
            row(sku="T-M", image="https://x/2.jpg", **{"Image Position": "2"}),
            row(price="", image="https://x/3.jpg", **{"Image Position": "3"}),  # image-only
            row(handle="mug", title="Mug", sku="M-1", price="x"),
            row(handle="mug", price="", image="https://x/mug.jpg"),  # image-only, product lost
        ],
    )
    table, result = run(path)
    assert_conserved(table, result)
    assert result.valid["sku"].tolist() == ["T-M"]
    assert json.loads(result.valid["_source_lines"].iat[0]) == [3, 4]
    assert [img["src"] for img in json.loads(result.valid["images"].iat[0])] == [
        "https://x/1.jpg",
        "https://x/2.jpg",
        "https://x/3.jpg",
    ]
    (orphan,) = reasons(result, 6)
    assert orphan["check"] == "product_rejected" and "line 5" in orphan["message"]


def test_later_rows_inherit_product_fields_and_conflicts_are_reported(tmp_path) -> None:
    path = write_csv(
        tmp_path / "inherit.csv",
        [
            row(title="Tee", sku="T-S", **{"Vendor": "Ridgeline", "Option1 Name": "Size"}),
            row(sku="T-M", title="Another title"),
        ],
    )
    _, result = run(path)
    assert result.valid["title"].tolist() == ["Tee", "Tee"]
    assert result.valid["vendor"].tolist() == ["Ridgeline", "Ridgeline"]
    assert result.valid["option1_name"].tolist() == ["Size", "Size"]
    (warning,) = json.loads(result.valid["warnings"].iat[1])
    assert warning["check"] == "product_field_conflict" and warning["column"] == "Title"


def test_cp1252_semicolon_export_is_read(tmp_path) -> None:
    path = tmp_path / "lieferant.csv"
    text = "Handle;Title;Variant Price;Vendor\nmuetze;Mütze grün;12,90 €;Größe AG\n"
    path.write_bytes(text.encode("cp1252"))
    table, result = run(path)
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert result.valid["title"].tolist() == ["Mütze grün"]
    assert result.valid["price"].tolist() == [12.9]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "empty"),
        ("header.csv", b"Handle,Title,Variant Price\n", "header (3 columns) but no rows"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "text file"),
        ("feed.csv", b'{"products": [{"title": "Tee"}]}\n', "JSON"),
        ("notes.csv", b"Just some notes\nabout products\n", "delimiter"),
        ("twice.csv", b"Handle,Title,Title\ntee,Tee,Tee\n", "column 'Title'"),
    ],
)
def test_unreadable_files_say_which_file_and_why(tmp_path, name, content, expected) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceFileError) as caught:
        run(path)
    message = str(caught.value)
    assert message.startswith(name)
    assert expected in message
