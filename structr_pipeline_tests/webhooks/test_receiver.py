"""The webhook receiver, served by a real uvicorn on 127.0.0.1 and called over HTTP.

Each test starts the app in a background thread on a free port with a fresh SQLite
catalog database, sends requests with httpx (raw sockets where a request must stop
half-way), and reads the queue table back.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from structr_pipeline.store.db import CatalogDB, webhook_events
from structr_pipeline.store.webhook_queue import queue_counts
from structr_pipeline.webhooks.app import MAX_JSON_DEPTH, create_app
from structr_pipeline.webhooks.cli import uvicorn_options
from structr_pipeline.webhooks.config import WebhookConfig
from structr_pipeline.webhooks.signatures import hex_signature, shopify_signature

SHOPIFY_SECRET = "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"
CONTENTFUL_SECRET = "cf-shared-8e2d7c41b9a65f30e1d4c7b2a9f86e15"
GENERIC_SECRET = "gen-hmac-3f9a1c7e5b2d8f4a6c0e9b7d1a3f5c8e"
SECRETS = (SHOPIFY_SECRET, CONTENTFUL_SECRET, GENERIC_SECRET)
MAX_BODY = 16 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]

PRODUCT = {
    "id": 788032119674292922,
    "title": "Example T-Shirt",
    "handle": "example-t-shirt",
    "vendor": "Acme",
    "variants": [{"id": 642667041472713922, "price": "19.99", "option1": "Small"}],
}


def configured_env(**overrides: str) -> dict[str, str]:
    """Every endpoint configured, with ``overrides`` (an empty value unsets a variable)."""
    env = {
        "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
        "STRUCTR_CONTENTFUL_WEBHOOK_SECRET": CONTENTFUL_SECRET,
        "STRUCTR_CONTENTFUL_WEBHOOK_AUTH": "secret",
        "STRUCTR_GENERIC_WEBHOOK_SECRET": GENERIC_SECRET,
        "STRUCTR_GENERIC_WEBHOOK_AUTH": "hmac",
        "STRUCTR_WEBHOOK_MAX_BODY_BYTES": str(MAX_BODY),
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v}


class Receiver:
    """A running receiver: its base URL, its database and its app."""

    def __init__(self, base_url: str, db: CatalogDB, app) -> None:
        self.base_url = base_url
        self.db = db
        self.app = app
        self.port = int(base_url.rsplit(":", 1)[1])

    def rows(self) -> list[sa.Row]:
        """Every row of the queue table, in insertion order."""
        with self.db.read() as conn:
            return list(conn.execute(sa.select(webhook_events).order_by(webhook_events.c.id)))


@contextmanager
def serve(db: CatalogDB, config: WebhookConfig) -> Iterator[Receiver]:
    """Run ``create_app(db, config)`` under uvicorn in a thread, on a free port.

    uvicorn gets the settings ``structr webhooks serve`` gives it (HTTP implementation
    and limits included).
    """
    app = create_app(db, config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_config=None, log_level="debug", lifespan="on", **uvicorn_options(config)
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the receiver did not start")
        time.sleep(0.01)
    try:
        yield Receiver(f"http://127.0.0.1:{port}", db, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def db(tmp_path) -> Iterator[CatalogDB]:
    """A fresh SQLite catalog database."""
    yield CatalogDB.from_url(f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")
    CatalogDB.dispose_all()


@pytest.fixture
def receiver(db) -> Iterator[Receiver]:
    """The receiver with every endpoint configured."""
    with serve(db, WebhookConfig.from_env(configured_env())) as running:
        yield running


@pytest.fixture
def client(receiver) -> Iterator[httpx.Client]:
    """An httpx client for the receiver."""
    with httpx.Client(base_url=receiver.base_url, timeout=10) as c:
        yield c


def shopify_headers(
    body: bytes,
    webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    topic: str = "products/create",
    secret: str = SHOPIFY_SECRET,
) -> dict:
    """The headers Shopify sends with ``body``, signed with ``secret``."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-API-Version": "2024-10",
    }


def body_of(payload: dict = PRODUCT, size: int | None = None) -> bytes:
    """``payload`` as JSON, padded with a filler field to exactly ``size`` bytes if given."""
    raw = json.dumps(payload).encode()
    if size is None:
        return raw
    padded = {**payload, "filler": ""}
    overhead = len(json.dumps(padded).encode())
    return json.dumps({**payload, "filler": "x" * (size - overhead)}).encode()


# --- health and configuration -----------------------------------------------------------


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "endpoints": {"shopify": True, "contentful": True, "generic": True},
    }


def test_config_from_env_defaults_and_errors() -> None:
    config = WebhookConfig.from_env({})
    assert config.max_body_bytes == 1024 * 1024
    assert config.max_batch == 1000
    assert (config.max_headers, config.max_header_bytes) == (100, 16 * 1024)
    assert (config.body_timeout_s, config.max_connections) == (10.0, 1000)
    assert not any(e.configured for e in config.endpoints.values())
    assert config.endpoints["contentful"].auth == "secret"
    assert config.endpoints["contentful"].auth_header == "X-Structr-Webhook-Secret"
    assert config.endpoints["generic"].auth == "hmac"
    assert config.endpoints["generic"].auth_header == "X-Structr-Signature"

    custom = WebhookConfig.from_env(
        configured_env(
            STRUCTR_CONTENTFUL_WEBHOOK_AUTH="HMAC",
            STRUCTR_CONTENTFUL_WEBHOOK_HEADER="X-Hub-Signature-256",
            STRUCTR_WEBHOOK_MAX_BATCH="250",
        )
    )
    assert custom.endpoints["contentful"].auth == "hmac"
    assert custom.endpoints["contentful"].auth_header == "X-Hub-Signature-256"
    assert custom.max_body_bytes == MAX_BODY and custom.max_batch == 250
    for secret in SECRETS:
        assert secret not in repr(custom)

    with pytest.raises(ValueError, match="STRUCTR_GENERIC_WEBHOOK_AUTH must be 'secret' or 'hmac'"):
        WebhookConfig.from_env({"STRUCTR_GENERIC_WEBHOOK_AUTH": "basic"})
    with pytest.raises(ValueError, match="STRUCTR_WEBHOOK_MAX_BODY_BYTES must be a whole number"):
        WebhookConfig.from_env({"STRUCTR_WEBHOOK_MAX_BODY_BYTES": "1MB"})
    with pytest.raises(ValueError, match="STRUCTR_WEBHOOK_MAX_BATCH must be greater than 0"):
        WebhookConfig.from_env({"STRUCTR_WEBHOOK_MAX_BATCH": "0"})
    limits = WebhookConfig.from_env(
        {
            "STRUCTR_WEBHOOK_MAX_HEADERS": "40",
            "STRUCTR_WEBHOOK_MAX_HEADER_BYTES": "8192",
            "STRUCTR_WEBHOOK_BODY_TIMEOUT_SECONDS": "2.5",
            "STRUCTR_WEBHOOK_MAX_CONNECTIONS": "50",
        }
    )
    assert (limits.max_headers, limits.max_header_bytes) == (40, 8192)
    assert (limits.body_timeout_s, limits.max_connections) == (2.5, 50)
    assert uvicorn_options(limits) == {
        "http": "h11",
        "h11_max_incomplete_event_size": 8192,
        "limit_concurrency": 50,
        "timeout_keep_alive": 5,
        "workers": 1,
        "server_header": False,
    }
    for bad in ("0", "-1", "nan", "inf", "ten"):
        with pytest.raises(ValueError, match="STRUCTR_WEBHOOK_BODY_TIMEOUT_SECONDS"):
            WebhookConfig.from_env({"STRUCTR_WEBHOOK_BODY_TIMEOUT_SECONDS": bad})


# --- Shopify ------------------------------------------------------------------------------


def test_signed_shopify_delivery_is_stored_then_acknowledged(receiver, client) -> None:
    body = body_of()
    response = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    assert response.status_code == 202
    assert response.json() == {
        "status": "queued",
        "delivery_id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    }
    (row,) = receiver.rows()
    assert row.endpoint == "shopify"
    assert row.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert row.topic == "products/create"
    assert bytes(row.body) == body
    assert row.status == "pending" and row.attempts == 0 and row.batch_id is None
    assert row.headers == {
        "content-type": "application/json",
        "x-shopify-topic": "products/create",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-shop-domain": "example.myshopify.com",
        "x-shopify-api-version": "2024-10",
    }
    assert row.received_at is not None


def test_a_delivery_seen_before_is_acknowledged_without_a_second_row(receiver, client) -> None:
    body = body_of()
    first = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    again = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    other = body_of({**PRODUCT, "title": "Renamed"})
    update = client.post(
        "/webhooks/shopify",
        content=other,
        headers=shopify_headers(other, webhook_id="0b1e2f3c-update", topic="products/update"),
    )
    assert [first.status_code, again.status_code, update.status_code] == [202, 202, 202]
    assert [r.json()["status"] for r in (first, again, update)] == ["queued", "duplicate", "queued"]
    assert [(r.delivery_id, r.topic) for r in receiver.rows()] == [
        ("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", "products/create"),
        ("0b1e2f3c-update", "products/update"),
    ]


def test_forged_and_missing_signatures_are_refused_and_nothing_stored(receiver, client) -> None:
    body = body_of()
    forged = shopify_headers(body, secret="not-the-secret")
    tampered_body = body_of({**PRODUCT, "title": "Tampered"})
    hex_instead = {
        **shopify_headers(body),
        "X-Shopify-Hmac-Sha256": hashlib.sha256(body).hexdigest(),
    }
    missing = {k: v for k, v in shopify_headers(body).items() if k != "X-Shopify-Hmac-Sha256"}
    garbage = {**shopify_headers(body), "X-Shopify-Hmac-Sha256": "%%%not base64%%%"}
    attempts = [
        (body, forged),
        (tampered_body, shopify_headers(body)),
        (body, hex_instead),
        (body, missing),
        (body, garbage),
    ]
    for content, headers in attempts:
        response = client.post("/webhooks/shopify", content=content, headers=headers)
        assert response.status_code == 401, response.text
        assert response.json() == {"error": "missing or invalid X-Shopify-Hmac-Sha256"}
    assert receiver.rows() == []


def test_unknown_or_missing_topic_is_refused(receiver, client) -> None:
    body = body_of()
    for topic in ("orders/create", "products/created", ""):
        headers = shopify_headers(body, topic=topic)
        response = client.post("/webhooks/shopify", content=body, headers=headers)
        assert response.status_code == 422
        assert "X-Shopify-Topic must be one of" in response.json()["error"]
    assert receiver.rows() == []


def test_a_signed_body_that_is_not_a_json_object_is_refused(receiver, client) -> None:
    refused = {
        b"not json": "not JSON (Expecting value at line 1 column 1)",
        b"[1, 2, 3]": "the top level is an array",
        b'"text"': "the top level is not an object",
        b"": "not JSON (Expecting value at line 1 column 1)",
        b'{"title": "\xff"}': "not UTF-8 text",
        b'{"price": NaN}': "NaN is not a finite number",
        b'{"price": -Infinity}': "-Infinity is not a finite number",
        b'{"price": 1e999}': "a number is too large to be finite",
        b'{"qty": ' + b"9" * 5000 + b"}": "not JSON that can be read (a number too long?)",
    }
    for body, reason in refused.items():
        response = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
        assert response.status_code == 400, body
        assert response.json() == {"error": "the body must be a JSON object", "reason": reason}
    assert receiver.rows() == []


def nested(depth: int) -> bytes:
    """A JSON object whose arrays reach ``depth`` levels of nesting in all."""
    return b'{"a": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_a_signed_deeply_nested_body_is_refused_and_the_connection_answered(db) -> None:
    config = WebhookConfig.from_env(configured_env(STRUCTR_WEBHOOK_MAX_BODY_BYTES="1048576"))
    deep = nested(100_000)
    with serve(db, config) as running, httpx.Client(base_url=running.base_url) as client:
        response = client.post("/webhooks/shopify", content=deep, headers=shopify_headers(deep))
        assert response.status_code == 400
        assert response.json() == {
            "error": "the body must be a JSON object",
            "reason": f"nested deeper than {MAX_JSON_DEPTH} levels",
        }
        too_deep = nested(MAX_JSON_DEPTH + 1)
        headers = shopify_headers(too_deep, webhook_id="too-deep")
        refused = client.post("/webhooks/shopify", content=too_deep, headers=headers)
        assert refused.status_code == 400
        deepest = nested(MAX_JSON_DEPTH)
        headers = shopify_headers(deepest, webhook_id="deepest")
        accepted = client.post("/webhooks/shopify", content=deepest, headers=headers)
        assert accepted.status_code == 202
        assert client.get("/healthz").status_code == 200
        assert [r.delivery_id for r in running.rows()] == ["deepest"]


def test_an_unusable_delivery_id_is_refused(receiver, client) -> None:
    body = body_of()
    response = client.post(
        "/webhooks/shopify", content=body, headers=shopify_headers(body, webhook_id="x" * 201)
    )
    assert response.status_code == 400
    assert receiver.rows() == []


# --- body size ----------------------------------------------------------------------------


def test_body_at_the_limit_is_accepted(receiver, client) -> None:
    body = body_of(size=MAX_BODY)
    assert len(body) == MAX_BODY
    response = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    assert response.status_code == 202
    assert len(bytes(receiver.rows()[0].body)) == MAX_BODY


def test_oversize_body_by_content_length(receiver, client) -> None:
    body = body_of(size=MAX_BODY + 1)
    response = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    assert response.status_code == 413
    assert response.json() == {"error": f"the body is larger than {MAX_BODY} bytes"}
    assert receiver.rows() == []


def test_oversize_chunked_body(receiver, client) -> None:
    body = body_of(size=MAX_BODY * 3)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    response = client.post("/webhooks/shopify", content=chunks(), headers=shopify_headers(body))
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert receiver.rows() == []


def test_chunked_body_under_the_limit_is_accepted(receiver, client) -> None:
    body = body_of(size=MAX_BODY - 10)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = client.post("/webhooks/shopify", content=chunks(), headers=shopify_headers(body))
    assert response.status_code == 202
    assert bytes(receiver.rows()[0].body) == body


def _request_head(receiver: Receiver, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{receiver.port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _status_line(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.readline(), timeout=5)


def test_oversize_content_length_is_refused_before_the_body_is_sent(receiver) -> None:
    """The 413 arrives while the client has sent only the headers of a 10 MiB body."""

    async def scenario() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
        headers = {**shopify_headers(b"{}"), "Content-Length": str(10 * 1024 * 1024)}
        writer.write(_request_head(receiver, "/webhooks/shopify", headers))
        await writer.drain()
        status = await _status_line(reader)
        writer.close()
        return status

    assert asyncio.run(scenario()).startswith(b"HTTP/1.1 413")
    assert receiver.rows() == []


def test_oversize_stream_is_refused_while_it_streams(receiver) -> None:
    """The 413 arrives once the limit is passed, though the chunked body never ends."""

    async def scenario() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
        headers = {**shopify_headers(b"{}"), "Transfer-Encoding": "chunked"}
        writer.write(_request_head(receiver, "/webhooks/shopify", headers))
        chunk = b"x" * 4096
        for _ in range(MAX_BODY // len(chunk) + 1):
            writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        await writer.drain()
        status = await _status_line(reader)
        writer.close()
        return status

    assert asyncio.run(scenario()).startswith(b"HTTP/1.1 413")
    assert receiver.rows() == []


# --- Contentful and generic ---------------------------------------------------------------


def test_contentful_shared_secret(receiver, client) -> None:
    entry = {"sys": {"id": "5KsDBWseXY6QegucYAoacS", "type": "Entry", "revision": 3}}
    body = json.dumps(entry).encode()
    headers = {
        "Content-Type": "application/vnd.contentful.management.v1+json",
        "X-Contentful-Topic": "ContentManagement.Entry.publish",
        "X-Contentful-Webhook-Name": "structr",
    }
    wrong = client.post(
        "/webhooks/contentful",
        content=body,
        headers={**headers, "X-Structr-Webhook-Secret": "guess"},
    )
    assert wrong.status_code == 401
    missing = client.post("/webhooks/contentful", content=body, headers=headers)
    assert missing.status_code == 401

    signed = {**headers, "X-Structr-Webhook-Secret": CONTENTFUL_SECRET}
    first = client.post("/webhooks/contentful", content=body, headers=signed)
    again = client.post("/webhooks/contentful", content=body, headers=signed)
    assert (first.status_code, again.status_code) == (202, 202)
    expected_id = "sha256:" + hashlib.sha256(body).hexdigest()
    assert first.json() == {"status": "queued", "delivery_id": expected_id}
    assert again.json()["status"] == "duplicate"

    with_id = {**signed, "X-Contentful-Webhook-Request-Id": "req-91f2"}
    unpublish = {**with_id, "X-Contentful-Topic": "ContentManagement.Entry.unpublish"}
    assert client.post("/webhooks/contentful", content=body, headers=unpublish).status_code == 202
    asset = {**signed, "X-Contentful-Topic": "ContentManagement.Asset.publish"}
    assert client.post("/webhooks/contentful", content=body, headers=asset).status_code == 422

    rows = receiver.rows()
    assert [(r.delivery_id, r.topic) for r in rows] == [
        (expected_id, "ContentManagement.Entry.publish"),
        ("req-91f2", "ContentManagement.Entry.unpublish"),
    ]
    for row in rows:
        assert "x-structr-webhook-secret" not in row.headers
        assert CONTENTFUL_SECRET not in json.dumps(row.headers)
    assert rows[0].headers["x-contentful-webhook-name"] == "structr"


def test_generic_hmac_in_hex_or_base64(receiver, client) -> None:
    upsert = json.dumps({"handle": "walnut-board", "title": "Walnut Board"}).encode()
    delete = json.dumps({"handle": "walnut-board"}).encode()
    base = {"Content-Type": "application/json"}
    hex_headers = {
        **base,
        "X-Structr-Topic": "product.upsert",
        "X-Structr-Delivery-Id": "evt-1",
        "X-Structr-Signature": hex_signature(GENERIC_SECRET, upsert),
    }
    b64 = base64.b64encode(bytes.fromhex(hex_signature(GENERIC_SECRET, delete)[7:])).decode()
    b64_headers = {**base, "X-Structr-Topic": "product.delete", "X-Structr-Signature": b64}
    unkeyed = "sha256=" + hashlib.sha256(upsert).hexdigest()
    forged = {**hex_headers, "X-Structr-Signature": unkeyed}
    unknown = {**hex_headers, "X-Structr-Topic": "product.create"}

    assert client.post("/webhooks/generic", content=upsert, headers=forged).status_code == 401
    assert client.post("/webhooks/generic", content=upsert, headers=unknown).status_code == 422
    assert client.post("/webhooks/generic", content=upsert, headers=hex_headers).status_code == 202
    assert client.post("/webhooks/generic", content=delete, headers=b64_headers).status_code == 202
    assert [(r.delivery_id, r.topic) for r in receiver.rows()] == [
        ("evt-1", "product.upsert"),
        ("sha256:" + hashlib.sha256(delete).hexdigest(), "product.delete"),
    ]


def test_unconfigured_endpoints_answer_503_and_accept_nothing(db) -> None:
    config = WebhookConfig.from_env(
        configured_env(SHOPIFY_WEBHOOK_SECRET="", STRUCTR_GENERIC_WEBHOOK_SECRET="")
    )
    with serve(db, config) as running, httpx.Client(base_url=running.base_url) as client:
        body = body_of()
        # Signed with an empty key: what an unsigned sender could compute.
        headers = shopify_headers(body, secret="")
        response = client.post("/webhooks/shopify", content=body, headers=headers)
        assert response.status_code == 503
        assert response.json() == {"error": "the shopify webhook endpoint is not configured"}
        generic = client.post(
            "/webhooks/generic",
            content=body,
            headers={"X-Structr-Topic": "product.upsert", "X-Structr-Signature": "sha256=00"},
        )
        assert generic.status_code == 503
        health = client.get("/healthz").json()
        assert health["endpoints"] == {"shopify": False, "contentful": True, "generic": False}
        assert running.rows() == []


def test_unknown_path_and_method(client) -> None:
    assert client.post("/webhooks/bigcommerce", content=b"{}").status_code == 404
    assert client.get("/webhooks/shopify").status_code == 405


# --- concurrency, failures, secrets -------------------------------------------------------


def test_concurrent_deliveries_are_each_stored_exactly_once(receiver) -> None:
    bodies = [body_of({**PRODUCT, "id": n, "title": f"Shirt {n}"}) for n in range(50)]
    ids = [f"wh-{n:03d}" for n in range(50)]
    # Ten of them are sent twice at the same time, as Shopify's retries can be.
    sends = list(zip(bodies, ids, strict=True)) + list(zip(bodies[:10], ids[:10], strict=True))

    async def send_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(sends))
        async with httpx.AsyncClient(base_url=receiver.base_url, limits=limits) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/webhooks/shopify", content=body, headers=shopify_headers(body, wid)
                    )
                    for body, wid in sends
                )
            )

    responses = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [202] * len(sends)
    statuses = [r.json()["status"] for r in responses]
    assert statuses.count("queued") == 50 and statuses.count("duplicate") == 10
    rows = receiver.rows()
    assert sorted(r.delivery_id for r in rows) == ids
    assert {r.delivery_id: bytes(r.body) for r in rows} == dict(zip(ids, bodies, strict=True))
    assert queue_counts(receiver.db) == {"pending": 50, "claimed": 0, "done": 0}
    assert receiver.app.state.writer.committed == 50


def test_a_database_failure_answers_503_and_the_receiver_recovers(receiver, client) -> None:
    body = body_of()
    with receiver.db.write() as conn:
        conn.execute(sa.text("ALTER TABLE webhook_events RENAME TO webhook_events_away"))
    failed = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    assert failed.status_code == 503
    assert failed.json() == {"error": "the delivery could not be stored; try again"}
    with receiver.db.write() as conn:
        conn.execute(sa.text("ALTER TABLE webhook_events_away RENAME TO webhook_events"))
    retried = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
    assert retried.status_code == 202
    assert retried.json()["status"] == "queued"
    assert client.get("/healthz").status_code == 200


def test_secrets_never_appear_in_responses_or_logs(receiver, client, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    body = body_of()
    near_miss = CONTENTFUL_SECRET[:-1] + "0"
    contentful = {"X-Contentful-Topic": "ContentManagement.Entry.publish"}
    generic = {"X-Structr-Topic": "product.upsert"}
    responses = [
        client.post("/webhooks/shopify", content=body, headers=shopify_headers(body)),
        client.post(
            "/webhooks/shopify", content=body, headers=shopify_headers(body, secret="wrong")
        ),
        client.post(
            "/webhooks/shopify", content=body, headers=shopify_headers(body, topic="orders/paid")
        ),
        client.post(
            "/webhooks/contentful",
            content=body,
            headers={**contentful, "X-Structr-Webhook-Secret": near_miss},
        ),
        client.post(
            "/webhooks/contentful",
            content=body,
            headers={**contentful, "X-Structr-Webhook-Secret": CONTENTFUL_SECRET},
        ),
        client.post(
            "/webhooks/generic",
            content=body,
            headers={**generic, "X-Structr-Signature": "sha256=" + "0" * 64},
        ),
        client.post("/webhooks/generic", content=body_of(size=MAX_BODY + 1), headers=generic),
        client.get("/healthz"),
    ]
    assert [r.status_code for r in responses] == [202, 401, 422, 401, 202, 401, 413, 200]
    assert "webhook shopify refused" in caplog.text
    assert "webhook contentful refused" in caplog.text
    exposed = [caplog.text] + [r.text + json.dumps(dict(r.headers)) for r in responses]
    for text in exposed:
        for secret in (*SECRETS, near_miss):
            assert secret not in text
    signature = shopify_signature(SHOPIFY_SECRET, body)
    assert signature not in caplog.text
    for row in receiver.rows():
        for secret in SECRETS:
            assert secret not in json.dumps(row.headers)
        assert "x-shopify-hmac-sha256" not in row.headers


# --- the command ----------------------------------------------------------------------------


def test_the_receiver_never_loads_dagster(tmp_path) -> None:
    code = (
        "import sys\n"
        "import structr_pipeline.cli\n"
        "from structr_pipeline.webhooks.cli import app_from_env\n"
        "app, db, config = app_from_env()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))\n"
    )
    env = {**os.environ, "STRUCTR_HOME": str(tmp_path / "home"), **configured_env()}
    env.pop("STRUCTR_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@contextmanager
def serve_command(tmp_path: Path, **overrides: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """Run ``structr webhooks serve`` on a free port; yields the process and its base URL.

    On leaving, the process is terminated and its output kept in ``process.output``.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "STRUCTR_HOME": str(tmp_path / "home"), **configured_env(**overrides)}
    env.pop("STRUCTR_DATABASE_URL", None)
    command = [
        sys.executable,
        "-m",
        "structr_pipeline.cli",
        "webhooks",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.1)
        yield process, base
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        process.output = output.decode()


def test_structr_webhooks_serve(tmp_path) -> None:
    with serve_command(tmp_path) as (process, base):
        body = body_of()
        response = httpx.post(
            f"{base}/webhooks/shopify", content=body, headers=shopify_headers(body)
        )
        assert response.status_code == 202
    text = process.output
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGTERM), text
    assert "Application shutdown complete." in text
    assert "POST /webhooks/shopify: ready" in text
    for secret in SECRETS:
        assert secret not in text
    db = CatalogDB.from_url(f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")
    assert queue_counts(db) == {"pending": 1, "claimed": 0, "done": 0}


# --- hostile requests -----------------------------------------------------------------------


def _peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (``VmHWM``), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc")


def _send_raw(port: int, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection; the status line of the answer, or b""."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        # The server may stop reading and close; its answer can still be read.
        with contextlib.suppress(OSError):
            conn.sendall(request)
        try:
            return conn.makefile("rb").readline()
        except OSError:
            return b""


def _head(port: int, headers: list[tuple[str, str]]) -> bytes:
    lines = ["POST /webhooks/shopify HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_too_many_headers_get_431_before_anything_else(receiver, client) -> None:
    body = body_of()
    signed = [*shopify_headers(body).items(), ("Content-Length", str(len(body)))]
    extra = [(f"X-Extra-{n}", "1") for n in range(100)]
    status = _send_raw(receiver.port, _head(receiver.port, signed + extra) + body)
    assert status.startswith(b"HTTP/1.1 431"), status
    # The count is checked before routing: an unknown path is refused the same way.
    unknown = _head(receiver.port, [*extra, ("Content-Length", "0")])
    unknown = unknown.replace(b"/webhooks/shopify", b"/webhooks/nowhere")
    assert _send_raw(receiver.port, unknown).startswith(b"HTTP/1.1 431")
    big = [("X-Big", "x" * 17_000), ("Content-Length", "0")]
    assert _send_raw(receiver.port, _head(receiver.port, big)).startswith(b"HTTP/1.1 4")
    assert receiver.rows() == []
    assert client.post("/webhooks/shopify", content=body, headers=dict(signed)).status_code == 202


def test_huge_header_counts_are_refused_with_bounded_memory(tmp_path) -> None:
    """10,000 and 1,000,000 headers: refused by the parser, memory barely moves."""
    with serve_command(tmp_path) as (process, base):
        port = int(base.rsplit(":", 1)[1])
        before = _peak_rss_mib(process.pid)
        for count in (10_000, 1_000_000):
            headers = [*((f"X-H-{n}", "v") for n in range(count)), ("Content-Length", "2")]
            status = _send_raw(port, _head(port, headers) + b"{}")
            assert status.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431")) or status == b"", status
        growth = _peak_rss_mib(process.pid) - before
        body = body_of()
        normal = httpx.post(f"{base}/webhooks/shopify", content=body, headers=shopify_headers(body))
        assert normal.status_code == 202
    # Parsing 1,000,000 headers in full took about 120 MiB more.
    assert growth < 20, f"peak memory grew by {growth:.1f} MiB"


def test_a_body_slower_than_the_timeout_gets_408(db) -> None:
    config = WebhookConfig.from_env(configured_env(STRUCTR_WEBHOOK_BODY_TIMEOUT_SECONDS="0.5"))
    body = body_of()

    async def trickle(port: int) -> tuple[bytes, float, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        headers = [*shopify_headers(body).items(), ("Content-Length", str(len(body)))]
        writer.write(_head(port, headers))
        started = time.monotonic()

        async def drip() -> None:
            for byte in body:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)

        dripping = asyncio.create_task(drip())
        try:
            status = await asyncio.wait_for(reader.readline(), timeout=5)
            waited = time.monotonic() - started
            rest = await asyncio.wait_for(reader.read(), timeout=5)  # then the server closes
        finally:
            dripping.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await dripping
            writer.close()
        return status, waited, rest

    with serve(db, config) as running:
        status, waited, rest = asyncio.run(trickle(running.port))
        assert status.startswith(b"HTTP/1.1 408"), status
        assert 0.4 < waited < 3
        assert b"connection: close" in rest.lower()
        assert b'"the body did not arrive within 0.5s"' in rest
        with httpx.Client(base_url=running.base_url) as client:
            response = client.post("/webhooks/shopify", content=body, headers=shopify_headers(body))
        assert response.status_code == 202
        assert len(running.rows()) == 1
