"""Fewer garbage collections while a stage builds a batch's worth of Python objects.

A stage that turns a frame into records (products, variants, copy, audits) creates
millions of objects that live until the stage ends, and CPython's default thresholds
(700 allocations a collection of the youngest generation) make it walk them again and
again: on a 100,000-row batch that is about an eighth of the run. ``collect_less`` raises
the thresholds for the duration of the stage and puts the previous ones back after it,
whatever the stage raises; nothing is left uncollected, collections are only fewer.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from structr_pipeline.wrappers import run_within

# Allocations between collections of the youngest generation, and how many of those
# (then of the middle one) trigger the older ones; measured on the pipeline benchmark.
STAGE_THRESHOLDS = (50_000, 20, 100)

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def fewer_collections(thresholds: tuple[int, int, int] = STAGE_THRESHOLDS) -> Iterator[None]:
    """Run the block with the garbage collector's ``thresholds``, then restore them."""
    previous = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def collect_less(fn: F) -> F:
    """``fn`` (an asset function) run within ``fewer_collections``; a generator stays one."""
    return run_within(fewer_collections)(fn)
