"""Writing generated copy and audit grades back to a PIM: the requests and their outcomes.

This module plans the requests and reads their answers through the source's vendor
``Preset`` (``plan_writes``, ``write_results``); ``PimClient.write_back`` sends them
through the same retrying, rate-limited client used for pulls.

* Akeneo: batched collection ``PATCH`` requests, one status line per product back.
* Strapi: ``PUT /api/products/{id}`` with ``{"data": {…}}``, one request per product.
* Generic: ``PATCH <path>/{id}`` with the fields as the JSON body (or under ``wrap``).

Contentful's delivery API is read-only, so a Contentful source cannot enable write-back.
"""

from __future__ import annotations

import httpx

from structr_pipeline.core.connectors.pim.config import PimSource
from structr_pipeline.core.connectors.pim.presets import preset_for
from structr_pipeline.core.connectors.pim.write_requests import (
    WriteBackItem,
    WriteBackResult,
    WriteRequest,
    failed,
)

__all__ = [
    "WriteBackItem",
    "WriteBackResult",
    "WriteRequest",
    "failed",
    "plan_requests",
    "results_from_response",
]


def plan_requests(source: PimSource, updates: list[WriteBackItem]) -> list[WriteRequest]:
    """The requests that write ``updates`` to ``source``, batched where the API allows."""
    return preset_for(source).plan_writes(source, updates)


def results_from_response(
    source: PimSource, request: WriteRequest, response: httpx.Response
) -> list[WriteBackResult]:
    """The per-product outcomes of a successful (2xx) write response."""
    return preset_for(source).write_results(source, request, response)
