"""Register a file as an import batch and run it through the asset graph in-process.

Used by the `structr` command line and by tests; the run is recorded in the given Dagster
instance, so it shows in the UI like any other run.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from dagster import DagsterEventType

from structr_pipeline.jobs import stage_selection
from structr_pipeline.names import IMPORT_JOB
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.run_liveness import process_tags
from structr_pipeline.store.batches import (
    RegisteredBatch,
    register_file,
    set_batch_options,
    update_batch_status,
)

JOB_NAME = IMPORT_JOB
_PROGRESS_EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}


@dataclass
class BatchRun:
    """The outcome of one in-process run of a batch."""

    batch_id: str
    run_id: str
    success: bool
    errors: list[str] = field(default_factory=list)
    check_failures: list[str] = field(default_factory=list)
    check_warnings: list[str] = field(default_factory=list)


def register_batch(
    catalog: CatalogStoreResource,
    instance: dg.DagsterInstance,
    path: Path,
    *,
    source_kind: str = "shopify_csv",
    options: dict | None = None,
) -> RegisteredBatch:
    """Copy the file to landing, record its manifest and add its `import_batch` partition.

    The same bytes registered twice give the same batch and no second partition; when
    ``options`` are given (a mapping profile, say) they replace the batch's options.
    """
    registered = register_file(
        catalog.db(),
        path,
        source_kind=source_kind,
        landing_dir=catalog.settings.landing_dir,
        options=options,
    )
    batch_id = registered.manifest.batch_id
    if options is not None and not registered.created and registered.manifest.options != options:
        manifest = set_batch_options(catalog.db(), batch_id, options)
        registered = RegisteredBatch(manifest=manifest, created=False)
    if not instance.has_dynamic_partition(import_batch.name, batch_id):
        instance.add_dynamic_partitions(import_batch.name, [batch_id])
    return registered


def _user_message(error) -> str:
    """The message of the exception the step's own code raised, not Dagster's wrapper."""
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    # SerializableErrorInfo prefixes the exception class: keep the sentence only.
    _, sep, rest = message.partition(": ")
    return rest if sep and "." in message.split(":", 1)[0] else message


def step_count(defs: dg.Definitions) -> int:
    """How many steps (assets and checks) one batch run executes."""
    return len(defs.resolve_job_def(JOB_NAME).nodes)


def run_batch(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    batch_id: str,
    on_event: Callable[[dg.EventLogEntry], None] | None = None,
    poll_seconds: float = 0.2,
    console_log_level: str = "WARNING",
    start: str | None = None,
) -> BatchRun:
    """Materialize every stage for one batch in this process, reporting step events.

    The batch's status in the catalog database is set to `failed` (with the first error)
    when the run fails; the bundle stage sets `completed` itself. Dagster's console log
    shows ``console_log_level`` and above; the run's full event log is in the instance.
    ``start`` (a key of ``jobs.START_ASSETS``) runs only that stage and those below it.
    """
    job = defs.resolve_job_def(JOB_NAME)
    selection = (
        sorted(stage_selection(start).resolve(defs.resolve_asset_graph()))
        if start is not None
        else None
    )
    run_id = str(uuid.uuid4())
    done = threading.Event()

    def watch() -> None:
        cursor = None
        while True:
            finished = done.is_set()
            if instance.has_run(run_id):
                conn = instance.get_records_for_run(run_id, cursor=cursor, of_type=_PROGRESS_EVENTS)
                cursor = conn.cursor
                for record in conn.records:
                    on_event(record.event_log_entry)
            if finished:
                return
            done.wait(poll_seconds)

    watcher = None
    if on_event is not None:
        watcher = threading.Thread(target=watch, name=f"structr-progress-{batch_id}", daemon=True)
        watcher.start()
    try:
        result = job.execute_in_process(
            instance=instance,
            partition_key=batch_id,
            asset_selection=selection,
            raise_on_error=False,
            run_id=run_id,
            tags=process_tags(),
            run_config={"loggers": {"console": {"config": {"log_level": console_log_level}}}},
        )
    finally:
        done.set()
        if watcher is not None:
            watcher.join()
    errors = [
        _user_message(event.event_specific_data.error)
        for event in result.all_events
        if event.event_type == DagsterEventType.STEP_FAILURE
    ]
    check_failures: list[str] = []
    check_warnings: list[str] = []
    for evaluation in result.get_asset_check_evaluations():
        if evaluation.passed:
            continue
        text = f"{evaluation.check_name}: {evaluation.description or evaluation.metadata}"
        if evaluation.severity == dg.AssetCheckSeverity.WARN:
            check_warnings.append(text)
        else:
            check_failures.append(text)
    run = BatchRun(
        batch_id=batch_id,
        run_id=run_id,
        success=result.success and not check_failures,
        errors=errors,
        check_failures=check_failures,
        check_warnings=check_warnings,
    )
    if not run.success:
        catalog = defs.resources["catalog"]
        first = (errors or check_failures or ["run failed"])[0]
        update_batch_status(catalog.db(), batch_id, "failed", error=first)
    return run
