"""The PIM client against a real HTTP server on 127.0.0.1 imitating each preset's API.

Covers what each preset fetches and maps, incremental filters and high-water marks,
every pagination kind, every auth kind, OAuth2 token refresh, retries (429 with
Retry-After, transient and persistent 500, timeouts), 4xx failing at once, the rate
limit, pagination drift, and write-back.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from structr_pipeline.core.connectors.pim import (
    PimClient,
    PimError,
    PimSource,
    WriteBackItem,
    WriteBackResult,
    item_id,
    parse_source,
    records_from_items,
)
from structr_pipeline_tests.core.connectors.pim.pim_server import Fault, PimServer

CONTENTFUL_PATH = "/spaces/sp1/environments/master/entries"
AKENEO_PATH = "/api/rest/v1/products"
FAST = {"rate_limit_per_s": 200, "backoff_base": 0.01, "backoff_max": 0.05}
GENERIC_IDS = ["g-1", "g-2", "g-3", "g-4", "g-5", "g-6", "g-bad", ""]


def make_source(pim: PimServer, preset: str, **settings: Any) -> PimSource:
    """A source of ``preset`` on the test server, fast unless ``settings`` say otherwise."""
    return parse_source("shop", {"preset": preset, "base_url": pim.base_url, **FAST, **settings})


def generic(pim: PimServer, kind: str = "page", **settings: Any) -> PimSource:
    """A generic source reading ``/generic/<kind>``."""
    return make_source(pim, "generic", **{"path": f"/generic/{kind}", "page_size": 3, **settings})


def pull(source: PimSource, environ: dict[str, str] | None = None, **kwargs: Any):
    """Pull ``source`` with a fresh client."""
    with PimClient(source, environ=environ or {}) as client:
        return client.pull(**kwargs)


def ids(result, source: PimSource) -> list[str]:
    """The ids of a pull's items, in order."""
    return [item_id(item, source) for item in result.items]


# --------------------------------------------------------------------------- Akeneo


def akeneo_oauth(pim: PimServer) -> dict[str, Any]:
    """Akeneo's API connection credentials: the password grant, JSON body, basic client."""
    pim.state.auth = {
        "type": "oauth2",
        "grant_type": "password",
        "client_id": "akeneo-client",
        "client_secret": "akeneo-client-secret-123",
        "username": "connector",
        "password": "connector-password-456",
    }
    return {
        "type": "oauth2",
        "grant_type": "password",
        "token_url": "/api/oauth/v1/token",
        "client_id_env": "AK_CLIENT_ID",
        "client_secret_env": "AK_CLIENT_SECRET",
        "username_env": "AK_USER",
        "password_env": "AK_PASSWORD",
        "body_format": "json",
    }


AKENEO_ENV = {
    "AK_CLIENT_ID": "akeneo-client",
    "AK_CLIENT_SECRET": "akeneo-client-secret-123",
    "AK_USER": "connector",
    "AK_PASSWORD": "connector-password-456",
}


def test_akeneo_pulls_every_page_and_maps_products(pim):
    source = make_source(
        pim,
        "akeneo",
        auth=akeneo_oauth(pim),
        page_size=3,
        locale="en_US",
        scope="ecommerce",
        currency="EUR",
    )
    result = pull(source, AKENEO_ENV)

    assert ids(result, source) == [f"SKU-00{n}" for n in range(1, 8)]
    assert result.high_water_mark == "2024-03-07T10:00:00+00:00"
    assert result.pages == 3
    assert result.requests == 4 and result.retries == 0  # one token, three pages
    (token_request,) = pim.requests_to("/api/oauth/v1/token")
    assert json.loads(token_request.body)["grant_type"] == "password"
    pages = pim.requests_to(AKENEO_PATH)
    assert [r.param("search_after") for r in pages] == [None, "SKU-003", "SKU-006"]
    assert all(r.param("pagination_type") == "search_after" for r in pages)
    assert all(r.param("limit") == "3" for r in pages)

    records, errors = records_from_items(result.items, source)
    assert [r["variants"][0]["sku"] for r in records] == [
        "SKU-001",
        "SKU-002",
        "SKU-003",
        "SKU-004",
        "SKU-006",
        "SKU-007",
    ]
    assert len(errors) == 1
    assert (errors[0].index, errors[0].item_id, errors[0].field) == (4, "SKU-005", "price")
    assert "'abc' is not a price" in errors[0].reason
    first = records[0]
    assert first["handle"] == "sku-001" and first["title"] == "Shoe 1"
    assert first["description_html"] == "<p>Shoe 1.</p>"
    assert first["variants"][0]["price"] == 10.5
    assert first["variants"][0]["weight_grams"] == 800.0
    assert first["images"][0]["src"] == (
        f"{pim.base_url}/api/rest/v1/media-files/1/a/b/shoe_1.jpg/download"
    )
    assert first["attributes"]["external_id"] == "shop:SKU-001"
    assert records[1]["title"] == "Shoe two"  # no English name: the one without locale
    assert records[2]["status"] == "draft"


def test_akeneo_incremental_pull_uses_the_updated_search(pim):
    source = make_source(pim, "akeneo", page_size=2)
    result = pull(source, updated_since=datetime(2024, 3, 4, 10, 0, tzinfo=UTC))

    assert ids(result, source) == ["SKU-005", "SKU-006", "SKU-007"]
    assert result.high_water_mark == "2024-03-07T10:00:00+00:00"
    first = pim.requests_to(AKENEO_PATH)[0]
    assert json.loads(first.param("search")) == {
        "updated": [{"operator": ">", "value": "2024-03-04 10:00:00"}]
    }

    again = pull(source, updated_since=result.high_water_mark)
    assert again.items == [] and again.high_water_mark is None


def test_akeneo_write_back_is_batched_with_a_status_per_product(pim):
    source = make_source(
        pim,
        "akeneo",
        locale="en_US",
        scope="ecommerce",
        write_back={
            "enabled": True,
            "batch_size": 2,
            "field_map": {"seo_title": "meta_title", "description_html": "description"},
        },
    )
    updates = [
        WriteBackItem("SKU-001", {"seo_title": "Shoe 1 | Acme", "description_html": "<p>New</p>"}),
        WriteBackItem("SKU-002", {"structr_grade": "B"}),
        WriteBackItem("SKU-003", {"seo_title": "Shoe 3 | Acme"}),
    ]
    with PimClient(source, environ={}) as client:
        results = client.write_back(updates)

    assert [(r.id, r.ok, r.status) for r in results] == [
        ("SKU-001", True, 204),
        ("SKU-002", False, 422),
        ("SKU-003", True, 204),
    ]
    assert results[0].error is None
    assert 'Attribute "structr_grade" does not exist' in (results[1].error or "")
    patches = pim.requests_to(AKENEO_PATH, "PATCH")
    assert len(patches) == 2
    assert all(
        p.headers["content-type"] == "application/vnd.akeneo.collection+json" for p in patches
    )
    lines = [json.loads(line) for line in patches[0].body.decode().splitlines()]
    assert [line["identifier"] for line in lines] == ["SKU-001", "SKU-002"]
    assert lines[0]["values"]["meta_title"] == [
        {"locale": "en_US", "scope": "ecommerce", "data": "Shoe 1 | Acme"}
    ]
    product = next(p for p in pim.state.akeneo if p["identifier"] == "SKU-001")
    assert product["values"]["description"][0]["data"] == "<p>New</p>"


def test_akeneo_write_back_failure_of_a_whole_batch_is_recorded_per_product(pim):
    source = make_source(pim, "akeneo", max_retries=1, write_back={"enabled": True})
    pim.state.faults = [Fault(start=1, status=503, times=None)]
    with PimClient(source, environ={}) as client:
        results = client.write_back(
            [WriteBackItem("SKU-001", {"name": "x"}), WriteBackItem("SKU-002", {"name": "y"})]
        )
    assert [(r.id, r.ok, r.status) for r in results] == [
        ("SKU-001", False, 503),
        ("SKU-002", False, 503),
    ]
    assert "PATCH /api/rest/v1/products" in (results[0].error or "")


# --------------------------------------------------------------------------- Contentful


def contentful(pim: PimServer, **settings: Any) -> PimSource:
    """A Contentful source with a delivery token from CF_TOKEN."""
    pim.state.auth = {"type": "bearer", "token": "cf-delivery-token-789"}
    defaults = {
        "path": CONTENTFUL_PATH,
        "auth": {"type": "bearer", "token_env": "CF_TOKEN"},
        "params": {"content_type": "product"},
        "page_size": 2,
    }
    return make_source(pim, "contentful", **{**defaults, **settings})


CF_ENV = {"CF_TOKEN": "cf-delivery-token-789"}


def test_contentful_pulls_entries_with_their_assets(pim):
    source = contentful(pim, locale="en-US")
    result = pull(source, CF_ENV)

    assert ids(result, source) == ["p1", "p2", "p3", "p4", "p5"]
    assert result.high_water_mark == "2024-03-05T12:00:00+00:00"
    assert result.requests == 3  # skip 0, 2, 4; the total says when to stop
    pages = pim.requests_to(CONTENTFUL_PATH)
    assert [r.param("skip") for r in pages] == ["0", "2", "4"]
    assert all(r.param("content_type") == "product" for r in pages)
    assert all(r.param("locale") == "en-US" for r in pages)
    assert "img1" in result.items[0]["_includes"]["Asset"]

    records, errors = records_from_items(result.items, source)
    assert errors == []
    first = records[0]
    assert first["title"] == "Lamp 1" and first["handle"] == "lamp-1"
    assert first["description_html"] == "<p>A <strong>bright</strong> lamp.</p>"
    assert first["tags"] == "home, light"
    assert first["variants"][0]["price"] == 20.5
    assert first["images"] == [
        {"src": "https://images.ctfassets.net/sp1/img1/photo1.jpg", "position": 1, "alt": "Photo 1"}
    ]
    assert [i["src"].rsplit("/", 1)[-1] for i in records[3]["images"]] == [
        "photo4.jpg",
        "photo1.jpg",
    ]
    assert records[4]["images"] == []  # its asset is not in the includes
    assert first["attributes"]["material"] == "brass"


def test_contentful_all_locales_nesting_picks_the_configured_locale(pim):
    source = contentful(pim, locale="de-DE", params={"content_type": "product", "locale": "*"})
    result = pull(source, CF_ENV)

    assert all(r.param("locale") == "*" for r in pim.requests_to(CONTENTFUL_PATH))
    assert result.items[0]["fields"]["title"] == {"en-US": "Lamp 1", "de-DE": "Lampe 1"}
    records, errors = records_from_items(result.items, source)
    assert errors == []
    assert records[0]["title"] == "Lampe 1"
    assert records[0]["variants"][0]["sku"] == "L-1"
    assert records[0]["images"][0]["alt"] == "Foto 1"
    assert records[0]["attributes"]["material"] == "Messing"


def test_contentful_incremental_pull(pim):
    source = contentful(pim)
    result = pull(source, CF_ENV, updated_since=datetime(2024, 3, 3, 12, 0, tzinfo=UTC))

    assert ids(result, source) == ["p4", "p5"]
    first = pim.requests_to(CONTENTFUL_PATH)[0]
    assert first.param("sys.updatedAt[gt]") == "2024-03-03T12:00:00.000Z"


# --------------------------------------------------------------------------- Strapi


@pytest.mark.parametrize(("version", "expected"), [("v4", "1"), ("v5", "doc1")])
def test_strapi_v4_and_v5(pim, version, expected):
    source = make_source(
        pim,
        "strapi",
        path=f"/{version}/api/products",
        page_size=4,
        field_map={"inventory_qty": "stock"},
    )
    result = pull(source)

    assert len(result.items) == 6 and ids(result, source)[0] == expected
    assert result.high_water_mark == "2024-03-06T09:00:00+00:00"
    assert result.requests == 2  # the page count says when to stop
    pages = pim.requests_to(f"/{version}/api/products")
    assert [r.param("pagination[page]") for r in pages] == ["1", "2"]
    assert pages[0].param("populate") == "*"

    records, errors = records_from_items(result.items, source)
    assert errors == []
    first = records[0]
    assert first["title"] == "Mug 1" and first["handle"] == "mug-1"
    assert first["variants"][0]["price"] == 9.0
    assert first["variants"][0]["inventory_qty"] == 3
    assert first["images"] == [
        {"src": f"{pim.base_url}/uploads/mug_1.jpg", "position": 1, "alt": "Mug 1 on a table"}
    ]
    assert first["attributes"]["external_id"] == f"shop:{expected}"


def test_strapi_incremental_pull(pim):
    source = make_source(pim, "strapi", path="/v5/api/products")
    result = pull(source, updated_since=datetime(2024, 3, 4, 9, 0))  # naive: UTC

    assert ids(result, source) == ["doc5", "doc6"]
    assert pim.requests_to("/v5/api/products")[0].param("filters[updatedAt][$gt]") == (
        "2024-03-04T09:00:00.000Z"
    )


def test_strapi_write_back_puts_each_product(pim):
    source = make_source(
        pim,
        "strapi",
        path="/v5/api/products",
        write_back={"enabled": True, "field_map": {"seo_title": "metaTitle"}},
    )
    with PimClient(source, environ={}) as client:
        results = client.write_back(
            [WriteBackItem("doc1", {"seo_title": "Mug 1 | Acme"}), WriteBackItem("nope", {})]
        )
    assert results[0] == WriteBackResult("doc1", True, 200)
    assert (results[1].ok, results[1].status) == (False, 404)
    assert "Not Found" in (results[1].error or "")
    (put,) = pim.requests_to("/v5/api/products/doc1", "PUT")
    assert json.loads(put.body) == {"data": {"metaTitle": "Mug 1 | Acme"}}
    assert pim.state.strapi[0]["metaTitle"] == "Mug 1 | Acme"


# --------------------------------------------------------------------------- generic


@pytest.mark.parametrize(
    ("kind", "pagination", "requests"),
    [
        ("page", {"kind": "page"}, 4),  # no total: stops at the empty fourth page
        ("offset", {"kind": "offset", "total_path": "total"}, 3),
        ("cursor", {"kind": "cursor", "size_param": "limit"}, 3),
        ("link", {"kind": "link_header"}, 3),
    ],
)
def test_every_pagination_kind_fetches_every_item_once(pim, kind, pagination, requests):
    source = generic(pim, kind, pagination=pagination)
    result = pull(source)

    assert ids(result, source) == GENERIC_IDS
    assert result.requests == requests and result.pages == requests
    assert result.high_water_mark == "2024-03-08T10:00:00+00:00"


def test_generic_incremental_pull_and_malformed_items(pim):
    source = generic(pim)
    result = pull(source, updated_since=datetime(2024, 3, 5, 8, 0, tzinfo=UTC))
    assert ids(result, source) == ["g-6", "g-bad", ""]
    assert pim.requests_to("/generic/page")[0].param("updated_since") == "2024-03-05T08:00:00.000Z"

    everything = pull(source)
    records, errors = records_from_items(everything.items, source)
    assert [r["attributes"]["external_id"] for r in records] == [f"shop:g-{n}" for n in range(1, 7)]
    assert [(e.index, e.item_id, e.field) for e in errors] == [
        (6, "g-bad", "price"),
        (7, "", "id"),
    ]
    chair2 = records[1]
    assert chair2["option1_name"] == "Colour"
    assert [(v["sku"], v["option1_value"], v["price"]) for v in chair2["variants"]] == [
        ("C-2-BLK", "Black", 42.0),
        ("C-2-WHT", "White", 43.5),
    ]


def test_pagination_drift_neither_duplicates_nor_keeps_stale_items(pim):
    pim.state.drift_offset = True
    source = generic(pim, "offset", pagination={"kind": "offset", "total_path": "total"})
    result = pull(source)

    found = ids(result, source)
    assert len(found) == len(set(found))
    assert set(found) == set(GENERIC_IDS)
    chair3 = next(item for item in result.items if item.get("id") == "g-3")
    assert chair3["title"] == "Chair 3 (edited)"  # the later page wins


def test_a_server_ignoring_the_page_parameter_is_an_error_not_a_loop(pim):
    pim.state.ignore_paging = True
    with pytest.raises(PimError, match="same page twice") as caught:
        pull(generic(pim))
    assert caught.value.retryable is False


# --------------------------------------------------------------------------- auth


AUTH_CASES = {
    "api_key": (
        {"type": "api_key", "header": "X-Api-Key", "key": "key-abc-123"},
        {"type": "api_key", "header": "X-Api-Key", "key_env": "SHOP_KEY"},
        "SHOP_KEY",
        "key-abc-123",
    ),
    "bearer": (
        {"type": "bearer", "token": "tok-def-456"},
        {"type": "bearer", "token_env": "SHOP_TOKEN"},
        "SHOP_TOKEN",
        "tok-def-456",
    ),
    "basic": (
        {"type": "basic", "username": "shop", "password": "pw-ghi-789"},
        {"type": "basic", "username": "shop", "password_env": "SHOP_PASSWORD"},
        "SHOP_PASSWORD",
        "pw-ghi-789",
    ),
}


@pytest.mark.parametrize("kind", sorted(AUTH_CASES))
def test_static_credentials_from_the_environment(pim, kind, monkeypatch):
    expected, config, variable, secret = AUTH_CASES[kind]
    pim.state.auth = expected
    source = generic(pim, auth=config)
    monkeypatch.setenv(variable, secret)

    with PimClient(source) as client:  # reads the process environment
        result = client.pull()
    assert ids(result, source) == GENERIC_IDS

    wrong = f"wrong-{secret}"
    monkeypatch.setenv(variable, wrong)
    pim.state.log.clear()
    with pytest.raises(PimError) as caught, PimClient(source) as client:
        client.pull()
    error = caught.value
    assert error.status == 401 and error.retryable is False and error.attempts == 1
    message = str(error)
    assert "PIM source 'shop'" in message and "/generic/page" in message
    assert "401 Unauthorized" in message
    assert variable in message
    assert wrong not in message and secret not in message
    assert "***" in message  # the server echoed the credentials; they were masked
    assert len(pim.state.log) == 1  # no retry


def oauth_client_credentials(pim: PimServer, **extra: Any) -> dict[str, Any]:
    """Client-credentials OAuth2 on ``/oauth/token`` (id and secret in a form body)."""
    pim.state.auth = {
        "type": "oauth2",
        "grant_type": "client_credentials",
        "client_id": "shop-client",
        "client_secret": "shop-secret-000",
    }
    return {
        "type": "oauth2",
        "token_url": f"{pim.base_url}/oauth/token",
        "client_id_env": "SHOP_CLIENT_ID",
        "client_secret_env": "SHOP_CLIENT_SECRET",
        "client_auth": "body",
        **extra,
    }


OAUTH_ENV = {"SHOP_CLIENT_ID": "shop-client", "SHOP_CLIENT_SECRET": "shop-secret-000"}


def test_oauth_token_is_fetched_once_and_reused(pim):
    source = generic(pim, auth=oauth_client_credentials(pim))
    result = pull(source, OAUTH_ENV)

    assert ids(result, source) == GENERIC_IDS
    assert pim.state.token_requests == 1
    (token,) = pim.requests_to("/oauth/token")
    assert b"grant_type=client_credentials" in token.body
    assert result.requests == 5  # one token, four pages


def test_oauth_token_refreshed_after_a_401(pim):
    pim_auth = oauth_client_credentials(pim)
    pim.state.token_max_uses = 2
    source = generic(pim, auth=pim_auth)
    result = pull(source, OAUTH_ENV)

    assert ids(result, source) == GENERIC_IDS
    assert pim.state.expired_token_rejections == 1
    assert pim.state.token_requests == 2
    assert result.retries == 1


def test_oauth_token_refreshed_before_it_expires(pim):
    auth = oauth_client_credentials(pim, expiry_margin_s=0.6)
    pim.state.token_ttl_s = 1.2
    source = generic(pim, auth=auth, page_size=2, rate_limit_per_s=4)
    result = pull(source, OAUTH_ENV)  # seven or more requests at 4 per second: over 1.5 s

    assert ids(result, source) == GENERIC_IDS
    assert pim.state.expired_token_rejections == 0
    assert pim.state.token_requests >= 2
    assert result.retries == 0


def test_oauth_wrong_client_secret_is_a_clear_error(pim):
    source = generic(pim, auth=oauth_client_credentials(pim))
    env = {**OAUTH_ENV, "SHOP_CLIENT_SECRET": "not-the-secret"}
    with pytest.raises(PimError) as caught:
        pull(source, env)
    message = str(caught.value)
    assert "POST /oauth/token" in message and "401" in message
    assert "Client authentication failed" in message
    assert "SHOP_CLIENT_SECRET" in message and "not-the-secret" not in message
    assert pim.requests_to("/generic/page") == []


# --------------------------------------------------------------------------- failures


def test_429_waits_for_retry_after(pim):
    pim.state.faults = [
        Fault(start=2, status=429, headers={"Retry-After": "0.4"}, body={"message": "slow down"})
    ]
    source = generic(pim, backoff_max=5)
    result = pull(source)

    assert ids(result, source) == GENERIC_IDS
    assert result.retries == 1
    log = pim.requests_to("/generic/page")
    assert log[1].param("page") == log[2].param("page") == "2"
    assert log[2].at - log[1].at >= 0.38


def test_transient_500_mid_pagination_recovers_without_loss_or_duplicates(pim):
    pim.state.faults = [Fault(start=2, status=500, times=2)]
    source = generic(pim)
    result = pull(source)

    assert ids(result, source) == GENERIC_IDS
    assert result.retries == 2 and result.requests == 6
    assert [r.param("page") for r in pim.requests_to("/generic/page")] == [
        "1",
        "2",
        "2",
        "2",
        "3",
        "4",
    ]


def test_persistent_500_raises_and_returns_nothing_partial(pim):
    pim.state.faults = [Fault(start=2, status=500, times=None, body={"message": "db down"})]
    source = generic(pim, max_retries=2)
    with PimClient(source, environ={}) as client:
        with pytest.raises(PimError) as caught:
            client.pull()
        assert client.requests == 4  # page 1, then page 2 three times
    error = caught.value
    assert error.retryable is True and error.status == 500 and error.attempts == 3
    assert error.path == "/generic/page" and error.source == "shop"
    message = str(error)
    assert "PIM source 'shop': GET /generic/page failed after 3 attempts" in message
    assert "HTTP 500 Internal Server Error: db down" in message


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_other_4xx_fail_at_once(pim, status):
    pim.state.faults = [Fault(start=1, status=status, body={"error": {"message": "bad filter"}})]
    with pytest.raises(PimError) as caught:
        pull(generic(pim))
    assert caught.value.status == status and caught.value.retryable is False
    assert "bad filter" in str(caught.value)
    assert len(pim.state.log) == 1


def test_a_timeout_is_retried(pim):
    pim.state.faults = [Fault(start=1, status=None, delay=1.0)]
    source = generic(pim, timeout_s=0.3)
    result = pull(source)

    assert ids(result, source) == GENERIC_IDS
    assert result.retries == 1


def test_a_next_page_on_another_host_is_refused(pim):
    pim.state.auth = {"type": "bearer", "token": "tok-xyz"}
    page = {"items": [{"id": "a"}], "next": "https://elsewhere.example/steal?page=2"}
    pim.state.faults = [Fault(start=1, status=200, body=page)]
    source = generic(
        pim,
        auth={"type": "bearer", "token_env": "SHOP_TOKEN"},
        pagination={"kind": "next_url", "next_url_path": "next"},
    )
    with pytest.raises(PimError, match="refusing to send credentials to another host"):
        pull(source, {"SHOP_TOKEN": "tok-xyz"})
    assert len(pim.state.log) == 1


def test_a_body_without_items_is_a_clear_error(pim):
    source = generic(pim, items_path="products")
    with pytest.raises(PimError, match="the body has no 'products'") as caught:
        pull(source)
    assert caught.value.retryable is False


class TimingTransport(httpx.HTTPTransport):
    """The real HTTP transport, noting when each request leaves the client."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Note the time, then send as usual."""
        self.sent.append(time.monotonic())
        return super().handle_request(request)


def test_rate_limit_spaces_requests(pim):
    rps = 10
    source = generic(pim, page_size=2, rate_limit_per_s=rps)
    transport = TimingTransport()
    started = time.monotonic()
    with PimClient(source, environ={}, transport=transport) as client:
        result = client.pull()
    elapsed = time.monotonic() - started

    assert result.requests == len(transport.sent) == len(pim.requests_to("/generic/page")) == 5
    assert elapsed >= (result.requests - 1) / rps
    assert min(b - a for a, b in itertools.pairwise(transport.sent)) >= 1 / rps - 0.01


# --------------------------------------------------------------------------- write-back


def test_generic_write_back_patches_each_product(pim):
    pim.state.faults = [Fault(start=1, status=502)]
    source = generic(pim, write_back={"enabled": True, "path": "/generic/products/{id}"})
    updates = [
        WriteBackItem("g-1", {"seo_title": "Chair 1 | Acme", "audit_grade": "A"}),
        WriteBackItem("g-404", {"seo_title": "Ghost"}),
        WriteBackItem("g-3", {"seo_title": ""}),
        WriteBackItem("g/4", {"seo_title": "Slash"}),
    ]
    with PimClient(source, environ={}) as client:
        results = client.write_back(updates)

    assert [(r.id, r.ok, r.status) for r in results] == [
        ("g-1", True, 200),  # after one retry of the 502
        ("g-404", False, 404),
        ("g-3", False, 422),
        ("g/4", False, 404),
    ]
    assert "product g-404 not found" in (results[1].error or "")
    assert "seo_title must not be empty" in (results[2].error or "")
    patches = [r for r in pim.state.log if r.method == "PATCH"]
    assert [r.raw_path for r in patches] == [
        "/generic/products/g-1",
        "/generic/products/g-1",
        "/generic/products/g-404",
        "/generic/products/g-3",
        "/generic/products/g%2F4",  # the id is one path segment
    ]
    assert json.loads(patches[0].body) == {"seo_title": "Chair 1 | Acme", "audit_grade": "A"}
    assert pim.state.generic[0]["seo_title"] == "Chair 1 | Acme"
    assert pim.state.generic[0]["audit_grade"] == "A"
