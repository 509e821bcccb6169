"""Offline copy written in worker processes is the copy one process writes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.dedup.merge import deduplicate
from structr_pipeline.core.generation import writer
from structr_pipeline.core.generation.products import product_inputs
from structr_pipeline.core.generation.prompts import BrandVoice, load_prompt
from structr_pipeline.core.generation.providers import OfflineProvider
from structr_pipeline.core.validation import validate_products

SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "shopify_sample.csv"


class CountingOffline(OfflineProvider):
    """The offline provider, counting the answers it gives in this process."""

    answered = 0

    async def complete(self, messages):
        type(self).answered += 1
        return await super().complete(messages)


@pytest.fixture(scope="module")
def products() -> list[dict]:
    table = read_table(SAMPLE)
    mapping = map_source_frame(table.frame, SAMPLE.name)
    valid = validate_products(mapping.frame, table.frame, mapping.field_sources, SAMPLE.name).valid
    return product_inputs(deduplicate(valid, valid.iloc[0:0]).products)


@pytest.fixture
def small_threshold(monkeypatch):
    monkeypatch.setattr(writer, "PARALLEL_MIN_PRODUCTS", 4)
    CountingOffline.answered = 0


def _write(products, provider, workers, seen=None, cached=None, skip=frozenset()):
    hits = cached or {}
    return writer.write_copy(
        products,
        provider,
        load_prompt(),
        BrandVoice(),
        lambda keys: {k: hits[k] for k in keys if k in hits},
        skip=skip,
        on_result=None if seen is None else seen.append,
        workers=workers,
    )


def test_worker_processes_write_the_copy_one_process_writes(products, small_threshold):
    alone = _write(products, OfflineProvider(), workers=1)
    first = alone[0]
    cached = {first.cache_key: ({"title": "kept"}, [])}
    skip = {products[1]["handle"]}
    seen: list = []

    together = _write(products, CountingOffline(), 2, seen, cached, skip)
    one = _write(products, OfflineProvider(), 1, cached=cached, skip=skip)

    assert len(products) > 4
    assert [asdict(r) for r in together] == [asdict(r) for r in one]
    assert [r.status for r in together[:2]] == ["cached", "skipped_unchanged"]
    assert all(r.status == "generated" for r in together[2:])
    # Every answer was written in a worker, and reached on_result once, in this process.
    assert CountingOffline.answered == 0
    assert sorted(r.handle for r in seen) == sorted(r.handle for r in together[2:])


def test_below_the_threshold_copy_is_written_in_this_process(products, monkeypatch):
    monkeypatch.setattr(writer, "PARALLEL_MIN_PRODUCTS", len(products) + 1)
    CountingOffline.answered = 0
    _write(products, CountingOffline(), workers=2)
    assert CountingOffline.answered == len(products)


def test_a_provider_that_waits_on_the_network_stays_in_this_process(products, small_threshold):
    class Remote(CountingOffline):
        cpu_bound = False
        answered = 0

    _write(products, Remote(), workers=2)
    assert Remote.answered == len(products)
