"""The Parquet IO manager writes one file per asset partition and reads them back."""

import dagster as dg
import pandas as pd
import pytest

from structr_pipeline.resources.parquet_io_manager import PartitionedParquetIOManager


@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a-1", "b-2"]))
def numbers(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return pd.DataFrame({"partition": [context.partition_key], "value": [1.5]})


@dg.asset(
    partitions_def=dg.StaticPartitionsDefinition(["a-1", "b-2"]),
    ins={"numbers": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())},
)
def combined(numbers: dict[str, pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(numbers.values(), ignore_index=True)


def test_round_trip_per_partition_and_many_at_once(tmp_path) -> None:
    io_manager = PartitionedParquetIOManager(base_dir=str(tmp_path))
    with dg.instance_for_test() as instance:
        for key in ("a-1", "b-2"):
            result = dg.materialize(
                [numbers], partition_key=key, instance=instance,
                resources={"io_manager": io_manager},
            )  # fmt: skip
            assert result.success
        assert (tmp_path / "numbers" / "a-1.parquet").is_file()
        result = dg.materialize(
            [numbers.to_source_asset(), combined], selection=[combined], partition_key="a-1",
            instance=instance, resources={"io_manager": io_manager},
        )  # fmt: skip
        assert result.success
    stored = pd.read_parquet(tmp_path / "combined" / "a-1.parquet")
    assert sorted(stored["partition"]) == ["a-1", "b-2"]
    assert stored["value"].tolist() == [1.5, 1.5]


def test_refuses_values_that_are_not_dataframes(tmp_path) -> None:
    io_manager = PartitionedParquetIOManager(base_dir=str(tmp_path))
    context = dg.build_output_context(asset_key=dg.AssetKey("x"))
    with pytest.raises(TypeError, match="stores pandas DataFrames only"):
        io_manager.handle_output(context, {"not": "a frame"})
