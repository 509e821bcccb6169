"""After the bundle of a PIM batch: what a full pull no longer has, and the write-back.

``external_ids`` reads each product's id in its source from its attributes;
``possibly_removed`` lists the catalog's products from that source a full pull did not
return; ``write_back_items`` plans, and ``write_back`` sends, the generated copy and
audit grade of each product to the PIM, through the source's own client.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

import pandas as pd

from structr_pipeline.core.connectors.pim.client import PimClient
from structr_pipeline.core.connectors.pim.config import PimSource
from structr_pipeline.core.connectors.pim.write_back import WriteBackItem
from structr_pipeline.core.values import as_text

# The copy fields written back to a PIM, when the product has them.
WRITE_BACK_FIELDS = ("title", "seo_title", "meta_description", "description_html")


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


def possibly_removed(in_catalog: Mapping[str, str], pulled: Collection[str]) -> pd.DataFrame:
    """The catalog's products (``external_id`` → handle) a full pull did not return."""
    missing = sorted((e, h) for e, h in in_catalog.items() if e not in pulled)
    return pd.DataFrame(missing, columns=["external_id", "handle"])


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
        fields = {name: copy[name] for name in WRITE_BACK_FIELDS if copy.get(name)}
        fields.update(quality_score=row["score"], quality_grade=row["grade"])
        items.append(WriteBackItem(id=external_id[len(prefix) :], fields=fields))
    return items


def write_back(source: PimSource, items: list[WriteBackItem]) -> pd.DataFrame:
    """Send ``items`` to the source; one row per product: ``id``, ``ok``, ``status``, ``error``."""
    with PimClient(source) as client:
        results = client.write_back(items)
    return pd.DataFrame(
        [(r.id, r.ok, r.status, r.error or "") for r in results],
        columns=["id", "ok", "status", "error"],
    )
