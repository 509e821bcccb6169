"""The interface every PIM vendor implements, and the defaults of a plain JSON API.

A ``Preset`` holds a vendor's defaults (endpoint, paging, where ids and timestamps are,
its field map, how it takes written copy) and the behaviour that differs between vendors:
``view`` hides the vendor's packaging of an item, ``since_params`` is its incremental
filter, ``prepare_page`` attaches what a list response carries beside its items, and
``check_source`` refuses settings the vendor cannot work with, and ``plan_writes`` and
``write_results`` are how written copy goes back (by default one JSON request per
product, at ``<path>/{id}``, its fields as the body or under ``write_wrap``). A vendor
module subclasses it where the defaults do not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from structr_pipeline.core.connectors.pim.pagination import json_type
from structr_pipeline.core.connectors.pim.specs import FieldSpec, PaginationConfig
from structr_pipeline.core.connectors.pim.write_requests import (
    WriteBackItem,
    WriteBackResult,
    WriteRequest,
    renamed_fields,
)

if TYPE_CHECKING:
    import httpx

    from structr_pipeline.core.connectors.pim.config import PimSource

# Key of a view listing root keys that are not to become record attributes (media).
NOT_ATTRIBUTES_KEY = "_not_attributes"


class ItemProblem(Exception):
    """Why an item cannot be read or mapped: the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def object_at(item: dict[str, Any], key: str) -> dict[str, Any]:
    """The object under ``key`` of an item (``{}`` when absent or null); ``ItemProblem``
    when it is something else."""
    value = item.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ItemProblem(key, f"is {json_type(value)}, expected an object")
    return value


def zulu_ms(moment: datetime) -> str:
    """A UTC ``moment`` as ISO 8601 with milliseconds and a ``Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_since(source: PimSource, since: datetime) -> str:
    """``since`` (UTC) written as a generic source's ``updated_since_format`` asks."""
    moment = since.replace(tzinfo=UTC) if since.tzinfo is None else since.astimezone(UTC)
    fmt = source.updated_since_format
    if fmt == "iso":
        return zulu_ms(moment)
    if fmt == "epoch":
        return str(int(moment.timestamp()))
    return moment.strftime(fmt)


@dataclass(frozen=True)
class Preset:
    """The defaults and the behaviour of one kind of PIM (see the module docstring)."""

    name: str
    path: str | None
    items_path: str | None
    id_paths: tuple[str, ...]
    updated_paths: tuple[str, ...]
    pagination: PaginationConfig
    params: Mapping[str, str]
    field_map: Mapping[str, FieldSpec]
    # Where the item's own attributes are (unmapped scalars there become record attributes).
    attributes_root: str
    structural_keys: frozenset[str] = frozenset()
    locale_param: str | None = None
    write_method: str | None = None
    write_wrap: str | None = None
    max_page_size: int = 1000
    # Why a source without its own ``path`` cannot be read (presets without a default path).
    missing_path: str = ""

    def view(self, item: dict[str, Any], source: PimSource) -> dict[str, Any]:
        """The item as the field map reads it; ``ItemProblem`` when it cannot be read."""
        return item

    def since_params(self, source: PimSource, moment: datetime) -> dict[str, str]:
        """The query parameters that limit a list to items updated after ``moment`` (UTC)."""
        return {"updated_since": format_since(source, moment)}

    def prepare_page(self, items: list[Any], body: Any) -> list[Any]:
        """The items of one list response, with whatever else of ``body`` they need."""
        return items

    def check_source(self, source: PimSource) -> None:
        """Raise ``ValueError`` (``field: reason``) for settings this vendor cannot use."""
        if self.path is None and source.path is None:
            raise ValueError(f"path: {self.missing_path}")

    def write_method_for(self, source: PimSource) -> str:
        """The HTTP method of a write request: the source's own, else the vendor's."""
        return source.write_back.method or self.write_method or "PATCH"

    def plan_writes(self, source: PimSource, updates: list[WriteBackItem]) -> list[WriteRequest]:
        """The requests that write ``updates`` to ``source``: one JSON request per product."""
        config = source.write_back
        method = self.write_method_for(source)
        list_path = source.path or self.path or ""
        template = config.path or list_path.rstrip("/") + "/{id}"
        wrap = config.wrap or self.write_wrap
        requests = []
        for item in updates:
            body: Any = renamed_fields(source, item.fields)
            if wrap:
                body = {wrap: body}
            url = source.base_url + template.replace("{id}", quote(item.id, safe=""))
            requests.append(WriteRequest(method, url, (item.id,), json_body=body))
        return requests

    def write_results(
        self, source: PimSource, request: WriteRequest, response: httpx.Response
    ) -> list[WriteBackResult]:
        """The per-product outcomes of a successful (2xx) write response: all written."""
        return [WriteBackResult(i, True, response.status_code) for i in request.ids]
