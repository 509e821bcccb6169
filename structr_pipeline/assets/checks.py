"""Asset checks that guard every import batch."""

import json
import warnings
from collections import Counter

import dagster as dg
import pandas as pd
import pandera.pandas as pa

from structr_pipeline.core.batch_settings import audit_settings
from structr_pipeline.core.connectors.registry import (
    REQUIRED_FIELDS,
    field_sources_of,
    missing_required,
)
from structr_pipeline.core.connectors.shopify_export import handles_in_shopify_csv
from structr_pipeline.core.export import accounted_lines
from structr_pipeline.core.publish import PUBLISH_ERRORS_OPTION, held_back
from structr_pipeline.core.schema import ProductVariant
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.store.batches import get_batch

# Below this confidence a required field's mapping is flagged for a person to check.
MIN_CONFIDENCE = 0.7

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
    return conservation(
        source_rows,
        accepted=accounted_lines(validated_products),
        rejected=accounted_lines(rejected_rows),
    )


def conservation(source_rows: pd.DataFrame, **parts: list[int]) -> dg.AssetCheckResult:
    """Every source line in exactly one of ``parts`` (named lists of lines): the check result."""
    source = Counter(source_rows["_source_line"].astype(int).tolist())
    counted = {name: Counter(lines) for name, lines in parts.items()}
    seen: Counter[int] = sum(counted.values(), Counter())
    missing = sorted(source - seen)
    duplicated = sorted(line for line, n in seen.items() if n > 1)
    unknown = sorted(seen.keys() - source.keys())
    return dg.AssetCheckResult(
        passed=not (missing or duplicated or unknown),
        metadata={
            "rows_in": sum(source.values()),
            **{f"rows_{name}": sum(c.values()) for name, c in counted.items()},
            "lost_lines": str(missing[:50]),
            "double_counted_lines": str(duplicated[:50]),
            "unknown_lines": str(unknown[:50]),
        },
    )


@dg.asset_check(
    asset="deduplicated_products",
    partitions_def=import_batch,
    blocking=True,
    additional_ins={
        "source_rows": dg.AssetIn("source_rows"),
        "rejected_rows": dg.AssetIn(),
        "duplicate_merges": dg.AssetIn(),
    },
    description=(
        "Conservation after deduplication: rows in = rows accepted + rows rejected + rows "
        "merged into another as duplicates; every source line exactly once."
    ),
)
def rows_conserved_after_dedup(
    deduplicated_products: pd.DataFrame,
    source_rows: pd.DataFrame,
    rejected_rows: pd.DataFrame,
    duplicate_merges: pd.DataFrame,
) -> dg.AssetCheckResult:
    """Rows in = accepted + rejected + merged, no line lost, none counted twice."""
    return conservation(
        source_rows,
        accepted=accounted_lines(deduplicated_products),
        rejected=accounted_lines(rejected_rows),
        merged=[line for text in duplicate_merges["merged_lines"] for line in json.loads(text)],
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


@dg.asset_check(
    asset="mapped_products",
    partitions_def=import_batch,
    blocking=True,
    additional_ins={"column_mapping": dg.AssetIn()},
    description=(
        "The fields a product cannot do without (title, price, and a handle or a SKU) are "
        "each mapped from a source column: fails, blocking the later stages, when one is "
        f"not mapped at all; warns when one is mapped with confidence below {MIN_CONFIDENCE}."
    ),
)
@mark_transient_failures
def required_fields_mapped(
    context: dg.AssetCheckExecutionContext,
    catalog: CatalogStoreResource,
    column_mapping: pd.DataFrame,
) -> dg.AssetCheckResult:
    """Title, price and handle-or-SKU are mapped, and with enough confidence."""
    file_name = get_batch(catalog.db(), context.partition_key).original_name
    sources = field_sources_of(column_mapping)
    confidence = {
        field: float(conf)
        for field, conf in zip(column_mapping["field"], column_mapping["confidence"], strict=True)
        if isinstance(field, str)
    }
    missing = missing_required(sources)
    unsure = sorted(
        f"{field} ← '{sources[field]}' ({confidence[field]:.2f})"
        for group in REQUIRED_FIELDS
        for field in group
        if field in sources and confidence[field] < MIN_CONFIDENCE
    )
    metadata = {
        "file": file_name,
        "required": ", ".join(" or ".join(group) for group in REQUIRED_FIELDS),
        "mapped": ", ".join(
            f"{f} ← '{sources[f]}'" for g in REQUIRED_FIELDS for f in g if f in sources
        ),
    }
    if missing:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=(
                f"{file_name}: no column maps to {' nor '.join(missing)}; name the column in a "
                f"mapping profile (structr analyze {file_name} --save-profile NAME, edit it, "
                "then structr import FILE --profile NAME)"
            ),
            metadata={**metadata, "missing": ", ".join(missing)},
        )
    if unsure:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                f"{file_name}: required fields mapped with low confidence: {', '.join(unsure)}; "
                "check them, or fix them in a mapping profile"
            ),
            metadata={**metadata, "low_confidence": ", ".join(unsure)},
        )
    return dg.AssetCheckResult(passed=True, metadata=metadata)


@dg.asset_check(
    asset="generated_copy",
    partitions_def=import_batch,
    description=(
        "The share of products whose copy could not be written (provider errors, answers "
        "that failed validation twice); warns when any failed. Failed items are retried "
        "by reprocessing, never by failing the batch."
    ),
)
def generation_failure_rate(generated_copy: pd.DataFrame) -> dg.AssetCheckResult:
    """How many products failed generation, and why (the first reasons)."""
    attempted = generated_copy[generated_copy["status"] != "skipped_unchanged"]
    failed = attempted[attempted["status"] == "failed"]
    rate = len(failed) / len(attempted) if len(attempted) else 0.0
    reasons = "\n".join(
        f"- {h}: {e}" for h, e in zip(failed["handle"], failed["error"], strict=True)
    )
    return dg.AssetCheckResult(
        passed=failed.empty,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(failed)} of {len(attempted)} products have no copy"
        if len(failed)
        else None,
        metadata={
            "failed": len(failed),
            "attempted": len(attempted),
            "failure_rate": round(rate, 4),
            "first_reasons": dg.MetadataValue.md(reasons[:4000] or "none"),
        },
    )


@dg.asset_check(
    asset="audited_products",
    partitions_def=import_batch,
    description=(
        "The share of products graded C or better reaches the batch's threshold "
        "(`min_share_c_or_better` in audit.yaml or the batch's `audit` option); warns "
        "when it does not."
    ),
)
@mark_transient_failures
def grade_c_or_better_share(
    context: dg.AssetCheckExecutionContext,
    catalog: CatalogStoreResource,
    audited_products: pd.DataFrame,
) -> dg.AssetCheckResult:
    """Enough products grade A, B or C."""
    manifest = get_batch(catalog.db(), context.partition_key)
    threshold = audit_settings(catalog.settings.audit_file, manifest.options).min_share_c_or_better
    total = len(audited_products)
    good = int(audited_products["grade"].isin(["A", "B", "C"]).sum())
    share = good / total if total else 1.0
    return dg.AssetCheckResult(
        passed=share >= threshold,
        severity=dg.AssetCheckSeverity.WARN,
        description=None
        if share >= threshold
        else f"{share:.0%} of products grade C or better, below the {threshold:.0%} required",
        metadata={
            "share_c_or_better": round(share, 4),
            "threshold": threshold,
            "products": total,
            "products_c_or_better": good,
        },
    )


@dg.asset_check(
    asset="product_bundle",
    partitions_def=import_batch,
    additional_ins={"audited_products": dg.AssetIn()},
    description=(
        "No product with a problem that would make it wrong or unsellable once published "
        "(no title, no price or a zero price, a GTIN with a wrong check digit) is in the "
        "batch's `shopify_import.csv`, unless the batch option "
        "`publish_products_with_errors` allows it."
    ),
)
@mark_transient_failures
def no_error_products_published(
    context: dg.AssetCheckExecutionContext,
    catalog: CatalogStoreResource,
    audited_products: pd.DataFrame,
) -> dg.AssetCheckResult:
    """Reads the written import file back and looks for products that should be held back."""
    manifest = get_batch(catalog.db(), context.partition_key)
    allowed = bool((manifest.options or {}).get(PUBLISH_ERRORS_OPTION))
    path = catalog.settings.exports_dir / context.partition_key / "shopify_import.csv"
    published = handles_in_shopify_csv(path)
    with_errors = held_back(
        zip(audited_products["handle"], audited_products["holds_back"], strict=True)
    ).handles
    leaked = sorted(published & with_errors)
    return dg.AssetCheckResult(
        passed=allowed or not leaked,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"{len(leaked)} products that should be held back are in shopify_import.csv: "
            + ", ".join(leaked[:10])
            if leaked and not allowed
            else None
        ),
        metadata={
            "products_with_errors": len(with_errors),
            "published_with_errors": len(leaked),
            "allowed_by_batch_option": allowed,
            "held_back": len(with_errors - published),
        },
    )
