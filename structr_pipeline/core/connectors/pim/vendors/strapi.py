"""Strapi's REST API, versions 4 (``data[].attributes``) and 5 (flat items).

Paging is ``pagination[page]``/``pagination[pageSize]`` up to
``meta.pagination.pageCount`` (of ``meta.pagination.total`` items); the id is Strapi 5's
``documentId`` or the numeric ``id``; incremental pulls filter with
``filters[updatedAt][$gt]``. The view removes Strapi 4's ``attributes`` and ``data``
wrappers so that its items read like Strapi 5's. Written copy goes back as one ``PUT``
per product, under ``data``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from structr_pipeline.core.connectors.pim.specs import ImagesSpec, PaginationConfig
from structr_pipeline.core.connectors.pim.vendors.base import Preset, zulu_ms

if TYPE_CHECKING:
    from structr_pipeline.core.connectors.pim.config import PimSource


def flatten(value: Any) -> Any:
    """Strapi 4's ``{id, attributes}`` and ``{data: …}`` wrappers removed, recursively."""
    if isinstance(value, list):
        return [flatten(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "data" in value and set(value) <= {"data", "meta"}:
        return flatten(value["data"])
    attributes = value.get("attributes")
    if isinstance(attributes, dict) and set(value) <= {"id", "attributes", "meta"}:
        flat = {k: flatten(v) for k, v in attributes.items()}
        return {"id": value.get("id"), **flat}
    return {k: flatten(v) for k, v in value.items()}


@dataclass(frozen=True)
class StrapiPreset(Preset):
    """Strapi: wrappers flattened, ``filters[updatedAt][$gt]`` for incremental pulls."""

    def view(self, item: dict[str, Any], source: PimSource) -> dict[str, Any]:
        """The item without Strapi 4's wrappers."""
        return flatten(item)

    def since_params(self, source: PimSource, moment: datetime) -> dict[str, str]:
        """``filters[updatedAt][$gt]`` with the moment in milliseconds."""
        return {"filters[updatedAt][$gt]": zulu_ms(moment)}


STRAPI = StrapiPreset(
    name="strapi",
    path="/api/products",
    items_path="data",
    id_paths=("documentId", "id"),
    updated_paths=("updatedAt", "attributes.updatedAt"),
    pagination=PaginationConfig(
        kind="page",
        page_param="pagination[page]",
        size_param="pagination[pageSize]",
        page_count_path="meta.pagination.pageCount",
        total_path="meta.pagination.total",
    ),
    params={"populate": "*", "sort": "id:asc"},
    field_map={
        "handle": "slug",
        "title": "title",
        "description_html": "description",
        "vendor": "brand",
        "product_type": "productType",
        "category": "category",
        "tags": "tags",
        "sku": "sku",
        "barcode": "barcode",
        "price": "price",
        "compare_at_price": "compareAtPrice",
        "weight_grams": "weight",
        "seo_title": "seo.metaTitle",
        "seo_description": "seo.metaDescription",
        "images": ImagesSpec(path="images", url="url", alt="alternativeText"),
    },
    attributes_root="",
    structural_keys=frozenset(
        {"id", "documentId", "createdAt", "updatedAt", "publishedAt", "locale", "localizations"}
    ),
    locale_param="locale",
    write_method="PUT",
    write_wrap="data",
    max_page_size=100,
)
