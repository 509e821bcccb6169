"""Retrying requests, and telling a transient failure from one that repeating cannot fix.

The HTTP clients (the PIM client, the chat providers) share what their retry loops
decide the same way: which answers are worth another attempt (``retryable_status``),
how long to wait before it (``backoff``, ``retry_after_seconds``) and how a transport
failure reads in an error message (``transport_reason``). A request that failed for good
raises a ``RequestFailure``, whose ``retryable`` flag says whether its cause was
transient.

``is_transient`` answers the same question for any exception, walking its cause chain:
a ``RequestFailure`` decides by its flag, and the transient errors of the standard
library, SQLAlchemy, the database drivers and httpx (a dropped connection, a timeout, a
locked or unreachable database) count as transient wherever they sit in the chain.
Nothing here imports Dagster.
"""

from __future__ import annotations

import email.utils
import random
import sqlite3
import time
from collections.abc import Collection

import httpx
import psycopg2
import sqlalchemy.exc

# Exceptions worth another try later, wherever they sit in a cause chain.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,  # also ConnectionResetError, ConnectionRefusedError, BrokenPipeError
    TimeoutError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no connection free in the pool in time
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    httpx.ConnectError,
    httpx.TimeoutException,  # ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout
    httpx.RemoteProtocolError,
)


class RequestFailure(Exception):
    """A request that failed for good.

    ``retryable`` is true when the failure was transient and the attempts ran out (429,
    5xx, timeouts, connection errors), false when repeating the request cannot help;
    ``status`` is the last HTTP status, if there was an answer, and ``attempts`` how many
    times the request was sent.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.attempts = attempts


def is_transient(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is worth another try later.

    The chain is followed through ``__cause__`` (``raise ... from ...``). The first
    ``RequestFailure`` in it decides by its ``retryable`` flag; otherwise any of
    ``TRANSIENT_ERRORS`` in the chain makes it transient.
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, RequestFailure):
            return exc.retryable
        if isinstance(exc, TRANSIENT_ERRORS):
            return True
        exc = exc.__cause__
    return False


def retryable_status(status: int, also: Collection[int] = ()) -> bool:
    """Whether an HTTP answer with ``status`` is worth another attempt: 429, 5xx, ``also``."""
    return status == 429 or status >= 500 or status in also


def backoff(
    attempt: int, *, base: float, maximum: float, retry_after: float | None = None
) -> float:
    """Seconds to wait before the next attempt (``attempt`` counts from 1).

    ``retry_after`` (the server's ``Retry-After``) when given, else exponential backoff
    with full jitter: uniform between 0 and ``base * 2**(attempt - 1)``; either way at
    most ``maximum``.
    """
    if retry_after is not None:
        return min(retry_after, maximum)
    return random.uniform(0.0, min(maximum, base * 2 ** (attempt - 1)))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date).

    None when the header is missing or unreadable; a moment in the past is 0. ``now``
    (epoch seconds) defaults to the current time.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def transport_reason(exc: httpx.TransportError, timeout: float) -> str:
    """How a request that got no answer failed, for an error message or a log line."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout after {timeout:g}s ({type(exc).__name__})"
    return f"connection error ({type(exc).__name__}: {exc})"
