"""A guard against product copy that states what the source data does not.

``check_facts`` looks through every field of a ``ProductCopy`` for numbers (with their
units), materials, certifications and marketing claims, and flags each one the product
facts do not support. Terms are found case-insensitively, hyphens and spaces alike
(``OEKO-TEX`` = ``Oeko Tex``); numbers are compared by value (``1,299.00`` = ``1299``,
``100 %`` = ``100%``). A number the facts give is supported, unless both carry a unit and
the facts never give it in the copy's unit (``5 lb`` against ``5 kg``). It is a word
check, not understanding: "not waterproof" in the facts supports "waterproof".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from structr_pipeline.core.generation.copy import ProductCopy, html_to_text
from structr_pipeline.core.normalize import parse_number

# --- Vocabularies (English; a hyphen or space in a term matches either, or none). ---------

MATERIALS = (
    "cotton", "merino", "merino wool", "wool", "lambswool", "alpaca", "mohair", "cashmere",
    "angora", "silk", "linen", "hemp", "bamboo", "jute", "sisal", "ramie", "polyester",
    "recycled polyester", "nylon", "polyamide", "elastane", "spandex", "lycra", "viscose",
    "rayon", "modal", "lyocell", "tencel", "acrylic", "microfiber", "microfibre", "fleece",
    "denim", "canvas", "corduroy", "velvet", "satin", "chiffon", "tweed", "goose down",
    "duck down", "leather", "genuine leather", "full-grain leather", "top-grain leather",
    "suede", "nubuck", "faux leather", "vegan leather", "faux fur", "neoprene", "gore-tex",
    "steel", "stainless steel", "carbon steel", "cast iron", "wrought iron", "aluminium",
    "aluminum", "titanium", "copper", "brass", "bronze", "zinc", "pewter", "sterling silver",
    "solid gold", "gold-plated", "silver-plated", "platinum", "glass", "tempered glass",
    "borosilicate glass", "crystal", "ceramic", "porcelain", "stoneware", "earthenware",
    "terracotta", "marble", "granite", "slate", "concrete", "wood", "wooden", "solid wood",
    "hardwood", "oak", "walnut", "teak", "pine", "beech", "maple", "birch", "cherry wood",
    "acacia", "mango wood", "plywood", "mdf", "rattan", "wicker", "cork", "rubber",
    "natural rubber", "latex", "silicone", "plastic", "abs", "polypropylene", "polyethylene",
    "polycarbonate", "polyurethane", "pvc", "vinyl", "acrylic glass", "carbon fiber",
    "carbon fibre", "fiberglass", "beeswax", "soy wax", "paraffin",
)  # fmt: skip

CERTIFICATIONS = (
    "organic", "certified organic", "usda organic", "gots", "fsc", "pefc", "oeko-tex",
    "oeko-tex standard 100", "bluesign", "fair trade", "fairtrade", "b corp", "grs",
    "global recycled standard", "rws", "responsible wool standard", "rds",
    "responsible down standard", "cradle to cradle", "eu ecolabel", "nordic swan",
    "energy star", "ce", "ul", "etl", "fcc", "rohs", "reach", "ukca", "fda approved",
    "fda-cleared", "vegan", "cruelty-free", "leaping bunny", "peta-approved", "kosher",
    "halal", "gluten-free", "non-gmo", "bpa-free", "phthalate-free", "paraben-free",
    "lead-free", "nickel-free", "latex-free", "pfas-free", "pfc-free",
)  # fmt: skip

CLAIMS = (
    "waterproof", "water-resistant", "water-repellent", "windproof", "weatherproof",
    "breathable", "hypoallergenic", "antibacterial", "antimicrobial", "anti-allergy",
    "non-toxic", "chemical-free", "toxin-free", "all-natural", "100% natural",
    "eco-friendly", "environmentally friendly", "planet-friendly", "sustainable",
    "sustainably sourced", "ethically sourced", "ethically made", "carbon neutral",
    "climate neutral", "biodegradable", "compostable", "recyclable", "recycled",
    "plastic-free", "zero waste", "best", "best-selling", "bestseller", "best seller",
    "#1", "number one", "world's best", "award-winning", "guaranteed", "guarantee",
    "lifetime warranty", "money-back", "clinically proven", "clinically tested",
    "dermatologically tested", "scientifically proven", "doctor recommended",
    "dermatologist recommended", "patented", "medical grade", "food-safe", "food-grade",
    "dishwasher safe", "microwave safe", "oven safe", "machine washable", "shrink-proof",
    "stain-resistant", "scratch-resistant", "shatterproof", "unbreakable", "indestructible",
    "fireproof", "flame-retardant", "uv protection", "handmade", "handcrafted",
    "hand-stitched", "limited edition", "free shipping", "lowest price", "cheapest",
)  # fmt: skip

# Short acronyms found in the copy only in capitals ("CE", not "ce"; "REACH", not "reach").
CASE_SENSITIVE = ("CE", "UL", "ETL", "FCC", "REACH", "ABS", "MDF", "GRS", "RWS", "RDS")

# Units a number may carry, each canonical unit with the ways it is written.
UNITS: dict[str, tuple[str, ...]] = {
    "%": ("%", "percent", "per cent"),
    "°C": ("°c", "ºc", "° c", "degrees c", "degrees celsius", "celsius"),
    "°F": ("°f", "ºf", "° f", "degrees f", "degrees fahrenheit", "fahrenheit"),
    "°": ("°", "º", "degrees", "degree"),
    "mg": ("mg",),
    "g": ("g", "gram", "grams", "gsm"),
    "kg": ("kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"),
    "lb": ("lb", "lbs", "pound", "pounds"),
    "oz": ("oz", "ounce", "ounces", "fl oz"),
    "ml": ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    "cl": ("cl",),
    "l": ("l", "litre", "litres", "liter", "liters"),
    "mm": ("mm", "millimetre", "millimetres", "millimeter", "millimeters"),
    "cm": ("cm", "centimetre", "centimetres", "centimeter", "centimeters"),
    "m": ("m", "metre", "metres", "meter", "meters"),
    "km": ("km",),
    "inch": ("inch", "inches", '"', "″"),
    "ft": ("ft", "foot", "feet"),
    "W": ("w", "watt", "watts"),
    "kW": ("kw",),
    "V": ("v", "volt", "volts"),
    "mAh": ("mah",),
    "Wh": ("wh", "kwh"),
    "GB": ("gb",),
    "TB": ("tb",),
    "MB": ("mb",),
    "Hz": ("hz", "khz", "ghz"),
    "carat": ("ct", "kt", "carat", "carats", "karat", "karats"),
    "year": ("year", "years", "yr", "yrs"),
    "month": ("month", "months"),
    "week": ("week", "weeks"),
    "day": ("day", "days"),
    "hour": ("hour", "hours", "h", "hr", "hrs"),
    "minute": ("minute", "minutes", "min", "mins"),
    "second": ("second", "seconds", "sec", "secs"),
    "x": ("x",),
    "piece": ("piece", "pieces", "pc", "pcs", "pack", "packs"),
    "thread count": ("thread count", "tc"),
}

# --- Matching ------------------------------------------------------------------------------

KINDS = ("number", "unit", "material", "certification", "claim")
_KIND_WORDS = {"material": "a material", "certification": "a certification", "claim": "a claim"}
_SEPARATOR = r"[\s\-‐‑–]*"
_TERM_SPLIT = re.compile(r"[\s\-]+")


def _term_pattern(term: str) -> str:
    return r"(?<!\w)" + _SEPARATOR.join(map(re.escape, _TERM_SPLIT.split(term))) + r"(?!\w)"


def _term_regex(term: str, for_copy: bool) -> re.Pattern[str]:
    exact = for_copy and term.upper() in CASE_SENSITIVE
    return re.compile(_term_pattern(term.upper() if exact else term), 0 if exact else re.I)


def _term_key(text: str) -> str:
    return " ".join(_TERM_SPLIT.split(text.lower()))


_TERMS: list[tuple[str, str, re.Pattern[str], re.Pattern[str], str]] = [
    (kind, term, _term_regex(term, True), _term_regex(term, False), _term_key(term))
    for kind, terms in (
        ("material", MATERIALS),
        ("certification", CERTIFICATIONS),
        ("claim", CLAIMS),
    )
    for term in dict.fromkeys(terms)
]

# One scan finds which terms a text may hold; only those are then matched one by one.
# Terms indexed by their first word, and by their words written together ("oekotex"): a
# term can only occur in a text holding all its words, or that one word.
_WORD = re.compile(r"\w+")
_BY_FIRST_WORD: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
_BY_JOINED: dict[str, list[int]] = {}
for _index, _entry in enumerate(_TERMS):
    _words = tuple(_WORD.findall(_entry[4]))
    _BY_FIRST_WORD.setdefault(_words[0], []).append((_index, _words[1:]))
    if len(_words) > 1:
        _BY_JOINED.setdefault("".join(_words), []).append(_index)

_UNIT_OF = {alias: unit for unit, aliases in UNITS.items() for alias in aliases}
_UNIT_ALTERNATION = "|".join(
    _SEPARATOR.join(map(re.escape, alias.split(" ")))
    for alias in sorted(_UNIT_OF, key=len, reverse=True)
)
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<number>\d+(?:[.,]\d+)*)"
    rf"(?:\s?[-‐‑–]?\s?(?P<unit>{_UNIT_ALTERNATION})(?!\w))?",
    re.I,
)


def _unit(text: str | None) -> str | None:
    if not text:
        return None
    return _UNIT_OF.get(re.sub(r"[\s\-‐‑–]+", " ", text.lower()).strip())


def _values(number: str) -> list[float]:
    """The value(s) of a number as written; a list such as ``3,4,5`` gives each one."""
    value, _ = parse_number(number)
    if value is not None:
        return [round(abs(value), 6)]
    return [round(float(part), 6) for part in re.split(r"[.,]", number) if part]


@dataclass(frozen=True)
class Finding:
    """Something the copy states that the facts do not support."""

    field: str  # which ProductCopy field
    kind: str  # "number" | "unit" | "material" | "certification" | "claim"
    text: str  # the unsupported fragment as it appears
    message: str  # a sentence for the user and for the model's retry


def _fact_strings(value: Any, key: str = "") -> Iterator[str]:
    """Every piece of text in the facts (image URLs excepted: their digits are no facts)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _fact_strings(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _fact_strings(v, key)
    elif isinstance(value, str) and key != "src":
        yield value
    elif isinstance(value, int) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, float) and math.isfinite(value):
        yield repr(value)


class _Facts:
    """The facts as one searchable text and the numbers it gives, with their units."""

    def __init__(self, facts: dict) -> None:
        self.text = "\n".join(_fact_strings(facts))
        self.numbers: dict[float, set[str | None]] = {}
        for match in _NUMBER.finditer(self.text):
            for value in _values(match.group("number")):
                self.numbers.setdefault(value, set()).add(_unit(match.group("unit")))
        self._terms: dict[str, bool] = {}

    def has_term(self, term: str, pattern: re.Pattern[str]) -> bool:
        if term not in self._terms:
            self._terms[term] = pattern.search(self.text) is not None
        return self._terms[term]


def _copy_texts(copy: ProductCopy) -> Iterator[tuple[str, str, str]]:
    """(field, label for messages, text) for every piece of the copy."""
    yield "seo_title", "The SEO title", copy.seo_title
    yield "title", "The title", copy.title
    yield "description_html", "The description", html_to_text(copy.description_html)
    for i, bullet in enumerate(copy.bullets, 1):
        yield "bullets", f"Bullet {i}", bullet
    yield "meta_description", "The meta description", copy.meta_description
    for i, alt in enumerate(copy.image_alt, 1):
        yield "image_alt", f"The alt text of image {i}", alt


def _candidates(text: str, facts: _Facts) -> list[tuple[int, int, str, str]]:
    """(start, end, kind, detail) of every term and number in one text; kind is "" when the
    facts support it (it still claims its span, so a supported "stainless steel" hides
    "steel" and an unsupported one is flagged whole)."""
    found = []
    # The text's words pick the terms that may occur; each one's own pattern decides.
    words = set(_WORD.findall(text.lower()))
    picked: set[int] = set()
    for word in words:
        for index, rest in _BY_FIRST_WORD.get(word, ()):
            if all(w in words for w in rest):
                picked.add(index)
        picked.update(_BY_JOINED.get(word, ()))
    candidates = [_TERMS[index] for index in sorted(picked)]
    for kind, term, in_copy, in_facts, _ in candidates:
        for match in in_copy.finditer(text):
            flagged = "" if facts.has_term(term, in_facts) else kind
            found.append((match.start(), match.end(), flagged, _KIND_WORDS[kind]))
    for match in _NUMBER.finditer(text):
        unit = _unit(match.group("unit"))
        values = _values(match.group("number"))
        kind, detail = "", ""
        for value in values:
            units = facts.numbers.get(value)
            shown = f"{value:g}"
            if units is None:
                kind, detail = "number", f"the number {shown} does not appear in the product facts"
                break
            if unit is not None and unit not in units and None not in units:
                given = ", ".join(sorted(f"{shown} {u}" for u in units if u))
                kind, detail = "unit", f"the product facts give {shown} only as {given}"
                break
        found.append((match.start(), match.end(), kind, detail))
    return found


def _message(label: str, kind: str, text: str, detail: str) -> str:
    if kind in ("number", "unit"):
        return f"{label} states '{text}', but {detail}; remove it or use what the facts give."
    return (
        f"{label} mentions '{text}' ({detail}), which the product facts do not state; "
        "remove it unless the facts support it."
    )


def check_facts(copy: ProductCopy, facts: dict) -> list[Finding]:
    """Flag every number, unit, material, certification and claim the facts do not support.

    ``facts`` is what the model was given (``product_facts``); all its text counts, case
    aside, and numbers are compared by value. Findings follow the copy's field order and
    position, once per field and fragment.
    """
    known = _Facts(facts)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for field, label, text in _copy_texts(copy):
        taken: list[tuple[int, int]] = []
        kept = []
        for start, end, kind, detail in sorted(
            _candidates(text, known), key=lambda c: (c[0] - c[1], c[0])
        ):
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            if kind:
                kept.append((start, kind, text[start:end], detail))
        for _, kind, fragment, detail in sorted(kept):
            if (field, fragment.lower()) in seen:
                continue
            seen.add((field, fragment.lower()))
            findings.append(Finding(field, kind, fragment, _message(label, kind, fragment, detail)))
    return findings


def format_findings(findings: list[Finding]) -> str:
    """Findings as ``- field: message`` lines, the ``feedback`` for ``build_messages``."""
    return "\n".join(f"- {f.field}: {f.message}" for f in findings)
