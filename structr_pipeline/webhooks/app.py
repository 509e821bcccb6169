"""The webhook receiver: an ASGI app that stores verified deliveries before acknowledging them.

``POST /webhooks/<endpoint>`` (``shopify``, ``contentful``, ``generic``; see ``config``
for their variables) answers:

* 202 once the delivery is committed to the ``webhook_events`` table, or when its
  delivery id was stored before (``{"status": "duplicate"}``, no second row);
* 400 for a body that is not a JSON object (whatever the reason: not JSON, not UTF-8,
  nested deeper than ``MAX_JSON_DEPTH``, a number that is not finite …, each with a
  short reason) or an unusable delivery id header;
* 401 for a missing or wrong signature or secret (nothing unverified is stored);
* 408 for a body that has not arrived within the body timeout (the connection closes);
* 413 for a body over the size limit, by ``Content-Length`` or while it streams in;
* 422 for a missing or unknown topic;
* 431 for more headers, or more header bytes, than the limits allow, before anything
  else is looked at (the connection closes);
* 503 when the endpoint has no secret configured, or the database cannot store it.

``GET /healthz`` answers 200 while the writer is running.

Requests do not commit one by one: each puts its verified delivery on a queue, and one
writer task commits everything waiting in a single transaction (in a thread), then
resolves each request's future. A request is answered only after that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from structr_pipeline.store.db import CatalogDB
from structr_pipeline.store.webhook_queue import IncomingDelivery, enqueue_many
from structr_pipeline.webhooks.config import EndpointConfig, WebhookConfig
from structr_pipeline.webhooks.signatures import verify_hmac, verify_shared_secret

logger = logging.getLogger(__name__)

# The longest delivery id or topic stored (the columns' width).
MAX_ID_LENGTH = 200
# Bodies committed in one transaction at most, in bytes (a batch ends at the first
# delivery that reaches it).
MAX_BATCH_BYTES = 32 * 1024 * 1024
# Verified deliveries waiting for the writer at most; further requests wait their turn.
MAX_WAITING = 10_000
# The deepest nesting of arrays and objects accepted in a body. Real deliveries stay
# far below it; it keeps every later recursive walk of a stored body well inside
# Python's recursion limit.
MAX_JSON_DEPTH = 128


class StoreUnavailable(Exception):
    """The delivery could not be committed; the sender should try again later."""


class GroupCommitWriter:
    """Commits deliveries in groups: one transaction for everything waiting.

    ``submit`` returns only after the delivery's transaction committed: True if the
    delivery is new, False if its id was already stored. All database work runs on one
    dedicated thread, so the event loop never blocks on it.
    """

    def __init__(
        self,
        db: CatalogDB,
        max_batch: int,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self.max_batch_bytes = max_batch_bytes
        self.max_waiting = max_waiting
        self.commits = 0
        self.committed = 0
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def running(self) -> bool:
        """Whether the writer task is alive."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the writer task in the running event loop (once)."""
        if self._task is not None:
            return
        self._queue = asyncio.Queue(maxsize=self.max_waiting)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook-writer")
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-writer")

    async def stop(self) -> None:
        """Commit whatever is still waiting, then stop the writer task and its thread."""
        if self._task is None:
            return
        if not self._task.done():
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)
        self._task = None

    async def submit(self, delivery: IncomingDelivery) -> bool:
        """Queue ``delivery`` and wait for its commit; True if new, False if a duplicate.

        Raises ``StoreUnavailable`` when the transaction failed.
        """
        self.start()
        if not self.running:
            raise StoreUnavailable("the webhook writer has stopped")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put((delivery, future))
        return await future

    def _take_batch(self, first: tuple) -> tuple[list, bool]:
        items = [first]
        size = len(first[0].body)
        while len(items) < self.max_batch and size < self.max_batch_bytes:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if item is None:
                return items, True
            items.append(item)
            size += len(item[0].body)
        return items, False

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            items, stopping = self._take_batch(first)
            deliveries = [delivery for delivery, _ in items]
            try:
                results = await loop.run_in_executor(
                    self._executor, enqueue_many, self.db, deliveries
                )
            except Exception as exc:
                results = await self._one_by_one(loop, items, exc)
            else:
                self.commits += 1
                self.committed += sum(results)
            for (_, future), result in zip(items, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)

    async def _one_by_one(self, loop, items: list, error: Exception) -> list:
        """After a failed group transaction, store each delivery on its own.

        A delivery the database refuses (bad data) then fails alone; when the database
        itself is unavailable every request in the group fails and its sender retries.
        """
        logger.error("webhook group commit of %d deliveries failed: %s", len(items), error)
        failed = StoreUnavailable("the delivery could not be stored")
        if len(items) == 1 or isinstance(error, sa.exc.OperationalError):
            return [failed] * len(items)
        results: list = []
        for delivery, _ in items:
            try:
                (new,) = await loop.run_in_executor(
                    self._executor, enqueue_many, self.db, [delivery]
                )
            except Exception as exc:
                logger.error(
                    "webhook delivery %s/%s could not be stored: %s",
                    delivery.endpoint,
                    delivery.delivery_id,
                    exc,
                )
                results.append(failed)
            else:
                self.commits += 1
                self.committed += int(new)
                results.append(new)
        return results


def _error(status: int, message: str, *, close: bool = False, **extra: str) -> JSONResponse:
    headers = {"Connection": "close"} if close else None
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


class HeaderLimits:
    """ASGI middleware: 431 for a request with too many headers or header bytes.

    It runs before routing and before any header is read by name, so an oversized
    request costs nothing beyond what the HTTP parser (itself bounded, see ``cli``)
    already spent. The answer closes the connection.
    """

    def __init__(self, app: ASGIApp, max_headers: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse an oversized request head, or pass the request on."""
        if scope["type"] == "http":
            headers = scope["headers"]
            reason = None
            if len(headers) > self.max_headers:
                reason = f"more than {self.max_headers} request headers"
            elif sum(len(k) + len(v) + 4 for k, v in headers) > self.max_header_bytes:
                reason = f"the request headers are larger than {self.max_header_bytes} bytes"
            if reason is not None:
                client = scope.get("client") or ("-",)
                logger.warning("webhook request refused from %s: %s", client[0], reason)
                await _error(431, reason, close=True)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyRefused(ValueError):
    """A body that is not a usable JSON object; the message is the short reason."""


def _refuse_constant(name: str) -> float:
    raise BodyRefused(f"{name} is not a finite number")


def parse_body(body: bytes) -> dict:
    """The delivery's JSON object; ``BodyRefused`` with a short reason for anything else.

    Refused: text that is not JSON (or not UTF-8/16/32), a top level that is not an
    object, nesting deeper than ``MAX_JSON_DEPTH``, ``NaN``/``Infinity`` and numbers too
    large for a float (``1e999``), integers too long to convert.
    """
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except BodyRefused:
        raise
    except RecursionError:
        raise BodyRefused(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise BodyRefused("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BodyRefused(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError:
        raise BodyRefused("not JSON that can be read (a number too long?)") from None
    if not isinstance(payload, dict):
        kind = "an array" if isinstance(payload, list) else "not an object"
        raise BodyRefused(f"the top level is {kind}")
    _check_values(payload)
    return payload


def _check_values(payload: dict) -> None:
    """Walk ``payload`` one nesting level at a time: bounded depth, finite numbers."""
    level: list = [payload]
    depth = 1
    while level:
        if depth > MAX_JSON_DEPTH:
            raise BodyRefused(f"nested deeper than {MAX_JSON_DEPTH} levels")
        below = []
        for value in level:
            for child in value.values() if type(value) is dict else value:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
                elif kind is float and not math.isfinite(child):
                    raise BodyRefused("a number is too large to be finite")
        level = below
        depth += 1


def _authenticated(endpoint: EndpointConfig, request: Request, body: bytes) -> bool:
    provided = request.headers.get(endpoint.auth_header)
    if endpoint.auth == "secret":
        return verify_shared_secret(endpoint.secret or "", provided)
    return verify_hmac(endpoint.secret or "", body, provided, endpoint.signature_encoding)


def _delivery_id(endpoint: EndpointConfig, request: Request, body: bytes) -> str | None:
    """The sender's delivery id, or ``sha256:<hex>`` of the body; None if a header is unusable."""
    for name in endpoint.delivery_id_headers:
        value = request.headers.get(name)
        if value is None:
            continue
        value = value.strip()
        if not value or len(value) > MAX_ID_LENGTH or not value.isprintable():
            return None
        return value
    return "sha256:" + hashlib.sha256(body).hexdigest()


async def _read_body(request: Request, limit: int, timeout_s: float) -> bytes | None:
    """The whole body, or None as soon as it is longer than ``limit`` bytes.

    Raises ``TimeoutError`` when the body has not arrived within ``timeout_s`` seconds.
    """
    body = bytearray()
    async with asyncio.timeout(timeout_s):
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return None
    return bytes(body)


def _receiver(endpoint: EndpointConfig, config: WebhookConfig, writer: GroupCommitWriter):
    stored_headers = endpoint.stored_headers()

    async def receive(request: Request) -> Response:
        client = request.client.host if request.client else "-"
        if not endpoint.configured:
            logger.warning(
                "webhook %s refused from %s: no secret configured", endpoint.name, client
            )
            return _error(503, f"the {endpoint.name} webhook endpoint is not configured")

        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                return _error(400, "invalid Content-Length")
            if int(declared) > config.max_body_bytes:
                logger.warning("webhook %s refused from %s: body too large", endpoint.name, client)
                return _error(413, f"the body is larger than {config.max_body_bytes} bytes")
        try:
            body = await _read_body(request, config.max_body_bytes, config.body_timeout_s)
        except ClientDisconnect:
            return Response(status_code=400)
        except TimeoutError:
            logger.warning("webhook %s refused from %s: body too slow", endpoint.name, client)
            return _error(
                408, f"the body did not arrive within {config.body_timeout_s:g}s", close=True
            )
        if body is None:
            logger.warning("webhook %s refused from %s: body too large", endpoint.name, client)
            return _error(413, f"the body is larger than {config.max_body_bytes} bytes")

        if not _authenticated(endpoint, request, body):
            logger.warning(
                "webhook %s refused from %s: missing or invalid %s",
                endpoint.name,
                client,
                endpoint.auth_header,
            )
            return _error(401, f"missing or invalid {endpoint.auth_header}")

        topic = (request.headers.get(endpoint.topic_header) or "").strip()
        if topic not in endpoint.topics:
            logger.warning(
                "webhook %s refused from %s: unknown topic %r", endpoint.name, client, topic[:100]
            )
            return _error(
                422,
                f"{endpoint.topic_header} must be one of {', '.join(sorted(endpoint.topics))}",
            )
        delivery_id = _delivery_id(endpoint, request, body)
        if delivery_id is None:
            return _error(400, f"unusable {' or '.join(endpoint.delivery_id_headers)} header")
        try:
            parse_body(body)
        except BodyRefused as exc:
            logger.warning("webhook %s refused from %s: %s", endpoint.name, client, exc)
            return _error(400, "the body must be a JSON object", reason=str(exc))

        delivery = IncomingDelivery(
            endpoint=endpoint.name,
            delivery_id=delivery_id,
            topic=topic,
            headers={
                name: request.headers[name] for name in stored_headers if name in request.headers
            },
            body=body,
            received_at=datetime.now(UTC),
        )
        try:
            new = await writer.submit(delivery)
        except StoreUnavailable:
            return _error(503, "the delivery could not be stored; try again")
        return JSONResponse(
            {"status": "queued" if new else "duplicate", "delivery_id": delivery_id},
            status_code=202,
        )

    return receive


def create_app(db: CatalogDB, config: WebhookConfig) -> Starlette:
    """The receiver for ``config``'s endpoints, storing deliveries in ``db``."""
    writer = GroupCommitWriter(db, max_batch=config.max_batch)

    async def healthz(_request: Request) -> Response:
        body = {
            "status": "ok" if writer.running else "writer stopped",
            "endpoints": {name: e.configured for name, e in config.endpoints.items()},
        }
        return JSONResponse(body, status_code=200 if writer.running else 503)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        writer.start()
        try:
            yield
        finally:
            await writer.stop()

    routes = [Route("/healthz", healthz, methods=["GET"])]
    for name, endpoint in config.endpoints.items():
        routes.append(
            Route(f"/webhooks/{name}", _receiver(endpoint, config, writer), methods=["POST"])
        )
    limits = Middleware(
        HeaderLimits, max_headers=config.max_headers, max_header_bytes=config.max_header_bytes
    )
    app = Starlette(routes=routes, middleware=[limits], lifespan=lifespan)
    app.state.writer = writer
    return app
