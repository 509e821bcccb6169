"""The blocking asset checks fail on frames that break their rule, and pass on good ones."""

from __future__ import annotations

import json

import pandas as pd

from structr_pipeline.assets.checks import matches_product_schema, rows_conserved
from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.validation import validate_products


def core_run(path):
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    return table.frame, validate_products(
        mapping.frame, table.frame, mapping.field_sources, path.name
    )


def test_rows_conserved_passes_on_a_real_batch_and_fails_on_a_lost_line(sample_csv) -> None:
    source, result = core_run(sample_csv)
    good = rows_conserved(result.valid, source, result.rejected)
    assert good.passed
    assert good.metadata["rows_in"].value == len(source)

    lost = result.valid.iloc[1:]
    bad = rows_conserved(lost, source, result.rejected)
    assert not bad.passed
    assert (
        str(json.loads(result.valid["_source_lines"].iat[0])[0]) in bad.metadata["lost_lines"].value
    )

    doubled = pd.concat([result.valid, result.valid.iloc[:1]], ignore_index=True)
    assert not rows_conserved(doubled, source, result.rejected).passed


def test_schema_check_passes_on_validated_rows_and_fails_on_a_broken_one(sample_csv) -> None:
    _, result = core_run(sample_csv)
    assert matches_product_schema(result.valid).passed

    broken = result.valid.copy()
    broken.loc[0, "price"] = -1.0
    broken.loc[1, "barcode"] = "4006381333932"
    outcome = matches_product_schema(broken)
    assert not outcome.passed
    assert outcome.metadata["failures"].value == 2
    table = outcome.metadata["by_column_and_check"].value
    assert "price" in table and "valid_gtin" in table
