"""The storage of ``source_deletes``, which batches ingested before it existed lack."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from structr_pipeline.core.connectors.sources import landed_deletes
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.parquet_io_manager import PartitionedParquetIOManager
from structr_pipeline.store.batches import get_batch

# The resource key of the IO manager of ``source_deletes``.
SOURCE_DELETES_IO_MANAGER = "source_deletes_io_manager"


class SourceDeletesIOManager(PartitionedParquetIOManager):
    """Stores ``source_deletes`` as every asset is stored, one Parquet file per batch.

    A batch ingested before ``source_rows`` had that output has no stored deletes; for
    it they are read again from the batch's landed input, as ``source_rows`` reads them,
    so the batch can still be re-run from mapping or generation. When that input is gone
    too, the error says to re-run the batch from ingestion. ``home`` and ``database_url``
    are those of the catalog store, where the batch's manifest is.
    """

    home: str
    database_url: str

    @classmethod
    def for_catalog(cls, base_dir: str, catalog: CatalogStoreResource) -> SourceDeletesIOManager:
        """The IO manager storing under ``base_dir`` that finds batches in ``catalog``."""
        return cls(base_dir=base_dir, home=catalog.home, database_url=catalog.database_url)

    def load_partition(self, asset_key: dg.AssetKey, partition_key: str | None) -> pd.DataFrame:
        """The batch's stored deletes, else the deletes of its landed input."""
        stored = self._path(asset_key, partition_key)
        if partition_key is None or stored.is_file():
            return super().load_partition(asset_key, partition_key)
        catalog = CatalogStoreResource(home=self.home, database_url=self.database_url)
        manifest = get_batch(catalog.db(), partition_key)
        landing = Path(manifest.landing_path) if manifest.landing_path else None
        if landing is None or not landing.is_file():
            raise FileNotFoundError(
                f"batch {partition_key} has no stored {asset_key.to_user_string()} "
                f"({stored}) and its landed input {manifest.landing_path or '(none)'} is "
                f"gone; re-run the batch from ingestion: structr batches reprocess "
                f"{partition_key}"
            )
        return landed_deletes(
            landing,
            manifest.original_name,
            options=manifest.options,
            pim_sources_file=catalog.settings.pim_sources_file,
        )
