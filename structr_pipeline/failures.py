"""Step failures that say whether they are transient, for the reprocessing sensor.

``mark_transient_failures`` wraps an asset or check function. An exception it raises
whose cause is transient (``core.http_retry.is_transient``: a dropped connection, a
timeout, a locked or unreachable database, a PIM or model request whose retries ran
out) fails the step as a ``dg.Failure`` with ``transient: True`` in its metadata, raised
from the original exception, so the run's log keeps its message and traceback. Any
other exception passes unchanged: a failure without the mark is one a person has to
look at. ``failed_transiently`` reads the mark back from a step's failure event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import dagster as dg

from structr_pipeline.core.http_retry import is_transient
from structr_pipeline.wrappers import run_within

# The failure metadata key the reprocessing sensor reads.
TRANSIENT = "transient"

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _transient_as_failure() -> Iterator[None]:
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if not is_transient(exc):
            raise
        kind = type(exc)
        raise dg.Failure(
            description=f"{kind.__name__}: {exc} (transient: worth another try later)",
            metadata={TRANSIENT: True, "error": f"{kind.__module__}.{kind.__qualname__}"},
        ) from exc


def mark_transient_failures(fn: F) -> F:
    """``fn`` (an asset or check function) with its transient failures marked for retry.

    Put it under ``@dg.asset``, ``@dg.multi_asset`` or ``@dg.asset_check``; generator
    functions stay generators, so Dagster sees the same function it would without it.
    """
    return run_within(_transient_as_failure)(fn)


def failed_transiently(entry: dg.EventLogEntry) -> bool:
    """Whether a step failure event carries ``transient: True`` in its failure metadata."""
    event = entry.dagster_event
    data = event.step_failure_data.user_failure_data if event and event.is_step_failure else None
    flag = data.metadata.get(TRANSIENT) if data else None
    return bool(flag is not None and flag.value is True)
