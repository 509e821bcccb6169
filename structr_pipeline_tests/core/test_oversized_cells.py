"""A cell over the 16 Mi character limit is reported with its file, line and column."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.issues import SourceFileError

BIG = 17 * 1024 * 1024  # characters, over the 16 Mi (16,777,216) limit


def read_error(path: Path) -> SourceFileError:
    with pytest.raises(SourceFileError) as caught:
        read_table(path, "catalog.csv")
    return caught.value


def test_a_quoted_17_mb_description_names_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        f'sku,name,description\nA-1,Shirt,short\nA-2,Socks,"{"x" * BIG}"\nA-3,Cap,ok\n',
        encoding="utf-8",
    )
    error = read_error(path)
    assert (error.line, error.column) == (3, "description")
    assert str(error) == (
        f"catalog.csv, line 3, column 'description': the cell holds {BIG:,} characters, "
        "more than the 16,777,216 a cell may hold; shorten it"
    )


def test_an_unquoted_oversized_cell_is_found_among_its_record(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(f"sku;name;description\nA-1;Shirt;short\nA-2;{'y' * BIG};d\n", encoding="utf-8")
    error = read_error(path)
    assert (error.line, error.column) == (3, "name")
    assert f"holds {BIG:,} characters" in error.reason


def test_an_oversized_header_cell_is_counted_by_position(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(f'sku,"{"h" * BIG}",price\nA-1,x,1\n', encoding="utf-8")
    error = read_error(path)
    assert (error.line, error.column) == (1, None)
    assert error.reason.startswith(f"cell 2 of the record holds {BIG:,} characters")


def test_a_quote_never_closed_is_still_called_that(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        f'sku,name,description\nA-1,Shirt,short\nA-2,Socks,"{"x" * BIG}\nA-3,Cap,ok\n',
        encoding="utf-8",
    )
    error = read_error(path)
    assert (error.line, error.column) == (3, "description")
    assert "a quoted cell that starts here is never closed" in error.reason


def test_the_csv_field_limit_is_left_as_it_was(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    path = tmp_path / "big.csv"
    path.write_text(f'a,b\n1,"{"x" * BIG}"\n', encoding="utf-8")
    read_error(path)
    assert csv.field_size_limit() == before
