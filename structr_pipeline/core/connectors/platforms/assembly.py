"""Products assembled from a platform's parent and child rows, written as canonical rows.

Every platform keeps products and variants its own way: WooCommerce and Amazon write a
parent row and child rows that point at it, Magento lists the children on the parent,
BigCommerce writes a product row followed by its SKU rows, Google Merchant groups
items by ``item_group_id``. A platform strategy reads its rows into ``Product`` and
``Variant`` objects; ``build_frame`` writes them as the canonical frame every later
stage reads: one row per variant, the product's fields on each, the product's images
as a list, every other column under ``attributes``, and on each row the source lines
it accounts for (a parent row is accounted for by its product's first variant).

A row that cannot become part of a product (a child whose parent is not in the file, a
parent with nothing to sell) is a ``Rejection``: it becomes a row that validation
rejects with exactly that reason, so every source line is still accounted for.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.fields import (
    ATTRIBUTES,
    CANONICAL_FIELDS,
    IMAGES,
    PARSE_ERROR,
    PRODUCT_FIELDS,
    ROW_ERRORS,
    SOURCE_LINE,
    SOURCE_LINES,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.core.issues import RowIssue, issues_to_json
from structr_pipeline.core.mapping.profiles import WEIGHT_UNITS, ProfileOptions
from structr_pipeline.core.normalize import clean_text, parse_number
from structr_pipeline.core.values import slugify

# Product fields a strategy fills on ``Product.values`` (the handle and the option names
# come from ``Product.handle`` and ``Product.option_names``).
PRODUCT_VALUE_FIELDS: tuple[str, ...] = tuple(
    f for f in PRODUCT_FIELDS if f != "handle" and not f.startswith("option")
)
# Variant fields a strategy fills on ``Variant.values`` (option values come from
# ``Variant.options``; the image's alt text is looked up in the product's images).
VARIANT_VALUE_FIELDS: tuple[str, ...] = tuple(
    f for f in VARIANT_FIELDS if f != "image_alt" and not f.startswith("option")
)
# Shopify, and so the canonical schema, carries at most three options per product.
MAX_OPTIONS = 3


@dataclass
class Image:
    """One product image: its URL and alt text."""

    src: str
    alt: str = ""


@dataclass
class Variant:
    """One sellable variant, read from one source row (``line``)."""

    line: int
    values: dict[str, str] = field(default_factory=dict)
    # Option name → value; names outside the product's ``option_names`` are ignored.
    options: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    warnings: list[RowIssue] = field(default_factory=list)
    # Other lines this variant accounts for (a store-view override of its row, a price
    # rule row), besides its own.
    extra_lines: list[int] = field(default_factory=list)


@dataclass
class Product:
    """One product of the store: its own fields, its option names, images and variants."""

    handle: str
    line: int
    values: dict[str, str] = field(default_factory=dict)
    option_names: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    # Lines accounted for as part of the product and not as a variant: the parent row
    # of a parent/child structure, image rows, override rows.
    lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Rejection:
    """A source row that becomes no product or variant, and why (one row-level issue)."""

    line: int
    column: str
    check: str
    value: str
    message: str

    def issue(self) -> RowIssue:
        """The reason as a row issue."""
        return RowIssue(self.line, self.column, self.check, self.value, self.message)


@dataclass(frozen=True)
class Grouping:
    """How the rows of a file group into products, in numbers and in words."""

    format: str
    label: str
    rows: int
    products: int
    variants: int
    # Each detail as a short phrase: "28 variations under 2 variable products".
    details: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def sentence(self) -> str:
        """One line for a person: "WooCommerce product export: 124 rows → 90 products; …"."""
        head = (
            f"{self.label}: {_n(self.rows, 'row')} → {_n(self.products, 'product')} "
            f"with {_n(self.variants, 'variant')}"
        )
        return "; ".join([head, *self.details])

    def to_json(self) -> dict[str, object]:
        """The grouping as JSON-ready data."""
        return {
            "format": self.format,
            "label": self.label,
            "rows": self.rows,
            "products": self.products,
            "variants": self.variants,
            "details": list(self.details),
            "counts": dict(self.counts),
            "sentence": self.sentence(),
        }


def grouping_of(
    name: str,
    label: str,
    rows: SourceRows,
    products: list[Product],
    rejections: list[Rejection],
    details: list[str],
    counts: dict[str, int],
) -> Grouping:
    """The grouping of an assembled file: its products and variants counted, with the
    strategy's own details and counts (``products``, ``variants`` and
    ``rows_without_product`` added)."""
    variants = sum(len(p.variants) for p in products)
    return Grouping(
        format=name,
        label=label,
        rows=len(rows),
        products=len(products),
        variants=variants,
        details=tuple(details),
        counts={
            **counts,
            "products": len(products),
            "variants": variants,
            "rows_without_product": len(rejections),
        },
    )


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``3 variations``, ``1 variation``: a count with its noun."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


@dataclass(frozen=True)
class Assembly:
    """A platform file read as products: the canonical frame and how it was grouped."""

    frame: pd.DataFrame
    field_sources: dict[str, str]
    grouping: Grouping


class SourceRows:
    """The records of a source table as dicts of cleaned text, broken records set apart.

    A record that could not be parsed (wrong cell count) is not handed to the strategy:
    it becomes a row that validation rejects with its parse error, as on every path.
    """

    def __init__(self, table: SourceTable) -> None:
        self.table = table
        frame = table.frame
        self.header = list(table.header)
        lines = [int(x) for x in frame[SOURCE_LINE].tolist()]
        errors = frame[PARSE_ERROR].tolist() if PARSE_ERROR in frame else [""] * len(frame)
        columns = {name: frame[name].tolist() for name in self.header}
        self.records: list[tuple[int, dict[str, str]]] = []
        self.broken: list[tuple[int, str]] = []
        for i, line in enumerate(lines):
            if errors[i]:
                self.broken.append((line, str(errors[i])))
                continue
            self.records.append((line, {name: str(columns[name][i]) for name in self.header}))

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.table.frame)


class Handles:
    """Unique product handles: a second product with the same slug gets ``-2``, ``-3``, …"""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def claim(self, *candidates: str) -> str:
        """The slug of the first candidate that has one (``-2``, ``-3``… once it is taken).

        Later candidates stand in only when the earlier ones slug to nothing.
        """
        base = next((s for s in (slugify(c) for c in candidates if c) if s), "product")
        if base not in self.taken:
            self.taken.add(base)
            return base
        n = 2
        while f"{base}-{n}" in self.taken:
            n += 1
        self.taken.add(f"{base}-{n}")
        return f"{base}-{n}"


def grams(value: str, unit: str | None) -> str:
    """A weight in ``unit`` (g, kg, lb, lbs, oz; none means grams) as grams, as text.

    Text that is not a number is returned as it is, for validation to report.
    """
    text = clean_text(value)
    if not text:
        return ""
    factor = WEIGHT_UNITS.get((unit or "g").strip().lower().rstrip("."))
    number, problem = parse_number(text)
    if number is None or problem or factor is None:
        return text
    result = round(number * factor, 6)
    return str(int(result)) if result.is_integer() else repr(result)


def split_list(text: str, separator: str = ",") -> list[str]:
    """A separated list cell as its cleaned, non-empty items, duplicates dropped."""
    seen: dict[str, None] = {}
    for part in text.split(separator):
        item = clean_text(part)
        if item:
            seen.setdefault(item)
    return list(seen)


def price_pair(regular: str, sale: str) -> tuple[str, str]:
    """Price and compare-at price as a storefront shows them: a lower sale price is the
    price and the regular price is struck through; otherwise the regular price alone."""
    regular, sale = clean_text(regular), clean_text(sale)
    if not sale:
        return regular, ""
    if not regular:
        return sale, ""
    low, _ = parse_number(sale)
    high, _ = parse_number(regular)
    if low is not None and high is not None and low < high:
        return sale, regular
    return sale if high is None else regular, ""


def option_warnings(product: Product, column: str) -> None:
    """Warn on variants of ``product`` that repeat another variant's option values.

    Two variants with the same values cannot both be offered; the repeat is kept for
    deduplication to merge or for a person to fix.
    """
    names = product.option_names[:MAX_OPTIONS]
    if not names:
        return
    seen: dict[tuple[str, ...], int] = {}
    for variant in product.variants:
        key = tuple(clean_text(variant.options.get(name, "")).casefold() for name in names)
        if not any(key):
            continue
        if key in seen:
            shown = " / ".join(variant.options.get(name, "") for name in names)
            variant.warnings.append(
                RowIssue(
                    variant.line,
                    column,
                    "variant_options_repeated",
                    shown,
                    f"this variant has the same options ({shown}) as the variant on line "
                    f"{seen[key]} of product '{product.handle}'",
                )
            )
        else:
            seen[key] = variant.line


def build_frame(
    products: list[Product],
    rejections: list[Rejection],
    rows: SourceRows,
) -> pd.DataFrame:
    """The canonical frame: a row per variant, then a row per rejection and broken record.

    Products come out in the order of their first line, variants in the order given.
    Images are numbered 1..n, the variants' own images added after the product's.
    """
    out: dict[str, list] = {name: [] for name in CANONICAL_FIELDS}
    extra: dict[str, list] = {
        IMAGES: [],
        ATTRIBUTES: [],
        WARNINGS: [],
        SOURCE_LINE: [],
        SOURCE_LINES: [],
        PARSE_ERROR: [],
        ROW_ERRORS: [],
    }
    for product in sorted(products, key=lambda p: p.line):
        if not product.variants:
            raise ValueError(f"product '{product.handle}' has no variant: reject its row instead")
        images = _images(product)
        images_json = json.dumps(images, ensure_ascii=False)
        alt_of = {img["src"]: img["alt"] for img in images}
        names = product.option_names[:MAX_OPTIONS]
        for n, variant in enumerate(product.variants):
            for name in CANONICAL_FIELDS:
                out[name].append("")
            row = {name: out[name] for name in CANONICAL_FIELDS}
            row["handle"][-1] = product.handle
            for name in PRODUCT_VALUE_FIELDS:
                row[name][-1] = product.values.get(name, "")
            for name in VARIANT_VALUE_FIELDS:
                row[name][-1] = variant.values.get(name, "")
            for number, option in enumerate(names, start=1):
                row[f"option{number}_name"][-1] = option
                row[f"option{number}_value"][-1] = variant.options.get(option, "")
            row["image_alt"][-1] = alt_of.get(clean_text(row["image_src"][-1]), "")
            warnings = (product.warnings if n == 0 else []) + variant.warnings
            extra[IMAGES].append(images_json)
            extra[ATTRIBUTES].append(
                json.dumps({**product.attributes, **variant.attributes}, ensure_ascii=False)
            )
            extra[WARNINGS].append(issues_to_json(warnings))
            extra[SOURCE_LINE].append(variant.line)
            lines = [variant.line, *variant.extra_lines, *(product.lines if n == 0 else [])]
            extra[SOURCE_LINES].append(json.dumps(lines))
            extra[PARSE_ERROR].append("")
            extra[ROW_ERRORS].append("[]")
    standalone = [(r.line, "", issues_to_json([r.issue()])) for r in rejections]
    standalone += [(line, error, "[]") for line, error in rows.broken]
    for line, parse_error, row_errors in sorted(standalone):
        for name in CANONICAL_FIELDS:
            out[name].append("")
        extra[IMAGES].append("[]")
        extra[ATTRIBUTES].append("{}")
        extra[WARNINGS].append("[]")
        extra[SOURCE_LINE].append(line)
        extra[SOURCE_LINES].append(json.dumps([line]))
        extra[PARSE_ERROR].append(parse_error)
        extra[ROW_ERRORS].append(row_errors)
    frame = pd.DataFrame({name: pd.Series(out[name], dtype=object) for name in CANONICAL_FIELDS})
    for name, values in extra.items():
        dtype = "int64" if name == SOURCE_LINE else object
        frame[name] = pd.Series(values, dtype=dtype)
    return frame


def _images(product: Product) -> list[dict]:
    found: dict[str, str] = {}
    for image in product.images:
        src = clean_text(image.src)
        if src and (src not in found or (not found[src] and image.alt)):
            found[src] = clean_text(image.alt)
    for variant in product.variants:
        src = clean_text(variant.values.get("image_src", ""))
        if src and src not in found:
            found[src] = ""
    return [
        {"src": src, "position": n, "alt": alt} for n, (src, alt) in enumerate(found.items(), 1)
    ]


def accounted(products: list[Product], rejections: list[Rejection], rows: SourceRows) -> Counter:
    """How often each source line is accounted for (each should be exactly once)."""
    seen: Counter[int] = Counter()
    for product in products:
        seen.update(product.lines)
        for variant in product.variants:
            seen.update([variant.line, *variant.extra_lines])
    seen.update(r.line for r in rejections)
    seen.update(line for line, _ in rows.broken)
    return seen


@dataclass(frozen=True)
class Reading:
    """A platform file read as products, before they are written as the canonical frame."""

    products: list[Product]
    rejections: list[Rejection]
    rows: SourceRows
    grouping: Grouping
    field_sources: dict[str, str]

    def assembly(self) -> Assembly:
        """The products written as the canonical frame (``build_frame``), with the grouping."""
        frame = build_frame(self.products, self.rejections, self.rows)
        return Assembly(frame=frame, field_sources=self.field_sources, grouping=self.grouping)


class PlatformReader:
    """What every platform's reader of one file holds: the file's rows, the mapping
    profile's options, the handles claimed so far and the rows rejected so far.

    A platform module subclasses it with its own column lookup and row logic, naming
    the platform and its label (what the grouping reports) as class arguments:
    ``class _Reader(PlatformReader, platform=NAME, label=LABEL)``.
    """

    platform: ClassVar[str] = ""
    label: ClassVar[str] = ""

    def __init_subclass__(cls, platform: str = "", label: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.platform, cls.label = platform, label

    def __init__(self, table: SourceTable, options: ProfileOptions) -> None:
        self.rows = SourceRows(table)
        self.options = options
        self.handles = Handles()
        self.rejections: list[Rejection] = []

    def summary(
        self, products: list[Product], details: list[str], counts: dict[str, int]
    ) -> Grouping:
        """How the file's rows grouped into ``products`` (``grouping_of``)."""
        return grouping_of(
            self.platform, self.label, self.rows, products, self.rejections, details, counts
        )

    def reading(
        self, products: list[Product], grouping: Grouping, field_sources: dict[str, str]
    ) -> Reading:
        """The file read as ``products``, with the rows this reader rejected."""
        return Reading(products, self.rejections, self.rows, grouping, field_sources)
