"""Pull start times, announced totals, json-server paging and the incremental cursor.

Against the imitation PIM on 127.0.0.1 (``pim_server``), whose answers carry uvicorn's
``Date`` header.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from structr_pipeline.core.connectors.pim import (
    IncrementalCursor,
    PimClient,
    PimConfigError,
    PullResult,
    advance,
    item_id,
    parse_source,
)
from structr_pipeline.core.connectors.pim.incremental import CURSOR_VERSION, MAX_SEEN
from structr_pipeline_tests.core.connectors.pim.pim_server import PimServer

FAST = {"rate_limit_per_s": 500, "backoff_base": 0.01, "backoff_max": 0.05}
JSON_SERVER = "/jsonserver/products"


def json_server(pim: PimServer, **pagination: Any) -> Any:
    """A generic source on the json-server imitation, 100 items a page."""
    paging = {"kind": "link_header", "page_param": "_page", "size_param": "_limit", **pagination}
    return parse_source(
        "js",
        {
            "preset": "generic",
            "base_url": pim.base_url,
            "path": JSON_SERVER,
            "page_size": 100,
            "pagination": paging,
            "updated_since_param": "updated_at_gte",
            **FAST,
        },
    )


def pull(source, **kwargs: Any):
    """Pull ``source`` with a fresh client."""
    with PimClient(source, environ={}) as client:
        return client.pull(**kwargs)


def test_json_server_link_paging_sends_the_page_from_the_first_request(pim):
    source = json_server(pim)
    result = pull(source)

    assert len(result.items) == 2500
    assert [item_id(i, source) for i in result.items] == [str(n) for n in range(1, 2501)]
    assert result.pages == 25 and result.requests == 25
    assert result.expected_total == 2500 and result.missing == 0
    assert result.shortfall("js") is None
    first = pim.requests_to(JSON_SERVER)[0]
    assert (first.param("_page"), first.param("_limit")) == ("1", "100")


def test_a_pull_short_of_the_announced_total_is_reported(pim, caplog):
    """Without the page parameter json-server sends 100 items and no Link header."""
    caplog.set_level(logging.WARNING)
    source = json_server(pim, page_param=None)
    result = pull(source)

    assert len(result.items) == 100 and result.pages == 1
    assert (result.expected_total, result.missing) == (2500, 2400)
    message = result.shortfall("js")
    assert message is not None
    assert "announced 2500 items but the pull got 100 (2400 missing)" in message
    assert message in caplog.text
    assert pim.requests_to(JSON_SERVER)[0].param("_page") is None


def test_page_param_may_be_left_out_only_for_link_paging():
    with pytest.raises(PimConfigError, match="page paging needs the name of its page parameter"):
        parse_source(
            "x",
            {
                "preset": "generic",
                "base_url": "http://127.0.0.1:1",
                "path": "/p",
                "pagination": {"kind": "page", "page_param": None},
            },
        )


def test_totals_in_the_body_are_read_too(pim):
    source = parse_source(
        "cf",
        {
            "preset": "strapi",
            "base_url": pim.base_url,
            "path": "/v5/api/products",
            "page_size": 4,
            **FAST,
        },
    )
    result = pull(source)
    assert (len(result.items), result.expected_total, result.missing) == (6, 6, 0)


def test_pagination_drift_that_misses_an_item_is_reported(pim):
    pim.state.drift_offset = True
    source = parse_source(
        "shop",
        {
            "preset": "generic",
            "base_url": pim.base_url,
            "path": "/generic/offset",
            "page_size": 3,
            "pagination": {"kind": "offset", "total_path": "total"},
            **FAST,
        },
    )
    result = pull(source)
    assert "g-new" not in [item_id(i, source) for i in result.items]  # created at the front
    assert (result.expected_total, result.missing) == (9, 1)


def test_a_pull_starts_by_the_servers_clock(pim):
    source = json_server(pim)
    before = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=2)
    result = pull(source)
    started = datetime.fromisoformat(result.started_at)
    assert result.server_clock is True
    assert before <= started <= datetime.now(UTC)
    assert started.microsecond == 0  # the Date header has whole seconds


# --------------------------------------------------------------------------- cursor


def test_old_cursors_still_decode():
    old = IncrementalCursor.from_state(json.loads('{"updated_since": "2024-03-08T10:00:00Z"}'))
    assert old == IncrementalCursor(updated_since="2024-03-08T10:00:00+00:00", legacy=True)
    failing = json.loads(
        '{"updated_since": "2024-03-02T12:00:00+00:00", "failures": 2,'
        ' "retry_at": "2024-03-02T12:04:00+00:00", "error": "HTTP 500"}'
    )
    assert IncrementalCursor.from_state(failing).updated_since == "2024-03-02T12:00:00+00:00"
    assert IncrementalCursor.from_state("2024-03-02T12:00:00+00:00").legacy is True
    for nothing in ({}, None, [], {"updated_since": None}, {"updated_since": "yesterday"}):
        assert IncrementalCursor.from_state(nothing) == IncrementalCursor()

    current = IncrementalCursor(
        updated_since="2024-03-08T09:55:00+00:00", seen={"g-1": "2024-03-08T09:58:00+00:00"}
    )
    state = json.loads(json.dumps(current.to_state()))
    assert state["v"] == CURSOR_VERSION
    assert IncrementalCursor.from_state(state) == current


def test_the_cursor_moves_to_the_pull_start_minus_the_overlap(pim):
    source = json_server(pim, page_param="_page")
    first = pull(source)
    step = advance(IncrementalCursor(), first, source)
    assert len(step.items) == 2500 and step.repeated == 0
    started = datetime.fromisoformat(first.started_at)
    assert step.cursor.updated_since == (started - timedelta(seconds=300)).isoformat()
    assert step.cursor.seen == {}  # every item is older than the boundary

    # Items edited within the overlap come again on every pull, and only once as news.
    now = datetime.now(UTC)
    with pim.state.lock:
        for product in pim.state.jsonserver[:3]:
            product["updated_at"] = (now - timedelta(minutes=2)).isoformat()
    second = pull(source, updated_since=step.cursor.updated_since)
    news = advance(step.cursor, second, source)
    assert [item_id(i, source) for i in news.items] == ["1", "2", "3"]
    assert sorted(news.cursor.seen) == ["1", "2", "3"]
    third = pull(source, updated_since=news.cursor.updated_since)
    idle = advance(news.cursor, third, source)
    assert len(third.items) == 3 and idle.items == [] and idle.repeated == 3
    assert idle.cursor.updated_since >= news.cursor.updated_since


def test_the_remembered_items_are_bounded():
    source = parse_source(
        "shop", {"preset": "generic", "base_url": "http://127.0.0.1:1", "path": "/p"}
    )
    now = datetime(2024, 3, 8, 10, 0, tzinfo=UTC)
    items = [
        {"id": f"i-{n}", "updated_at": (now - timedelta(seconds=n / 100)).isoformat()}
        for n in range(MAX_SEEN + 500)
    ]
    result = PullResult(items, None, 1, 0, 1, started_at=now.isoformat(), server_clock=True)
    step = advance(IncrementalCursor(), result, source)
    assert len(step.items) == MAX_SEEN + 500
    assert len(step.cursor.seen) == MAX_SEEN
    assert "i-0" in step.cursor.seen and f"i-{MAX_SEEN}" not in step.cursor.seen
