"""The inbox folder's file logic, on real files: looks, safety, sidecars, moves."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from structr_pipeline.core.inbox import (
    PROCESSED,
    REJECTED,
    InboxError,
    Look,
    Rejected,
    UnsafeName,
    check_readable,
    decode_looks,
    encode_looks,
    entry_path,
    inspect_file,
    is_candidate_name,
    move_to_processed,
    move_to_rejected,
    prepare_inbox,
    read_sidecar,
    ready_files,
    scan_inbox,
)
from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileOptions, save_profile

CSV = "sku;name;price\nA-1;Shirt;10,00\nA-2;Socks;4,50\n"


@pytest.fixture
def inbox(tmp_path) -> Path:
    return prepare_inbox(tmp_path / "inbox")


@pytest.fixture
def profiles(tmp_path) -> Path:
    folder = tmp_path / "profiles"
    save_profile(
        folder,
        MappingProfile(
            name="supplier",
            columns={"sku": "sku", "name": "title", "price": "price"},
            options=ProfileOptions(delimiter=";", decimal_comma=True),
        ),
    )
    return folder


def write(path: Path, text: str = CSV) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def only(scan, name):
    (item,) = [f for f in scan.files if f.name == name]
    return item


def test_prepare_inbox_creates_its_folders_and_refuses_linked_ones(tmp_path) -> None:
    root = prepare_inbox(tmp_path / "a" / "inbox")
    assert (root / PROCESSED).is_dir() and (root / REJECTED).is_dir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    (other / PROCESSED).symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(InboxError, match="is a link"):
        prepare_inbox(other)
    write(tmp_path / "plain")
    with pytest.raises(InboxError, match="not a folder"):
        prepare_inbox(tmp_path / "plain")


@pytest.mark.parametrize(
    "name",
    [".hidden.csv", "upload.csv.part", "upload.csv.TMP", "x.csv.crdownload", "a.csv.yaml"],
)
def test_hidden_partial_and_sidecar_names_are_not_batches(name) -> None:
    assert not is_candidate_name(name)
    assert is_candidate_name("supplier.csv")
    assert not is_candidate_name(PROCESSED) and not is_candidate_name(REJECTED)


def test_a_file_is_ready_only_when_two_looks_agree(inbox) -> None:
    path = write(inbox / "supplier.csv")
    write(inbox / ".supplier.csv.swp")
    write(inbox / "supplier.csv.part")
    (inbox / "sub").mkdir()
    write(inbox / "sub" / "nested.csv")

    first = scan_inbox(inbox)
    assert [f.name for f in first.files] == ["supplier.csv"]
    assert ready_files(first, {}) == []

    second = scan_inbox(inbox)
    assert [f.name for f in ready_files(second, first.looks)] == ["supplier.csv"]
    assert only(second, "supplier.csv").look == Look(path.stat().st_size, path.stat().st_mtime_ns)

    with path.open("a", encoding="utf-8") as f:
        f.write("A-3;Cap;7,00\n")
    growing = scan_inbox(inbox)
    assert ready_files(growing, second.looks) == []
    assert [f.name for f in ready_files(scan_inbox(inbox), growing.looks)] == ["supplier.csv"]


def test_a_changing_sidecar_holds_its_file_back(inbox) -> None:
    write(inbox / "supplier.csv")
    sidecar = write(inbox / "supplier.csv.yaml", "profile: supplier\n")
    first = scan_inbox(inbox)
    assert only(first, "supplier.csv").sidecars == ("supplier.csv.yaml",)
    assert set(first.looks) == {"supplier.csv", "supplier.csv.yaml"}
    write(sidecar, "profile: supplier\noptions: {note: late}\n")
    second = scan_inbox(inbox)
    assert ready_files(second, first.looks) == []
    assert len(ready_files(scan_inbox(inbox), second.looks)) == 1


def test_only_the_oldest_files_are_tracked(inbox) -> None:
    for k in range(5):
        path = write(inbox / f"f{k}.csv")
        os.utime(path, ns=(10**18 - k * 10**9, 10**18 - k * 10**9))
    scan = scan_inbox(inbox, max_files=2)
    assert [f.name for f in scan.files] == ["f4.csv", "f3.csv"]
    assert scan.waiting == 3
    assert set(scan.looks) == {"f4.csv", "f3.csv"}


@pytest.mark.parametrize("name", ["../escape.csv", "/etc/passwd", "a/b.csv", "..", "", "x\x00y"])
def test_names_with_path_tricks_are_refused(inbox, name) -> None:
    with pytest.raises(UnsafeName):
        entry_path(inbox, name)
    with pytest.raises(UnsafeName):
        move_to_rejected(inbox, name, "no")


def test_links_leading_outside_are_refused_and_links_inside_followed(inbox, tmp_path) -> None:
    secret = write(tmp_path / "secret.csv")
    (inbox / "outside.csv").symlink_to(secret)
    (inbox / "up.csv").symlink_to(Path("..") / "secret.csv")
    (inbox / "loop.csv").symlink_to(inbox / "loop.csv")
    real = write(inbox / "real.csv")
    (inbox / "alias.csv").symlink_to(real)

    scan = scan_inbox(inbox)
    refused = dict(scan.refused)
    assert sorted(refused) == ["loop.csv", "outside.csv", "up.csv"]
    assert (
        "outside the inbox" in refused["outside.csv"] and "outside the inbox" in refused["up.csv"]
    )
    assert "cannot be followed" in refused["loop.csv"]
    assert sorted(f.name for f in scan.files) == ["alias.csv", "real.csv"]
    with pytest.raises(UnsafeName, match="outside the inbox"):
        entry_path(inbox, "outside.csv")

    moved = move_to_rejected(inbox, "outside.csv", "it is a link to a file outside the inbox")
    assert moved.is_symlink() and moved.parent == inbox / REJECTED
    assert secret.read_text(encoding="utf-8") == CSV
    assert "outside the inbox" in (inbox / REJECTED / "outside.csv.reason.txt").read_text()


def test_cursor_round_trip_and_unreadable_cursors(inbox) -> None:
    write(inbox / "a b é.csv")
    scan = scan_inbox(inbox)
    text = encode_looks(scan.looks)
    assert decode_looks(text) == scan.looks
    assert len(text) < 200
    for bad in (None, "", "not json", "[]", '{"looks": {"a": [1]}}', '{"looks": 3}'):
        assert decode_looks(bad) == {}


def test_sidecar_profile_and_options_become_batch_options(inbox, profiles) -> None:
    write(inbox / "supplier.csv")
    write(
        inbox / "supplier.csv.yaml",
        "profile: supplier\n"
        "options:\n  brand_voice: {tone: calm, avoid: [cheap]}\n  note: weekly\n",
    )
    item = only(scan_inbox(inbox), "supplier.csv")
    sidecar = read_sidecar(inbox, item, profiles)
    assert sidecar.profile.name == "supplier"
    assert inspect_file(inbox, item, profiles) == {
        "brand_voice": {"tone": "calm", "avoid": ["cheap"]},
        "note": "weekly",
        "profile": "supplier",
    }


def test_a_file_without_sidecar_has_no_options(inbox, profiles) -> None:
    write(inbox / "supplier.csv")
    write(inbox / "empty.csv")
    write(inbox / "empty.csv.yaml", "")
    scan = scan_inbox(inbox)
    assert inspect_file(inbox, only(scan, "supplier.csv"), profiles) == {}
    assert inspect_file(inbox, only(scan, "empty.csv"), profiles) == {}


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ("profile: nobody\n", "no mapping profile 'nobody'"),
        ("profile: [unclosed\n", "not valid YAML"),
        ("profiel: supplier\n", "unknown keys ['profiel']"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("options: [1, 2]\n", "'options' must be a mapping"),
        ("options: {day: 2024-01-31}\n", "'options' may only hold"),
        ("options: {profile: supplier}\n", "top-level 'profile'"),
        ("profile: ../../etc/passwd\n", "not a usable profile name"),
    ],
)
def test_a_wrong_sidecar_rejects_the_file_naming_the_sidecar(
    inbox, profiles, sidecar, message
) -> None:
    write(inbox / "supplier.csv")
    write(inbox / "supplier.csv.yaml", sidecar)
    item = only(scan_inbox(inbox), "supplier.csv")
    with pytest.raises(Rejected) as caught:
        inspect_file(inbox, item, profiles)
    assert "supplier.csv.yaml" in caught.value.reason
    assert message in caught.value.reason


def test_a_sidecar_linking_outside_or_doubled_is_rejected(inbox, profiles, tmp_path) -> None:
    write(inbox / "a.csv")
    (inbox / "a.csv.yaml").symlink_to(write(tmp_path / "outside.yaml", "profile: supplier\n"))
    write(inbox / "b.csv")
    write(inbox / "b.csv.yaml", "profile: supplier\n")
    write(inbox / "b.csv.yml", "profile: supplier\n")
    scan = scan_inbox(inbox)
    with pytest.raises(Rejected, match=r"sidecar a\.csv\.yaml: .*outside the inbox"):
        inspect_file(inbox, only(scan, "a.csv"), profiles)
    with pytest.raises(Rejected, match="two sidecars"):
        inspect_file(inbox, only(scan, "b.csv"), profiles)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty.csv: the file is empty"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "export the sheet as CSV"),
        (b'[{"sku": "A-1"}]', "looks like JSON"),
        (b"sku,name\n", "a header (2 columns) but no rows"),
    ],
)
def test_a_file_that_cannot_be_read_at_all_is_rejected(inbox, content, message) -> None:
    (inbox / "empty.csv").write_bytes(content)
    item = only(scan_inbox(inbox), "empty.csv")
    with pytest.raises(Rejected, match=re.escape(message)) as caught:
        check_readable(item)
    assert caught.value.reason.startswith("empty.csv")


def test_the_profile_decides_how_the_file_is_read(inbox) -> None:
    path = inbox / "latin.csv"
    path.write_bytes("sku|name\nA-1|Käse\n".encode("cp1252"))
    item = only(scan_inbox(inbox), "latin.csv")
    check_readable(item)
    wrong = MappingProfile("ascii", {}, ProfileOptions(encoding="ascii"))
    with pytest.raises(Rejected, match=r"latin\.csv, line 2: cannot be decoded as ascii"):
        check_readable(item, wrong)


def test_processed_files_keep_their_name_and_collisions_keep_both(inbox) -> None:
    write(inbox / "supplier.csv", "first\n")
    write(inbox / "supplier.csv.yaml", "profile: supplier\n")
    first = move_to_processed(inbox, only(scan_inbox(inbox), "supplier.csv"))
    assert first == inbox / PROCESSED / "supplier.csv"
    assert (inbox / PROCESSED / "supplier.csv.yaml").is_file()

    write(inbox / "supplier.csv", "second\n")
    second = move_to_processed(inbox, only(scan_inbox(inbox), "supplier.csv"))
    assert second == inbox / PROCESSED / "supplier-2.csv"
    assert first.read_text() == "first\n" and second.read_text() == "second\n"
    assert sorted(p.name for p in inbox.iterdir()) == [PROCESSED, REJECTED]


def test_rejected_files_get_a_reason_beside_them(inbox) -> None:
    write(inbox / "bad.csv", "")
    write(inbox / "bad.csv.yaml", "profile: nobody\n")
    write(inbox / REJECTED / "bad.csv", "older\n")
    moved = move_to_rejected(inbox, "bad.csv", "sidecar bad.csv.yaml: no profile", ["bad.csv.yaml"])
    assert moved == inbox / REJECTED / "bad-2.csv"
    assert (inbox / REJECTED / "bad-2.csv.yaml").read_text() == "profile: nobody\n"
    reason = (inbox / REJECTED / "bad-2.csv.reason.txt").read_text(encoding="utf-8")
    assert reason == "sidecar bad.csv.yaml: no profile\n"
    assert (inbox / REJECTED / "bad.csv").read_text() == "older\n"
    assert not (inbox / "bad.csv").exists()
