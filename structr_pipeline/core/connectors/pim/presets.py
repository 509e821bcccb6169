"""What each kind of PIM looks like: endpoints, paging, ids, timestamps and filters.

Four presets:

* ``akeneo``: the REST API's ``GET /api/rest/v1/products``, items under
  ``_embedded.items``, ``search_after`` paging through ``_links.next.href``, the id is
  the product's ``identifier``, the timestamp ``updated``; incremental pulls add
  ``search={"updated":[{"operator":">","value":"YYYY-MM-DD HH:MM:SS"}]}`` (UTC).
* ``contentful``: the delivery API's entries (the path names space and environment),
  ``skip``/``limit`` paging up to ``total``, ``includes`` holding linked assets and
  entries, the id ``sys.id``, the timestamp ``sys.updatedAt``, filtered with
  ``sys.updatedAt[gt]``.
* ``strapi``: the REST API of Strapi 4 (``data[].attributes``) and 5 (flat items with a
  ``documentId``), ``pagination[page]``/``pagination[pageSize]`` up to
  ``meta.pagination.pageCount`` (of ``meta.pagination.total`` items), filtered with
  ``filters[updatedAt][$gt]``.
* ``generic``: any JSON API; page/per-page paging, ``id`` and ``updated_at`` keys and an
  ``updated_since`` parameter unless the source says otherwise.

A source's own settings (``path``, ``items_path``, ``id_path``, ``updated_path``,
``pagination``, ``params``, ``updated_since_param``) override its preset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from structr_pipeline.core.connectors.pim.config import (
    FieldSpec,
    ImagesSpec,
    PaginationConfig,
    PimSource,
    VariantsSpec,
)
from structr_pipeline.core.connectors.pim.pagination import MISSING, find_path
from structr_pipeline.core.fields import PRODUCT_FIELDS, VARIANT_FIELDS

# Key under which the client attaches, to each Contentful entry, the assets and entries
# of the response's ``includes`` that the entry links to: {"Asset": {id: asset}, ...}.
INCLUDES_KEY = "_includes"
# Key of the Akeneo view (see ``field_map``) listing the download URLs of media values.
AKENEO_MEDIA_KEY = "_media"

_AUTO_ITEM_KEYS = ("items", "data", "products", "results", "entries")
# Epoch numbers above this are taken to be milliseconds.
_EPOCH_MS_THRESHOLD = 100_000_000_000


@dataclass(frozen=True)
class Preset:
    """The defaults of one kind of PIM (see the module docstring)."""

    name: str
    path: str | None
    items_path: str | None
    id_paths: tuple[str, ...]
    updated_paths: tuple[str, ...]
    pagination: PaginationConfig
    params: Mapping[str, str]
    field_map: Mapping[str, FieldSpec]
    # Where the item's own attributes are (unmapped scalars there become record attributes).
    attributes_root: str
    structural_keys: frozenset[str] = frozenset()
    locale_param: str | None = None
    write_method: str | None = None
    write_wrap: str | None = None
    write_batched: bool = False
    max_page_size: int = 1000


AKENEO = Preset(
    name="akeneo",
    path="/api/rest/v1/products",
    items_path="_embedded.items",
    id_paths=("identifier",),
    updated_paths=("updated",),
    pagination=PaginationConfig(kind="next_url", size_param="limit"),
    params={"pagination_type": "search_after"},
    field_map={
        "handle": "identifier",
        "sku": "identifier",
        "title": "values.name",
        "description_html": "values.description",
        "vendor": "values.brand",
        "product_type": "family",
        "category": "categories.0",
        "status": "enabled",
        "barcode": "values.ean",
        "price": "values.price",
        "weight_grams": "values.weight",
        "seo_title": "values.meta_title",
        "seo_description": "values.meta_description",
        "images": ImagesSpec(path=AKENEO_MEDIA_KEY, url="", alt=None),
    },
    attributes_root="values",
    write_method="PATCH",
    write_batched=True,
    max_page_size=100,
)

CONTENTFUL = Preset(
    name="contentful",
    path=None,
    items_path="items",
    id_paths=("sys.id",),
    updated_paths=("sys.updatedAt",),
    pagination=PaginationConfig(
        kind="offset", offset_param="skip", limit_param="limit", total_path="total"
    ),
    params={"order": "sys.createdAt,sys.id"},
    field_map={
        "handle": "fields.slug",
        "title": "fields.title",
        "description_html": "fields.description",
        "vendor": "fields.brand",
        "product_type": "fields.productType",
        "category": "fields.category",
        "tags": "fields.tags",
        "sku": "fields.sku",
        "barcode": "fields.barcode",
        "price": "fields.price",
        "compare_at_price": "fields.compareAtPrice",
        "weight_grams": "fields.weight",
        "seo_title": "fields.seoTitle",
        "seo_description": "fields.seoDescription",
        "images": ImagesSpec(path="fields.images", url="fields.file.url", alt="fields.title"),
    },
    attributes_root="fields",
    locale_param="locale",
    max_page_size=1000,
)

STRAPI = Preset(
    name="strapi",
    path="/api/products",
    items_path="data",
    id_paths=("documentId", "id"),
    updated_paths=("updatedAt", "attributes.updatedAt"),
    pagination=PaginationConfig(
        kind="page",
        page_param="pagination[page]",
        size_param="pagination[pageSize]",
        page_count_path="meta.pagination.pageCount",
        total_path="meta.pagination.total",
    ),
    params={"populate": "*", "sort": "id:asc"},
    field_map={
        "handle": "slug",
        "title": "title",
        "description_html": "description",
        "vendor": "brand",
        "product_type": "productType",
        "category": "category",
        "tags": "tags",
        "sku": "sku",
        "barcode": "barcode",
        "price": "price",
        "compare_at_price": "compareAtPrice",
        "weight_grams": "weight",
        "seo_title": "seo.metaTitle",
        "seo_description": "seo.metaDescription",
        "images": ImagesSpec(path="images", url="url", alt="alternativeText"),
    },
    attributes_root="",
    structural_keys=frozenset(
        {"id", "documentId", "createdAt", "updatedAt", "publishedAt", "locale", "localizations"}
    ),
    locale_param="locale",
    write_method="PUT",
    write_wrap="data",
    max_page_size=100,
)

GENERIC = Preset(
    name="generic",
    path=None,
    items_path=None,
    id_paths=("id",),
    updated_paths=("updated_at",),
    pagination=PaginationConfig(kind="page", page_param="page", size_param="per_page"),
    params={},
    field_map={
        **{name: name for name in (*PRODUCT_FIELDS, *VARIANT_FIELDS)},
        "images": ImagesSpec(path="images", url="src", alt="alt"),
        "variants": VariantsSpec(path="variants", fields={f: f for f in VARIANT_FIELDS}),
    },
    attributes_root="",
    structural_keys=frozenset({"id", "updated_at", "created_at"}),
    write_method="PATCH",
)

PRESETS: dict[str, Preset] = {p.name: p for p in (AKENEO, CONTENTFUL, STRAPI, GENERIC)}


def preset_for(source: PimSource) -> Preset:
    """The preset ``source`` is built on."""
    return PRESETS[source.preset]


def list_url(source: PimSource) -> str:
    """The absolute URL of the source's product list."""
    path = source.path or preset_for(source).path or ""
    return source.base_url + path


def pagination_for(source: PimSource) -> PaginationConfig:
    """The source's paging: its own setting, else its preset's."""
    return source.pagination or preset_for(source).pagination


def id_paths(source: PimSource) -> tuple[str, ...]:
    """Where an item's id may be, first match wins."""
    return (source.id_path,) if source.id_path else preset_for(source).id_paths


def updated_paths(source: PimSource) -> tuple[str, ...]:
    """Where an item's last-modified timestamp may be, first match wins."""
    return (source.updated_path,) if source.updated_path else preset_for(source).updated_paths


def parse_timestamp(value: Any) -> datetime | None:
    """A timestamp from a PIM (ISO 8601 text, or epoch seconds or ms) as an aware datetime.

    Naive values are taken as UTC; anything unreadable is None.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 (``2024-05-01T10:00:00+00:00``); naive is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _zulu_ms(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_since(source: PimSource, since: datetime) -> str:
    """``since`` (UTC) written as a generic source's ``updated_since_format`` asks."""
    moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    fmt = source.updated_since_format
    if fmt == "iso":
        return _zulu_ms(moment)
    if fmt == "epoch":
        return str(int(moment.timestamp()))
    return moment.strftime(fmt)


def updated_since_params(source: PimSource, since: datetime) -> dict[str, str]:
    """The query parameters that limit a list to items updated after ``since``."""
    moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    if source.updated_since_param:
        return {source.updated_since_param: format_since(source, moment)}
    if source.preset == "akeneo":
        search: dict[str, Any] = {}
        given = source.params.get("search")
        if isinstance(given, str) and given.strip():
            try:
                search = json.loads(given)
            except ValueError:
                search = {}
        condition = {"operator": ">", "value": moment.strftime("%Y-%m-%d %H:%M:%S")}
        search = {**search, "updated": [condition]}
        return {"search": json.dumps(search, separators=(",", ":"))}
    if source.preset == "contentful":
        return {"sys.updatedAt[gt]": _zulu_ms(moment)}
    if source.preset == "strapi":
        return {"filters[updatedAt][$gt]": _zulu_ms(moment)}
    return {"updated_since": format_since(source, moment)}


def list_params(source: PimSource, since: datetime | None = None) -> dict[str, Any]:
    """Every query parameter of the first list request, paging ones excepted."""
    preset = preset_for(source)
    params: dict[str, Any] = dict(preset.params)
    if source.locale and preset.locale_param and preset.locale_param not in source.params:
        params[preset.locale_param] = source.locale
    params.update(source.params)
    if since is not None:
        params.update(updated_since_params(source, since))
    return params


def extract_items(body: Any, source: PimSource) -> list[Any]:
    """The items of one list response; ``ValueError`` when the body has no item list."""
    path = source.items_path if source.items_path is not None else preset_for(source).items_path
    if path is None:
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            for key in _AUTO_ITEM_KEYS:
                if isinstance(body.get(key), list):
                    return body[key]
        raise ValueError(
            "the body is neither a JSON array nor an object with an "
            f"{'/'.join(_AUTO_ITEM_KEYS)} array (set items_path)"
        )
    found = find_path(body, path)
    if found is MISSING or found is None:
        raise ValueError(f"the body has no '{path}' (set items_path)")
    if not isinstance(found, list):
        raise ValueError(f"'{path}' in the body is not an array")
    return found


def _links(value: Any, found: set[tuple[str, str]]) -> None:
    """Collect every Contentful link (``{"sys": {"type": "Link", …}}``) inside ``value``."""
    if isinstance(value, dict):
        sys = value.get("sys")
        if isinstance(sys, dict) and sys.get("type") == "Link":
            if isinstance(sys.get("linkType"), str) and isinstance(sys.get("id"), str):
                found.add((sys["linkType"], sys["id"]))
            return
        for child in value.values():
            _links(child, found)
    elif isinstance(value, list):
        for child in value:
            _links(child, found)


def attach_includes(items: list[Any], body: Any) -> list[Any]:
    """Contentful entries, each with the included assets and entries it links to attached.

    The linked objects go under ``INCLUDES_KEY`` as ``{link type: {id: object}}``; the
    entry is otherwise unchanged, so it can be mapped again later without the response.
    """
    includes = body.get("includes") if isinstance(body, dict) else None
    if not isinstance(includes, dict):
        return items
    by_type: dict[str, dict[str, Any]] = {}
    for link_type, objects in includes.items():
        if isinstance(objects, list):
            for obj in objects:
                object_id = find_path(obj, "sys.id")
                if isinstance(object_id, str):
                    by_type.setdefault(link_type, {})[object_id] = obj
    out: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            out.append(item)
            continue
        found: set[tuple[str, str]] = set()
        _links(item.get("fields"), found)
        linked: dict[str, dict[str, Any]] = {}
        for link_type, object_id in sorted(found):
            obj = by_type.get(link_type, {}).get(object_id)
            if obj is not None:
                linked.setdefault(link_type, {})[object_id] = obj
        out.append({**item, INCLUDES_KEY: linked} if linked else item)
    return out


def item_id(item: Any, source: PimSource) -> str:
    """The item's id in the PIM as text ('' when it has none)."""
    for path in id_paths(source):
        value = find_path(item, path)
        if isinstance(value, bool) or value is MISSING or value is None:
            continue
        if isinstance(value, int | float | str) and str(value).strip():
            return str(value).strip()
    return ""


def item_updated_at(item: Any, source: PimSource) -> str | None:
    """The item's last-modified timestamp as the PIM wrote it, or None."""
    for path in updated_paths(source):
        value = find_path(item, path)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None
