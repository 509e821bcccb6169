"""Contentful's delivery API: entries of one space and environment, read only.

The path names the space and environment, so a source must give it. Paging is
``skip``/``limit`` up to ``total``; the id is ``sys.id``, the timestamp ``sys.updatedAt``,
filtered with ``sys.updatedAt[gt]``. Each page's ``includes`` (linked assets and
entries) is attached to the entries that link to them, under ``INCLUDES_KEY``; the view
then drops the fields' locale level (``fields.title.en-US``) and replaces links by the
linked object. The delivery API cannot write, so write-back is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from structr_pipeline.core.connectors.pim.localized import pick_locale
from structr_pipeline.core.connectors.pim.pagination import find_path
from structr_pipeline.core.connectors.pim.specs import ImagesSpec, PaginationConfig
from structr_pipeline.core.connectors.pim.vendors.base import Preset, object_at, zulu_ms

if TYPE_CHECKING:
    from structr_pipeline.core.connectors.pim.config import PimSource

# Key under which each entry carries the assets and entries of the response's
# ``includes`` that it links to: {"Asset": {id: asset}, ...}.
INCLUDES_KEY = "_includes"
# How many links deep linked entries are resolved.
_LINK_DEPTH = 2


def _link(value: Any) -> tuple[str, str] | None:
    """The (link type, id) of a Contentful link (``{"sys": {"type": "Link", …}}``), or None."""
    sys = value.get("sys") if isinstance(value, dict) else None
    if isinstance(sys, dict) and sys.get("type") == "Link":
        link_type, link_id = sys.get("linkType"), sys.get("id")
        if isinstance(link_type, str) and isinstance(link_id, str):
            return link_type, link_id
    return None


def _links(value: Any, found: set[tuple[str, str]]) -> None:
    """Collect every Contentful link inside ``value``."""
    if isinstance(value, dict):
        sys = value.get("sys")
        if isinstance(sys, dict) and sys.get("type") == "Link":
            link = _link(value)
            if link is not None:
                found.add(link)
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


def _localized(sys: Any) -> bool:
    """Whether Contentful fields carry a locale level (fetched with ``locale=*``)."""
    return not (isinstance(sys, dict) and "locale" in sys)


def _resolve_links(value: Any, includes: dict[str, Any], locale: str | None, depth: int) -> Any:
    """Links (alone or in a list) replaced by the included object, its fields localized."""
    if isinstance(value, list):
        return [_resolve_links(v, includes, locale, depth) for v in value]
    link = _link(value)
    if link is None or depth <= 0:
        return value
    linked = includes.get(link[0], {}).get(link[1]) if isinstance(includes, dict) else None
    if not isinstance(linked, dict):
        return value
    fields = linked.get("fields")
    if isinstance(fields, dict):
        detect = _localized(linked.get("sys"))
        fields = {
            k: _resolve_links(pick_locale(v, locale, detect), includes, locale, depth - 1)
            for k, v in fields.items()
        }
        return {**linked, "fields": fields}
    return linked


@dataclass(frozen=True)
class ContentfulPreset(Preset):
    """Contentful: localized fields, links resolved from ``includes``, no write-back."""

    def view(self, item: dict[str, Any], source: PimSource) -> dict[str, Any]:
        """The entry with its fields in one locale and its links resolved."""
        fields = object_at(item, "fields")
        includes = item.get(INCLUDES_KEY) or {}
        view = {k: v for k, v in item.items() if k not in ("fields", INCLUDES_KEY)}
        detect = _localized(item.get("sys"))
        locale = source.locale
        view["fields"] = {
            name: _resolve_links(pick_locale(value, locale, detect), includes, locale, _LINK_DEPTH)
            for name, value in fields.items()
        }
        return view

    def since_params(self, source: PimSource, moment: datetime) -> dict[str, str]:
        """``sys.updatedAt[gt]`` with the moment in milliseconds."""
        return {"sys.updatedAt[gt]": zulu_ms(moment)}

    def prepare_page(self, items: list[Any], body: Any) -> list[Any]:
        """The entries with the page's ``includes`` they link to attached."""
        return attach_includes(items, body)

    def check_source(self, source: PimSource) -> None:
        """A source needs its entries path, and cannot write back."""
        super().check_source(source)
        if source.write_back.enabled:
            raise ValueError(
                "write_back: Contentful's delivery API is read-only; write-back is not "
                "supported for contentful sources"
            )


CONTENTFUL = ContentfulPreset(
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
    missing_path=(
        "a contentful source needs its entries path, such as "
        "/spaces/<space_id>/environments/master/entries"
    ),
)
