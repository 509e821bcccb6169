"""Read a batch's landed input, whatever its format, as a source table of text cells.

CSV-like files go through ``csv_reading.read_table``; JSON Lines batches (webhook
events, PIM pulls, product records) through ``json_batch.read_json_batch``, their PIM
items mapped by the PIM source the batch names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.connectors.json_batch import (
    PimMapper,
    is_json_batch,
    read_json_batch,
)
from structr_pipeline.core.csv_reading import SourceTable, read_table

# The one column of a batch's deletes: the ``external_id`` of each product it deletes.
DELETED_ID = "external_id"


@dataclass
class BatchSource:
    """A batch's input read as a table, with what only JSON batches have."""

    table: SourceTable
    items: int | None = None
    deletes: list[str] = field(default_factory=list)
    item_errors: int = 0


def pim_mapper(pim_sources_file: Path, source_name: str) -> PimMapper:
    """Map items with the named source of ``pim_sources.yaml`` (a clear error if unknown)."""
    from structr_pipeline.core.connectors.pim import load_sources, records_from_items

    sources = load_sources(pim_sources_file)
    if source_name not in sources:
        known = ", ".join(sorted(sources)) or "none"
        raise KeyError(
            f"PIM source {source_name!r} is not in {pim_sources_file} (configured: {known})"
        )
    source = sources[source_name]

    def mapper(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
        records, errors = records_from_items(items, source)
        return records, [(e.index, f"field '{e.field}': {e.reason}") for e in errors]

    return mapper


def read_batch_source(
    path: Path,
    file_name: str,
    *,
    options: dict[str, Any] | None = None,
    pim_sources_file: Path | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> BatchSource:
    """Read the landed file of a batch; ``options`` may name its ``pim_source``."""
    if not is_json_batch(file_name):
        return BatchSource(read_table(path, file_name, encoding=encoding, delimiter=delimiter))
    source_name = (options or {}).get("pim_source")
    mapper = None
    if source_name and pim_sources_file is not None:
        mapper = pim_mapper(pim_sources_file, str(source_name))
    batch = read_json_batch(path, file_name, mapper)
    table = SourceTable(
        frame=batch.frame,
        header=batch.header,
        encoding="utf-8",
        delimiter="jsonl",
        file_name=file_name,
    )
    return BatchSource(table, batch.items, batch.deletes, batch.item_errors)


def deletes_frame(external_ids: list[str]) -> pd.DataFrame:
    """A batch's deletes as a table: one ``external_id`` per product deleted, in order."""
    return pd.DataFrame({DELETED_ID: pd.Series(external_ids, dtype=object)})


def landed_deletes(
    path: Path,
    file_name: str,
    *,
    options: dict[str, Any] | None = None,
    pim_sources_file: Path | None = None,
) -> pd.DataFrame:
    """The deletes table of a batch's landed file, as ``source_rows`` makes it.

    A JSON Lines batch is read again for its delete events; any other file deletes
    nothing and is not read.
    """
    if not is_json_batch(file_name):
        return deletes_frame([])
    source = read_batch_source(path, file_name, options=options, pim_sources_file=pim_sources_file)
    return deletes_frame(source.deletes)


def deleted_ids(deletes: pd.DataFrame) -> list[str]:
    """The ``external_id`` of each product a batch deletes, from its deletes table."""
    return [str(value) for value in deletes[DELETED_ID]]
