"""The PIM change sensor, full-resync schedule and write-back against a real HTTP PIM."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml

from structr_pipeline.definitions import build_defs
from structr_pipeline.runner import run_batch
from structr_pipeline.store.batches import get_batch, list_batches
from structr_pipeline.store.catalog import read_catalog
from structr_pipeline_tests.core.connectors.pim.pim_server import Fault, PimServer


@pytest.fixture(scope="module")
def pim_server() -> Iterator[PimServer]:
    server = PimServer().start()
    yield server
    server.stop()


@pytest.fixture
def pim(pim_server: PimServer) -> PimServer:
    pim_server.state.reset()
    return pim_server


@pytest.fixture
def defs(settings, pim):
    settings.home.mkdir(parents=True, exist_ok=True)
    source = {
        "preset": "generic",
        "base_url": pim.base_url,
        "path": "/generic/page",
        "page_size": 3,
        "rate_limit_per_s": 200,
        "backoff_base": 0.01,
        "backoff_max": 0.05,
        "max_retries": 2,
        "updated_since_param": "updated_since",
        "write_back": {"enabled": True, "method": "PATCH", "path": "/generic/products/{id}"},
    }
    settings.pim_sources_file.write_text(
        yaml.safe_dump({"sources": {"shop": source}}), encoding="utf-8"
    )
    return build_defs(settings)


def tick(defs, instance, cursor=None):
    """One evaluation of the source's change sensor on the daemon's path."""
    sensor = defs.resolve_sensor_def("pim_shop_changes")
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(),
        cursor=cursor,
        definitions=defs,
        resources=defs.get_repository_def().get_top_level_resources(),
    ) as context:  # leaving it closes the instance opened from the ref
        return sensor.evaluate_tick(context)


def apply(instance, result) -> None:
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def test_changes_become_a_batch_and_copy_is_written_back(defs, instance, pim) -> None:
    result = tick(defs, instance)
    (request,) = result.run_requests
    apply(instance, result)
    cursor = json.loads(result.cursor)
    assert cursor["updated_since"].startswith("2024-") or cursor["updated_since"]
    manifest = get_batch(defs.resources["catalog"].db(), request.partition_key)
    assert manifest.options["pim_source"] == "shop" and manifest.original_name.endswith(".jsonl")
    landed = Path(manifest.landing_path).read_text(encoding="utf-8").splitlines()
    assert len(landed) == 8  # every pulled item, raw, as fetched

    run = run_batch(defs, instance, request.partition_key)
    assert run.success, run.errors + run.check_failures
    catalog = read_catalog(defs.resources["catalog"].db())
    assert {f"chair-{n}" for n in range(1, 7)} <= set(catalog["handle"])
    out = defs.resources["catalog"].settings.exports_dir / request.partition_key
    errors = (out / "errors.csv").read_text(encoding="utf-8")
    assert "twelve" in errors or "g-bad" in errors  # the malformed item is accounted for
    with (out / "write_back.csv").open(newline="", encoding="utf-8") as f:
        written = {row["id"]: row for row in csv.DictReader(f)}
    assert {f"g-{n}" for n in range(1, 7)} <= set(written)
    assert all(row["ok"] == "True" for row in written.values())
    patched = pim.requests_to("/generic/products/g-1", "PATCH")
    assert patched and "quality_grade" in json.loads(patched[0].body)

    again = tick(defs, instance, result.cursor)
    assert not again.run_requests  # nothing changed since the cursor


def test_a_pim_outage_backs_off_and_keeps_its_place(defs, instance, pim) -> None:
    start = json.dumps({"updated_since": "2024-03-02T12:00:00+00:00"})
    pim.state.faults.append(Fault(start=1, status=500, times=None))
    down = tick(defs, instance, start)
    assert not down.run_requests
    state = json.loads(down.cursor)
    assert state["updated_since"] == "2024-03-02T12:00:00+00:00"  # not advanced
    assert state["failures"] == 1
    assert datetime.fromisoformat(state["retry_at"]) > datetime.now(UTC)
    assert list_batches(defs.resources["catalog"].db()) == []

    pim.state.faults.clear()
    waiting = tick(defs, instance, down.cursor)
    assert not waiting.run_requests  # backing off: the PIM is not asked yet
    recovered = json.loads(down.cursor)
    recovered["retry_at"] = "2000-01-01T00:00:00+00:00"
    back = tick(defs, instance, json.dumps(recovered))
    (request,) = back.run_requests
    manifest = get_batch(defs.resources["catalog"].db(), request.partition_key)
    lines = Path(manifest.landing_path).read_text(encoding="utf-8").splitlines()
    landed = [json.loads(x)["item"].get("id") for x in lines]
    assert "g-1" not in landed and "g-2" not in landed and "g-3" in landed  # changed since


def test_full_resync_reports_products_the_pim_no_longer_has(defs, instance, pim) -> None:
    schedule = defs.resolve_schedule_def("pim_shop_full_resync")
    resources = defs.get_repository_def().get_top_level_resources()

    def resync():
        with dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime.now(UTC),
            resources=resources,
            repository_def=defs.get_repository_def(),
        ) as ctx:
            request = schedule.evaluate_tick(ctx).run_requests[0]
        run = run_batch(defs, instance, request.partition_key)
        assert run.success, run.errors + run.check_failures
        return request.partition_key

    resync()
    with pim.state.lock:
        pim.state.generic = [p for p in pim.state.generic if p.get("id") != "g-3"]
    second = resync()
    out = defs.resources["catalog"].settings.exports_dir / second
    with (out / "possibly_removed.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["external_id"], r["handle"]) for r in rows] == [("shop:g-3", "chair-3")]
    assert "chair-3" in set(read_catalog(defs.resources["catalog"].db())["handle"])  # kept


# --------------------------------------------------------------------------- incremental


def stamp(moment: datetime) -> str:
    """A timestamp as the generic test PIM writes it."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def landed_items(defs, result) -> list[dict]:
    """The raw items of the batch a tick's run request names."""
    (request,) = result.run_requests
    manifest = get_batch(defs.resources["catalog"].db(), request.partition_key)
    lines = Path(manifest.landing_path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["item"] for line in lines]


def test_an_item_edited_during_a_pull_comes_with_the_next_tick(defs, instance, pim) -> None:
    """g-2 is edited after page 1 (where it was) is read, g-5 after it on page 2."""
    now = datetime.now(UTC)
    with pim.state.lock:
        for product in pim.state.generic:
            product["updated_at"] = stamp(now - timedelta(hours=1))
    edited_at = {"g-2": now, "g-5": now + timedelta(seconds=1)}

    def edit_while_paging(state) -> None:
        state.after_generic_page.pop(1)
        for product in state.generic:
            if product.get("id") in edited_at:
                product["title"] += " (edited)"
                product["updated_at"] = stamp(edited_at[product["id"]])

    pim.state.after_generic_page[1] = edit_while_paging
    first = tick(defs, instance, json.dumps({"updated_since": stamp(now - timedelta(hours=2))}))
    apply(instance, first)
    pulled = {item.get("id"): item for item in landed_items(defs, first)}
    assert len(pulled) == 8
    assert pulled["g-2"]["title"] == "Chair 2"  # read before the edit
    assert pulled["g-5"]["title"] == "Chair 5 (edited)"
    # The newest timestamp pulled, the old cursor, is past g-2's edit: it was lost.
    assert max(item["updated_at"] for item in pulled.values()) > stamp(edited_at["g-2"])
    cursor = json.loads(first.cursor)
    assert cursor["v"] == 2
    assert datetime.fromisoformat(cursor["updated_since"]) <= now - timedelta(minutes=4)

    second = tick(defs, instance, first.cursor)
    apply(instance, second)
    (item,) = landed_items(defs, second)  # g-5 came again unchanged: left out
    assert (item["id"], item["title"]) == ("g-2", "Chair 2 (edited)")

    third = tick(defs, instance, second.cursor)
    assert not third.run_requests
    assert "2 items fetched again unchanged" in third.skip_message
    assert len(list_batches(defs.resources["catalog"].db())) == 2


def test_idle_ticks_make_no_batch_even_with_an_inclusive_filter(defs, instance, pim) -> None:
    now = datetime.now(UTC)
    pim.state.inclusive_since = True
    with pim.state.lock:
        for n, product in enumerate(pim.state.generic):
            product["updated_at"] = stamp(now - timedelta(minutes=1, seconds=n))
    db = defs.resources["catalog"].db()

    first = tick(defs, instance)
    apply(instance, first)
    assert len(landed_items(defs, first)) == 8
    cursor = first.cursor
    for _ in range(3):
        idle = tick(defs, instance, cursor)
        assert not idle.run_requests and not idle.dynamic_partitions_requests
        assert "8 items fetched again unchanged" in idle.skip_message
        cursor = idle.cursor
    assert len(list_batches(db)) == 1
    assert len(pim.requests_to("/generic/page")) == 4 * 4  # every tick did ask the PIM


def test_an_old_cursor_still_reads(defs, instance, pim) -> None:
    """The high-water-mark cursor of earlier versions: nothing at the mark comes again."""
    pim.state.inclusive_since = True
    newest = max(p["updated_at"] for p in pim.state.generic)
    old = json.dumps({"updated_since": newest.replace("Z", "+00:00")})
    again = tick(defs, instance, old)
    assert not again.run_requests  # the newest item was pulled when that cursor was made
    assert "1 items fetched again unchanged" in again.skip_message
    state = json.loads(again.cursor)
    assert state["v"] == 2 and datetime.fromisoformat(state["updated_since"]) > datetime(
        2025, 1, 1, tzinfo=UTC
    )

    # g-4 is stamped exactly at this mark: the inclusive filter returns it, it is left out.
    earlier = json.dumps({"updated_since": "2024-03-04T08:00:00+00:00", "failures": 0})
    changed = tick(defs, instance, earlier)
    landed = [item.get("id") for item in landed_items(defs, changed)]
    assert landed == ["g-5", "g-6", "g-bad", None]
