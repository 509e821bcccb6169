"""The staleness sensor: a new prompt, model or mapping profile re-runs exactly what it made stale.

Every batch's generation stage records the provider, model and prompt version it wrote
copy with, and its mapping stage the fingerprint of the profile it was mapped with.
When those differ from what is configured now, the sensor requests one backfill per
starting point: prompt, model or provider changes from ``generated_copy`` downward,
profile changes from the mapping stage downward (a batch stale for both starts at
mapping). Batches produced with the current versions are never touched, and a request
already made for the same target is not repeated while it runs.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from structr_pipeline.core.generation.prompts import load_prompt
from structr_pipeline.core.generation.results import generation_versions
from structr_pipeline.core.mapping.profiles import ProfileError, load_profile
from structr_pipeline.jobs import IMPORT_GROUP
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.run_liveness import fail_dead_runs
from structr_pipeline.sensors.backfills import (
    assets_from,
    backfill_request,
    known_batches,
    partitions_in_progress,
)
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.stages import stage_records


def _signature(value: dict) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stale_batches(
    catalog: CatalogStoreResource, llm: LLMResource, batches: set[str]
) -> dict[str, tuple[str, dict]]:
    """Batch → (the stage to start from, the versions it should be produced with)."""
    db = catalog.db()
    provider = llm.build()
    current = generation_versions(provider.name, provider.model, load_prompt().prompt_version)
    stale: dict[str, tuple[str, dict]] = {}
    for batch_id, record in stage_records(db, "generation").items():
        if batch_id in batches and record.produced_with != current:
            stale[batch_id] = ("generation", current)
    for batch_id, record in stage_records(db, "mapping").items():
        if batch_id not in batches:
            continue
        name = (get_batch(db, batch_id).options or {}).get("profile")
        if not name:
            continue
        try:
            fingerprint = load_profile(catalog.settings.profiles_dir, name).fingerprint()
        except ProfileError:
            continue
        if record.produced_with.get("profile_fingerprint") != fingerprint:
            stale[batch_id] = ("mapping", {"profile": name, "profile_fingerprint": fingerprint})
    return stale


@dg.sensor(
    asset_selection=dg.AssetSelection.groups(IMPORT_GROUP),
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Backfill the batches a prompt, model or mapping-profile change made stale.\n\n "
        "Prompt version, model or provider changed: from `generated_copy` downward. The "
        "batch's mapping profile changed: from mapping downward. Only batches produced "
        "with an older version; each target is requested once."
    ),
)
def staleness_sensor(
    context: dg.SensorEvaluationContext, catalog: CatalogStoreResource, llm: LLMResource
):
    """Backfill the batches a prompt, model or mapping-profile change made stale.

    Prompt version, model or provider changed: from `generated_copy` downward. The
    batch's mapping profile changed: from mapping downward. Only batches produced with
    an older version; each target is requested once.
    """
    requested = json.loads(context.cursor) if context.cursor else {}
    stale = stale_batches(catalog, llm, known_batches(context.instance))
    # A run whose process died would look busy for ever; it is failed (and retried) instead.
    fail_dead_runs(context.instance, catalog.db())
    busy = partitions_in_progress(context.instance)
    by_start: dict[str, list[str]] = {}
    cursor = {}
    for batch_id, (start, target) in sorted(stale.items()):
        signature = _signature({"start": start, **target})
        if requested.get(batch_id) == signature:
            cursor[batch_id] = signature
            continue
        if batch_id in busy:
            continue
        cursor[batch_id] = signature
        by_start.setdefault(start, []).append(batch_id)
    requests = [
        backfill_request(
            context,
            assets_from(context, start),
            batch_ids,
            {"structr/stale": start},
        )
        for start, batch_ids in sorted(by_start.items())
    ]
    for start, batch_ids in by_start.items():
        context.log.info(f"{len(batch_ids)} stale batches from {start}: {', '.join(batch_ids)}")
    if not requests:
        return dg.SensorResult(skip_reason="no batch is stale", cursor=json.dumps(cursor))
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor))
