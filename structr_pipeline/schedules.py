"""Nightly catalog-wide work: the full export and the day's quality snapshot.

``STRUCTR_NIGHTLY_CRON`` (default ``0 2 * * *``) sets when both run and
``STRUCTR_TIMEZONE`` (default ``UTC``) the time zone of that cron and of the snapshot's
days. The snapshot taken at night describes the day that just ended.
"""

from __future__ import annotations

import os
from datetime import timedelta

import dagster as dg

from structr_pipeline.jobs import catalog_export_job, quality_snapshot_job
from structr_pipeline.partitions import SCHEDULE_TIMEZONE

NIGHTLY_CRON = os.environ.get("STRUCTR_NIGHTLY_CRON") or "0 2 * * *"


@dg.schedule(
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    job=catalog_export_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Export the whole catalog every night (Shopify CSV and JSON Lines).",
)
def nightly_catalog_export(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Export the whole catalog every night (Shopify CSV and JSON Lines)."""
    moment = context.scheduled_execution_time
    return dg.RunRequest(run_key=f"catalog-export-{moment:%Y-%m-%dT%H%M}")


@dg.schedule(
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=SCHEDULE_TIMEZONE,
    job=quality_snapshot_job,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Snapshot the catalog's quality for the day that just ended.",
)
def nightly_quality_snapshot(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Snapshot the catalog's quality for the day that just ended."""
    day = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"quality-{day}", partition_key=day)
