"""What the assets put in their materialization metadata: markdown tables, shared keys."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

# Metadata key of `source_rows`: what reading the file warned about (mixed encodings, say).
READ_WARNINGS = "read_warnings"


def _cell(value: Any) -> str:
    return str(value).replace("|", r"\|").replace("\n", " ")


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]], more: str = "") -> str:
    """A markdown table; ``more`` is a last row saying what was left out, if anything."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    if more:
        lines.append("| … | " + _cell(more) + " |" + " |" * (len(header) - 2))
    return "\n".join(lines)
