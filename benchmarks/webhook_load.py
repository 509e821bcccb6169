"""Load the webhook receiver with signed Shopify deliveries and check that none was lost.

Starts ``structr webhooks serve`` as a subprocess on a free 127.0.0.1 port with a
temporary ``STRUCTR_HOME`` (default SQLite catalog database) and a random
``SHOPIFY_WEBHOOK_SECRET``, then sends ``--count`` signed ``products/create`` /
``products/update`` deliveries with ``--concurrency`` requests in flight, spread over
``--senders`` processes (httpx ``AsyncClient``s; one Python process cannot drive more
than about a thousand requests a second). A ``--duplicates`` share of the deliveries
re-sends an earlier one with the same ``X-Shopify-Webhook-Id``. Senders retry connection
errors and 5xx answers. ``--restart`` kills the receiver with SIGKILL once half the
deliveries are acknowledged and starts it again on the same port.

    python benchmarks/webhook_load.py [--count 5000] [--concurrency 64] [--duplicates 0.05]
    python benchmarks/webhook_load.py --restart

Afterwards the receiver is stopped and the queue table counted. Prints one line:

    sent=<n> accepted=<a> per_s=<r> p50_ms=<x> p99_ms=<y> lost=<l> duplicated=<d>

``accepted`` counts 202 answers (a re-sent delivery is acknowledged too), ``per_s`` is
acknowledgements per second of sending, the latencies run from a delivery's first attempt
to its 202 (retries included); ``lost`` counts delivery ids acknowledged but absent from
the queue, ``duplicated`` delivery ids stored more than once. Details (rows, retries, CPU
time, restart downtime) go to stderr. Exits 1 when anything was lost, duplicated or left
unacknowledged. Everything is bounded by ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa

from structr_pipeline.store.db import CatalogDB, webhook_events
from structr_pipeline.webhooks.signatures import shopify_signature

HOST = "127.0.0.1"
READY_TIMEOUT = 30.0
RETRY_PAUSE = 0.05
CONNECTIONS_PER_CLIENT = 4


@dataclass(frozen=True)
class Delivery:
    """One prepared request: its webhook id, headers and signed body."""

    webhook_id: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Results:
    """What the senders observed."""

    acked: set[str] = field(default_factory=set)
    accepted: int = 0
    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    failures: list[str] = field(default_factory=list)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def product_body(product_id: int, rng: random.Random) -> bytes:
    """A products/create payload shaped like Shopify's, with two variants and an image."""
    sizes = ["Small", "Medium", "Large"]
    payload = {
        "id": product_id,
        "title": f"Load Test Shirt {product_id}",
        "body_html": "<p>A cotton shirt used to load the webhook receiver.</p>",
        "vendor": "Acme",
        "product_type": "Shirts",
        "handle": f"load-test-shirt-{product_id}",
        "status": "active",
        "tags": "load, test",
        "created_at": "2024-01-01T10:00:00-05:00",
        "updated_at": "2024-01-02T10:00:00-05:00",
        "options": [{"name": "Size", "position": 1, "values": sizes[:2]}],
        "variants": [
            {
                "id": product_id * 10 + i,
                "product_id": product_id,
                "title": size,
                "sku": f"LTS-{product_id}-{size[0]}",
                "barcode": None,
                "price": f"{rng.randint(10, 90)}.99",
                "compare_at_price": None,
                "inventory_quantity": rng.randint(0, 100),
                "grams": 200,
                "weight": 0.2,
                "weight_unit": "kg",
                "option1": size,
                "option2": None,
                "option3": None,
                "image_id": None,
            }
            for i, size in enumerate(sizes[:2])
        ],
        "images": [
            {
                "id": product_id * 100,
                "position": 1,
                "src": f"https://cdn.example.com/shirts/{product_id}.jpg",
                "alt": None,
                "variant_ids": [],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def plan(count: int, duplicate_share: float, secret: str, seed: int) -> list[Delivery]:
    """``count`` deliveries in random order, a share of them re-sends of earlier ones."""
    rng = random.Random(seed)
    resent = min(count - 1, round(count * duplicate_share)) if count > 1 else 0
    originals: list[Delivery] = []
    for n in range(count - resent):
        body = product_body(1_000_000 + n, rng)
        originals.append(
            Delivery(
                webhook_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                headers={
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": rng.choice(("products/create", "products/update")),
                    "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
                    "X-Shopify-Shop-Domain": "load-test.myshopify.com",
                    "X-Shopify-API-Version": "2024-10",
                },
                body=body,
            )
        )
    deliveries = originals + [rng.choice(originals) for _ in range(resent)]
    rng.shuffle(deliveries)
    return deliveries


class Receiver:
    """``structr webhooks serve`` as a subprocess on a fixed port."""

    def __init__(self, home: Path, port: int, secret: str) -> None:
        self.port = port
        self.env = {k: v for k, v in os.environ.items() if k != "STRUCTR_DATABASE_URL"}
        self.env.update({"STRUCTR_HOME": str(home), "SHOPIFY_WEBHOOK_SECRET": secret})
        self.log = (home / "receiver.log").open("ab")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the receiver and wait until ``/healthz`` answers."""
        command = [
            sys.executable,
            "-m",
            "structr_pipeline.cli",
            "webhooks",
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the receiver exited with {self.process.returncode}")
            try:
                if httpx.get(f"http://{HOST}:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"the receiver was not ready within {READY_TIMEOUT}s")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, nothing flushed."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running receiver has used so far, 0 if unknown."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """SIGTERM and wait (uvicorn finishes the requests in flight)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


async def send_all(
    deliveries: list[Delivery],
    url: str,
    concurrency: int,
    deadline: float,
    acked_counter,
) -> Results:
    """Send every delivery from ``concurrency`` workers, retrying transport errors and 5xx.

    ``acked_counter`` (a shared ``multiprocessing.Value``) counts acknowledgements across
    every sender process.
    """
    results = Results()
    pending: asyncio.Queue[Delivery] = asyncio.Queue()
    for delivery in deliveries:
        pending.put_nowait(delivery)
    # httpx's connection pool slows down as it grows, so the senders share several small
    # clients rather than one large one.
    shards = max(1, -(-concurrency // CONNECTIONS_PER_CLIENT))
    per_client = -(-concurrency // shards)
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=30.0))
            for _ in range(shards)
        ]

        async def worker(client: httpx.AsyncClient) -> None:
            while True:
                try:
                    delivery = pending.get_nowait()
                except asyncio.QueueEmpty:
                    return
                headers = {**delivery.headers, "X-Shopify-Webhook-Id": delivery.webhook_id}
                started = time.perf_counter()
                while True:
                    if time.monotonic() > deadline:
                        results.failures.append(f"{delivery.webhook_id}: out of time")
                        break
                    try:
                        response = await client.post(url, content=delivery.body, headers=headers)
                    except httpx.TransportError:
                        results.retries += 1
                        await asyncio.sleep(RETRY_PAUSE)
                        continue
                    if response.status_code >= 500:
                        results.retries += 1
                        await asyncio.sleep(RETRY_PAUSE)
                        continue
                    if response.status_code == 202:
                        results.accepted += 1
                        results.acked.add(delivery.webhook_id)
                        results.latencies.append(time.perf_counter() - started)
                        with acked_counter.get_lock():
                            acked_counter.value += 1
                    else:
                        results.failures.append(
                            f"{delivery.webhook_id}: {response.status_code} {response.text[:200]}"
                        )
                    break

        await asyncio.gather(*(worker(clients[i % shards]) for i in range(concurrency)))
    return results


def sender_process(
    deliveries: list[Delivery],
    url: str,
    concurrency: int,
    deadline: float,
    go,
    acked_counter,
    out,
) -> None:
    """One sender process: wait for ``go``, send its share, put its ``Results`` on ``out``."""
    go.wait()
    cpu = time.process_time()
    results = asyncio.run(send_all(deliveries, url, concurrency, deadline, acked_counter))
    out.put((results, time.process_time() - cpu))


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank), 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def count_queue(database_url: str, acked: set[str]) -> tuple[int, int, int]:
    """Rows in the queue, acknowledged ids missing from it, ids stored more than once."""
    db = CatalogDB.from_url(database_url)
    t = webhook_events
    with db.read() as conn:
        stored = {
            row.delivery_id: row.n
            for row in conn.execute(
                sa.select(t.c.delivery_id, sa.func.count().label("n")).group_by(t.c.delivery_id)
            )
        }
    db.engine.dispose()
    lost = sum(1 for webhook_id in acked if webhook_id not in stored)
    duplicated = sum(1 for n in stored.values() if n > 1)
    return sum(stored.values()), lost, duplicated


def run(args: argparse.Namespace, home: Path) -> int:
    """Run one load test in ``home``; returns the exit code."""
    secret = secrets.token_urlsafe(32)
    deliveries = plan(args.count, args.duplicates, secret, args.seed)
    port = free_port()
    receiver = Receiver(home, port, secret)
    url = f"http://{HOST}:{port}/webhooks/shopify"
    deadline = time.monotonic() + args.max_seconds
    senders = max(1, min(args.senders, args.concurrency))
    # Fork before any thread exists; each process runs its own event loop and clients.
    ctx = multiprocessing.get_context("fork")
    go, acked_counter, out = ctx.Event(), ctx.Value("q", 0), ctx.Queue()
    processes = [
        ctx.Process(
            target=sender_process,
            args=(
                deliveries[i::senders],
                url,
                len(range(i, args.concurrency, senders)),
                deadline,
                go,
                acked_counter,
                out,
            ),
            daemon=True,
        )
        for i in range(senders)
    ]
    for process in processes:
        process.start()
    results = Results()
    sender_cpu = server_cpu = downtime = 0.0
    restarted = False
    try:
        receiver.start()
        started = time.perf_counter()
        go.set()
        reported = 0
        while reported < senders:
            if args.restart and not restarted and acked_counter.value >= len(deliveries) // 2:
                restarted = True
                killed = time.monotonic()
                server_cpu += receiver.cpu_seconds()
                receiver.kill()
                receiver.start()
                downtime = time.monotonic() - killed
            try:
                part, cpu = out.get(timeout=0.01)
            except queue.Empty:
                if time.monotonic() > deadline + 60:
                    raise RuntimeError("the senders did not finish") from None
                continue
            reported += 1
            sender_cpu += cpu
            results.acked |= part.acked
            results.accepted += part.accepted
            results.latencies += part.latencies
            results.retries += part.retries
            results.failures += part.failures
        wall = time.perf_counter() - started
        server_cpu += receiver.cpu_seconds()
    finally:
        receiver.stop()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    rows, lost, duplicated = count_queue(f"sqlite:///{home / 'catalog.db'}", results.acked)
    distinct = len({d.webhook_id for d in deliveries})
    print(
        f"sent={len(deliveries)} accepted={results.accepted} "
        f"per_s={results.accepted / wall:.0f} "
        f"p50_ms={percentile(results.latencies, 0.50) * 1000:.1f} "
        f"p99_ms={percentile(results.latencies, 0.99) * 1000:.1f} "
        f"lost={lost} duplicated={duplicated}",
        flush=True,
    )
    print(
        f"distinct_ids={distinct} rows={rows} retries={results.retries} wall_s={wall:.2f} "
        f"senders={senders} receiver_cpu_s={server_cpu:.2f} sender_cpu_s={sender_cpu:.2f} "
        f"receiver_cpu_ms_per_request={server_cpu * 1000 / max(1, results.accepted):.2f}"
        + (f" restarted={restarted} restart_downtime_s={downtime:.2f}" if args.restart else ""),
        file=sys.stderr,
    )
    for failure in results.failures[:10]:
        print(f"failed: {failure}", file=sys.stderr)
    ok = not lost and not duplicated and not results.failures and rows == distinct
    return 0 if ok else 1


def main() -> int:
    """Parse the arguments and run the load test in a temporary STRUCTR_HOME."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000, help="deliveries to send")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent senders")
    parser.add_argument(
        "--duplicates", type=float, default=0.05, help="share re-sent with the same webhook id"
    )
    parser.add_argument(
        "--senders", type=int, default=2, help="sender processes sharing the concurrency"
    )
    parser.add_argument("--restart", action="store_true", help="SIGKILL and restart midway")
    parser.add_argument("--max-seconds", type=float, default=300.0, help="give up after this")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the deliveries")
    args = parser.parse_args()
    if min(args.count, args.concurrency, args.senders) < 1:
        parser.error("--count, --concurrency and --senders must be at least 1")
    if not 0 <= args.duplicates < 1:
        parser.error("--duplicates must be in [0, 1)")
    with tempfile.TemporaryDirectory(prefix="structr-webhook-load-") as tmp:
        return run(args, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
