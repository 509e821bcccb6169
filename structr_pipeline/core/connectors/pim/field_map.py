"""PIM items onto product records, in the shape of ``products.jsonl``.

Each item is first turned into a *view* by its vendor's preset (``vendors``), which
hides its PIM's packaging: Akeneo's ``values.<attr>`` lists become the one value for the
configured locale and scope (media values become their download URLs, gathered under
``_media``); Contentful fields lose their locale level (``fields.title.en-US``) and their
links are replaced by the linked asset or entry from the response's ``includes``; Strapi
4 items lose ``attributes`` and ``data`` wrappers so they read like Strapi 5 items. A
field map (the preset's, with the source's overrides) then says which dotted path of the
view fills each canonical field.

A record has every product field as text ('' when missing), ``variants`` (every variant
field, prices and weights as float or None, the inventory as int or None, plus
``attributes``, ``warnings`` and ``source_line``), ``images`` (``src``, ``position`` from
1, ``alt``), ``attributes`` (``external_id`` = ``<source>:<item id>``, the item's
timestamp as ``external_updated_at``, and the item's unmapped plain values) and
``source_lines`` (empty: a PIM item has no line). An item that cannot be mapped (no id, a
price that is not a number, a value of the wrong type at a mapped path) gives
``ItemError``s and no record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from structr_pipeline.core.connectors.pim.config import PimSource
from structr_pipeline.core.connectors.pim.localized import pick_locale
from structr_pipeline.core.connectors.pim.pagination import (
    MISSING,
    PathTypeError,
    find_path,
    get_path,
    json_type,
)
from structr_pipeline.core.connectors.pim.presets import (
    id_paths,
    item_id,
    item_updated_at,
    preset_for,
    updated_paths,
)
from structr_pipeline.core.connectors.pim.rich_text import (
    contentful_html,
    is_strapi_blocks,
    strapi_blocks_html,
)
from structr_pipeline.core.connectors.pim.specs import FieldSpec, ImagesSpec, VariantsSpec
from structr_pipeline.core.connectors.pim.vendors.base import NOT_ATTRIBUTES_KEY, ItemProblem
from structr_pipeline.core.export import FLOAT_FIELDS, INT_FIELDS
from structr_pipeline.core.fields import ATTRIBUTES, IMAGES, PRODUCT_FIELDS, VARIANT_FIELDS
from structr_pipeline.core.mapping.profiles import WEIGHT_UNITS
from structr_pipeline.core.normalize import parse_number, parse_price, parse_whole_number
from structr_pipeline.core.values import slugify

EXTERNAL_ID = "external_id"
EXTERNAL_UPDATED_AT = "external_updated_at"

# Akeneo's metric units (and short names) in grams.
_METRIC_UNITS: dict[str, float] = {
    "MILLIGRAM": 0.001,
    "GRAM": 1.0,
    "KILOGRAM": 1000.0,
    "TON": 1_000_000.0,
    "OUNCE": WEIGHT_UNITS["oz"],
    "POUND": WEIGHT_UNITS["lb"],
    **{unit.upper(): factor for unit, factor in WEIGHT_UNITS.items()},
}
_EXCERPT = 60


@dataclass(frozen=True)
class ItemError:
    """Why one pulled item gave no record: its position, its id, the field and the reason."""

    index: int
    item_id: str
    field: str
    reason: str

    def describe(self) -> str:
        """The error as one sentence."""
        who = f"item '{self.item_id}'" if self.item_id else f"item #{self.index}"
        return f"{who}, field '{self.field}': {self.reason}"


def _excerpt(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"


def effective_field_map(source: PimSource) -> dict[str, FieldSpec]:
    """The preset's field map with the source's overrides (a null override unmaps)."""
    merged: dict[str, FieldSpec] = dict(preset_for(source).field_map)
    for name, spec in source.field_map.items():
        if spec is None:
            merged.pop(name, None)
        else:
            merged[name] = spec
    return merged


# --------------------------------------------------------------------------- views


def item_view(item: dict[str, Any], source: PimSource) -> dict[str, Any]:
    """The item as the field map reads it (see the module docstring)."""
    return preset_for(source).view(item, source)


# --------------------------------------------------------------------------- values


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(value: Any) -> str:
    """A text field from a JSON value; lists of plain values are joined with ', '."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, str | int | float | bool):
        return _scalar_text(value)
    if isinstance(value, dict) and value.get("nodeType") == "document":
        return contentful_html(value)
    if isinstance(value, list):
        if is_strapi_blocks(value):
            return strapi_blocks_html(value)
        if all(isinstance(v, str | int | float | bool) or v is None for v in value):
            return ", ".join(_scalar_text(v) for v in value if v is not None and v != "")
    raise ValueError(f"expected text, got {json_type(value)}")


def _status(value: Any) -> str:
    if isinstance(value, bool):
        return "active" if value else "draft"
    return _text(value)


def _finite(number: float, value: Any) -> float:
    try:
        result = float(number)
    except OverflowError:
        result = math.inf  # an integer too large for a float
    if not math.isfinite(result):
        raise ValueError(f"'{_excerpt(value)}' is not a finite number")
    return result


def _money(value: Any, currency: str | None) -> float | None:
    """An amount from a number, a text, ``{amount, currency}`` or a list of those."""
    if value is MISSING or value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a price, got {json_type(value)}")
    if isinstance(value, int | float):
        return _finite(value, value)
    if isinstance(value, str):
        amount, problem = parse_price(value)
        if problem:
            raise ValueError(problem)
        return amount
    if isinstance(value, dict) and "amount" in value:
        return _money(value["amount"], None)
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        if not value:
            return None
        if currency is not None:
            matching = [v for v in value if str(v.get("currency", "")).upper() == currency.upper()]
            if not matching:
                found = ", ".join(str(v.get("currency")) for v in value)
                raise ValueError(f"no price in {currency} (found {found})")
            return _money(matching[0], None)
        return _money(value[0], None)
    raise ValueError(f"expected a price, got {json_type(value)}")


def _weight(value: Any, unit: str) -> float | None:
    """Grams from a number or text in ``unit``, or from ``{amount, unit}`` (Akeneo metric)."""
    if value is MISSING or value is None or value == "":
        return None
    if isinstance(value, dict) and "amount" in value:
        metric_unit = str(value.get("unit") or unit).upper()
        if metric_unit not in _METRIC_UNITS:
            raise ValueError(f"unknown weight unit '{_excerpt(value.get('unit'))}'")
        amount = _weight(value["amount"], "g")
        return None if amount is None else round(amount * _METRIC_UNITS[metric_unit], 6)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected a weight, got {json_type(value)}")
    if isinstance(value, str):
        number, problem = parse_number(value)
        if problem:
            raise ValueError(problem)
        if number is None:
            return None
    else:
        number = _finite(value, value)
    return round(number * WEIGHT_UNITS[unit], 6)


def _whole(value: Any) -> int | None:
    if value is MISSING or value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {json_type(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"'{value}' is not a whole number")
        return int(value)
    if isinstance(value, str):
        number, problem = parse_whole_number(value)
        if problem:
            raise ValueError(problem)
        return number
    raise ValueError(f"expected a whole number, got {json_type(value)}")


def _convert(name: str, value: Any, source: PimSource) -> Any:
    if name == "weight_grams":
        return _weight(value, source.weight_unit)
    if name in FLOAT_FIELDS:
        return _money(value, source.currency)
    if name in INT_FIELDS:
        return _whole(value)
    if name == "status":
        return _status(value)
    return _text(value)


def _absolute_url(url: str, source: PimSource) -> str:
    """Protocol-relative URLs get ``https:``; server-relative ones the source's origin."""
    url = url.strip()
    if url.startswith("//"):
        return "https:" + url
    if url.startswith("/"):
        parts = urlsplit(source.base_url)
        return f"{parts.scheme}://{parts.netloc}{url}"
    return url


# --------------------------------------------------------------------------- records


class _ItemMapper:
    """Maps one item's view, collecting every problem instead of stopping at the first."""

    def __init__(self, view: dict[str, Any], source: PimSource, fmap: dict[str, FieldSpec]):
        self.view = view
        self.source = source
        self.fmap = fmap
        self.problems: list[ItemProblem] = []
        self._product_level: dict[str, Any] = {}

    def lookup(self, data: Any, path: str, label: str) -> Any:
        """The value at ``path`` in ``data`` (localized), or ``MISSING``; a type clash is noted."""
        try:
            return pick_locale(get_path(data, path), self.source.locale)
        except PathTypeError as exc:
            self.problems.append(ItemProblem(label, str(exc)))
            return MISSING

    def convert(self, name: str, raw: Any, path: str, label: str) -> Any:
        """``raw`` as canonical field ``name``; a value that does not fit is a problem."""
        try:
            return _convert(name, raw, self.source)
        except ValueError as exc:
            self.problems.append(ItemProblem(label, f"{path}: {exc}"))
            return _convert(name, MISSING, self.source)

    def field(self, name: str) -> Any:
        """The converted value of canonical field ``name`` at its path in the view."""
        path = self.fmap.get(name)
        if not isinstance(path, str):
            return _convert(name, MISSING, self.source)
        return self.convert(name, self.lookup(self.view, path, name), path, name)

    def images(self) -> list[dict[str, Any]]:
        """The product's images, first occurrence of each URL, positions from 1."""
        spec = self.fmap.get(IMAGES)
        if not isinstance(spec, ImagesSpec):
            return []
        raw = self.lookup(self.view, spec.path, IMAGES)
        if raw is MISSING or raw is None:
            return []
        elements = raw if isinstance(raw, list) else [raw]
        images: dict[str, str] = {}
        for n, element in enumerate(elements):
            label = f"{IMAGES}[{n}]"
            if isinstance(element, str):
                url, alt = element, ""
            elif isinstance(element, dict):
                url = self.lookup(element, spec.url, label)
                alt_raw = self.lookup(element, spec.alt, label) if spec.alt else MISSING
                try:
                    alt = _text(alt_raw)
                except ValueError as exc:
                    self.problems.append(ItemProblem(label, f"{spec.alt}: {exc}"))
                    alt = ""
            elif element is None:
                continue
            else:
                self.problems.append(
                    ItemProblem(
                        label, f"{spec.path}: expected a URL or an object, got {json_type(element)}"
                    )
                )
                continue
            if url is MISSING or url is None or url == "":
                continue
            if not isinstance(url, str):
                self.problems.append(
                    ItemProblem(label, f"{spec.url}: expected a URL, got {json_type(url)}")
                )
                continue
            images.setdefault(_absolute_url(url, self.source), alt)
        return [
            {"src": src, "position": n, "alt": alt}
            for n, (src, alt) in enumerate(images.items(), start=1)
        ]

    def variants(self) -> list[dict[str, Any]]:
        """One variant per object of the variants array, or one from the product itself."""
        spec = self.fmap.get("variants")
        elements: list[Any] = []
        if isinstance(spec, VariantsSpec):
            raw = self.lookup(self.view, spec.path, "variants")
            if isinstance(raw, list):
                elements = raw
            elif raw is not MISSING and raw is not None:
                self.problems.append(
                    ItemProblem("variants", f"{spec.path}: expected an array, got {json_type(raw)}")
                )
        if not elements:
            return [self.variant(None, None, 0)]
        out = []
        for n, element in enumerate(elements):
            if not isinstance(element, dict):
                self.problems.append(
                    ItemProblem(f"variants[{n}]", f"expected an object, got {json_type(element)}")
                )
                continue
            assert isinstance(spec, VariantsSpec)
            out.append(self.variant(element, spec, n))
        return out

    def variant(self, element: dict | None, spec: VariantsSpec | None, n: int) -> dict[str, Any]:
        """One variant: the variant object's own values, else the product-level ones."""
        variant: dict[str, Any] = {}
        for name in VARIANT_FIELDS:
            if element is not None and spec is not None and name in spec.fields:
                path, label = spec.fields[name], f"variants[{n}].{name}"
                raw = self.lookup(element, path, label)
                if raw is not MISSING and raw is not None:
                    variant[name] = self.convert(name, raw, path, label)
                    continue
            if name not in self._product_level:
                self._product_level[name] = self.field(name)
            variant[name] = self._product_level[name]
        variant[ATTRIBUTES] = {}
        variant["warnings"] = []
        variant["source_line"] = None
        return variant

    def attributes(self) -> dict[str, str]:
        """The plain values under the preset's attribute root that no mapping reads."""
        preset = preset_for(self.source)
        root_path = preset.attributes_root
        root = find_path(self.view, root_path)
        if not isinstance(root, dict):
            return {}
        paths = [*id_paths(self.source), *updated_paths(self.source)]
        for spec in self.fmap.values():
            if isinstance(spec, str):
                paths.append(spec)
            elif isinstance(spec, ImagesSpec | VariantsSpec):
                paths.append(spec.path)
        used: set[str] = set()
        for path in paths:
            if not root_path:
                used.add(path.split(".")[0])
            elif path.startswith(root_path + "."):
                used.add(path[len(root_path) + 1 :].split(".")[0])
        skipped = self.view.get(NOT_ATTRIBUTES_KEY) or []
        used.update(k for k in skipped if isinstance(k, str))
        found: dict[str, str] = {}
        for key, value in root.items():
            if key in used or key in preset.structural_keys or str(key).startswith("_"):
                continue
            value = pick_locale(value, self.source.locale)
            if isinstance(value, str | int | float | bool) and value != "":
                found[str(key)] = _scalar_text(value)
        return found


def record_from_item(
    item: Any, source: PimSource, index: int = 0
) -> tuple[dict[str, Any] | None, list[ItemError]]:
    """One item as a product record, or None and the reasons it cannot be one."""
    if not isinstance(item, dict):
        reason = f"expected an object, got {json_type(item)}"
        return None, [ItemError(index, "", "item", reason)]
    ident = item_id(item, source)
    if not ident:
        where = " or ".join(id_paths(source))
        return None, [ItemError(index, "", "id", f"no identifier at {where}")]
    try:
        view = item_view(item, source)
    except ItemProblem as problem:
        return None, [ItemError(index, ident, problem.field, problem.reason)]

    mapper = _ItemMapper(view, source, effective_field_map(source))
    record: dict[str, Any] = {name: mapper.field(name) for name in PRODUCT_FIELDS}
    variants = mapper.variants()
    images = mapper.images()
    if mapper.problems:
        return None, [ItemError(index, ident, p.field, p.reason) for p in mapper.problems]

    first_sku = next((v["sku"] for v in variants if v["sku"]), "")
    record["handle"] = slugify(record["handle"]) or slugify(first_sku) or slugify(ident)
    if len(variants) == 1 and images and not variants[0]["image_src"]:
        variants[0]["image_src"] = images[0]["src"]
        variants[0]["image_alt"] = variants[0]["image_alt"] or images[0]["alt"]
    attributes = {EXTERNAL_ID: f"{source.name}:{ident}"}
    updated = item_updated_at(item, source)
    if updated:
        attributes[EXTERNAL_UPDATED_AT] = updated
    for key, value in mapper.attributes().items():
        attributes.setdefault(key, value)
    record["variants"] = variants
    record[IMAGES] = images
    record[ATTRIBUTES] = attributes
    record["source_lines"] = []
    return record, []


def records_from_items(
    items: list[Any], source: PimSource
) -> tuple[list[dict[str, Any]], list[ItemError]]:
    """Every item mapped to a product record; the ones that cannot be give ``ItemError``s.

    Records come in item order; an item with any error gives no record but one error per
    problem found, so nothing is dropped without a reason.
    """
    records: list[dict[str, Any]] = []
    errors: list[ItemError] = []
    for index, item in enumerate(items):
        record, item_errors = record_from_item(item, source, index)
        if record is not None:
            records.append(record)
        errors.extend(item_errors)
    return records, errors
