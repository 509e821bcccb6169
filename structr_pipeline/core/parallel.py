"""Work on a batch's products split over worker processes, for a stage that is
computation per product (offline copy).

The processes are spawned, not forked: the caller may hold threads and open connections
(a Dagster step does). Each chunk is pickled to a worker and its results back, so a
stage is worth splitting only above some thousands of products.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

CHUNKS_PER_WORKER = 4
"""Chunks each worker gets, so results come back (and reach ``on_chunk``) as work goes."""


def available_cores() -> int:
    """The cores this process may run on (at least one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def chunked(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` in at most ``parts`` consecutive slices of (nearly) equal length."""
    if not items:
        return []
    size = -(-len(items) // max(1, parts))
    return [items[start : start + size] for start in range(0, len(items), size)]


def map_chunks(
    work: Callable[..., list[R]],
    items: Sequence[T],
    workers: int,
    *shared: Any,
    on_chunk: Callable[[list[R]], None] | None = None,
) -> list[R]:
    """``work(chunk, *shared)`` over consecutive chunks of ``items`` in ``workers``
    processes; the results concatenated in the order of ``items``.

    ``work`` must be a module-level function (it is pickled by name) returning one result
    per item of its chunk. ``on_chunk`` is called in this process with each chunk's
    results as they arrive, in the order the chunks finish.
    """
    chunks = chunked(items, workers * CHUNKS_PER_WORKER)
    done: dict[int, list[R]] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(work, chunk, *shared): n for n, chunk in enumerate(chunks)}
        for future in as_completed(pending):
            results = future.result()
            if on_chunk is not None:
                on_chunk(results)
            done[pending[future]] = results
    return [result for n in range(len(chunks)) for result in done[n]]
