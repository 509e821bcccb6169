"""The inbox sensor on a real Dagster instance against pipes, YAML bombs and odd names."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from structr_pipeline.core.inbox import REJECTED
from structr_pipeline.sensors.inbox import inbox_sensor
from structr_pipeline.store.batches import list_batches
from structr_pipeline_tests.core.test_inbox_hostile import BILLION_LAUGHS
from structr_pipeline_tests.core.test_inbox_hostile import CSV as SUPPLIER_CSV

# Seconds a tick may take before it counts as hung.
PROMPT = 30.0


@pytest.fixture(autouse=True)
def default_inbox(monkeypatch) -> None:
    monkeypatch.delenv("STRUCTR_INBOX_DIR", raising=False)


@pytest.fixture
def inbox(settings) -> Path:
    settings.inbox.mkdir(parents=True)
    return settings.inbox


def tick(defs, instance, cursor: str | None = None) -> dg.SensorResult:
    """One evaluation of the sensor, failing the test if it does not return in time."""
    context = dg.build_sensor_context(
        cursor=cursor,
        definitions=defs,
        resources=defs.get_repository_def().get_top_level_resources(),
        instance=instance,
    )
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = inbox_sensor(context)
        except BaseException as exc:  # handed to the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(PROMPT)
    if thread.is_alive():
        pytest.fail(f"the sensor tick was still running after {PROMPT} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def take(defs, instance) -> list[dg.RunRequest]:
    """Tick as the daemon would (applying partition requests) until the inbox is empty."""
    requests: list[dg.RunRequest] = []
    cursor = None
    for _ in range(4):
        result = tick(defs, instance, cursor)
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(
                request.partitions_def_name, list(request.partition_keys)
            )
        requests.extend(result.run_requests or [])
        cursor = result.cursor
    return requests


def reason(inbox: Path, name: str) -> str:
    return (inbox / REJECTED / f"{name}.reason.txt").read_text(encoding="utf-8")


def test_a_fifo_sidecar_does_not_hang_the_ticks(defs, instance, inbox) -> None:
    (inbox / "a.csv").write_text(SUPPLIER_CSV, encoding="utf-8")
    os.mkfifo(inbox / "a.csv.yaml")
    (inbox / "b.csv").write_text(SUPPLIER_CSV + "A-3;Cap;7,00\n", encoding="utf-8")

    requests = take(defs, instance)
    assert len({r.run_key for r in requests}) == 1  # b.csv went through
    assert reason(inbox, "a.csv") == (
        "sidecar a.csv.yaml cannot be read: it is a named pipe (FIFO), not a regular file\n"
    )
    assert (inbox / REJECTED / "a.csv.yaml").exists()
    assert not (inbox / "a.csv.yaml").exists()


def test_a_fifo_named_like_a_data_file_is_moved_out(defs, instance, inbox) -> None:
    os.mkfifo(inbox / "x.csv")
    result = tick(defs, instance)
    assert not result.run_requests
    assert reason(inbox, "x.csv") == "x.csv is a named pipe (FIFO), not a regular file\n"
    assert not (inbox / "x.csv").exists()


def test_a_billion_laughs_sidecar_is_rejected_in_a_moment(defs, instance, inbox) -> None:
    (inbox / "a.csv").write_text(SUPPLIER_CSV, encoding="utf-8")
    (inbox / "a.csv.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    started = time.monotonic()
    assert take(defs, instance) == []
    assert time.monotonic() - started < PROMPT
    assert list_batches(defs.resources["catalog"].db()) == []
    assert reason(inbox, "a.csv").startswith(
        "sidecar a.csv.yaml is not valid YAML: found an alias (*name): aliases are not allowed"
    )


def test_names_with_control_characters_are_escaped_in_logs_and_reasons(
    defs, instance, inbox, capfd
) -> None:
    name = "evil\n[ERROR] forged\x1b[2K.csv"
    (inbox / name).write_bytes(b"")
    take(defs, instance)
    shown = "evil\\n[ERROR] forged\\x1b[2K.csv"
    assert reason(inbox, name) == f"{shown}: the file is empty (0 bytes)\n"
    logged = capfd.readouterr().err
    assert f"Rejected {shown}: {shown}: the file is empty" in logged
    assert f"Moved {shown} to " in logged
    assert "\x1b" not in logged and "\n[ERROR] forged" not in logged


def test_a_mixed_encoding_file_is_taken_and_its_cp1252_lines_are_logged(
    defs, instance, inbox, capfd
) -> None:
    data = (
        "sku;name;price\nA-1;Müller;10,00\n".encode()
        + "A-2;Müller;4,50\n".encode("cp1252")
        + "A-3;Größe;7,00\n".encode()
    )
    (inbox / "mixed.csv").write_bytes(data)
    requests = take(defs, instance)
    assert {r.tags["structr/inbox_file"] for r in requests} == {"mixed.csv"}
    logged = capfd.readouterr().err
    assert (
        "mixed.csv: line 3 is not valid UTF-8, unlike the rest of the file, and was read as "
        "cp1252" in logged
    )
