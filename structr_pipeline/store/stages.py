"""Per-batch stage records and failed items.

Each stage of a batch records what it last produced and with which versions (prompt,
model, mapping profile), and the items it could not process with their reasons. The
reprocessing and staleness sensors, and ``structr batches show``, read them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from structr_pipeline.store.db import CatalogDB, as_utc, batch_stages, failed_items


@dataclass(frozen=True)
class StageRecord:
    """What one stage of one batch last produced."""

    batch_id: str
    stage: str
    produced_with: dict[str, Any]
    counts: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True)
class FailedItem:
    """One item a stage could not process, and why."""

    item: str
    reason: str
    attempts: int
    retryable: bool = True


def record_stage(
    db: CatalogDB,
    batch_id: str,
    stage: str,
    *,
    produced_with: dict[str, Any] | None = None,
    counts: dict[str, Any] | None = None,
) -> None:
    """Record (or replace) what ``stage`` produced for ``batch_id``."""
    row = {
        "batch_id": batch_id,
        "stage": stage,
        "produced_with": dict(produced_with or {}),
        "counts": dict(counts or {}),
        "updated_at": datetime.now(UTC),
    }
    with db.write() as conn:
        conn.execute(
            batch_stages.delete().where(
                batch_stages.c.batch_id == batch_id, batch_stages.c.stage == stage
            )
        )
        conn.execute(batch_stages.insert().values(**row))


def _stage(row: sa.Row) -> StageRecord:
    return StageRecord(
        batch_id=row.batch_id,
        stage=row.stage,
        produced_with=dict(row.produced_with or {}),
        counts=dict(row.counts or {}),
        updated_at=as_utc(row.updated_at),
    )


def stages_of(db: CatalogDB, batch_id: str) -> dict[str, StageRecord]:
    """Every stage recorded for a batch, by stage name."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(batch_stages).where(batch_stages.c.batch_id == batch_id)
        ).all()
    return {row.stage: _stage(row) for row in rows}


def stage_records(db: CatalogDB, stage: str) -> dict[str, StageRecord]:
    """The record of ``stage`` for every batch that has one, by batch id."""
    with db.read() as conn:
        rows = conn.execute(sa.select(batch_stages).where(batch_stages.c.stage == stage)).all()
    return {row.batch_id: _stage(row) for row in rows}


def replace_failed_items(
    db: CatalogDB, batch_id: str, stage: str, items: Iterable[FailedItem]
) -> int:
    """Make ``items`` the failed items of this batch and stage (a run replaces the last)."""
    now = datetime.now(UTC)
    rows = [
        {
            "batch_id": batch_id,
            "stage": stage,
            "item": i.item,
            "reason": i.reason,
            "attempts": int(i.attempts),
            "retryable": bool(i.retryable),
            "recorded_at": now,
        }
        for i in {i.item: i for i in items}.values()
    ]
    with db.write() as conn:
        conn.execute(
            failed_items.delete().where(
                failed_items.c.batch_id == batch_id, failed_items.c.stage == stage
            )
        )
        if rows:
            conn.execute(failed_items.insert(), rows)
    return len(rows)


def failed_items_of(db: CatalogDB, batch_id: str) -> dict[str, list[FailedItem]]:
    """A batch's failed items by stage, in item order."""
    with db.read() as conn:
        rows = conn.execute(
            sa.select(failed_items)
            .where(failed_items.c.batch_id == batch_id)
            .order_by(failed_items.c.stage, failed_items.c.item)
        ).all()
    out: dict[str, list[FailedItem]] = {}
    for row in rows:
        out.setdefault(row.stage, []).append(
            FailedItem(row.item, row.reason, int(row.attempts), bool(row.retryable))
        )
    return out


def batches_with_failed_items(db: CatalogDB, stage: str) -> dict[str, int]:
    """Batches with retryable failed items in ``stage``, and how many each has."""
    query = (
        sa.select(failed_items.c.batch_id, sa.func.count())
        .where(failed_items.c.stage == stage, failed_items.c.retryable.is_(True))
        .group_by(failed_items.c.batch_id)
    )
    with db.read() as conn:
        return {batch_id: int(n) for batch_id, n in conn.execute(query)}
