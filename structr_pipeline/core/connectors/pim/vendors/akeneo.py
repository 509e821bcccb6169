"""Akeneo's REST API: ``GET /api/rest/v1/products``, values per locale and scope.

Items come under ``_embedded.items`` with ``search_after`` paging through
``_links.next.href``; the id is the product's ``identifier``, the timestamp ``updated``.
Incremental pulls add ``search={"updated":[{"operator":">","value":"YYYY-MM-DD
HH:MM:SS"}]}`` (UTC) to any search the source gives. The view reduces each
``values.<attr>`` list to the one value for the source's locale and scope (the value
without a locale when there is none for it); media values become their download URLs,
gathered under ``AKENEO_MEDIA_KEY``. Written copy goes back as batched ``PATCH``
requests of ``application/vnd.akeneo.collection+json``, one product per line
(``{"identifier": …, "values": {attr: [{locale, scope, data}]}}``), up to
``write_back.batch_size`` a request; the answer has one status line per product.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
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
from structr_pipeline.core.connectors.pim.write_requests import (
    WriteBackItem,
    WriteBackResult,
    WriteRequest,
    renamed_fields,
)

if TYPE_CHECKING:
    import httpx

    from structr_pipeline.core.connectors.pim.config import PimSource

# Key of the view listing the download URLs of media values.
AKENEO_MEDIA_KEY = "_media"
AKENEO_COLLECTION = "application/vnd.akeneo.collection+json"


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


def _product_line(source: PimSource, item: WriteBackItem) -> str:
    """One product of a collection ``PATCH``: its values for the write-back locale and scope."""
    locale = source.write_back.locale or source.locale
    scope = source.write_back.scope or source.scope
    values = {
        attribute: [{"locale": locale, "scope": scope, "data": value}]
        for attribute, value in renamed_fields(source, item.fields).items()
    }
    return json.dumps({"identifier": item.id, "values": values}, ensure_ascii=False)


def _line_error(line: Mapping[str, Any]) -> str:
    """The message of a failed status line, with the property errors it lists."""
    message = str(line.get("message") or f"status {line.get('status_code')}")
    details = [
        f"{e.get('property') or e.get('attribute') or '?'}: {e.get('message')}"
        for e in line.get("errors") or []
        if isinstance(e, dict)
    ]
    return f"{message} ({'; '.join(details)})" if details else message


def _status_lines(text: str) -> tuple[dict[int, Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
    """The status lines of a collection answer, by line number and by identifier."""
    by_line: dict[int, Mapping[str, Any]] = {}
    by_identifier: dict[str, Mapping[str, Any]] = {}
    for raw in text.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(line, dict):
            continue
        if isinstance(line.get("line"), int):
            by_line[line["line"]] = line
        if isinstance(line.get("identifier"), str):
            by_identifier.setdefault(line["identifier"], line)
    return by_line, by_identifier


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

    def plan_writes(self, source: PimSource, updates: list[WriteBackItem]) -> list[WriteRequest]:
        """Collection ``PATCH`` requests of up to ``write_back.batch_size`` products each."""
        config = source.write_back
        method = self.write_method_for(source)
        url = source.base_url + (config.path or source.path or self.path or "")
        requests = []
        for start in range(0, len(updates), config.batch_size):
            batch = updates[start : start + config.batch_size]
            body = "\n".join(_product_line(source, item) for item in batch)
            requests.append(
                WriteRequest(
                    method,
                    url,
                    tuple(item.id for item in batch),
                    {"Content-Type": AKENEO_COLLECTION},
                    content=body.encode("utf-8"),
                )
            )
        return requests

    def write_results(
        self, source: PimSource, request: WriteRequest, response: httpx.Response
    ) -> list[WriteBackResult]:
        """One result per product from the status lines (matched by line, then identifier)."""
        by_line, by_identifier = _status_lines(response.text)
        results = []
        for n, product_id in enumerate(request.ids, start=1):
            line = by_line.get(n)
            if line is None or line.get("identifier") not in (None, product_id):
                line = by_identifier.get(product_id)
            if line is None:
                results.append(
                    WriteBackResult(
                        product_id, False, response.status_code, "no status line for it"
                    )
                )
                continue
            status = line.get("status_code")
            status = status if isinstance(status, int) else None
            ok = status is not None and 200 <= status < 300
            error = None if ok else _line_error(line)
            results.append(WriteBackResult(product_id, ok, status, error))
        return results


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
    max_page_size=100,
)
