"""Writing generated copy and audit grades back to a PIM: the requests and their outcomes.

This module plans the requests and reads their answers; ``PimClient.write_back`` sends
them through the same retrying, rate-limited client used for pulls.

* Akeneo: ``PATCH /api/rest/v1/products`` with ``application/vnd.akeneo.collection+json``,
  one product per line (``{"identifier": …, "values": {attr: [{locale, scope, data}]}}``),
  up to ``batch_size`` per request; the answer has one status line per product.
* Strapi: ``PUT /api/products/{id}`` with ``{"data": {…}}``, one request per product.
* Generic: ``PATCH <path>/{id}`` with the fields as the JSON body (or under ``wrap``).

Contentful's delivery API is read-only, so a Contentful source cannot enable write-back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from structr_pipeline.core.connectors.pim.config import PimSource
from structr_pipeline.core.connectors.pim.presets import preset_for

AKENEO_COLLECTION = "application/vnd.akeneo.collection+json"


@dataclass(frozen=True)
class WriteBackItem:
    """What to write to one product: its id in the PIM and the fields to set."""

    id: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class WriteBackResult:
    """The outcome for one product: ``ok``, the HTTP status and the error if it failed."""

    id: str
    ok: bool
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class WriteRequest:
    """One write request and the products it carries, in body order."""

    method: str
    url: str
    ids: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    json_body: Any = None


def _renamed(source: PimSource, fields: Mapping[str, Any]) -> dict[str, Any]:
    names = source.write_back.field_map
    return {names.get(name, name): value for name, value in fields.items()}


def _akeneo_line(source: PimSource, item: WriteBackItem) -> str:
    locale = source.write_back.locale or source.locale
    scope = source.write_back.scope or source.scope
    values = {
        attribute: [{"locale": locale, "scope": scope, "data": value}]
        for attribute, value in _renamed(source, item.fields).items()
    }
    return json.dumps({"identifier": item.id, "values": values}, ensure_ascii=False)


def plan_requests(source: PimSource, updates: list[WriteBackItem]) -> list[WriteRequest]:
    """The requests that write ``updates`` to ``source``, batched where the API allows."""
    preset = preset_for(source)
    config = source.write_back
    method = config.method or preset.write_method or "PATCH"
    list_path = source.path or preset.path or ""
    if preset.write_batched:
        url = source.base_url + (config.path or list_path)
        requests = []
        for start in range(0, len(updates), config.batch_size):
            batch = updates[start : start + config.batch_size]
            body = "\n".join(_akeneo_line(source, item) for item in batch)
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
    template = config.path or list_path.rstrip("/") + "/{id}"
    wrap = config.wrap or preset.write_wrap
    requests = []
    for item in updates:
        body: Any = _renamed(source, item.fields)
        if wrap:
            body = {wrap: body}
        url = source.base_url + template.replace("{id}", quote(item.id, safe=""))
        requests.append(WriteRequest(method, url, (item.id,), json_body=body))
    return requests


def _akeneo_error(line: Mapping[str, Any]) -> str:
    message = str(line.get("message") or f"status {line.get('status_code')}")
    details = [
        f"{e.get('property') or e.get('attribute') or '?'}: {e.get('message')}"
        for e in line.get("errors") or []
        if isinstance(e, dict)
    ]
    return f"{message} ({'; '.join(details)})" if details else message


def _akeneo_results(request: WriteRequest, response: httpx.Response) -> list[WriteBackResult]:
    """One result per product from Akeneo's status lines (matched by line, then identifier)."""
    by_line: dict[int, Mapping[str, Any]] = {}
    by_identifier: dict[str, Mapping[str, Any]] = {}
    for text in response.text.splitlines():
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            continue
        if not isinstance(line, dict):
            continue
        if isinstance(line.get("line"), int):
            by_line[line["line"]] = line
        if isinstance(line.get("identifier"), str):
            by_identifier.setdefault(line["identifier"], line)
    results = []
    for n, product_id in enumerate(request.ids, start=1):
        line = by_line.get(n)
        if line is None or line.get("identifier") not in (None, product_id):
            line = by_identifier.get(product_id)
        if line is None:
            results.append(
                WriteBackResult(product_id, False, response.status_code, "no status line for it")
            )
            continue
        status = line.get("status_code")
        status = status if isinstance(status, int) else None
        ok = status is not None and 200 <= status < 300
        results.append(WriteBackResult(product_id, ok, status, None if ok else _akeneo_error(line)))
    return results


def results_from_response(
    source: PimSource, request: WriteRequest, response: httpx.Response
) -> list[WriteBackResult]:
    """The per-product outcomes of a successful (2xx) write response."""
    if preset_for(source).write_batched:
        return _akeneo_results(request, response)
    return [WriteBackResult(i, True, response.status_code) for i in request.ids]


def failed(request: WriteRequest, status: int | None, error: str) -> list[WriteBackResult]:
    """The same failure for every product a request carried."""
    return [WriteBackResult(i, False, status, error) for i in request.ids]
