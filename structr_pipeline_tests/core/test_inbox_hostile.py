"""The inbox against files made to hang or blow it up: pipes, devices, YAML bombs, odd names."""

from __future__ import annotations

import os
import socket
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from structr_pipeline.core.inbox import (
    MAX_SIDECAR_BYTES,
    Rejected,
    check_readable,
    inspect_file,
    move_to_rejected,
    open_entry,
    prepare_inbox,
    scan_inbox,
)
from structr_pipeline.core.mapping.profiles import (
    MappingProfile,
    ProfileError,
    load_profile,
    save_profile,
)
from structr_pipeline.core.safe_files import UnsafeFile, load_yaml, printable_name

CSV = "sku;name;price\nA-1;Shirt;10,00\nA-2;Socks;4,50\n"
# 276 bytes that a plain YAML loader composes into 9^6 (531,441) strings, and that
# json.dumps of the options then writes out in full.
BILLION_LAUGHS = """profile: supplier
options:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
"""
# Seconds within which a call that must not block has to return.
PROMPT = 5.0


@pytest.fixture
def inbox(tmp_path) -> Path:
    return prepare_inbox(tmp_path / "inbox")


@pytest.fixture
def profiles(tmp_path) -> Path:
    folder = tmp_path / "profiles"
    save_profile(
        folder,
        MappingProfile("supplier", {"sku": "sku", "name": "title", "price": "price"}),
    )
    return folder


def write(path: Path, text: str = CSV) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def only(scan, name):
    (item,) = [f for f in scan.files if f.name == name]
    return item


def promptly(call: Callable[[], Any]) -> Any:
    """Run ``call`` in a thread; fail the test if it has not returned within ``PROMPT`` s.

    The thread is a daemon, so a call that did block cannot keep the test run alive.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the test thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(PROMPT)
    if thread.is_alive():
        pytest.fail(f"the call was still blocked after {PROMPT} s")
    outcome["seconds"] = time.monotonic() - started
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_a_fifo_named_like_a_csv_is_refused_without_being_opened(inbox) -> None:
    os.mkfifo(inbox / "a.csv")
    write(inbox / "b.csv")
    scan = promptly(lambda: scan_inbox(inbox))
    assert [f.name for f in scan.files] == ["b.csv"]
    assert dict(scan.refused) == {"a.csv": "a.csv is a named pipe (FIFO), not a regular file"}
    moved = move_to_rejected(inbox, "a.csv", dict(scan.refused)["a.csv"])
    assert moved.parent.name == "rejected" and not (inbox / "a.csv").exists()


def test_a_socket_and_a_device_are_refused_too(inbox) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(inbox / "s.csv"))
        try:
            os.mknod(inbox / "d.csv", 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # as /dev/null
        except PermissionError:
            pytest.skip("creating a device node needs privileges")
        refused = dict(scan_inbox(inbox).refused)
    assert refused == {
        "s.csv": "s.csv is a socket, not a regular file",
        "d.csv": "d.csv is a character device, not a regular file",
    }


def test_a_fifo_sidecar_rejects_its_file_without_blocking(inbox, profiles) -> None:
    write(inbox / "a.csv")
    os.mkfifo(inbox / "a.csv.yaml")
    item = only(scan_inbox(inbox), "a.csv")
    with pytest.raises(Rejected) as caught:
        promptly(lambda: inspect_file(inbox, item, profiles))
    assert caught.value.reason == (
        "sidecar a.csv.yaml cannot be read: it is a named pipe (FIFO), not a regular file"
    )


def test_a_data_file_swapped_for_a_fifo_after_the_look_is_rejected(inbox) -> None:
    write(inbox / "a.csv")
    item = only(scan_inbox(inbox), "a.csv")
    (inbox / "a.csv").unlink()
    os.mkfifo(inbox / "a.csv")
    with pytest.raises(Rejected) as caught:
        promptly(lambda: check_readable(item))
    assert caught.value.reason == (
        "a.csv: cannot be opened (it is a named pipe (FIFO), not a regular file)"
    )


def test_a_link_inside_the_inbox_is_opened_at_its_target_only(inbox) -> None:
    write(inbox / "real.csv")
    (inbox / "alias.csv").symlink_to(inbox / "real.csv")
    with open_entry(inbox, "alias.csv") as f:
        assert f.read().decode() == CSV
    os.mkfifo(inbox / "pipe")
    (inbox / "to-pipe.csv").symlink_to(inbox / "pipe")
    with pytest.raises(UnsafeFile, match="named pipe"):
        promptly(lambda: open_entry(inbox, "to-pipe.csv"))


def test_a_billion_laughs_sidecar_is_refused_at_once(inbox, profiles) -> None:
    write(inbox / "a.csv")
    write(inbox / "a.csv.yaml", BILLION_LAUGHS)
    item = only(scan_inbox(inbox), "a.csv")
    started = time.monotonic()
    with pytest.raises(Rejected) as caught:
        inspect_file(inbox, item, profiles)
    assert time.monotonic() - started < 1.0
    reason = caught.value.reason
    assert reason.startswith("sidecar a.csv.yaml is not valid YAML: found an alias (*name)")
    assert "line 4, column 10" in reason


def test_a_sidecar_over_the_size_limit_is_not_parsed(inbox, profiles) -> None:
    write(inbox / "a.csv")
    padding = "# " + "x" * 78 + "\n"
    write(inbox / "a.csv.yaml", "profile: supplier\n" + padding * (MAX_SIDECAR_BYTES // 80))
    item = only(scan_inbox(inbox), "a.csv")
    with pytest.raises(Rejected, match=r"sidecar a\.csv\.yaml is larger than 64 KiB"):
        inspect_file(inbox, item, profiles)


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ("options: " + "[" * 200 + "]" * 200 + "\n", "nested more than 32 levels deep"),
        ("options: {n: " + "9" * 5000 + "}\n", "a value cannot be read"),
        ("base: &b {tone: calm}\noptions:\n  <<: *b\n", "found an alias"),
    ],
)
def test_other_yaml_that_would_be_costly_is_refused(inbox, profiles, sidecar, message) -> None:
    write(inbox / "a.csv")
    write(inbox / "a.csv.yaml", sidecar)
    item = only(scan_inbox(inbox), "a.csv")
    with pytest.raises(Rejected) as caught:
        inspect_file(inbox, item, profiles)
    assert "sidecar a.csv.yaml is not valid YAML" in caught.value.reason
    assert message in caught.value.reason


def test_plain_yaml_and_anchors_without_aliases_still_load() -> None:
    assert load_yaml("profile: supplier\noptions: {note: &n weekly}\n") == {
        "profile": "supplier",
        "options": {"note": "weekly"},
    }


def test_profiles_are_read_the_same_way(tmp_path) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    write(folder / "bomb.yaml", BILLION_LAUGHS.replace("profile: supplier\noptions:", "columns:"))
    with pytest.raises(ProfileError, match="not valid YAML: found an alias"):
        load_profile(folder, "bomb")
    os.mkfifo(folder / "pipe.yaml")
    with pytest.raises(ProfileError, match=r"cannot be read: it is a named pipe \(FIFO\)"):
        promptly(lambda: load_profile(folder, "pipe"))


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("plain name é.csv", "plain name é.csv"),
        ("two\nlines.csv", "two\\nlines.csv"),
        ("red\x1b[31m.csv", "red\\x1b[31m.csv"),
        ("gpj.\u202ecsv", "gpj.\\u202ecsv"),
        ("back\\slash\r.csv", "back\\\\slash\\r.csv"),
        ("bytes-\udcff.csv", "bytes-\\udcff.csv"),
    ],
)
def test_printable_names(name: str, shown: str) -> None:
    assert printable_name(name) == shown


def test_a_name_with_control_characters_is_escaped_in_reasons(inbox, profiles) -> None:
    name = "evil\n\x1b[2Kok.csv"
    (inbox / name).write_bytes(b"")
    write(inbox / (name + ".yaml"), "profiel: x\n")
    item = only(scan_inbox(inbox), name)
    with pytest.raises(Rejected) as caught:
        inspect_file(inbox, item, profiles)
    assert caught.value.reason.startswith("sidecar evil\\n\\x1b[2Kok.csv.yaml has unknown keys")
    (inbox / (name + ".yaml")).unlink()
    item = only(scan_inbox(inbox), name)
    with pytest.raises(Rejected) as caught:
        check_readable(item)
    assert caught.value.reason == "evil\\n\\x1b[2Kok.csv: the file is empty (0 bytes)"
    moved = move_to_rejected(inbox, name, caught.value.reason)
    reason_file = moved.with_name(moved.name + ".reason.txt")
    assert "\n" not in reason_file.read_text(encoding="utf-8").rstrip("\n")
