"""After the bundle of a PIM batch: what a full pull no longer has, and the opt-in write-back."""

import dagster as dg
import pandas as pd

from structr_pipeline.core.connectors.pim import load_sources
from structr_pipeline.core.connectors.pim.sync import (
    external_ids,
    possibly_removed,
    write_back,
    write_back_items,
)
from structr_pipeline.core.export import write_frame_csv
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import products_from_source


@dg.asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    kinds={"csv"},
    deps=["product_bundle"],
)
@mark_transient_failures
def pim_sync(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    deduplicated_products: pd.DataFrame,
    audited_products: pd.DataFrame,
) -> dg.MaterializeResult:
    """For a batch pulled from a PIM: products possibly removed, and the write-back.

    After a full pull, the catalog's live products from that source that the pull did
    not return are listed in `possibly_removed.csv` (nothing is deleted). When the
    source has `write_back.enabled`, each product's generated copy and audit grade are
    written back to the PIM, and every product's outcome (or error) goes to
    `write_back.csv`. Batches from other sources have nothing to do here. When the pull
    got fewer items than the PIM announced, the metadata says how many were missing (and
    the possibly removed list then holds products the pull may only have skipped).
    """
    batch_id = context.partition_key
    manifest = get_batch(catalog.db(), batch_id)
    source_name = (manifest.options or {}).get("pim_source")
    if not source_name or manifest.source_kind == "webhook":
        return dg.MaterializeResult(metadata={"pim_batch": False})
    sources = load_sources(catalog.settings.pim_sources_file)
    if source_name not in sources:
        raise KeyError(
            f"batch {batch_id} came from PIM source {source_name!r}, which is no longer in "
            f"{catalog.settings.pim_sources_file}"
        )
    source = sources[source_name]
    out_dir = catalog.settings.exports_dir / batch_id
    ids = external_ids(deduplicated_products)
    metadata: dict = {"pim_batch": True, "source": source_name, "products": len(ids)}
    missing = int(manifest.options.get("missing") or 0)
    if missing:
        metadata.update(announced_total=manifest.options.get("announced_total"), missing=missing)
        context.log.warning(
            f"batch {batch_id}: the pull from {source_name} got {missing} fewer items than "
            "the PIM announced"
        )

    if manifest.options.get("pull") == "full":
        in_catalog = products_from_source(catalog.db(), f"{source_name}:")
        removed = possibly_removed(in_catalog, set(ids.values()))
        path = out_dir / "possibly_removed.csv"
        write_frame_csv(removed, path)
        metadata.update(
            possibly_removed=len(removed), possibly_removed_csv=dg.MetadataValue.path(str(path))
        )

    if source.write_back.enabled:
        frame = write_back(source, write_back_items(audited_products, ids, source_name))
        path = out_dir / "write_back.csv"
        write_frame_csv(frame, path)
        metadata.update(
            written_back=int(frame["ok"].sum()),
            write_back_failed=int((~frame["ok"]).sum()),
            write_back_csv=dg.MetadataValue.path(str(path)),
        )
    return dg.MaterializeResult(metadata=metadata)
