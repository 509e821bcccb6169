"""Runs left `STARTED` by a process that is gone are found and failed; live ones are not."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg

from structr_pipeline.run_liveness import HOST_TAG, PID_TAG, fail_dead_runs, process_alive
from structr_pipeline.sensors.backfills import PARTITION_TAG


def finished_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def started_run(instance: dg.DagsterInstance, pid: int, host: str | None = None) -> dg.DagsterRun:
    run = dg.DagsterRun(
        job_name="import_batch_job",
        run_id=str(uuid.uuid4()),
        status=dg.DagsterRunStatus.STARTED,
        tags={
            HOST_TAG: host or socket.gethostname(),
            PID_TAG: str(pid),
            PARTITION_TAG: "csv-batch-1",
        },
    )
    return instance.add_run(run)


def test_a_process_is_alive_only_while_it_runs_and_only_if_it_is_the_same() -> None:
    now = datetime.now(UTC)
    assert process_alive(os.getpid(), now)
    assert not process_alive(finished_pid(), now)
    # A live process that started after the run did holds a reused id.
    assert not process_alive(os.getpid(), now - timedelta(days=365))

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with open(f"/proc/{zombie.pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.01)
        later = datetime.now(UTC) + timedelta(minutes=1)  # only its state can say "gone"
        assert not process_alive(zombie.pid, later)  # killed or ended, not yet reaped
    finally:
        zombie.wait()


def test_only_runs_whose_process_is_gone_are_failed(instance) -> None:
    dead = started_run(instance, finished_pid())
    alive = started_run(instance, os.getpid())
    elsewhere = started_run(instance, finished_pid(), host="another-host")

    found = fail_dead_runs(instance)
    assert [d.run_id for d in found] == [dead.run_id]
    assert found[0].batch_id == "csv-batch-1"
    assert "is gone" in found[0].reason

    status = {r.run_id: r.status for r in instance.get_runs()}
    assert status[dead.run_id] == dg.DagsterRunStatus.FAILURE
    assert status[alive.run_id] == dg.DagsterRunStatus.STARTED
    assert status[elsewhere.run_id] == dg.DagsterRunStatus.STARTED  # Dagster's monitoring
    assert fail_dead_runs(instance) == []
