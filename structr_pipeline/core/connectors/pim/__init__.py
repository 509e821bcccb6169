"""Products from a PIM or headless CMS (Akeneo, Contentful, Strapi, any JSON API).

``load_sources`` reads the configured sources from ``STRUCTR_HOME/pim_sources.yaml``;
``PimClient`` pulls every item of a source (all pages, all-or-nothing) and writes copy
back; ``IncrementalCursor`` and ``advance`` say where the next incremental pull starts
and which pulled items are new; ``records_from_items`` maps pulled items onto product
records in the shape of ``products.jsonl``. Nothing here imports Dagster.
"""

from structr_pipeline.core.connectors.pim.client import PimClient, PimError, PullResult
from structr_pipeline.core.connectors.pim.config import (
    SOURCES_FILE,
    PimConfigError,
    PimSource,
    load_sources,
    parse_source,
)
from structr_pipeline.core.connectors.pim.field_map import (
    ItemError,
    record_from_item,
    records_from_items,
)
from structr_pipeline.core.connectors.pim.incremental import (
    IncrementalCursor,
    IncrementalStep,
    advance,
)
from structr_pipeline.core.connectors.pim.presets import item_id, item_updated_at
from structr_pipeline.core.connectors.pim.write_back import WriteBackItem, WriteBackResult

__all__ = [
    "SOURCES_FILE",
    "IncrementalCursor",
    "IncrementalStep",
    "ItemError",
    "PimClient",
    "PimConfigError",
    "PimError",
    "PimSource",
    "PullResult",
    "WriteBackItem",
    "WriteBackResult",
    "advance",
    "item_id",
    "item_updated_at",
    "load_sources",
    "parse_source",
    "record_from_item",
    "records_from_items",
]
