"""How often each batch was sent back for reprocessing, when it may go again, and when not.

The reprocessing sensor keeps its bounded, spaced attempts here rather than in its
cursor, so they survive a reset of the sensor and show in ``structr batches show``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from structr_pipeline.store.db import CatalogDB, as_utc, reprocess_attempts


@dataclass(frozen=True)
class ReprocessAttempts:
    """The reprocessing history of one batch for one reason."""

    batch_id: str
    reason: str
    attempts: int
    last_attempt_at: datetime
    next_attempt_at: datetime | None
    exhausted: bool
    detail: str


def _attempts(row: sa.Row) -> ReprocessAttempts:
    return ReprocessAttempts(
        batch_id=row.batch_id,
        reason=row.reason,
        attempts=int(row.attempts),
        last_attempt_at=as_utc(row.last_attempt_at),
        next_attempt_at=as_utc(row.next_attempt_at),
        exhausted=bool(row.exhausted),
        detail=row.detail or "",
    )


def attempts_by_batch(db: CatalogDB, reason: str) -> dict[str, ReprocessAttempts]:
    """Every batch's attempts for ``reason``."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(reprocess_attempts).where(reprocess_attempts.c.reason == reason)
        ).all()
    return {row.batch_id: _attempts(row) for row in rows}


def attempts_of(db: CatalogDB, batch_id: str) -> list[ReprocessAttempts]:
    """A batch's attempts, one entry per reason."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(reprocess_attempts)
            .where(reprocess_attempts.c.batch_id == batch_id)
            .order_by(reprocess_attempts.c.reason)
        ).all()
    return [_attempts(row) for row in rows]


def save_attempts(db: CatalogDB, attempts: ReprocessAttempts) -> None:
    """Insert or replace the attempts of one batch and reason."""
    with db.write() as conn:
        conn.execute(
            reprocess_attempts.delete().where(
                reprocess_attempts.c.batch_id == attempts.batch_id,
                reprocess_attempts.c.reason == attempts.reason,
            )
        )
        conn.execute(
            reprocess_attempts.insert().values(
                batch_id=attempts.batch_id,
                reason=attempts.reason,
                attempts=attempts.attempts,
                last_attempt_at=attempts.last_attempt_at,
                next_attempt_at=attempts.next_attempt_at,
                exhausted=attempts.exhausted,
                detail=attempts.detail,
            )
        )


def clear_attempts(db: CatalogDB, batch_id: str, reason: str | None = None) -> int:
    """Forget a batch's attempts (for one reason, or all): it healed, or a person reset it."""
    condition = reprocess_attempts.c.batch_id == batch_id
    if reason is not None:
        condition = sa.and_(condition, reprocess_attempts.c.reason == reason)
    with db.write() as conn:
        return int(conn.execute(reprocess_attempts.delete().where(condition)).rowcount or 0)
