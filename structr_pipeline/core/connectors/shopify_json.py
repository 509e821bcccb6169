"""Shopify product JSON (the REST Admin API product object) as one catalog product record.

``products/create`` and ``products/update`` webhooks carry the product object: its
fields, ``options``, ``variants`` and ``images``. ``shopify_product_record`` turns it into
the record ``export.product_records`` writes to ``products.jsonl``: every product field
as text (``''`` when missing), the variants with every variant field (prices and weights
as floats, inventory as an int, None when missing), the images as ``{src, position,
alt}`` and ``attributes`` holding the product's ``external_id`` (``shopify:<id>``).
Cells are cleaned with the same normalizers the CSV path uses. ``products/delete``
carries only ``{"id": ...}``: ``shopify_external_id`` reads it.
"""

from __future__ import annotations

from typing import Any

from structr_pipeline.core.fields import (
    ATTRIBUTES,
    IMAGES,
    PRODUCT_FIELDS,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.core.mapping.profiles import WEIGHT_UNITS
from structr_pipeline.core.normalize import (
    clean_text,
    normalize_barcode,
    normalize_status,
    normalize_tags,
    parse_number,
    parse_price,
    parse_whole_number,
    sanitize_html,
)
from structr_pipeline.core.values import slugify

EXTERNAL_ID_PREFIX = "shopify:"
_OPTION_COUNT = 3


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__


def _require_scalar(value: Any, where: str, expected: str) -> None:
    """Raise unless ``value`` is text or a number (JSON booleans, objects and lists are not)."""
    if isinstance(value, (bool, dict, list)):
        raise ValueError(f"{where}: expected {expected}, got {_kind(value)}")


def _text(container: dict[str, Any], key: str, where: str, multiline: bool = False) -> str:
    """A text field, cleaned; '' when missing or null. Numbers are written as text."""
    value = container.get(key)
    if value is None:
        return ""
    _require_scalar(value, f"{where}{key}", "text")
    return clean_text(str(value), multiline=multiline)


def _list(container: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{where}{key}: expected a list, got {_kind(value)}")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {_kind(value)}")
    return value


def _product_id(payload: dict[str, Any]) -> str:
    value = payload.get("id")
    if value is None:
        raise ValueError("id: missing (the Shopify product id)")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    raise ValueError(f"id: expected a non-negative whole number, got {value!r}")


def shopify_external_id(payload: dict[str, Any]) -> str:
    """``shopify:<product id>`` for any product payload, ``products/delete``'s included.

    Raises ``ValueError`` when the payload is not an object or its ``id`` is missing or
    not a whole number.
    """
    return EXTERNAL_ID_PREFIX + _product_id(_object(payload, "payload"))


def _tags(payload: dict[str, Any]) -> str:
    value = payload.get("tags")
    if value is None:
        return ""
    if isinstance(value, list):
        if not all(isinstance(tag, str) for tag in value):
            raise ValueError("tags: expected a list of text")
        return normalize_tags(", ".join(value))
    if not isinstance(value, str):
        raise ValueError(f"tags: expected text, got {_kind(value)}")
    return normalize_tags(value)


def _category(payload: dict[str, Any]) -> str:
    value = payload.get("category")
    if isinstance(value, dict):
        return clean_text(str(value.get("full_name") or value.get("name") or ""))
    return _text(payload, "category", "")


def _option_names(payload: dict[str, Any]) -> list[str]:
    options = [_object(o, f"options[{i}]") for i, o in enumerate(_list(payload, "options"))]
    ordered = sorted(
        enumerate(options),
        key=lambda pair: (
            _whole(pair[1].get("position"), f"options[{pair[0]}].position") or 0,
            pair[0],
        ),
    )
    names = [_text(option, "name", f"options[{i}].") for i, option in ordered]
    if len(names) > _OPTION_COUNT:
        raise ValueError(f"options: at most {_OPTION_COUNT} options, got {len(names)}")
    return names + [""] * (_OPTION_COUNT - len(names))


def _whole(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    _require_scalar(value, where, "a whole number")
    number, problem = parse_whole_number(str(value))
    if problem:
        raise ValueError(f"{where}: {problem}")
    return number


def _amount(variant: dict[str, Any], key: str, where: str) -> float | None:
    value = variant.get(key)
    if value is None or value == "":
        return None
    _require_scalar(value, f"{where}{key}", "a price")
    amount, problem = parse_price(str(value))
    if problem:
        raise ValueError(f"{where}{key}: {problem}")
    return amount


def _number(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    _require_scalar(value, where, "a number")
    number, problem = parse_number(str(value))
    if problem:
        raise ValueError(f"{where}: {problem}")
    return number


def _weight_grams(variant: dict[str, Any], where: str) -> float | None:
    grams = _number(variant.get("grams"), f"{where}grams")
    if grams is not None:
        return grams
    weight = _number(variant.get("weight"), f"{where}weight")
    if weight is None:
        return None
    unit = _text(variant, "weight_unit", where).lower() or "g"
    factor = WEIGHT_UNITS.get(unit)
    if factor is None:
        raise ValueError(
            f"{where}weight_unit: '{unit}' is not one of {', '.join(sorted(WEIGHT_UNITS))}"
        )
    return round(weight * factor, 6)


def _images(payload: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, dict[str, str]]]:
    """The product's images in position order, numbered 1..n, and each image by its id.

    The lookup also holds each variant id named in an image's ``variant_ids``
    (as ``variant:<id>``).
    """
    found: dict[str, dict[str, Any]] = {}
    by_id: dict[str, dict[str, str]] = {}
    for order, raw in enumerate(_list(payload, "images")):
        where = f"images[{order}]"
        image = _object(raw, where)
        src = _text(image, "src", f"{where}.")
        if not src:
            raise ValueError(f"{where}.src: missing (an image needs a URL)")
        alt = _text(image, "alt", f"{where}.")
        if src not in found:
            found[src] = {
                "src": src,
                "alt": alt,
                "_position": _whole(image.get("position"), f"{where}.position"),
                "_order": order,
            }
        elif alt and not found[src]["alt"]:
            found[src]["alt"] = alt
        entry = found[src]
        if image.get("id") is not None:
            by_id[str(image["id"])] = entry
        for variant_id in _list(image, "variant_ids", f"{where}."):
            by_id.setdefault(f"variant:{variant_id}", entry)
    ordered = sorted(
        found.values(),
        key=lambda img: (img["_position"] is None, img["_position"] or 0, img["_order"]),
    )
    images = [
        {"src": img["src"], "position": n, "alt": img["alt"]} for n, img in enumerate(ordered, 1)
    ]
    return images, {key: {"src": img["src"], "alt": img["alt"]} for key, img in by_id.items()}


def _variant(raw: Any, index: int, images_by_id: dict[str, dict[str, str]]) -> dict[str, Any]:
    where = f"variants[{index}]."
    variant = _object(raw, f"variants[{index}]")
    image = None
    if variant.get("image_id") is not None:
        image = images_by_id.get(str(variant["image_id"]))
    if image is None and variant.get("id") is not None:
        image = images_by_id.get(f"variant:{variant['id']}")
    values: dict[str, Any] = {
        "option1_value": _text(variant, "option1", where),
        "option2_value": _text(variant, "option2", where),
        "option3_value": _text(variant, "option3", where),
        "sku": _text(variant, "sku", where),
        "barcode": normalize_barcode(_text(variant, "barcode", where)).value,
        "price": _amount(variant, "price", where),
        "compare_at_price": _amount(variant, "compare_at_price", where),
        "cost_per_item": None,
        "inventory_qty": _whole(variant.get("inventory_quantity"), f"{where}inventory_quantity"),
        "weight_grams": _weight_grams(variant, where),
        "image_src": image["src"] if image else "",
        "image_alt": image["alt"] if image else "",
    }
    record = {name: values[name] for name in VARIANT_FIELDS}
    record[ATTRIBUTES] = {}
    record[WARNINGS] = []
    record["source_line"] = None
    return record


def shopify_product_record(payload: dict[str, Any]) -> dict[str, Any]:
    """One ``products.jsonl`` record from a Shopify product object.

    Raises ``ValueError`` naming the field and the reason when the payload cannot be a
    product: not an object, no ``id``, no ``title`` (a handle alone is not enough; the
    handle is derived from the title when missing), no variants, or a field of the wrong
    kind (a price that is not a price, an unknown weight unit, an image without ``src``).
    """
    payload = _object(payload, "payload")
    external_id = EXTERNAL_ID_PREFIX + _product_id(payload)
    title = _text(payload, "title", "")
    handle = _text(payload, "handle", "")
    if not title:
        raise ValueError(
            "title: missing or empty (a product needs a title"
            + (")" if handle else ", and the handle is missing too)")
        )
    if not handle:
        handle = slugify(title)
        if not handle:
            raise ValueError(f"handle: missing, and the title {title!r} gives none")
    option_names = _option_names(payload)
    raw_variants = _list(payload, "variants")
    if not raw_variants:
        raise ValueError("variants: missing or empty (a product has at least one variant)")
    images, images_by_id = _images(payload)
    order = sorted(
        range(len(raw_variants)),
        key=lambda i: (
            _whole(
                _object(raw_variants[i], f"variants[{i}]").get("position"),
                f"variants[{i}].position",
            )
            or 0,
            i,
        ),
    )
    values: dict[str, Any] = {
        "handle": handle,
        "title": title,
        "description_html": sanitize_html(_text(payload, "body_html", "", multiline=True)).html,
        "vendor": _text(payload, "vendor", ""),
        "product_type": _text(payload, "product_type", ""),
        "category": _category(payload),
        "tags": _tags(payload),
        "status": normalize_status(_text(payload, "status", "")),
        "option1_name": option_names[0],
        "option2_name": option_names[1],
        "option3_name": option_names[2],
        "seo_title": _text(payload, "metafields_global_title_tag", ""),
        "seo_description": _text(payload, "metafields_global_description_tag", ""),
    }
    product = {name: values[name] for name in PRODUCT_FIELDS}
    product["variants"] = [_variant(raw_variants[i], i, images_by_id) for i in order]
    product[IMAGES] = images
    product[ATTRIBUTES] = {"external_id": external_id}
    product["source_lines"] = []
    return product
