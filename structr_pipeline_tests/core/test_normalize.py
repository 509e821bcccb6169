"""Each normalization rule on the cell values that real exports carry."""

from __future__ import annotations

import pytest

from structr_pipeline.core.normalize import (
    clean_text,
    gtin_check_digit,
    is_valid_gtin,
    normalize_barcode,
    normalize_status,
    normalize_tags,
    parse_number,
    parse_price,
    parse_whole_number,
    sanitize_html,
)


def test_clean_text_trims_and_normalizes_unicode() -> None:
    assert clean_text("  Merino\u00a0Crew  ") == "Merino Crew"
    assert clean_text("\ufeffCafe\u0301") == "Café"  # BOM gone, combining accent composed (NFC)
    assert clean_text("two\nlines\u2028here") == "two lines here"
    assert clean_text("zero\u200bwidth") == "zerowidth"
    assert clean_text("a\r\nb\u2028c", multiline=True) == "a\nb\nc"
    assert clean_text("") == ""


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1,299.00", 1299.0),
        ("1.299,00", 1299.0),
        ("$12", 12.0),
        ("12 €", 12.0),
        ("€ 12,50", 12.5),
        ("29,90", 29.9),
        ("1,299", 1299.0),
        ("0,500", 0.5),
        ("1 206 ", 1206.0),
        ("1\u00a0299,95 EUR", 1299.95),
        ("69.71 gbp", 69.71),
        ("CHF 1'299.50", 1299.5),
        ("-5", -5.0),
        (".99", 0.99),
        ("129.00", 129.0),
        ("1.234.567", 1234567.0),
    ],
)
def test_prices_in_the_ways_people_write_them(text: str, amount: float) -> None:
    assert parse_price(text) == (amount, None)


@pytest.mark.parametrize("text", ["abc", "12.34.5", "1,2,3", "$", "12-5", "1.299,00.5", "€12,3,4"])
def test_what_is_not_a_price_says_so(text: str) -> None:
    amount, reason = parse_price(text)
    assert amount is None
    assert reason is not None and f"'{text}' is not a price" in reason


def test_empty_price_is_no_price_and_no_error() -> None:
    assert parse_price("") == (None, None)
    assert parse_price("   ") == (None, None)


def test_numbers_and_whole_numbers() -> None:
    assert parse_number("226.796185") == (226.796185, None)
    assert parse_number("0,5") == (0.5, None)
    assert parse_whole_number("12") == (12, None)
    assert parse_whole_number("-3") == (-3, None)
    assert parse_whole_number("1,200") == (1200, None)
    assert parse_whole_number("12.0") == (12, None)
    assert parse_whole_number("12.5")[1] == "'12.5' is not a whole number"
    assert parse_whole_number("many")[1] == "'many' is not a whole number"
    assert parse_whole_number("") == (None, None)


def test_gtin_check_digits() -> None:
    assert gtin_check_digit("400638133393") == 1
    assert is_valid_gtin("4006381333931")  # EAN-13
    assert is_valid_gtin("012345678905")  # UPC-A
    assert is_valid_gtin("96385074")  # EAN-8
    assert is_valid_gtin("00012345678905")  # GTIN-14
    assert not is_valid_gtin("4006381333932")
    assert not is_valid_gtin("12345")
    assert not is_valid_gtin("40063813339a")


def test_barcodes_stay_text_and_spreadsheet_damage_is_reported() -> None:
    assert normalize_barcode("012345678905").value == "012345678905"
    unquoted = normalize_barcode("'030955168517")
    assert (unquoted.value, unquoted.check, unquoted.unquoted) == ("030955168517", None, True)

    restored = normalize_barcode("30955168517")
    assert restored.value == "030955168517"
    assert restored.check == "barcode_leading_zero"

    lost = normalize_barcode("3.65275E+11")
    assert lost.value == ""
    assert lost.check == "barcode_scientific_notation"
    assert "3.65275E+11" in (lost.message or "")

    short = normalize_barcode("'12345")
    assert (short.value, short.check, short.unquoted) == ("12345", "barcode_not_gtin", True)
    assert "5 digits" in (short.message or "")
    assert normalize_barcode("63810-1000").check == "barcode_not_gtin"
    assert normalize_barcode("4006 3813 3393 1").value == "4006381333931"
    assert normalize_barcode("").value == ""


def test_html_is_sanitized_and_active_content_is_reported() -> None:
    dirty = (
        "<p>Hand-glazed.</p><script>alert('x')</script>"
        '<p onclick="steal()">Fits #2 filters.</p>'
        '<a href="javascript:alert(1)">x</a><img src="a.jpg" onerror="boom()">'
    )
    result = sanitize_html(dirty)
    for gone in ("<script", "alert('x')", "onclick", "javascript:", "onerror"):
        assert gone not in result.html
    assert "<p>Hand-glazed.</p>" in result.html
    assert result.active
    assert "<script>" in result.removed and "onclick= attributes" in result.removed


def test_html_keeps_storefront_markup_and_drops_junk_quietly() -> None:
    html = (
        '<meta charset="utf-8"><p class="lead" style="color: red; position: fixed">Soft</p>'
        '<a href="https://example.com/care" target="_blank">Care guide</a>'
    )
    result = sanitize_html(html)
    assert 'class="lead"' in result.html
    assert "color:red" in result.html.replace(" ", "")
    assert "position" not in result.html
    assert 'target="_blank"' in result.html
    assert "<meta" not in result.html
    assert not result.active and "<meta>" in result.removed
    assert sanitize_html(result.html).html == result.html  # idempotent: a re-import is stable


def test_plain_text_description_is_escaped_not_rewritten() -> None:
    assert sanitize_html("Cotton & linen").html == "Cotton &amp; linen"
    assert sanitize_html("Cotton & linen").removed == ()
    assert sanitize_html("").html == ""


def test_tags_and_status() -> None:
    assert normalize_tags(" merino,knitwear , ,Merino, winter ") == "merino, knitwear, winter"
    assert normalize_status(" Active ") == "active"
