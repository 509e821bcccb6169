"""`structr import` killed with SIGKILL at every step boundary and inside the LLM and upsert
steps, then healed by the sensors alone: the catalog ends as an uninterrupted run left it.

Each scenario runs the real command in its own process against a real Dagster instance
(SQLite) and a real chat-completions server on 127.0.0.1, watches the run's event log
from here, and kills the process at the chosen point. Recovery is what the daemon does:
the reprocessing sensor's tick finds the dead run, marks it and its batch failed and
requests a backfill, which is then executed as requested.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from structr_pipeline.definitions import build_defs
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.run_liveness import fail_dead_runs
from structr_pipeline.runner import run_batch
from structr_pipeline.sensors.reprocess import FAILED_RUN, reprocess_sensor
from structr_pipeline.settings import StructrSettings
from structr_pipeline.store.batches import list_batches
from structr_pipeline.store.catalog import read_catalog
from structr_pipeline.store.db import CatalogDB, generation_cache
from structr_pipeline_tests.chat_server import ChatServer, good

pytestmark = pytest.mark.slow

PRODUCTS = 40
HEADER = [
    "Handle",
    "Title",
    "Body (HTML)",
    "Vendor",
    "Type",
    "Tags",
    "Option1 Name",
    "Option1 Value",
    "Variant SKU",
    "Variant Grams",
    "Variant Inventory Qty",
    "Variant Price",
    "Variant Barcode",
    "Image Src",
    "Status",
]


def catalog_csv(path: Path) -> Path:
    """A Shopify export of ``PRODUCTS`` products with two sizes each."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(PRODUCTS):
            for j, size in enumerate(("S", "M")):
                first = j == 0
                writer.writerow(
                    [
                        f"field-jacket-{i}",
                        f"Field Jacket No. {i}" if first else "",
                        f"<p>Waxed cotton jacket, pattern {i}.</p>" if first else "",
                        "Harbor Outfitters" if first else "",
                        "Jackets" if first else "",
                        "outerwear, cotton" if first else "",
                        "Size" if first else "",
                        size,
                        f"HO-FJ-{i:03d}-{size}",
                        "900",
                        str(5 + i),
                        f"{120 + i}.00",
                        "",
                        f"https://images.example.com/jackets/{i}.jpg" if first else "",
                        "active" if first else "",
                    ]
                )
    return path


@pytest.fixture(scope="module")
def chat():
    server = ChatServer()

    def slow(request: dict, n: int):
        time.sleep(0.05)  # a model takes its time: the kill lands between answers
        return good(request, n)

    server.answer = slow
    yield server
    server.close()


def write_dagster_home(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {home / 'storage'}\ntelemetry:\n  enabled: false\n",
        encoding="utf-8",
    )
    return home


def environment(settings: StructrSettings, dagster_home: Path, chat: ChatServer) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRUCTR_", "DAGSTER_"))}
    env.update(
        STRUCTR_HOME=str(settings.home),
        STRUCTR_DATABASE_URL=settings.database_url,
        DAGSTER_HOME=str(dagster_home),
        STRUCTR_LLM_PROVIDER="openai",
        STRUCTR_LLM_BASE_URL=chat.base_url,
        STRUCTR_LLM_MODEL="shop-writer",
        STRUCTR_LLM_API_KEY="test-key",
        STRUCTR_LLM_MAX_IN_FLIGHT="2",
    )
    return env


def chat_defs(settings: StructrSettings, chat: ChatServer) -> dg.Definitions:
    llm = LLMResource(
        provider="openai", base_url=chat.base_url, model="shop-writer", max_in_flight=2
    )
    return build_defs(settings, resource_overrides={"llm": llm})


def comparable(db: CatalogDB) -> pd.DataFrame:
    return read_catalog(db).reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory, chat) -> tuple[pd.DataFrame, int]:
    """The catalog an uninterrupted run of the same file leaves, and its model calls."""
    tmp = tmp_path_factory.mktemp("reference")
    settings = StructrSettings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'catalog.db'}")
    defs = chat_defs(settings, chat)
    with dg.instance_for_test() as instance:
        from structr_pipeline.runner import register_batch

        source = catalog_csv(tmp / "jackets.csv")
        batch_id = register_batch(defs.resources["catalog"], instance, source).manifest.batch_id
        calls_before = len(chat.requests)
        run = run_batch(defs, instance, batch_id)
        assert run.success, run.errors + run.check_failures
    return comparable(defs.resources["catalog"].db()), len(chat.requests) - calls_before


def step_started(instance: dg.DagsterInstance, step: str) -> bool:
    for record in instance.get_run_records(limit=1):
        run_id = record.dagster_run.run_id
        starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
        if any(entry.step_key == step for entry in starts):
            return True
    return False


def kill_when(process: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the import finished before the kill point"
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


# (name, the step to wait for, calls to the model to wait for, a staged bundle file to wait
# for). The bundle's last file before the catalog transaction is possible_duplicates.csv:
# once it is staged, the process is inside the upsert (or the report written in the same
# transaction).
SCENARIOS = [
    ("before ingestion", "source_rows", 0, None),
    ("before mapping", "map_batch", 0, None),
    ("before validation", "validate_batch", 0, None),
    ("before dedup", "deduplicate_batch", 0, None),
    ("inside generation", "generated_copy", 15, None),
    ("before audit", "audited_products", 0, None),
    ("before the bundle", "product_bundle", 0, None),
    ("inside the upsert", "product_bundle", 0, "possible_duplicates.csv"),
    ("after the bundle", "pim_sync", 0, None),
]


def staged(settings: StructrSettings, name: str) -> bool:
    return any(settings.exports_dir.glob(f".*.staging-*/{name}"))


@pytest.mark.parametrize(
    ("step", "calls", "staged_file"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS]
)
def test_a_killed_import_is_healed_by_the_sensors(
    tmp_path, chat, reference, step, calls, staged_file
) -> None:
    settings = StructrSettings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'catalog.db'}"
    )
    dagster_home = write_dagster_home(tmp_path / "dagster_home")
    source = catalog_csv(tmp_path / "jackets.csv")
    structr = Path(sys.executable).with_name("structr")
    calls_before = len(chat.requests)
    process = subprocess.Popen(
        [str(structr), "import", str(source)],
        env=environment(settings, dagster_home, chat),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:

        def ready() -> bool:
            if calls:
                return len(chat.requests) - calls_before >= calls
            if staged_file:
                return staged(settings, staged_file)
            return step_started(instance, step)

        kill_when(process, ready)
        defs = chat_defs(settings, chat)
        db = defs.resources["catalog"].db()
        (batch,) = list_batches(db)
        assert (batch.status == "completed") == (step == "pim_sync")
        if staged_file:  # killed inside the transaction: nothing of the bundle is published
            assert not (settings.exports_dir / batch.batch_id).exists()

        if calls:
            # What the model answered before the kill is in the cache, not paid again.
            with db.read() as conn:
                kept = conn.execute(generation_cache.select()).all()
            assert len(kept) >= calls - 2, len(kept)

        # The daemon's sensor tick: the dead run is failed and its batch backfilled.
        with dg.build_sensor_context(
            instance_ref=instance.get_ref(),
            definitions=defs,
            resources=defs.get_repository_def().get_top_level_resources(),
        ) as context:
            result = reprocess_sensor.evaluate_tick(context)
        assert not any(
            r.dagster_run.status == dg.DagsterRunStatus.STARTED for r in instance.get_run_records()
        )
        ((request),) = result.run_requests
        assert request.requires_backfill_daemon()
        assert request.tags["structr/reprocess"] == FAILED_RUN
        subset = request.asset_graph_subset
        partitions = set()
        for key in subset.asset_keys:
            partitions |= set(subset.get_partitions_subset(key).get_partition_keys())
        assert partitions == {batch.batch_id}
        assert dg.AssetKey("source_rows") in subset.asset_keys

        calls_at_recovery = len(chat.requests)
        healed = run_batch(defs, instance, batch.batch_id)
        assert healed.success, healed.errors + healed.check_failures
        assert fail_dead_runs(instance, db) == []

    expected, reference_calls = reference
    pd.testing.assert_frame_equal(comparable(db), expected)
    (batch,) = list_batches(db)
    assert batch.status == "completed"
    if calls:
        # What the killed run was answered is not asked again: the recovery costs the
        # uninterrupted run's calls less those already paid for.
        assert len(chat.requests) - calls_at_recovery <= reference_calls - (calls - 2)
