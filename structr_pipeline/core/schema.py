"""The canonical product schema: one pandera model at variant grain.

``ProductVariant`` is the single source of truth for the columns of a validated product
frame, their types and the rules every row must meet. Validation runs it lazily to
collect every failure at once, and the blocking asset check re-runs it on what was
stored. ``CHECK_MESSAGES`` turns a failed check into a sentence for the user.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from structr_pipeline.core.fields import PRODUCT_FRAME_COLUMNS, SOURCE_LINE, SOURCE_LINES
from structr_pipeline.core.normalize import GTIN_LENGTHS, STATUSES, gtin_check_digit, is_valid_gtin

_NOT_EMPTY = {"min_value": 1}


class ProductVariant(pa.DataFrameModel):
    """One sellable variant of a product, with the product's fields repeated on each row."""

    handle: Series[str] = pa.Field(str_length=_NOT_EMPTY)
    title: Series[str] = pa.Field(str_length=_NOT_EMPTY)
    description_html: Series[str]
    vendor: Series[str]
    product_type: Series[str]
    category: Series[str]
    tags: Series[str]
    status: Series[str] = pa.Field(isin=["", *STATUSES])
    option1_name: Series[str]
    option1_value: Series[str]
    option2_name: Series[str]
    option2_value: Series[str]
    option3_name: Series[str]
    option3_value: Series[str]
    sku: Series[str]
    barcode: Series[str]
    price: Series[float] = pa.Field(ge=0)
    compare_at_price: Series[float] = pa.Field(ge=0, nullable=True)
    cost_per_item: Series[float] = pa.Field(ge=0, nullable=True)
    inventory_qty: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    weight_grams: Series[float] = pa.Field(ge=0, nullable=True)
    image_src: Series[str]
    image_alt: Series[str]
    seo_title: Series[str]
    seo_description: Series[str]
    images: Series[str]
    attributes: Series[str]
    warnings: Series[str]
    source_line: Series[int] = pa.Field(alias=SOURCE_LINE, ge=1)
    source_lines: Series[str] = pa.Field(alias=SOURCE_LINES)

    @pa.check("barcode", name="valid_gtin")
    def _valid_gtin(cls, barcode: Series[str]) -> Series[bool]:
        """A barcode of GTIN length (8, 12, 13 or 14 digits) must have the right check digit."""
        gtin_like = barcode.str.fullmatch(r"\d+") & barcode.str.len().isin(GTIN_LENGTHS)
        return ~gtin_like | barcode.map(is_valid_gtin)

    class Config:
        strict = True
        ordered = True


assert list(ProductVariant.to_schema().columns) == list(PRODUCT_FRAME_COLUMNS)


def _gtin_message(value: object) -> str:
    digits = str(value)
    expected = gtin_check_digit(digits[:-1])
    return (
        f"'{digits}' is not a valid GTIN-{len(digits)}: its check digit is {digits[-1]}, "
        f"it should be {expected}"
    )


# A sentence per failed check, keyed by the start of pandera's check name.
CHECK_MESSAGES: dict[str, object] = {
    "str_length": lambda value: "the cell is empty, but every row needs this column",
    "not_nullable": lambda value: "the cell is empty, but every row needs this column",
    "greater_than_or_equal_to": lambda value: f"'{value:g}' is below 0",
    "isin": lambda value: f"'{value}' is not one of {', '.join(STATUSES)}",
    "valid_gtin": _gtin_message,
}


def describe_failure(check: str, value: object) -> str:
    """The sentence for one failed schema check on one value."""
    for prefix, render in CHECK_MESSAGES.items():
        if check.startswith(prefix):
            return render(value)
    return f"'{value}' fails the check {check}"


def check_name(check: str) -> str:
    """A short, stable name for a pandera check (``greater_than_or_equal_to(0)`` → ``min_0``)."""
    if check.startswith("greater_than_or_equal_to"):
        return "min_0"
    if check.startswith("str_length") or check == "not_nullable":
        return "required"
    if check.startswith("isin"):
        return "allowed_values"
    return check
