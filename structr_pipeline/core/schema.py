"""The pandera schemas of the frames the stages hand on, generated from the field registry.

``ProductVariant`` is the canonical product schema at variant grain, built from
``fields.FIELDS``: the columns of a validated product frame, their types and the rules
every row must meet. Validation runs it lazily to collect every failure at once, and the
blocking asset check re-runs it on what was stored. ``frame_schema`` builds the schema
of any tuple of ``Field``s (``frames.py`` uses it for the other frames).
``CHECK_MESSAGES`` turns a failed check into a sentence for the user.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from structr_pipeline.core.fields import FIELDS, Dtype, Field, Rule
from structr_pipeline.core.normalize import GTIN_LENGTHS, STATUSES, gtin_check_digit, is_valid_gtin

_DTYPES: dict[Dtype, object] = {
    "str": str,
    "float": "float64",
    "int": "int64",
    "Int64": pd.Int64Dtype(),
    "bool": bool,
    "any": None,
}


def _valid_gtin(barcode: Series[str]) -> Series[bool]:
    """A barcode of GTIN length (8, 12, 13 or 14 digits) must have the right check digit."""
    gtin_like = barcode.str.fullmatch(r"\d+") & barcode.str.len().isin(GTIN_LENGTHS)
    return ~gtin_like | barcode.map(is_valid_gtin)


def _check(rule: Rule, field: Field) -> pa.Check:
    """The pandera check of one registry rule on one field."""
    if rule == "required":
        return pa.Check.str_length(min_value=1)
    if rule == "min_0":
        return pa.Check.ge(0)
    if rule == "min_1":
        return pa.Check.ge(1)
    if rule == "allowed_values":
        return pa.Check.isin(list(field.allowed))
    if rule == "valid_gtin":
        return pa.Check(_valid_gtin, name="valid_gtin")
    if rule == "between_0_1":
        return pa.Check.in_range(0, 1)
    if rule == "between_0_100":
        return pa.Check.in_range(0, 100)
    raise ValueError(f"{field.name}: unknown rule {rule!r}")


def column(field: Field) -> pa.Column:
    """The pandera column of a registry field: its dtype, rules, nullability and meaning."""
    return pa.Column(
        _DTYPES[field.dtype],
        checks=[_check(rule, field) for rule in field.checks],
        nullable=field.nullable,
        required=not field.optional,
        description=field.description,
    )


def frame_schema(
    fields: Iterable[Field],
    *,
    name: str,
    description: str,
    strict: bool | str = True,
    ordered: bool = True,
) -> pa.DataFrameSchema:
    """The schema of a frame whose columns are ``fields``, in order (strict: no others)."""
    return pa.DataFrameSchema(
        {field.name: column(field) for field in fields},
        strict=strict,
        ordered=ordered,
        name=name,
        description=description,
    )


ProductVariant = frame_schema(
    FIELDS,
    name="ProductVariant",
    description=(
        "One sellable variant of a product, with the product's fields repeated on each row."
    ),
)


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
    # Whole-frame failures, seen only by the asset checks (validation raises on them).
    "column_in_dataframe": lambda value: f"the column '{value}' is missing",
    "column_in_schema": lambda value: f"the column '{value}' is not in the schema",
    "dtype": lambda value: f"the column holds {value}",
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
