"""read_table on real files: detection, line numbers, ragged rows and every whole-file error."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import numpy as np
import pytest

from structr_pipeline.core import csv_reading
from structr_pipeline.core.csv_reading import SourceTable, read_table
from structr_pipeline.core.fields import PARSE_ERROR, SOURCE_LINE
from structr_pipeline.core.issues import SourceFileError


def write(tmp_path: Path, data: bytes | str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def cells(table: SourceTable) -> list[list[str]]:
    return table.frame[table.header].values.tolist()


def lines(table: SourceTable) -> list[int]:
    return table.frame[SOURCE_LINE].tolist()


def read_error(path: Path, file_name: str | None = None) -> SourceFileError:
    with pytest.raises(SourceFileError) as info:
        read_table(path, file_name)
    return info.value


# --- delimiters -----------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter_is_detected(tmp_path: Path, delimiter: str) -> None:
    other = "," if delimiter != "," else ";"
    text = (
        delimiter.join(["Handle", "Title", "Price"])
        + "\n"
        + delimiter.join(["mug", f"Mug{other} blue", "9.50"])
        + "\n"
        + delimiter.join(["cap", '"Cap ""pro"""', "12"])
        + "\n"
    )
    table = read_table(write(tmp_path, text))
    assert table.delimiter == delimiter
    assert table.header == ["Handle", "Title", "Price"]
    assert cells(table) == [["mug", f"Mug{other} blue", "9.50"], ["cap", 'Cap "pro"', "12"]]
    assert table.frame[PARSE_ERROR].tolist() == ["", ""]


def test_semicolon_file_with_commas_in_header_and_cells(tmp_path: Path) -> None:
    text = "Name, short;Name, long\na, b;c, d, e\nf;g\n"
    table = read_table(write(tmp_path, text))
    assert table.delimiter == ";"
    assert table.header == ["Name, short", "Name, long"]
    assert cells(table) == [["a, b", "c, d, e"], ["f", "g"]]


def test_hash_delimited_file_with_quoted_multiline_cells(tmp_path: Path) -> None:
    text = (
        "id#title#description#price\n"
        '1#Mug, blue#"Glazed stoneware.\nHolds 300 ml; #1 seller"#9.50\n'
        '2#"Cap ""pro"""#"Cotton:\n\none size"#12\n'
        "3#Bowl##7\n"
    )
    table = read_table(write(tmp_path, text))
    assert table.delimiter == "#"
    assert table.header == ["id", "title", "description", "price"]
    assert cells(table) == [
        ["1", "Mug, blue", "Glazed stoneware.\nHolds 300 ml; #1 seller", "9.50"],
        ["2", 'Cap "pro"', "Cotton:\n\none size", "12"],
        ["3", "Bowl", "", "7"],
    ]
    assert lines(table) == [2, 4, 7]
    assert table.frame[PARSE_ERROR].eq("").all()


@pytest.mark.parametrize("delimiter", ["^", "\x1f", "~", ":"])
def test_uncommon_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    rows = [["sku", "title", "price"], ["A-1", "Mug (blue) - 300 ml", "9.50"], ["B", "", "1"]]
    text = "".join(delimiter.join(row) + "\n" for row in rows)
    table = read_table(write(tmp_path, text))
    assert table.delimiter == delimiter
    assert table.header == rows[0]
    assert cells(table) == rows[1:]


def test_comma_wins_over_hash_and_colon_in_the_text(tmp_path: Path) -> None:
    rows = [
        ["Item #", "Title: short", "Note"],
        ["1", "Mug #2: blue", "see #3: #4: #5"],
        ["2", "Cup", "ratio 1:2:3 #a#b#c"],
        ["3", "Bowl#Plate#Lid", "x:y"],
    ]
    text = "".join(",".join(row) + "\n" for row in rows)
    table = read_table(write(tmp_path, text))
    assert table.delimiter == ","
    assert table.header == rows[0]
    assert cells(table) == rows[1:]


@pytest.mark.parametrize("header", ["Title", "Title (EN) - short/long", "Note: colour"])
def test_a_single_column_is_not_split(tmp_path: Path, header: str) -> None:
    text = f"{header}\nMug #1: blue\nCup\nBowl - large (v2)\n"
    error = read_error(write(tmp_path, text))
    assert error.line == 1
    assert str(error).startswith(
        "products.csv, line 1: could not find a column delimiter in the header "
        "(tried ',', ';', tab, '|' and every other punctuation character in the header); "
    )


def test_hash_in_the_header_with_inconsistent_rows_is_not_picked(tmp_path: Path) -> None:
    text = "id#title#price\n1#Mug#9\n2#Cup\n3\n4#Bowl#7#extra\n"
    error = read_error(write(tmp_path, text))
    assert str(error) == (
        "products.csv, line 1: could not find a column delimiter in the header "
        "(tried ',', ';', tab, '|' and every other punctuation character in the header); "
        "the common ones give a single column, and '#' splits the header but not the "
        "records into the same number of cells"
    )


def test_an_inconsistent_comma_is_kept_over_an_inconsistent_hash(tmp_path: Path) -> None:
    text = "Name#Price, EUR#Stock\nMug, blue#9#3\nCup#8#2\nBowl#7\n"
    table = read_table(write(tmp_path, text))
    assert table.delimiter == ","
    assert table.header == ["Name#Price", "EUR#Stock"]


def test_frame_shape_and_dtypes(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b,c\n1,,3\n4\n"))
    frame = table.frame
    assert list(frame.columns) == ["a", "b", "c", SOURCE_LINE, PARSE_ERROR]
    for column in ["a", "b", "c", PARSE_ERROR]:
        assert frame[column].dtype == object
        assert all(type(value) is str for value in frame[column])
    assert frame[SOURCE_LINE].dtype == np.int64
    assert not frame.isna().any().any()
    assert list(frame.index) == [0, 1]
    assert table.file_name == "products.csv"


# --- encodings ------------------------------------------------------------------------


def test_utf8(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "Handle,Titel\nx,Größe €\n".encode()))
    assert table.encoding == "utf-8"
    assert cells(table) == [["x", "Größe €"]]


def test_utf8_bom_is_removed_from_the_header(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, b"\xef\xbb\xbfHandle,Title\nx,y\n"))
    assert table.encoding == "utf-8-sig"
    assert table.header == ["Handle", "Title"]
    assert list(table.frame.columns[:2]) == ["Handle", "Title"]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path: Path, codec: str) -> None:
    text = "Handle\tTitle\nx\tGrüße 日本\n"
    data = text.encode(codec)
    if codec == "utf-16-le":
        data = b"\xff\xfe" + data
    elif codec == "utf-16-be":
        data = b"\xfe\xff" + data
    table = read_table(write(tmp_path, data))
    assert table.encoding == "utf-16"
    assert table.delimiter == "\t"
    assert table.header == ["Handle", "Title"]
    assert cells(table) == [["x", "Grüße 日本"]]


def test_cp1252(tmp_path: Path) -> None:
    # 0xFC is 'ü', 0xF6 'ö', 0xDF 'ß' and 0x80 '€' in cp1252.
    table = read_table(write(tmp_path, b"Handle;Titel\nx;Gr\xfc\xdfe\ny;Gr\xf6\xdfe \x80\n"))
    assert table.encoding == "cp1252"
    assert table.delimiter == ";"
    assert cells(table) == [["x", "Grüße"], ["y", "Größe €"]]


def test_latin1_when_cp1252_cannot_decode(tmp_path: Path) -> None:
    # 0x8F is undefined in cp1252 (it is 'è' in Mac Roman).
    table = read_table(write(tmp_path, b"id,title\n1,cr\x8fme\n"))
    assert table.encoding == "latin-1"
    assert cells(table) == [["1", "cr\x8fme"]]


# --- line endings and line numbers ----------------------------------------------------


@pytest.mark.parametrize(
    "newline_style",
    ["\r\n", "\n", "\r"],
    ids=["crlf", "lf", "cr"],
)
def test_line_endings(tmp_path: Path, newline_style: str) -> None:
    text = newline_style.join(["a,b", "1,2", "3,4", "5,6"]) + newline_style
    table = read_table(write(tmp_path, text))
    assert cells(table) == [["1", "2"], ["3", "4"], ["5", "6"]]
    assert lines(table) == [2, 3, 4]


def test_mixed_line_endings_and_no_final_newline(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b\r\n1,2\n3,4\r5,6\r\n7,8"))
    assert cells(table) == [["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"]]
    assert lines(table) == [2, 3, 4, 5]


def test_quoted_multiline_cells_and_the_lines_after_them(tmp_path: Path) -> None:
    text = (
        "Handle,Body,Price\r\n"  # line 1
        'a,"<p>one\r\n'  # line 2
        "two\r\n"  # line 3
        'three</p>",1\r\n'  # line 4
        "b,plain,2\r\n"  # line 5
        'c,"x\n'  # line 6: bare LF inside a CRLF file
        'y",3\r\n'  # line 7
        'd,"p\r'  # line 8: bare CR inside a cell
        'q",4\r\n'  # line 9
        "e,last,5\r\n"  # line 10
    )
    table = read_table(write(tmp_path, text))
    assert lines(table) == [2, 5, 6, 8, 10]
    assert table.frame["Body"].tolist() == [
        "<p>one\r\ntwo\r\nthree</p>",
        "plain",
        "x\ny",
        "p\rq",
        "last",
    ]
    assert table.frame[PARSE_ERROR].tolist() == [""] * 5


def test_multiline_cell_in_a_cr_only_file(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, 'a,b\r1,"x\ry"\r2,z\r'))
    assert cells(table) == [["1", "x\ry"], ["2", "z"]]
    assert lines(table) == [2, 4]


def test_line_separator_in_a_cell_is_not_a_line_break(tmp_path: Path) -> None:
    text = "a,b\n1,first\u2028second\u2029third\x85fourth\n2,z\n"
    table = read_table(write(tmp_path, text))
    assert cells(table) == [["1", "first\u2028second\u2029third\x85fourth"], ["2", "z"]]
    assert lines(table) == [2, 3]


def test_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    text = "\n\r\na,b\n\n1,2\r\n\r\n\r\n3,4\n\n"
    table = read_table(write(tmp_path, text))
    assert cells(table) == [["1", "2"], ["3", "4"]]
    assert lines(table) == [5, 8]


def test_row_of_empty_cells_is_kept(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b,c,d\n1,2,3,4\n,,,\n5,6,7,8\n"))
    assert cells(table) == [["1", "2", "3", "4"], ["", "", "", ""], ["5", "6", "7", "8"]]
    assert lines(table) == [2, 3, 4]
    assert table.frame[PARSE_ERROR].tolist() == ["", "", ""]


def test_whitespace_only_line_is_a_record(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b\n  \n1,2\n"))
    assert cells(table) == [["  ", ""], ["1", "2"]]
    assert lines(table) == [2, 3]
    assert table.frame[PARSE_ERROR].iloc[0] != ""


# --- cells are left alone; only the header is cleaned ---------------------------------


def test_cells_are_not_modified(tmp_path: Path) -> None:
    raw = ["00123", "'0042", "3.65E+11", "  padded  ", "TRUE", "NaN", "=SUM(A1)", "1,5"]
    text = "a,b,c,d,e,f,g,h\n" + ",".join(f'"{v}"' if "," in v else v for v in raw) + "\n"
    table = read_table(write(tmp_path, text))
    assert cells(table) == [raw]
    assert table.frame[PARSE_ERROR].tolist() == [""]


def test_header_cells_are_stripped_and_empty_ones_named(tmp_path: Path) -> None:
    text = " Handle ,\ufeffTitle\t,,  ,Price,\n1,2,3,4,5,6\n"
    table = read_table(write(tmp_path, text))
    assert table.header == ["Handle", "Title", "column_3", "column_4", "Price", "column_6"]
    assert cells(table) == [["1", "2", "3", "4", "5", "6"]]


def test_generated_name_does_not_clash_with_a_real_one(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,,column_2\n1,2,3\n"))
    assert table.header == ["a", "column_2_2", "column_2"]


# --- ragged rows ----------------------------------------------------------------------


def test_short_row_is_padded_and_flagged(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b,c,d,e\n1,2,3\n4,5,6,7,8\n"))
    assert cells(table) == [["1", "2", "3", "", ""], ["4", "5", "6", "7", "8"]]
    assert table.frame[PARSE_ERROR].tolist() == [
        "the row has 3 cells but the header has 5; the missing cells were left empty",
        "",
    ]


def test_long_row_keeps_its_extra_cells_in_the_parse_error(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b,c\n1,2,3,x,y\n4,5,6\n"))
    assert cells(table) == [["1", "2", "3"], ["4", "5", "6"]]
    assert table.frame[PARSE_ERROR].tolist() == [
        "the row has 5 cells but the header has 3; extra cells: 'x', 'y'",
        "",
    ]
    assert lines(table) == [2, 3]


def test_single_cell_row(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "a,b\nonly\n"))
    assert cells(table) == [["only", ""]]
    assert table.frame[PARSE_ERROR].iloc[0] == (
        "the row has 1 cell but the header has 2; the missing cells were left empty"
    )


# --- Amazon inventory templates: the header is the row of field names -----------------

TEMPLATE_TOP = (
    "TemplateType=fptcustom\tVersion=2021.1014\tTemplateSignature=U0hJUlQ=\t\t\n"
    "Product Type\tSeller SKU\tProduct Name\tKey Product Features\tKey Product Features\n"
    "feed_product_type\titem_sku\titem_name\tbullet_point1\tbullet_point2\n"
)


def test_amazon_template_is_read_below_its_preamble(tmp_path: Path) -> None:
    text = TEMPLATE_TOP + "shirt\tP1\tTee\tSoft\tWarm\nshirt\tP1-S\tTee, S\t\t\n"
    table = read_table(write(tmp_path, text, "template.txt"))
    assert table.delimiter == "\t"
    assert table.header == TEMPLATE_TOP.splitlines()[2].split("\t")
    assert cells(table) == [
        ["shirt", "P1", "Tee", "Soft", "Warm"],
        ["shirt", "P1-S", "Tee, S", "", ""],
    ]
    assert lines(table) == [4, 5]
    assert table.frame[PARSE_ERROR].tolist() == ["", ""]


def test_amazon_template_lines_follow_multiline_cells_and_a_bom(tmp_path: Path) -> None:
    text = "\ufeff" + TEMPLATE_TOP + 'shirt\tP1\t"Tee\nwith a line break"\t\t\nhat\tH1\tCap\t\t\n'
    table = read_table(write(tmp_path, text, "template.txt"))
    assert table.header[1] == "item_sku"
    assert lines(table) == [4, 6]


def test_amazon_template_saved_as_csv_with_a_short_first_row(tmp_path: Path) -> None:
    text = (
        "TemplateType=fptcustom,Version=2021.1014\n"
        "Product Type,Seller SKU,Product Name\n"
        "feed_product_type,sku,item_name\n"
        "shirt,P1,Tee\n"
    )
    table = read_table(write(tmp_path, text))
    assert table.delimiter == ","
    assert table.header == ["feed_product_type", "sku", "item_name"]
    assert lines(table) == [4]


def test_read_sample_finds_the_same_template_header(tmp_path: Path) -> None:
    path = write(tmp_path, TEMPLATE_TOP + "shirt\tP1\tTee\t\t\n" * 5, "template.txt")
    sample = csv_reading.read_sample(path, max_rows=3)
    assert sample.header == read_table(path).header
    assert lines(sample) == [4, 5, 6]


def test_amazon_template_without_its_field_names_is_an_error(tmp_path: Path) -> None:
    text = "TemplateType=fptcustom\tVersion=2021.1014\nSKU\tProduct Name\nP1\tTee\n"
    error = read_error(write(tmp_path, text, "template.txt"))
    assert error.line == 1
    assert "no row within 10 lines of it holds the field names" in str(error)


def test_a_file_whose_first_cell_only_mentions_a_template_is_read_as_usual(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "Note,Value\nTemplateType=fptcustom,1\n"))
    assert table.header == ["Note", "Value"]
    assert cells(table) == [["TemplateType=fptcustom", "1"]]


# --- whole-file errors ----------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, b""))
    assert "products.csv" in str(error)
    assert "the file is empty" in str(error)


@pytest.mark.parametrize("data", [b"\n\n\r\n", b"   \n\t\n", b"\xef\xbb\xbf\n"])
def test_blank_file_is_empty(tmp_path: Path, data: bytes) -> None:
    error = read_error(write(tmp_path, data))
    assert str(error).startswith("products.csv: the file is empty")


def test_file_name_override_is_used_in_messages(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, b"", name="upload-1234.tmp"), "catalog.csv")
    assert error.file_name == "catalog.csv"
    assert str(error).startswith("catalog.csv: ")


def test_binary_file_with_nul_bytes(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, b"a,b\n1,2\n\x00\x01\x02\x03binary", name="image.csv"))
    assert error.line is None
    assert str(error).startswith("image.csv: does not look like a text file (binary content")
    assert "line 3" in str(error)


def test_excel_workbook_is_binary(tmp_path: Path) -> None:
    data = b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 4
    error = read_error(write(tmp_path, data, name="products.xlsx"))
    assert "products.xlsx: does not look like a text file" in str(error)
    assert "Excel" in str(error)


def test_control_characters_mean_binary(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, b"a,b\n" + b"\x01\x02\x03\x04x,y\x05\x06\n" * 50))
    assert "does not look like a text file (binary content" in str(error)
    assert "control characters" in str(error)


def test_utf16_without_bom_gets_a_hint(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "a,b\n1,2\n".encode("utf-16-le")))
    assert "binary content" in str(error)
    assert "UTF-16" in str(error)


@pytest.mark.parametrize(
    ("text", "kind", "line"),
    [
        ('[{"handle": "a"}]\n', "JSON", 1),
        ('\n  {"handle": "a",\n "title": "b"}\n', "JSON", 2),
        ("<!DOCTYPE html>\n<html><body>Not found</body></html>\n", "HTML or XML", 1),
        ('<?xml version="1.0"?>\n<products/>\n', "HTML or XML", 1),
    ],
)
def test_json_html_and_xml_are_not_tables(tmp_path: Path, text: str, kind: str, line: int) -> None:
    error = read_error(write(tmp_path, text, name="feed.csv"))
    assert str(error).startswith(f"feed.csv, line {line}: looks like {kind}, not a CSV table")


def test_no_delimiter_in_the_header(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "Handle\nmug\ncap\n"))
    assert error.line == 1
    assert str(error).startswith(
        "products.csv, line 1: could not find a column delimiter in the header "
        "(tried ',', ';', tab, '|' and every other punctuation character in the header); "
        "every candidate gives a single column"
    )


def test_header_only(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "\nHandle,Title,Price\n\n\n"))
    assert error.line == 2
    assert str(error) == "products.csv, line 2: the file has a header (3 columns) but no rows"


def test_duplicated_header_name(tmp_path: Path) -> None:
    text = "Handle,Title,Body,Vendor,Type,Tags, Title \n" + ",".join("1234567") + "\n"
    error = read_error(write(tmp_path, text))
    assert error.line == 1
    assert error.column == "Title"
    assert str(error) == (
        "products.csv, line 1, column 'Title': the header names column 'Title' twice "
        "(columns 2 and 7); rename one"
    )


def test_header_names_differing_in_case_are_not_duplicates(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "Title,title\n1,2\n"))
    assert table.header == ["Title", "title"]


def test_reserved_header_name(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, "a,_source_line\n1,2\n"))
    assert error.line == 1
    assert error.column == "_source_line"


def test_unterminated_quote_at_end_of_file(tmp_path: Path) -> None:
    text = 'Handle,Body,Price\n1,ok,2\nmug,"<p>never closed,3\n4,5,6\n7,8,9\n'
    error = read_error(write(tmp_path, text))
    assert error.line == 3
    assert error.column == "Body"
    assert str(error).startswith(
        "products.csv, line 3, column 'Body': a quoted cell that starts here is never closed"
    )


def test_unterminated_quote_in_the_last_line_without_newline(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, 'a,b\r\n1,2\r\n3,"4'))
    assert error.line == 3
    assert error.column == "b"
    assert "never closed" in str(error)


def test_unterminated_quote_in_the_header(tmp_path: Path) -> None:
    error = read_error(write(tmp_path, 'a,"b,c\n1,2,3\n'))
    assert error.line == 1
    assert "never closed" in str(error)


def test_closed_quote_on_the_last_line_without_newline_is_fine(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, 'a,b\n1,"x\ny"'))
    assert cells(table) == [["1", "x\ny"]]


def test_csv_error_names_the_line_where_the_record_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_reading, "_FIELD_SIZE_LIMIT", 50)
    limit_before = csv.field_size_limit()
    text = 'a,b\n1,2\n3,"' + "x\n" * 40 + "\n5,6\n"
    error = read_error(write(tmp_path, text))
    assert error.line == 3
    assert "never closed" in str(error)
    assert csv.field_size_limit() == limit_before


def test_long_cells_are_read(tmp_path: Path) -> None:
    body = "<p>" + "x" * 300_000 + "</p>"
    table = read_table(write(tmp_path, f'a,b\n1,"{body}"\n2,3\n'))
    assert table.frame["b"].tolist() == [body, "3"]


# --- real public files ----------------------------------------------------------------


def stdlib_record_count(path: Path, encoding: str, delimiter: str) -> int:
    text = path.read_bytes().decode(encoding)
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    return len(records) - 1


@pytest.mark.parametrize(
    ("relative", "encoding", "delimiter", "records"),
    [
        ("levinmejia-shopify-product-csvs/jewelry.csv", "utf-8", ",", 30),
        ("shopifypartners-product-csvs/jewelery.csv", "utf-8", ",", 41),
        ("woocommerce-sample-products/sample_products.csv", "utf-8-sig", ",", 25),
        ("pyjedai-abt-buy/abt.csv", "utf-8", "|", 1076),
        ("magellan-amazon-google/tableA.csv", "latin-1", ",", 1363),
    ],
)
def test_public_datasets(
    datasets_dir: Path, relative: str, encoding: str, delimiter: str, records: int
) -> None:
    path = datasets_dir / relative
    expected = stdlib_record_count(path, encoding, delimiter)
    assert expected == records
    table = read_table(path)
    assert table.encoding == encoding
    assert table.delimiter == delimiter
    assert len(table.frame) == expected
    assert table.frame[PARSE_ERROR].eq("").all()
    starts = table.frame[SOURCE_LINE].tolist()
    assert starts[0] == 2
    assert all(a < b for a, b in itertools.pairwise(starts))


def test_jewelry_line_numbers_follow_multiline_cells(datasets_dir: Path) -> None:
    path = datasets_dir / "levinmejia-shopify-product-csvs/jewelry.csv"
    table = read_table(path)
    starts = table.frame[SOURCE_LINE].tolist()
    assert starts[0] == 2
    assert all(a < b for a, b in itertools.pairwise(starts))
    # Every record's first physical line begins with its (unquoted) handle cell.
    text = path.read_bytes().decode("utf-8")
    physical = io.StringIO(text, newline="").readlines()
    for start, handle in zip(starts, table.frame["Handle"], strict=True):
        assert physical[start - 1].startswith(handle + ",")


def test_unicode_line_separator_dataset(datasets_dir: Path) -> None:
    table = read_table(datasets_dir / "shopifypartners-product-csvs/jewelery.csv")
    assert table.frame[table.header].apply(lambda c: c.str.contains("\u2028")).any().any()
