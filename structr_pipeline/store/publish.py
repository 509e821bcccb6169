"""Publishing a batch into the catalog: one transaction, or nothing.

``publish_batch`` upserts the batch's products, archives those its source deleted and
those merged away at the user's request, saves their quality and marks the batch
``completed``, all in one transaction; the bundle's files are finished and put in place
inside it, so a failure anywhere leaves the catalog and the previous bundle as they were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.audit.rules import AuditSettings
from structr_pipeline.core.bundle import (
    Bundle,
    bundle_paths,
    bundle_summary,
    write_data_files,
    write_summary_and_report,
)
from structr_pipeline.core.staged_folder import StagedFolder
from structr_pipeline.store.batches import BatchManifest, update_batch_status
from structr_pipeline.store.catalog import archive_handles, archive_products, upsert_products
from structr_pipeline.store.db import CatalogDB
from structr_pipeline.store.quality import QualityRow, save_quality


@dataclass(frozen=True)
class CatalogChanges:
    """What publishing a batch changed in the catalog."""

    inserted: int
    updated: int
    unchanged: int
    archived: list[str]

    def counts(self) -> dict[str, int]:
        """The ``catalog_*`` counts of the batch's summary."""
        return {
            "catalog_inserted": self.inserted,
            "catalog_updated": self.updated,
            "catalog_unchanged": self.unchanged,
            "catalog_archived": len(self.archived),
        }


def quality_rows(records: Iterable[Mapping[str, Any]]) -> list[QualityRow]:
    """The quality the catalog keeps for each audited product record."""
    return [
        QualityRow(
            handle=r["handle"],
            score=r["audit"]["score"],
            grade=r["audit"]["grade"],
            issues=r["audit"]["issues"],
            copy=r["generated_copy"]["copy"],
        )
        for r in records
        if "audit" in r
    ]


def publish_batch(
    db: CatalogDB,
    batch_id: str,
    products: pd.DataFrame,
    *,
    records: Sequence[Mapping[str, Any]],
    deletes: Sequence[str],
    retired: Sequence[str],
    write_results: Callable[[CatalogChanges], Mapping[str, int]],
    put_in_place: Callable[[], None],
) -> Mapping[str, int]:
    """Publish a batch in one transaction; returns the counts the batch completed with.

    Upserts ``products``, archives the products whose ``external_id`` is in ``deletes``
    and the live products under the ``retired`` handles, and saves the quality of the
    audited ``records``. Then, still inside the transaction, ``write_results`` gets the
    catalog's changes, writes what reports them and returns the batch's counts; the batch
    is marked ``completed`` with them, and ``put_in_place`` makes the files visible just
    before the commit. An exception from any step rolls all of it back.
    """
    with db.write():
        upsert = upsert_products(db, products, batch_id)
        archived = archive_products(db, deletes, batch_id) if deletes else []
        archived += archive_handles(db, retired, batch_id)
        save_quality(db, quality_rows(records), batch_id)
        changes = CatalogChanges(
            upsert.inserted_products, upsert.updated_products, upsert.unchanged_products, archived
        )
        counts = write_results(changes)
        update_batch_status(db, batch_id, "completed", counts=counts)
        put_in_place()
    return counts


def publish_bundle(
    db: CatalogDB,
    manifest: BatchManifest,
    bundle: Bundle,
    out_dir: Path,
    *,
    settings: AuditSettings,
    source_format: Mapping[str, Any] | None,
    deletes: Sequence[str],
) -> tuple[dict[str, int], dict[str, Path]]:
    """Write a batch's bundle to ``out_dir`` and publish the batch, as one unit.

    The files are written in a folder beside ``out_dir``; ``summary.json`` and the report
    (which count what the catalog changed) are written inside the publishing
    transaction, and the folder is put in place just before it commits
    (``publish_batch``). Returns the summary's counts and the bundle's file paths.
    """
    paths = bundle_paths(out_dir)
    with StagedFolder(out_dir) as staged:
        write_data_files(bundle, staged.path)

        def write_results(changes: CatalogChanges) -> dict:
            summary = bundle_summary(
                bundle,
                batch_id=manifest.batch_id,
                source_file=manifest.original_name,
                sha256=manifest.sha256,
                files=paths,
                catalog_counts=changes.counts(),
                source_format=source_format,
            )
            write_summary_and_report(bundle, summary, settings, staged.path)
            return summary["counts"]

        counts = publish_batch(
            db,
            manifest.batch_id,
            bundle.frames.deduplicated_products,
            records=bundle.records,
            deletes=deletes,
            retired=bundle.retired,
            write_results=write_results,
            put_in_place=staged.put_in_place,
        )
        staged.finish()
    return counts, paths
