"""Backfills requested by sensors, and what a sensor needs to know about runs.

A sensor that returns ``backfill_request(...)`` makes the daemon launch a real backfill
(listed under Overview → Backfills in the UI), not loose runs. Dagster 1.13 offers this
only through ``RunRequest.for_asset_graph_subset``, which takes a private
``AssetGraphSubset``; it is kept to this one function, and a test on the daemon's path
(``evaluate_tick`` → ``requires_backfill_daemon``) fails if an upgrade breaks it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey

from structr_pipeline.jobs import stage_selection
from structr_pipeline.partitions import import_batch

PARTITION_TAG = "dagster/partition"

IN_PROGRESS = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)


def assets_from(context: dg.SensorEvaluationContext, start: str) -> list[dg.AssetKey]:
    """The batch assets from the ``start`` stage downward (``START_ASSETS``), in graph order."""
    selected = stage_selection(start).resolve(context.repository_def.asset_graph)
    return sorted(selected, key=lambda key: key.to_user_string())


def backfill_request(
    context: dg.SensorEvaluationContext,
    asset_keys: Iterable[dg.AssetKey],
    partition_keys: Iterable[str],
    tags: Mapping[str, str],
) -> dg.RunRequest:
    """A request for one backfill of ``asset_keys`` over the given batch partitions."""
    graph = context.repository_def.asset_graph
    subset = AssetGraphSubset.from_asset_partition_set(
        {AssetKeyPartitionKey(key, p) for key in asset_keys for p in partition_keys},
        graph,
    )
    return dg.RunRequest.for_asset_graph_subset(subset, tags=dict(tags))


def partitions_in_progress(instance: dg.DagsterInstance) -> set[str]:
    """Batch partitions that a queued or running run is working on now."""
    records = instance.get_run_records(filters=dg.RunsFilter(statuses=list(IN_PROGRESS)))
    busy = set()
    for record in records:
        key = record.dagster_run.tags.get(PARTITION_TAG)
        if key:
            busy.add(key)
    return busy


def known_batches(instance: dg.DagsterInstance) -> set[str]:
    """The batch partitions the instance knows."""
    return set(instance.get_dynamic_partitions(import_batch.name))
