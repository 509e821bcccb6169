"""Stage 7: the files a user takes away, and the upsert into the catalog (`product_bundle`)."""

import dagster as dg
import pandas as pd

from structr_pipeline.core.batch_settings import audit_settings
from structr_pipeline.core.bundle import BundleFrames, build_bundle
from structr_pipeline.core.connectors.sources import deleted_ids
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.publish import publish_bundle
from structr_pipeline.store.stages import stages_of


@dg.asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    kinds={"json", "csv"},
    ins={
        "deduplicated_products": dg.AssetIn(),
        "duplicate_merges": dg.AssetIn(),
        "possible_duplicates": dg.AssetIn(),
        "generated_copy": dg.AssetIn(),
        "audited_products": dg.AssetIn(),
        "rejected_rows": dg.AssetIn(),
        "source_rows": dg.AssetIn(),
        "source_deletes": dg.AssetIn(),
    },
)
@mark_transient_failures
@collect_less
def product_bundle(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    deduplicated_products: pd.DataFrame,
    duplicate_merges: pd.DataFrame,
    possible_duplicates: pd.DataFrame,
    generated_copy: pd.DataFrame,
    audited_products: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    source_rows: pd.DataFrame,
    source_deletes: pd.DataFrame,
) -> dg.MaterializeResult:
    """The batch's bundle under `exports/<batch_id>/`, and its products upserted into the catalog.

    Writes `products.jsonl` (one product per line, variants, images, generated copy and
    audit nested), `shopify_import.csv` (Shopify's current import format, with the
    generated copy laid over the product's own unless the batch option
    `publish_generated_copy` is false; products with an error-severity audit issue are
    held back when a problem would make them wrong or unsellable once published (no title,
    no price or a zero price, a GTIN with a wrong check digit), unless the batch option
    `publish_products_with_errors` is set; the report lists them first),
    `errors.csv` (rejected rows in their original columns plus an `errors` column,
    ready to fix and re-import),
    `merges.csv` (what was merged into what, and why), `possible_duplicates.csv` (pairs
    to review), `report.html` (the quality report, one self-contained page) and
    `summary.json`. Publishing is one unit: the files are written beside the bundle
    folder and put in place just before the catalog upsert, the quality rows and the
    batch's `completed` status commit in one transaction; if any of it fails, the
    catalog is untouched and the previous bundle stays. The upsert is idempotent;
    products a webhook or PIM batch deleted are archived, never removed, and so are
    catalog products merged into another at the user's request.
    """
    db = catalog.db()
    manifest = get_batch(db, context.partition_key)
    frames = BundleFrames(
        deduplicated_products,
        duplicate_merges,
        possible_duplicates,
        generated_copy,
        audited_products,
        rejected_rows,
        source_rows,
    )
    out_dir = catalog.settings.exports_dir / manifest.batch_id
    counts, paths = publish_bundle(
        db,
        manifest,
        build_bundle(frames, manifest.options),
        out_dir,
        settings=audit_settings(catalog.settings.audit_file, manifest.options),
        source_format=stages_of(db, manifest.batch_id)["mapping"].produced_with.get("grouping"),
        deletes=deleted_ids(source_deletes),
    )
    return dg.MaterializeResult(
        metadata={
            **counts,
            **{name: dg.MetadataValue.path(str(path)) for name, path in paths.items()},
            "bundle_dir": dg.MetadataValue.path(str(out_dir)),
        }
    )
