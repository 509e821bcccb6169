"""The webhook queue: verified deliveries stored once, then claimed, completed or released.

The receiver writes deliveries with ``enqueue_many`` (one transaction for many requests);
a consumer claims the oldest pending events under a batch id, processes them, and either
completes the batch or releases it so another attempt can claim the events again.
Each event moves ``pending`` → ``claimed`` → ``done`` (or back to ``pending``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from structr_pipeline.store.db import CatalogDB, as_utc, webhook_events

STATUSES: tuple[str, ...] = ("pending", "claimed", "done")

# Rows per INSERT statement: well under SQLite's limit of bound parameters per statement.
_INSERT_CHUNK = 500
_DEADLOCK_ATTEMPTS = 3


@dataclass(frozen=True)
class IncomingDelivery:
    """One verified delivery, as the receiver hands it to the queue."""

    endpoint: str
    delivery_id: str
    topic: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class QueuedEvent:
    """One stored delivery and where it stands in the queue."""

    id: int
    endpoint: str
    delivery_id: str
    topic: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: str
    batch_id: str | None
    attempts: int

    def payload(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class PendingSummary:
    """How many events wait to be claimed, and when the oldest of them arrived."""

    count: int
    oldest_received_at: datetime | None


def _insert(db: CatalogDB):
    if db.dialect == "postgresql":
        return postgresql.insert(webhook_events)
    if db.dialect == "sqlite":
        return sqlite.insert(webhook_events)
    raise ValueError(f"the webhook queue does not support the {db.dialect} dialect")


def enqueue_many(db: CatalogDB, deliveries: list[IncomingDelivery]) -> list[bool]:
    """Store deliveries in one transaction; for each, True if it is new, False if seen before.

    A delivery is identified by (endpoint, delivery id). One already in the table, or
    earlier in the same list, is not stored again. Concurrent writers are safe: the
    insert skips conflicting rows (``ON CONFLICT DO NOTHING``), so the loser of a race
    sees False.
    """
    if not deliveries:
        return []
    now = datetime.now(UTC)
    first_of: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    for index, delivery in enumerate(deliveries):
        key = (delivery.endpoint, delivery.delivery_id)
        if key in first_of:
            continue
        first_of[key] = index
        rows.append(
            {
                "endpoint": delivery.endpoint,
                "delivery_id": delivery.delivery_id,
                "topic": delivery.topic,
                "headers": dict(delivery.headers),
                "body": bytes(delivery.body),
                # SQLite keeps the wall time and drops the offset, so store UTC everywhere.
                "received_at": as_utc(delivery.received_at),
                "status": "pending",
                "attempts": 0,
                "updated_at": now,
            }
        )
    # Every writer inserts in key order, so two transactions inserting the same ids take
    # their locks in the same order and cannot deadlock each other.
    rows.sort(key=lambda row: (row["endpoint"], row["delivery_id"]))
    statement = (
        _insert(db)
        .on_conflict_do_nothing(index_elements=["endpoint", "delivery_id"])
        .returning(webhook_events.c.endpoint, webhook_events.c.delivery_id)
    )
    for attempt in range(1, _DEADLOCK_ATTEMPTS + 1):
        inserted: set[tuple[str, str]] = set()
        try:
            with db.write() as conn:
                for start in range(0, len(rows), _INSERT_CHUNK):
                    result = conn.execute(statement, rows[start : start + _INSERT_CHUNK])
                    inserted.update((row.endpoint, row.delivery_id) for row in result)
            break
        except sa.exc.OperationalError as exc:
            # A deadlock aborts the whole transaction, which is simply run again.
            if attempt == _DEADLOCK_ATTEMPTS or getattr(exc.orig, "pgcode", None) != "40P01":
                raise
    return [
        first_of[(d.endpoint, d.delivery_id)] == i and (d.endpoint, d.delivery_id) in inserted
        for i, d in enumerate(deliveries)
    ]


def enqueue(db: CatalogDB, delivery: IncomingDelivery) -> bool:
    """Store one delivery; True if it is new, False if its id was seen before."""
    return enqueue_many(db, [delivery])[0]


def pending_summary(db: CatalogDB) -> PendingSummary:
    """How many events are pending, and the receive time of the oldest."""
    t = webhook_events
    with db.read() as conn:
        row = conn.execute(
            sa.select(sa.func.count(), sa.func.min(t.c.received_at)).where(t.c.status == "pending")
        ).one()
    return PendingSummary(count=int(row[0]), oldest_received_at=as_utc(row[1]))


def _event(row: sa.Row) -> QueuedEvent:
    return QueuedEvent(
        id=int(row.id),
        endpoint=row.endpoint,
        delivery_id=row.delivery_id,
        topic=row.topic,
        headers=dict(row.headers or {}),
        body=bytes(row.body),
        received_at=as_utc(row.received_at),
        status=row.status,
        batch_id=row.batch_id,
        attempts=int(row.attempts),
    )


def claim_pending(db: CatalogDB, batch_id: str, limit: int) -> list[QueuedEvent]:
    """Claim up to ``limit`` of the oldest pending events for ``batch_id``, oldest first.

    The events become ``claimed`` with the batch id set. Two claimers never get the same
    event: SQLite serializes the writers, PostgreSQL skips rows another claimer has locked
    (``FOR UPDATE SKIP LOCKED``).
    """
    if limit <= 0:
        return []
    t = webhook_events
    oldest = sa.select(t.c.id).where(t.c.status == "pending").order_by(t.c.id).limit(limit)
    if db.dialect == "postgresql":
        oldest = oldest.with_for_update(skip_locked=True)
    with db.write() as conn:
        ids = list(conn.execute(oldest).scalars())
        if not ids:
            return []
        conn.execute(
            t.update()
            .where(t.c.id.in_(ids), t.c.status == "pending")
            .values(status="claimed", batch_id=batch_id, updated_at=datetime.now(UTC))
        )
        return _select_events(conn, t.c.id.in_(ids) & (t.c.batch_id == batch_id))


def _select_events(conn: Connection, condition: sa.ColumnElement[bool]) -> list[QueuedEvent]:
    rows = conn.execute(sa.select(webhook_events).where(condition).order_by(webhook_events.c.id))
    return [_event(row) for row in rows]


def events_for_batch(db: CatalogDB, batch_id: str) -> list[QueuedEvent]:
    """Every event claimed (or completed) under ``batch_id``, oldest first."""
    with db.read() as conn:
        return _select_events(conn, webhook_events.c.batch_id == batch_id)


def complete_batch(db: CatalogDB, batch_id: str) -> int:
    """Mark the batch's claimed events done; returns how many."""
    t = webhook_events
    with db.write() as conn:
        result = conn.execute(
            t.update()
            .where(t.c.batch_id == batch_id, t.c.status == "claimed")
            .values(status="done", updated_at=datetime.now(UTC))
        )
    return int(result.rowcount)


def release_batch(db: CatalogDB, batch_id: str) -> int:
    """Put the batch's claimed events back to pending (one more attempt counted); how many."""
    t = webhook_events
    with db.write() as conn:
        result = conn.execute(
            t.update()
            .where(t.c.batch_id == batch_id, t.c.status == "claimed")
            .values(
                status="pending",
                batch_id=None,
                attempts=t.c.attempts + 1,
                updated_at=datetime.now(UTC),
            )
        )
    return int(result.rowcount)


def reassign_claim(db: CatalogDB, batch_id: str, new_batch_id: str) -> int:
    """Move the claimed events of ``batch_id`` to ``new_batch_id``; returns how many.

    For a consumer that claims under a provisional id before it knows the final one.
    """
    t = webhook_events
    with db.write() as conn:
        result = conn.execute(
            t.update()
            .where(t.c.batch_id == batch_id, t.c.status == "claimed")
            .values(batch_id=new_batch_id, updated_at=datetime.now(UTC))
        )
    return int(result.rowcount)


def claimed_batch_ids(db: CatalogDB) -> list[str]:
    """The batch ids that hold claimed events, sorted."""
    t = webhook_events
    with db.read() as conn:
        rows = conn.execute(
            sa.select(t.c.batch_id)
            .where(t.c.status == "claimed", t.c.batch_id.is_not(None))
            .distinct()
            .order_by(t.c.batch_id)
        )
        return [row[0] for row in rows]


def queue_counts(db: CatalogDB) -> dict[str, int]:
    """How many events are in each status (every status present, zero included)."""
    t = webhook_events
    counts = dict.fromkeys(STATUSES, 0)
    with db.read() as conn:
        for status, count in conn.execute(
            sa.select(t.c.status, sa.func.count()).group_by(t.c.status)
        ):
            counts[status] = int(count)
    return counts
