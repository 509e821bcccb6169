"""The shared retry rules: backoff, Retry-After, retryable statuses, which errors are transient."""

from __future__ import annotations

import email.utils
import random
import sqlite3
import time

import httpx
import pytest
import sqlalchemy as sa

from structr_pipeline.core.connectors.pim import PimError
from structr_pipeline.core.generation.providers import ProviderError
from structr_pipeline.core.http_retry import (
    RequestFailure,
    backoff,
    is_transient,
    retry_after_seconds,
    retryable_status,
    transport_reason,
)


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    """``exc`` as Python leaves it after ``raise exc from cause``."""
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def pim_error(retryable: bool) -> PimError:
    return PimError(
        "PIM source 'shop': GET /products failed",
        source="shop",
        method="GET",
        path="/products",
        retryable=retryable,
        status=503 if retryable else 404,
    )


def test_backoff_is_full_jitter_under_a_growing_ceiling() -> None:
    random.seed(7)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 5.0), (9, 5.0)]:
        waits = [backoff(attempt, base=0.5, maximum=5.0) for _ in range(400)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > 0.9 * ceiling  # the whole range is used, up to the ceiling


def test_backoff_follows_retry_after_up_to_the_maximum() -> None:
    assert backoff(1, base=0.5, maximum=30.0, retry_after=2.0) == 2.0
    assert backoff(3, base=0.5, maximum=30.0, retry_after=0.0) == 0.0
    assert backoff(1, base=0.5, maximum=5.0, retry_after=120.0) == 5.0


def test_retry_after_in_seconds() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("-3") == 0.0


def test_retry_after_as_an_http_date() -> None:
    now = time.time()
    later = email.utils.formatdate(now + 10, usegmt=True)
    assert retry_after_seconds(later, now=now) == pytest.approx(10, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # long past


@pytest.mark.parametrize("value", [None, "", "soon", "Wed, 32 Foo 2015"])
def test_retry_after_unreadable_is_none(value: str | None) -> None:
    assert retry_after_seconds(value) is None


def test_retryable_statuses() -> None:
    assert [s for s in (200, 400, 401, 404, 408, 429, 500, 503) if retryable_status(s)] == [
        429,
        500,
        503,
    ]
    assert retryable_status(408, also={408})


def test_transport_reason_names_timeouts_and_connection_errors() -> None:
    assert transport_reason(httpx.ReadTimeout("slow"), 2.5) == "timeout after 2.5s (ReadTimeout)"
    reason = transport_reason(httpx.ConnectError("refused"), 60.0)
    assert reason == "connection error (ConnectError: refused)"


@pytest.mark.parametrize(
    "error",
    [
        ConnectionResetError("reset by peer"),
        BrokenPipeError(),
        TimeoutError(),
        httpx.ConnectError("refused"),
        httpx.PoolTimeout("no connection free"),
        httpx.RemoteProtocolError("server disconnected"),
        sa.exc.OperationalError("UPDATE batches", {}, sqlite3.OperationalError("locked")),
        sa.exc.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
        sa.exc.DisconnectionError("server closed the connection"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_transient_errors_of_the_libraries(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("no handle or SKU column"),
        KeyError("profile"),
        FileNotFoundError("landing/batch.csv"),
        sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        httpx.UnsupportedProtocol("ftp://"),
        None,
    ],
)
def test_errors_repeating_cannot_fix(error: BaseException | None) -> None:
    assert not is_transient(error)


def test_a_transient_cause_anywhere_in_the_chain_counts() -> None:
    inner = raised(RuntimeError("could not save the stage"), ConnectionRefusedError())
    assert is_transient(raised(ValueError("step failed"), inner))


def test_only_explicit_causes_are_followed() -> None:
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError:
            raise ValueError("a new problem while handling it") from None
    except ValueError as suppressed:
        assert not is_transient(suppressed)
    try:
        try:
            raise ConnectionResetError()
        except ConnectionResetError:
            raise ValueError("a new problem while handling it")  # noqa: B904
    except ValueError as implicit:
        assert implicit.__context__ is not None
        assert not is_transient(implicit)


def test_request_failures_decide_by_their_flag() -> None:
    assert is_transient(pim_error(retryable=True))
    assert not is_transient(pim_error(retryable=False))
    assert is_transient(ProviderError("503 after 5 attempts", retryable=True, attempts=5))
    assert not is_transient(ProviderError("400", retryable=False, status=400))
    # Raised from something transient or not, the flag is the request's own verdict.
    assert not is_transient(raised(pim_error(retryable=False), ConnectionResetError()))
    assert is_transient(raised(ValueError("write-back failed"), pim_error(retryable=True)))


def test_pim_and_provider_errors_share_one_shape() -> None:
    for error in (pim_error(retryable=True), ProviderError("x", retryable=True, status=503)):
        assert isinstance(error, RequestFailure)
        assert (error.retryable, error.status, error.attempts) == (True, 503, 1)
    error = pim_error(retryable=False)
    assert (error.source, error.method, error.path) == ("shop", "GET", "/products")


def test_a_cause_cycle_ends() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_transient(first)
