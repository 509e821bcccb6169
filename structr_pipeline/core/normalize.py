"""Cell-level normalization: text, prices and other numbers, barcodes, tags and HTML.

Every parser takes the text of one cell and returns the cleaned value, or the reason it
cannot be read, as a sentence a person can act on. They know nothing of rows or columns;
``validation.py`` attaches the line and the column.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from urllib.parse import urlsplit

import nh3

from structr_pipeline.core.values import map_distinct

# Characters that only get in the way in catalog text: BOMs inside cells, zero-width
# spaces and joiners, soft hyphens.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u2060\u00ad"), None)
# A zero-width joiner is kept only where it joins two emoji (👨‍👩‍👧 is one family).
_ZWJ = re.compile("\u200d")
_EMOJI_SIDE = {"So", "Sk"}
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile(r"[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_ALL_WHITESPACE = re.compile(r"\s+")
_FORMULA_MARKS = ("=", "+", "-", "@")
# What the exporters escape with an apostrophe: formula marks and leading control characters.
_ESCAPED_MARKS = (*_FORMULA_MARKS, "\t", "\r", "\n")


def _joiner(text: str, at: int) -> str:
    before = text[at - 1] if at else ""
    if before == "\ufe0f" and at > 1:
        before = text[at - 2]
    after = text[at + 1] if at + 1 < len(text) else ""
    joins_emoji = (
        before
        and after
        and unicodedata.category(before) in _EMOJI_SIDE
        and unicodedata.category(after) in _EMOJI_SIDE
    )
    return "\u200d" if joins_emoji else ""


def clean_text(value: str, multiline: bool = False) -> str:
    """Trim and Unicode-normalize (NFC) one cell.

    Invisible characters (U+FEFF, zero-width spaces, soft hyphens) are removed and
    no-break and other Unicode spaces become plain spaces. A single-line value has every
    run of whitespace, line breaks included, collapsed to one space; a multi-line value
    keeps its line breaks as ``\\n``. The apostrophe a spreadsheet export (or structr's own
    exporters) puts before a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a line
    break (so it is not run as a formula) goes.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFC", value.translate(_INVISIBLE))
    if "\u200d" in text:
        text = _ZWJ.sub(lambda m: _joiner(m.string, m.start()), text)
    if text[:1] == "'" and text[1:2] in _ESCAPED_MARKS:
        text = text[1:]
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


# What the catalog store (``store/db.py``) and a Shopify import can hold. Money columns
# are NUMERIC(14, 4): ten digits before the point, four after. Weights get the same
# ceiling in grams (10,000 tonnes: anything heavier is a unit mistake). Inventory counts
# stay within a 32-bit signed integer, the range of Shopify's inventory quantities.
MONEY_PLACES = 4
MONEY_LIMIT = Decimal(10) ** 10
WEIGHT_LIMIT = MONEY_LIMIT
WHOLE_NUMBER_MIN = -(2**31)
WHOLE_NUMBER_MAX = 2**31 - 1
_MONEY_STEP = Decimal(1).scaleb(-MONEY_PLACES)
# Half a cent: a smaller amount that is not zero would be shown and published as 0.00.
_CENT_HALF = Decimal("0.005")
_NON_FINITE = re.compile(r"(?i)[+-]?(?:inf(?:inity)?|nan)")
_SHOWN_LENGTH = 40


class OutOfRange(str):
    """A reason saying a cell was read as a number that the catalog cannot hold."""


def _shown(value: str) -> str:
    """A cell as quoted in a reason: long cells (400-digit numbers) cut to 40 characters."""
    return value if len(value) <= _SHOWN_LENGTH else value[: _SHOWN_LENGTH - 1] + "…"


def _to_decimal(text: str) -> Decimal | None:
    """Read a number written with ``.`` or ``,`` as the decimal separator exactly, or None."""
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
        return Decimal(sign + text)
    except InvalidOperation:
        return None


def _not_a_number(value: str, bare: str, what: str) -> str:
    if _NON_FINITE.fullmatch(bare):
        return f"'{_shown(value)}' is not {what}: it is not a finite number"
    return f"'{_shown(value)}' is not {what}"


@lru_cache(maxsize=65536)
def parse_price(value: str) -> tuple[float | None, str | None]:
    """Read a money amount: ``1,299.00``, ``1.299,00``, ``$12``, ``12 €``, ``29,90``.

    Returns ``(amount, None)``, ``(None, None)`` for an empty cell, or ``(None, reason)``.
    Currency symbols and codes are dropped; the sign is kept (the schema rejects negative
    amounts). The amount is rounded half-even to four decimals, what the catalog keeps
    (``12.34567`` → ``12.3457``); an amount that would round to 0 (``0.00001``), is not
    finite (``inf``, ``nan``) or is 10,000,000,000 or more is refused with an
    ``OutOfRange`` reason.
    """
    text = clean_text(value)
    if not text:
        return None, None
    bare = _THOUSANDS_MARKS.sub("", CURRENCY.sub("", text))
    amount = _to_decimal(bare)
    if amount is None:
        reason = _not_a_number(value, bare, "a price")
        if not _NON_FINITE.fullmatch(bare):
            reason += " (expected a number such as 12.99 or 12,99)"
        return None, reason
    too_large = OutOfRange(
        f"'{_shown(value)}' is out of range: a price must be below 10,000,000,000 "
        "(the catalog keeps ten digits before the decimal point)"
    )
    if abs(amount) >= MONEY_LIMIT:
        return None, too_large
    rounded = amount.quantize(_MONEY_STEP, rounding=ROUND_HALF_EVEN)
    if abs(rounded) >= MONEY_LIMIT:
        return None, too_large
    if rounded.is_zero() or abs(amount) < _CENT_HALF:
        if not amount.is_zero():
            return None, OutOfRange(
                f"'{_shown(value)}' would be published as 0.00: a price that is not zero "
                "must be at least 0.005"
            )
        return 0.0, None
    return float(rounded), None


@lru_cache(maxsize=65536)
def parse_number(value: str) -> tuple[float | None, str | None]:
    """Read a plain number (``.`` or ``,`` decimals, thousands separators allowed).

    Only finite numbers are returned: one too large for a float (``1`` and 400 zeros) is
    refused with an ``OutOfRange`` reason; ``-0`` reads as ``0``.
    """
    text = clean_text(value)
    if not text:
        return None, None
    bare = _THOUSANDS_MARKS.sub("", text)
    amount = _to_decimal(bare)
    if amount is None:
        return None, _not_a_number(value, bare, "a number")
    number = float(amount)
    if not math.isfinite(number):
        return None, OutOfRange(f"'{_shown(value)}' is out of range: the number is too large")
    return (0.0 if number == 0 else number), None


@lru_cache(maxsize=65536)
def parse_weight(value: str) -> tuple[float | None, str | None]:
    """Read a weight in grams (``parse_number``), refusing 10,000,000,000 g or more."""
    number, problem = parse_number(value)
    if number is not None and abs(number) >= WEIGHT_LIMIT:
        return None, OutOfRange(
            f"'{_shown(value)}' is out of range: a weight must be below 10,000,000,000 grams"
        )
    return number, problem


@lru_cache(maxsize=65536)
def parse_whole_number(value: str) -> tuple[int | None, str | None]:
    """Read a whole number such as an inventory count (``12``, ``-3``, ``1,200``, ``12.0``).

    A count outside a 32-bit signed integer (-2,147,483,648 to 2,147,483,647), which
    neither the catalog's nor Shopify's inventory holds, is refused with an
    ``OutOfRange`` reason.
    """
    text = clean_text(value)
    if not text:
        return None, None
    bare = _THOUSANDS_MARKS.sub("", text)
    amount = _to_decimal(bare)
    if amount is None:
        return None, _not_a_number(value, bare, "a whole number")
    if amount != amount.to_integral_value():
        return None, f"'{_shown(value)}' is not a whole number"
    if not WHOLE_NUMBER_MIN <= amount <= WHOLE_NUMBER_MAX:
        return None, OutOfRange(
            f"'{_shown(value)}' is out of range: a whole number here must be between "
            f"{WHOLE_NUMBER_MIN:,} and {WHOLE_NUMBER_MAX:,}"
        )
    return int(amount), None


# Characters that end an HTML attribute or a CSV-quoted cell, or that browsers rewrite
# (a backslash becomes ``/``), so an image URL holding one is never passed on.
_URL_BREAKERS = frozenset("\"'`<>\\")
WEB_SCHEMES = ("http", "https")


@lru_cache(maxsize=65536)
def image_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a product image address, or None when it can.

    Only an absolute ``http://`` or ``https://`` URL with a host name is accepted, and
    only without whitespace, quotes, backticks, backslashes, ``<``, ``>`` or control
    and other invisible characters: ``javascript:``, ``data:``, ``file:``, relative and
    protocol-relative (``//cdn…``) addresses are all refused.
    """
    shown = _shown(url)
    if any(c in _URL_BREAKERS or c.isspace() or unicodedata.category(c)[0] in "CZ" for c in url):
        return (
            f"'{shown}' is not a usable image URL: it holds a space, quote, backslash, "
            "'<', '>' or control character"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return f"'{shown}' is not a valid URL"
    if not parts.scheme:
        if url.startswith("//"):
            return f"'{shown}' is not an image URL: it names no scheme (write it with https:)"
        return (
            f"'{shown}' is a relative path, not an image URL (the mapping profile's "
            "image_base_url option makes such paths URLs)"
        )
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"'{shown}' is not an image URL: only http:// and https:// addresses are accepted"
    if not parts.hostname:
        return f"'{shown}' is not an image URL: it names no host"
    return None


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


def gtin14(barcode: str) -> str:
    """A valid GTIN-8/12/13/14 as GTIN-14 (zero-padded), or ``''`` for anything else."""
    digits = str(barcode).strip()
    return digits.zfill(14) if is_valid_gtin(digits) else ""


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
