"""The reprocessing sensor retries a run because its failed step said it was transient.

The failure is real: another writer holds the catalog database's SQLite write lock while
the batch runs, so the first stage that writes waits out the busy timeout and fails with
"database is locked". The lock is let go as soon as the step failure is logged. A step
Dagster interrupted is retried without a mark; a plain error is not.
"""

from __future__ import annotations

import sqlite3

import dagster as dg
import pytest

import structr_pipeline.store.db as db_module
from structr_pipeline.definitions import build_defs
from structr_pipeline.failures import TRANSIENT, failed_transiently
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.sensors.reprocess import FAILED_RUN, reprocess_sensor, run_failure_reason
from structr_pipeline.store.reprocessing import attempts_by_batch
from structr_pipeline_tests.sensors.test_reprocess_and_staleness import (
    import_sample,
    requested,
    tick,
)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch) -> None:
    """Wait 1 s, not 30, for a locked database (engines made from here on)."""
    monkeypatch.setattr(db_module, "_SQLITE_BUSY_TIMEOUT", 1)


def run_while_locked(defs, instance, batch_id, database):
    """Run the batch while another connection holds the write lock, released at a failure."""
    holder = sqlite3.connect(database, timeout=0, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")

    def release(entry: dg.EventLogEntry) -> None:
        if entry.dagster_event.is_step_failure and holder.in_transaction:
            holder.execute("ROLLBACK")

    try:
        return run_batch(defs, instance, batch_id, on_event=release)
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def step_failures(instance, run_id) -> list[dg.EventLogEntry]:
    return instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)


def test_a_locked_database_fails_transiently_and_is_retried(
    settings, instance, sample_csv, tmp_path
) -> None:
    defs = build_defs(settings)
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, sample_csv).manifest.batch_id
    run = run_while_locked(defs, instance, batch_id, settings.home / "catalog.db")
    assert not run.success
    assert any("database is locked" in e for e in run.errors)
    (failure,) = step_failures(instance, run.run_id)
    assert failed_transiently(failure)
    metadata = failure.dagster_event.step_failure_data.user_failure_data.metadata
    assert metadata[TRANSIENT].value is True
    assert metadata["error"].value == "sqlalchemy.exc.OperationalError"

    bad = tmp_path / "notes.csv"
    bad.write_text("Name,Price\nshirt,10\n", encoding="utf-8")
    bad_id, bad_run = import_sample(defs, instance, bad)
    assert not bad_run.success  # a data problem: no handle or SKU column
    assert step_failures(instance, bad_run.run_id)
    assert not any(failed_transiently(f) for f in step_failures(instance, bad_run.run_id))
    assert run_failure_reason(instance, bad_run.run_id)[0] is False

    result = tick(reprocess_sensor, defs, instance)
    ((assets, partitions),) = requested(result)
    assert partitions == {batch_id}  # the data problem is left for a person
    assert "source_rows" in assets and "product_bundle" in assets
    assert result.run_requests[0].tags["structr/reprocess"] == FAILED_RUN
    detail = attempts_by_batch(catalog.db(), FAILED_RUN)[batch_id].detail
    assert "OperationalError" in detail and "database is locked" in detail
    assert bad_id not in attempts_by_batch(catalog.db(), FAILED_RUN)

    healed = run_batch(defs, instance, batch_id)  # the backfill, once the lock is gone
    assert healed.success, healed.errors + healed.check_failures
    assert not tick(reprocess_sensor, defs, instance).run_requests


def test_a_step_dagster_interrupted_counts_as_transient(instance) -> None:
    @dg.asset
    def stopped() -> None:
        """Stopped from outside while it ran."""
        raise dg.DagsterExecutionInterruptedError()

    @dg.asset
    def broken() -> None:
        """Fails by a mistake no retry fixes."""
        raise ValueError("no handle or SKU column")

    with pytest.raises(dg.DagsterExecutionInterruptedError):
        dg.materialize([stopped], instance=instance)
    (interrupted_run,) = instance.get_runs()
    (failure,) = step_failures(instance, interrupted_run.run_id)  # a step failed, unmarked
    assert not failed_transiently(failure)
    assert run_failure_reason(instance, interrupted_run.run_id)[0] is True

    failed = dg.materialize([broken], instance=instance, raise_on_error=False)
    retryable, reason = run_failure_reason(instance, failed.run_id)
    assert retryable is False and "ValueError" in reason
