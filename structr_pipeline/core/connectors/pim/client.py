"""The HTTP client of one PIM source: authenticated, rate-limited, retrying, all-or-nothing.

``PimClient.pull`` walks every page of the source's product list and returns every item,
or raises ``PimError``: nothing partial comes back, so a caller never moves its cursor
past items it did not get. Items are deduplicated by id (the later page wins), so
offset paging that drifts while the catalog changes does not duplicate products.

Every request (token requests included) waits for its slot under the source's
``rate_limit_per_s``; 429, 5xx, 408, timeouts and connection errors are retried up to
``max_retries`` times with exponential backoff and full jitter (``backoff_base * 2**n``,
at most ``backoff_max`` seconds), or after ``Retry-After`` when the server sends one
(also capped by ``backoff_max``). A 401 with OAuth2 fetches a new token and repeats the
request once; any other 4xx fails at once. Secrets never reach an error, a log line or a
repr: messages name the environment variables instead, and anything a server echoes
back is masked.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from structr_pipeline.core.connectors.pim.auth import (
    Authenticator,
    OAuth2Authenticator,
    build_authenticator,
)
from structr_pipeline.core.connectors.pim.config import PimConfigError, PimSource
from structr_pipeline.core.connectors.pim.pagination import (
    PageRequest,
    Paginator,
    announced_total,
    find_path,
)
from structr_pipeline.core.connectors.pim.presets import (
    extract_items,
    iso_utc,
    item_id,
    item_updated_at,
    list_params,
    list_url,
    pagination_for,
    parse_timestamp,
    preset_for,
)
from structr_pipeline.core.connectors.pim.write_back import (
    WriteBackItem,
    WriteBackResult,
    failed,
    plan_requests,
    results_from_response,
)
from structr_pipeline.core.http_retry import (
    RequestFailure,
    backoff,
    retry_after_seconds,
    retryable_status,
    transport_reason,
)

logger = logging.getLogger(__name__)

_EXCERPT_CHARS = 200
_SPACE = re.compile(r"\s+")
# Retried besides 429 and 5xx: a server that timed out waiting for the request.
_ALSO_RETRIED = frozenset({408})


class PimError(RequestFailure):
    """A PIM request that failed for good.

    The message names the source, the method and URL path, the HTTP status and the
    reason (the server's message when it gave one); for 401 and 403 it also says which
    environment variables the credentials came from. ``retryable`` is true when the
    failure was transient and the attempts ran out (429, 5xx, timeouts), false when
    repeating cannot help (another 4xx, a body that is not what the API promises).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        method: str,
        path: str,
        retryable: bool,
        status: int | None = None,
        reason: str = "",
        attempts: int = 1,
    ) -> None:
        super().__init__(message, retryable=retryable, status=status, attempts=attempts)
        self.source = source
        self.method = method
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class PullResult:
    """Everything one pull fetched.

    ``items`` are the raw JSON objects in order of last appearance, one per id
    (Contentful entries carry the included assets and entries they link to, see
    ``presets.attach_includes``); ``high_water_mark`` is the latest item timestamp seen,
    in UTC ISO 8601, or None; ``requests`` and ``retries`` count this pull's HTTP
    requests (token requests included) and repeated attempts; ``pages`` the list pages.

    ``started_at`` (UTC ISO 8601) is when the first list page was answered, by the
    server's clock (its ``Date`` header; ``server_clock``) or else by this machine's,
    taken just before the first list request. Paging is not a snapshot: anything edited
    after that moment may be missing from this pull, so an incremental pull continues
    from ``started_at``, not from ``high_water_mark``. ``expected_total`` is the number
    of items the server announced for the whole list (on its last page), or None;
    ``missing`` how many fewer items the pull got.
    """

    items: list[dict[str, Any]]
    high_water_mark: str | None
    requests: int
    retries: int
    pages: int = 0
    started_at: str | None = None
    server_clock: bool = False
    expected_total: int | None = None

    @property
    def missing(self) -> int:
        """How many fewer items than the server announced the pull got (0 if none)."""
        if self.expected_total is None:
            return 0
        return max(0, self.expected_total - len(self.items))

    def shortfall(self, source_name: str) -> str | None:
        """What to tell the user when the pull got fewer items than announced, else None."""
        if not self.missing:
            return None
        return (
            f"PIM source '{source_name}': the server announced {self.expected_total} items "
            f"but the pull got {len(self.items)} ({self.missing} missing): the list changed "
            "during the pull, or the pagination settings stop too early"
        )


def _server_date(response: httpx.Response) -> datetime | None:
    """The moment in the response's ``Date`` header, or None without a readable one."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class RateLimiter:
    """Starts requests at least ``1 / per_second`` seconds apart (thread-safe).

    The gap is measured from the moment the previous caller was let through, after any
    wait, so no two requests ever start closer together than the interval.
    """

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._last = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next request may start."""
        with self._lock:
            delay = self._last + self.interval - self._clock()
            if delay > 0:
                self._sleep(delay)
            self._last = self._clock()


def _excerpt(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= _EXCERPT_CHARS else text[:_EXCERPT_CHARS] + "…"


def _server_message(response: httpx.Response) -> str:
    """The error message in a response body (the common JSON shapes), else its start."""
    try:
        body = response.json()
    except ValueError:
        return _excerpt(response.text)
    for path in ("message", "error.message", "error_description", "error", "detail", "title"):
        value = find_path(body, path)
        if isinstance(value, str) and value.strip():
            return _excerpt(value)
    errors = find_path(body, "errors.0.message")
    if isinstance(errors, str) and errors.strip():
        return _excerpt(errors)
    return _excerpt(response.text)


class PimClient:
    """A synchronous client for one PIM source (a context manager; ``close()`` when done).

    Secrets are read from ``environ`` (default: the process environment) when the
    client is built; an unset variable is a ``PimConfigError`` naming it. ``transport``
    replaces httpx's network transport (for tests or proxies).
    """

    def __init__(
        self,
        source: PimSource,
        environ: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.source = source
        self._auth: Authenticator = build_authenticator(
            source, os.environ if environ is None else environ
        )
        self._preset = preset_for(source)
        self._limiter = RateLimiter(source.rate_limit_per_s)
        self._http = httpx.Client(
            timeout=httpx.Timeout(source.timeout_s),
            transport=transport,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "structr-pipeline"},
        )
        origin = urlsplit(source.base_url)
        self._origin = (origin.scheme, origin.netloc)
        self.requests = 0
        self.retries = 0

    def __repr__(self) -> str:
        return (
            f"PimClient(source={self.source.name!r}, preset={self.source.preset!r}, "
            f"base_url={self.source.base_url!r}, auth={self._auth.describe()!r})"
        )

    def __enter__(self) -> PimClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    # ----------------------------------------------------------------- requests

    def _scrub(self, text: str) -> str:
        for secret in sorted(self._auth.secrets(), key=len, reverse=True):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _error(
        self,
        method: str,
        url: str,
        reason: str,
        *,
        retryable: bool,
        attempts: int,
        status: int | None = None,
    ) -> PimError:
        path = urlsplit(url).path or "/"
        where = f"PIM source '{self.source.name}': {method} {path}"
        if attempts == 0:
            message = f"{where} not sent: {reason}"
        else:
            attempt_word = "attempt" if attempts == 1 else "attempts"
            what = ""
            if status is not None:
                phrase = httpx.codes.get_reason_phrase(status)
                what = f"HTTP {status} {phrase}: " if phrase else f"HTTP {status}: "
            message = f"{where} failed after {attempts} {attempt_word}: {what}{reason}"
        if status in (401, 403):
            message += f" (credentials: {self._auth.describe()})"
        return PimError(
            self._scrub(message),
            source=self.source.name,
            method=method,
            path=path,
            retryable=retryable,
            status=status,
            reason=self._scrub(reason),
            attempts=attempts,
        )

    def _ensure_token(self) -> None:
        auth = self._auth
        if isinstance(auth, OAuth2Authenticator) and auth.needs_token():
            token = auth.token_request()
            response = self._send(
                "POST",
                token.url,
                authenticated=False,
                headers=token.headers,
                data=token.data,
                json=token.json,
            )
            try:
                auth.store_token(response.json())
            except ValueError as exc:
                raise self._error(
                    "POST",
                    token.url,
                    str(exc),
                    retryable=False,
                    attempts=1,
                    status=response.status_code,
                ) from None

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """One authenticated request to ``url`` (absolute, on the source's host), retried.

        Returns the 2xx response; raises ``PimError`` when it fails for good.
        """
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc) != self._origin:
            raise self._error(
                method,
                url,
                f"refusing to send credentials to another host ({parts.netloc or 'none'})",
                retryable=False,
                attempts=0,
            )
        return self._send(
            method,
            url,
            authenticated=True,
            params=params,
            headers=dict(headers or {}),
            content=content,
            json=json,
        )

    def _send(
        self,
        method: str,
        url: str,
        *,
        authenticated: bool,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        max_attempts = self.source.max_retries + 1
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            all_headers = dict(headers or {})
            if authenticated:
                self._ensure_token()
                all_headers.update(self._auth.headers())
            retry_after: float | None = None
            status: int | None = None
            self._limiter.wait()
            self.requests += 1
            try:
                response = self._http.request(method, url, headers=all_headers, **kwargs)
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise self._error(
                    method, url, f"invalid URL ({exc})", retryable=False, attempts=attempt
                ) from None
            except httpx.TransportError as exc:
                reason = transport_reason(exc, self.source.timeout_s)
            else:
                status = response.status_code
                if response.is_success:
                    return response
                reason = _server_message(response)
                if (
                    status == 401
                    and authenticated
                    and self._auth.refreshable
                    and not refreshed
                    and isinstance(self._auth, OAuth2Authenticator)
                ):
                    refreshed = True
                    self._auth.invalidate()
                    self.retries += 1
                    attempt -= 1
                    logger.info(
                        "PIM source '%s': %s %s answered 401; fetching a new token",
                        self.source.name,
                        method,
                        urlsplit(url).path,
                    )
                    continue
                if not retryable_status(status, also=_ALSO_RETRIED):
                    raise self._error(
                        method, url, reason, retryable=False, attempts=attempt, status=status
                    )
                retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if attempt >= max_attempts:
                raise self._error(
                    method, url, reason, retryable=True, attempts=attempt, status=status
                )
            delay = backoff(
                attempt,
                base=self.source.backoff_base,
                maximum=self.source.backoff_max,
                retry_after=retry_after,
            )
            logger.warning(
                "%s",
                self._scrub(
                    f"PIM source '{self.source.name}': {method} {urlsplit(url).path} attempt "
                    f"{attempt}/{max_attempts} failed ({status or reason}); "
                    f"retrying in {delay:.2f}s"
                ),
            )
            self.retries += 1
            time.sleep(delay)

    def _json(self, method: str, url: str, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self._error(
                method,
                url,
                f"the answer is not JSON: {_excerpt(response.text)}",
                retryable=False,
                attempts=1,
                status=response.status_code,
            ) from None

    # ----------------------------------------------------------------- pull

    def pull(self, updated_since: datetime | str | None = None) -> PullResult:
        """Every item of the source (updated after ``updated_since``, if given), all pages.

        ``updated_since`` is a datetime (naive is UTC) or an ISO 8601 text such as a
        previous ``high_water_mark``. Raises ``PimError`` if any page fails for good.
        """
        since = updated_since
        if isinstance(since, str):
            since = parse_timestamp(since)
            if since is None:
                raise ValueError(f"updated_since {updated_since!r} is not an ISO 8601 timestamp")
        requests_before, retries_before = self.requests, self.retries
        page_size = min(self.source.page_size, self._preset.max_page_size)
        pagination = pagination_for(self.source)
        paginator = Paginator(pagination, page_size)
        started = datetime.now(UTC)
        server_started: datetime | None = None
        total: int | None = None
        request: PageRequest | None = paginator.first(
            list_url(self.source), list_params(self.source, since)
        )
        collected: dict[Any, dict[str, Any]] = {}
        made: set[Any] = set()
        previous_ids: list[str] | None = None
        pages = 0
        while request is not None:
            if request.key() in made:
                raise self._error(
                    "GET",
                    request.url,
                    "pagination came back to a page already fetched; check the pagination settings",
                    retryable=False,
                    attempts=1,
                )
            made.add(request.key())
            response = self.request("GET", request.url, params=list(request.params) or None)
            if pages == 0:
                server_started = _server_date(response)
            body = self._json("GET", request.url, response)
            try:
                page_items = extract_items(body, self.source)
            except ValueError as exc:
                raise self._error(
                    "GET",
                    request.url,
                    str(exc),
                    retryable=False,
                    attempts=1,
                    status=response.status_code,
                ) from None
            page_items = self._preset.prepare_page(page_items, body)
            pages += 1
            page_ids = []
            for item in page_items:
                ident = item_id(item, self.source)
                key: Any = ident or ("", len(made), len(collected))
                collected.pop(key, None)
                collected[key] = item
                page_ids.append(ident)
            if page_ids and page_ids == previous_ids:
                raise self._error(
                    "GET",
                    request.url,
                    "the server sent the same page twice; it may ignore the paging parameters",
                    retryable=False,
                    attempts=1,
                )
            previous_ids = page_ids
            total = announced_total(pagination, response, body)
            request = paginator.next(request, response, body, len(page_items))
        items = list(collected.values())
        result = PullResult(
            items=items,
            high_water_mark=self._high_water_mark(items),
            requests=self.requests - requests_before,
            retries=self.retries - retries_before,
            pages=pages,
            started_at=iso_utc(server_started or started),
            server_clock=server_started is not None,
            expected_total=total,
        )
        shortfall = result.shortfall(self.source.name)
        if shortfall:
            logger.warning("%s", shortfall)
        return result

    def _high_water_mark(self, items: list[dict[str, Any]]) -> str | None:
        moments = [parse_timestamp(item_updated_at(item, self.source)) for item in items]
        known = [m for m in moments if m is not None]
        return iso_utc(max(known)) if known else None

    # ----------------------------------------------------------------- write-back

    def write_back(self, updates: list[WriteBackItem]) -> list[WriteBackResult]:
        """Write ``updates`` to the PIM; one result per item, in order, failures included.

        Raises ``PimConfigError`` when the source has not enabled write-back; HTTP
        failures are recorded on the products they concern, never raised.
        """
        if not self.source.write_back.enabled:
            raise PimConfigError(
                f"PIM source '{self.source.name}': write-back is not enabled "
                "(set write_back.enabled: true)"
            )
        empty = [u.id for u in updates if not str(u.id).strip()]
        if empty:
            raise ValueError("every write-back item needs the product's id in the PIM")
        results: list[WriteBackResult] = []
        for planned in plan_requests(self.source, updates):
            try:
                response = self.request(
                    planned.method,
                    planned.url,
                    headers=planned.headers,
                    content=planned.content,
                    json=planned.json_body,
                )
            except PimError as exc:
                results.extend(failed(planned, exc.status, str(exc)))
                continue
            results.extend(results_from_response(self.source, planned, response))
        return results
