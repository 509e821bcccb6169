"""A folder written in full beside its place, then put there by renames.

A batch's bundle is published as one unit with the catalog: its files are written into
a hidden staging folder next to ``exports/<batch>/``, the staging folder replaces the
published one just before the catalog transaction commits, and it is taken back out if
the commit fails. A reader of ``exports/<batch>/`` sees the old bundle or the new one,
never a mix of the two; a process killed half-way leaves hidden folders that the next
publication of the same batch clears (restoring the previous bundle if it had been moved
aside and the new one never put in place).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

_STAGING = "staging"
_PREVIOUS = "previous"


def _leftovers(final: Path, kind: str) -> list[Path]:
    return sorted(final.parent.glob(f".{final.name}.{kind}-*"))


def recover(final: Path) -> None:
    """Clear what an interrupted publication of ``final`` left behind.

    Staging folders are removed. A previous bundle moved aside is put back when no bundle
    is in place (the new one never got there), and removed otherwise.
    """
    for staging in _leftovers(final, _STAGING):
        shutil.rmtree(staging, ignore_errors=True)
    for previous in _leftovers(final, _PREVIOUS):
        if not final.exists():
            previous.rename(final)
        else:
            shutil.rmtree(previous, ignore_errors=True)


class StagedFolder:
    """Files for ``final`` written under :attr:`path`, published by :meth:`put_in_place`.

    Use it as a context manager: leaving the block by an exception, before or after
    :meth:`put_in_place`, removes the staged files and brings the previous folder back;
    call :meth:`finish` once the unit it belongs to has committed.
    """

    def __init__(self, final: Path) -> None:
        self.final = Path(final)
        token = uuid.uuid4().hex[:12]
        self.path = self.final.parent / f".{self.final.name}.{_STAGING}-{token}"
        self._previous = self.final.parent / f".{self.final.name}.{_PREVIOUS}-{token}"
        self._placed = False

    def __enter__(self) -> StagedFolder:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        recover(self.final)
        self.path.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.roll_back()

    def put_in_place(self) -> None:
        """Move the published folder aside and the staged one into its place."""
        if self.final.exists():
            self.final.rename(self._previous)
        self.path.rename(self.final)
        self._placed = True

    def roll_back(self) -> None:
        """Undo :meth:`put_in_place` (if done) and remove the staged files."""
        if self._placed:
            self.final.rename(self.path)
            self._placed = False
        if self._previous.exists():
            self._previous.rename(self.final)
        shutil.rmtree(self.path, ignore_errors=True)

    def finish(self) -> None:
        """Drop the previous folder: the new one is published for good."""
        shutil.rmtree(self._previous, ignore_errors=True)
