"""Asset checks that guard every import batch."""

import warnings
from collections import Counter

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from structr_pipeline.assets.validation import accounted_lines
from structr_pipeline.core.schema import ProductVariant
from structr_pipeline.partitions import import_batch

# Per-partition asset checks are a preview API in Dagster 1.13; they are what makes a
# check guard one batch rather than load every batch, so we use them knowingly.
warnings.filterwarnings(
    "ignore", message="Specifying a partitions_def on an AssetCheckSpec", category=dg.PreviewWarning
)


@dg.asset_check(
    asset="validated_products",
    partitions_def=import_batch,
    blocking=True,
    additional_ins={"source_rows": dg.AssetIn("source_rows"), "rejected_rows": dg.AssetIn()},
    description=(
        "Conservation: every source line is accounted for exactly once, as an accepted "
        "product row (or an image row folded into one) or as a rejected row."
    ),
)
def rows_conserved(
    validated_products: pd.DataFrame, source_rows: pd.DataFrame, rejected_rows: pd.DataFrame
) -> dg.AssetCheckResult:
    """Rows in = rows accepted + rows rejected; no line lost, none counted twice."""
    source = Counter(source_rows["_source_line"].astype(int).tolist())
    accepted = Counter(accounted_lines(validated_products))
    rejected = Counter(accounted_lines(rejected_rows))
    seen = accepted + rejected
    missing = sorted(source - seen)
    duplicated = sorted(line for line, n in seen.items() if n > 1)
    unknown = sorted(seen.keys() - source.keys())
    return dg.AssetCheckResult(
        passed=not (missing or duplicated or unknown),
        metadata={
            "rows_in": sum(source.values()),
            "rows_accepted": sum(accepted.values()),
            "rows_rejected": sum(rejected.values()),
            "lost_lines": str(missing[:50]),
            "double_counted_lines": str(duplicated[:50]),
            "unknown_lines": str(unknown[:50]),
        },
    )


@dg.asset_check(
    asset="validated_products",
    partitions_def=import_batch,
    blocking=True,
    description=(
        "The stored validated products still meet the canonical pandera schema "
        "(columns, types and rules), as read back by the bundle stage."
    ),
)
def matches_product_schema(validated_products: pd.DataFrame) -> dg.AssetCheckResult:
    """Every validated row meets `ProductVariant`, the one schema the catalog is defined by."""
    try:
        ProductVariant.validate(validated_products, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        counts = Counter(zip(cases["column"].astype(str), cases["check"].astype(str), strict=True))
        table = ["| column | check | failures |", "|---|---|---|"] + [
            f"| {column} | {check} | {n} |" for (column, check), n in counts.most_common()
        ]
        return dg.AssetCheckResult(
            passed=False,
            metadata={
                "failures": len(cases),
                "by_column_and_check": dg.MetadataValue.md("\n".join(table)),
            },
        )
    return dg.AssetCheckResult(passed=True, metadata={"rows": len(validated_products)})
