"""The automation policy reaches the sensors as a resource, not through the environment."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from structr_pipeline.core.inbox import PROCESSED
from structr_pipeline.partitions import import_batch
from structr_pipeline.resources.automation import AutomationPolicyResource
from structr_pipeline.sensors.inbox import inbox_sensor
from structr_pipeline.sensors.reprocess import FAILED_ITEMS, REPORT_ASSET, reprocess_sensor
from structr_pipeline.sensors.webhook_queue import webhook_queue_sensor
from structr_pipeline.settings import QueuePolicy, RetryPolicy
from structr_pipeline.store.batches import get_batch
from structr_pipeline.store.reprocessing import attempts_by_batch
from structr_pipeline.store.stages import FailedItem, replace_failed_items
from structr_pipeline.store.webhook_queue import IncomingDelivery, enqueue


@pytest.fixture(autouse=True)
def no_policy_in_the_environment(monkeypatch) -> None:
    """Variables that would change the policy if a sensor still read them."""
    monkeypatch.setenv("STRUCTR_REPROCESS_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("STRUCTR_REPROCESS_BACKOFF_SECONDS", "7")
    monkeypatch.setenv("STRUCTR_QUEUE_MAX_EVENTS", "7")
    monkeypatch.setenv("STRUCTR_QUEUE_MAX_WAIT_SECONDS", "0")
    monkeypatch.setenv("STRUCTR_CONTENTFUL_PIM_SOURCE", "from-the-environment")


def policy(settings, **fields) -> AutomationPolicyResource:
    """The policy ``build_defs`` makes from the settings, with ``fields`` changed."""
    built = AutomationPolicyResource.from_settings(settings)
    return AutomationPolicyResource(**{**built.model_dump(), **fields})


def context(defs, instance, automation: AutomationPolicyResource) -> dg.SensorEvaluationContext:
    return dg.build_sensor_context(
        instance=instance,
        definitions=defs,
        resources={"catalog": defs.resources["catalog"], "automation": automation},
    )


def test_build_defs_makes_the_policy_from_the_settings(settings) -> None:
    from structr_pipeline.definitions import build_defs

    custom = dataclasses.replace(
        settings,
        retry=RetryPolicy(max_attempts=5, backoff_seconds=42),
        queue=QueuePolicy(max_events=9, max_wait_seconds=3),
        inbox_dir=settings.home / "drop",
        contentful_pim_source="cms",
    )
    automation = build_defs(custom).resources["automation"]
    assert isinstance(automation, AutomationPolicyResource)
    assert automation.retry == RetryPolicy(max_attempts=5, backoff_seconds=42)
    assert automation.queue == QueuePolicy(max_events=9, max_wait_seconds=3)
    assert automation.inbox == settings.home / "drop"
    assert automation.contentful_pim_source == "cms"
    default = build_defs(settings).resources["automation"]
    assert (default.retry, default.queue) == (RetryPolicy(), QueuePolicy())
    assert default.inbox == settings.home / "inbox"
    assert default.contentful_pim_source is None


def test_the_inbox_sensor_watches_the_folder_the_resource_names(
    defs, instance, settings, tmp_path
) -> None:
    elsewhere = tmp_path / "drop"
    result = inbox_sensor(context(defs, instance, policy(settings, inbox_dir=str(elsewhere))))
    assert str(elsewhere) in result.skip_reason.skip_message
    assert (elsewhere / PROCESSED).is_dir() and not settings.inbox.exists()


def test_the_queue_sensor_drains_by_the_resource_policy(defs, instance, settings) -> None:
    db = defs.resources["catalog"].db()
    body = json.dumps({"sys": {"id": "entry-1"}}).encode()
    received = datetime.now(UTC) - timedelta(seconds=30)
    enqueue(db, IncomingDelivery("contentful", "d-1", "Entry.delete", {}, body, received))

    patient = policy(settings, queue_max_events=500, queue_max_wait_seconds=3600)
    waiting = webhook_queue_sensor(context(defs, instance, patient))
    assert waiting.skip_message.endswith("waiting for 500 or 3600 s")

    eager = policy(settings, queue_max_events=1, contentful_pim_source="cms")
    (request,) = webhook_queue_sensor(context(defs, instance, eager)).run_requests
    assert get_batch(db, request.partition_key).options == {"pim_source": "cms"}


def test_the_reprocess_sensor_retries_by_the_resource_policy(defs, instance, settings) -> None:
    db = defs.resources["catalog"].db()
    instance.add_dynamic_partitions(import_batch.name, ["batch-a"])
    replace_failed_items(db, "batch-a", "generation", [FailedItem("tee", "500", 1)])

    spaced = policy(settings, reprocess_max_attempts=4, reprocess_backoff_seconds=42)
    assert len(reprocess_sensor(context(defs, instance, spaced)).run_requests) == 1
    state = attempts_by_batch(db, FAILED_ITEMS)["batch-a"]
    assert state.attempts == 1
    assert state.next_attempt_at - state.last_attempt_at == timedelta(seconds=42)

    instance.add_dynamic_partitions(import_batch.name, ["batch-b"])
    replace_failed_items(db, "batch-b", "generation", [FailedItem("cap", "500", 1)])
    bounded = policy(settings, reprocess_max_attempts=0)
    result = reprocess_sensor(context(defs, instance, bounded))
    assert not result.run_requests
    (event,) = result.asset_events
    assert event.asset_key == REPORT_ASSET
    assert "batch-b" in event.metadata["newly_given_up"].value
