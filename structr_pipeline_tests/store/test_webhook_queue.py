"""The webhook queue on SQLite and PostgreSQL: stored once, claimed, completed, released."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta, timezone

import sqlalchemy as sa

from structr_pipeline.store.db import webhook_events
from structr_pipeline.store.webhook_queue import (
    IncomingDelivery,
    claim_pending,
    claimed_batch_ids,
    complete_batch,
    enqueue,
    enqueue_many,
    events_for_batch,
    pending_summary,
    queue_counts,
    reassign_claim,
    release_batch,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def delivery(n: int, endpoint: str = "shopify", **changes) -> IncomingDelivery:
    """Delivery ``wh-<n>``, received ``n`` seconds after T0."""
    fields = {
        "endpoint": endpoint,
        "delivery_id": f"wh-{n:05d}",
        "topic": "products/update",
        "headers": {"x-shopify-topic": "products/update", "x-shopify-shop-domain": "a.test"},
        "body": json.dumps({"id": n, "title": f"Product {n}"}).encode(),
        "received_at": T0 + timedelta(seconds=n),
    }
    fields.update(changes)
    return IncomingDelivery(**fields)


def row_count(db) -> int:
    """Rows in the queue table, whatever their status."""
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar_one()


def test_new_deliveries_are_stored_and_duplicates_are_not(db) -> None:
    assert enqueue_many(db, []) == []
    assert enqueue(db, delivery(1)) is True
    assert enqueue(db, delivery(1, body=b'{"other": true}')) is False
    # Seen before, new, repeated within the same call, and the same id on another endpoint.
    assert enqueue_many(db, [delivery(1), delivery(2), delivery(2), delivery(1, "generic")]) == [
        False,
        True,
        False,
        True,
    ]
    assert row_count(db) == 3
    assert queue_counts(db) == {"pending": 3, "claimed": 0, "done": 0}


def test_a_stored_event_reads_back_as_it_came(db) -> None:
    body = '{"id": 7, "title": "Crème brûlée"}'.encode()
    received = datetime(2024, 5, 1, 14, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    enqueue(db, delivery(7, body=body, received_at=received))
    (event,) = claim_pending(db, "batch-a", 10)
    assert event.endpoint == "shopify"
    assert event.delivery_id == "wh-00007"
    assert event.topic == "products/update"
    assert event.headers == {
        "x-shopify-topic": "products/update",
        "x-shopify-shop-domain": "a.test",
    }
    assert event.body == body
    assert event.payload() == {"id": 7, "title": "Crème brûlée"}
    assert event.received_at == received
    assert event.received_at.tzinfo is not None
    assert (event.status, event.batch_id, event.attempts) == ("claimed", "batch-a", 0)


def test_pending_summary(db) -> None:
    assert pending_summary(db).count == 0
    assert pending_summary(db).oldest_received_at is None
    enqueue_many(db, [delivery(5), delivery(3), delivery(9)])
    summary = pending_summary(db)
    assert summary.count == 3
    assert summary.oldest_received_at == T0 + timedelta(seconds=3)
    claim_pending(db, "b", 2)
    assert pending_summary(db).count == 1
    assert pending_summary(db).oldest_received_at == T0 + timedelta(seconds=9)


def test_claim_complete_release_cycle(db) -> None:
    enqueue_many(db, [delivery(n) for n in range(1, 6)])

    first = claim_pending(db, "batch-1", 2)
    assert [e.delivery_id for e in first] == ["wh-00001", "wh-00002"]
    second = claim_pending(db, "batch-2", 2)
    assert [e.delivery_id for e in second] == ["wh-00003", "wh-00004"]
    assert claimed_batch_ids(db) == ["batch-1", "batch-2"]
    assert queue_counts(db) == {"pending": 1, "claimed": 4, "done": 0}
    assert [e.delivery_id for e in events_for_batch(db, "batch-1")] == ["wh-00001", "wh-00002"]

    assert complete_batch(db, "batch-1") == 2
    assert complete_batch(db, "batch-1") == 0
    assert [e.status for e in events_for_batch(db, "batch-1")] == ["done", "done"]

    assert release_batch(db, "batch-2") == 2
    assert release_batch(db, "batch-2") == 0
    assert events_for_batch(db, "batch-2") == []
    assert claimed_batch_ids(db) == []
    assert queue_counts(db) == {"pending": 3, "claimed": 0, "done": 2}

    # Released events are claimed again first (they are the oldest), one attempt later.
    again = claim_pending(db, "batch-3", 10)
    assert [(e.delivery_id, e.attempts) for e in again] == [
        ("wh-00003", 1),
        ("wh-00004", 1),
        ("wh-00005", 0),
    ]
    assert claim_pending(db, "batch-4", 10) == []
    assert complete_batch(db, "batch-3") == 3
    assert queue_counts(db) == {"pending": 0, "claimed": 0, "done": 5}
    assert complete_batch(db, "no-such-batch") == release_batch(db, "no-such-batch") == 0
    assert claim_pending(db, "batch-5", 0) == []


def test_a_claim_moves_to_another_batch_id(db) -> None:
    enqueue_many(db, [delivery(n) for n in range(3)])
    claim_pending(db, "claim-provisional", 2)
    assert reassign_claim(db, "claim-provisional", "webhook-20240501T120000-ab12cd34") == 2
    assert events_for_batch(db, "claim-provisional") == []
    moved = events_for_batch(db, "webhook-20240501T120000-ab12cd34")
    assert [(e.delivery_id, e.status) for e in moved] == [
        ("wh-00000", "claimed"),
        ("wh-00001", "claimed"),
    ]
    assert claimed_batch_ids(db) == ["webhook-20240501T120000-ab12cd34"]
    assert reassign_claim(db, "claim-provisional", "elsewhere") == 0
    complete_batch(db, "webhook-20240501T120000-ab12cd34")
    assert reassign_claim(db, "webhook-20240501T120000-ab12cd34", "elsewhere") == 0


def test_a_done_event_is_still_a_duplicate(db) -> None:
    enqueue(db, delivery(1))
    claim_pending(db, "b", 1)
    complete_batch(db, "b")
    assert enqueue(db, delivery(1)) is False
    assert queue_counts(db) == {"pending": 0, "claimed": 0, "done": 1}


def test_concurrent_claimers_never_claim_the_same_event(db) -> None:
    total = 400
    enqueue_many(db, [delivery(n) for n in range(total)])
    claimers = 6
    start = threading.Barrier(claimers)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def claimer(k: int) -> None:
        try:
            start.wait()
            round_ = 0
            while True:
                batch_id = f"claimer-{k}-{round_}"
                events = claim_pending(db, batch_id, 7)
                if not events:
                    return
                assert all(e.batch_id == batch_id and e.status == "claimed" for e in events)
                claimed[batch_id] = [e.id for e in events]
                round_ += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(k,)) for k in range(claimers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    ids = [i for batch in claimed.values() for i in batch]
    assert len(ids) == total
    assert len(set(ids)) == total
    assert sorted(claimed_batch_ids(db)) == sorted(claimed)
    for batch_id, batch_ids in claimed.items():
        assert [e.id for e in events_for_batch(db, batch_id)] == batch_ids


def test_concurrent_writers_store_each_delivery_once(db) -> None:
    deliveries = [delivery(n) for n in range(150)]
    writers = 4
    start = threading.Barrier(writers)
    outcomes: list[list[tuple[str, bool]]] = []
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        mine = deliveries[:]
        random.Random(k).shuffle(mine)
        try:
            start.wait()
            for i in range(0, len(mine), 30):
                chunk = mine[i : i + 30]
                new = enqueue_many(db, chunk)
                outcomes.append([(d.delivery_id, n) for d, n in zip(chunk, new, strict=True)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    firsts: dict[str, int] = {}
    for chunk in outcomes:
        for delivery_id, new in chunk:
            firsts[delivery_id] = firsts.get(delivery_id, 0) + int(new)
    assert firsts == {d.delivery_id: 1 for d in deliveries}
    assert row_count(db) == len(deliveries)
