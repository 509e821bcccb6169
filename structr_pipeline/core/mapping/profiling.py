"""Value evidence: what a column's cells look like, scored against each canonical field.

``profile_column`` reads a sample of one column and returns, for every canonical field,
two numbers in [0, 1]:

- ``fit``: how compatible the values are with the field (a low fit vetoes a header that
  names the field: a "price" column full of words is not a price);
- ``signal``: how strongly the values alone point at the field, for headers that say
  nothing (``col_3``). Only distinctive shapes give a signal: GTINs, money, image URLs,
  HTML, slugs, small counts, short repeated names, category paths, statuses, codes,
  unique short text.

It also keeps what the comparison of price columns and the weight unit need.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from structr_pipeline.core.fields import CANONICAL_FIELDS
from structr_pipeline.core.mapping.vocabulary import STATUS_VALUES, STRUCTURE_TYPES, WEIGHT_UNITS
from structr_pipeline.core.normalize import (
    CURRENCY,
    clean_text,
    is_valid_gtin,
    normalize_barcode,
    parse_number,
    parse_price,
)

# Shapes are judged on at most this many non-empty cells, spread evenly over the sample.
SHAPE_SAMPLE = 300
# Shapes are judged on the start of each cell: long text is long text whatever follows.
HEAD_CHARS = 400
# Cells longer than this are not numbers, codes or barcodes, and are not parsed as such.
SHORT_CHARS = 40
# Below this many non-empty cells the fits are pulled towards neutral and values alone
# give no signal.
FEW_VALUES = 5

_HTML = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?\s*>")
_IMAGE_ITEM = re.compile(
    r"(?i)(?:https?://|//|www\.|/)?[^\s,|;]*\.(?:jpe?g|png|gif|webp|avif|bmp|tiff?|svg)"
    r"(?:[?#][^\s,|;]*)?"
)
_ITEM_SPLIT = re.compile(r"\s*[,|;\n]\s*|\s+")
_URL = re.compile(r"(?i)(?:https?://|www\.)\S+")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/#+-]{1,39}")
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMALS = re.compile(r"\d[.,](\d+)(?:\s*[^\d\s]*)$")
_LONG_DIGITS = re.compile(r"'?\d{8,}")
_WEIGHT_VALUE = re.compile(r"([+-]?\d+(?:[.,]\d+)?|[.,]\d+)\s*([a-zA-Z]+)\.?")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"(?<!\S)[^\W\d_]{2,}")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_PATH_GT = re.compile(r"[^\W_]\s*>\s*[^\W_]")
_PATH_SLASH = re.compile(r"[^\W\d_]{2,}\s*/\s*[^\W\d_]{2,}")
_LIST_SPLIT = re.compile(r"\s*[,;|]\s*")


def _pct(value: float) -> str:
    return f"{round(value * 100)}%"


def _clip(value: float) -> float:
    return max(0.0, min(1.0, value))


@dataclass(frozen=True)
class ColumnProfile:
    """What one column's sample looks like, and how well it fits each canonical field."""

    rows: int
    filled: int
    distinct_ratio: float
    fit: dict[str, float] = field(default_factory=dict)
    signal: dict[str, float] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    record_ids: bool = False
    money_share: float = 0.0
    # The unit most weight-like values carry (``2.3 kg``), and its factor to grams.
    value_unit: tuple[str, float] | None = None

    @property
    def empty(self) -> bool:
        """True when the sample has no non-empty cell in this column."""
        return self.filled == 0

    def reason(self, target: str) -> str:
        """A sentence on how the values bear on ``target`` (the summary if nothing specific)."""
        return self.reasons.get(target, self.summary)


def money_values(cells: Sequence[str]) -> np.ndarray:
    """Each cell read as a money amount (``parse_price``), NaN where empty or unreadable."""
    out = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if cell and len(cell) <= SHORT_CHARS and not _LONG_DIGITS.fullmatch(cell.strip()):
            amount, _ = parse_price(cell)
            if amount is not None:
                out[i] = amount
    return out


def _spread(values: list[str], limit: int) -> list[str]:
    """At most ``limit`` values, evenly spaced (deterministic)."""
    if len(values) <= limit:
        return values
    step = len(values) / limit
    return [values[int(i * step)] for i in range(limit)]


def _is_record_ids(values: list[str]) -> bool:
    """Unique whole numbers in a dense range: the row or record ids of an export."""
    if len(values) < FEW_VALUES or not all(_INTEGER.fullmatch(v) for v in values):
        return False
    numbers = [int(v) for v in values]
    unique = len(set(numbers))
    return unique >= 0.98 * len(numbers) and max(numbers) - min(numbers) + 1 <= 3 * unique + 10


class _Shape(NamedTuple):
    """The shape of one cell."""

    length: int
    words: int
    letters: bool
    gtin: bool
    digit_code: bool
    money: float | None
    dec2: bool
    dec_long: bool
    currency: bool
    integer: int | None
    unit: str | None
    numeric: bool
    image: bool
    image_abs: bool
    url: bool
    html: bool
    long_text: bool
    sentences: bool
    slug: bool
    slug_any: bool
    code: bool
    short_text: bool
    short_any: bool
    status: bool
    structure: bool
    path_gt: bool
    path_slash: bool
    path_lines: bool
    lists: bool
    wordy: bool


@lru_cache(maxsize=16384)
def _shape(head: str, length: int) -> _Shape:
    """Classify one stripped, non-empty cell from its start and its length."""
    text = clean_text(head, multiline=True) or "?"
    short = text if length <= SHORT_CHARS else ""
    words = len(text.split())
    letters = bool(_LETTER.search(text))

    barcode = normalize_barcode(short)
    money = None
    if short and not _LONG_DIGITS.fullmatch(short):
        money = parse_price(short.replace("\n", " "))[0]
    decimals = _DECIMALS.search(short) if money is not None else None
    integer = int(short) if _INTEGER.fullmatch(short) else None
    unit_match = _WEIGHT_VALUE.fullmatch(short)
    unit = unit_match.group(2).casefold() if unit_match else None
    if unit not in WEIGHT_UNITS:
        unit = None

    items = [i for i in _ITEM_SPLIT.split(text) if i]
    if length > HEAD_CHARS and items:
        items.pop()  # the head may end inside an item
    image = bool(items) and all(_IMAGE_ITEM.fullmatch(i) for i in items)
    url = bool(_URL.match(text))
    slug_any = bool(_SLUG.fullmatch(text))
    lowered = short.casefold()
    parts = _LIST_SPLIT.split(text)
    return _Shape(
        length=length,
        words=words,
        letters=letters,
        gtin=barcode.check in (None, "barcode_leading_zero") and is_valid_gtin(barcode.value),
        # Digit codes of GTIN length, and GTINs a spreadsheet turned into 3.65275E+11.
        digit_code=(barcode.value.isdigit() and 8 <= len(barcode.value) <= 14)
        or barcode.check == "barcode_scientific_notation",
        money=money,
        dec2=decimals is not None and len(decimals.group(1)) == 2,
        dec_long=decimals is not None and len(decimals.group(1)) > 3,
        currency=money is not None and bool(CURRENCY.search(short)),
        integer=integer,
        unit=unit,
        numeric=bool(short) and (unit is not None or parse_number(short)[0] is not None),
        image=image,
        image_abs=image and "//" in items[0],
        url=url,
        html=bool(_HTML.search(text)),
        long_text=words >= 12 or length >= 100,
        sentences=len(_SENTENCE_END.findall(text)) >= 2,
        slug=slug_any and "-" in text,
        slug_any=slug_any,
        code=bool(_CODE.fullmatch(short))
        and (any(ch.isdigit() for ch in short) or "-" in short or "_" in short or short.isupper())
        and not (money is not None and "." in short and not letters),
        short_text=bool(short) and letters and words <= 4 and "\n" not in short,
        short_any=bool(short) and words <= 4 and length <= 30,
        status=lowered in STATUS_VALUES,
        structure=bool(lowered) and all(p in STRUCTURE_TYPES for p in _LIST_SPLIT.split(lowered)),
        path_gt=bool(_PATH_GT.search(text)),
        path_slash=bool(_PATH_SLASH.search(text)) and not url,
        # Magento's sample data writes category levels on separate lines: "Gear\nBags".
        path_lines="\n" in short and all(0 < len(ln.split()) <= 4 for ln in short.split("\n")),
        lists=len(parts) >= 2 and all(0 < len(p.split()) <= 4 for p in parts),
        # At least half the words are words, not numbers: not "6.75 x 5.75 x 5.5 inches".
        wordy=len(_WORD.findall(text)) * 2 >= max(words, 1),
    )


def _is_money(shape: _Shape) -> bool:
    return shape.money is not None


def _is_int(shape: _Shape) -> bool:
    return shape.integer is not None


def _weighted_median(pairs: list[tuple[float, int]]) -> float:
    if not pairs:
        return 0.0
    pairs = sorted(pairs)
    half = sum(c for _, c in pairs) / 2
    running = 0
    for value, count in pairs:
        running += count
        if running >= half:
            return value
    return pairs[-1][0]


def profile_column(cells: Sequence[str]) -> ColumnProfile:
    """Profile one column's sample cells (``str``; empty cells are ignored)."""
    values = [v for v in (c.strip() for c in cells) if v]
    rows, filled = len(cells), len(values)
    if not values:
        return ColumnProfile(rows=rows, filled=0, distinct_ratio=0.0, summary="no values")
    distinct = len(set(values)) / filled
    record_ids = _is_record_ids(values)
    counts = Counter(_spread(values, SHAPE_SAMPLE))
    shapes = [(_shape(v[:HEAD_CHARS], len(v)), n) for v, n in counts.items()]
    stats = _Stats(shapes, distinct, record_ids)
    fit, signal, reasons = stats.scores()
    if filled < FEW_VALUES:
        weight = filled / FEW_VALUES
        fit = {k: 0.6 + (v - 0.6) * weight for k, v in fit.items()}
        signal = dict.fromkeys(signal, 0.0)
    fill = filled / rows if rows else 0.0
    signal = {k: v * min(1.0, 0.6 + fill) for k, v in signal.items()}
    return ColumnProfile(
        rows=rows,
        filled=filled,
        distinct_ratio=distinct,
        fit={k: round(_clip(v), 4) for k, v in fit.items()},
        signal={k: round(_clip(v), 4) for k, v in signal.items()},
        reasons=reasons,
        summary=stats.summary(filled),
        record_ids=record_ids,
        money_share=stats.money,
        value_unit=stats.value_unit,
    )


class _Stats:
    """Shares of cell shapes over a column's shape sample, and the scores they give."""

    def __init__(self, shapes: list[tuple[_Shape, int]], distinct: float, record_ids: bool):
        self.shapes = shapes
        self.n = sum(n for _, n in shapes)
        self.distinct = distinct
        self.record_ids = record_ids
        share = self._share
        self.median_words = _weighted_median([(s.words, n) for s, n in shapes])
        self.median_len = _weighted_median([(s.length, n) for s, n in shapes])
        self.letters = share(lambda s: s.letters)
        self.gtin = share(lambda s: s.gtin)
        self.digit_code = share(lambda s: s.digit_code)
        self.money = share(lambda s: s.money is not None)
        self.dec2 = share(lambda s: s.dec2, within=_is_money)
        self.dec_long = share(lambda s: s.dec_long, within=_is_money)
        self.currency = share(lambda s: s.currency, within=_is_money)
        self.negative = share(lambda s: s.money < 0, within=_is_money)
        self.ints = share(lambda s: s.integer is not None)
        self.nonneg = share(lambda s: s.integer >= 0, within=_is_int)
        self.int_median = _weighted_median([(s.integer, n) for s, n in shapes if _is_int(s)])
        self.bool01 = share(lambda s: s.integer in (0, 1) and s.length == 1)
        self.unit_share = share(lambda s: s.unit is not None)
        self.value_unit: tuple[str, float] | None = None
        if self.unit_share >= 0.5:
            units: Counter[str] = Counter()
            for s, n in shapes:
                if s.unit:
                    units[s.unit] += n
            unit = units.most_common(1)[0][0]
            self.value_unit = (unit, WEIGHT_UNITS[unit])
        self.numeric = share(lambda s: s.numeric)
        self.image = share(lambda s: s.image)
        self.image_abs = share(lambda s: s.image_abs)
        self.url = share(lambda s: s.url)
        self.html = share(lambda s: s.html)
        self.long_text = share(lambda s: s.long_text)
        self.sentences = share(lambda s: s.sentences)
        self.slug = share(lambda s: s.slug)
        self.slug_any = share(lambda s: s.slug_any)
        self.code = share(lambda s: s.code)
        self.short_text = share(lambda s: s.short_text)
        self.short_any = share(lambda s: s.short_any)
        self.status = share(lambda s: s.status)
        self.structure = share(lambda s: s.structure)
        self.path_gt = share(lambda s: s.path_gt)
        self.path_slash = share(lambda s: s.path_slash)
        self.path_lines = share(lambda s: s.path_lines)
        self.lists = share(lambda s: s.lists)
        self.wordy = share(lambda s: s.wordy)

    def _share(
        self, test: Callable[[_Shape], bool], within: Callable[[_Shape], bool] | None = None
    ):
        """Weighted share of cells passing ``test`` (among those passing ``within``)."""
        total = hits = 0
        for shape, n in self.shapes:
            if within is None or within(shape):
                total += n
                if test(shape):
                    hits += n
        return hits / total if total else 0.0

    def _money_base(self) -> float:
        if self.money < 0.5:
            return 0.3 * self.money
        quality = 0.75 + 0.15 * max(self.dec2, self.currency)
        quality -= 0.5 * self.dec_long + 0.3 * self.negative
        if self.bool01 > 0.9 or self.record_ids:
            quality *= 0.3
        return self.money * quality

    def _inventory(self) -> float:
        score = self.ints * (0.55 + 0.45 * self.nonneg)
        if self.record_ids:
            score *= 0.2
        if self.bool01 > 0.9:
            score *= 0.5
        if abs(self.int_median) > 100_000:
            score *= 0.3
        return score

    def scores(self) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
        """Per field: the fit, the signal, and a sentence on the values."""
        money = self._money_base()
        inventory = self._inventory()
        short = self.short_text
        repeated = 1.0 if self.distinct <= 0.3 else max(0.0, (0.8 - self.distinct) / 0.5)
        unique = min(1.0, self.distinct / 0.9)
        if 2 <= self.median_words <= 20 and 4 <= self.median_len <= 200:
            title_shape = 1.0
        elif self.median_words < 2:
            title_shape = 0.6
        else:
            title_shape = 0.4
        title = self.letters * title_shape * (1 - 0.7 * self.html) * (1 - self.url)
        description = max(self.html, 0.9 * self.long_text, 0.45 * self.letters) * (1 - self.url)
        image = self.image_abs + 0.85 * (self.image - self.image_abs)
        name_like = short * (1 - self.structure) * (1 - self.status) * (1 - self.url)
        category = max(self.path_gt, 0.8 * self.path_slash, 0.7 * self.path_lines)

        fit = dict.fromkeys(CANONICAL_FIELDS, 0.5)
        fit.update(
            barcode=max(self.gtin, 0.6 * self.digit_code, 0.1 * (1 - self.letters)),
            price=money,
            compare_at_price=money,
            cost_per_item=money,
            inventory_qty=max(inventory, 0.1),
            weight_grams=max(self.unit_share, 0.85 * self.numeric),
            image_src=max(image, 0.6 * self.url),
            image_alt=self.letters,
            description_html=description,
            title=max(title, 0.1),
            seo_title=self.letters,
            seo_description=self.letters,
            handle=max(self.slug_any, 0.4 * self.letters * (1 - self.url)),
            sku=0.1 if self.record_ids else max(self.code, 0.4 * self.short_any),
            vendor=max(name_like, 0.3 * self.letters * (1 - self.structure)),
            product_type=max(name_like, 0.3 * self.letters) * (1 - 0.95 * self.structure),
            category=max(category, 0.8 * name_like, 0.3 * self.letters),
            tags=max(self.lists, 0.8 * short, 0.3 * self.letters),
            status=max(self.status, 0.3 * self.short_any),
        )
        for k in (1, 2, 3):
            fit[f"option{k}_name"] = self.short_any * (1 - self.structure)
            fit[f"option{k}_value"] = self.short_any * (1 - self.structure)

        signal = dict.fromkeys(CANONICAL_FIELDS, 0.0)
        signal.update(
            barcode=self.gtin if self.gtin >= 0.6 else 0.0,
            price=money if self.money >= 0.8 and self.ints < 0.9 else 0.7 * money,
            inventory_qty=inventory * (0.6 if self.distinct > 0.9 else 1.0),
            image_src=image if image >= 0.5 else 0.0,
            description_html=max(self.html, self.long_text * (0.75 + 0.25 * self.sentences)),
            handle=self.slug * (0.5 + 0.5 * unique),
            sku=self.code * unique * (0 if self.record_ids else 1) * (1 - 0.7 * self.gtin),
            vendor=name_like * repeated * (1 - self.gtin),
            category=category * (0.5 + 0.5 * (1 - self.distinct)),
            status=self.status,
            title=(
                title * unique * (1 - 0.5 * self.long_text) * self.wordy
                if self.median_words >= 2
                else 0.0
            ),
        )
        return fit, signal, self._reasons()

    def _reasons(self) -> dict[str, str]:
        n = self.n
        of = f"of {n} sampled values"
        money = f"{_pct(self.money)} {of} are money amounts"
        if self.money >= 0.5:
            details = []
            if self.dec2 >= 0.5:
                details.append("2 decimals")
            if self.currency >= 0.5:
                details.append("currency marks")
            if self.dec_long >= 0.3:
                details.append("many with more than 3 decimals")
            if details:
                money += f" ({', '.join(details)})"
        counts = f"{_pct(self.ints)} {of} are whole numbers, {_pct(self.nonneg)} of them ≥ 0"
        if self.record_ids:
            counts = f"the values are record ids (unique whole numbers in sequence, {n} sampled)"
        text = (
            f"{_pct(self.letters)} {of} are text, typically {self.median_words:g} words, "
            f"{_pct(self.distinct)} distinct"
        )
        weight = f"{_pct(self.numeric)} {of} are numbers"
        if self.value_unit:
            weight = f"{_pct(self.unit_share)} {of} are weights in {self.value_unit[0]}"
        names = f"short names repeated across rows ({_pct(self.distinct)} distinct)"
        if self.structure >= 0.5:
            names = (
                f"{_pct(self.structure)} {of} are record structure types "
                "(simple, variable, configurable…), not product kinds"
            )
        reasons = {
            "barcode": f"{_pct(self.gtin)} {of} are valid GTIN/EAN/UPC codes",
            "price": money,
            "compare_at_price": money,
            "cost_per_item": money,
            "inventory_qty": counts,
            "weight_grams": weight,
            "image_src": f"{_pct(self.image)} {of} are image URLs or paths",
            "description_html": (
                f"{_pct(self.html)} {of} contain HTML tags, {_pct(self.long_text)} are long text"
            ),
            "handle": f"{_pct(self.slug_any)} {of} are URL slugs, {_pct(self.distinct)} distinct",
            "sku": f"{_pct(self.code)} {of} are codes, {_pct(self.distinct)} distinct",
            "vendor": names,
            "product_type": names,
            "category": (
                f"{_pct(max(self.path_gt, self.path_slash))} {of} are category paths"
                if max(self.path_gt, self.path_slash) >= 0.3
                else names
            ),
            "status": f"{_pct(self.status)} {of} are product statuses (active, draft, archived)",
            "title": text,
            "seo_title": text,
            "seo_description": text,
            "image_alt": text,
        }
        if self.record_ids:
            reasons["sku"] = counts
        return reasons

    def summary(self, filled: int) -> str:
        """One sentence on the dominant shape of the values."""
        shapes = [
            (self.gtin, "valid GTIN codes"),
            (self.image, "image URLs"),
            (self.html, "HTML"),
            (self.money if self.ints < 0.9 else 0.0, "money amounts"),
            (self.ints, "whole numbers"),
            (self.slug, "URL slugs"),
            (self.url, "URLs"),
            (self.long_text, "long text"),
            (self.code, "codes"),
            (self.letters, "text"),
        ]
        share, label = max(shapes, key=lambda s: s[0])
        return (
            f"{filled} non-empty values, {_pct(self.distinct)} distinct; "
            f"{_pct(share)} of those sampled are {label}"
        )
