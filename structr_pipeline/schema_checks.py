"""Schema checks and column schemas generated from the frame schemas (``core.frames``).

``schema_check`` makes the blocking checks that re-run the assets' pandera schemas on
each partition's stored values; ``schema_checks`` gives every asset of ``FRAME_SCHEMAS``
one, grouped by the step that produces them (``validated_products`` has its own,
``matches_product_schema`` in ``checks.py``).
``column_schema`` is the ``dagster/column_schema`` metadata the UI shows on each asset.
"""

from __future__ import annotations

import copy
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type

from structr_pipeline.core.frames import FRAME_SCHEMAS
from structr_pipeline.core.schema import describe_failure
from structr_pipeline.metadata import md_table
from structr_pipeline.partitions import import_batch

# The name of every generated check (one per asset, so the asset key tells them apart).
CHECK_NAME = "matches_frame_schema"
# Frames whose schema is checked by a check of their own: ``matches_product_schema``.
CHECKED_ELSEWHERE = frozenset({"validated_products"})
# Failures listed one by one in a failed check's metadata; the rest are only counted.
FIRST_FAILURES = 20


def column_schema(asset_name: str) -> dict[str, dg.TableSchema]:
    """The ``dagster/column_schema`` metadata of an asset, read from its frame schema."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        dagster_type = pandera_schema_to_dagster_type(FRAME_SCHEMAS[asset_name])
    table = dagster_type.metadata["schema"].schema
    columns = [
        column
        if column.type != "None"
        else dg.TableColumn(
            name=column.name,
            type="any",
            description=column.description,
            constraints=column.constraints,
        )
        for column in table.columns
    ]
    return {"dagster/column_schema": dg.TableSchema(columns=columns)}


def failure_metadata(error: pa.errors.SchemaErrors) -> dict[str, dg.MetadataValue]:
    """A failed validation as check metadata: counts by column and check, the first rows."""
    cases = error.failure_cases
    counts = Counter(zip(cases["column"].astype(str), cases["check"].astype(str), strict=True))
    first = [
        (
            "–" if row is None or pd.isna(row) else row,
            column,
            check,
            describe_failure(str(check), value),
        )
        for row, column, check, value in zip(
            cases["index"].head(FIRST_FAILURES),
            cases["column"].head(FIRST_FAILURES),
            cases["check"].head(FIRST_FAILURES),
            cases["failure_case"].head(FIRST_FAILURES),
            strict=True,
        )
    ]
    more = f"{len(cases) - FIRST_FAILURES} more" if len(cases) > FIRST_FAILURES else ""
    return {
        "failures": dg.MetadataValue.int(len(cases)),
        "by_column_and_check": dg.MetadataValue.md(
            md_table(["column", "check", "failures"], [(*k, n) for k, n in counts.most_common()])
        ),
        "first_failures": dg.MetadataValue.md(
            md_table(["row", "column", "check", "reason"], first, more)
        ),
    }


def frame_check_result(
    asset_key: str, schema: pa.DataFrameSchema, frame: pd.DataFrame
) -> dg.AssetCheckResult:
    """Validate one stored frame against its schema (lazily, all failures at once).

    A frame with no rows holds plain objects in every column it did not type itself, so
    only its columns are checked: its values are taken in the schema's types.
    """
    if frame.empty:
        schema = copy.deepcopy(schema)
        schema.coerce = True
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return dg.AssetCheckResult(
            asset_key=asset_key,
            check_name=CHECK_NAME,
            passed=False,
            description=f"{asset_key} breaks the {schema.name} schema",
            metadata=failure_metadata(exc),
        )
    return dg.AssetCheckResult(
        asset_key=asset_key, check_name=CHECK_NAME, passed=True, metadata={"rows": len(frame)}
    )


def schema_check(
    schemas: Mapping[str, pa.DataFrameSchema],
    name: str,
    partitions_def: dg.PartitionsDefinition | None = import_batch,
) -> dg.AssetChecksDefinition:
    """A blocking ``matches_frame_schema`` check on each asset of ``schemas`` (asset name →
    schema), all run in one step that reads each asset's partition through its IO manager.

    Give it the assets one step produces together: their checks then cost one step
    rather than one each. A failure names the row, column and reason of the first ones.
    """
    specs = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=asset_key,
            blocking=True,
            partitions_def=partitions_def,
            description=(
                f"The stored frame meets the {schema.name} schema: its columns, their types "
                "and rules, as the field registry defines them."
            ),
        )
        for asset_key, schema in schemas.items()
    ]

    def _matches_frame_schemas(**frames: pd.DataFrame):
        for asset_key, frame in frames.items():
            yield frame_check_result(asset_key, schemas[asset_key], frame)

    # A check per partition is a preview API in Dagster 1.13 (see ``checks.py``).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.multi_asset_check(
            name=name,
            specs=specs,
            ins={asset_key: dg.AssetIn(asset_key) for asset_key in schemas},
            description="Each stored frame meets its schema (core.frames.FRAME_SCHEMAS).",
        )(_matches_frame_schemas)


def schema_checks(assets: Iterable[object]) -> list[dg.AssetChecksDefinition]:
    """The schema checks of ``assets``: one check step per asset definition, covering every
    frame it returns that has a schema and no schema check of its own yet."""
    checks = []
    for assets_def in assets:
        if not isinstance(assets_def, dg.AssetsDefinition):
            continue
        names = [
            key.to_user_string()
            for key in assets_def.keys
            if key.to_user_string() in FRAME_SCHEMAS
            and key.to_user_string() not in CHECKED_ELSEWHERE
        ]
        if names:
            checks.append(
                schema_check(
                    {name: FRAME_SCHEMAS[name] for name in names},
                    name=f"{assets_def.node_def.name}_schemas",
                    partitions_def=assets_def.partitions_def,
                )
            )
    return checks
