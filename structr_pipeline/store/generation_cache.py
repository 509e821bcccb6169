"""The generation cache: product copy already written, keyed by the hash of its inputs."""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from structr_pipeline.core.generation.prompts import BrandVoice, PromptTemplate
from structr_pipeline.core.generation.providers import ChatProvider
from structr_pipeline.core.generation.writer import CopyResult, write_copy
from structr_pipeline.store.db import CatalogDB, generation_cache

_IN_CHUNK = 900


@dataclass(frozen=True)
class CachedCopy:
    """One cached result: the copy, the guard's flags and what it cost to make."""

    cache_key: str
    provider: str
    model: str
    prompt_version: str
    copy: dict[str, Any]
    flags: list[dict[str, Any]]
    prompt_tokens: int = 0
    completion_tokens: int = 0


def get_cached(db: CatalogDB, keys: Iterable[str]) -> dict[str, CachedCopy]:
    """The cached results for those keys that have one."""
    wanted = sorted(set(keys))
    found: dict[str, CachedCopy] = {}
    with db.read() as conn:
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            rows = conn.execute(
                sa.select(generation_cache).where(generation_cache.c.cache_key.in_(chunk))
            )
            for row in rows:
                found[row.cache_key] = CachedCopy(
                    cache_key=row.cache_key,
                    provider=row.provider,
                    model=row.model,
                    prompt_version=row.prompt_version,
                    copy=dict(row.copy),
                    flags=list(row.flags),
                    prompt_tokens=int(row.prompt_tokens),
                    completion_tokens=int(row.completion_tokens),
                )
    return found


def put_cached(db: CatalogDB, entries: Iterable[CachedCopy]) -> int:
    """Store results (a key already there is left as it is); returns how many were given."""
    now = datetime.now(UTC)
    rows = [
        {
            "cache_key": e.cache_key,
            "provider": e.provider,
            "model": e.model,
            "prompt_version": e.prompt_version,
            "copy": e.copy,
            "flags": e.flags,
            "prompt_tokens": e.prompt_tokens,
            "completion_tokens": e.completion_tokens,
            "created_at": now,
        }
        for e in entries
    ]
    if not rows:
        return 0
    insert = postgresql.insert if db.dialect == "postgresql" else sqlite.insert
    stmt = insert(generation_cache).on_conflict_do_nothing(index_elements=["cache_key"])
    with db.write() as conn:
        conn.execute(stmt, rows)
    return len(rows)


class CacheWriter:
    """Stores results in the generation cache as they arrive, a few at a time.

    A result waits at most ``max_wait_seconds`` (or until ``max_pending`` are waiting)
    before it is written, so a process killed in the middle of a generation step loses
    at most that much paid work; :meth:`flush` writes what is left.
    """

    def __init__(self, db: CatalogDB, max_pending: int = 5000, max_wait_seconds: float = 1.0):
        self.db = db
        self.max_pending = max_pending
        self.max_wait_seconds = max_wait_seconds
        self.written = 0
        self._pending: list[CachedCopy] = []
        self._since = time.monotonic()

    def add(self, entry: CachedCopy) -> None:
        """Queue one result; writes the queue when it is full or has waited long enough."""
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append(entry)
        waited = time.monotonic() - self._since
        if len(self._pending) >= self.max_pending or waited >= self.max_wait_seconds:
            self.flush()

    def flush(self) -> None:
        """Write every queued result."""
        if self._pending:
            pending, self._pending = self._pending, []
            self.written += put_cached(self.db, pending)


def write_cached_copy(
    db: CatalogDB,
    products: list[dict],
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    *,
    skip: Collection[str] = frozenset(),
    fix_feedback: Mapping[str, str] | None = None,
    workers: int = 1,
) -> list[CopyResult]:
    """``write_copy`` with the catalog database's generation cache: hits are read from it,
    and copy written now is stored in it as each answer arrives (``CacheWriter``), so a
    step that dies half-way has paid only once for what it finished. ``workers`` is
    passed on to ``write_copy``."""

    def cached(keys: list[str]) -> dict:
        return {k: (c.copy, c.flags) for k, c in get_cached(db, keys).items()}

    # A model's answer is paid for: each is stored as it arrives. Offline copy costs
    # nothing to make again, so it is stored in large batches.
    writer = CacheWriter(db, max_pending=5000 if provider.name == "offline" else 1)

    def keep(result: CopyResult) -> None:
        if result.status == "generated" and result.copy is not None:
            writer.add(
                CachedCopy(
                    result.cache_key,
                    provider.name,
                    provider.model,
                    template.prompt_version,
                    result.copy,
                    result.flags,
                    result.usage.prompt_tokens,
                    result.usage.completion_tokens,
                )
            )

    try:
        return write_copy(
            products,
            provider,
            template,
            voice,
            cached,
            skip=skip,
            fix_feedback=fix_feedback,
            on_result=keep,
            workers=workers,
        )
    finally:
        writer.flush()
