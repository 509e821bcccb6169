"""A dry run of the first stages on a file: ``structr analyze``.

Names the format it recognised and how the rows will group into products (read from
the whole file, up to ``FULL_READ_BYTES``; beyond that from its start), proposes (or
applies) the column mapping, validates the first rows, and reports what an import
would do, without registering a batch or touching the catalog.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.connectors.platforms.assembly import Grouping
from structr_pipeline.core.connectors.registry import map_table, missing_required
from structr_pipeline.core.csv_reading import read_sample, read_table
from structr_pipeline.core.issues import issues_from_json
from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileOptions
from structr_pipeline.core.mapping.propose import MappingProposal
from structr_pipeline.core.validation import validate_products

# Files up to this size are read whole, so that parents and children far apart in the
# file group as they will on import; larger ones are judged on their start.
FULL_READ_BYTES = 64 << 20
PREVIEW_FIELDS = ("handle", "title", "sku", "barcode", "price", "vendor", "inventory_qty")


@dataclass(frozen=True)
class Analysis:
    """What an import of the file would do, judged on its first rows."""

    file: str
    encoding: str
    delimiter: str
    source_format: str
    rows_sampled: int
    proposal: MappingProposal
    field_sources: dict[str, str]
    missing_required: list[str]
    preview: list[dict[str, Any]]
    rejected_in_sample: int
    first_reasons: list[str]
    grouping: Grouping
    whole_file: bool = True
    read_warnings: tuple[str, ...] = ()

    @property
    def unmapped(self) -> list[str]:
        """Source columns no field is taken from (kept as extra attributes on import)."""
        return [c for c, p in self.proposal.columns.items() if p.field is None]

    def to_json(self) -> dict[str, Any]:
        """The analysis as JSON-ready data; ``columns``, ``encoding`` and ``delimiter`` first."""
        return {
            "columns": {
                column: {
                    "field": p.field,
                    "confidence": p.confidence,
                    "evidence": list(p.evidence),
                    "unit_factor": p.unit_factor,
                }
                for column, p in self.proposal.columns.items()
            },
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "read_warnings": list(self.read_warnings),
            "file": self.file,
            "source_format": self.source_format,
            "rows_sampled": self.rows_sampled,
            "unmapped": self.unmapped,
            "missing_required": self.missing_required,
            "preview": self.preview,
            "rejected_in_sample": self.rejected_in_sample,
            "first_reasons": self.first_reasons,
            "grouping": self.grouping.to_json(),
            "whole_file": self.whole_file,
        }


def analyze_file(
    path: Path, profile: MappingProfile | None = None, max_rows: int = 1000
) -> Analysis:
    """Analyse ``path`` (with a profile, if given): its format and grouping, and how its
    first ``max_rows`` rows validate."""
    options = profile.options if profile else ProfileOptions()
    whole = path.stat().st_size <= FULL_READ_BYTES
    if whole:
        table = read_table(path, encoding=options.encoding, delimiter=options.delimiter)
    else:
        table = read_sample(path, max_rows, encoding=options.encoding, delimiter=options.delimiter)
    mapping = map_table(table, profile)
    first = mapping.frame.head(max_rows)
    result = validate_products(first, table.frame, mapping.field_sources, table.file_name)
    preview = []
    for row in result.valid.head(5).to_dict("records"):
        preview.append({name: _plain(row[name]) for name in PREVIEW_FIELDS})
    reasons = [
        issue.describe(table.file_name)
        for text in result.rejected["errors"].head(5)
        for issue in issues_from_json(text)
    ]
    return Analysis(
        file=table.file_name,
        encoding=table.encoding,
        delimiter=table.delimiter,
        source_format=mapping.source_format,
        rows_sampled=min(len(table.frame), max_rows),
        proposal=mapping.proposal,
        field_sources=mapping.field_sources,
        missing_required=missing_required(mapping.field_sources),
        preview=preview,
        rejected_in_sample=len(result.rejected),
        first_reasons=reasons[:5],
        grouping=mapping.grouping,
        whole_file=whole,
        read_warnings=table.warnings,
    )


def profile_from(analysis: Analysis, name: str) -> MappingProfile:
    """A profile holding the analysed mapping and the detected delimiter, for a user to edit."""
    return MappingProfile(
        name=name,
        columns={column: p.field for column, p in analysis.proposal.columns.items()},
        options=ProfileOptions(delimiter=analysis.delimiter),
    )


def _plain(value: Any) -> Any:
    """A frame cell as a JSON value (NaN and pandas NA become None, NumPy scalars Python)."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value
