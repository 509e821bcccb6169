"""Stage 6: a quality score per product, one bounded fix pass, a re-audit (`audited_products`)."""

import dagster as dg
import pandas as pd

from structr_pipeline.core.audit import AuditSummary, audit_products, summarize
from structr_pipeline.core.audit.results import apply_fixes, audit_frame, fix_requests
from structr_pipeline.core.batch_settings import audit_settings, batch_profile, batch_voice
from structr_pipeline.core.export import product_records
from structr_pipeline.core.generation.products import product_inputs
from structr_pipeline.core.generation.prompts import load_prompt
from structr_pipeline.core.generation.results import with_generated_copy
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.metadata import md_table
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.schema_checks import column_schema
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.generation_cache import write_cached_copy
from structr_pipeline.store.stages import record_stage


@dg.asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    kinds={"pandas"},
    pool="llm",
    metadata=column_schema("audited_products"),
)
@mark_transient_failures
@collect_less
def audited_products(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    llm: LLMResource,
    deduplicated_products: pd.DataFrame,
    generated_copy: pd.DataFrame,
) -> pd.DataFrame:
    """A 0–100 quality score, an A–E grade and the issues behind every lost point, per product.

    Scores the content that will be published (the product's own fields with its
    generated copy laid over them): basic info, identifiers, media and content, with
    weights and thresholds from `audit.yaml` or the batch's `audit` option. Issues copy
    generation can fix (SEO fields, alt text, short or unstructured descriptions,
    unsupported claims) are sent back for one bounded regeneration with the audit's
    instructions, then the product is audited again; both scores are kept. Issues no
    model can fix (a price that is not positive, an invalid GTIN) are reported only.
    """
    db = catalog.db()
    options = get_batch(db, context.partition_key).options
    settings = audit_settings(catalog.settings.audit_file, options)
    records = with_generated_copy(product_records(deduplicated_products), generated_copy)
    before = audit_products(records, settings)
    feedback = fix_requests(records, before)
    outcome = {}
    if feedback:
        voice = batch_voice(options, batch_profile(catalog.settings.profiles_dir, options))
        inputs = [p for p in product_inputs(deduplicated_products) if p["handle"] in feedback]
        results = write_cached_copy(
            db,
            inputs,
            llm.build(),
            load_prompt(),
            voice,
            fix_feedback=feedback,
            workers=catalog.settings.worker_count,
        )
        outcome = apply_fixes(records, results)
    after = audit_products(records, settings) if outcome else before
    frame = audit_frame(records, before, after, outcome)
    summary = summarize(after, settings)
    grades = {f"grade_{g}": n for g, n in summary.grade_counts.items()}
    record_stage(db, context.partition_key, "audit", counts={"products": len(frame), **grades})
    context.add_output_metadata(_audit_metadata(frame, summary, fixes_attempted=len(outcome)))
    return frame


def _audit_metadata(frame: pd.DataFrame, summary: AuditSummary, fixes_attempted: int) -> dict:
    """Scores, fixes and the grade distribution and top issues as tables, for the UI."""
    products = len(frame)
    return {
        "dagster/row_count": products,
        "mean_score": summary.mean_score,
        "median_score": summary.median_score,
        "share_c_or_better": summary.share_c_or_better,
        "products_with_errors": len(summary.products_with_errors),
        "fixes_attempted": fixes_attempted,
        "fixes_improved": int(frame["fix"].value_counts().get("improved", 0)),
        "grade_distribution": dg.MetadataValue.md(
            md_table(
                ["grade", "products", "share"],
                [
                    (g, n, f"{n / products:.0%}" if products else "–")
                    for g, n in summary.grade_counts.items()
                ],
            )
        ),
        "top_issues": dg.MetadataValue.md(
            md_table(["issue", "products"], summary.top_issues[:15])
            if summary.top_issues
            else "no issues"
        ),
        **{f"grade_{g}": n for g, n in summary.grade_counts.items()},
    }
