"""Dagster's own storage on PostgreSQL: the instance of ``deploy/dagster.postgres.yaml``.

A fresh database on the server of ``STRUCTR_TEST_POSTGRES_URL`` holds Dagster's runs and
event logs; the catalog sits in a fresh schema of the same server. A batch runs end to
end against that instance, and a second instance opened from the same file reads the
run, its materializations and the batch's partition back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from structr_pipeline.definitions import build_defs
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.settings import StructrSettings

INSTANCE_FILE = Path(__file__).resolve().parents[1] / "deploy" / "dagster.postgres.yaml"
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "shopify_sample.csv"


@pytest.fixture
def dagster_home(postgres_url, tmp_path, monkeypatch) -> Path:
    """DAGSTER_HOME holding the deploy file, its DAGSTER_PG_* naming a fresh database."""
    server = sa.engine.make_url(postgres_url)
    database = f"structr_dagster_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        server.set(query={}), isolation_level="AUTOCOMMIT", poolclass=sa.NullPool
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    home = tmp_path / "dagster"
    home.mkdir()
    shutil.copy(INSTANCE_FILE, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_USERNAME", server.username or "")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", server.password or "")
    monkeypatch.setenv("DAGSTER_PG_HOST", server.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(server.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_DB", database)
    try:
        yield home
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.slow
def test_a_batch_runs_with_dagster_storage_in_postgresql(dagster_home, postgres_url, tmp_path):
    instance = dg.DagsterInstance.get()
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 8
        assert queue.tag_concurrency_limits == [
            {"key": "structr/source", "value": {"applyLimitPerUniqueValue": True}, "limit": 2}
        ]

        settings = StructrSettings(home=tmp_path / "home", database_url=postgres_url)
        defs = build_defs(settings)
        registered = register_batch(defs.resources["catalog"], instance, SAMPLE)
        batch_id = registered.manifest.batch_id
        run = run_batch(defs, instance, batch_id)
        assert run.success, run.errors + run.check_failures
    finally:
        instance.dispose()

    again = dg.DagsterInstance.get()
    try:
        stored = again.get_run_by_id(run.run_id)
        assert stored is not None and stored.status == dg.DagsterRunStatus.SUCCESS
        assert batch_id in again.get_dynamic_partitions("import_batch")
        records = again.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
        ).records
        materialized = {r.event_log_entry.asset_materialization.asset_key for r in records}
        assert dg.AssetKey("product_bundle") in materialized
        assert dg.AssetKey("generated_copy") in materialized
        latest = again.get_latest_materialization_event(dg.AssetKey("product_bundle"))
        assert latest is not None and latest.run_id == run.run_id
    finally:
        again.dispose()


def _wait_for(condition, seconds: float, what: str, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(1)
    pytest.fail(f"{what} within {seconds:.0f} s; the daemon said:\n{log.read_text()[-3000:]}")


@pytest.mark.slow
def test_the_daemon_runs_a_dropped_file_from_the_queue(dagster_home, postgres_url, tmp_path):
    """The production path: the inbox sensor's tick, the queued run the daemon starts, the
    run in its own process, all stored in PostgreSQL."""
    home = tmp_path / "home"
    (home / "inbox").mkdir(parents=True)
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: structr_pipeline.definitions\n"
        "      attribute: defs\n"
        "      location_name: structr_pipeline\n"
    )
    env = {
        **os.environ,
        "STRUCTR_HOME": str(home),
        "STRUCTR_DATABASE_URL": postgres_url,
        "STRUCTR_LLM_PROVIDER": "offline",
    }
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    instance = dg.DagsterInstance.get()
    try:
        shutil.copy(SAMPLE, home / "inbox" / SAMPLE.name)

        def finished_inbox_run():
            runs = instance.get_runs(filters=dg.RunsFilter(tags={"structr/source": "inbox"}))
            return next((r for r in runs if r.is_finished), None)

        run = _wait_for(finished_inbox_run, 240, "no inbox run finished", log)
        assert run.status == dg.DagsterRunStatus.SUCCESS, log.read_text()[-3000:]
        events = {
            record.event_log_entry.dagster_event_type
            for record in instance.get_records_for_run(run.run_id, limit=10_000).records
        }
        assert {dg.DagsterEventType.RUN_ENQUEUED, dg.DagsterEventType.RUN_STARTING} <= events
        assert dg.DagsterEventType.ASSET_MATERIALIZATION in events

        sensors = {s.name: s for s in instance.all_instigator_state()}
        inbox = sensors["inbox_sensor"]
        ticks = instance.get_ticks(inbox.instigator_origin_id, inbox.selector_id)
        assert any(run.run_id in tick.run_ids for tick in ticks)
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        instance.dispose()
