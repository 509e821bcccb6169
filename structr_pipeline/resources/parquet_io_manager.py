"""An IO manager that stores DataFrame asset values as one Parquet file per partition."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd


class PartitionedParquetIOManager(dg.ConfigurableIOManager):
    """Writes each DataFrame output to ``<base_dir>/<asset key path>/<partition>.parquet``.

    Unpartitioned assets go to ``<asset key path>/__all__.parquet``. Loading several
    partitions at once (a downstream asset over a partition range) returns a dict
    ``{partition_key: DataFrame}``, so single-run backfills over many partitions work.
    """

    base_dir: str

    def _path(self, asset_key: dg.AssetKey, partition_key: str | None) -> Path:
        name = f"{partition_key}.parquet" if partition_key else "__all__.parquet"
        return Path(self.base_dir).joinpath(*asset_key.path, name)

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | None) -> None:
        """Write the DataFrame (atomically, through a temporary file) and record its path."""
        if obj is None:
            return
        if not isinstance(obj, pd.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; "
                "PartitionedParquetIOManager stores pandas DataFrames only"
            )
        partition = context.partition_key if context.has_partition_key else None
        path = self._path(context.asset_key, partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        obj.to_parquet(tmp, index=False)
        tmp.replace(path)
        context.add_output_metadata({"path": dg.MetadataValue.path(str(path))})

    def load_partition(self, asset_key: dg.AssetKey, partition_key: str | None) -> pd.DataFrame:
        """The stored DataFrame of one partition of ``asset_key`` (None: unpartitioned)."""
        return pd.read_parquet(self._path(asset_key, partition_key))

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | dict[str, pd.DataFrame]:
        """Read the upstream partition, or a dict of partitions when several are asked for."""
        key = context.asset_key
        if not context.has_asset_partitions:
            return self.load_partition(key, None)
        keys = context.asset_partition_keys
        if len(keys) == 1:
            return self.load_partition(key, keys[0])
        return {k: self.load_partition(key, k) for k in keys}
