"""Fault tests against the project's real test servers and real processes, all on 127.0.0.1.

* The LLM fails a deterministic 30% of the products (HTTP 500, a malformed envelope, copy
  that never validates): the batch still succeeds, every product is generated or a failed
  item with its reason, the reprocessing sensor asks for a backfill from generation for
  that batch, and the backfill heals them by asking the model about those products only.
* The PIM drops connections mid-page (closes without an answer, or cuts the body short)
  through a real HTTP proxy in front of the PIM test server: within the client's retry
  budget a 500-item pull gets every item exactly once; beyond it the change sensor fails
  the tick with a clear error and keeps its cursor, then catches up once the PIM is back.
* The webhook receiver (`structr webhooks serve`, a real subprocess) is SIGKILLed in the
  middle of a burst of signed deliveries and restarted on the same database; the deliveries
  not acknowledged are sent again, as a sender would. The queue ends with every delivery
  exactly once, and every one acknowledged before the kill survived it.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import dagster as dg
import httpx
import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from structr_pipeline.core.connectors.pim import PimClient, item_id, parse_source
from structr_pipeline.definitions import build_defs
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.sensors.reprocess import FAILED_ITEMS, reprocess_sensor
from structr_pipeline.store.batches import list_batches
from structr_pipeline.store.catalog import read_catalog
from structr_pipeline.store.db import CatalogDB, webhook_events
from structr_pipeline.store.stages import failed_items_of, stages_of
from structr_pipeline.store.webhook_queue import queue_counts
from structr_pipeline_tests.chat_server import completion, facts_of, good
from structr_pipeline_tests.core.connectors.pim.pim_server import PimServer
from structr_pipeline_tests.sensors.test_pim_automation import landed_items
from structr_pipeline_tests.sensors.test_pim_automation import tick as pim_tick
from structr_pipeline_tests.sensors.test_reprocess_and_staleness import (
    GENERATION_DOWN,
    openai_defs,
    requested,
    tick,
)
from structr_pipeline_tests.test_kill_recovery import HEADER
from structr_pipeline_tests.webhooks.test_receiver import (
    REPO_ROOT,
    SECRETS,
    body_of,
    configured_env,
    shopify_headers,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def instance(disk_instance) -> dg.DagsterInstance:
    """The on-disk instance: the sensors these faults exercise store ticks and backfills."""
    return disk_instance


# =========================================================================== the LLM

LLM_PRODUCTS = 60
# Product number modulo 10 → how the model fails it while it is down: 3 in 10 products.
FAILING = {2: "http_500", 5: "malformed_envelope", 8: "invalid_copy"}
TITLE_NUMBER = re.compile(r"No\. (\d+)\b")


def jackets_csv(path: Path, count: int) -> Path:
    """A Shopify export of ``count`` products with two sizes each (as test_kill_recovery's)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(count):
            for j, size in enumerate(("S", "M")):
                first = j == 0
                writer.writerow(
                    [
                        f"field-jacket-{i}",
                        f"Field Jacket No. {i}" if first else "",
                        f"<p>Waxed cotton jacket, pattern {i}.</p>" if first else "",
                        "Harbor Outfitters" if first else "",
                        "Jackets" if first else "",
                        "outerwear, cotton" if first else "",
                        "Size" if first else "",
                        size,
                        f"HO-FJ-{i:03d}-{size}",
                        "900",
                        str(5 + i),
                        f"{120 + i}.00",
                        "",
                        f"https://images.example.com/jackets/{i}.jpg" if first else "",
                        "active" if first else "",
                    ]
                )
    return path


def calls_by_product(requests: list[dict]) -> Counter:
    """(handle, "copy" or "fix") → calls: "fix" carries feedback (a retry or the audit's)."""
    return Counter(
        (f"field-jacket-{product_number(r)}", "fix" if len(r["messages"]) > 2 else "copy")
        for r in requests
    )


def product_number(request: dict) -> int:
    match = TITLE_NUMBER.search(str(facts_of(request).get("title", "")))
    assert match, facts_of(request)
    return int(match.group(1))


def failure_kind(number: int) -> str | None:
    return FAILING.get(number % 10)


class FlakyModel:
    """A chat server's answer: while ``down``, the products of ``FAILING`` fail, by kind."""

    def __init__(self) -> None:
        self.down = True
        self.failed_calls = 0

    def __call__(self, request: dict, n: int):
        kind = failure_kind(product_number(request)) if self.down else None
        if kind is None:
            return good(request, n)
        self.failed_calls += 1
        if kind == "http_500":
            return 500, {"error": {"message": "the model is overloaded"}}, {}
        if kind == "malformed_envelope":
            return 200, {"id": "cmpl-1", "object": "chat.completion", "choices": []}, {}
        return 200, completion("Sure! Here is some lovely copy for your jacket."), {}


def generated_frame(defs, instance, batch_id: str) -> pd.DataFrame:
    """The batch's ``generated_copy`` as its IO manager stored it."""
    return defs.load_asset_value("generated_copy", partition_key=batch_id, instance=instance)


def test_llm_failing_30_percent_of_products_is_recorded_then_healed_by_the_sensor(
    settings, instance, chat, tmp_path
) -> None:
    model = FlakyModel()
    chat.answer = model
    defs = openai_defs(settings, chat)  # max_attempts=1: a 500 is not retried in the run
    db = defs.resources["catalog"].db()
    source = jackets_csv(tmp_path / "jackets.csv", LLM_PRODUCTS)
    batch_id = register_batch(defs.resources["catalog"], instance, source).manifest.batch_id
    handles = {f"field-jacket-{i}" for i in range(LLM_PRODUCTS)}
    failing = {f"field-jacket-{i}": failure_kind(i) for i in range(LLM_PRODUCTS) if failure_kind(i)}
    assert len(failing) == 18  # 30 %

    run = run_batch(defs, instance, batch_id)
    assert run.success, run.errors + run.check_failures
    first_calls = list(chat.requests)

    # Every product is accounted for: generated, or a failed item with its reason.
    frame = generated_frame(defs, instance, batch_id)
    assert sorted(frame["handle"]) == sorted(handles)
    status = dict(zip(frame["handle"], frame["status"], strict=True))
    assert {h for h, s in status.items() if s == "failed"} == set(failing)
    assert {h for h, s in status.items() if s != "failed"} == handles - set(failing)
    assert {s for h, s in status.items() if h not in failing} == {"generated"}
    assert stages_of(db, batch_id)["generation"].counts == {
        "generated": 42,
        "cached": 0,
        "failed": 18,
        "skipped_unchanged": 0,
    }
    (stage, failed), *others = failed_items_of(db, batch_id).items()
    assert stage == "generation" and not others
    assert {f.item for f in failed} == set(failing)
    expected_reason = {
        "http_500": ("HTTP 500", 1),
        "malformed_envelope": ("malformed response (no choices)", 1),
        "invalid_copy": ("the answer failed validation twice", 2),
    }
    for item in failed:
        text, attempts = expected_reason[failing[item.item]]
        assert text in item.reason, (item.item, item.reason)
        assert item.attempts == attempts and item.retryable
    # The failed calls: one per 500 or bad envelope, two per invalid copy (one retry).
    assert model.failed_calls == 6 + 6 + 12
    first = calls_by_product(first_calls)
    assert {h for h, _ in first} == handles
    assert sum(first.values()) == len(first_calls) == 42 * 2 + 24  # copy and audit fix
    # Nothing is lost from the catalog either: all 60 products are in it.
    assert set(read_catalog(db)["handle"]) == handles

    # The daemon's tick: a backfill from generation, for exactly this batch.
    result = tick(reprocess_sensor, defs, instance)
    ((assets, partitions),) = requested(result)
    assert assets == GENERATION_DOWN and partitions == {batch_id}
    assert result.run_requests[0].tags["structr/reprocess"] == FAILED_ITEMS

    # The backfill the daemon launches, with the model healthy again.
    model.down = False
    before = len(chat.requests)
    healed = run_batch(defs, instance, batch_id, start="generation")
    assert healed.success, healed.errors + healed.check_failures
    assert failed_items_of(db, batch_id) == {}
    # Only the failed products reach the model: each once for its copy and once for the
    # audit's bounded fix pass (the healthy products' copy and fixes come from the cache).
    assert calls_by_product(chat.requests[before:]) == {
        (handle, kind): 1 for handle in failing for kind in ("copy", "fix")
    }
    frame = generated_frame(defs, instance, batch_id)
    status = dict(zip(frame["handle"], frame["status"], strict=True))
    assert {h for h, s in status.items() if s == "generated"} == set(failing)
    assert {h for h, s in status.items() if s == "cached"} == handles - set(failing)
    (batch,) = list_batches(db)
    assert batch.status == "completed"

    assert not tick(reprocess_sensor, defs, instance).run_requests  # nothing left to retry
    print(
        f"\nLLM: {LLM_PRODUCTS} products, {len(first_calls)} calls in the first run, "
        f"{model.failed_calls} failed ({len(failing)} products failed); backfill sent "
        f"{len(chat.requests) - before} calls and healed {len(failing)}"
    )


# =========================================================================== the PIM

PIM_ITEMS = 500
PAGE_SIZE = 20  # 25 full pages, then the empty 26th that ends a page-numbered list
# Page number → which of its attempts the proxy drops, and how.
Plan = Callable[[int, int], str | None]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class DroppingProxy:
    """A real HTTP/1.1 proxy on 127.0.0.1 in front of the PIM test server.

    ``plan(page, attempt)`` (page from the ``page`` query parameter, attempt counted per
    page from 1) says what happens to a request: None forwards it; ``"close"`` reads the
    request and closes the connection without a byte of answer; ``"truncate"`` forwards
    it, sends the status, the headers (the full ``Content-Length``) and half the body,
    then closes. Everything else is passed through, keep-alive included.
    """

    def __init__(self, upstream: str, plan: Plan) -> None:
        self.plan = plan
        self.attempts: Counter = Counter()
        self.drops: Counter = Counter()  # mode → count
        self.dropped: list[tuple[int, int, str]] = []
        self.lock = threading.Lock()
        target = urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                page = int(dict(parse_qsl(urlsplit(self.path).query)).get("page", "0"))
                with proxy.lock:
                    proxy.attempts[page] += 1
                    attempt = proxy.attempts[page]
                    mode = proxy.plan(page, attempt)
                    if mode:
                        proxy.drops[mode] += 1
                        proxy.dropped.append((page, attempt, mode))
                if mode == "close":
                    self.close_connection = True
                    return
                upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
                try:
                    upstream_conn.request("GET", self.path, headers=dict(self.headers))
                    answer = upstream_conn.getresponse()
                    body = answer.read()
                finally:
                    upstream_conn.close()
                self.send_response_only(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "truncate":
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def drop_every_third_page(page: int, attempt: int) -> str | None:
    """Every 3rd page loses its first attempt (and every 9th its second too), by turns
    without an answer or with half a body: within a budget of 2 retries."""
    if page % 3 or attempt > (2 if page % 9 == 0 else 1):
        return None
    return "close" if (page // 3 + attempt) % 2 else "truncate"


def many_products(count: int) -> list[dict]:
    """``count`` generic PIM products, g-00001 …, updated over March 2024."""
    return [
        {
            "id": f"g-{n:05d}",
            "title": f"Chair {n}",
            "handle": f"chair-{n}",
            "vendor": "Acme",
            "sku": f"C-{n:05d}",
            "price": f"{40 + n % 50}.00",
            "inventory_qty": n % 7,
            "updated_at": f"2024-03-{1 + n % 28:02d}T08:00:00.000Z",
        }
        for n in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def pim_upstream() -> Iterator[PimServer]:
    server = PimServer().start()
    yield server
    server.stop()


@pytest.fixture
def pim(pim_upstream: PimServer) -> PimServer:
    pim_upstream.state.reset()
    with pim_upstream.state.lock:
        pim_upstream.state.generic = many_products(PIM_ITEMS)
    return pim_upstream


@contextmanager
def dropping_proxy(pim: PimServer, plan: Plan) -> Iterator[DroppingProxy]:
    proxy = DroppingProxy(pim.base_url, plan)
    try:
        yield proxy
    finally:
        proxy.close()


PIM_SOURCE = {
    "preset": "generic",
    "path": "/generic/page",
    "page_size": PAGE_SIZE,
    "rate_limit_per_s": 500,
    "backoff_base": 0.01,
    "backoff_max": 0.05,
    "max_retries": 2,
    "timeout_s": 5,
    "updated_since_param": "updated_since",
}
ALL_IDS = [f"g-{n:05d}" for n in range(1, PIM_ITEMS + 1)]


def test_pim_dropping_connections_mid_page_is_retried_and_loses_nothing(pim) -> None:
    with dropping_proxy(pim, drop_every_third_page) as proxy:
        source = parse_source("shop", {**PIM_SOURCE, "base_url": proxy.base_url})
        with PimClient(source, environ={}) as client:
            result = client.pull()

    found = [item_id(item, source) for item in result.items]
    assert found == ALL_IDS  # every item, exactly once, in order
    assert len(result.items) == len(set(found)) == PIM_ITEMS
    assert result.pages == PIM_ITEMS // PAGE_SIZE + 1
    dropped = len(proxy.dropped)
    assert dropped == 10 and proxy.drops == {"close": 5, "truncate": 5}, proxy.dropped
    assert result.retries == dropped and result.requests == result.pages + dropped
    # The PIM answered each page once, plus once per answer the proxy cut short.
    served = Counter(int(r.param("page")) for r in pim.requests_to("/generic/page"))
    cut = Counter(page for page, _, mode in proxy.dropped if mode == "truncate")
    assert served == {p: 1 + cut[p] for p in range(1, result.pages + 1)}
    print(
        f"\nPIM: {PIM_ITEMS} items over {result.pages} pages, {dropped} connections dropped "
        f"({dict(proxy.drops)}), {result.retries} retries, {result.requests} requests"
    )


def test_pim_drops_beyond_the_retry_budget_fail_the_tick_and_keep_the_cursor(
    settings, instance, pim
) -> None:
    def page_7_never_answers(page: int, attempt: int) -> str | None:
        if page == 7:
            return "close" if attempt % 2 else "truncate"
        return drop_every_third_page(page, attempt)

    settings.home.mkdir(parents=True, exist_ok=True)
    start = json.dumps({"updated_since": "2024-01-01T00:00:00+00:00"})
    with dropping_proxy(pim, page_7_never_answers) as proxy:
        source = {**PIM_SOURCE, "base_url": proxy.base_url}
        settings.pim_sources_file.write_text(
            yaml.safe_dump({"sources": {"shop": source}}), encoding="utf-8"
        )
        defs = build_defs(settings)
        down = pim_tick(defs, instance, start)
        assert proxy.attempts[7] == 3 and proxy.attempts[8] == 0  # 1 try + 2 retries, then stop
    assert not down.run_requests and not down.dynamic_partitions_requests
    state = json.loads(down.cursor)
    assert state["updated_since"] == "2024-01-01T00:00:00+00:00"  # not advanced
    assert state["failures"] == 1
    assert datetime.fromisoformat(state["retry_at"]) > datetime.now(UTC)
    error = state["error"]
    assert error.startswith("PIM source 'shop': GET /generic/page failed after 3 attempts: ")
    assert "connection error (RemoteProtocolError" in error, error
    assert down.skip_message == error
    db = defs.resources["catalog"].db()
    assert list_batches(db) == []  # nothing partial was registered

    # The PIM is back (still dropping within the budget): the next due tick catches up
    # from the same place, every item exactly once.
    with dropping_proxy(pim, drop_every_third_page) as proxy:
        source = {**PIM_SOURCE, "base_url": proxy.base_url}
        settings.pim_sources_file.write_text(
            yaml.safe_dump({"sources": {"shop": source}}), encoding="utf-8"
        )
        due = {**state, "retry_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
        back = pim_tick(defs, instance, json.dumps(due))
        assert len(proxy.dropped) == 10
    landed = [item["id"] for item in landed_items(defs, back)]
    assert landed == ALL_IDS
    (batch,) = list_batches(db)
    assert batch.options["updated_since"] == "2024-01-01T00:00:00+00:00"
    advanced = json.loads(back.cursor)
    assert advanced["updated_since"] != "2024-01-01T00:00:00+00:00"
    assert "failures" not in advanced and "retry_at" not in advanced
    print(f"\nPIM sensor: failed tick error: {error}")


# =========================================================================== the webhook receiver

DELIVERIES = 1500
SENDERS = 8
KILL_AFTER_ACKS = 600
BURST_SECONDS = 25.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def receiver_process(home: Path, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`structr webhooks serve`, started as test_receiver's `serve_command` starts it, on
    ``port`` with ``home``'s database; its output goes to ``log`` (a pipe nobody reads
    would fill up under load and stall the server). Terminated on leaving if still alive."""
    env = {**os.environ, "STRUCTR_HOME": str(home), **configured_env()}
    env.pop("STRUCTR_DATABASE_URL", None)
    command = [sys.executable, "-m", "structr_pipeline.cli", "webhooks", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the receiver did not start"
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def stored_deliveries(database: Path) -> dict[str, list[bytes]]:
    """Delivery id → the bodies stored under it (a list, to see any doubles)."""
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(webhook_events.c.delivery_id, webhook_events.c.body))
            out: dict[str, list[bytes]] = {}
            for delivery_id, body in rows:
                out.setdefault(delivery_id, []).append(bytes(body))
            return out
    finally:
        engine.dispose()


def test_webhook_receiver_killed_under_load_loses_and_doubles_nothing(tmp_path) -> None:
    home, log = tmp_path / "home", tmp_path / "receiver.log"
    database = home / "catalog.db"
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/shopify"
    deliveries = {
        f"fault-{n:05d}": body_of({"id": 9_000_000 + n, "title": f"Shirt {n}", "handle": f"s-{n}"})
        for n in range(DELIVERIES)
    }
    plan = list(deliveries.items())
    acked: dict[str, str] = {}  # delivery id → "queued" / "duplicate", before the restart
    unanswered: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + BURST_SECONDS

    def send(share: list[tuple[str, bytes]]) -> None:
        with httpx.Client(timeout=10) as client:
            for delivery_id, body in share:
                try:
                    assert time.monotonic() < deadline, "the burst took too long"
                    response = client.post(
                        url, content=body, headers=shopify_headers(body, delivery_id)
                    )
                except httpx.TransportError:
                    response = None
                with lock:
                    if response is not None and response.is_success:
                        acked[delivery_id] = response.json()["status"]
                    else:
                        unanswered.append(delivery_id)

    with receiver_process(home, port, log) as first:
        senders = [
            threading.Thread(target=send, args=(plan[i::SENDERS],), daemon=True)
            for i in range(SENDERS)
        ]
        for sender in senders:
            sender.start()
        while len(acked) < KILL_AFTER_ACKS:
            assert time.monotonic() < deadline and any(s.is_alive() for s in senders)
            time.sleep(0.002)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        with lock:
            acked_at_kill = dict(acked)
        for sender in senders:
            sender.join(timeout=max(0.0, deadline - time.monotonic()) + 1)
            assert not sender.is_alive()
    assert first.returncode == -signal.SIGKILL

    # What the killed receiver acknowledged is in the queue: it committed before answering.
    at_kill = stored_deliveries(database)
    assert set(acked) <= set(at_kill), sorted(set(acked) - set(at_kill))[:10]
    assert all(status == "queued" for status in acked.values())
    assert len(acked) + len(unanswered) == DELIVERIES
    in_flight = set(at_kill) - set(acked)  # committed, but the answer died with the process

    # Restarted on the same database (and port); the sender retries what got no 2xx.
    resent: dict[str, str] = {}
    with receiver_process(home, port, log), httpx.Client(timeout=10) as client:
        todo = list(unanswered)
        for _round in range(3):
            retry = []
            for delivery_id in todo:
                body = deliveries[delivery_id]
                try:
                    response = client.post(
                        url, content=body, headers=shopify_headers(body, delivery_id)
                    )
                except httpx.TransportError:
                    response = None
                if response is not None and response.is_success:
                    resent[delivery_id] = response.json()["status"]
                else:
                    retry.append(delivery_id)
            todo = retry
            if not todo:
                break
            time.sleep(0.2)
        assert not todo, f"{len(todo)} deliveries never acknowledged"

    stored = stored_deliveries(database)
    assert sorted(stored) == sorted(deliveries)  # none lost
    assert all(len(bodies) == 1 for bodies in stored.values())  # none doubled
    assert {k: v[0] for k, v in stored.items()} == deliveries
    # A re-sent delivery the killed receiver had already committed is a duplicate.
    assert {k for k, s in resent.items() if s == "duplicate"} == in_flight
    assert {k for k, s in resent.items() if s == "queued"} == set(unanswered) - in_flight
    queue = queue_counts(CatalogDB.from_url(f"sqlite:///{database}"))
    CatalogDB.dispose_all()
    assert queue == {"pending": DELIVERIES, "claimed": 0, "done": 0}
    text = log.read_text(errors="replace")
    for secret in SECRETS:
        assert secret not in text
    print(
        f"\nwebhooks: {DELIVERIES} sent by {SENDERS} threads, SIGKILL after "
        f"{len(acked_at_kill)} acks; {len(acked)} acknowledged before the kill, "
        f"{len(at_kill)} in the queue at the kill ({len(in_flight)} committed but not "
        f"acknowledged), {len(unanswered)} re-sent after the restart "
        f"({len(in_flight)} duplicate, {len(unanswered) - len(in_flight)} queued); "
        f"{len(stored)} in the queue, each once"
    )
