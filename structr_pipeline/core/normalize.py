"""Cell-level normalization: text, prices and other numbers, barcodes, tags and HTML.

Every parser takes the text of one cell and returns the cleaned value, or the reason it
cannot be read, as a sentence a person can act on. They know nothing of rows or columns;
``validation.py`` attaches the line and the column.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import nh3

from structr_pipeline.core.values import map_distinct

# Characters that only get in the way in catalog text: BOMs inside cells, zero-width
# spaces and joiners, soft hyphens.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ALL_WHITESPACE = re.compile(r"\s+")
_FORMULA_MARKS = ("=", "+", "-", "@")


def clean_text(value: str, multiline: bool = False) -> str:
    """Trim and Unicode-normalize (NFC) one cell.

    Invisible characters (U+FEFF, zero-width spaces, soft hyphens) are removed and
    no-break and other Unicode spaces become plain spaces. A single-line value has every
    run of whitespace, line breaks included, collapsed to one space; a multi-line value
    keeps its line breaks as ``\\n``. The apostrophe a spreadsheet export puts before a
    cell starting with ``=``, ``+``, ``-`` or ``@`` (so it is not run as a formula) goes.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFC", value.translate(_INVISIBLE))
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
        text = _SPACES.sub(lambda m: " " if m.group(0) != "\t" else "\t", text).strip()
    else:
        text = _ALL_WHITESPACE.sub(" ", _SPACES.sub(" ", text)).strip()
    if text[:1] == "'" and text[1:2] in _FORMULA_MARKS:
        text = text[1:]
    return text


def clean_all(values: list[str], multiline: bool = False) -> list[str]:
    """``clean_text`` over a column, computed once per distinct value."""
    return map_distinct(values, lambda value: clean_text(value, multiline))


# Currency symbols and ISO codes a price cell may carry before or after the amount.
CURRENCY = re.compile(
    r"(?i)(?:[A-Z]{2}\$|\$|€|£|¥|₹|₩|₽|₺|₪|₫|zł|kr\.?|"
    r"\b(?:usd|eur|gbp|cad|aud|nzd|chf|jpy|cny|sek|nok|dkk|pln|czk|huf|inr|brl|mxn|zar)\b)"
)
_THOUSANDS_MARKS = re.compile(r"[\s\u00a0\u202f\u2009']")
_NUMBER_SHAPE = re.compile(r"[+-]?[\d.,]*\d[\d.,]*")
_GROUPED = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


def _to_float(text: str) -> float | None:
    """Read a number written with ``.`` or ``,`` as the decimal separator, or None."""
    if not _NUMBER_SHAPE.fullmatch(text):
        return None
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        whole, _, fraction = text.rpartition(decimal)
        if not _GROUPED.fullmatch(whole) and thousands in whole:
            return None
        if thousands in fraction or decimal in whole:
            return None
        text = whole.replace(thousands, "") + "." + fraction
    elif "," in text or "." in text:
        mark = "," if "," in text else "."
        whole, _, fraction = text.partition(mark)
        if text.count(mark) > 1:
            if not _GROUPED.fullmatch(text):
                return None
            text = text.replace(mark, "")
        elif len(fraction) == 3 and whole not in ("", "0") and mark == ",":
            # 1,299 is one thousand two hundred and ninety-nine; 29,90 is a decimal comma.
            text = whole + fraction
        else:
            text = whole + "." + fraction
    try:
        return float(sign + text)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def parse_price(value: str) -> tuple[float | None, str | None]:
    """Read a money amount: ``1,299.00``, ``1.299,00``, ``$12``, ``12 €``, ``29,90``.

    Returns ``(amount, None)``, ``(None, None)`` for an empty cell, or ``(None, reason)``.
    Currency symbols and codes are dropped; the sign is kept (range checks come later).
    """
    text = clean_text(value)
    if not text:
        return None, None
    bare = _THOUSANDS_MARKS.sub("", CURRENCY.sub("", text))
    amount = _to_float(bare)
    if amount is None:
        return None, f"'{value}' is not a price (expected a number such as 12.99 or 12,99)"
    return amount, None


@lru_cache(maxsize=65536)
def parse_number(value: str) -> tuple[float | None, str | None]:
    """Read a plain number (``.`` or ``,`` decimals, thousands separators allowed)."""
    text = clean_text(value)
    if not text:
        return None, None
    amount = _to_float(_THOUSANDS_MARKS.sub("", text))
    if amount is None:
        return None, f"'{value}' is not a number"
    return amount, None


@lru_cache(maxsize=65536)
def parse_whole_number(value: str) -> tuple[int | None, str | None]:
    """Read a whole number such as an inventory count (``12``, ``-3``, ``1,200``, ``12.0``)."""
    amount, error = parse_number(value)
    if error or amount is None:
        return None, (f"'{value}' is not a whole number" if error else None)
    if not amount.is_integer():
        return None, f"'{value}' is not a whole number"
    return int(amount), None


def normalize_tags(value: str) -> str:
    """Tags as ``a, b, c``: trimmed, empty ones dropped, repeats (any case) removed."""
    seen: set[str] = set()
    tags = []
    for tag in clean_text(value).split(","):
        tag = tag.strip()
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            tags.append(tag)
    return ", ".join(tags)


GTIN_LENGTHS = (8, 12, 13, 14)
_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?[eE][+]?\d+")


def gtin_check_digit(body: str) -> int:
    """The check digit for a GTIN body (all digits but the last), weights 3,1,3,… from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_gtin_shaped(value: str) -> bool:
    """True for a digit string of GTIN length (8, 12, 13 or 14), whatever its check digit."""
    return value.isascii() and value.isdigit() and len(value) in GTIN_LENGTHS


def is_valid_gtin(digits: str) -> bool:
    """True for a GTIN-8/12/13/14 digit string whose check digit is right."""
    return (
        digits.isdigit()
        and len(digits) in GTIN_LENGTHS
        and gtin_check_digit(digits[:-1]) == int(digits[-1])
    )


@dataclass(frozen=True)
class Barcode:
    """A cleaned barcode; ``check``/``message`` say what needs a person's attention."""

    value: str
    check: str | None = None
    message: str | None = None
    unquoted: bool = False


@lru_cache(maxsize=65536)
def normalize_barcode(value: str) -> Barcode:
    """Clean a barcode cell, always as text (leading zeros are data).

    A spreadsheet's leading apostrophe (``'030955168517``, as Shopify writes barcodes) is
    removed and flagged as ``unquoted``. Reported through ``check`` and ``message``: an
    11-digit UPC that lost its leading zero (restored), a value in scientific notation
    (``3.65275E+11``: its digits are lost, so it is left empty) and a value that is not a
    GTIN at all (kept as it is). Check digits are verified by the schema, not here.
    """
    text = clean_text(value)
    if not text:
        return Barcode("")
    unquoted = text.startswith("'")
    text = text.lstrip("'").strip()
    if _SCIENTIFIC.fullmatch(text):
        return Barcode(
            "",
            "barcode_scientific_notation",
            f"'{value}' is in scientific notation, so a spreadsheet has already lost its "
            "digits; the barcode was left empty (export the column as text and import again)",
            unquoted,
        )
    compact = text.replace(" ", "")
    if not compact.isdigit():
        return Barcode(
            text, "barcode_not_gtin", f"'{text}' is not all digits, so it is not a GTIN", unquoted
        )
    if len(compact) == 11 and is_valid_gtin("0" + compact):
        return Barcode(
            "0" + compact,
            "barcode_leading_zero",
            f"'{compact}' lost the leading zero of its UPC-12; restored as '0{compact}'",
            unquoted,
        )
    if len(compact) not in GTIN_LENGTHS:
        return Barcode(
            compact,
            "barcode_not_gtin",
            f"'{compact}' has {len(compact)} digits, so it is not a GTIN-8, -12, -13 or -14",
            unquoted,
        )
    return Barcode(compact, unquoted=unquoted)


# What a product description may keep: nh3's safe defaults plus the presentation
# attributes storefront themes rely on (classes, link targets, a filtered ``style``).
_HTML_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "style", "title", "lang", "dir"},
    "a": {"href", "hreflang", "target", "title"},
    "img": {"src", "alt", "width", "height", "title", "loading"},
    "table": {"summary", "align", "width", "border", "cellpadding", "cellspacing"},
}
_STYLE_PROPERTIES = {
    "color",
    "background-color",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-transform",
    "line-height",
    "letter-spacing",
    "vertical-align",
    "white-space",
    "width",
    "height",
    "max-width",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-collapse",
    "list-style-type",
}
# Markup whose removal means the input tried to run code or pull in other content.
_ACTIVE_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input",
    "button", "link", "base", "svg", "math",
}  # fmt: skip
_TAG_NAMES = re.compile(r"<\s*([a-zA-Z][\w:-]*)")
_ATTRIBUTE_NAMES = re.compile(r"""[\s"'/]([a-zA-Z_:][\w:.-]*)\s*=""")
_JS_URL = re.compile(r"(?i)javascript\s*:")
_TAG_BODY = re.compile(r"<[^>]*>")


def _markup_counts(html: str) -> tuple[Counter[str], Counter[str]]:
    tags = Counter(t.lower() for t in _TAG_NAMES.findall(html))
    attributes: Counter[str] = Counter()
    for body in _TAG_BODY.findall(html):
        attributes.update(a.lower() for a in _ATTRIBUTE_NAMES.findall(body))
    return tags, attributes


@dataclass(frozen=True)
class SanitizedHtml:
    """A sanitized description, what the sanitizer removed, and whether any of it was active."""

    html: str
    removed: tuple[str, ...] = ()
    active: bool = False


@lru_cache(maxsize=16384)
def sanitize_html(value: str) -> SanitizedHtml:
    """Sanitize a description with nh3, keeping the markup a storefront needs.

    Removed: scripts and other active content (``<script>``, ``<iframe>``, forms,
    ``on…=`` event handlers, ``javascript:`` links) and markup with no place in a
    description (``<meta>``, ``<style>``, unknown attributes). ``removed`` lists what
    went; ``active`` says whether any of it could have run code. Text without markup
    comes back unchanged but for HTML escaping (``&`` becomes ``&amp;``).
    """
    text = clean_text(value, multiline=True)
    if not text:
        return SanitizedHtml("")
    # Cleaned again afterwards: removed markup can leave whitespace at the edges.
    cleaned = clean_text(
        nh3.clean(text, attributes=_HTML_ATTRIBUTES, filter_style_properties=_STYLE_PROPERTIES),
        multiline=True,
    )
    if "<" not in text and "javascript" not in text.lower():
        return SanitizedHtml(cleaned)
    tags_before, attributes_before = _markup_counts(text)
    tags_after, attributes_after = _markup_counts(cleaned)
    gone_tags = sorted(tags_before - tags_after)
    gone_attributes = sorted(attributes_before - attributes_after)
    scripts = len(_JS_URL.findall(text)) > len(_JS_URL.findall(cleaned))
    removed = [f"<{t}>" for t in gone_tags] + [f"{a}= attributes" for a in gone_attributes]
    if scripts:
        removed.append("javascript: links")
    active = (
        scripts
        or any(t in _ACTIVE_TAGS for t in gone_tags)
        or any(a.startswith("on") for a in gone_attributes)
    )
    return SanitizedHtml(cleaned, tuple(removed), active)


STATUSES = ("active", "draft", "archived")


def normalize_status(value: str) -> str:
    """A product status in lower case (``Active`` → ``active``); validity is the schema's job."""
    return clean_text(value).lower()
