"""Asset and check functions run inside a context manager, generators kept generators."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def run_within(context: Callable[[], AbstractContextManager[Any]]) -> Callable[[F], F]:
    """A decorator running the function inside ``context()``, entered anew on each call.

    A generator function stays a generator function (the context spans its iteration),
    so Dagster sees the same kind of function it would without the decorator.
    """

    def decorate(fn: F) -> F:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
                with context():
                    yield from fn(*args, **kwargs)

            return generator  # type: ignore[return-value]

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            with context():
                return fn(*args, **kwargs)

        return call  # type: ignore[return-value]

    return decorate
