"""The canonical product fields: names, grain and the bookkeeping columns every stage carries.

This module is the one list of column names that the connectors, the schema, the
exporters and the catalog store agree on. The pandera model in ``schema.py`` gives
them types and checks.
"""

from __future__ import annotations

# Fields that describe the product as a whole; in a multi-row Shopify export they are
# written on the first row of a handle and inherited by its other rows.
PRODUCT_FIELDS: tuple[str, ...] = (
    "handle",
    "title",
    "description_html",
    "vendor",
    "product_type",
    "category",
    "tags",
    "status",
    "option1_name",
    "option2_name",
    "option3_name",
    "seo_title",
    "seo_description",
)

# Fields that belong to one variant (one sellable row).
VARIANT_FIELDS: tuple[str, ...] = (
    "option1_value",
    "option2_value",
    "option3_value",
    "sku",
    "barcode",
    "price",
    "compare_at_price",
    "cost_per_item",
    "inventory_qty",
    "weight_grams",
    "image_src",
    "image_alt",
)

# The canonical column order, at variant grain.
CANONICAL_FIELDS: tuple[str, ...] = (
    "handle",
    "title",
    "description_html",
    "vendor",
    "product_type",
    "category",
    "tags",
    "status",
    "option1_name",
    "option1_value",
    "option2_name",
    "option2_value",
    "option3_name",
    "option3_value",
    "sku",
    "barcode",
    "price",
    "compare_at_price",
    "cost_per_item",
    "inventory_qty",
    "weight_grams",
    "image_src",
    "image_alt",
    "seo_title",
    "seo_description",
)

# JSON text: the product's images, a list of {"src", "position", "alt"} objects in
# position order (the same list on every variant row of a handle).
IMAGES = "images"
# JSON text: every source column that is not a canonical field (metafields, market
# prices, channel columns, unknown columns), keyed by column name, so nothing is lost.
ATTRIBUTES = "attributes"
# JSON text: non-fatal findings on the row, a list of issue objects (see ``issues.py``).
WARNINGS = "warnings"

# The physical line (1-based; the header is line 1) on which the row's record starts.
SOURCE_LINE = "_source_line"
# JSON text: every source line this row accounts for, its own first (a variant row also
# accounts for the image-only rows folded into its product).
SOURCE_LINES = "_source_lines"
# Text: why the row could not be parsed as a record (wrong cell count); empty if it could.
PARSE_ERROR = "_parse_error"
# JSON text, mapped frames only: the reasons a connector could not make the row part of a
# product (a child whose parent is missing, a parent with nothing to sell); "[]" if none.
ROW_ERRORS = "_row_errors"

BOOKKEEPING_COLUMNS: tuple[str, ...] = (SOURCE_LINE, SOURCE_LINES, PARSE_ERROR, ROW_ERRORS)

# Every column of a mapped or validated product frame, in order.
PRODUCT_FRAME_COLUMNS: tuple[str, ...] = (
    *CANONICAL_FIELDS,
    IMAGES,
    ATTRIBUTES,
    WARNINGS,
    SOURCE_LINE,
    SOURCE_LINES,
)

assert set(CANONICAL_FIELDS) == set(PRODUCT_FIELDS) | set(VARIANT_FIELDS)
