"""Row-level findings: one shape for every error and warning a stage reports.

A finding names the source line, the column (as the user's file spells it), the check
that failed, the offending value and a sentence a person can act on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class RowIssue:
    """One reason a row was rejected or flagged."""

    line: int
    column: str
    check: str
    value: str
    message: str

    def describe(self, file_name: str | None = None) -> str:
        """Render the issue as one sentence naming file, line and column."""
        where = f"{file_name}, line {self.line}" if file_name else f"line {self.line}"
        return f"{where}, column '{self.column}': {self.message}"

    def to_dict(self) -> dict[str, object]:
        """The issue as a JSON-ready dict."""
        return asdict(self)


def issues_to_json(issues: list[RowIssue]) -> str:
    """Serialize issues for a JSON text column."""
    return json.dumps([i.to_dict() for i in issues], ensure_ascii=False)


def issues_from_json(text: str | None) -> list[RowIssue]:
    """Parse a JSON text column written by ``issues_to_json`` (empty for blank)."""
    if not text:
        return []
    return [RowIssue(**item) for item in json.loads(text)]


class SourceFileError(ValueError):
    """The input file as a whole cannot be read; names the file, the line and the column."""

    def __init__(
        self, file_name: str, reason: str, line: int | None = None, column: str | None = None
    ) -> None:
        self.file_name = file_name
        self.line = line
        self.column = column
        self.reason = reason
        where = file_name
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {reason}")
