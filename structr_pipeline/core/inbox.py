"""The inbox folder: files dropped there become import batches once they stop changing.

This module holds the file logic only: list the folder, tell which files kept the same
size and modification time between two looks, refuse names and links that lead outside
the folder, read a file's sidecar (``<file>.yaml``: a mapping profile and batch options),
check that the file can be read as a table at all, and move it to ``processed/``, or to
``rejected/`` with a ``<file>.reason.txt`` beside it.

Hidden files (names starting with ``.``), partial uploads (``.part``, ``.tmp``,
``.crdownload`` and the like), sidecars and the ``processed/`` and ``rejected/`` folders
are never batches. Only regular files are opened, never blocking (a named pipe is
refused, not read), sidecars up to ``MAX_SIDECAR_BYTES`` and without YAML aliases; names
in reasons are escaped by ``printable_name``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from structr_pipeline.core.connectors.json_batch import is_json_batch, read_json_batch
from structr_pipeline.core.csv_reading import sample_table
from structr_pipeline.core.issues import SourceFileError
from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileError, load_profile
from structr_pipeline.core.safe_files import file_kind, load_yaml, open_regular, printable_name

PROCESSED = "processed"
REJECTED = "rejected"
REASON_SUFFIX = ".reason.txt"
SIDECAR_SUFFIXES = (".yaml", ".yml")
PARTIAL_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".filepart")
# Files remembered between two looks; the oldest are looked at first, the rest wait.
MAX_TRACKED = 500
# A sidecar holds a profile name and a few options; anything larger is refused unread.
MAX_SIDECAR_BYTES = 64 * 1024
# Records read to decide whether a file can be read as a table at all.
_SAMPLE_ROWS = 200
_CURSOR_VERSION = 1


class InboxError(RuntimeError):
    """The inbox folder itself cannot be used; the message says which folder and why."""


class UnsafeName(ValueError):
    """A name that is not a plain file name in the inbox, or a link leading outside it."""


class Rejected(ValueError):
    """A file that cannot become a batch; ``reason`` is the sentence written beside it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Look:
    """What one look at a file saw: its size and modification time (nanoseconds)."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class InboxFile:
    """A file in the inbox that may become a batch, with the sidecars found beside it."""

    name: str
    path: Path
    look: Look
    sidecars: tuple[str, ...] = ()


@dataclass
class Scan:
    """One look at the inbox.

    ``files`` are the batch candidates, oldest first; ``refused`` the entries that lead
    outside the inbox, with the reason; ``looks`` what to compare the next look with
    (candidates and their sidecars); ``waiting`` the candidates left for a later look.
    """

    files: list[InboxFile] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    looks: dict[str, Look] = field(default_factory=dict)
    waiting: int = 0


@dataclass(frozen=True)
class Sidecar:
    """What a sidecar asks for: a mapping profile (already loaded) and batch options."""

    name: str
    profile: MappingProfile | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def batch_options(self) -> dict[str, Any]:
        """The options to record in the batch manifest, the profile's name included."""
        options = dict(self.options)
        if self.profile is not None:
            options["profile"] = self.profile.name
        return options


def is_sidecar_name(name: str) -> bool:
    """True for a sidecar's name (``*.yaml`` or ``*.yml``)."""
    return name.lower().endswith(SIDECAR_SUFFIXES)


def is_candidate_name(name: str) -> bool:
    """True when a file of this name may become a batch.

    Hidden files, partial uploads, sidecars and the inbox's own folders are not batches.
    """
    lowered = name.lower()
    return not (
        name.startswith(".")
        or name in (PROCESSED, REJECTED)
        or lowered.endswith(PARTIAL_SUFFIXES)
        or is_sidecar_name(name)
    )


def prepare_inbox(inbox: Path) -> Path:
    """Create the inbox and its ``processed/`` and ``rejected/`` folders; its resolved path.

    Raises ``InboxError`` when the inbox is not a folder, or when ``processed`` or
    ``rejected`` is a link or not a folder (files moved there could land anywhere).
    """
    inbox = Path(inbox).expanduser()
    try:
        inbox.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InboxError(f"the inbox {inbox} is not a folder") from exc
    root = inbox.resolve()
    for sub in (PROCESSED, REJECTED):
        folder = root / sub
        if folder.is_symlink():
            raise InboxError(f"{folder} is a link; the inbox needs a real '{sub}' folder")
        try:
            folder.mkdir(exist_ok=True)
        except FileExistsError as exc:
            raise InboxError(f"{folder} is a file; the inbox needs a '{sub}' folder") from exc
    return root


def _check_plain_name(name: str) -> None:
    separators = {os.sep, os.altsep} - {None}
    if (
        not name
        or name in (".", "..")
        or "\x00" in name
        or any(sep in name for sep in separators)
        or Path(name).is_absolute()
    ):
        raise UnsafeName(f"'{printable_name(name)}' is not a plain file name in the inbox")


def _entry_target(root: Path, name: str) -> tuple[Path, Path]:
    """The path of ``name`` in ``root`` and where it leads (itself unless it is a link)."""
    _check_plain_name(name)
    root = Path(root).resolve()
    path = root / name
    shown = printable_name(name)
    try:
        target = path.resolve()
    except (OSError, RuntimeError) as exc:
        raise UnsafeName(f"'{shown}' is a link that cannot be followed ({exc})") from exc
    if not target.is_relative_to(root):
        raise UnsafeName(f"'{shown}' is a link to {printable_name(str(target))}, outside the inbox")
    return path, target


def entry_path(root: Path, name: str) -> Path:
    """The path of ``name`` in the inbox ``root``, if it stays inside the inbox.

    Raises ``UnsafeName`` for anything but a plain file name (separators, ``..``, an
    absolute path, NUL) and for a link whose target is outside the inbox.
    """
    return _entry_target(root, name)[0]


def open_entry(root: Path, name: str) -> BinaryIO:
    """Open the inbox entry ``name`` for reading, if it is a regular file in the inbox.

    A link inside the inbox is followed once, to the target checked by ``entry_path``;
    that target is opened without following links and without blocking, and its type is
    checked on the open file. Raises ``UnsafeName`` as ``entry_path`` does, and
    ``UnsafeFile`` (an ``OSError``) for a named pipe, a device, a socket or a folder.
    """
    return open_regular(_entry_target(root, name)[1], follow_links=False)


def scan_inbox(root: Path, max_files: int = MAX_TRACKED) -> Scan:
    """Look at the inbox once: batch candidates with their size and modification time.

    Only the inbox's own entries are considered (no sub-folders). Links are followed only
    when their target is a file inside the inbox; links leading outside are listed in
    ``refused``, and so are named pipes, devices and sockets (nothing is opened here).
    At most ``max_files`` candidates are kept, oldest first; ``waiting`` counts the
    others, left for a later look.
    """
    root = Path(root).resolve()
    with os.scandir(root) as entries:
        names = {entry.name: entry for entry in entries}
    scan = Scan()
    found: list[InboxFile] = []
    for name, entry in names.items():
        if not is_candidate_name(name):
            continue
        if entry.is_dir(follow_symlinks=False):
            continue
        try:
            path = entry_path(root, name)
        except UnsafeName as exc:
            scan.refused.append((name, str(exc)))
            continue
        try:
            info = path.stat()
        except OSError:
            continue  # a dangling link, or a file removed while listing
        if stat.S_ISDIR(info.st_mode):
            continue
        if not stat.S_ISREG(info.st_mode):
            kind = file_kind(info.st_mode)
            scan.refused.append((name, f"{printable_name(name)} is {kind}, not a regular file"))
            continue
        sidecars = tuple(name + s for s in SIDECAR_SUFFIXES if name + s in names)
        found.append(InboxFile(name, path, Look(info.st_size, info.st_mtime_ns), sidecars))
    found.sort(key=lambda f: (f.look.mtime_ns, f.name))
    scan.files = found[:max_files]
    scan.waiting = len(found) - len(scan.files)
    for item in scan.files:
        scan.looks[item.name] = item.look
        for sidecar in item.sidecars:
            look = _look(root / sidecar)
            if look is not None:
                scan.looks[sidecar] = look
    return scan


def _look(path: Path) -> Look | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return Look(info.st_size, info.st_mtime_ns)


def ready_files(scan: Scan, previous: Mapping[str, Look]) -> list[InboxFile]:
    """The candidates that stopped changing: the same look now as in ``previous``.

    A file's sidecars must have stopped changing too, so a sidecar being written is
    not read half-way.
    """
    return [
        item
        for item in scan.files
        if all(
            name in scan.looks and previous.get(name) == scan.looks[name]
            for name in (item.name, *item.sidecars)
        )
    ]


def encode_looks(looks: Mapping[str, Look]) -> str:
    """The looks as a compact JSON cursor."""
    body = {name: [look.size, look.mtime_ns] for name, look in sorted(looks.items())}
    return json.dumps({"v": _CURSOR_VERSION, "looks": body}, separators=(",", ":"))


def decode_looks(cursor: str | None) -> dict[str, Look]:
    """The looks in a cursor written by ``encode_looks``; empty for none or an unreadable one.

    An empty result only means every file needs one more look before it is taken.
    """
    if not cursor:
        return {}
    try:
        body = json.loads(cursor)
        return {
            str(name): Look(int(size), int(mtime_ns))
            for name, (size, mtime_ns) in body["looks"].items()
        }
    except (ValueError, TypeError, KeyError, AttributeError):
        return {}


def read_sidecar(root: Path, item: InboxFile, profiles_dir: Path) -> Sidecar | None:
    """Read the file's sidecar, if it has one; the profile it names is loaded and checked.

    A sidecar is a YAML mapping with ``profile`` (a profile name in ``profiles_dir``)
    and ``options`` (a mapping of plain values), both optional. Raises ``Rejected`` with
    a reason naming the sidecar when it is unsafe, not a regular file (a named pipe is
    never read), larger than ``MAX_SIDECAR_BYTES``, not valid YAML or uses YAML aliases,
    has other keys, names an unknown or broken profile, or when the file has two sidecars.
    """
    if not item.sidecars:
        return None
    if len(item.sidecars) > 1:
        listed = " and ".join(printable_name(s) for s in item.sidecars)
        raise Rejected(f"{printable_name(item.name)} has two sidecars ({listed}); keep one")
    name = printable_name(item.sidecars[0])
    try:
        with open_entry(root, item.sidecars[0]) as f:
            data = f.read(MAX_SIDECAR_BYTES + 1)
        if len(data) > MAX_SIDECAR_BYTES:
            raise Rejected(
                f"sidecar {name} is larger than {MAX_SIDECAR_BYTES // 1024} KiB; a sidecar "
                "holds a profile name and a few options"
            )
        content = load_yaml(data.decode("utf-8"))
    except UnsafeName as exc:
        raise Rejected(f"sidecar {name}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise Rejected(f"sidecar {name} cannot be read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise Rejected(f"sidecar {name} is not valid YAML: {exc}") from exc
    if content is None:
        return Sidecar(name=name)
    if not isinstance(content, dict):
        raise Rejected(f"sidecar {name} must be a YAML mapping with 'profile' and 'options'")
    unknown = sorted(str(key) for key in set(content) - {"profile", "options"})
    if unknown:
        raise Rejected(f"sidecar {name} has unknown keys {unknown}; expected profile, options")
    profile = None
    profile_name = content.get("profile")
    if profile_name is not None:
        if not isinstance(profile_name, str):
            raise Rejected(f"sidecar {name}: 'profile' must be a profile name")
        try:
            profile = load_profile(profiles_dir, profile_name)
        except ProfileError as exc:
            raise Rejected(f"sidecar {name}: {exc}") from exc
    return Sidecar(name=name, profile=profile, options=_options(name, content.get("options")))


def _options(sidecar: str, options: Any) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, dict) or not all(isinstance(k, str) for k in options):
        raise Rejected(f"sidecar {sidecar}: 'options' must be a mapping of names to values")
    if "profile" in options:
        raise Rejected(
            f"sidecar {sidecar}: name the profile with the top-level 'profile' key, "
            "not inside 'options'"
        )
    try:
        return json.loads(json.dumps(options, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise Rejected(
            f"sidecar {sidecar}: 'options' may only hold text, numbers, booleans, lists and "
            f"mappings ({exc})"
        ) from exc


def check_readable(item: InboxFile, profile: MappingProfile | None = None) -> tuple[str, ...]:
    """Raise ``Rejected`` when the file cannot be read as a table (or JSON Lines) at all.

    The start of the file is read as the pipeline would read it (with the profile's
    encoding and delimiter when it fixes them); the reason names the file, and the line
    and column where the problem is. The file is opened as ``open_entry`` opens it, so
    a named pipe or a device put in its place is refused without blocking. Returns the
    warnings of reading that start (lines decoded as cp1252 in a UTF-8 file).
    """
    options = profile.options if profile is not None else None
    shown = printable_name(item.name)
    try:
        with open_entry(item.path.parent, item.name) as f:
            if is_json_batch(item.name):
                read_json_batch(item.path, item.name)
                return ()
            table = sample_table(
                f,
                item.name,
                max_rows=_SAMPLE_ROWS,
                encoding=options.encoding if options else None,
                delimiter=options.delimiter if options else None,
            )
    except SourceFileError as exc:
        located = SourceFileError(shown, exc.reason, line=exc.line, column=exc.column)
        raise Rejected(str(located)) from exc
    except UnsafeName as exc:
        raise Rejected(str(exc)) from exc
    except OSError as exc:
        raise Rejected(f"{shown}: cannot be opened ({exc.strerror or exc})") from exc
    return table.warnings


def inspect_file(root: Path, item: InboxFile, profiles_dir: Path) -> dict[str, Any]:
    """The batch options for a ready file, after reading its sidecar and its first rows.

    Raises ``Rejected`` when the sidecar is wrong or the file cannot be read at all, and
    ``UnsafeName`` when the entry has become a link leading outside since the look.
    """
    return inspect_ready(root, item, profiles_dir).options


@dataclass(frozen=True)
class Inspection:
    """What reading a ready file found: its batch options and warnings to pass on."""

    options: dict[str, Any]
    warnings: tuple[str, ...] = ()


def inspect_ready(root: Path, item: InboxFile, profiles_dir: Path) -> Inspection:
    """``inspect_file``, with the warnings of reading the file's start."""
    entry_path(root, item.name)
    sidecar = read_sidecar(root, item, profiles_dir)
    warnings = check_readable(item, sidecar.profile if sidecar else None)
    return Inspection(sidecar.batch_options() if sidecar else {}, warnings)


def _free_name(folder: Path, name: str, companions: Iterable[str]) -> str:
    """``name``, or ``<stem>-<n><suffix>`` when it (or a companion file) is taken."""
    suffixes = tuple(companions)
    suffix = Path(name).suffix
    stem = name[: len(name) - len(suffix)]
    candidate, n = name, 1
    while any(os.path.lexists(folder / (candidate + s)) for s in ("", *suffixes)):
        n += 1
        candidate = f"{stem}-{n}{suffix}"
    return candidate


def _move(root: Path, name: str, sidecars: Iterable[str], folder_name: str, extra: str = "") -> str:
    """Move ``name`` and its sidecars into ``root/folder_name``; the name it now has."""
    root = Path(root).resolve()
    folder = root / folder_name
    folder.mkdir(exist_ok=True)
    sidecars = [s for s in sidecars if os.path.lexists(root / s)]
    suffixes = [s[len(name) :] for s in sidecars]
    target = _free_name(folder, name, [*suffixes, *([extra] if extra else [])])
    # A link is moved as a link: its target is never touched.
    os.replace(root / name, folder / target)
    for sidecar, suffix in zip(sidecars, suffixes, strict=True):
        os.replace(root / sidecar, folder / (target + suffix))
    return target


def move_to_processed(root: Path, item: InboxFile) -> Path:
    """Move a file that became a batch (and its sidecar) to ``processed/``; its new path.

    The file keeps its name unless ``processed/`` already holds one of that name; then
    both are kept, the newcomer with a ``-2``, ``-3``… suffix before its extension.
    """
    entry_path(root, item.name)
    target = _move(root, item.name, item.sidecars, PROCESSED)
    return Path(root).resolve() / PROCESSED / target


def move_to_rejected(root: Path, name: str, reason: str, sidecars: Iterable[str] = ()) -> Path:
    """Move a file (and its sidecars) to ``rejected/`` with ``<name>.reason.txt`` beside it.

    ``name`` must be a plain name in the inbox (``UnsafeName`` otherwise); a link is
    moved as it is, never followed. Names are kept as in ``move_to_processed``. Returns
    the file's new path.
    """
    _check_plain_name(name)
    root = Path(root).resolve()
    target = _move(root, name, sidecars, REJECTED, extra=REASON_SUFFIX)
    reason_path = root / REJECTED / (target + REASON_SUFFIX)
    partial = reason_path.with_name(f".{reason_path.name}.part")
    partial.write_text(reason.rstrip() + "\n", encoding="utf-8")
    os.replace(partial, reason_path)
    return root / REJECTED / target
