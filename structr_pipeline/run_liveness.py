"""Runs whose process is gone: found, marked failed, and their batches with them.

A run killed with SIGKILL (or lost with its machine) never writes its own failure: it
stays ``STARTED`` in Dagster and its batch stays where it was, so nothing would retry it
and the staleness sensor would wait on it for ever. Every run that executes steps logs
the process id it runs them in (Dagster's engine event ``Executing steps in process`` or
``Started process for run``); ``structr``'s own runs also carry the host in a tag. A run
still marked in progress whose process no longer exists on this host (or exists but
started after the run did, so the id was reused) is reported failed here, which makes it
an ordinary transient failure for the reprocessing sensor.

Runs started on another host are left to Dagster's run monitoring (``dagster.yaml``),
and so are runs that have not logged a process yet (covered by its start timeout).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from structr_pipeline.sensors.backfills import PARTITION_TAG
from structr_pipeline.store.batches import get_batch, update_batch_status
from structr_pipeline.store.db import CatalogDB

HOST_TAG = "structr/host"
PID_TAG = "structr/pid"

# Runs in these states claim a live process.
_RUNNING = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# Clock skew and /proc's tick granularity between a process's start and its run's start.
_START_SLACK = timedelta(seconds=5)
# Batch statuses a run leaves behind while it works.
_UNFINISHED = {"registered", "processing", "running"}


@dataclass(frozen=True)
class DeadRun:
    """A run found without its process, now marked failed."""

    run_id: str
    batch_id: str | None
    pid: int
    reason: str


def process_tags() -> dict[str, str]:
    """The tags that tell which process on which host runs a run started here."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def _process_state(pid: int) -> tuple[str, datetime] | None:
    """The state letter and start time of a live process, from /proc (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    boot = _boot_time()
    if boot is None:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    started = datetime.fromtimestamp(boot + int(fields[19]) / ticks, UTC)
    return fields[0], started


def process_alive(pid: int, run_started: datetime | None) -> bool:
    """Whether ``pid`` is a live process that may be the one a run started in.

    A zombie (killed, not yet reaped) is not alive, and neither is a process that
    started after the run did: the id was reused by another program.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    state = _process_state(pid)
    if state is None:
        return True
    letter, started = state
    if letter in ("Z", "X"):
        return False
    return run_started is None or started <= run_started + _START_SLACK


def _logged_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process id the run logged when it began executing steps."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data if entry.dagster_event else None
        pid = (data.metadata or {}).get("pid") if data is not None else None
        if pid is not None:
            try:
                return int(pid.value)
            except (TypeError, ValueError):
                continue
    return None


def _run_process(instance: dg.DagsterInstance, record) -> int | None:
    """The process of a run on this host, or None when this host cannot tell."""
    tags = record.dagster_run.tags
    host = tags.get(HOST_TAG)
    if host is not None and host != socket.gethostname():
        return None
    if host is None and type(instance.run_launcher).__name__ != "DefaultRunLauncher":
        return None  # launched elsewhere (a container, a worker): Dagster monitors those
    if PID_TAG in tags:
        try:
            return int(tags[PID_TAG])
        except ValueError:
            return None
    return _logged_pid(instance, record.dagster_run.run_id)


def fail_dead_runs(instance: dg.DagsterInstance, db: CatalogDB | None = None) -> list[DeadRun]:
    """Mark failed every in-progress run whose process is gone; returns those runs.

    With ``db``, each such run's batch, if the run left it unfinished, is marked failed
    with the reason, so ``structr batches`` tells the truth until it is retried.
    """
    dead: list[DeadRun] = []
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=_RUNNING))
    for record in records:
        pid = _run_process(instance, record)
        if pid is None:
            continue
        started = record.start_time or record.create_timestamp.timestamp()
        run_started = datetime.fromtimestamp(started, UTC) if started else None
        if process_alive(pid, run_started):
            continue
        run = record.dagster_run
        reason = (
            f"the process running it (pid {pid} on {socket.gethostname()}) is gone: it was "
            "killed or its machine stopped before the run could finish"
        )
        instance.report_run_failed(run, message=f"Run marked failed: {reason}.")
        batch_id = run.tags.get(PARTITION_TAG)
        if db is not None and batch_id:
            try:
                manifest = get_batch(db, batch_id)
            except KeyError:
                manifest = None
            if manifest is not None and manifest.status in _UNFINISHED:
                update_batch_status(db, batch_id, "failed", error=f"run {run.run_id}: {reason}")
        dead.append(DeadRun(run.run_id, batch_id, pid, reason))
    return dead
