"""Files that are UTF-8 but for some lines: decoded line by line, and the lines named."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from structr_pipeline.core.csv_reading import SourceTable, read_sample, read_table
from structr_pipeline.core.fields import SOURCE_LINE
from structr_pipeline.core.issues import SourceFileError


def write(tmp_path: Path, data: bytes, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def cells(table: SourceTable) -> list[list[str]]:
    return table.frame[table.header].values.tolist()


def test_utf8_lines_stay_utf8_and_cp1252_lines_are_read_as_cp1252(tmp_path: Path) -> None:
    data = (
        "sku;name\nA-1;Müller\n".encode()
        + "A-2;Müller Größe €\n".encode("cp1252")
        + "A-3;Straße\n".encode()
    )
    table = read_table(write(tmp_path, data))
    assert cells(table) == [["A-1", "Müller"], ["A-2", "Müller Größe €"], ["A-3", "Straße"]]
    assert table.encoding == "utf-8+cp1252"
    assert table.warnings == (
        "line 3 is not valid UTF-8, unlike the rest of the file, and was read as cp1252: "
        "check that its accented letters read right",
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_the_warning_names_physical_lines_whatever_the_line_ending(
    tmp_path: Path, newline: str
) -> None:
    def utf8(text: str) -> bytes:
        return (text + newline).encode()

    def cp1252(text: str) -> bytes:
        return (text + newline).encode("cp1252")

    data = b"".join(
        [
            utf8("sku,name,description"),
            utf8("A-1,Müller,plain"),
            cp1252('A-2,Käse,"two'),  # a record over lines 3 and 4, both in cp1252
            cp1252('lines, é"'),
            utf8("A-3,Öl,ok"),
            cp1252("A-4,Grüße,ok"),
        ]
    )
    table = read_table(write(tmp_path, data))
    assert cells(table) == [
        ["A-1", "Müller", "plain"],
        ["A-2", "Käse", f"two{newline}lines, é"],
        ["A-3", "Öl", "ok"],
        ["A-4", "Grüße", "ok"],
    ]
    assert table.frame[SOURCE_LINE].tolist() == [2, 3, 5, 6]
    (warning,) = table.warnings
    assert warning.startswith("lines 3, 4 and 6 are not valid UTF-8")


def test_a_bom_says_utf8_even_when_only_cp1252_lines_hold_accents(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfsku;name\nA-1;plain\n" + "A-2;Käse\n".encode("cp1252")
    table = read_table(write(tmp_path, data))
    assert table.header == ["sku", "name"]
    assert cells(table) == [["A-1", "plain"], ["A-2", "Käse"]]
    assert table.encoding == "utf-8-sig+cp1252"
    assert table.warnings[0].startswith("line 3 is not valid UTF-8")


def test_a_line_cp1252_cannot_decode_is_read_as_latin1_and_named(tmp_path: Path) -> None:
    # 0x8F is undefined in cp1252.
    data = "id,title\n1,Müller\n".encode() + b"2,cr\x8fme\n" + "3,Käse\n".encode("cp1252")
    table = read_table(write(tmp_path, data))
    assert cells(table) == [["1", "Müller"], ["2", "cr\x8fme"], ["3", "Käse"]]
    assert table.encoding == "utf-8+latin-1+cp1252"
    assert [w.split(" is not")[0] for w in table.warnings] == ["line 3", "line 4"]
    assert "read as latin-1" in table.warnings[0] and "read as cp1252" in table.warnings[1]


def test_many_lines_are_listed_ten_then_counted(tmp_path: Path) -> None:
    rows = [f"A-{i};Grüße {i}\n".encode("cp1252" if i % 2 else "utf-8") for i in range(40)]
    table = read_table(write(tmp_path, b"sku;name\n" + b"".join(rows)))
    assert cells(table)[:2] == [["A-0", "Grüße 0"], ["A-1", "Grüße 1"]]
    assert {name for _, name in cells(table)} == {f"Grüße {i}" for i in range(40)}
    (warning,) = table.warnings
    assert warning.startswith("lines 3, 5, 7, 9, 11, 13, 15, 17, 19, 21 and 10 more are not")


def test_a_file_in_cp1252_throughout_is_still_cp1252_without_warnings(tmp_path: Path) -> None:
    data = "sku;name\nA-1;Müller\nA-2;plain\nA-3;Größe €\n".encode("cp1252")
    table = read_table(write(tmp_path, data))
    assert table.encoding == "cp1252" and table.warnings == ()
    assert cells(table) == [["A-1", "Müller"], ["A-2", "plain"], ["A-3", "Größe €"]]


def test_a_utf8_file_has_no_warnings(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "sku;name\nA-1;Müller\n".encode()))
    assert (table.encoding, table.warnings) == ("utf-8", ())


def test_the_sample_read_decodes_the_same_way(tmp_path: Path) -> None:
    data = "sku;name\nA-1;Müller\n".encode() + "A-2;Müller\n".encode("cp1252")
    table = read_sample(write(tmp_path, data), max_rows=10)
    assert cells(table) == [["A-1", "Müller"], ["A-2", "Müller"]]
    assert table.warnings[0].startswith("line 3 is not valid UTF-8")


def test_an_encoding_the_profile_fixes_names_the_line_it_fails_on(tmp_path: Path) -> None:
    data = "sku;name\nA-1;Müller\n".encode() + "A-2;Müller\n".encode("cp1252")
    with pytest.raises(SourceFileError) as caught:
        read_table(write(tmp_path, data), encoding="utf-8")
    assert caught.value.line == 3
    assert str(caught.value).startswith("products.csv, line 3: cannot be decoded as utf-8")


def test_a_million_row_file_with_one_cp1252_line_in_the_middle(tmp_path: Path) -> None:
    row = "A-{};Müller Größe {};Beschreibung äöü\n"
    head = "sku;name;description\n" + "".join(row.format(i, i) for i in range(500_000))
    tail = "".join(row.format(i, i) for i in range(500_000, 1_000_000))
    data = head.encode() + "X-1;Müller;é\n".encode("cp1252") + tail.encode()
    path = write(tmp_path, data)
    started = time.perf_counter()
    table = read_table(path)
    elapsed = time.perf_counter() - started
    assert len(table.frame) == 1_000_001
    assert table.frame.iloc[500_000][table.header].tolist() == ["X-1", "Müller", "é"]
    assert table.frame.iloc[-1]["name"] == "Müller Größe 999999"
    assert table.warnings[0].startswith("line 500002 is not valid UTF-8")
    assert elapsed < 60
