"""Write validated products as a Shopify product CSV in the current header set.

One row per variant, the product's fields on its first row (as Shopify's own export
does), its images on the variant rows in position order and on image-only rows after
them, and every attribute column after Shopify's own. The file is RFC 4180 CSV (CRLF
line ends) and cells a spreadsheet would run as formulas are escaped, both by
``export.write_escaped_csv``. Importing the file again gives the same catalog.
"""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.connectors.shopify_spec import CURRENT_HEADER
from structr_pipeline.core.export import atomic_text, product_records, write_escaped_csv
from structr_pipeline.core.fields import PRODUCT_FIELDS

# Current-format column of each canonical field.
FIELD_COLUMN: dict[str, str] = {
    "handle": "URL handle",
    "title": "Title",
    "description_html": "Description",
    "vendor": "Vendor",
    "category": "Product category",
    "product_type": "Type",
    "tags": "Tags",
    "status": "Status",
    "option1_name": "Option1 name",
    "option1_value": "Option1 value",
    "option2_name": "Option2 name",
    "option2_value": "Option2 value",
    "option3_name": "Option3 name",
    "option3_value": "Option3 value",
    "sku": "SKU",
    "barcode": "Barcode",
    "price": "Price",
    "compare_at_price": "Compare-at price",
    "cost_per_item": "Cost per item",
    "inventory_qty": "Inventory quantity",
    "weight_grams": "Weight value (grams)",
    "image_src": "Variant image URL",
    "seo_title": "SEO title",
    "seo_description": "SEO description",
}
# Written on a product's first row only, as Shopify's own export does.
PRODUCT_LEVEL_FIELDS = tuple(f for f in PRODUCT_FIELDS if f != "handle")
MONEY = ("price", "compare_at_price", "cost_per_item")


def _plain_digits(value: float | int) -> str:
    """A number in plain digits, never in exponent form, as short as it reads back exactly.

    ``1e-05`` → ``0.00001``, ``1e+22`` → ``10000000000000000000000``; ``inf`` and ``nan``
    stay as they are (validation refuses them), and ``-0.0`` is ``0``.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value == 0:
        return "0"
    if isinstance(value, int):
        return format(Decimal(value), "f")
    # A float's shortest repr has at most 17 digits, so normalizing it is exact.
    return format(Decimal(repr(value)).normalize(), "f")


def format_money(value: float | int | str | None) -> str:
    """A money amount with at least two decimals (``29.9`` → ``29.90``, ``9.995`` → ``9.995``).

    Every digit is kept (``0.00001`` stays ``0.00001``, for validation to refuse rather
    than to publish as ``0.00``); text, as a JSON record may carry, is passed on as it is.
    """
    if value is None:
        return ""
    if not isinstance(value, int | float):
        return str(value)
    text = _plain_digits(value)
    if not any(c.isdigit() for c in text):
        return text
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"


def format_number(value: float | int | str | None) -> str:
    """A number as short as it reads back exactly, in plain digits (``250.0`` → ``250``)."""
    if value is None:
        return ""
    if not isinstance(value, int | float):
        return str(value)
    return _plain_digits(value)


def _cell(name: str, value: Any) -> str:
    if name in MONEY:
        return format_money(value)
    if name in ("inventory_qty", "weight_grams"):
        return format_number(value)
    return "" if value is None else str(value)


def write_shopify_csv(products: pd.DataFrame | list[dict[str, Any]], path: Path) -> int:
    """Write ``shopify_import.csv``; returns the number of data rows.

    ``products`` is a validated frame or the records ``product_records`` made of one.
    The header is Shopify's current product template followed by every attribute column
    the products carry (metafields, market prices, unknown columns), in order of first
    appearance; Option columns are always present.
    """
    records = list(product_records(products)) if isinstance(products, pd.DataFrame) else products
    extra: dict[str, None] = {}
    for record in records:
        for key in record["attributes"]:
            extra.setdefault(key)
        for variant in record["variants"]:
            for key in variant["attributes"]:
                extra.setdefault(key)
    known = set(CURRENT_HEADER)
    header = [*CURRENT_HEADER, *(key for key in extra if key not in known)]
    rows = (
        [row.get(name, "") for name in header] for record in records for row in product_rows(record)
    )
    with atomic_text(path, newline="") as f:
        return write_escaped_csv(f, header, rows)


def product_rows(record: dict[str, Any]) -> list[dict[str, str]]:
    """The CSV rows of one product record: its variants, then one row per remaining image."""
    images = record["images"]
    rows = []
    for i, variant in enumerate(record["variants"]):
        row: dict[str, str] = {"URL handle": record["handle"]}
        if i == 0:
            row.update({FIELD_COLUMN[f]: _cell(f, record[f]) for f in PRODUCT_LEVEL_FIELDS})
        for name, value in variant.items():
            if name in FIELD_COLUMN:
                row[FIELD_COLUMN[name]] = _cell(name, value)
        row.update(record["attributes"])
        row.update(variant["attributes"])
        rows.append(row)
    for i, image in enumerate(images):
        if i >= len(rows):
            rows.append({"URL handle": record["handle"]})
        rows[i].update(
            {
                "Product image URL": image["src"],
                "Image position": str(image["position"]),
                "Image alt text": image.get("alt", ""),
            }
        )
    return rows


def handles_in_shopify_csv(path: Path) -> set[str]:
    """The product handles a Shopify import file written by ``write_shopify_csv`` holds."""
    with Path(path).open(encoding="utf-8", newline="") as f:
        return {row["URL handle"] for row in csv.DictReader(f) if row.get("URL handle")}
