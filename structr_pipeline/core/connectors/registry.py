"""Choose the connector for a source frame and map it onto the canonical schema."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from structr_pipeline.core.connectors import shopify_csv
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.fields import BOOKKEEPING_COLUMNS


@dataclass(frozen=True)
class SourceMapping:
    """A source frame mapped onto the canonical schema."""

    frame: pd.DataFrame
    field_sources: dict[str, str]
    source_format: str
    image_rows: int


def source_header(frame: pd.DataFrame) -> list[str]:
    """The source file's header: the frame's columns without the bookkeeping ones."""
    return [c for c in frame.columns if c not in BOOKKEEPING_COLUMNS]


def field_sources_for(header: list[str]) -> dict[str, str]:
    """For each canonical field, the source column it is read from."""
    return shopify_csv.field_sources_for(header)


def map_source_frame(frame: pd.DataFrame, file_name: str) -> SourceMapping:
    """Map a source frame (as produced by ``read_table``) onto the canonical schema.

    Raises ``SourceFileError`` naming the missing columns when the file is not a
    product export that a connector understands.
    """
    table = SourceTable(
        frame=frame, header=source_header(frame), encoding="", delimiter="", file_name=file_name
    )
    mapping = shopify_csv.map_shopify(table)
    return SourceMapping(
        frame=mapping.frame,
        field_sources=mapping.field_sources,
        source_format=f"shopify_{mapping.header_format}",
        image_rows=mapping.image_rows,
    )
