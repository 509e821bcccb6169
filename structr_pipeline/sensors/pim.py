"""PIM automation: a change sensor and a full-resync schedule per configured source.

The sensor asks the source for items updated since its cursor; new items become a batch
(the raw items saved to landing as JSON Lines, so backfills re-read the same data) and
the cursor advances only once that batch is registered. The cursor moves to the start
of the pull minus the source's ``incremental_overlap_s``, and items pulled again
unchanged are left out, so an idle source makes no batch (see
``core.connectors.pim.incremental``). A pull that ends with fewer items than the server
announced is logged as a warning and noted on the batch. While the PIM is down the
sensor backs off (1, 2, 4 … 60 minutes) and keeps its place. The schedule pulls
everything (weekly by default, ``full_resync_cron`` per source) as one batch; products
the catalog has from that source but the full pull lacks are reported, not deleted.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from structr_pipeline.core.connectors.pim import (
    IncrementalCursor,
    PimError,
    PimSource,
    PullResult,
    advance,
)
from structr_pipeline.jobs import import_batch_job
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.catalog_store import CatalogStoreResource
from structr_pipeline.resources.pim import PimResource, resource_key
from structr_pipeline.store.batches import RegisteredBatch, register_file

MAX_BACKOFF = timedelta(minutes=60)


def register_pull(
    catalog: CatalogStoreResource,
    source: PimSource,
    pull: PullResult,
    kind: str,
    since: str | None,
    items: list[dict] | None = None,
) -> RegisteredBatch:
    """Save a pull's raw items (or ``items`` of it) to landing as a JSON Lines batch.

    A pull that got fewer items than the server announced says so in the batch's
    options (``announced_total``, ``missing``).
    """
    options = {"pim_source": source.name, "pull": kind, "updated_since": since}
    if pull.missing:
        options.update(announced_total=pull.expected_total, missing=pull.missing)
    with tempfile.TemporaryDirectory(prefix="structr-pim-") as folder:
        path = Path(folder) / f"{source.name}-{kind}.jsonl"
        with path.open("w", encoding="utf-8", newline="\n") as f:
            for item in pull.items if items is None else items:
                f.write(json.dumps({"source": "pim", "item": item}, sort_keys=True))
                f.write("\n")
        return register_file(
            catalog.db(),
            path,
            source_kind=f"pim_{source.name}",
            landing_dir=catalog.settings.landing_dir,
            options=options,
        )


def _load_state(cursor: str | None) -> dict:
    """The sensor's cursor object; an old bare timestamp becomes ``{"updated_since": …}``."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except ValueError:
        state = cursor.strip()
    if isinstance(state, str):
        return {"updated_since": state}
    return state if isinstance(state, dict) else {}


def _run_request(registered: RegisteredBatch, kind: str) -> dg.RunRequest:
    manifest = registered.manifest
    return dg.RunRequest(
        partition_key=manifest.batch_id,
        run_key=f"pim-{manifest.sha256}",
        tags={"structr/source": manifest.source_kind, "structr/pull": kind},
    )


def build_pim_sensor(source: PimSource) -> dg.SensorDefinition:
    """The change sensor of one PIM source."""
    key = resource_key(source.name)

    def evaluate(context: dg.SensorEvaluationContext):
        catalog: CatalogStoreResource = context.resources.catalog
        state = _load_state(context.cursor)
        now = datetime.now(UTC)
        retry_at = state.get("retry_at")
        if retry_at and now < datetime.fromisoformat(retry_at):
            return dg.SkipReason(f"{source.name} was down; next try after {retry_at}")
        pim: PimResource = getattr(context.resources, key)
        cursor = IncrementalCursor.from_state(state)
        since = cursor.updated_since
        try:
            with pim.client() as client:
                pull = client.pull(since)
        except PimError as exc:
            failures = int(state.get("failures", 0)) + 1
            wait = min(timedelta(minutes=2 ** (failures - 1)), MAX_BACKOFF)
            state.update(failures=failures, retry_at=(now + wait).isoformat(), error=str(exc))
            context.log.warning(f"{source.name}: {exc}; trying again in {wait}")
            return dg.SensorResult(skip_reason=str(exc), cursor=json.dumps(state))
        step = advance(cursor, pull, source)
        state = step.cursor.to_state()
        shortfall = pull.shortfall(source.name)
        if shortfall:
            context.log.warning(shortfall)
        if not step.items:
            reason = f"no changes in {source.name} since {since}"
            if step.repeated:
                reason += f" ({step.repeated} items fetched again unchanged)"
            if shortfall:
                reason += f"; {shortfall}"
            return dg.SensorResult(skip_reason=reason, cursor=json.dumps(state))
        registered = register_pull(catalog, source, pull, "incremental", since, step.items)
        batch_id = registered.manifest.batch_id
        context.log.info(
            f"{len(step.items)} changed items from {source.name}: batch {batch_id}"
            + (f" ({step.repeated} fetched again unchanged, left out)" if step.repeated else "")
        )
        return dg.SensorResult(
            run_requests=[_run_request(registered, "incremental")],
            dynamic_partitions_requests=[import_batch.build_add_request([batch_id])],
            cursor=json.dumps(state),
        )

    return dg.SensorDefinition(
        name=f"{key}_changes",
        evaluation_fn=evaluate,
        job=import_batch_job,
        minimum_interval_seconds=300,
        required_resource_keys={key, "catalog"},
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Pull the items of PIM source '{source.name}' ({source.preset}) updated since "
            "the last pull into a batch; backs off while the PIM is down, without losing "
            "its place."
        ),
    )


def build_pim_resync(source: PimSource) -> dg.ScheduleDefinition:
    """The full-resync schedule of one PIM source."""
    key = resource_key(source.name)

    def evaluate(context: dg.ScheduleEvaluationContext):
        pim: PimResource = getattr(context.resources, key)
        catalog: CatalogStoreResource = context.resources.catalog
        with pim.client() as client:
            pull = client.pull(None)
        shortfall = pull.shortfall(source.name)
        if shortfall:
            context.log.warning(shortfall)
        if not pull.items:
            return dg.SkipReason(f"{source.name} returned no items")
        registered = register_pull(catalog, source, pull, "full", None)
        batch_id = registered.manifest.batch_id
        if not context.instance.has_dynamic_partition(import_batch.name, batch_id):
            context.instance.add_dynamic_partitions(import_batch.name, [batch_id])
        return _run_request(registered, "full")

    return dg.ScheduleDefinition(
        name=f"{key}_full_resync",
        cron_schedule=source.full_resync_cron,
        execution_timezone=source.full_resync_timezone,
        execution_fn=evaluate,
        job=import_batch_job,
        required_resource_keys={key, "catalog"},
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            f"Pull everything from PIM source '{source.name}' as one batch; products the "
            "catalog has from it but the pull lacks are reported as possibly removed."
        ),
    )
