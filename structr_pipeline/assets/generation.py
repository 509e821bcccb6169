"""Stage 5: LLM-written product copy for new and changed products (`generated_copy`)."""

import dagster as dg
import pandas as pd

from structr_pipeline.core.batch_settings import batch_profile, batch_voice
from structr_pipeline.core.dedup.merge import CHANGE
from structr_pipeline.core.generation.products import product_inputs
from structr_pipeline.core.generation.prompts import load_prompt
from structr_pipeline.core.generation.providers import estimate_cost
from structr_pipeline.core.generation.results import (
    STATUSES,
    copy_frame,
    generation_versions,
    total_usage,
)
from structr_pipeline.failures import mark_transient_failures
from structr_pipeline.gc_budget import collect_less
from structr_pipeline.names import IMPORT_GROUP
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.schema_checks import column_schema
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.generation_cache import write_cached_copy
from structr_pipeline.store.stages import FailedItem, record_stage, replace_failed_items


@dg.asset(
    partitions_def=import_batch,
    group_name=IMPORT_GROUP,
    kinds={"pandas"},
    pool="llm",
    metadata=column_schema("generated_copy"),
)
@mark_transient_failures
@collect_less
def generated_copy(
    context: dg.AssetExecutionContext,
    catalog: CatalogStoreResource,
    llm: LLMResource,
    deduplicated_products: pd.DataFrame,
) -> pd.DataFrame:
    """Product-page copy for each new or changed product, one row per product.

    SEO title, title, description (sanitized HTML with a bullet list), bullets, meta
    description and alt text per image, validated, and checked against the product's own
    facts (flags kept for the audit). Results are cached by a hash of the facts, brand
    voice, prompt version and model, so the same input never reaches the model twice;
    products unchanged since the catalog last saw them make no model call (their cached
    copy is used when there is one). A product that fails is recorded with its reason;
    it never fails the batch. With the default `offline` provider the copy is
    template-based, composed from the product's attributes.
    """
    db = catalog.db()
    options = get_batch(db, context.partition_key).options
    voice = batch_voice(options, batch_profile(catalog.settings.profiles_dir, options))
    template = load_prompt()
    provider = llm.build()
    is_unchanged = deduplicated_products[CHANGE] == "unchanged"
    unchanged = set(deduplicated_products.loc[is_unchanged, "handle"])
    products = product_inputs(deduplicated_products)
    workers = catalog.settings.worker_count
    results = write_cached_copy(
        db, products, provider, template, voice, skip=unchanged, workers=workers
    )
    frame = copy_frame(results, provider.name, provider.model, template.prompt_version)

    replace_failed_items(
        db,
        context.partition_key,
        "generation",
        [FailedItem(r.handle, r.error, r.attempts) for r in results if r.status == "failed"],
    )
    usage = total_usage(results)
    cost = estimate_cost(usage, provider.model)
    status = frame["status"].value_counts()
    record_stage(
        db,
        context.partition_key,
        "generation",
        produced_with=generation_versions(provider.name, provider.model, template.prompt_version),
        counts={k: int(status.get(k, 0)) for k in STATUSES},
    )
    context.add_output_metadata(
        {
            "dagster/row_count": len(frame),
            "provider": provider.name,
            "model": provider.model,
            "prompt_version": template.prompt_version,
            "copy_kind": (
                "template-based (offline provider: composed from the product's own attributes)"
                if provider.name == "offline"
                else "written by the model"
            ),
            **{f"products_{k}": int(status.get(k, 0)) for k in STATUSES},
            "model_calls": sum(r.attempts for r in results),
            "flagged": int((~frame["flags"].isin(["", "[]"])).sum()),
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "estimated_cost_usd": (
                cost if cost is not None else dg.MetadataValue.text("unknown for this model")
            ),
        }
    )
    return frame
