"""Nightly catalog-wide work: the full export and the day's quality snapshot.

``STRUCTR_NIGHTLY_CRON`` (default ``0 2 * * *``) sets when both run and
``STRUCTR_TIMEZONE`` (default ``UTC``) the time zone of that cron and of the snapshot's
days. The snapshot taken at night describes the day that just ended.
"""

from __future__ import annotations

import inspect
from datetime import timedelta

import dagster as dg

from structr_pipeline.jobs import catalog_export_job, quality_snapshot_job
from structr_pipeline.settings import StructrSettings


def export_the_catalog(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Export the whole catalog every night (Shopify CSV and JSON Lines)."""
    moment = context.scheduled_execution_time
    return dg.RunRequest(run_key=f"catalog-export-{moment:%Y-%m-%dT%H%M}")


def snapshot_the_day(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Snapshot the catalog's quality for the day that just ended."""
    day = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"quality-{day}", partition_key=day)


def nightly_schedules(settings: StructrSettings) -> list[dg.ScheduleDefinition]:
    """The nightly catalog export and quality snapshot, at the settings' cron and time zone."""
    nightly = {
        "cron_schedule": settings.nightly_cron,
        "execution_timezone": settings.timezone,
        "default_status": dg.DefaultScheduleStatus.RUNNING,
    }
    return [
        dg.schedule(
            name="nightly_catalog_export",
            job=catalog_export_job,
            description=inspect.getdoc(export_the_catalog),
            **nightly,
        )(export_the_catalog),
        dg.schedule(
            name="nightly_quality_snapshot",
            job=quality_snapshot_job,
            description=inspect.getdoc(snapshot_the_day),
            **nightly,
        )(snapshot_the_day),
    ]
