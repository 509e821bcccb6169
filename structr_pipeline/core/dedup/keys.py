"""Text keys for product matching: names, title words, model numbers, brands and colours.

A name key is the brand and the name without accents, case or punctuation
(``name_key``); products that share one are linked by the exact rules of ``merge``.

A model number is a token that mixes letters and digits and is at least four characters
long once ``-``, ``/``, ``.`` and spaces are removed and it is lower-cased, so
``KDL-40V2500``, ``kdl40v2500`` and ``KDL 40V2500`` are one key. Quantities with a unit
(``1080p``, ``16GB``, ``28-135mm``, ``802.11g``) and counted words (``8-Port``,
``2-Way``) look like that too but name no product, so they are not model numbers.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from structr_pipeline.core.normalize import clean_text
from structr_pipeline.core.values import fold_text

MIN_MODEL_LENGTH = 4
# A model number made of digits only (a part number such as 910-000153) needs more
# digits than a year, a wattage or a screen resolution has.
MIN_DIGIT_MODEL_LENGTH = 6

_MAX_TAIL_SPACES = 2
# Short words that never start a model number written in two parts ("for RG-59").
_GLUE_WORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "fits", "for", "from", "in", "new", "of", "on",
     "or", "pack", "set", "the", "to", "up", "with"}
)  # fmt: skip
# "grade 6", "Volume 2", "part 11": a word and its number, not a model number.
_NUMBERED_WORD = re.compile(r"^[^\W\d_]{3,} \d{1,3}$")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PUNCT = re.compile(r"[^\w]+")
_SPACES = re.compile(r"\s+")
# Letters of any script and digits (a word may be "café"; a model number is ASCII).
_ALNUM_RUNS = re.compile(r"[^\W_]+")
# Title tokens are separated by whitespace and punctuation other than - / . which often
# sit inside model numbers (PS-LX350H, MB942Z/A, F3H982-10).
_TOKEN_SPLIT = re.compile(r"[\s,;:()\[\]{}\"'`!?*+&|<>=~^#%@$®™©]+")
_UNITS = (
    "mm|cm|km|m|in|inch|inches|ft|feet|yd|gb|tb|mb|kb|ghz|mhz|khz|hz|w|kw|watt|watts|v|"
    "mah|ah|mp|lb|lbs|oz|g|kg|ml|l|p|i|k|x|st|nd|rd|th|pk|pc|pcs|ct|min|mins|hr|hrs|db|"
    "ms|bit|bits|bps|kbps|mbps|gbps|gal|qt|cu|ppm|dpi|rpm|fps|cc|btu|amp|amps|ohm|ohms|lines|"
    "disc|discs"
)
# 1080p, 16gb, 28135mm, 2nd, 4x6in, 100x, 3.5-5.6: a number with a unit, not a model.
_QUANTITY = re.compile(rf"^\d+(?:x\d+)*(?:{_UNITS})$")
# 8port, 2way, 16bit, 3shelf: a count and a word.
_COUNTED_WORD = re.compile(r"^\d{1,2}[a-z]{3,}$")
# 802.11g and f/3.5-5.6 (Wi-Fi standards and lens apertures), win32 and x64 (platforms),
# class10 (a memory card's speed class), rg59 and cat5e (cable standards).
_SPEC = re.compile(
    r"^(?:802\d+[a-z]*|f\d{2,}|\d+(?:ghz|mhz|gb|tb|mb)\d*|win(?:16|32|64|95|98)|x(?:64|86)"
    r"|class\d{1,2}|rg\d{1,3}|cat\d[a-z]?)$"
)
# Tokens that look like model numbers once compacted but are a version (v10.0, v.2.1)
# or a count of something (215-Sheet, 12-Outlet).
_NOT_A_CODE = re.compile(
    r"^(?:v\.?\d+(?:\.\d+)+|\d+-(?:sheets?|pages?|packs?|pieces?|rolls?|count|cups?|"
    r"ports?|outlets?|discs?|shelf|shelves|channels?|speeds?|users?|years?))$"
)


def ascii_fold(text: str) -> str:
    """Accents dropped (``ÉX-1000`` → ``EX-1000``), other non-ASCII characters removed."""
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def normalize_name(text: str) -> str:
    """A name without accents, case or punctuation: ``'Crew-Neck Café!'`` → ``'crew neck cafe'``."""
    return _SPACES.sub(" ", _PUNCT.sub(" ", ascii_fold(str(text)).casefold())).strip()


def name_key(title: str, vendor: str) -> str:
    """Normalized brand and name (accents, case, punctuation ignored); empty if either is."""
    name, brand = normalize_name(title), normalize_name(vendor)
    return f"{brand}|{name}" if name and brand else ""


def compact(text: str) -> str:
    """Lower-case ASCII letters and digits only: ``"Sony PS-LX350H"`` → ``"sonypslx350h"``.

    The text is folded by ``values.fold_text`` first, so full-width, ligature and
    case-folded spellings (``ß`` → ``ss``) give the same key.
    """
    return _NON_ALNUM.sub("", ascii_fold(fold_text(text)).lower())


def normalize_model(value: str) -> str:
    """A model number as a key: lower-cased, without ``-``, ``/``, ``.``, spaces or other marks."""
    return compact(clean_text(value))


def is_model_code(code: str) -> bool:
    """True for a normalized token that looks like a model or part number."""
    if len(code) < MIN_MODEL_LENGTH:
        return False
    if code.isdigit():
        return len(code) >= MIN_DIGIT_MODEL_LENGTH
    if code.isalpha():
        return False
    return not (_QUANTITY.match(code) or _COUNTED_WORD.match(code) or _SPEC.match(code))


class TitleKeys(NamedTuple):
    """What ``title_tokens`` finds in a title."""

    words: list[str]
    codes: list[str]
    joined: list[str]


def title_tokens(text: str) -> TitleKeys:
    """Split a title into words, model codes and joined codes.

    Words are case-folded (``values.fold_text``) runs of letters and digits, except that a
    model number is kept whole (``PS-LX350H`` gives the word ``pslx350h``, not ``ps`` and
    ``lx350h``). Codes are the model numbers in title order. Joined codes are a short
    letter word joined to the model number after it (``MDR EX32LP/BLK`` gives
    ``mdrex32lpblk``).
    """
    words: list[str] = []
    codes: list[str] = []
    joined: list[str] = []
    previous = ""
    for raw in _TOKEN_SPLIT.split(fold_text(text)):
        raw = raw.strip("-/.")
        if not raw:
            continue
        code = _NON_ALNUM.sub("", ascii_fold(raw))
        if is_model_code(code) and not _NOT_A_CODE.match(raw):
            words.append(code)
            codes.append(code)
            if previous.isalpha() and 2 <= len(previous) <= 4 and previous not in _GLUE_WORDS:
                joined.append(previous + code)
            previous = ""
            continue
        parts = _ALNUM_RUNS.findall(raw)
        words.extend(parts)
        previous = parts[-1] if len(parts) == 1 else ""
    return TitleKeys(words, codes, joined)


def code_core(code: str) -> str:
    """A model number without its trailing letters (a colour or region suffix), or "".

    ``nnh965wh`` → ``nnh965``; "" when what is left is shorter than 4 characters or has no
    letter (``5020fd`` → "").
    """
    core = code.rstrip("abcdefghijklmnopqrstuvwxyz")
    if core == code or len(core) < MIN_MODEL_LENGTH or core.isdigit():
        return ""
    return core


def trailing_code(title: str) -> str:
    """The model number written at the end of a title after `` - `` (``… Switch - EZXS88W``).

    A tail of up to three words is read as one code (``… - MDR EX32LP/BLK``).
    """
    head, sep, tail = title.rpartition(" - ")
    if not sep or not head.strip():
        return ""
    tail = tail.strip()
    if not tail or tail.count(" ") > _MAX_TAIL_SPACES or _NUMBERED_WORD.match(tail):
        return ""
    code = compact(tail)
    return code if is_model_code(code) else ""


def primary_code(title: str, codes: list[str], model: str = "") -> str:
    """The one model number that best names the product.

    The ``model`` column when it holds a model number, else the code after a trailing
    `` - ``, else the longest code in the title that mixes letters and digits (the
    first of equals), else the longest all-digit code.
    """
    given = normalize_model(model)
    if is_model_code(given):
        return given
    tail = trailing_code(title)
    if tail:
        return tail
    return max(codes, key=lambda code: (not code.isdigit(), len(code)), default="")


def brand_key(vendor: str, words: list[str]) -> str:
    """The brand as a key: the first word of the vendor, else the first word of the title."""
    if vendor:
        parts = _ALNUM_RUNS.findall(fold_text(vendor))
        if parts:
            return parts[0]
    for word in words[:1]:
        if word.isalpha() and len(word) >= 2:
            return word
    return ""


# Colour words and the colour codes that end model numbers, as one colour each.
_COLOUR_WORDS = {
    "black": "black", "white": "white", "silver": "silver", "stainless": "silver",
    "chrome": "silver", "red": "red", "blue": "blue", "navy": "blue", "pink": "pink",
    "green": "green", "gold": "gold", "gray": "gray", "grey": "gray", "graphite": "gray",
    "brown": "brown", "bisque": "beige", "beige": "beige", "purple": "purple",
    "orange": "orange", "yellow": "yellow", "titanium": "titanium", "violet": "purple",
    "lavender": "purple", "teal": "green", "turquoise": "blue", "aqua": "blue",
    "cyan": "blue", "magenta": "pink", "ivory": "beige", "tan": "beige",
    "charcoal": "gray", "bronze": "bronze", "copper": "bronze",
}  # fmt: skip
_COLOUR_SUFFIXES = {
    "b": "black", "bk": "black", "blk": "black", "w": "white", "wh": "white",
    "wht": "white", "whi": "white", "s": "silver", "ss": "silver", "sil": "silver",
    "slv": "silver", "pk": "pink", "pnk": "pink", "rd": "red", "tt": "titanium",
}  # fmt: skip

COLOURS = tuple(sorted(set(_COLOUR_WORDS.values())))


def colours(words: list[str], code: str) -> frozenset[str]:
    """The colours a title names, in words or as the suffix of its model number."""
    found = {_COLOUR_WORDS[w] for w in words if w in _COLOUR_WORDS}
    suffix = code[len(code_core(code)) :] if code_core(code) else ""
    if suffix in _COLOUR_SUFFIXES:
        found.add(_COLOUR_SUFFIXES[suffix])
    return frozenset(found)


# Units a title states a quantity in, as (dimension, factor to the dimension's base unit).
_MEASURE_UNITS = {
    "kb": ("storage", 1e-6), "mb": ("storage", 1e-3), "gb": ("storage", 1.0),
    "tb": ("storage", 1e3),
    "mm": ("length", 1.0), "cm": ("length", 10.0), "m": ("length", 1000.0),
    "meter": ("length", 1000.0), "meters": ("length", 1000.0),
    "metre": ("length", 1000.0), "metres": ("length", 1000.0),
    "in": ("length", 25.4), "inch": ("length", 25.4), "inches": ("length", 25.4),
    '"': ("length", 25.4),
    "ft": ("length", 304.8), "foot": ("length", 304.8), "feet": ("length", 304.8),
    "mp": ("resolution", 1.0), "megapixel": ("resolution", 1.0),
    "megapixels": ("resolution", 1.0),
    "w": ("power", 1.0), "watt": ("power", 1.0), "watts": ("power", 1.0),
    "kw": ("power", 1e3), "va": ("apparent power", 1.0),
    "v": ("voltage", 1.0), "volt": ("voltage", 1.0), "volts": ("voltage", 1.0),
    "mah": ("charge", 1.0),
    "hz": ("frequency", 1e-6), "khz": ("frequency", 1e-3), "mhz": ("frequency", 1.0),
    "ghz": ("frequency", 1e3),
    "yr": ("term", 12.0), "yrs": ("term", 12.0), "year": ("term", 12.0),
    "years": ("term", 12.0), "month": ("term", 1.0), "months": ("term", 1.0),
    "pack": ("count", 1.0), "pk": ("count", 1.0), "count": ("count", 1.0),
    "ct": ("count", 1.0), "pcs": ("count", 1.0), "pieces": ("count", 1.0),
    "user": ("seats", 1.0), "users": ("seats", 1.0),
    "port": ("ports", 1.0), "ports": ("ports", 1.0),
    "cup": ("cups", 1.0), "cups": ("cups", 1.0),
    "x": ("zoom", 1.0),
}  # fmt: skip
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_MEASURE = re.compile(
    rf"(?<![a-z0-9.,]){_NUMBER}\s*-?\s*"
    rf"({'|'.join(sorted(map(re.escape, _MEASURE_UNITS), key=len, reverse=True))})"
    r"(?![a-z0-9])"
)
# "5x" is a zoom only written as one token; "4 x 6" is a size.
_SPACED_X = re.compile(r"\d\s+-?\s*x$")
_EDITION_YEAR = re.compile(r"(?<![a-z0-9.,])(19[89]\d|20[0-4]\d)(?![0-9])")
_VERSION = re.compile(r"(?<![a-z0-9])v(?:er(?:sion)?)?\.?\s*(\d+(?:\.\d+)?)(?![0-9])")
# Physical quantities closer than this (relatively) are one quantity written two ways
# (6 ft and 1.8 m, 12.1 and 12 megapixels); counts, years and versions must be equal.
MEASURE_TOLERANCE = 0.05
_EXACT = frozenset({"count", "seats", "ports", "cups", "zoom", "term", "edition", "version"})


def measures(title: str) -> dict[str, frozenset[float]]:
    """The quantities a title states, per dimension, in the dimension's base unit.

    ``"Seagate GoFlex 1 TB USB 2.0 … 6-Pack"`` gives ``{"storage": {1000.0}, "count":
    {6.0}}``. Besides units of storage, length, resolution, power, voltage, charge,
    frequency, term, count, seats, ports, cups and zoom, a year (``2007``) is an
    ``edition`` and ``v. 10.5`` or ``version 6`` a ``version``.
    """
    text = ascii_fold(fold_text(title)).lower()
    found: dict[str, set[float]] = {}
    for match in _MEASURE.finditer(text):
        number, unit = match.groups()
        if unit == "x" and _SPACED_X.search(match.group(0)):
            continue
        dimension, factor = _MEASURE_UNITS[unit]
        found.setdefault(dimension, set()).add(float(number.replace(",", "")) * factor)
    for kind, pattern in (("edition", _EDITION_YEAR), ("version", _VERSION)):
        for match in pattern.finditer(text):
            found.setdefault(kind, set()).add(float(match.group(1)))
    return {dimension: frozenset(values) for dimension, values in found.items()}


def measures_conflict(a: dict[str, frozenset[float]], b: dict[str, frozenset[float]]) -> str:
    """The first dimension both state with no quantity in common, or "".

    Two physical quantities are one when within ``MEASURE_TOLERANCE`` of each other;
    counts, terms, years and versions are one only when equal.
    """
    for dimension in sorted(a.keys() & b.keys()):
        tolerance = 0.0 if dimension in _EXACT else MEASURE_TOLERANCE
        if not any(abs(x - y) <= tolerance * max(x, y) for x in a[dimension] for y in b[dimension]):
            return dimension
    return ""


# Words that make a listing something else than the product alone: a bundle or kit, a
# refurbished or remanufactured unit, a third-party compatible part.
_LISTING_WORDS = {
    "bundle": "bundle", "bundled": "bundle", "kit": "bundle", "combo": "bundle",
    "refurbished": "refurbished", "reconditioned": "refurbished", "renewed": "refurbished",
    "remanufactured": "refurbished", "reman": "refurbished", "used": "refurbished",
    "compatible": "compatible",
}  # fmt: skip
LISTING_KINDS = tuple(sorted(set(_LISTING_WORDS.values())))


def listing_kinds(words: list[str]) -> frozenset[str]:
    """What kind of listing a title's words say it is besides the product itself."""
    return frozenset(_LISTING_WORDS[w] for w in words if w in _LISTING_WORDS)
