"""What a source reads, its own settings first and its vendor's defaults after.

The defaults and the behaviour of each kind of PIM (Akeneo, Contentful, Strapi, any JSON
API) are in ``vendors``, one module each. A source's own settings (``path``,
``items_path``, ``id_path``, ``updated_path``, ``pagination``, ``params``,
``updated_since_param``) override its preset; the functions here apply that rule, so
the client and the field map never ask which vendor a source is.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from structr_pipeline.core.connectors.pim.config import PimSource
from structr_pipeline.core.connectors.pim.pagination import MISSING, find_path
from structr_pipeline.core.connectors.pim.specs import PaginationConfig
from structr_pipeline.core.connectors.pim.vendors import PRESETS, Preset
from structr_pipeline.core.connectors.pim.vendors.base import format_since

_AUTO_ITEM_KEYS = ("items", "data", "products", "results", "entries")
# Epoch numbers above this are taken to be milliseconds.
_EPOCH_MS_THRESHOLD = 100_000_000_000


def preset_for(source: PimSource) -> Preset:
    """The preset ``source`` is built on."""
    return PRESETS[source.preset]


def list_url(source: PimSource) -> str:
    """The absolute URL of the source's product list."""
    path = source.path or preset_for(source).path or ""
    return source.base_url + path


def pagination_for(source: PimSource) -> PaginationConfig:
    """The source's paging: its own setting, else its preset's."""
    return source.pagination or preset_for(source).pagination


def id_paths(source: PimSource) -> tuple[str, ...]:
    """Where an item's id may be, first match wins."""
    return (source.id_path,) if source.id_path else preset_for(source).id_paths


def updated_paths(source: PimSource) -> tuple[str, ...]:
    """Where an item's last-modified timestamp may be, first match wins."""
    return (source.updated_path,) if source.updated_path else preset_for(source).updated_paths


def parse_timestamp(value: Any) -> datetime | None:
    """A timestamp from a PIM (ISO 8601 text, or epoch seconds or ms) as an aware datetime.

    Naive values are taken as UTC; anything unreadable is None.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= _EPOCH_MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 (``2024-05-01T10:00:00+00:00``); naive is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def updated_since_params(source: PimSource, since: datetime) -> dict[str, str]:
    """The query parameters that limit a list to items updated after ``since``."""
    moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    if source.updated_since_param:
        return {source.updated_since_param: format_since(source, moment)}
    return preset_for(source).since_params(source, moment)


def list_params(source: PimSource, since: datetime | None = None) -> dict[str, Any]:
    """Every query parameter of the first list request, paging ones excepted."""
    preset = preset_for(source)
    params: dict[str, Any] = dict(preset.params)
    if source.locale and preset.locale_param and preset.locale_param not in source.params:
        params[preset.locale_param] = source.locale
    params.update(source.params)
    if since is not None:
        params.update(updated_since_params(source, since))
    return params


def extract_items(body: Any, source: PimSource) -> list[Any]:
    """The items of one list response; ``ValueError`` when the body has no item list."""
    path = source.items_path if source.items_path is not None else preset_for(source).items_path
    if path is None:
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            for key in _AUTO_ITEM_KEYS:
                if isinstance(body.get(key), list):
                    return body[key]
        raise ValueError(
            "the body is neither a JSON array nor an object with an "
            f"{'/'.join(_AUTO_ITEM_KEYS)} array (set items_path)"
        )
    found = find_path(body, path)
    if found is MISSING or found is None:
        raise ValueError(f"the body has no '{path}' (set items_path)")
    if not isinstance(found, list):
        raise ValueError(f"'{path}' in the body is not an array")
    return found


def item_id(item: Any, source: PimSource) -> str:
    """The item's id in the PIM as text ('' when it has none)."""
    for path in id_paths(source):
        value = find_path(item, path)
        if isinstance(value, bool) or value is MISSING or value is None:
            continue
        if isinstance(value, int | float | str) and str(value).strip():
            return str(value).strip()
    return ""


def item_updated_at(item: Any, source: PimSource) -> str | None:
    """The item's last-modified timestamp as the PIM wrote it, or None."""
    for path in updated_paths(source):
        value = find_path(item, path)
        if isinstance(value, str) and value.strip():
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None
