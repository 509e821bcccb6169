"""Choose the connector for a source table and map it onto the canonical schema.

The format is detected from the header, unless the batch's mapping profile fixes it
(its ``format`` option): a Shopify export (its handle and title columns present) goes
through the Shopify connector, which knows the column spec and folds multi-row
products; a platform export (WooCommerce, Magento, BigCommerce, Amazon, Google
Merchant) through that platform's strategy, which assembles its parent and child rows
into products with their variants; any other CSV, or any file imported with a profile
that names no format, through the generic connector with a proposed mapping, the
profile's choices winning. Either way the result carries the column mapping that was
used (one row per source column, for the UI and the checks) and how the rows grouped
into products.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from structr_pipeline.core.connectors import shopify_csv
from structr_pipeline.core.connectors.generic_csv import map_generic
from structr_pipeline.core.connectors.platforms import PLATFORMS, Platform, detect_platform
from structr_pipeline.core.connectors.platforms.assembly import Grouping, plural
from structr_pipeline.core.connectors.shopify_spec import FIELD_COLUMNS, known_column
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.fields import BOOKKEEPING_COLUMNS
from structr_pipeline.core.issues import SourceFileError
from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileOptions
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
    grouping: Grouping
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


def platform_proposal(header: list[str], field_sources: dict[str, str], label: str):
    """A platform's column spec as a proposal: certain for the columns it reads, none else."""
    field_of: dict[str, str] = {}
    for field_name, column in field_sources.items():
        field_of.setdefault(column, field_name)
    columns = {}
    for name in header:
        if name in field_of:
            evidence = (f"{label} column '{name}'",)
            columns[name] = ColumnProposal(name, field_of[name], 1.0, evidence)
        else:
            evidence = (f"{label} column '{name}', kept as an attribute",)
            columns[name] = ColumnProposal(name, None, 1.0, evidence)
    return MappingProposal(columns=columns)


def detected_format(header: list[str], profile: MappingProfile | None = None) -> str:
    """The format a table is read as: the profile's ``format``, else what the header says.

    ``shopify``, a platform's name (``woocommerce``, ``magento``, …), ``profile`` (a
    profile's own column mapping) or ``generic``.
    """
    if profile is not None and profile.options.format:
        return profile.options.format
    if profile is not None:
        return "profile"
    if is_shopify_export(header):
        return "shopify"
    platform = detect_platform(header)
    return platform.name if platform is not None else "generic"


def propose(table: SourceTable, profile: MappingProfile | None = None) -> MappingProposal:
    """The mapping a table would get: a format's spec, or a proposal with the profile's choices."""
    header = table.header
    source_format = detected_format(header, profile)
    if source_format == "shopify":
        return shopify_proposal(header)
    if source_format in PLATFORMS:
        return map_table(table, profile).proposal
    proposal = propose_mapping(header, table.frame.head(SAMPLE_ROWS))
    if profile is not None:
        overrides = {column: field for column, field in profile.columns.items() if column in header}
        proposal = with_overrides(proposal, overrides)
    return proposal


def map_table(table: SourceTable, profile: MappingProfile | None = None) -> SourceMapping:
    """Map a source table onto the canonical schema (Shopify, a platform's, or generic).

    Raises ``SourceFileError`` when a Shopify export lacks its handle or title column.
    """
    source_format = detected_format(table.header, profile)
    options = profile.options if profile else ProfileOptions()
    if source_format == "shopify":
        mapping = shopify_csv.map_shopify(table)
        return SourceMapping(
            frame=mapping.frame,
            field_sources=mapping.field_sources,
            source_format=f"shopify_{mapping.header_format}",
            image_rows=mapping.image_rows,
            proposal=shopify_proposal(table.header),
            grouping=_grouping_by_handle(
                mapping.frame,
                len(table.frame),
                "shopify",
                f"Shopify product export ({mapping.header_format} columns)",
                image_rows=mapping.image_rows,
            ),
            profile=profile,
        )
    if source_format in PLATFORMS:
        return _map_platform(PLATFORMS[source_format], table, options, profile)
    proposal = propose(table, profile)
    frame, field_sources = map_generic(table, proposal, profile.options if profile else None)
    label = f"Product CSV read with profile '{profile.name}'" if profile else "Product CSV"
    return SourceMapping(
        frame=frame,
        field_sources=field_sources,
        source_format="profile" if profile else "generic_csv",
        image_rows=0,
        proposal=proposal,
        grouping=_grouping_by_handle(
            frame, len(table.frame), "profile" if profile else "generic_csv", label
        ),
        profile=profile,
    )


def _map_platform(
    platform: Platform,
    table: SourceTable,
    options: ProfileOptions,
    profile: MappingProfile | None,
) -> SourceMapping:
    try:
        assembly = platform.assemble(table, options)
    except KeyError as exc:
        raise SourceFileError(
            table.file_name, f"read as a {platform.label}, but the column {exc} is missing"
        ) from exc
    return SourceMapping(
        frame=assembly.frame,
        field_sources=assembly.field_sources,
        source_format=platform.name,
        image_rows=int(assembly.grouping.counts.get("image_rows", 0)),
        proposal=platform_proposal(table.header, assembly.field_sources, platform.label),
        grouping=assembly.grouping,
        profile=profile,
    )


def _grouping_by_handle(
    frame: pd.DataFrame, rows: int, source_format: str, label: str, image_rows: int = 0
) -> Grouping:
    """How a frame of variant rows groups into products by handle."""
    handles = frame["handle"].astype(str).str.strip()
    products = int(handles[handles != ""].nunique())
    variants = int((handles != "").sum())
    details = []
    if image_rows:
        into = "its product" if image_rows == 1 else "their products"
        details.append(f"{plural(image_rows, 'image row')} folded into {into}")
    multi = int((handles[handles != ""].value_counts() > 1).sum())
    if multi:
        details.append(f"{plural(multi, 'product')} with more than one variant")
    return Grouping(
        format=source_format,
        label=label,
        rows=rows,
        products=products,
        variants=variants,
        details=tuple(details),
        counts={"products": products, "variants": variants, "image_rows": image_rows},
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
