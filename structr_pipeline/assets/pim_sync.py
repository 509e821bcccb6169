"""After the bundle of a PIM batch: what a full pull no longer has, and the opt-in write-back."""

import json

import dagster as dg
import pandas as pd

from structr_pipeline.assets.failures import mark_transient_failures
from structr_pipeline.assets.ingestion import GROUP
from structr_pipeline.core.connectors.pim import (
    PimClient,
    WriteBackItem,
    load_sources,
)
from structr_pipeline.core.export import write_frame_csv
from structr_pipeline.core.values import as_text
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.catalog import products_from_source


def external_ids(deduplicated_products: pd.DataFrame) -> dict[str, str]:
    """Handle → ``external_id`` of the batch's products (from their attributes)."""
    found = {}
    for handle, attributes in zip(
        deduplicated_products["handle"], deduplicated_products["attributes"], strict=True
    ):
        external_id = json.loads(as_text(attributes) or "{}").get("external_id")
        if external_id:
            found[handle] = external_id
    return found


def write_back_items(
    audited: pd.DataFrame, ids: dict[str, str], source_name: str
) -> list[WriteBackItem]:
    """Generated copy and the audit grade of each product, keyed by its id in the PIM."""
    prefix = f"{source_name}:"
    items = []
    for row in audited.to_dict("records"):
        external_id = ids.get(row["handle"], "")
        if not external_id.startswith(prefix):
            continue
        copy = json.loads(row["copy"] or "{}")
        fields = {
            name: copy[name]
            for name in ("title", "seo_title", "meta_description", "description_html")
            if copy.get(name)
        }
        fields.update(quality_score=row["score"], quality_grade=row["grade"])
        items.append(WriteBackItem(id=external_id[len(prefix) :], fields=fields))
    return items


@dg.asset(
    partitions_def=import_batch,
    group_name=GROUP,
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
        pulled = set(ids.values())
        missing = sorted((e, h) for e, h in in_catalog.items() if e not in pulled)
        path = out_dir / "possibly_removed.csv"
        write_frame_csv(pd.DataFrame(missing, columns=["external_id", "handle"]), path)
        metadata.update(
            possibly_removed=len(missing), possibly_removed_csv=dg.MetadataValue.path(str(path))
        )

    if source.write_back.enabled:
        items = write_back_items(audited_products, ids, source_name)
        with PimClient(source) as client:
            results = client.write_back(items)
        path = out_dir / "write_back.csv"
        frame = pd.DataFrame(
            [(r.id, r.ok, r.status, r.error or "") for r in results],
            columns=["id", "ok", "status", "error"],
        )
        write_frame_csv(frame, path)
        metadata.update(
            written_back=int(frame["ok"].sum()),
            write_back_failed=int((~frame["ok"]).sum()),
            write_back_csv=dg.MetadataValue.path(str(path)),
        )
    return dg.MaterializeResult(metadata=metadata)
