"""One strategy per e-commerce platform's export format, and the registry that detects them.

Each platform module holds a ``PLATFORM``: its name (what a batch records and a mapping
profile's ``format`` option names), a label for people, a ``detect`` that recognises
the platform's header, and an ``assemble`` that reads the platform's parent/child rows
into products with their variants (see ``assembly``). Shopify exports keep their own
connector (``shopify_csv``); any other file goes through the generic, fuzzy-mapped one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from structr_pipeline.core.connectors.platforms.assembly import Assembly
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.mapping.profiles import ProfileOptions


@dataclass(frozen=True)
class Platform:
    """A platform's export format: how to recognise it and how to read it into products."""

    name: str
    label: str
    detect: Callable[[list[str]], bool]
    assemble: Callable[[SourceTable, ProfileOptions], Assembly]


# Checked in this order; the first whose ``detect`` accepts a header reads the file.
_MODULES: tuple[str, ...] = (
    "woocommerce",
    "magento",
    "bigcommerce",
    "amazon",
    "google_merchant",
)


def _load() -> dict[str, Platform]:
    platforms = {}
    for module in _MODULES:
        platform = importlib.import_module(f"{__name__}.{module}").PLATFORM
        platforms[platform.name] = platform
    return platforms


PLATFORMS: dict[str, Platform] = _load()


def detect_platform(header: list[str]) -> Platform | None:
    """The platform whose export format this header is, or None."""
    for platform in PLATFORMS.values():
        if platform.detect(header):
            return platform
    return None
