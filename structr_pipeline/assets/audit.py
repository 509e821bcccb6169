"""Stage 6: a quality score per product, one bounded fix pass, a re-audit (`audited_products`)."""

import json

import dagster as dg
import pandas as pd
import yaml

from structr_pipeline.assets.generation import (
    USABLE,
    batch_voice,
    with_generated_copy,
    write_cached_copy,
)
from structr_pipeline.assets.ingestion import GROUP
from structr_pipeline.assets.markdown import md_table
from structr_pipeline.assets.schema_checks import column_schema
from structr_pipeline.core.audit import (
    AuditSettings,
    ProductAudit,
    audit_products,
    fix_feedback,
    summarize,
)
from structr_pipeline.core.export import product_records
from structr_pipeline.core.generation.products import product_inputs
from structr_pipeline.core.generation.prompts import load_prompt
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.store.batches import BatchManifest, get_batch
from structr_pipeline.store.stages import record_stage

AUDIT_COLUMNS = (
    "handle",
    "score",
    "grade",
    "issues",
    "components",
    "has_errors",
    "holds_back",
    "score_before",
    "grade_before",
    "issues_before",
    "components_before",
    "fix",
    "copy_status",
    "copy",
    "flags",
    "model",
    "prompt_version",
)


def audit_settings(catalog: CatalogStoreResource, manifest: BatchManifest) -> AuditSettings:
    """The batch's audit settings: ``audit.yaml`` in STRUCTR_HOME, then its ``audit`` option."""
    path = catalog.settings.audit_file
    base = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if base is not None and not isinstance(base, dict):
        raise ValueError(f"{path}: expected a mapping of audit settings")
    overrides = (manifest.options or {}).get("audit") or {}
    merged = {**(base or {}), **overrides}
    for key in ("weights", "grade_bands"):
        if isinstance((base or {}).get(key), dict) and isinstance(overrides.get(key), dict):
            merged[key] = {**base[key], **overrides[key]}
    return AuditSettings.from_mapping(merged)


def _fix_pass(
    catalog: CatalogStoreResource,
    llm: LLMResource,
    manifest: BatchManifest,
    deduplicated_products: pd.DataFrame,
    records: list[dict],
    audits: list[ProductAudit],
) -> dict[str, str]:
    """Regenerate once the copy of products with fixable issues; returns handle → outcome.

    Only products whose copy was written or taken from the cache in this batch are sent
    back (unchanged products make no model call). A regenerated copy replaces the old
    one in ``records`` when it parses; otherwise the old copy stays.
    """
    by_handle = {r["handle"]: r for r in records}
    feedback = {}
    for audit in audits:
        record = by_handle[audit.handle]
        if (record.get("generated_copy") or {}).get("status") not in USABLE:
            continue
        instructions = fix_feedback(audit)
        if instructions:
            feedback[audit.handle] = "\n".join(f"- {line}" for line in instructions)
    if not feedback:
        return {}
    template = load_prompt()
    provider = llm.build()
    voice = batch_voice(catalog, manifest)
    inputs = [p for p in product_inputs(deduplicated_products) if p["handle"] in feedback]

    results = write_cached_copy(
        catalog.db(), inputs, provider, template, voice, fix_feedback=feedback
    )
    outcome = {}
    for r in results:
        if r.status in USABLE and r.copy is not None:
            generated = by_handle[r.handle]["generated_copy"]
            generated["copy"] = r.copy
            generated["flags"] = r.flags
            generated["status"] = r.status
            outcome[r.handle] = "regenerated"
        else:
            outcome[r.handle] = f"failed: {r.error}"
    return outcome


@dg.asset(
    partitions_def=import_batch,
    group_name=GROUP,
    kinds={"pandas"},
    pool="llm",
    metadata=column_schema("audited_products"),
)
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
    manifest = get_batch(db, context.partition_key)
    settings = audit_settings(catalog, manifest)
    records = with_generated_copy(product_records(deduplicated_products), generated_copy)
    before = audit_products(records, settings)
    outcome = _fix_pass(catalog, llm, manifest, deduplicated_products, records, before)
    after = audit_products(records, settings) if outcome else before
    before_by_handle = {a.handle: a for a in before}

    rows = []
    for record, audit in zip(records, after, strict=True):
        first = before_by_handle[audit.handle]
        generated = record.get("generated_copy") or {}
        result = outcome.get(audit.handle, "")
        if not result:
            fix = "not_needed" if not fix_feedback(first) else "not_attempted"
        elif result.startswith("failed"):
            fix = "failed"
        else:
            fix = "improved" if audit.score > first.score else "not_improved"
        rows.append(
            {
                "handle": audit.handle,
                "score": float(audit.score),
                "grade": audit.grade,
                "issues": json.dumps([i.to_dict() for i in audit.issues], ensure_ascii=False),
                "components": json.dumps(audit.components),
                "has_errors": bool(audit.has_errors),
                "holds_back": json.dumps(audit.holds_back),
                "score_before": float(first.score),
                "grade_before": first.grade,
                "issues_before": json.dumps(
                    [i.to_dict() for i in first.issues], ensure_ascii=False
                ),
                "components_before": json.dumps(first.components),
                "fix": fix,
                "copy_status": str(generated.get("status", "")),
                "copy": json.dumps(generated.get("copy") or {}, ensure_ascii=False),
                "flags": json.dumps(generated.get("flags") or [], ensure_ascii=False),
                "model": str(generated.get("model", "")),
                "prompt_version": str(generated.get("prompt_version", "")),
            }
        )
    frame = pd.DataFrame(rows, columns=list(AUDIT_COLUMNS))
    summary = summarize(after, settings)
    fixes = frame["fix"].value_counts()
    record_stage(
        db,
        context.partition_key,
        "audit",
        counts={
            "products": len(frame),
            **{f"grade_{g}": n for g, n in summary.grade_counts.items()},
        },
    )
    context.add_output_metadata(
        {
            "dagster/row_count": len(frame),
            "mean_score": summary.mean_score,
            "median_score": summary.median_score,
            "share_c_or_better": summary.share_c_or_better,
            "products_with_errors": len(summary.products_with_errors),
            "fixes_attempted": len(outcome),
            "fixes_improved": int(fixes.get("improved", 0)),
            "grade_distribution": dg.MetadataValue.md(
                md_table(
                    ["grade", "products", "share"],
                    [
                        (g, n, f"{n / len(frame):.0%}" if len(frame) else "–")
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
    )
    return frame
