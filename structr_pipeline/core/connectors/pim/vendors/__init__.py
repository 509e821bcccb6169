"""One module per kind of PIM, each a ``Preset`` (see ``base``), and their registry.

``PRESETS`` maps a source's ``preset`` setting to the vendor that reads it: ``akeneo``,
``contentful``, ``strapi`` and ``generic`` (any JSON API). Adding a vendor is a module
with its ``Preset`` and a line here (and the name in ``PimSource.preset``).
"""

from structr_pipeline.core.connectors.pim.vendors.akeneo import AKENEO
from structr_pipeline.core.connectors.pim.vendors.base import Preset
from structr_pipeline.core.connectors.pim.vendors.contentful import CONTENTFUL
from structr_pipeline.core.connectors.pim.vendors.generic import GENERIC
from structr_pipeline.core.connectors.pim.vendors.strapi import STRAPI

PRESETS: dict[str, Preset] = {p.name: p for p in (AKENEO, CONTENTFUL, STRAPI, GENERIC)}

__all__ = ["PRESETS", "Preset"]
