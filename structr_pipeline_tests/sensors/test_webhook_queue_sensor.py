"""From a signed webhook delivery over real HTTP to a product in the catalog, exactly once."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import httpx
import pytest

from structr_pipeline.runner import run_batch
from structr_pipeline.sensors.webhook_queue import (
    webhook_batch_failed,
    webhook_batch_succeeded,
    webhook_queue_sensor,
)
from structr_pipeline.settings import QueuePolicy
from structr_pipeline.store.catalog import read_catalog
from structr_pipeline.store.db import CatalogDB
from structr_pipeline.store.webhook_queue import events_for_batch, queue_counts
from structr_pipeline.webhooks.config import WebhookConfig
from structr_pipeline.webhooks.signatures import shopify_signature
from structr_pipeline_tests.webhooks.test_receiver import SHOPIFY_SECRET, configured_env, serve

TEE = {
    "id": 788032119674292922,
    "title": "Example T-Shirt",
    "handle": "example-t-shirt",
    "body_html": "<p>Soft cotton tee.</p>",
    "vendor": "Acme",
    "product_type": "Shirts",
    "status": "active",
    "tags": "summer, cotton",
    "options": [{"name": "Size", "position": 1, "values": ["Small", "Medium"]}],
    "variants": [
        {"id": 1, "sku": "TEE-S", "price": "19.99", "option1": "Small", "barcode": ""},
        {"id": 2, "sku": "TEE-M", "price": "19.99", "option1": "Medium", "barcode": ""},
    ],
    "images": [{"id": 9, "src": "https://cdn.example.com/tee.jpg", "position": 1, "alt": ""}],
}


@pytest.fixture
def settings(settings):
    """The shared settings with a queue that drains at once."""
    return dataclasses.replace(settings, queue=QueuePolicy(max_wait_seconds=0))


@pytest.fixture
def receiver(settings):
    db = CatalogDB.from_settings(settings)
    with serve(db, WebhookConfig.from_env(configured_env())) as running:
        yield running


def deliver(receiver, topic: str, payload: dict, delivery_id: str) -> int:
    body = json.dumps(payload).encode()
    response = httpx.post(
        f"{receiver.base_url}/webhooks/shopify",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Webhook-Id": delivery_id,
            "X-Shopify-Hmac-Sha256": shopify_signature(SHOPIFY_SECRET, body),
        },
    )
    return response.status_code


def tick(defs, instance):
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(),
        definitions=defs,
        resources=defs.get_repository_def().get_top_level_resources(),
    ) as context:  # leaving it closes the instance opened from the ref
        result = webhook_queue_sensor.evaluate_tick(context)
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def settle(sensor, defs, instance, run_id: str, event_type: dg.DagsterEventType) -> None:
    """What the daemon does when the run ends: the run-status sensor sees it."""
    run = instance.get_run_by_id(run_id)
    (entry,) = instance.all_logs(run_id, of_type=event_type)
    context = dg.build_run_status_sensor_context(
        sensor_name=sensor.name,
        dagster_event=entry.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources=defs.get_repository_def().get_top_level_resources(),
    )
    sensor(context)


def test_a_delivery_becomes_a_catalog_product_and_a_delete_archives_it(
    defs, instance, receiver
) -> None:
    db = defs.resources["catalog"].db()
    assert deliver(receiver, "products/create", TEE, "d-1") == 202
    assert deliver(receiver, "products/create", TEE, "d-1") == 202  # a redelivery
    assert queue_counts(db)["pending"] == 1

    result = tick(defs, instance)
    (request,) = result.run_requests
    batch_id = request.partition_key
    assert {e.delivery_id for e in events_for_batch(db, batch_id)} == {"d-1"}
    assert queue_counts(db)["claimed"] == 1
    assert not tick(defs, instance).run_requests  # claimed: not drained twice

    run = run_batch(defs, instance, batch_id)
    assert run.success, run.errors + run.check_failures
    settle(webhook_batch_succeeded, defs, instance, run.run_id, dg.DagsterEventType.RUN_SUCCESS)
    assert queue_counts(db)["done"] == 1
    catalog = read_catalog(db)
    tee = catalog[catalog["handle"] == "example-t-shirt"]
    assert sorted(tee["sku"]) == ["TEE-M", "TEE-S"] and set(tee["option1_name"]) == {"Size"}
    assert set(tee["status"]) == {"active"}

    assert deliver(receiver, "products/delete", {"id": TEE["id"]}, "d-2") == 202
    (delete_request,) = tick(defs, instance).run_requests
    deleted = run_batch(defs, instance, delete_request.partition_key)
    assert deleted.success, deleted.errors + deleted.check_failures
    catalog = read_catalog(db)
    archived = catalog[catalog["handle"] == "example-t-shirt"]
    assert len(archived) == 2 and set(archived["status"]) == {"archived"}  # kept, archived


def test_a_failed_run_puts_its_deliveries_back(defs, instance, receiver, settings) -> None:
    db = defs.resources["catalog"].db()
    assert deliver(receiver, "products/update", TEE, "d-9") == 202
    (request,) = tick(defs, instance).run_requests

    from structr_pipeline.definitions import build_defs
    from structr_pipeline_tests.sensors.test_reprocess_and_staleness import UnreachableLLM

    broken = build_defs(settings, resource_overrides={"llm": UnreachableLLM()})
    run = run_batch(broken, instance, request.partition_key)
    assert not run.success
    settle(webhook_batch_failed, broken, instance, run.run_id, dg.DagsterEventType.RUN_FAILURE)
    counts = queue_counts(db)
    assert counts["pending"] == 1 and counts.get("claimed", 0) == 0  # nothing lost
    (again,) = tick(defs, instance).run_requests  # drained again, with a new run key
    assert again.partition_key == request.partition_key
    assert again.run_key != request.run_key


def test_claims_no_run_will_settle_are_put_back(defs, instance, receiver, monkeypatch) -> None:
    import structr_pipeline.sensors.webhook_queue as queue_sensor
    from structr_pipeline.store.webhook_queue import claim_pending

    db = defs.resources["catalog"].db()
    assert deliver(receiver, "products/update", TEE, "d-20") == 202
    now = datetime.now(UTC)
    claim_pending(db, f"claim-{now:%Y%m%dT%H%M%S}-deadbeef", 10)  # a tick that died mid-way
    assert not tick(defs, instance).run_requests  # nothing pending: the claim holds it

    monkeypatch.setattr(queue_sensor, "ORPHAN_AFTER", timedelta(0))
    (request,) = tick(defs, instance).run_requests  # released, then drained into a batch
    assert {e.delivery_id for e in events_for_batch(db, request.partition_key)} == {"d-20"}

    # The batch's run was never launched (no run of its partition): released again.
    (again,) = tick(defs, instance).run_requests
    assert again.partition_key == request.partition_key
