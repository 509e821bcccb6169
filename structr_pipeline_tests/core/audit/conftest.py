"""Real batches for the audit and report tests, made by the core pipeline from a CSV file.

The file is read, mapped, validated and de-duplicated by the real functions; copy is
written by the offline provider (deterministic, no network), as the pipeline does with
its default settings.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from structr_pipeline.core.audit import (
    ProductAudit,
    ReportData,
    audit_products,
    rejected_entries,
)
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.dedup.merge import deduplicate
from structr_pipeline.core.export import build_summary, product_records
from structr_pipeline.core.generation.products import product_inputs
from structr_pipeline.core.generation.prompts import BrandVoice, load_prompt
from structr_pipeline.core.generation.providers import OfflineProvider
from structr_pipeline.core.generation.writer import write_copy
from structr_pipeline.core.validation import validate_products

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "shopify_sample.csv"
HOSTILE_TITLE = 'Canvas <script>alert("x")</script> Tote & "Co" </script>'


@dataclass(frozen=True)
class Batch:
    """One batch run through the core stages, before and after copy generation."""

    records_before: list[dict[str, Any]]
    records: list[dict[str, Any]]
    audits_before: list[ProductAudit]
    audits: list[ProductAudit]
    report: ReportData


def run_batch(path: Path) -> Batch:
    """Read, map, validate, de-duplicate, write copy for and audit the CSV at ``path``."""
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    dedup = deduplicate(result.valid, result.valid.iloc[0:0])
    products = dedup.products

    records_before = list(product_records(products))
    written = write_copy(
        product_inputs(products), OfflineProvider(), load_prompt(), BrandVoice(), lambda keys: {}
    )
    by_handle = {r.handle: r for r in written}
    records = []
    for record in product_records(products):
        copy = by_handle[record["handle"]]
        record["generated_copy"] = {
            "status": copy.status,
            "copy": copy.copy or {},
            "flags": copy.flags,
            "model": OfflineProvider.model,
            "prompt_version": load_prompt().prompt_version,
        }
        records.append(record)

    audits_before = audit_products(records_before)
    audits = audit_products(records)
    summary = build_summary(
        batch_id="2026-01-15-sample",
        source_file=path.name,
        sha256="0" * 64,
        rows_in=len(table.frame),
        validated=products,
        rejected=result.rejected,
        files={},
        extra_counts={"possible_duplicates": len(dedup.possible)},
    )
    report = ReportData(
        summary=summary,
        records=records,
        audits=audits,
        audits_before=audits_before,
        rejected=rejected_entries(result.rejected),
        possible_duplicates=dedup.possible.to_dict("records"),
        merges=dedup.merges.to_dict("records"),
    )
    return Batch(records_before, records, audits_before, audits, report)


@pytest.fixture(scope="session")
def sample_batch() -> Batch:
    """The repository's Shopify sample as the pipeline would audit it."""
    return run_batch(SAMPLE)


@pytest.fixture(scope="session")
def hostile_batch(tmp_path_factory) -> Batch:
    """The sample with a product title holding markup, and a second copy of one product."""
    with SAMPLE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    title, handle, sku = header.index("Title"), header.index("Handle"), header.index("Variant SKU")
    for row in rows[1:]:
        if row[handle] == "canvas-tote" and row[title]:
            row[title] = HOSTILE_TITLE
            twin = list(row)
    twin[handle] = "canvas-tote-copy"
    twin[sku] = "HG-TOTE-01-COPY"
    rows.append(twin)
    path = tmp_path_factory.mktemp("hostile") / "hostile_sample.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return run_batch(path)
