"""The queue sensors: webhook deliveries become batches, and are settled when their run ends.

``webhook_queue_sensor`` drains pending deliveries once there are
``STRUCTR_QUEUE_MAX_EVENTS`` (default 500) of them or the oldest has waited
``STRUCTR_QUEUE_MAX_WAIT_SECONDS`` (default 60). Each group is claimed (not deleted),
written as a JSON Lines batch (every event's topic and payload) to landing, registered,
and its partition and run requested. ``webhook_batch_succeeded`` marks a batch's events
done when a run of it succeeds; ``webhook_batch_failed`` puts them back to pending when
it fails, so a failed run loses nothing. A sensor that dies between claiming and
registering leaves claims no batch owns, and a batch whose run was never launched
leaves claims no run will settle; both are released after ten minutes.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from structr_pipeline.jobs import import_batch_job
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.automation import AutomationPolicyResource
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.sensors.backfills import PARTITION_TAG
from structr_pipeline.store.batches import get_batch, register_file
from structr_pipeline.store.webhook_queue import (
    QueuedEvent,
    claim_pending,
    claimed_batch_ids,
    complete_batch,
    pending_summary,
    reassign_claim,
    release_batch,
)

SOURCE_KIND = "webhook"
# Claims held under a provisional id for longer than this are orphans of a dead tick.
ORPHAN_AFTER = timedelta(minutes=10)
_CLAIM_PREFIX = "claim-"
# At most this many batches per tick, so one tick stays short.
MAX_BATCHES_PER_TICK = 10


def event_line(event: QueuedEvent, contentful_source: str | None) -> dict:
    """One queued delivery as a line of a JSON batch (see ``core.connectors.json_batch``)."""
    try:
        payload = event.payload()
    except (ValueError, UnicodeDecodeError) as exc:
        payload = {"unreadable_body": str(exc)}
    base = {"delivery_id": event.delivery_id, "endpoint": event.endpoint}
    if event.endpoint == "shopify":
        return {**base, "source": "shopify", "topic": event.topic, "payload": payload}
    if event.endpoint == "contentful":
        entry_id = (
            ((payload or {}).get("sys") or {}).get("id") if isinstance(payload, dict) else None
        )
        if event.topic.endswith((".delete", ".unpublish", ".archive")):
            external_id = f"{contentful_source}:{entry_id}" if contentful_source else entry_id
            return {
                **base,
                "source": "record",
                "topic": "product.delete",
                "payload": {"external_id": external_id},
            }
        return {**base, "source": "pim", "item": payload}
    return {**base, "source": "record", "topic": event.topic, "payload": payload}


def write_events(events: list[QueuedEvent], folder: Path, contentful_source: str | None) -> Path:
    """The events as a JSON Lines file, oldest first; the same events give the same bytes."""
    path = folder / "webhook-events.jsonl"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for event in sorted(events, key=lambda e: e.id):
            f.write(json.dumps(event_line(event, contentful_source), sort_keys=True))
            f.write("\n")
    return path


def _release_orphans(
    catalog: CatalogStoreResource, instance: dg.DagsterInstance, now: datetime
) -> int:
    """Put back claims no run will settle: a tick that died before registering its batch,
    or a batch whose run was never launched (no run of its partition, long after)."""
    db = catalog.db()
    released = 0
    for batch_id in claimed_batch_ids(db):
        if batch_id.startswith(_CLAIM_PREFIX):
            stamp = batch_id[len(_CLAIM_PREFIX) :].split("-", 1)[0]
            try:
                claimed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            except ValueError:
                continue
        else:
            try:
                claimed_at = get_batch(db, batch_id).updated_at or now
            except KeyError:
                claimed_at = datetime.min.replace(tzinfo=UTC)
            runs = instance.get_run_records(
                filters=dg.RunsFilter(tags={PARTITION_TAG: batch_id}), limit=1
            )
            if runs:
                continue
        if now - claimed_at > ORPHAN_AFTER:
            released += release_batch(db, batch_id)
    return released


@dg.sensor(
    job=import_batch_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Turn pending webhook deliveries into import batches and request their runs.\n\n "
        "Drains when 500 deliveries wait or the oldest has waited 60 s "
        "(`STRUCTR_QUEUE_MAX_EVENTS`, `STRUCTR_QUEUE_MAX_WAIT_SECONDS`). Deliveries are "
        "claimed, not deleted, and settled by the run-status sensors when the run ends."
    ),
)
def webhook_queue_sensor(
    context: dg.SensorEvaluationContext,
    catalog: CatalogStoreResource,
    automation: AutomationPolicyResource,
):
    """Turn pending webhook deliveries into import batches and request their runs.

    Drains when 500 deliveries wait or the oldest has waited 60 s
    (`STRUCTR_QUEUE_MAX_EVENTS`, `STRUCTR_QUEUE_MAX_WAIT_SECONDS`). Deliveries are
    claimed, not deleted, and settled by the run-status sensors when the run ends.
    """
    policy = automation.queue
    db = catalog.db()
    now = datetime.now(UTC)
    orphans = _release_orphans(catalog, context.instance, now)
    if orphans:
        context.log.warning(f"released {orphans} deliveries claimed by a tick that did not finish")
    summary = pending_summary(db)
    if summary.count == 0:
        return dg.SkipReason("no pending deliveries")
    waited = (now - summary.oldest_received_at).total_seconds() if summary.oldest_received_at else 0
    if summary.count < policy.max_events and waited < policy.max_wait_seconds:
        return dg.SkipReason(
            f"{summary.count} deliveries pending, the oldest for {waited:.0f} s: waiting for "
            f"{policy.max_events} or {policy.max_wait_seconds:.0f} s"
        )
    contentful_source = automation.contentful_pim_source
    requests, batch_ids = [], []
    for _ in range(MAX_BATCHES_PER_TICK):
        claim = f"{_CLAIM_PREFIX}{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        events = claim_pending(db, claim, policy.max_events)
        if not events:
            break
        with tempfile.TemporaryDirectory(prefix="structr-webhooks-") as folder:
            path = write_events(events, Path(folder), contentful_source)
            options = {"pim_source": contentful_source} if contentful_source else {}
            registered = register_file(
                db,
                path,
                source_kind=SOURCE_KIND,
                landing_dir=catalog.settings.landing_dir,
                options=options,
            )
        manifest = registered.manifest
        reassign_claim(db, claim, manifest.batch_id)
        attempt = max(e.attempts for e in events)
        batch_ids.append(manifest.batch_id)
        requests.append(
            dg.RunRequest(
                partition_key=manifest.batch_id,
                run_key=f"webhook-{manifest.sha256}-{attempt}",
                tags={"structr/source": SOURCE_KIND, "structr/events": str(len(events))},
            )
        )
        if len(events) < policy.max_events:
            break
    context.log.info(f"{len(batch_ids)} webhook batches: {', '.join(batch_ids)}")
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[import_batch.build_add_request(batch_ids)],
    )


def _webhook_batch(context: dg.RunStatusSensorContext, catalog: CatalogStoreResource) -> str | None:
    batch_id = context.dagster_run.tags.get(PARTITION_TAG)
    if not batch_id:
        return None
    try:
        manifest = get_batch(catalog.db(), batch_id)
    except KeyError:
        return None
    return batch_id if manifest.source_kind == SOURCE_KIND else None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Mark a webhook batch's deliveries done once a run of the batch succeeded.",
)
def webhook_batch_succeeded(context: dg.RunStatusSensorContext, catalog: CatalogStoreResource):
    """Mark a webhook batch's deliveries done once a run of the batch succeeded."""
    batch_id = _webhook_batch(context, catalog)
    if batch_id is None:
        return dg.SkipReason("not a webhook batch")
    done = complete_batch(catalog.db(), batch_id)
    context.log.info(f"{done} deliveries of {batch_id} done")
    return None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.FAILURE,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Put a webhook batch's deliveries back to pending when a run of the batch failed.",
)
def webhook_batch_failed(context: dg.RunStatusSensorContext, catalog: CatalogStoreResource):
    """Put a webhook batch's deliveries back to pending when a run of the batch failed."""
    batch_id = _webhook_batch(context, catalog)
    if batch_id is None:
        return dg.SkipReason("not a webhook batch")
    released = release_batch(catalog.db(), batch_id)
    context.log.warning(f"{released} deliveries of failed batch {batch_id} are pending again")
    return None
