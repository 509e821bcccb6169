"""The canonical product fields: one table of names, grain, types, rules and meaning.

``FIELDS`` is the one place a product field is written. The tuples the connectors,
exporters and the catalog store use (``PRODUCT_FIELDS``, ``CANONICAL_FIELDS`` …), the
pandera schema in ``schema.py``, the ``products`` and ``variants`` columns in
``store/db.py`` and the column schema shown for each asset are all derived from it.
``frames.py`` describes the other frames the stages hand on with the same ``Field``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from structr_pipeline.core.normalize import STATUSES

# ``product``: describes the product as a whole; in a multi-row Shopify export it is
# written on the first row of a handle and inherited by its other rows. ``variant``:
# belongs to one variant (one sellable row). ``row``: carried by every row of a frame
# (the JSON columns and the bookkeeping of where the row came from). ``frame``: a column
# of one of the other frames (``frames.py``).
Grain = Literal["product", "variant", "row", "frame"]

# How a value is held in a frame: ``str`` (Python strings, '' when empty), ``float``
# (float64), ``int`` (int64), ``Int64`` (pandas' nullable integer), ``bool``; ``any``
# for a column whose type depends on the rows (an empty frame holds plain objects).
Dtype = Literal["str", "float", "int", "Int64", "bool", "any"]

# How a field is stored in the catalog database (``store/db.py`` maps these to SQL
# types): ``string`` (short text), ``text`` (long text), ``money``, ``bigint``,
# ``double``; None when the field is not a catalog column of its own.
SqlType = Literal["string", "text", "money", "bigint", "double"]

# The rules a value must meet, by the short names rejection reasons use: ``required``
# (a non-empty text), ``min_0`` / ``min_1`` (a number at least 0 / 1), ``allowed_values``
# (one of ``Field.allowed``), ``valid_gtin`` (a GTIN-length barcode has the right check
# digit), ``between_0_1`` / ``between_0_100`` (a number in that closed range).
Rule = Literal[
    "required", "min_0", "min_1", "allowed_values", "valid_gtin", "between_0_1", "between_0_100"
]


@dataclass(frozen=True)
class Field:
    """One column: its name, grain, frame dtype, catalog SQL type, rules and meaning."""

    name: str
    grain: Grain
    dtype: Dtype
    description: str
    sql_type: SqlType | None = None
    checks: tuple[Rule, ...] = ()
    nullable: bool = False
    allowed: tuple[str, ...] = ()
    # The column may be absent from the frame (only some connectors write it).
    optional: bool = False
    # What the catalog database writes when an insert leaves the column out.
    sql_default: str | None = None


def _text(name: str, grain: Grain, description: str, sql: SqlType = "string", **kw) -> Field:
    return Field(name, grain, "str", description, sql_type=sql, sql_default="", **kw)


def _number(name: str, dtype: Dtype, sql: SqlType, description: str, *checks: Rule) -> Field:
    return Field(name, "variant", dtype, description, sql_type=sql, checks=checks, nullable=True)


def _money(name: str, description: str, nullable: bool = True) -> Field:
    return replace(_number(name, "float", "money", description, "min_0"), nullable=nullable)


# The names other modules spell the row-grain columns by; ``FIELDS`` says what each holds.
IMAGES = "images"
ATTRIBUTES = "attributes"
WARNINGS = "warnings"
SOURCE_LINE = "_source_line"
SOURCE_LINES = "_source_lines"
# Text: why the row could not be parsed as a record (wrong cell count); empty if it could.
PARSE_ERROR = "_parse_error"
# JSON text, mapped frames only: the reasons a connector could not make the row part of a
# product (a child whose parent is missing, a parent with nothing to sell); "[]" if none.
ROW_ERRORS = "_row_errors"

# The descriptions of the option columns, for n = first, second, third.
_OPTION = "the name of the product's {n} option (Color, Size …); '' when it has fewer"
_VALUE = "this variant's value of the product's {n} option"

# Every column of a validated product frame, in order: the canonical fields at variant
# grain, then the JSON columns and the source lines.
FIELDS: tuple[Field, ...] = (
    _text("handle", "product", "the product's URL key, one per product", checks=("required",)),
    _text("title", "product", "the product's name", checks=("required",)),
    _text("description_html", "product", "the description, as sanitized HTML", sql="text"),
    _text("vendor", "product", "the brand or maker"),
    _text("product_type", "product", "the shop's own product type"),
    _text("category", "product", "the product category (a taxonomy path)"),
    _text("tags", "product", "comma-separated tags", sql="text"),
    _text(
        "status",
        "product",
        "active, draft or archived; '' when the source says nothing",
        checks=("allowed_values",),
        allowed=("", *STATUSES),
    ),
    _text("option1_name", "product", _OPTION.format(n="first")),
    _text("option1_value", "variant", _VALUE.format(n="first")),
    _text("option2_name", "product", _OPTION.format(n="second")),
    _text("option2_value", "variant", _VALUE.format(n="second")),
    _text("option3_name", "product", _OPTION.format(n="third")),
    _text("option3_value", "variant", _VALUE.format(n="third")),
    _text("sku", "variant", "the stock-keeping unit"),
    _text("barcode", "variant", "GTIN, UPC or EAN, as digits", checks=("valid_gtin",)),
    _money("price", "the selling price", nullable=False),
    _money("compare_at_price", "the price before a discount"),
    _money("cost_per_item", "what one unit costs the shop"),
    _number("inventory_qty", "Int64", "bigint", "units in stock"),
    _number("weight_grams", "float", "double", "the shipping weight in grams", "min_0"),
    _text("image_src", "variant", "the variant's own image URL"),
    _text("image_alt", "variant", "the alt text of the variant's own image"),
    _text("seo_title", "product", "the title search engines show"),
    _text("seo_description", "product", "the description search engines show", sql="text"),
    Field(
        IMAGES,
        "row",
        "str",
        "JSON: the product's images, a list of {src, position, alt} in position order "
        "(the same list on every variant row of a handle)",
        sql_type="text",
        sql_default="[]",
    ),
    Field(
        ATTRIBUTES,
        "row",
        "str",
        "JSON: every source column that is not a canonical field (metafields, market "
        "prices, channel columns, unknown columns), keyed by column name, so nothing is lost",
        sql_type="text",
        sql_default="{}",
    ),
    Field(
        WARNINGS,
        "row",
        "str",
        "JSON: non-fatal findings on the row, a list of issue objects",
        sql_type="text",
        sql_default="[]",
    ),
    Field(
        SOURCE_LINE,
        "row",
        "int",
        "the physical source line (1-based, the header is line 1) the row's record starts on",
        checks=("min_1",),
    ),
    Field(
        SOURCE_LINES,
        "row",
        "str",
        "JSON: every source line the row accounts for, its own first (a variant row also "
        "accounts for the image-only rows folded into its product)",
    ),
)

FIELDS_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

# The canonical column order, at variant grain.
CANONICAL_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.grain != "row")
# Fields that describe the product as a whole.
PRODUCT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.grain == "product")
# Fields that belong to one variant (one sellable row).
VARIANT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.grain == "variant")
# Every column of a mapped or validated product frame, in order.
PRODUCT_FRAME_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS)

BOOKKEEPING_COLUMNS: tuple[str, ...] = (SOURCE_LINE, SOURCE_LINES, PARSE_ERROR, ROW_ERRORS)

# The numeric fields, by how they are held: money (4 decimals in the catalog), any float,
# the nullable integers, and all of them.
MONEY_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.sql_type == "money")
FLOAT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.dtype == "float")
INT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.dtype == "Int64")
NUMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.dtype in ("float", "Int64"))
