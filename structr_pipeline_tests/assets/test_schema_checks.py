"""Every frame an asset stores has a blocking schema check and a column schema in the UI."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from structr_pipeline.core.frames import FRAME_SCHEMAS, REJECTED_FIELDS
from structr_pipeline.core.schema import frame_schema
from structr_pipeline.schema_checks import (
    CHECK_NAME,
    frame_check_result,
    schema_check,
)

# Assets that store no frame: they write files and report metadata only.
NO_FRAME = {
    "product_bundle",
    "pim_sync",
    "catalog_export",
    "catalog_quality_snapshot",
    "reprocessing_report",
}
# The product schema's own check, older than the generated ones.
OWN_CHECKS = {"validated_products": "matches_product_schema"}


def test_every_frame_asset_has_a_blocking_schema_check_and_a_column_schema(
    defs: dg.Definitions,
) -> None:
    graph = defs.resolve_asset_graph()
    names = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert names - NO_FRAME == set(FRAME_SCHEMAS)
    specs = {
        (spec.asset_key.to_user_string(), spec.name): spec
        for checks_def in defs.asset_checks
        for spec in checks_def.check_specs
    }
    for name, schema in FRAME_SCHEMAS.items():
        spec = specs[(name, OWN_CHECKS.get(name, CHECK_NAME))]
        assert spec.blocking, name
        node = graph.get(dg.AssetKey(name))
        assert spec.partitions_def == node.partitions_def, name
        table = node.metadata["dagster/column_schema"]
        assert [c.name for c in table.columns] == list(schema.columns), name
        assert all(c.description for c in table.columns), name


def test_a_frame_that_breaks_its_schema_fails_with_row_column_and_reason() -> None:
    rejected = pd.DataFrame(
        {
            "_source_line": pd.Series([2, 0], dtype="int64"),
            "_source_lines": ["[2]", "[0]"],
            "original": ["{}", "{}"],
            "errors": ["[]", "[]"],
        }
    )
    good = frame_check_result("rejected_rows", FRAME_SCHEMAS["rejected_rows"], rejected.head(1))
    assert good.passed

    bad = frame_check_result("rejected_rows", FRAME_SCHEMAS["rejected_rows"], rejected)
    assert not bad.passed
    assert bad.metadata["failures"].value == 1
    first = bad.metadata["first_failures"].value
    assert "| 1 | _source_line | greater_than_or_equal_to(1) | '0' is below" in first

    missing = frame_check_result(
        "rejected_rows", FRAME_SCHEMAS["rejected_rows"], rejected.drop(columns="errors")
    )
    assert not missing.passed
    assert "the column 'errors' is missing" in missing.metadata["first_failures"].value


def test_an_empty_frame_is_checked_for_its_columns_only() -> None:
    for name, schema in FRAME_SCHEMAS.items():
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in schema.columns})
        assert frame_check_result(name, schema, empty).passed, name
        missing = empty.drop(columns=next(iter(schema.columns)))
        assert not frame_check_result(name, schema, missing).passed, name


def test_a_failed_schema_check_blocks_the_assets_below() -> None:
    schema = frame_schema(REJECTED_FIELDS, name="RejectedRows", description="rows")

    @dg.asset
    def rejected_rows() -> pd.DataFrame:
        return pd.DataFrame(
            {"_source_line": [3], "_source_lines": ["[3]"], "original": [5], "errors": ["[]"]}
        )

    @dg.asset
    def downstream(rejected_rows: pd.DataFrame) -> int:
        return len(rejected_rows)

    check = schema_check({"rejected_rows": schema}, name="rejected_schema", partitions_def=None)
    result = dg.materialize([rejected_rows, downstream, check], raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.check_name == CHECK_NAME and not evaluation.passed
    assert "original" in evaluation.metadata["first_failures"].value
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"rejected_rows"}
