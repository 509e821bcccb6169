"""The bundle of one batch: what it publishes, and the seven files a user takes away.

``build_bundle`` turns the stage frames and the batch's options into the product records
(generated copy and audit nested), the products held back from the import file and the
records that go into it. ``write_data_files`` writes the five files that need nothing
from the catalog; ``bundle_summary`` and ``write_summary_and_report`` the two that report
what publishing changed in it. They write into any folder: the bundle asset gives them a
``StagedFolder``, so the files appear together with the catalog's commit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.audit import AuditSettings, ReportData, rejected_entries, write_report
from structr_pipeline.core.audit.results import audits_from_frame
from structr_pipeline.core.connectors.registry import source_header
from structr_pipeline.core.connectors.shopify_export import write_shopify_csv
from structr_pipeline.core.dedup.merge import retired_handles
from structr_pipeline.core.dedup.review import listed_counts, listed_note
from structr_pipeline.core.export import (
    build_summary,
    product_records,
    write_errors_csv,
    write_frame_csv,
    write_product_records,
    write_summary,
)
from structr_pipeline.core.publish import (
    PUBLISH_ERRORS_OPTION,
    HeldBack,
    held_back,
    published_record,
)

# The batch option that, set to false, writes the import file with the source's own copy.
PUBLISH_COPY_OPTION = "publish_generated_copy"
# Each file of the bundle: its key in ``summary.json`` and the metadata, and its name.
BUNDLE_FILES = {
    "products_jsonl": "products.jsonl",
    "shopify_import_csv": "shopify_import.csv",
    "errors_csv": "errors.csv",
    "merges_csv": "merges.csv",
    "possible_duplicates_csv": "possible_duplicates.csv",
    "report_html": "report.html",
    "summary_json": "summary.json",
}


@dataclass(frozen=True)
class BundleFrames:
    """The stage outputs a bundle is made from, as the assets stored them."""

    deduplicated_products: pd.DataFrame
    duplicate_merges: pd.DataFrame
    possible_duplicates: pd.DataFrame
    generated_copy: pd.DataFrame
    audited_products: pd.DataFrame
    rejected_rows: pd.DataFrame
    source_rows: pd.DataFrame


@dataclass(frozen=True)
class Bundle:
    """What one batch publishes: its records, what is held back, what goes to the import."""

    frames: BundleFrames
    records: list[dict[str, Any]]
    held: HeldBack
    # The records written to shopify_import.csv: held-back products left out, generated
    # copy laid over the product's own unless the batch says otherwise.
    publishable: list[dict[str, Any]]
    # Handles merged into another product at the user's request: archived in the catalog.
    retired: list[str]


def audited_records(deduplicated_products: pd.DataFrame, audited: pd.DataFrame) -> list[dict]:
    """Product records with their final copy (``generated_copy``) and ``audit`` nested."""
    by_handle = {row["handle"]: row for row in audited.to_dict("records")}
    records = []
    for record in product_records(deduplicated_products):
        row = by_handle.get(record["handle"])
        if row is not None:
            record["generated_copy"] = {
                "status": row["copy_status"],
                "copy": json.loads(row["copy"] or "{}"),
                "flags": json.loads(row["flags"] or "[]"),
                "model": row["model"],
                "prompt_version": row["prompt_version"],
            }
            record["audit"] = {
                "score": row["score"],
                "grade": row["grade"],
                "issues": json.loads(row["issues"] or "[]"),
                "score_before_fixes": row["score_before"],
                "grade_before_fixes": row["grade_before"],
                "fix": row["fix"],
            }
        records.append(record)
    return records


def build_bundle(frames: BundleFrames, options: Mapping[str, Any] | None) -> Bundle:
    """The batch's records, held-back products and publishable records, from its frames.

    ``options`` are the batch's: ``publish_products_with_errors`` holds nothing back,
    ``publish_generated_copy=false`` publishes the source's own copy.
    """
    options = options or {}
    audited = frames.audited_products
    records = audited_records(frames.deduplicated_products, audited)
    held = held_back(
        zip(audited["handle"], audited["holds_back"], strict=True),
        allowed=bool(options.get(PUBLISH_ERRORS_OPTION)),
    )
    publish_copy = options.get(PUBLISH_COPY_OPTION, True) is not False
    publishable = [
        published_record(r) if publish_copy else r
        for r in records
        if r["handle"] not in held.handles
    ]
    return Bundle(frames, records, held, publishable, retired_handles(frames.duplicate_merges))


def bundle_paths(folder: Path) -> dict[str, Path]:
    """Each bundle file's path in ``folder``, by its key."""
    return {key: Path(folder) / name for key, name in BUNDLE_FILES.items()}


def write_data_files(bundle: Bundle, folder: Path) -> None:
    """Write the bundle's records, import file, rejected rows, merges and review queue."""
    paths = bundle_paths(folder)
    frames = bundle.frames
    write_product_records(bundle.records, paths["products_jsonl"])
    write_shopify_csv(bundle.publishable, paths["shopify_import_csv"])
    write_errors_csv(frames.rejected_rows, source_header(frames.source_rows), paths["errors_csv"])
    write_frame_csv(frames.duplicate_merges, paths["merges_csv"])
    write_frame_csv(frames.possible_duplicates, paths["possible_duplicates_csv"])


def bundle_summary(
    bundle: Bundle,
    *,
    batch_id: str,
    source_file: str,
    sha256: str,
    files: Mapping[str, Path],
    catalog_counts: Mapping[str, int],
    source_format: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The content of ``summary.json``, with what publishing changed in the catalog.

    ``catalog_counts`` are the ``catalog_*`` counts of the publication; ``files`` the
    paths the bundle's files will have once in place.
    """
    frames = bundle.frames
    copy_status = frames.generated_copy["status"].value_counts()
    return build_summary(
        batch_id=batch_id,
        source_file=source_file,
        sha256=sha256,
        rows_in=len(frames.source_rows),
        validated=frames.deduplicated_products,
        rejected=frames.rejected_rows,
        files=files,
        extra_counts={
            "rows_merged": sum(len(json.loads(t)) for t in frames.duplicate_merges["merged_lines"]),
            "possible_duplicates": len(frames.possible_duplicates),
            **listed_counts(frames.possible_duplicates),
            **{f"copy_{status}": int(n) for status, n in copy_status.items()},
            **catalog_counts,
            "held_back": len(bundle.held.handles),
        },
        source_format=source_format,
        held_back=bundle.held.to_json(),
    )


def write_summary_and_report(
    bundle: Bundle, summary: Mapping[str, Any], settings: AuditSettings, folder: Path
) -> None:
    """Write ``report.html`` (the quality report) and then ``summary.json``."""
    paths = bundle_paths(folder)
    frames = bundle.frames
    write_report(
        ReportData(
            summary=summary,
            records=bundle.records,
            audits=audits_from_frame(frames.audited_products),
            audits_before=audits_from_frame(frames.audited_products, "_before"),
            rejected=rejected_entries(frames.rejected_rows),
            settings=settings,
            possible_duplicates=frames.possible_duplicates.to_dict("records"),
            merges=frames.duplicate_merges.to_dict("records"),
            held_back=frozenset(bundle.held.handles),
            duplicates_note=listed_note(summary["counts"], sentence=True),
        ),
        paths["report_html"],
    )
    write_summary(summary, paths["summary_json"])
