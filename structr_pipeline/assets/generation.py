"""Stage 5: LLM-written product copy for new and changed products (`generated_copy`)."""

import json
from collections.abc import Collection, Mapping

import dagster as dg
import pandas as pd

from structr_pipeline.assets.ingestion import GROUP, batch_profile
from structr_pipeline.assets.schema_checks import column_schema
from structr_pipeline.core.dedup.merge import CHANGE
from structr_pipeline.core.generation.products import product_inputs
from structr_pipeline.core.generation.prompts import BrandVoice, PromptTemplate, load_prompt
from structr_pipeline.core.generation.providers import ChatProvider, Usage, estimate_cost
from structr_pipeline.core.generation.writer import CopyResult, write_copy
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.db import CatalogDB
from structr_pipeline.store.generation_cache import CachedCopy, CacheWriter, get_cached
from structr_pipeline.store.stages import FailedItem, record_stage, replace_failed_items

STATUSES = ("generated", "cached", "failed", "skipped_unchanged")
COPY_FIELDS = ("seo_title", "title", "description_html", "bullets", "meta_description", "image_alt")
COLUMNS = (
    "handle",
    "status",
    *COPY_FIELDS,
    "flags",
    "error",
    "attempts",
    "cache_key",
    "provider",
    "model",
    "prompt_version",
)


# Copy that can be published: written now or taken from the cache.
USABLE = ("generated", "cached")


def with_generated_copy(records, generated: pd.DataFrame) -> list[dict]:
    """Product records with their generated copy (and its status and flags) nested."""
    by_handle = {row["handle"]: row for row in generated.to_dict("records")}
    out = []
    for record in records:
        row = by_handle.get(record["handle"])
        if row is not None:
            copy = {name: row[name] for name in COPY_FIELDS} if row["status"] in USABLE else {}
            for name in ("bullets", "image_alt"):
                if name in copy:
                    copy[name] = json.loads(copy[name] or "[]")
            record["generated_copy"] = {
                "status": row["status"],
                "copy": copy,
                "flags": json.loads(row["flags"] or "[]"),
                "model": row["model"],
                "prompt_version": row["prompt_version"],
            }
        out.append(record)
    return out


def write_cached_copy(
    db: CatalogDB,
    products: list[dict],
    provider: ChatProvider,
    template: PromptTemplate,
    voice: BrandVoice,
    *,
    skip: Collection[str] = frozenset(),
    fix_feedback: Mapping[str, str] | None = None,
) -> list[CopyResult]:
    """``write_copy`` with the catalog database's generation cache: hits are read from it,
    and copy written now is stored in it as each answer arrives (``CacheWriter``), so a
    step that dies half-way has paid only once for what it finished."""

    def cached(keys: list[str]) -> dict:
        return {k: (c.copy, c.flags) for k, c in get_cached(db, keys).items()}

    # A model's answer is paid for: each is stored as it arrives. Offline copy costs
    # nothing to make again, so it is stored in large batches.
    writer = CacheWriter(db, max_pending=5000 if provider.name == "offline" else 1)

    def keep(result: CopyResult) -> None:
        if result.status == "generated" and result.copy is not None:
            writer.add(
                CachedCopy(
                    result.cache_key,
                    provider.name,
                    provider.model,
                    template.prompt_version,
                    result.copy,
                    result.flags,
                    result.usage.prompt_tokens,
                    result.usage.completion_tokens,
                )
            )

    try:
        return write_copy(
            products,
            provider,
            template,
            voice,
            cached,
            skip=skip,
            fix_feedback=fix_feedback,
            on_result=keep,
        )
    finally:
        writer.flush()


def generation_versions(provider: str, model: str, prompt_version: str) -> dict[str, str]:
    """What a batch's copy was produced with; a change of any of these makes it stale."""
    return {"provider": provider, "model": model, "prompt_version": prompt_version}


def batch_voice(catalog: CatalogStoreResource, manifest) -> BrandVoice:
    """The brand voice for a batch: its own ``brand_voice`` option, else its profile's."""
    profile = batch_profile(catalog, manifest)
    voice = (manifest.options or {}).get("brand_voice") or (
        profile.options.brand_voice if profile else None
    )
    if not voice:
        return BrandVoice()
    tone = voice.get("tone") or BrandVoice().tone
    return BrandVoice(tone=tone, avoid=tuple(voice.get("avoid") or ()))


@dg.asset(
    partitions_def=import_batch,
    group_name=GROUP,
    kinds={"pandas"},
    pool="llm",
    metadata=column_schema("generated_copy"),
)
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
    manifest = get_batch(db, context.partition_key)
    voice = batch_voice(catalog, manifest)
    template = load_prompt()
    provider = llm.build()
    is_unchanged = deduplicated_products[CHANGE] == "unchanged"
    unchanged = set(deduplicated_products.loc[is_unchanged, "handle"])
    products = product_inputs(deduplicated_products)
    results = write_cached_copy(db, products, provider, template, voice, skip=unchanged)
    rows = []
    for r in results:
        copy = r.copy or {}
        row = {name: copy.get(name, "") for name in COPY_FIELDS}
        row["bullets"] = json.dumps(copy.get("bullets", []), ensure_ascii=False)
        row["image_alt"] = json.dumps(copy.get("image_alt", []), ensure_ascii=False)
        row.update(
            handle=r.handle,
            status=r.status,
            flags=json.dumps(r.flags, ensure_ascii=False),
            error=r.error,
            attempts=r.attempts,
            cache_key=r.cache_key,
            provider=provider.name,
            model=provider.model,
            prompt_version=template.prompt_version,
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame["attempts"] = frame["attempts"].astype("int64")

    replace_failed_items(
        db,
        context.partition_key,
        "generation",
        [FailedItem(r.handle, r.error, r.attempts) for r in results if r.status == "failed"],
    )
    usage = Usage()
    for r in results:
        usage = usage + r.usage
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
