"""Where the next incremental pull of a PIM source starts, and which pulled items are new.

Paging through a list is not a snapshot: an item edited while a pull runs can be missed
(its page was already read) while later pages bring items edited after it. So the next
pull does not start at the newest timestamp pulled but at the moment this pull started
(``PullResult.started_at``, by the server's clock when it sends ``Date``), minus the
source's ``incremental_overlap_s``.

Starting earlier fetches recent items again, as does a filter that is inclusive
(``updated >= since``). To keep those from becoming batches over and over, the cursor
remembers the id and timestamp of every item pulled at or after its boundary (the newest
``MAX_SEEN``; an item without an id is known by a digest of its content), and an item
whose id and timestamp were pulled before is not new. An idle
source thus yields no new items at all.

The cursor is a JSON object, ``{"v": 2, "updated_since": ..., "seen": {id: timestamp}}``.
The older form, ``{"updated_since": <newest timestamp pulled>}``, still reads: items
stamped exactly at that timestamp count as pulled, since that is where it came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from structr_pipeline.core.connectors.pim.client import PullResult
from structr_pipeline.core.connectors.pim.config import PimSource
from structr_pipeline.core.connectors.pim.presets import (
    iso_utc,
    item_id,
    item_updated_at,
    parse_timestamp,
)

CURSOR_VERSION = 2
# Items remembered in the cursor at most (the newest). Beyond it, items fetched again
# inside the overlap may come through a second time; nothing is lost.
MAX_SEEN = 2000


@dataclass(frozen=True)
class IncrementalCursor:
    """Where the next incremental pull starts and what it has already pulled.

    ``updated_since`` is UTC ISO 8601 or None (pull everything); ``seen`` maps item ids
    to the timestamp (UTC ISO 8601) they were pulled with; ``legacy`` marks a cursor read
    from the older form, whose ``updated_since`` is the newest timestamp pulled.
    """

    updated_since: str | None = None
    seen: Mapping[str, str] = field(default_factory=dict)
    legacy: bool = False

    @classmethod
    def from_state(cls, state: Any) -> IncrementalCursor:
        """The cursor in a decoded cursor object (either form; anything else starts over).

        A bare ISO 8601 string is taken as the older form's timestamp.
        """
        if isinstance(state, str):
            state = {"updated_since": state}
        if not isinstance(state, Mapping):
            return cls()
        since = state.get("updated_since")
        moment = parse_timestamp(since) if isinstance(since, str) else None
        since_text = iso_utc(moment) if moment is not None else None
        if state.get("v") != CURSOR_VERSION:
            return cls(updated_since=since_text, legacy=since_text is not None)
        seen = state.get("seen")
        kept = {}
        if isinstance(seen, Mapping):
            kept = {str(k): v for k, v in seen.items() if isinstance(v, str)}
        return cls(updated_since=since_text, seen=kept)

    def to_state(self) -> dict[str, Any]:
        """The cursor as a JSON-ready object (always the current form)."""
        return {"v": CURSOR_VERSION, "updated_since": self.updated_since, "seen": dict(self.seen)}


@dataclass(frozen=True)
class IncrementalStep:
    """One incremental pull judged against its cursor.

    ``items`` are the pulled items that are new (in pull order), ``repeated`` counts the
    ones pulled before unchanged, ``cursor`` is where the next pull starts.
    """

    items: list[dict[str, Any]]
    repeated: int
    cursor: IncrementalCursor


def _identity(item: Any, source: PimSource) -> str:
    """The item's id, or for an item without one a digest of its content."""
    ident = item_id(item, source)
    if ident:
        return ident
    text = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def advance(cursor: IncrementalCursor, pull: PullResult, source: PimSource) -> IncrementalStep:
    """The new items of ``pull`` (made from ``cursor``) and the cursor after it.

    The next boundary is ``pull.started_at`` minus the source's overlap, never earlier
    than the current one. An item without an id is known by a digest of its content;
    one without a readable timestamp is always new.
    """
    previous = parse_timestamp(cursor.updated_since) if cursor.updated_since else None
    started = parse_timestamp(pull.started_at) if pull.started_at else None
    if started is None:
        boundary = previous
    else:
        boundary = started - timedelta(seconds=source.incremental_overlap_s)
        if previous is not None and previous > boundary:
            boundary = previous

    new: list[dict[str, Any]] = []
    repeated = 0
    pulled: dict[str, datetime] = {}
    for item in pull.items:
        moment = parse_timestamp(item_updated_at(item, source))
        if moment is None:
            new.append(item)
            continue
        ident = _identity(item, source)
        pulled[ident] = moment
        stamp = iso_utc(moment)
        at_legacy_mark = cursor.legacy and moment == previous
        if cursor.seen.get(ident) == stamp or at_legacy_mark:
            repeated += 1
        else:
            new.append(item)

    remembered: dict[str, datetime] = {}
    for ident, stamp in cursor.seen.items():
        moment = parse_timestamp(stamp)
        if moment is not None and ident not in pulled:
            remembered[ident] = moment
    remembered.update(pulled)
    if boundary is not None:
        remembered = {k: m for k, m in remembered.items() if m >= boundary}
    newest = sorted(remembered.items(), key=lambda pair: pair[1], reverse=True)[:MAX_SEEN]
    next_cursor = IncrementalCursor(
        updated_since=iso_utc(boundary) if boundary is not None else None,
        seen={ident: iso_utc(moment) for ident, moment in newest},
    )
    return IncrementalStep(items=new, repeated=repeated, cursor=next_cursor)
