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
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

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


def write_copy(
    products: list[dict[str, Any]],
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    cached: Callable[[list[str]], dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]],
    skip: Collection[str] = frozenset(),
    fix_feedback: Mapping[str, str] | None = None,
    on_result: Callable[[CopyResult], None] | None = None,
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
    (from the event loop's thread), so the caller can keep paid work before the rest
    finishes.
    """
    fixes = dict(fix_feedback or {})
    facts = [product_facts(p) for p in products]
    model = f"{provider.name}:{provider.model}"
    keys = [
        cache_key(template, f, voice, model, fixes.get(p["handle"]))
        for p, f in zip(products, facts, strict=True)
    ]
    hits = cached(keys)

    async def reported(pending) -> CopyResult:
        result = await pending
        if on_result is not None:
            on_result(result)
        return result

    async def run_all() -> list[CopyResult]:
        tasks = []
        for product, product_facts_, key in zip(products, facts, keys, strict=True):
            if key in hits:
                copy, flags = hits[key]
                done = CopyResult(product["handle"], key, "cached", copy, list(flags))
                tasks.append(asyncio.sleep(0, result=done))
            elif product["handle"] in skip:
                done = CopyResult(product["handle"], key, "skipped_unchanged")
                tasks.append(asyncio.sleep(0, result=done))
            else:
                tasks.append(
                    reported(
                        _write_one(
                            provider,
                            template,
                            voice,
                            product["handle"],
                            product_facts_,
                            key,
                            fixes.get(product["handle"]),
                        )
                    )
                )
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    return asyncio.run(run_all())
