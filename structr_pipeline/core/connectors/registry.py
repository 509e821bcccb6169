"""Choose the connector for a source table and map it onto the canonical schema.

A Shopify export (its handle and title columns present) goes through the Shopify
connector, which knows the column spec and folds multi-row products. Any other CSV, or
any file imported with a mapping profile, goes through the generic connector with a
proposed mapping, the profile's choices winning. Either way the result carries the
column mapping that was used, one row per source column, for the UI and the checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from structr_pipeline.core.connectors import shopify_csv
from structr_pipeline.core.connectors.generic_csv import map_generic
from structr_pipeline.core.connectors.shopify_spec import FIELD_COLUMNS, known_column
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.fields import BOOKKEEPING_COLUMNS
from structr_pipeline.core.mapping.profiles import MappingProfile
from structr_pipeline.core.mapping.propose import (
    ColumnProposal,
    MappingProposal,
    propose_mapping,
    with_overrides,
)

# Rows of a proposal sampled to profile column values.
SAMPLE_ROWS = 1000
# The fields a batch cannot do without: a title, a price, and a handle or a SKU.
REQUIRED_FIELDS: tuple[tuple[str, ...], ...] = (("title",), ("handle", "sku"), ("price",))

# The columns of a column-mapping frame: one row per source column (a column that also
# gives a derived field, such as a handle made from the SKU, has a second row).
MAPPING_COLUMNS: tuple[str, ...] = (
    "column",
    "field",
    "confidence",
    "evidence",
    "unit_factor",
    "derived",
)


@dataclass(frozen=True)
class SourceMapping:
    """A source frame mapped onto the canonical schema, and the mapping that did it."""

    frame: pd.DataFrame
    field_sources: dict[str, str]
    source_format: str
    image_rows: int
    proposal: MappingProposal
    profile: MappingProfile | None = None

    def mapping_frame(self) -> pd.DataFrame:
        """The column mapping as a frame (``MAPPING_COLUMNS``), derived fields included."""
        rows = [
            {
                "column": p.column,
                "field": p.field,
                "confidence": p.confidence,
                "evidence": json.dumps(list(p.evidence), ensure_ascii=False),
                "unit_factor": p.unit_factor,
                "derived": False,
            }
            for p in self.proposal.columns.values()
        ]
        used = self.proposal.field_sources()
        for field, column in self.field_sources.items():
            if field not in used and not field.startswith("images."):
                rows.append(
                    {
                        "column": column,
                        "field": field,
                        "confidence": self.proposal.columns[column].confidence,
                        "evidence": json.dumps([f"derived from '{column}'"]),
                        "unit_factor": None,
                        "derived": True,
                    }
                )
        frame = pd.DataFrame(rows, columns=list(MAPPING_COLUMNS))
        frame["field"] = frame["field"].astype(object)
        frame["unit_factor"] = frame["unit_factor"].astype("float64")
        frame["confidence"] = frame["confidence"].astype("float64")
        return frame


def source_header(frame: pd.DataFrame) -> list[str]:
    """The source file's header: the frame's columns without the bookkeeping ones."""
    return [c for c in frame.columns if c not in BOOKKEEPING_COLUMNS]


def field_sources_of(mapping_frame: pd.DataFrame) -> dict[str, str]:
    """Canonical field → source column, from a column-mapping frame."""
    return {
        str(field): str(column)
        for column, field in zip(mapping_frame["column"], mapping_frame["field"], strict=True)
        if isinstance(field, str) and field
    }


def is_shopify_export(header: list[str]) -> bool:
    """True when the header has Shopify's handle and title columns (either header set)."""
    fields = {known_column(name).field for name in header if known_column(name) is not None}
    return all(spec.field in fields for spec in FIELD_COLUMNS[:2])


def shopify_proposal(header: list[str]) -> MappingProposal:
    """The Shopify column spec as a proposal: certain for known columns, none for the rest."""
    columns = {}
    for name in header:
        spec = known_column(name)
        if spec is not None and spec.field is not None:
            proposal = ColumnProposal(name, spec.field, 1.0, (f"Shopify column '{name}'",))
        elif spec is not None:
            proposal = ColumnProposal(name, None, 1.0, (f"Shopify column '{name}', kept as is",))
        else:
            proposal = ColumnProposal(name, None, 1.0, ("not a Shopify column; kept as is",))
        columns[name] = proposal
    return MappingProposal(columns=columns)


def propose(table: SourceTable, profile: MappingProfile | None = None) -> MappingProposal:
    """The mapping a table would get: Shopify's spec, or a proposal with the profile's choices."""
    header = table.header
    if profile is None and is_shopify_export(header):
        return shopify_proposal(header)
    proposal = propose_mapping(header, table.frame.head(SAMPLE_ROWS))
    if profile is not None:
        overrides = {column: field for column, field in profile.columns.items() if column in header}
        proposal = with_overrides(proposal, overrides)
    return proposal


def map_table(table: SourceTable, profile: MappingProfile | None = None) -> SourceMapping:
    """Map a source table onto the canonical schema (Shopify connector or generic one).

    Raises ``SourceFileError`` when a Shopify export lacks its handle or title column.
    """
    if profile is None and is_shopify_export(table.header):
        mapping = shopify_csv.map_shopify(table)
        return SourceMapping(
            frame=mapping.frame,
            field_sources=mapping.field_sources,
            source_format=f"shopify_{mapping.header_format}",
            image_rows=mapping.image_rows,
            proposal=shopify_proposal(table.header),
        )
    proposal = propose(table, profile)
    frame, field_sources = map_generic(table, proposal, profile.options if profile else None)
    return SourceMapping(
        frame=frame,
        field_sources=field_sources,
        source_format="profile" if profile else "generic_csv",
        image_rows=0,
        proposal=proposal,
        profile=profile,
    )


def map_source_frame(
    frame: pd.DataFrame, file_name: str, profile: MappingProfile | None = None
) -> SourceMapping:
    """Map a source frame (as produced by ``read_table``) onto the canonical schema."""
    table = SourceTable(
        frame=frame, header=source_header(frame), encoding="", delimiter="", file_name=file_name
    )
    return map_table(table, profile)


def missing_required(field_sources: dict[str, str]) -> list[str]:
    """The required fields (or alternatives, ``handle or sku``) no column gives."""
    return [
        " or ".join(group)
        for group in REQUIRED_FIELDS
        if not any(f in field_sources for f in group)
    ]
