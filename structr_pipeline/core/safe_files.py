"""Reading what other people put in a folder: regular files only, bounded, safe to show.

A named pipe, a device or a socket given the name of a CSV or a sidecar must not hang
the reader, a small YAML file must not expand into gigabytes, and a file name with a
newline or a terminal escape must not forge log lines.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from yaml.composer import ComposerError

# Nesting deeper than this in a sidecar or a profile is refused (they need three levels).
MAX_YAML_DEPTH = 32

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a link"),
)


class UnsafeFile(OSError):
    """A file that is not read: not a regular file, a link where none may be, or too large."""


def file_kind(mode: int) -> str:
    """What an ``st_mode`` describes, as words: ``a regular file``, ``a named pipe (FIFO)``…"""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path, *, follow_links: bool = True) -> BinaryIO:
    """Open ``path`` for reading in binary, if it is a regular file.

    The open never blocks (``O_NONBLOCK``, so a named pipe without a writer returns at
    once) and the type is checked on the opened descriptor, so the file cannot be
    swapped between the check and the read. With ``follow_links=False`` a link as the
    last component is refused (``O_NOFOLLOW``). Raises ``UnsafeFile`` (an ``OSError``)
    saying what the entry is instead.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_links:
            raise UnsafeFile("it is a link, which is not followed here") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnsafeFile(f"it is {file_kind(mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path, limit: int, *, follow_links: bool = True) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (opened as ``open_regular``).

    Raises ``UnsafeFile`` for anything but a regular file and for a larger file.
    """
    with open_regular(path, follow_links=follow_links) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"it is larger than the {limit:,} bytes allowed")
    return data


class _PlainLoader(yaml.SafeLoader):
    """The safe loader without aliases and with bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose the next node; an alias (``*name``) or too deep a nesting is an error."""
        if self.check_event(yaml.AliasEvent):
            raise ComposerError(
                None,
                None,
                "found an alias (*name): aliases are not allowed; write the value out",
                self.peek_event().start_mark,
            )
        if self._depth >= MAX_YAML_DEPTH:
            raise ComposerError(
                None,
                None,
                f"found values nested more than {MAX_YAML_DEPTH} levels deep",
                self.peek_event().start_mark,
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str) -> Any:
    """Parse one YAML document of plain values, refusing aliases and deep nesting.

    Aliases are what lets a few hundred bytes expand into gigabytes ("billion laughs").
    Raises ``yaml.YAMLError`` for those and for any YAML the safe loader rejects,
    including values it cannot convert (an integer of thousands of digits).
    """
    loader = _PlainLoader(text)
    try:
        return loader.get_single_data()
    except ValueError as exc:
        raise yaml.YAMLError(f"a value cannot be read: {exc}") from exc
    finally:
        loader.dispose()


def printable_name(name: str) -> str:
    """A file name fit for a log line: control, format and other unprintable characters
    (newlines, terminal escapes, direction overrides, undecodable bytes) escaped as Python
    writes them, and backslashes doubled so the escapes stay unambiguous."""
    if name.isprintable() and "\\" not in name:
        return name
    return "".join(
        "\\\\" if ch == "\\" else ch if ch.isprintable() else repr(ch)[1:-1] for ch in name
    )
