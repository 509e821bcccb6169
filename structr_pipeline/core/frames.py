"""The columns of every frame a stage hands on, and the pandera schema of each.

The product frames (``mapped_products``, ``validated_products``,
``deduplicated_products``) are the field registry's columns; the others (the column
mapping, rejected rows, merges, the review queue, generated copy and the audit) are
described here with the same ``Field``. ``FRAME_SCHEMAS`` holds one pandera schema per
frame, keyed by the name of the asset that stores it; the asset checks re-run it on
what was stored, and each asset's column schema in the UI is read from it.
"""

from __future__ import annotations

from dataclasses import replace

import pandera.pandas as pa

from structr_pipeline.core.audit import GRADES
from structr_pipeline.core.fields import (
    FIELDS,
    PARSE_ERROR,
    ROW_ERRORS,
    SOURCE_LINE,
    SOURCE_LINES,
    Dtype,
    Field,
)
from structr_pipeline.core.generation.results import STATUSES as GENERATION_STATUSES
from structr_pipeline.core.schema import ProductVariant, frame_schema

# What the catalog knows of a deduplicated product: ``_change`` in that frame.
CHANGE_STATUSES = ("new", "changed", "unchanged")
# What became of a product's copy in the generation stage.
COPY_STATUSES = GENERATION_STATUSES
# The outcome of the audit's one regeneration pass for a product.
FIX_OUTCOMES = ("not_needed", "not_attempted", "failed", "improved", "not_improved")


def _frame(name: str, dtype: Dtype, description: str, **kw) -> Field:
    return Field(name, "frame", dtype, description, **kw)


def _json(name: str, description: str, **kw) -> Field:
    return _frame(name, "str", f"JSON: {description}", **kw)


def _choice(name: str, description: str, allowed: tuple[str, ...]) -> Field:
    return _frame(name, "str", description, checks=("allowed_values",), allowed=allowed)


_LINE = _frame(SOURCE_LINE, "int", "the source line the record starts on", checks=("min_1",))
_LINES = _json(SOURCE_LINES, "every source line the row accounts for, its own first")
_PARSE_ERROR = _frame(
    PARSE_ERROR, "str", "why the record could not be parsed (wrong cell count); '' if it could"
)

# Every record of the input as text; the source's own columns come first, as read.
SOURCE_ROW_FIELDS: tuple[Field, ...] = (_LINE, _PARSE_ERROR)

# Mapped rows are not normalized yet: numbers are still as the source wrote them, and
# nothing is checked but the presence of each column.
MAPPED_FIELDS: tuple[Field, ...] = (
    *(
        replace(f, dtype="any" if f.dtype != "str" else "str", checks=(), nullable=True)
        for f in FIELDS
    ),
    replace(_PARSE_ERROR, optional=True),
    _json(
        ROW_ERRORS,
        "why a connector could not make the row part of a product; [] if none",
        optional=True,
    ),
)

COLUMN_MAPPING_FIELDS: tuple[Field, ...] = (
    _frame("column", "str", "the source column, as the file names it"),
    _frame(
        "field",
        "str",
        "the canonical field it fills; empty when it is kept as an attribute",
        nullable=True,
    ),
    _frame("confidence", "float", "how sure the mapping is, 0 to 1", checks=("between_0_1",)),
    _json("evidence", "the reasons for the mapping, in words"),
    _frame(
        "unit_factor",
        "float",
        "the factor that turns the column's unit into the field's (grams from kilograms)",
        nullable=True,
    ),
    _frame("derived", "bool", "the field is derived from a column that fills another field"),
)

REJECTED_FIELDS: tuple[Field, ...] = (
    _LINE,
    _LINES,
    _json("original", "the row's cells as the file had them, keyed by column"),
    _json("errors", "every reason the row was rejected: line, column, check, value, message"),
)

DEDUPLICATED_FIELDS: tuple[Field, ...] = (
    *FIELDS,
    _choice("_change", "the product against the catalog", CHANGE_STATUSES),
)

MERGE_FIELDS: tuple[Field, ...] = (
    _frame("survivor_handle", "str", "the product that stays"),
    _frame("merged_handle", "str", "the product or row merged into it"),
    _frame("merged_sku", "str", "the merged row's SKU"),
    _json("merged_lines", "the source lines merged away"),
    _frame("rule", "str", "the key or matcher rule that linked them"),
    _frame("score", "float", "the match score, 1.0 for an exact key", nullable=True),
    _json("fields", "which value of each field survived, and why"),
    _json("conflicts", "the values that disagreed, by field"),
)

POSSIBLE_DUPLICATE_FIELDS: tuple[Field, ...] = (
    _frame("rank", "int", "the place in the review queue, from 1", checks=("min_1",)),
    _frame("kind", "str", "listed more than once in this file, or a possible duplicate"),
    _frame("group", "str", "the group of products listed together; empty for a pair"),
    _frame("handle", "str", "the product to review"),
    _frame("other_handle", "str", "the product it may duplicate"),
    _frame("other_in", "str", "where the other product is: this batch or the catalog"),
    _frame("score", "float", "the matcher's score", nullable=True),
    _frame("rule", "str", "the evidence, in words"),
)

GENERATED_COPY_FIELDS: tuple[Field, ...] = (
    _frame("handle", "str", "the product", checks=("required",)),
    _choice("status", "what became of the product's copy", COPY_STATUSES),
    _frame("seo_title", "str", "the generated SEO title"),
    _frame("title", "str", "the generated title"),
    _frame("description_html", "str", "the generated description, as sanitized HTML"),
    _json("bullets", "the generated bullet points"),
    _frame("meta_description", "str", "the generated meta description"),
    _json("image_alt", "the generated alt text, one per image"),
    _json("flags", "claims in the copy that the product's facts do not support"),
    _frame("error", "str", "why the copy could not be written", nullable=True),
    _frame("attempts", "int", "calls made to the model for this product"),
    _frame("cache_key", "str", "the hash the copy is cached under"),
    _frame("provider", "str", "the copy provider"),
    _frame("model", "str", "the model"),
    _frame("prompt_version", "str", "the version of the prompt"),
)


def _audit_fields(suffix: str = "", when: str = "") -> tuple[Field, ...]:
    return (
        _frame(
            f"score{suffix}", "float", f"the 0–100 quality score{when}", checks=("between_0_100",)
        ),
        _choice(f"grade{suffix}", f"the A–E grade{when}", GRADES),
        _json(f"issues{suffix}", f"the issues behind every lost point{when}"),
        _json(f"components{suffix}", f"the score of each component{when}"),
    )


AUDITED_FIELDS: tuple[Field, ...] = (
    _frame("handle", "str", "the product", checks=("required",)),
    *_audit_fields(),
    _frame("has_errors", "bool", "the product has an issue no model can fix"),
    _json("holds_back", "the issues that keep the product out of the import file"),
    *_audit_fields("_before", " before the fix pass"),
    _choice("fix", "what the fix pass did", FIX_OUTCOMES),
    _frame("copy_status", "str", "the copy's status after the fix pass"),
    _json("copy", "the copy that will be published"),
    _json("flags", "unsupported claims in that copy"),
    _frame("model", "str", "the model that wrote the copy"),
    _frame("prompt_version", "str", "the version of the prompt"),
)


DELETE_FIELDS: tuple[Field, ...] = (
    _frame(
        "external_id", "str", "the source's id of a product the batch deletes", checks=("required",)
    ),
)


FRAME_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "source_rows": frame_schema(
        SOURCE_ROW_FIELDS,
        name="SourceRows",
        description="Every record of the input file as text, with its source line.",
        strict=False,
        ordered=False,
    ),
    "source_deletes": frame_schema(
        DELETE_FIELDS,
        name="SourceDeletes",
        description="The products the batch deletes (webhook or PIM delete events), by id.",
    ),
    "mapped_products": frame_schema(
        MAPPED_FIELDS,
        name="MappedProducts",
        description="Source rows mapped onto the canonical fields, not yet normalized.",
        ordered=False,
    ),
    "column_mapping": frame_schema(
        COLUMN_MAPPING_FIELDS,
        name="ColumnMapping",
        description="One row per source column: the field it fills and why.",
    ),
    "validated_products": ProductVariant,
    "rejected_rows": frame_schema(
        REJECTED_FIELDS,
        name="RejectedRows",
        description="Rows that failed validation, with their original cells and reasons.",
    ),
    "deduplicated_products": frame_schema(
        DEDUPLICATED_FIELDS,
        name="DeduplicatedProducts",
        description="The batch's variants after merges, each product marked against the catalog.",
    ),
    "duplicate_merges": frame_schema(
        MERGE_FIELDS,
        name="DuplicateMerges",
        description="One row per merge: what was merged into what, and why.",
    ),
    "possible_duplicates": frame_schema(
        POSSIBLE_DUPLICATE_FIELDS,
        name="PossibleDuplicates",
        description="The review queue: pairs and listings a person should look at, ranked.",
    ),
    "generated_copy": frame_schema(
        GENERATED_COPY_FIELDS,
        name="GeneratedCopy",
        description="One row per product: its generated copy, or why there is none.",
    ),
    "audited_products": frame_schema(
        AUDITED_FIELDS,
        name="AuditedProducts",
        description="Per product: its quality score, grade and issues, before and after fixes.",
    ),
}
