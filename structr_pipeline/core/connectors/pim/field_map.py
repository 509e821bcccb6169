"""PIM items onto product records, in the shape of ``products.jsonl``.

Each item is first turned into a *view* that hides its PIM's packaging: Akeneo's
``values.<attr>`` lists become the one value for the configured locale and scope (the
value without a locale when there is none for it; media values become their download
URLs, gathered under ``_media``); Contentful fields lose their locale level
(``fields.title.en-US``) and their links are replaced by the linked asset or entry from
the response's ``includes``; Strapi 4 items lose ``attributes`` and ``data`` wrappers so
they read like Strapi 5 items. A field map (the preset's, with the source's overrides)
then says which dotted path of the view fills each canonical field.

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

import html
import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from structr_pipeline.core.connectors.pim.config import (
    FieldSpec,
    ImagesSpec,
    PimSource,
    VariantsSpec,
)
from structr_pipeline.core.connectors.pim.pagination import (
    MISSING,
    PathTypeError,
    find_path,
    get_path,
    json_type,
)
from structr_pipeline.core.connectors.pim.presets import (
    AKENEO_MEDIA_KEY,
    INCLUDES_KEY,
    id_paths,
    item_id,
    item_updated_at,
    preset_for,
    updated_paths,
)
from structr_pipeline.core.export import FLOAT_FIELDS, INT_FIELDS
from structr_pipeline.core.fields import ATTRIBUTES, IMAGES, PRODUCT_FIELDS, VARIANT_FIELDS
from structr_pipeline.core.mapping.profiles import WEIGHT_UNITS
from structr_pipeline.core.normalize import parse_number, parse_price, parse_whole_number
from structr_pipeline.core.values import slugify

EXTERNAL_ID = "external_id"
EXTERNAL_UPDATED_AT = "external_updated_at"

_LOCALE_KEY = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")
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
# Key of a view listing root keys that are not to become record attributes (media).
_NOT_ATTRIBUTES = "_not_attributes"


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


class _Problem(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


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


def _pick_locale(value: Any, locale: str | None, detect: bool = False) -> Any:
    """A localized value (``{"en-US": …, "de-DE": …}``) reduced to the one for ``locale``.

    An object with a ``locale`` key gives that key's value. With ``detect`` (a Contentful
    entry fetched with ``locale=*``), an object whose keys all look like locale codes is
    taken as localized and gives its first value when ``locale`` is not among them (the
    default locale comes first in Contentful's answers). Anything else passes unchanged.
    """
    if not isinstance(value, dict) or not value or "sys" in value or "nodeType" in value:
        return value
    if locale is not None and locale in value:
        return value[locale]
    if detect and all(isinstance(k, str) and _LOCALE_KEY.fullmatch(k) for k in value):
        return next(iter(value.values()))
    return value


def _contentful_link(value: Any) -> tuple[str, str] | None:
    sys = value.get("sys") if isinstance(value, dict) else None
    if isinstance(sys, dict) and sys.get("type") == "Link":
        link_type, link_id = sys.get("linkType"), sys.get("id")
        if isinstance(link_type, str) and isinstance(link_id, str):
            return link_type, link_id
    return None


def _localized(sys: Any) -> bool:
    """Whether Contentful fields carry a locale level (fetched with ``locale=*``)."""
    return not (isinstance(sys, dict) and "locale" in sys)


def _resolve_links(value: Any, includes: dict[str, Any], locale: str | None, depth: int) -> Any:
    """Links (alone or in a list) replaced by the included object, its fields localized."""
    if isinstance(value, list):
        return [_resolve_links(v, includes, locale, depth) for v in value]
    link = _contentful_link(value)
    if link is None or depth <= 0:
        return value
    linked = includes.get(link[0], {}).get(link[1]) if isinstance(includes, dict) else None
    if not isinstance(linked, dict):
        return value
    fields = linked.get("fields")
    if isinstance(fields, dict):
        detect = _localized(linked.get("sys"))
        fields = {
            k: _resolve_links(_pick_locale(v, locale, detect), includes, locale, depth - 1)
            for k, v in fields.items()
        }
        return {**linked, "fields": fields}
    return linked


def _contentful_view(item: dict[str, Any], source: PimSource) -> dict[str, Any]:
    fields = item.get("fields")
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise _Problem("fields", f"is {json_type(fields)}, expected an object")
    includes = item.get(INCLUDES_KEY) or {}
    view = {k: v for k, v in item.items() if k not in ("fields", INCLUDES_KEY)}
    detect = _localized(item.get("sys"))
    view["fields"] = {
        name: _resolve_links(_pick_locale(value, source.locale, detect), includes, source.locale, 2)
        for name, value in fields.items()
    }
    return view


def _akeneo_rank(entry: dict[str, Any], locale: str | None, scope: str | None) -> tuple | None:
    """How well a value fits the locale and scope (lower is better), None if it does not."""
    entry_locale, entry_scope = entry.get("locale"), entry.get("scope")
    if locale is not None and entry_locale not in (None, locale):
        return None
    if scope is not None and entry_scope not in (None, scope):
        return None
    locale_rank = 0 if entry_locale == locale else 1 if entry_locale is None else 2
    scope_rank = 0 if entry_scope == scope else 1 if entry_scope is None else 2
    return locale_rank, scope_rank


def _akeneo_view(item: dict[str, Any], source: PimSource) -> dict[str, Any]:
    values = item.get("values")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise _Problem("values", f"is {json_type(values)}, expected an object")
    chosen: dict[str, Any] = {}
    media: list[str] = []
    for attribute, entries in values.items():
        if not isinstance(entries, list):
            raise _Problem(f"values.{attribute}", f"is {json_type(entries)}, expected an array")
        ranked = [
            (rank, n, entry)
            for n, entry in enumerate(entries)
            if isinstance(entry, dict)
            and (rank := _akeneo_rank(entry, source.locale, source.scope)) is not None
        ]
        if not ranked:
            continue
        entry = min(ranked, key=lambda r: (r[0], r[1]))[2]
        href = find_path(entry, "_links.download.href")
        if isinstance(href, str) and href:
            media.append(href)
            chosen[attribute] = href
        else:
            chosen[attribute] = entry.get("data")
    media_attributes = [a for a in chosen if chosen[a] in media]
    return {**item, "values": chosen, AKENEO_MEDIA_KEY: media, _NOT_ATTRIBUTES: media_attributes}


def _strapi_flat(value: Any) -> Any:
    """Strapi 4's ``{id, attributes}`` and ``{data: …}`` wrappers removed, recursively."""
    if isinstance(value, list):
        return [_strapi_flat(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "data" in value and set(value) <= {"data", "meta"}:
        return _strapi_flat(value["data"])
    attributes = value.get("attributes")
    if isinstance(attributes, dict) and set(value) <= {"id", "attributes", "meta"}:
        flat = {k: _strapi_flat(v) for k, v in attributes.items()}
        return {"id": value.get("id"), **flat}
    return {k: _strapi_flat(v) for k, v in value.items()}


def item_view(item: dict[str, Any], source: PimSource) -> dict[str, Any]:
    """The item as the field map reads it (see the module docstring)."""
    if source.preset == "akeneo":
        return _akeneo_view(item, source)
    if source.preset == "contentful":
        return _contentful_view(item, source)
    if source.preset == "strapi":
        return _strapi_flat(item)
    return item


# --------------------------------------------------------------------------- rich text

_CONTENTFUL_TAGS = {
    "paragraph": "p",
    "heading-1": "h1",
    "heading-2": "h2",
    "heading-3": "h3",
    "heading-4": "h4",
    "heading-5": "h5",
    "heading-6": "h6",
    "unordered-list": "ul",
    "ordered-list": "ol",
    "list-item": "li",
    "blockquote": "blockquote",
    "table": "table",
    "table-row": "tr",
    "table-cell": "td",
    "table-header-cell": "th",
}
_MARK_TAGS = {"bold": "strong", "italic": "em", "underline": "u", "code": "code"}


def _marked(text: str, marks: list[str]) -> str:
    out = html.escape(text, quote=False)
    for mark in marks:
        tag = _MARK_TAGS.get(mark)
        if tag:
            out = f"<{tag}>{out}</{tag}>"
    return out


def _contentful_html(node: Any) -> str:
    """HTML from a Contentful Rich Text node (embedded entries and assets are left out)."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("nodeType")
    if kind == "text":
        marks = [m.get("type") for m in node.get("marks") or [] if isinstance(m, dict)]
        return _marked(str(node.get("value") or ""), [m for m in marks if isinstance(m, str)])
    inner = "".join(_contentful_html(child) for child in node.get("content") or [])
    if kind == "hr":
        return "<hr>"
    if kind == "hyperlink":
        uri = find_path(node, "data.uri")
        href = html.escape(uri if isinstance(uri, str) else "")
        return f'<a href="{href}">{inner}</a>'
    tag = _CONTENTFUL_TAGS.get(str(kind))
    return f"<{tag}>{inner}</{tag}>" if tag else inner


def _strapi_blocks_html(nodes: list[Any]) -> str:
    """HTML from Strapi 5's Blocks rich text."""
    parts = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "text":
            marks = [m for m in ("bold", "italic", "underline", "code") if node.get(m)]
            text = _marked(str(node.get("text") or ""), marks)
            parts.append(f"<s>{text}</s>" if node.get("strikethrough") else text)
            continue
        inner = _strapi_blocks_html(node.get("children") or [])
        if kind == "heading":
            level = node.get("level") if node.get("level") in (1, 2, 3, 4, 5, 6) else 2
            parts.append(f"<h{level}>{inner}</h{level}>")
        elif kind == "list":
            tag = "ol" if node.get("format") == "ordered" else "ul"
            parts.append(f"<{tag}>{inner}</{tag}>")
        elif kind == "link":
            href = html.escape(str(node.get("url") or ""))
            parts.append(f'<a href="{href}">{inner}</a>')
        else:
            tag = {"paragraph": "p", "list-item": "li", "quote": "blockquote", "code": "pre"}
            name = tag.get(str(kind))
            parts.append(f"<{name}>{inner}</{name}>" if name else inner)
    return "".join(parts)


def _is_strapi_blocks(value: list[Any]) -> bool:
    return bool(value) and all(
        isinstance(v, dict) and "type" in v and "children" in v for v in value
    )


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
        return _contentful_html(value)
    if isinstance(value, list):
        if _is_strapi_blocks(value):
            return _strapi_blocks_html(value)
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
        self.problems: list[_Problem] = []
        self._product_level: dict[str, Any] = {}

    def lookup(self, data: Any, path: str, label: str) -> Any:
        """The value at ``path`` in ``data`` (localized), or ``MISSING``; a type clash is noted."""
        try:
            return _pick_locale(get_path(data, path), self.source.locale)
        except PathTypeError as exc:
            self.problems.append(_Problem(label, str(exc)))
            return MISSING

    def convert(self, name: str, raw: Any, path: str, label: str) -> Any:
        """``raw`` as canonical field ``name``; a value that does not fit is a problem."""
        try:
            return _convert(name, raw, self.source)
        except ValueError as exc:
            self.problems.append(_Problem(label, f"{path}: {exc}"))
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
                    self.problems.append(_Problem(label, f"{spec.alt}: {exc}"))
                    alt = ""
            elif element is None:
                continue
            else:
                self.problems.append(
                    _Problem(
                        label, f"{spec.path}: expected a URL or an object, got {json_type(element)}"
                    )
                )
                continue
            if url is MISSING or url is None or url == "":
                continue
            if not isinstance(url, str):
                self.problems.append(
                    _Problem(label, f"{spec.url}: expected a URL, got {json_type(url)}")
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
                    _Problem("variants", f"{spec.path}: expected an array, got {json_type(raw)}")
                )
        if not elements:
            return [self.variant(None, None, 0)]
        out = []
        for n, element in enumerate(elements):
            if not isinstance(element, dict):
                self.problems.append(
                    _Problem(f"variants[{n}]", f"expected an object, got {json_type(element)}")
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
        skipped = self.view.get(_NOT_ATTRIBUTES) or []
        used.update(k for k in skipped if isinstance(k, str))
        found: dict[str, str] = {}
        for key, value in root.items():
            if key in used or key in preset.structural_keys or str(key).startswith("_"):
                continue
            value = _pick_locale(value, self.source.locale)
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
    except _Problem as problem:
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
