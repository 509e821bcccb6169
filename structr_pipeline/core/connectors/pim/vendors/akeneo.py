"""Akeneo's REST API: ``GET /api/rest/v1/products``, values per locale and scope.

Items come under ``_embedded.items`` with ``search_after`` paging through
``_links.next.href``; the id is the product's ``identifier``, the timestamp ``updated``.
Incremental pulls add ``search={"updated":[{"operator":">","value":"YYYY-MM-DD
HH:MM:SS"}]}`` (UTC) to any search the source gives. The view reduces each
``values.<attr>`` list to the one value for the source's locale and scope (the value
without a locale when there is none for it); media values become their download URLs,
gathered under ``AKENEO_MEDIA_KEY``. Written copy goes back as one batched ``PATCH``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from structr_pipeline.core.connectors.pim.pagination import find_path, json_type
from structr_pipeline.core.connectors.pim.specs import ImagesSpec, PaginationConfig
from structr_pipeline.core.connectors.pim.vendors.base import (
    NOT_ATTRIBUTES_KEY,
    ItemProblem,
    Preset,
    object_at,
)

if TYPE_CHECKING:
    from structr_pipeline.core.connectors.pim.config import PimSource

# Key of the view listing the download URLs of media values.
AKENEO_MEDIA_KEY = "_media"


def _rank(entry: dict[str, Any], locale: str | None, scope: str | None) -> tuple | None:
    """How well a value fits the locale and scope (lower is better), None if it does not."""
    entry_locale, entry_scope = entry.get("locale"), entry.get("scope")
    if locale is not None and entry_locale not in (None, locale):
        return None
    if scope is not None and entry_scope not in (None, scope):
        return None
    locale_rank = 0 if entry_locale == locale else 1 if entry_locale is None else 2
    scope_rank = 0 if entry_scope == scope else 1 if entry_scope is None else 2
    return locale_rank, scope_rank


@dataclass(frozen=True)
class AkeneoPreset(Preset):
    """Akeneo: values chosen per locale and scope, ``search`` filters on ``updated``."""

    def view(self, item: dict[str, Any], source: PimSource) -> dict[str, Any]:
        """The item with each attribute's one fitting value, media as download URLs."""
        values = object_at(item, "values")
        chosen: dict[str, Any] = {}
        media: list[str] = []
        for attribute, entries in values.items():
            if not isinstance(entries, list):
                raise ItemProblem(
                    f"values.{attribute}", f"is {json_type(entries)}, expected an array"
                )
            ranked = [
                (rank, n, entry)
                for n, entry in enumerate(entries)
                if isinstance(entry, dict)
                and (rank := _rank(entry, source.locale, source.scope)) is not None
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
        return {
            **item,
            "values": chosen,
            AKENEO_MEDIA_KEY: media,
            NOT_ATTRIBUTES_KEY: media_attributes,
        }

    def since_params(self, source: PimSource, moment: datetime) -> dict[str, str]:
        """The source's own ``search`` with ``updated > moment`` added."""
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


AKENEO = AkeneoPreset(
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
