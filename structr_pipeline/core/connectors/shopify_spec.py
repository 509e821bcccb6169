"""Shopify's product CSV columns, in both header sets, and where each one goes.

Shopify has written two header sets: the legacy one (``Handle``, ``Body (HTML)``,
``Variant SKU``, ``Image Src`` …) and the current one (``URL handle``, ``Description``,
``SKU``, ``Product image URL`` …). Each known column either fills a canonical field,
carries an image, or is kept as an attribute under its current-format name, so a file
in either set, and our own export, give the same catalog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Level = Literal["product", "variant"]


@dataclass(frozen=True)
class ShopifyColumn:
    """One known Shopify column: its spellings and what it fills."""

    legacy: str
    current: str
    field: str | None = None
    level: Level = "variant"


def _field(legacy: str, current: str, field: str) -> ShopifyColumn:
    return ShopifyColumn(legacy, current, field)


# Columns that fill canonical fields (whether a field is product- or variant-level is
# fixed by ``fields.PRODUCT_FIELDS``).
FIELD_COLUMNS: tuple[ShopifyColumn, ...] = (
    _field("Handle", "URL handle", "handle"),
    _field("Title", "Title", "title"),
    _field("Body (HTML)", "Description", "description_html"),
    _field("Vendor", "Vendor", "vendor"),
    _field("Product Category", "Product category", "category"),
    _field("Type", "Type", "product_type"),
    _field("Tags", "Tags", "tags"),
    _field("Status", "Status", "status"),
    _field("Option1 Name", "Option1 name", "option1_name"),
    _field("Option1 Value", "Option1 value", "option1_value"),
    _field("Option2 Name", "Option2 name", "option2_name"),
    _field("Option2 Value", "Option2 value", "option2_value"),
    _field("Option3 Name", "Option3 name", "option3_name"),
    _field("Option3 Value", "Option3 value", "option3_value"),
    _field("Variant SKU", "SKU", "sku"),
    _field("Variant Barcode", "Barcode", "barcode"),
    _field("Variant Price", "Price", "price"),
    _field("Variant Compare At Price", "Compare-at price", "compare_at_price"),
    _field("Cost per item", "Cost per item", "cost_per_item"),
    _field("Variant Inventory Qty", "Inventory quantity", "inventory_qty"),
    _field("Variant Grams", "Weight value (grams)", "weight_grams"),
    _field("Variant Image", "Variant image URL", "image_src"),
    _field("SEO Title", "SEO title", "seo_title"),
    _field("SEO Description", "SEO description", "seo_description"),
)

# The product's image on a row: its URL, position and alt text.
IMAGE_SRC = ShopifyColumn("Image Src", "Product image URL")
IMAGE_POSITION = ShopifyColumn("Image Position", "Image position")
IMAGE_ALT = ShopifyColumn("Image Alt Text", "Image alt text")
IMAGE_COLUMNS: tuple[ShopifyColumn, ...] = (IMAGE_SRC, IMAGE_POSITION, IMAGE_ALT)


def _attr(legacy: str, current: str, level: Level) -> ShopifyColumn:
    return ShopifyColumn(legacy, current, None, level)


# Known columns kept as attributes under their current-format name.
ATTRIBUTE_COLUMNS: tuple[ShopifyColumn, ...] = (
    _attr("Published", "Published on online store", "product"),
    _attr("Gift Card", "Gift card", "product"),
    _attr("Option1 Linked To", "Option1 Linked To", "product"),
    _attr("Option2 Linked To", "Option2 Linked To", "product"),
    _attr("Option3 Linked To", "Option3 Linked To", "product"),
    _attr(
        "Google Shopping / Google Product Category",
        "Google Shopping / Google product category",
        "product",
    ),
    _attr("Google Shopping / Gender", "Google Shopping / Gender", "product"),
    _attr("Google Shopping / Age Group", "Google Shopping / Age group", "product"),
    _attr("Google Shopping / MPN", "Google Shopping / Manufacturer part number (MPN)", "product"),
    _attr("Google Shopping / AdWords Grouping", "Google Shopping / Ad group name", "product"),
    _attr("Google Shopping / AdWords Labels", "Google Shopping / Ads labels", "product"),
    _attr("Google Shopping / Condition", "Google Shopping / Condition", "product"),
    _attr("Google Shopping / Custom Product", "Google Shopping / Custom product", "product"),
    *(
        _attr(
            f"Google Shopping / Custom Label {n}", f"Google Shopping / Custom label {n}", "product"
        )
        for n in range(5)
    ),
    _attr("Variant Inventory Tracker", "Inventory tracker", "variant"),
    _attr("Variant Inventory Policy", "Continue selling when out of stock", "variant"),
    _attr("Variant Fulfillment Service", "Fulfillment service", "variant"),
    _attr("Variant Requires Shipping", "Requires shipping", "variant"),
    _attr("Variant Taxable", "Charge tax", "variant"),
    _attr("Variant Tax Code", "Tax code", "variant"),
    _attr("Variant Weight Unit", "Weight unit for display", "variant"),
    _attr("Unit price total measure", "Unit price total measure", "variant"),
    _attr("Unit price total measure unit", "Unit price total measure unit", "variant"),
    _attr("Unit price base measure", "Unit price base measure", "variant"),
    _attr("Unit price base measure unit", "Unit price base measure unit", "variant"),
)

# The current header set as Shopify's product template writes it, in order: the base of
# our own ``shopify_import.csv``.
CURRENT_HEADER: tuple[str, ...] = (
    "Title",
    "URL handle",
    "Description",
    "Vendor",
    "Product category",
    "Type",
    "Tags",
    "Published on online store",
    "Status",
    "SKU",
    "Barcode",
    "Option1 name",
    "Option1 value",
    "Option1 Linked To",
    "Option2 name",
    "Option2 value",
    "Option2 Linked To",
    "Option3 name",
    "Option3 value",
    "Option3 Linked To",
    "Price",
    "Compare-at price",
    "Cost per item",
    "Charge tax",
    "Tax code",
    "Unit price total measure",
    "Unit price total measure unit",
    "Unit price base measure",
    "Unit price base measure unit",
    "Inventory tracker",
    "Inventory quantity",
    "Continue selling when out of stock",
    "Weight value (grams)",
    "Weight unit for display",
    "Requires shipping",
    "Fulfillment service",
    "Product image URL",
    "Image position",
    "Image alt text",
    "Variant image URL",
    "Gift card",
    "SEO title",
    "SEO description",
    "Google Shopping / Google product category",
    "Google Shopping / Gender",
    "Google Shopping / Age group",
    "Google Shopping / Manufacturer part number (MPN)",
    "Google Shopping / Ad group name",
    "Google Shopping / Ads labels",
    "Google Shopping / Condition",
    "Google Shopping / Custom product",
    "Google Shopping / Custom label 0",
    "Google Shopping / Custom label 1",
    "Google Shopping / Custom label 2",
    "Google Shopping / Custom label 3",
    "Google Shopping / Custom label 4",
)

_KNOWN = (*FIELD_COLUMNS, *IMAGE_COLUMNS, *ATTRIBUTE_COLUMNS)
assert {c.current for c in _KNOWN} <= set(CURRENT_HEADER)


def header_key(name: str) -> str:
    """A header cell compared without case or repeated whitespace."""
    return " ".join(name.split()).casefold()


_BY_KEY: dict[str, ShopifyColumn] = {}
for _column in _KNOWN:
    _BY_KEY.setdefault(header_key(_column.legacy), _column)
    _BY_KEY.setdefault(header_key(_column.current), _column)

# Columns Shopify adds per market (``Price / United States``) and per metafield
# (``Fabric (product.metafields.custom.fabric)``).
_PRODUCT_LEVEL = re.compile(r"(?i)^included\s*/|\(product\.metafields\.[^)]*\)\s*$")


def known_column(name: str) -> ShopifyColumn | None:
    """The known Shopify column a header cell names, in either header set, or None."""
    return _BY_KEY.get(header_key(name))


def attribute_level(name: str) -> Level:
    """Whether an unknown column belongs to the product (inherited by its variants) or the row."""
    return "product" if _PRODUCT_LEVEL.search(name) else "variant"
