"""The values of a write-back: what to write, the requests that carry it, their outcomes.

Each vendor's ``Preset`` turns ``WriteBackItem`` values into ``WriteRequest`` values and
reads each answer back into one ``WriteBackResult`` per product; ``write_back`` and
``PimClient.write_back`` use them without asking which vendor a source is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structr_pipeline.core.connectors.pim.config import PimSource


@dataclass(frozen=True)
class WriteBackItem:
    """What to write to one product: its id in the PIM and the fields to set."""

    id: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class WriteBackResult:
    """The outcome for one product: ``ok``, the HTTP status and the error if it failed."""

    id: str
    ok: bool
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class WriteRequest:
    """One write request and the products it carries, in body order."""

    method: str
    url: str
    ids: tuple[str, ...]
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    json_body: Any = None


def renamed_fields(source: PimSource, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` under the PIM's names from the source's ``write_back.field_map``."""
    names = source.write_back.field_map
    return {names.get(name, name): value for name, value in fields.items()}


def failed(request: WriteRequest, status: int | None, error: str) -> list[WriteBackResult]:
    """The same failure for every product a request carried."""
    return [WriteBackResult(i, False, status, error) for i in request.ids]
