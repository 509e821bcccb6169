"""The reprocessing and staleness sensors on a real instance, deciding real backfills."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from structr_pipeline.core.mapping.profiles import MappingProfile, save_profile
from structr_pipeline.definitions import build_defs
from structr_pipeline.resources.llm import LLMResource
from structr_pipeline.runner import register_batch, run_batch
from structr_pipeline.sensors.reprocess import (
    FAILED_ITEMS,
    FAILED_RUN,
    REPORT_ASSET,
    reprocess_sensor,
)
from structr_pipeline.sensors.staleness import staleness_sensor
from structr_pipeline.settings import RetryPolicy
from structr_pipeline.store.reprocessing import attempts_by_batch, save_attempts
from structr_pipeline.store.stages import failed_items_of
from structr_pipeline_tests.chat_server import ChatServer, facts_of, good

GENERATION_DOWN = {"generated_copy", "audited_products", "product_bundle", "pim_sync"}


@pytest.fixture
def settings(settings):
    """The shared settings with two attempts, ten minutes apart at first."""
    return dataclasses.replace(settings, retry=RetryPolicy(max_attempts=2, backoff_seconds=600))


def flaky_walnut(chat: ChatServer):
    """The walnut board's copy fails with a 500 while ``chat.down`` is true."""
    chat.down = True

    def answer(request: dict, n: int):
        if chat.down and facts_of(request)["title"].startswith("Walnut"):
            return 500, {"error": {"message": "overloaded"}}, {}
        return good(request, n)

    chat.answer = answer


def openai_defs(settings, chat, model="shop-writer"):
    llm = LLMResource(provider="openai", base_url=chat.base_url, model=model, max_attempts=1)
    return build_defs(settings, resource_overrides={"llm": llm})


def tick(sensor, defs, instance, cursor=None):
    """One evaluation on the daemon's path (`evaluate_tick`), as the sensor daemon runs it."""
    with dg.build_sensor_context(
        instance_ref=instance.get_ref(),
        definitions=defs,
        cursor=cursor,
        resources=defs.get_repository_def().get_top_level_resources(),
    ) as context:  # leaving it closes the instance opened from the ref
        return sensor.evaluate_tick(context)


def requested(result) -> list[tuple[set[str], set[str]]]:
    """Each backfill request as (asset names, partition keys)."""
    out = []
    for request in result.run_requests:
        assert request.requires_backfill_daemon()
        subset = request.asset_graph_subset
        keys = {k.to_user_string() for k in subset.asset_keys}
        partitions = set()
        for key in subset.asset_keys:
            partitions |= set(subset.get_partitions_subset(key).get_partition_keys())
        out.append((keys, partitions))
    return out


def import_sample(defs, instance, sample_csv, options=None):
    catalog = defs.resources["catalog"]
    batch_id = register_batch(catalog, instance, sample_csv, options=options).manifest.batch_id
    return batch_id, run_batch(defs, instance, batch_id)


def test_failed_items_come_back_as_a_backfill_from_generation_and_heal(
    settings, instance, sample_csv, chat
) -> None:
    flaky_walnut(chat)
    defs = openai_defs(settings, chat)
    db = defs.resources["catalog"].db()
    batch_id, run = import_sample(defs, instance, sample_csv)
    assert run.success, run.errors + run.check_failures
    (failed,) = failed_items_of(db, batch_id)["generation"]
    assert failed.item == "walnut-cutting-board" and "500" in failed.reason

    result = tick(reprocess_sensor, defs, instance)
    ((assets, partitions),) = requested(result)
    assert assets == GENERATION_DOWN  # failed items re-enter at generation, not ingestion
    assert partitions == {batch_id}
    assert result.run_requests[0].tags["structr/reprocess"] == FAILED_ITEMS
    assert attempts_by_batch(db, FAILED_ITEMS)[batch_id].attempts == 1

    # The backfill the daemon launches: the same assets for the same partition.
    chat.down = False
    calls_before = len(chat.requests)
    healed = run_batch(defs, instance, batch_id, start="generation")
    assert healed.success, healed.errors + healed.check_failures
    assert failed_items_of(db, batch_id) == {}
    assert len(chat.requests) > calls_before  # only the failed product went to the model

    again = tick(reprocess_sensor, defs, instance)
    assert not again.run_requests
    assert batch_id not in attempts_by_batch(db, FAILED_ITEMS)  # healed: attempts forgotten


def test_attempts_are_bounded_spaced_and_reported(settings, instance, sample_csv, chat) -> None:
    flaky_walnut(chat)
    defs = openai_defs(settings, chat)
    db = defs.resources["catalog"].db()
    batch_id, _ = import_sample(defs, instance, sample_csv)

    first = tick(reprocess_sensor, defs, instance)
    assert len(first.run_requests) == 1
    state = attempts_by_batch(db, FAILED_ITEMS)[batch_id]
    assert state.next_attempt_at - state.last_attempt_at == timedelta(seconds=600)

    assert not tick(reprocess_sensor, defs, instance).run_requests  # not due yet

    def make_due() -> None:
        current = attempts_by_batch(db, FAILED_ITEMS)[batch_id]
        past = datetime.now(UTC) - timedelta(seconds=1)
        save_attempts(db, current.__class__(**{**current.__dict__, "next_attempt_at": past}))

    make_due()
    second = tick(reprocess_sensor, defs, instance)
    assert len(second.run_requests) == 1
    state = attempts_by_batch(db, FAILED_ITEMS)[batch_id]
    assert state.attempts == 2
    assert state.next_attempt_at - state.last_attempt_at == timedelta(seconds=1200)  # growing

    make_due()
    third = tick(reprocess_sensor, defs, instance)
    assert not third.run_requests  # the bound (2) is reached: reported, not retried
    (event,) = third.asset_events
    assert event.asset_key == REPORT_ASSET
    assert event.metadata["batches_given_up"].value == 1
    assert batch_id in event.metadata["batches"].value
    assert attempts_by_batch(db, FAILED_ITEMS)[batch_id].exhausted
    assert not tick(reprocess_sensor, defs, instance).run_requests


class UnreachableLLM(LLMResource):
    """An LLM host that cannot be reached at all: the generation step itself fails."""

    def build(self):
        raise ConnectionError("model host unreachable")


def test_a_transiently_failed_run_is_backfilled_from_ingestion(
    settings, instance, sample_csv, tmp_path
) -> None:
    broken = build_defs(settings, resource_overrides={"llm": UnreachableLLM()})
    batch_id, run = import_sample(broken, instance, sample_csv)
    assert not run.success

    bad = tmp_path / "notes.csv"
    bad.write_text("Name,Price\nshirt,10\n", encoding="utf-8")
    _, bad_run = import_sample(broken, instance, bad)
    assert not bad_run.success  # a data problem: no handle or SKU column

    result = tick(reprocess_sensor, broken, instance)
    ((assets, partitions),) = requested(result)
    assert partitions == {batch_id}  # the data problem is left for a person
    assert "source_rows" in assets and "product_bundle" in assets
    assert result.run_requests[0].tags["structr/reprocess"] == FAILED_RUN
    db = broken.resources["catalog"].db()
    assert "ConnectionError" in attempts_by_batch(db, FAILED_RUN)[batch_id].detail


def test_a_model_change_backfills_exactly_the_stale_batches(
    settings, instance, sample_csv, tmp_path, chat
) -> None:
    defs = openai_defs(settings, chat)
    batch_id, run = import_sample(defs, instance, sample_csv)
    assert run.success
    assert not tick(staleness_sensor, defs, instance).run_requests  # all current

    newer = openai_defs(settings, chat, model="shop-writer-2")
    result = tick(staleness_sensor, newer, instance)
    ((assets, partitions),) = requested(result)
    assert assets == GENERATION_DOWN and partitions == {batch_id}
    repeat = tick(staleness_sensor, newer, instance, cursor=result.cursor)
    assert not repeat.run_requests  # requested once, not again while it runs

    rerun = run_batch(newer, instance, batch_id, start="generation")
    assert rerun.success
    after = tick(staleness_sensor, newer, instance, cursor=result.cursor)
    assert not after.run_requests
    assert json.loads(after.cursor) == {}  # produced with the current model now


def test_a_profile_change_backfills_from_mapping(settings, instance, tmp_path) -> None:
    sheet = tmp_path / "kiln.csv"
    sheet.write_text("SKU;Name;Price\nK-1;Stoneware mug;12,00\n", encoding="utf-8")
    save_profile(
        settings.profiles_dir,
        MappingProfile("kiln", {"SKU": "sku", "Name": "title", "Price": "price"}),
    )
    defs = build_defs(settings)
    batch_id, run = import_sample(defs, instance, sheet, options={"profile": "kiln"})
    assert run.success, run.errors + run.check_failures
    plain = tmp_path / "plain.csv"
    plain.write_text("sku,title,price\nP-1,Plain mug,9.00\n", encoding="utf-8")
    other, other_run = import_sample(defs, instance, plain)  # no profile: never profile-stale
    assert other_run.success and other != batch_id
    assert not tick(staleness_sensor, defs, instance).run_requests

    save_profile(
        settings.profiles_dir,
        MappingProfile("kiln", {"SKU": "sku", "Name": "title", "Price": "compare_at_price"}),
    )
    ((assets, partitions),) = requested(tick(staleness_sensor, defs, instance))
    assert partitions == {batch_id}
    assert {"mapped_products", "column_mapping", "validated_products"} <= assets
    assert "source_rows" not in assets
