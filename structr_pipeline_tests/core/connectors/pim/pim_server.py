"""A Starlette app that imitates the PIM APIs the connector knows, served on 127.0.0.1.

Routes:

* Akeneo: ``POST /api/oauth/v1/token``, ``GET /api/rest/v1/products`` (``search_after``
  paging through ``_links.next.href``, the ``search`` filter on ``updated``) and ``PATCH
  /api/rest/v1/products`` (a collection, one status line per product).
* Contentful: ``GET /spaces/sp1/environments/master/entries`` (``skip``/``limit``,
  ``total``, ``includes.Asset``, ``locale`` including ``*``, ``sys.updatedAt[gt]``).
* Strapi: ``GET /v4/api/products`` and ``GET /v5/api/products`` (``pagination[page]``,
  ``meta.pagination.pageCount``, ``filters[updatedAt][$gt]``), ``PUT
  /v5/api/products/{documentId}``.
* Generic: ``GET /generic/page`` (page/per_page), ``/generic/offset`` (offset/limit and
  ``total``), ``/generic/cursor`` (``next_cursor``), ``/generic/link`` (``Link`` header,
  a bare array), all filtered by ``updated_since``; ``PATCH /generic/products/{id}``;
  ``POST /oauth/token``.
* json-server: ``GET /jsonserver/products`` as json-server 0.17 answers it: a bare array,
  ``_page``/``_limit`` paging with ``Link`` (first, prev, next, last) only when ``_page``
  is given (``_limit`` alone is just the first items), ``X-Total-Count``, and the
  inclusive filter ``updated_at_gte``.

``PimServerState`` holds the data and the behaviour a test asks for: which credentials
the data routes demand, OAuth tokens that expire after some seconds or some uses,
scripted faults (a status, ``Retry-After``, a delay) on chosen requests, drift in the
middle of offset paging, edits made right after a given generic page is served, and an
inclusive ``updated_since``. Every request is logged.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

AKENEO_ATTRIBUTES = {"name", "description", "price", "weight", "picture", "color", "meta_title"}


def _ts(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 3, day, hour, 0, 0, tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- data


def _plain_value(data: Any) -> dict[str, Any]:
    """An Akeneo value without locale or scope."""
    return {"locale": None, "scope": None, "data": data}


def _link(link_type: str, target: str) -> dict[str, Any]:
    """A Contentful link."""
    return {"sys": {"type": "Link", "linkType": link_type, "id": target}}


def _text_node(value: str, *marks: str) -> dict[str, Any]:
    """A Contentful rich-text text node."""
    return {"nodeType": "text", "value": value, "marks": [{"type": m} for m in marks], "data": {}}


def akeneo_products(base_url: str) -> list[dict[str, Any]]:
    """Seven Akeneo products, SKU-001 … SKU-007, updated on 1 … 7 March 2024.

    SKU-005's EUR price is ``abc`` (a malformed item); SKU-002 has no English name, only
    a French one and a name without locale.
    """
    products = []
    for n in range(1, 8):
        identifier = f"SKU-{n:03d}"
        amount = "abc" if n == 5 else f"{10 * n}.50"
        names = [
            {"locale": "en_US", "scope": None, "data": f"Shoe {n}"},
            {"locale": "fr_FR", "scope": None, "data": f"Chaussure {n}"},
        ]
        if n == 2:
            names = [
                {"locale": "fr_FR", "scope": None, "data": "Chaussure 2"},
                {"locale": None, "scope": None, "data": "Shoe two"},
            ]
        media = f"{n}/a/b/shoe_{n}.jpg"
        products.append(
            {
                "identifier": identifier,
                "enabled": n != 3,
                "family": "shoes",
                "categories": ["men_shoes", "sale"],
                "parent": None,
                "created": _ts(1).isoformat(),
                "updated": _ts(n).isoformat(),
                "values": {
                    "name": names,
                    "description": [
                        {"locale": "en_US", "scope": "ecommerce", "data": f"<p>Shoe {n}.</p>"},
                        {"locale": "en_US", "scope": "print", "data": "Print copy"},
                    ],
                    "price": [
                        {
                            "locale": None,
                            "scope": None,
                            "data": [
                                {"amount": amount, "currency": "EUR"},
                                {"amount": f"{12 * n}.00", "currency": "USD"},
                            ],
                        }
                    ],
                    "weight": [_plain_value({"amount": "0.8", "unit": "KILOGRAM"})],
                    "color": [_plain_value("red")],
                    "picture": [
                        {
                            "locale": None,
                            "scope": None,
                            "data": media,
                            "_links": {
                                "download": {
                                    "href": f"{base_url}/api/rest/v1/media-files/{media}/download"
                                }
                            },
                        }
                    ],
                },
            }
        )
    return products


def contentful_data() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Five Contentful product entries (p1 … p5) and their image assets, both locales.

    Fields are stored by locale (``en-US`` and ``de-DE``); p5 links an asset that is not
    included (deleted), p4 has two images.
    """
    assets = []
    for n in range(1, 6):
        assets.append(
            {
                "sys": {"id": f"img{n}", "type": "Asset", "updatedAt": _iso(_ts(1))},
                "fields": {
                    "title": {"en-US": f"Photo {n}", "de-DE": f"Foto {n}"},
                    "file": {
                        "en-US": {
                            "url": f"//images.ctfassets.net/sp1/img{n}/photo{n}.jpg",
                            "contentType": "image/jpeg",
                        }
                    },
                },
            }
        )
    entries = []
    for n in range(1, 6):
        images = [_link("Asset", f"img{n}")]
        if n == 4:
            images.append(_link("Asset", "img1"))
        if n == 5:
            images = [_link("Asset", "gone")]
        entries.append(
            {
                "sys": {
                    "id": f"p{n}",
                    "type": "Entry",
                    "createdAt": _iso(_ts(1, n)),
                    "updatedAt": _iso(_ts(n, 12)),
                    "contentType": _link("ContentType", "product"),
                },
                "fields": {
                    "title": {"en-US": f"Lamp {n}", "de-DE": f"Lampe {n}"},
                    "slug": {"en-US": f"lamp-{n}"},
                    "sku": {"en-US": f"L-{n}"},
                    "price": {"en-US": 19.5 + n},
                    "tags": {"en-US": ["home", "light"]},
                    "description": {
                        "en-US": {
                            "nodeType": "document",
                            "data": {},
                            "content": [
                                {
                                    "nodeType": "paragraph",
                                    "data": {},
                                    "content": [
                                        _text_node("A "),
                                        _text_node("bright", "bold"),
                                        _text_node(" lamp."),
                                    ],
                                }
                            ],
                        }
                    },
                    "images": {"en-US": images},
                    "material": {"en-US": "brass", "de-DE": "Messing"},
                },
            }
        )
    return entries, assets


def strapi_products() -> list[dict[str, Any]]:
    """Six Strapi products (flat, as Strapi 5 stores them), ids 1 … 6."""
    products = []
    for n in range(1, 7):
        products.append(
            {
                "id": n,
                "documentId": f"doc{n}",
                "title": f"Mug {n}",
                "slug": f"mug-{n}",
                "sku": f"M-{n}",
                "price": 8 + n,
                "description": "A mug.",
                "stock": n * 3,
                "createdAt": _iso(_ts(1)),
                "updatedAt": _iso(_ts(n, 9)),
                "publishedAt": _iso(_ts(n, 9)),
                "images": [
                    {
                        "id": 100 + n,
                        "documentId": f"media{n}",
                        "url": f"/uploads/mug_{n}.jpg",
                        "alternativeText": f"Mug {n} on a table",
                    }
                ],
            }
        )
    return products


def generic_products() -> list[dict[str, Any]]:
    """Eight generic products: g-1 … g-6, g-bad (price ``twelve``) and one without an id.

    g-2 has two variants; the others are single products.
    """
    products: list[dict[str, Any]] = []
    for n in range(1, 7):
        item: dict[str, Any] = {
            "id": f"g-{n}",
            "title": f"Chair {n}",
            "handle": f"chair-{n}",
            "vendor": "Acme",
            "sku": f"C-{n}",
            "price": f"{40 + n}.00",
            "inventory_qty": n,
            "updated_at": _iso(_ts(n, 8)),
            "images": [{"src": f"https://cdn.example.com/chair-{n}.jpg", "alt": f"Chair {n}"}],
            "material": "oak",
        }
        if n == 2:
            item["option1_name"] = "Colour"
            item["variants"] = [
                {"sku": "C-2-BLK", "option1_value": "Black", "price": 42.0},
                {"sku": "C-2-WHT", "option1_value": "White", "price": 43.5},
            ]
        products.append(item)
    products.append(
        {"id": "g-bad", "title": "Broken", "price": "twelve", "updated_at": _iso(_ts(7))}
    )
    products.append({"title": "Nameless", "price": 1, "updated_at": _iso(_ts(8))})
    return products


def jsonserver_products(count: int) -> list[dict[str, Any]]:
    """``count`` products as a json-server ``db.json`` holds them, ids 1 … ``count``."""
    return [
        {
            "id": n,
            "title": f"Lamp {n}",
            "sku": f"JS-{n:05d}",
            "price": f"{n % 90 + 10}.00",
            "updated_at": _iso(_ts(1 + n % 20)),
        }
        for n in range(1, count + 1)
    ]


# --------------------------------------------------------------------------- behaviour


@dataclass
class Fault:
    """An answer forced on data requests ``start`` … ``start + times - 1`` (1-based).

    ``times=None`` repeats it forever. ``delay`` (seconds) is waited before answering;
    with ``status=None`` the normal answer follows the delay.
    """

    start: int
    status: int | None = 500
    times: int | None = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = field(default_factory=lambda: {"message": "Internal Server Error"})
    delay: float = 0.0

    def applies(self, number: int) -> bool:
        """Whether the ``number``-th data request gets this fault."""
        return number >= self.start and (self.times is None or number < self.start + self.times)


@dataclass
class LoggedRequest:
    """One request the server saw."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    at: float
    raw_path: str = ""
    status: int = 0

    def param(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        return next((v for k, v in self.query if k == name), None)


class PimServerState:
    """Data and behaviour of the imitation PIMs; ``reset()`` between tests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.base_url = ""
        self.reset()

    def reset(self) -> None:
        """Fresh data, no auth demanded, no faults, empty log."""
        with self.lock:
            self.akeneo = akeneo_products(self.base_url)
            self.contentful_entries, self.contentful_assets = contentful_data()
            self.strapi = strapi_products()
            self.generic = generic_products()
            self.auth: dict[str, Any] | None = None
            self.faults: list[Fault] = []
            self.log: list[LoggedRequest] = []
            self.data_requests = 0
            self.tokens: dict[str, dict[str, float]] = {}
            self.token_ttl_s: float | None = 3600
            self.token_max_uses: int | None = None
            self.token_requests = 0
            self.expired_token_rejections = 0
            self.drift_offset = False
            self.ignore_paging = False
            # Page number of /generic/page → a function called (with the state, lock
            # held) right after that page is served: an edit racing the pull.
            self.after_generic_page: dict[int, Callable[[PimServerState], None]] = {}
            self.inclusive_since = False
            self.jsonserver = jsonserver_products(2500)

    # -- helpers used by the routes -------------------------------------------------

    def fault_for(self) -> Fault | None:
        """Count one data request and return the fault scripted for it, if any."""
        with self.lock:
            self.data_requests += 1
            number = self.data_requests
            return next((f for f in self.faults if f.applies(number)), None)

    def check_auth(self, request: Request) -> Response | None:
        """None when the request carries the credentials demanded, else a 401 answer."""
        expected = self.auth
        if expected is None:
            return None
        kind = expected["type"]
        header = request.headers.get("authorization", "")
        if kind == "api_key":
            ok = request.headers.get(expected["header"], "") == expected["key"]
        elif kind == "bearer":
            ok = header == f"Bearer {expected['token']}"
        elif kind == "basic":
            raw = f"{expected['username']}:{expected['password']}".encode()
            ok = header == "Basic " + base64.b64encode(raw).decode()
        else:
            token = header.removeprefix("Bearer ")
            with self.lock:
                info = self.tokens.get(token) if header.startswith("Bearer ") else None
                if info is not None:
                    too_old = (
                        self.token_ttl_s is not None
                        and time.monotonic() - info["issued"] > self.token_ttl_s
                    )
                    worn = self.token_max_uses is not None and info["uses"] >= self.token_max_uses
                    if too_old or worn:
                        self.expired_token_rejections += 1
                        return JSONResponse(
                            {"code": 401, "message": "The access token provided has expired."},
                            status_code=401,
                        )
                    info["uses"] += 1
            ok = info is not None
        if ok:
            return None
        # A careless server might echo what it got; the client must mask it.
        got = request.headers.get(expected["header"], "") if kind == "api_key" else header
        return JSONResponse(
            {"code": 401, "message": f"Authentication failed for '{got}'"}, status_code=401
        )


def _state(request: Request) -> PimServerState:
    return request.app.state.pim


async def _log(request: Request) -> LoggedRequest:
    body = await request.body()
    entry = LoggedRequest(
        request.method,
        request.url.path,
        list(request.query_params.multi_items()),
        dict(request.headers),
        body,
        time.monotonic(),
        request.scope.get("raw_path", b"").decode("ascii", "replace"),
    )
    state = _state(request)
    with state.lock:
        state.log.append(entry)
    return entry


async def _guard(request: Request) -> tuple[LoggedRequest, Response | None]:
    """Log, apply the scripted fault and the auth check; a Response means answer with it."""
    entry = await _log(request)
    state = _state(request)
    fault = state.fault_for()
    if fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.status is not None:
            entry.status = fault.status
            return entry, JSONResponse(fault.body, status_code=fault.status, headers=fault.headers)
    refused = state.check_auth(request)
    if refused is not None:
        entry.status = refused.status_code
    return entry, refused


def _since(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    return _parse(value) if value else None


def _int(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    return int(value) if value not in (None, "") else default


# --------------------------------------------------------------------------- token


async def token(request: Request) -> Response:
    """OAuth2 token endpoint: client credentials (form) or Akeneo's password grant (JSON)."""
    await _log(request)
    state = _state(request)
    expected = state.auth or {}
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        params = json.loads(raw or b"{}")
    else:
        params = dict(parse_qsl(raw.decode()))
    client_id, client_secret = params.get("client_id"), params.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.startswith("Basic "):
        client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
    with state.lock:
        state.token_requests += 1
    good = (
        expected.get("type") == "oauth2"
        and client_id == expected.get("client_id")
        and client_secret == expected.get("client_secret")
        and params.get("grant_type") == expected.get("grant_type", "client_credentials")
    )
    if good and params.get("grant_type") == "password":
        good = params.get("username") == expected.get("username") and params.get(
            "password"
        ) == expected.get("password")
    if not good:
        return JSONResponse(
            {"error": "invalid_client", "error_description": "Client authentication failed"},
            status_code=401,
        )
    value = uuid.uuid4().hex
    with state.lock:
        state.tokens[value] = {"issued": time.monotonic(), "uses": 0}
    answer: dict[str, Any] = {"access_token": value, "token_type": "bearer"}
    if state.token_ttl_s is not None:
        answer["expires_in"] = state.token_ttl_s
    if params.get("grant_type") == "password":
        answer["refresh_token"] = uuid.uuid4().hex
    return JSONResponse(answer)


# --------------------------------------------------------------------------- Akeneo


async def akeneo_products_route(request: Request) -> Response:
    """Akeneo's product list (search_after paging) and its collection PATCH."""
    entry, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    if request.method == "PATCH":
        return _akeneo_patch(state, entry)
    limit = _int(request, "limit", 10)
    if limit > 100:
        return JSONResponse({"code": 422, "message": "limit must be at most 100"}, 422)
    products = sorted(state.akeneo, key=lambda p: p["identifier"])
    search = request.query_params.get("search")
    if search:
        for condition in json.loads(search).get("updated", []):
            moment = datetime.strptime(condition["value"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
            products = [p for p in products if _parse(p["updated"]) > moment]
    after = request.query_params.get("search_after")
    if after:
        products = [p for p in products if p["identifier"] > after]
    page = products[:limit]
    links: dict[str, Any] = {"self": {"href": str(request.url)}}
    if len(products) > limit:
        params = {k: v for k, v in request.query_params.items() if k != "search_after"}
        params["search_after"] = page[-1]["identifier"]
        links["next"] = {"href": f"{state.base_url}/api/rest/v1/products?{urlencode(params)}"}
    return JSONResponse({"_links": links, "_embedded": {"items": page}})


def _akeneo_patch(state: PimServerState, entry: LoggedRequest) -> Response:
    if entry.headers.get("content-type") != "application/vnd.akeneo.collection+json":
        return JSONResponse({"code": 415, "message": "Unsupported media type"}, 415)
    lines = []
    for number, text in enumerate(entry.body.decode().splitlines(), start=1):
        product = json.loads(text)
        identifier = product.get("identifier")
        unknown = sorted(set(product.get("values", {})) - AKENEO_ATTRIBUTES)
        if unknown:
            lines.append(
                {
                    "line": number,
                    "identifier": identifier,
                    "status_code": 422,
                    "message": "Validation failed.",
                    "errors": [
                        {"property": "values", "message": f'Attribute "{u}" does not exist.'}
                        for u in unknown
                    ],
                }
            )
            continue
        with state.lock:
            existing = next((p for p in state.akeneo if p["identifier"] == identifier), None)
            if existing is None:
                state.akeneo.append({"identifier": identifier, "values": product["values"]})
                status = 201
            else:
                existing["values"].update(product["values"])
                status = 204
        lines.append({"line": number, "identifier": identifier, "status_code": status})
    body = "\n".join(json.dumps(line) for line in lines)
    return Response(body, 200, media_type="application/vnd.akeneo.collection+json")


# --------------------------------------------------------------------------- Contentful


def _localized(fields: dict[str, Any], locale: str) -> dict[str, Any]:
    if locale == "*":
        return fields
    return {
        name: by_locale.get(locale, by_locale.get("en-US"))
        for name, by_locale in fields.items()
        if locale in by_locale or "en-US" in by_locale
    }


async def contentful_entries(request: Request) -> Response:
    """Contentful's delivery API entries with skip/limit, includes and locales."""
    _, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    if request.query_params.get("content_type") not in (None, "product"):
        return JSONResponse({"items": [], "total": 0, "skip": 0, "limit": 100})
    locale = request.query_params.get("locale", "en-US")
    skip, limit = _int(request, "skip", 0), _int(request, "limit", 100)
    entries = sorted(
        state.contentful_entries, key=lambda e: (e["sys"]["createdAt"], e["sys"]["id"])
    )
    since = _since(request, "sys.updatedAt[gt]")
    if since is not None:
        entries = [e for e in entries if _parse(e["sys"]["updatedAt"]) > since]
    page = entries[skip : skip + limit]
    items, linked = [], set()
    for entry in page:
        sys = dict(entry["sys"])
        if locale != "*":
            sys["locale"] = locale
        items.append({"sys": sys, "fields": _localized(entry["fields"], locale)})
        for by_locale in entry["fields"]["images"].values():
            linked.update(link["sys"]["id"] for link in by_locale)
    assets = []
    for asset in state.contentful_assets:
        if asset["sys"]["id"] in linked:
            sys = dict(asset["sys"])
            if locale != "*":
                sys["locale"] = locale
            assets.append({"sys": sys, "fields": _localized(asset["fields"], locale)})
    return JSONResponse(
        {
            "sys": {"type": "Array"},
            "total": len(entries),
            "skip": skip,
            "limit": limit,
            "items": items,
            "includes": {"Asset": assets},
        }
    )


# --------------------------------------------------------------------------- Strapi


def _strapi_v4(product: dict[str, Any]) -> dict[str, Any]:
    attributes = {k: v for k, v in product.items() if k not in ("id", "documentId", "images")}
    attributes["images"] = {
        "data": [
            {"id": image["id"], "attributes": {k: v for k, v in image.items() if k != "id"}}
            for image in product["images"]
        ]
    }
    return {"id": product["id"], "attributes": attributes}


async def strapi_products_route(request: Request) -> Response:
    """Strapi 4 (``/v4``) or 5 (``/v5``) REST list with page paging and filters."""
    _, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    version = request.path_params["version"]
    page_number = _int(request, "pagination[page]", 1)
    size = _int(request, "pagination[pageSize]", 25)
    products = sorted(state.strapi, key=lambda p: p["id"])
    since = _since(request, "filters[updatedAt][$gt]")
    if since is not None:
        products = [p for p in products if _parse(p["updatedAt"]) > since]
    page = products[(page_number - 1) * size : page_number * size]
    data = [_strapi_v4(p) for p in page] if version == "v4" else page
    page_count = max(1, -(-len(products) // size)) if products else 0
    meta = {
        "pagination": {
            "page": page_number,
            "pageSize": size,
            "pageCount": page_count,
            "total": len(products),
        }
    }
    return JSONResponse({"data": data, "meta": meta})


async def strapi_product_route(request: Request) -> Response:
    """Strapi 5's ``PUT /api/products/{documentId}`` with ``{"data": {...}}``."""
    entry, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    document_id = request.path_params["document_id"]
    body = json.loads(entry.body)
    with state.lock:
        product = next((p for p in state.strapi if p["documentId"] == document_id), None)
        if product is None:
            error = {"status": 404, "name": "NotFoundError", "message": "Not Found"}
            return JSONResponse({"data": None, "error": error}, 404)
        product.update(body["data"])
    return JSONResponse({"data": product, "meta": {}})


# --------------------------------------------------------------------------- generic


def _generic_filtered(request: Request, state: PimServerState) -> list[dict[str, Any]]:
    products = list(state.generic)
    since = _since(request, "updated_since")
    if since is not None and state.inclusive_since:
        products = [p for p in products if _parse(p["updated_at"]) >= since]
    elif since is not None:
        products = [p for p in products if _parse(p["updated_at"]) > since]
    return products


async def generic_list(request: Request) -> Response:
    """One product list paged four ways, chosen by the last path segment."""
    _, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    kind = request.path_params["kind"]
    products = _generic_filtered(request, state)
    if kind == "page":
        page, size = _int(request, "page", 1), _int(request, "per_page", 10)
        if state.ignore_paging:
            page = 1
        answer = JSONResponse({"items": products[(page - 1) * size : page * size], "page": page})
        edit = state.after_generic_page.get(page)
        if edit is not None:
            with state.lock:
                edit(state)
        return answer
    if kind == "offset":
        offset, limit = _int(request, "offset", 0), _int(request, "limit", 10)
        chunk = products[offset : offset + limit]
        if state.drift_offset and offset == 0:
            # After the first page is served, a product is created at the front and the
            # last product of that page is edited: offsets shift by one.
            with state.lock:
                edited = dict(chunk[-1], title=chunk[-1]["title"] + " (edited)")
                state.generic = [
                    {"id": "g-new", "title": "New chair", "updated_at": _iso(_ts(9))},
                    *[edited if p is chunk[-1] else p for p in state.generic],
                ]
        return JSONResponse({"items": chunk, "total": len(products)})
    if kind == "cursor":
        start = int(request.query_params.get("cursor") or 0)
        limit = _int(request, "limit", 10)
        chunk = products[start : start + limit]
        more = start + limit < len(products)
        return JSONResponse({"items": chunk, "next_cursor": str(start + limit) if more else None})
    if kind == "link":
        page, size = _int(request, "page", 1), _int(request, "per_page", 10)
        chunk = products[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(products):
            params = dict(request.query_params)
            params["page"] = str(page + 1)
            headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
        return JSONResponse(chunk, headers=headers)
    return JSONResponse({"message": "unknown list"}, 404)


async def generic_product(request: Request) -> Response:
    """``PATCH /generic/products/{id}``: merge the JSON body into the product."""
    entry, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    product_id = request.path_params["product_id"]
    body = json.loads(entry.body)
    if not isinstance(body, dict) or ("seo_title" in body and not body["seo_title"]):
        return JSONResponse({"error": {"message": "seo_title must not be empty"}}, 422)
    with state.lock:
        product = next((p for p in state.generic if p.get("id") == product_id), None)
        if product is None:
            return JSONResponse({"message": f"product {product_id} not found"}, 404)
        product.update(body)
    return JSONResponse(product)


async def jsonserver_list(request: Request) -> Response:
    """json-server 0.17's list: ``_page``/``_limit``, ``Link`` only with ``_page``."""
    _, refused = await _guard(request)
    if refused is not None:
        return refused
    state = _state(request)
    products = list(state.jsonserver)
    since = _since(request, "updated_at_gte")
    if since is not None:
        products = [p for p in products if _parse(p["updated_at"]) >= since]
    total = len(products)
    headers = {"X-Total-Count": str(total)}
    if "_page" not in request.query_params:
        limit = _int(request, "_limit", total)
        return JSONResponse(products[:limit], headers=headers)
    page, limit = _int(request, "_page", 1), _int(request, "_limit", 10)
    last = max(1, -(-total // limit))
    links = {"first": 1, "prev": page - 1, "next": page + 1, "last": last}
    parts = []
    for rel, number in links.items():
        if 1 <= number <= last and (rel not in ("prev", "next") or number != page):
            params = {**dict(request.query_params), "_page": str(number)}
            url = f"{state.base_url}{request.url.path}?{urlencode(params)}"
            parts.append(f'<{url}>; rel="{rel}"')
    headers["Link"] = ", ".join(parts)
    return JSONResponse(products[(page - 1) * limit : page * limit], headers=headers)


def build_app(state: PimServerState) -> Starlette:
    """The Starlette app serving ``state``."""
    app = Starlette(
        routes=[
            Route("/api/oauth/v1/token", token, methods=["POST"]),
            Route("/oauth/token", token, methods=["POST"]),
            Route("/api/rest/v1/products", akeneo_products_route, methods=["GET", "PATCH"]),
            Route("/spaces/sp1/environments/master/entries", contentful_entries),
            Route("/{version:str}/api/products", strapi_products_route),
            Route(
                "/{version:str}/api/products/{document_id:str}",
                strapi_product_route,
                methods=["PUT"],
            ),
            Route("/generic/products/{product_id:path}", generic_product, methods=["PATCH"]),
            Route("/generic/{kind:str}", generic_list),
            Route("/jsonserver/products", jsonserver_list),
        ]
    )
    app.state.pim = state
    return app


class PimServer:
    """The app under uvicorn in a background thread, on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.state = PimServerState()
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        port = self._socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self.state.base_url = self.base_url
        self.state.reset()
        config = uvicorn.Config(
            build_app(self.state),
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> PimServer:
        """Start serving; returns once the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the PIM test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()

    def requests_to(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        """The logged requests to ``path`` (and ``method``), in order."""
        with self.state.lock:
            return [
                r
                for r in self.state.log
                if r.path == path and (method is None or r.method == method)
            ]
