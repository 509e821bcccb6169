"""The inbox sensor on a real Dagster instance, real files and a real catalog database."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from structr_pipeline.core.inbox import PROCESSED, REJECTED, decode_looks
from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileOptions, save_profile
from structr_pipeline.definitions import build_defs
from structr_pipeline.sensors.inbox import inbox_sensor
from structr_pipeline.settings import StructrSettings
from structr_pipeline.store.batches import get_batch, list_batches

SUPPLIER_CSV = "sku;name;price\nA-1;Shirt;10,00\nA-2;Socks;4,50\n"


@pytest.fixture(autouse=True)
def default_inbox(monkeypatch) -> None:
    monkeypatch.delenv("STRUCTR_INBOX_DIR", raising=False)


@pytest.fixture
def inbox(settings) -> Path:
    settings.inbox.mkdir(parents=True)
    return settings.inbox


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sensor_context(defs, cursor: str | None = None, **instance) -> dg.SensorEvaluationContext:
    """A context like the daemon's: `definitions=` alone does not bind resources to a call."""
    return dg.build_sensor_context(
        cursor=cursor,
        definitions=defs,
        resources=defs.get_repository_def().get_top_level_resources(),
        **instance,
    )


def tick(defs, instance, cursor: str | None = None) -> dg.SensorResult:
    """One evaluation of the sensor (its partition requests are not applied)."""
    return inbox_sensor(sensor_context(defs, cursor, instance=instance))


def apply_partitions(instance, result) -> None:
    """Do what the daemon does with the tick's partition requests."""
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def drop(source: Path, inbox: Path, name: str) -> Path:
    target = inbox / name
    shutil.copyfile(source, target)
    return target


def test_the_sensor_is_part_of_the_definitions(defs) -> None:
    sensor = defs.resolve_sensor_def("inbox_sensor")
    assert sensor.job_name == "import_batch_job"
    assert sensor.minimum_interval_seconds == 15
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert "STRUCTR_INBOX_DIR" in sensor.description


def test_a_new_file_becomes_a_batch_on_the_second_look(
    defs, instance, settings, inbox, sample_csv
) -> None:
    path = drop(sample_csv, inbox, "supplier.csv")
    (inbox / ".hidden.csv").write_bytes(sample_csv.read_bytes())
    (inbox / "upload.csv.part").write_bytes(sample_csv.read_bytes())
    db = defs.resources["catalog"].db()

    first = tick(defs, instance)
    assert not first.run_requests and not first.dynamic_partitions_requests
    assert first.skip_reason is not None
    assert set(decode_looks(first.cursor)) == {"supplier.csv"}
    assert list_batches(db) == []
    assert not settings.landing_dir.exists()

    second = tick(defs, instance, first.cursor)
    (request,) = second.run_requests
    (manifest,) = list_batches(db)
    assert request.partition_key == manifest.batch_id
    assert request.run_key == f"inbox-{sha256(sample_csv)}"
    assert request.tags["structr/inbox_file"] == "supplier.csv"
    assert [list(r.partition_keys) for r in second.dynamic_partitions_requests] == [
        [manifest.batch_id]
    ]
    assert second.dynamic_partitions_requests[0].partitions_def_name == "import_batch"
    assert manifest.source_kind == "csv" and manifest.original_name == "supplier.csv"
    assert manifest.options == {}
    assert Path(manifest.landing_path).read_bytes() == sample_csv.read_bytes()
    # it leaves the inbox once the daemon has added its partition
    assert path.is_file()

    apply_partitions(instance, second)
    third = tick(defs, instance, second.cursor)
    assert [r.run_key for r in third.run_requests] == [request.run_key]
    assert not third.dynamic_partitions_requests
    assert not path.exists()
    assert (inbox / PROCESSED / "supplier.csv").read_bytes() == sample_csv.read_bytes()
    assert decode_looks(third.cursor) == {}

    fourth = tick(defs, instance, third.cursor)
    assert not fourth.run_requests
    assert (inbox / ".hidden.csv").is_file() and (inbox / "upload.csv.part").is_file()
    assert len(list_batches(db)) == 1


def test_a_file_still_growing_is_not_taken(defs, instance, inbox) -> None:
    path = inbox / "supplier.csv"
    path.write_text(SUPPLIER_CSV, encoding="utf-8")
    first = tick(defs, instance)
    with path.open("a", encoding="utf-8") as f:
        f.write("A-3;Cap;7,00\n")
    second = tick(defs, instance, first.cursor)
    assert not second.run_requests
    assert list_batches(defs.resources["catalog"].db()) == []
    third = tick(defs, instance, second.cursor)
    (request,) = third.run_requests
    assert request.run_key == f"inbox-{sha256(path)}"


def take(defs, instance, cursor=None) -> tuple[list[dg.RunRequest], str | None]:
    """Tick as the daemon would (applying partition requests) until the inbox is empty."""
    requests: list[dg.RunRequest] = []
    for _ in range(4):
        result = tick(defs, instance, cursor)
        apply_partitions(instance, result)
        requests.extend(result.run_requests or [])
        cursor = result.cursor
    return requests, cursor


def test_the_same_bytes_dropped_again_make_the_same_batch_and_run_key(
    defs, instance, inbox, sample_csv
) -> None:
    drop(sample_csv, inbox, "supplier.csv")
    first, cursor = take(defs, instance)
    keys = {(r.partition_key, r.run_key) for r in first}
    assert len(keys) == 1

    drop(sample_csv, inbox, "supplier.csv")
    drop(sample_csv, inbox, "renamed copy.csv")
    again, _ = take(defs, instance, cursor)
    assert {(r.partition_key, r.run_key) for r in again} == keys
    db = defs.resources["catalog"].db()
    assert len(list_batches(db)) == 1
    assert instance.get_dynamic_partitions("import_batch") == [next(iter(keys))[0]]
    assert sorted(p.name for p in (inbox / PROCESSED).iterdir()) == [
        "renamed copy.csv",
        "supplier-2.csv",
        "supplier.csv",
    ]


def test_a_restart_mid_way_gives_no_second_batch_or_run_key(
    defs, instance, inbox, sample_csv
) -> None:
    path = drop(sample_csv, inbox, "supplier.csv")
    registered = tick(defs, instance, tick(defs, instance).cursor)
    (request,) = registered.run_requests
    db = defs.resources["catalog"].db()

    # The daemon stopped before it recorded the tick: no partition, and the cursor is lost.
    assert not tick(defs, instance).run_requests
    retried = tick(defs, instance, tick(defs, instance).cursor)
    assert [(r.partition_key, r.run_key) for r in retried.run_requests] == [
        (request.partition_key, request.run_key)
    ]
    assert len(list_batches(db)) == 1
    assert path.is_file()

    # The partition was added but the cursor was lost again before the file moved.
    apply_partitions(instance, retried)
    after = tick(defs, instance, tick(defs, instance).cursor)
    assert [r.run_key for r in after.run_requests] == [request.run_key]
    assert not after.dynamic_partitions_requests
    assert not path.exists()
    assert len(list_batches(db)) == 1
    assert instance.get_dynamic_partitions("import_batch") == [request.partition_key]


def test_links_leading_outside_and_tricky_cursor_names_are_refused(
    defs, instance, inbox, tmp_path, sample_csv
) -> None:
    outside = tmp_path / "outside.csv"
    shutil.copyfile(sample_csv, outside)
    (inbox / "linked.csv").symlink_to(outside)
    (inbox / "up.csv").symlink_to(Path("..") / ".." / "outside.csv")
    look = [outside.stat().st_size, outside.stat().st_mtime_ns]
    forged = json.dumps({"v": 1, "looks": {"../../outside.csv": look, str(outside): look}})

    result = tick(defs, instance, forged)
    assert not result.run_requests
    assert decode_looks(result.cursor) == {}
    assert list_batches(defs.resources["catalog"].db()) == []
    for name in ("linked.csv", "up.csv"):
        assert (inbox / REJECTED / name).is_symlink()
        reason = (inbox / REJECTED / f"{name}.reason.txt").read_text(encoding="utf-8")
        assert "outside the inbox" in reason
    assert outside.read_bytes() == sample_csv.read_bytes()


def test_an_unreadable_file_is_rejected_with_its_reason(defs, instance, inbox) -> None:
    (inbox / "catalog.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    (inbox / "empty.csv").write_bytes(b"")
    first = tick(defs, instance)
    second = tick(defs, instance, first.cursor)
    assert not second.run_requests and not second.dynamic_partitions_requests
    assert decode_looks(second.cursor) == {}
    assert list_batches(defs.resources["catalog"].db()) == []
    rejected = inbox / REJECTED
    assert (rejected / "catalog.xlsx").is_file() and (rejected / "empty.csv").is_file()
    assert "export the sheet as CSV" in (rejected / "catalog.xlsx.reason.txt").read_text()
    assert (rejected / "empty.csv.reason.txt").read_text() == (
        "empty.csv: the file is empty (0 bytes)\n"
    )


def test_sidecar_profile_and_options_land_in_the_manifest(defs, instance, settings, inbox) -> None:
    save_profile(
        settings.profiles_dir,
        MappingProfile(
            "supplier",
            {"sku": "sku", "name": "title", "price": "price"},
            ProfileOptions(delimiter=";", decimal_comma=True),
        ),
    )
    (inbox / "weekly.csv").write_text(SUPPLIER_CSV, encoding="utf-8")
    (inbox / "weekly.csv.yaml").write_text(
        "profile: supplier\noptions:\n  brand_voice: {tone: plain, avoid: [cheap]}\n",
        encoding="utf-8",
    )
    (inbox / "other.csv").write_text(SUPPLIER_CSV + "A-3;Cap;7,00\n", encoding="utf-8")
    (inbox / "other.csv.yaml").write_text("profile: nobody\n", encoding="utf-8")

    requests, _ = take(defs, instance)
    (batch_id,) = {r.partition_key for r in requests}
    manifest = get_batch(defs.resources["catalog"].db(), batch_id)
    assert manifest.options == {
        "brand_voice": {"tone": "plain", "avoid": ["cheap"]},
        "profile": "supplier",
    }
    assert (inbox / PROCESSED / "weekly.csv.yaml").is_file()
    reason = (inbox / REJECTED / "other.csv.reason.txt").read_text(encoding="utf-8")
    assert reason.startswith("sidecar other.csv.yaml: no mapping profile 'nobody'")
    assert (inbox / REJECTED / "other.csv.yaml").is_file()


def test_the_inbox_folder_comes_from_the_environment(
    instance, settings, tmp_path, monkeypatch
) -> None:
    elsewhere = tmp_path / "drop here"
    monkeypatch.setenv("STRUCTR_INBOX_DIR", str(elsewhere))
    monkeypatch.setenv("STRUCTR_HOME", str(settings.home))
    monkeypatch.delenv("STRUCTR_DATABASE_URL", raising=False)
    defs = build_defs(StructrSettings.from_env())
    first = tick(defs, instance)
    assert (elsewhere / PROCESSED).is_dir() and not settings.inbox.exists()
    (elsewhere / "supplier.csv").write_text(SUPPLIER_CSV, encoding="utf-8")
    (request,) = tick(defs, instance, tick(defs, instance, first.cursor).cursor).run_requests
    assert get_batch(defs.resources["catalog"].db(), request.partition_key).original_name == (
        "supplier.csv"
    )


def test_the_daemon_evaluation_path(defs, instance, inbox, sample_csv) -> None:
    def evaluate(cursor):
        # Leaving the context closes the instance it opened from the ref.
        with sensor_context(defs, cursor, instance_ref=instance.get_ref()) as context:
            return inbox_sensor.evaluate_tick(context)

    path = drop(sample_csv, inbox, "supplier.csv")
    first = evaluate(None)
    assert not first.run_requests and first.skip_message
    second = evaluate(first.cursor)
    (request,) = second.run_requests
    (added,) = second.dynamic_partitions_requests
    assert list(added.partition_keys) == [request.partition_key]
    assert request.run_key == f"inbox-{sha256(sample_csv)}"
    apply_partitions(instance, second)
    third = evaluate(second.cursor)
    assert [r.run_key for r in third.run_requests] == [request.run_key]
    assert not third.dynamic_partitions_requests
    assert not path.exists() and (inbox / PROCESSED / "supplier.csv").is_file()


@pytest.mark.slow
def test_a_dropped_export_runs_through_to_its_bundle(
    defs, instance, settings, inbox, sample_csv
) -> None:
    drop(sample_csv, inbox, "shopify_sample.csv")
    second = tick(defs, instance, tick(defs, instance).cursor)
    (request,) = second.run_requests
    apply_partitions(instance, second)
    assert instance.has_dynamic_partition("import_batch", request.partition_key)

    result = dg.materialize(
        [*defs.assets, *defs.asset_checks],
        selection=dg.AssetSelection.groups("import_batch"),
        partition_key=request.partition_key,
        instance=instance,
        resources=defs.resources,
        tags=request.tags,
    )
    assert result.success
    bundle = settings.exports_dir / request.partition_key
    summary = json.loads((bundle / "summary.json").read_text(encoding="utf-8"))
    assert summary["counts"]["rows_in"] > 0
    assert (bundle / "products.jsonl").stat().st_size > 0
    manifest = get_batch(defs.resources["catalog"].db(), request.partition_key)
    assert manifest.status == "completed"
    assert manifest.original_name == "shopify_sample.csv"
