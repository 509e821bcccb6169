"""Write product copy for many products at once: cache, retries on bad answers, the guard.

For each product: its facts and the cache key; a cached result is used as it is.
Otherwise the provider is asked; an answer that fails validation is asked again once
with the problems fed back, and copy the guard flags (facts the source does not
support) is regenerated once with the findings, then kept with its flags. A product
that still fails is a failed item with its reason, never a failed batch. Requests run
concurrently; the provider bounds how many are in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, cast

from structr_pipeline.core.generation.copy import CopyValidationError, parse_copy
from structr_pipeline.core.generation.guard import check_facts, format_findings
from structr_pipeline.core.generation.prompts import (
    BrandVoice,
    PromptTemplate,
    build_messages,
    cache_key,
    product_facts,
)
from structr_pipeline.core.generation.providers import ChatProvider, ProviderError, Usage
from structr_pipeline.core.parallel import map_chunks


@dataclass
class CopyResult:
    """What happened to one product: its copy (or why there is none) and what it cost."""

    handle: str
    cache_key: str
    status: str  # "generated", "cached" or "failed"
    copy: dict[str, Any] | None = None
    flags: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    attempts: int = 0
    usage: Usage = field(default_factory=Usage)


async def _write_one(
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    handle: str,
    facts: dict[str, Any],
    key: str,
    fix_feedback: str | None = None,
) -> CopyResult:
    result = CopyResult(handle=handle, cache_key=key, status="failed")
    image_count = len(facts.get("images") or [])
    feedback: str | None = fix_feedback
    copy = None
    # A fix is one bounded regeneration: the guard's findings are kept as flags, not retried.
    regenerated_for_guard = fix_feedback is not None
    validation_retry_used = False
    while True:
        result.attempts += 1
        try:
            completion = await provider.complete(build_messages(template, facts, voice, feedback))
        except ProviderError as exc:
            result.error = str(exc)
            return result
        result.usage = result.usage + completion.usage
        try:
            copy = parse_copy(completion.text, image_count)
        except CopyValidationError as exc:
            if validation_retry_used:
                result.error = f"the answer failed validation twice: {exc}"
                return result
            validation_retry_used = True
            feedback = str(exc)
            continue
        findings = check_facts(copy, facts)
        if findings and not regenerated_for_guard:
            regenerated_for_guard = True
            feedback = format_findings(findings)
            continue
        result.status = "generated"
        result.copy = copy.model_dump()
        result.flags = [asdict(f) for f in findings]
        return result


PARALLEL_MIN_PRODUCTS = 4000
"""Below this many products to write, worker processes cost more to start than they save."""


@dataclass(frozen=True)
class _Job:
    """One product the model is asked about."""

    handle: str
    facts: dict[str, Any]
    key: str
    fix: str | None


def write_copy(
    products: list[dict[str, Any]],
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    cached: Callable[[list[str]], dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]],
    skip: Collection[str] = frozenset(),
    fix_feedback: Mapping[str, str] | None = None,
    on_result: Callable[[CopyResult], None] | None = None,
    workers: int = 1,
) -> list[CopyResult]:
    """Copy for each product record (``handle`` plus the keys ``product_facts`` reads).

    ``cached(keys)`` returns ``{key: (copy, flags)}`` for the keys already written; those
    products make no model call, and neither do those whose handle is in ``skip``
    (unchanged since the catalog last saw them: ``skipped_unchanged`` unless cached).
    Results come back in the order of ``products``. The provider is closed at the end
    (it holds an HTTP connection pool).

    ``fix_feedback`` (handle → the audit's instructions) makes this a fix pass: each of
    those products is regenerated with the instructions fed back, in one bounded
    attempt (plus the one retry a malformed answer gets), cached under a key that
    includes the instructions.

    ``on_result`` is called with each result the model produced, as soon as it is done
    (in the calling thread), so the caller can keep paid work before the rest finishes.

    With ``workers`` above one, a provider whose work is computation in this process
    (``cpu_bound``, as the offline provider) writes in that many worker processes once
    there are ``PARALLEL_MIN_PRODUCTS`` to write; the results are the same.
    """
    fixes = dict(fix_feedback or {})
    facts = [product_facts(p) for p in products]
    model = f"{provider.name}:{provider.model}"
    keys = [
        cache_key(template, f, voice, model, fixes.get(p["handle"]))
        for p, f in zip(products, facts, strict=True)
    ]
    hits = cached(keys)
    results: list[CopyResult | None] = [None] * len(products)
    jobs: dict[int, _Job] = {}
    for position, (product, product_facts_, key) in enumerate(
        zip(products, facts, keys, strict=True)
    ):
        handle = product["handle"]
        if key in hits:
            copy, flags = hits[key]
            results[position] = CopyResult(handle, key, "cached", copy, list(flags))
        elif handle in skip:
            results[position] = CopyResult(handle, key, "skipped_unchanged")
        else:
            jobs[position] = _Job(handle, product_facts_, key, fixes.get(handle))
    parallel = workers > 1 and getattr(provider, "cpu_bound", False)
    if parallel and len(jobs) >= PARALLEL_MIN_PRODUCTS:
        try:
            written = _write_in_processes(provider, template, voice, jobs, workers, on_result)
        finally:
            asyncio.run(_close(provider))
    else:
        written = asyncio.run(_write_all(provider, template, voice, jobs, on_result, close=True))
    for position, result in written.items():
        results[position] = result
    # Every position is a hit, a skip or a job, so none is left None.
    return cast(list[CopyResult], results)


async def _close(provider: ChatProvider) -> None:
    close = getattr(provider, "aclose", None)
    if close is not None:
        await close()


async def _write_all(
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    jobs: Mapping[int, _Job],
    on_result: Callable[[CopyResult], None] | None,
    close: bool = False,
) -> dict[int, CopyResult]:
    """Every job written concurrently, by position; ``on_result`` as each is done."""

    async def reported(job: _Job) -> CopyResult:
        result = await _write_one(
            provider, template, voice, job.handle, job.facts, job.key, job.fix
        )
        if on_result is not None:
            on_result(result)
        return result

    try:
        done = await asyncio.gather(*(reported(job) for job in jobs.values()))
    finally:
        if close:
            await _close(provider)
    return dict(zip(jobs, done, strict=True))


def _write_chunk(
    jobs: Sequence[tuple[int, _Job]],
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
) -> list[tuple[int, CopyResult]]:
    """One worker process's share of the jobs, with their positions."""
    written = asyncio.run(_write_all(provider, template, voice, dict(jobs), None))
    return list(written.items())


def _write_in_processes(
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    jobs: Mapping[int, _Job],
    workers: int,
    on_result: Callable[[CopyResult], None] | None,
) -> dict[int, CopyResult]:
    """The jobs written in ``workers`` processes (``parallel.map_chunks``)."""

    def reached(part: list[tuple[int, CopyResult]]) -> None:
        if on_result is not None:
            for _, result in part:
                on_result(result)

    written = map_chunks(
        _write_chunk, list(jobs.items()), workers, provider, template, voice, on_chunk=reached
    )
    return dict(written)
