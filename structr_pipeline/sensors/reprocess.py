"""The reprocessing sensor: failed items and failed batches come back as backfills by themselves.

Two kinds of work are retried, each as a backfill of only the assets that need it:

- batches with failed items (products the LLM could not write copy for): from
  ``generated_copy`` downward;
- batches whose last run failed for a transient reason: every stage, from
  ``source_rows``. A step says so itself: its failure carries ``transient: True`` in
  its metadata (``assets.failures``: a database, network or provider error). Two
  failures Dagster reports without any step's word count as transient too: a run that
  stopped without a step failing (its process died; a run still marked in progress
  whose process is gone is marked failed first, ``run_liveness``), and a step
  interrupted while it ran.

A failure caused by the data itself (an unreadable file, a missing profile, a blocking
check) carries no such mark and is not retried: it needs a person. Each batch gets at
most ``STRUCTR_REPROCESS_MAX_ATTEMPTS`` (default 3) attempts per kind, spaced
``STRUCTR_REPROCESS_BACKOFF_SECONDS`` (default 300) × 2^(attempt − 1) apart; what
exceeds the bound is reported on the ``reprocessing_report`` asset, not retried.
``structr batches reprocess`` resets the count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg

from structr_pipeline.failures import failed_transiently
from structr_pipeline.jobs import IMPORT_GROUP
from structr_pipeline.metadata import md_table
from structr_pipeline.resources.automation import AutomationPolicyResource
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.run_liveness import fail_dead_runs
from structr_pipeline.sensors.backfills import (
    PARTITION_TAG,
    assets_from,
    backfill_request,
    known_batches,
    partitions_in_progress,
)
from structr_pipeline.store.reprocessing import (
    ReprocessAttempts,
    attempts_by_batch,
    clear_attempts,
    save_attempts,
)
from structr_pipeline.store.stages import batches_with_failed_items

FAILED_ITEMS = "failed_items"
FAILED_RUN = "failed_run"
REPORT_ASSET = dg.AssetKey("reprocessing_report")

reprocessing_report = dg.AssetSpec(
    REPORT_ASSET,
    group_name="operations",
    description=(
        "Batches the reprocessing sensor gave up on: each one's reason (failed items or a "
        "failed run), attempts made and the last error. Updated by the sensor whenever a "
        "batch exceeds its attempts; `structr batches reprocess BATCH` starts it again."
    ),
)


def _interrupted(entry: dg.EventLogEntry) -> bool:
    """Whether Dagster stopped the step while it ran (its run was terminated from outside)."""
    # Dagster does not export its ErrorSource enum; the member's name is what it stores.
    return entry.dagster_event.step_failure_data.error_source.name == "INTERRUPT"


def _failure_detail(entry: dg.EventLogEntry) -> str:
    """The step and the innermost error of a step failure: what the step's code raised."""
    error = entry.dagster_event.step_failure_data.error
    while error.cause is not None:
        error = error.cause
    return f"{entry.step_key}: {error.cls_name}: {error.message.strip()[:300]}"


def run_failure_reason(instance: dg.DagsterInstance, run_id: str) -> tuple[bool, str]:
    """Whether a failed run is worth retrying, and the error that failed it."""
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    if not failures:
        return True, "the run stopped without a step failing (the process died or was stopped)"
    for entry in failures:
        if failed_transiently(entry) or _interrupted(entry):
            return True, _failure_detail(entry)
    return False, _failure_detail(failures[0])


def failed_batches(instance: dg.DagsterInstance, batches: set[str]) -> dict[str, str]:
    """Batch partitions whose latest run failed for a transient reason → that reason."""
    since = datetime.now(UTC) - timedelta(days=7)
    recent = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=since),
        limit=500,
    )
    candidates = {r.dagster_run.tags.get(PARTITION_TAG) for r in recent} & batches
    found = {}
    for key in sorted(candidates):
        latest = instance.get_run_records(filters=dg.RunsFilter(tags={PARTITION_TAG: key}), limit=1)
        if not latest or latest[0].dagster_run.status != dg.DagsterRunStatus.FAILURE:
            continue
        retryable, reason = run_failure_reason(instance, latest[0].dagster_run.run_id)
        if retryable:
            found[key] = reason
    return found


@dg.sensor(
    asset_selection=dg.AssetSelection.groups(IMPORT_GROUP),
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Backfill batches with failed items (from generation) or a transiently failed "
        "run.\n\nAt most 3 attempts per batch and kind, spaced 5, 10, 20 minutes apart by "
        "default (`STRUCTR_REPROCESS_MAX_ATTEMPTS`, `STRUCTR_REPROCESS_BACKOFF_SECONDS`); "
        "batches over the bound are listed on the `reprocessing_report` asset instead of "
        "retried."
    ),
)
def reprocess_sensor(
    context: dg.SensorEvaluationContext,
    catalog: CatalogStoreResource,
    automation: AutomationPolicyResource,
):
    """Backfill batches with failed items (from generation) or a transiently failed run.

    At most 3 attempts per batch and kind, spaced 5, 10, 20 minutes apart by default
    (`STRUCTR_REPROCESS_MAX_ATTEMPTS`, `STRUCTR_REPROCESS_BACKOFF_SECONDS`); batches over
    the bound are listed on the `reprocessing_report` asset instead of retried.
    """
    policy = automation.retry
    db = catalog.db()
    for dead in fail_dead_runs(context.instance, db):
        context.log.warning(f"run {dead.run_id} (batch {dead.batch_id}) failed: {dead.reason}")
    now = datetime.now(UTC)
    batches = known_batches(context.instance)
    busy = partitions_in_progress(context.instance)
    wanted = {
        FAILED_ITEMS: {
            b: f"{n} failed items"
            for b, n in batches_with_failed_items(db, "generation").items()
            if b in batches
        },
        FAILED_RUN: failed_batches(context.instance, batches),
    }
    start = {FAILED_ITEMS: "generation", FAILED_RUN: "ingestion"}
    requests = []
    newly_exhausted = []
    for kind, found in wanted.items():
        history = attempts_by_batch(db, kind)
        for batch_id, state in history.items():
            if batch_id not in found and not state.exhausted:
                clear_attempts(db, batch_id, kind)
        due = []
        for batch_id, detail in sorted(found.items()):
            state = history.get(batch_id)
            if batch_id in busy or (state and state.exhausted):
                continue
            if state and state.next_attempt_at and now < state.next_attempt_at:
                continue
            made = state.attempts if state else 0
            if made >= policy.max_attempts:
                save_attempts(
                    db,
                    ReprocessAttempts(batch_id, kind, made, now, None, True, detail),
                )
                newly_exhausted.append((batch_id, kind, made, detail))
                continue
            save_attempts(
                db,
                ReprocessAttempts(
                    batch_id, kind, made + 1, now, now + policy.spacing(made + 1), False, detail
                ),
            )
            due.append(batch_id)
        if due:
            context.log.info(f"reprocessing {len(due)} batches ({kind}): {', '.join(due)}")
            requests.append(
                backfill_request(
                    context,
                    assets_from(context, start[kind]),
                    due,
                    {"structr/reprocess": kind},
                )
            )
    events = []
    if newly_exhausted:
        exhausted = [
            (s.batch_id, kind, s.attempts, s.detail)
            for kind in (FAILED_ITEMS, FAILED_RUN)
            for s in attempts_by_batch(db, kind).values()
            if s.exhausted
        ]
        events.append(
            dg.AssetMaterialization(
                asset_key=REPORT_ASSET,
                description=f"{len(exhausted)} batches need a person",
                metadata={
                    "batches_given_up": len(exhausted),
                    "newly_given_up": ", ".join(b for b, *_ in newly_exhausted),
                    "batches": dg.MetadataValue.md(
                        md_table(["batch", "reason", "attempts", "last error"], exhausted)
                    ),
                },
            )
        )
    if not requests and not events:
        return dg.SkipReason("nothing to reprocess")
    return dg.SensorResult(run_requests=requests, asset_events=events)
