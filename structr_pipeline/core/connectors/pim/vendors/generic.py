"""Any JSON API: the canonical field names, page/per-page paging, an ``updated_since``.

The items are read as they are (no view); ``id`` and ``updated_at`` are the id and the
timestamp, and the incremental filter is ``updated_since`` in the source's
``updated_since_format``, unless the source names its own parameter. A source must give
the path of its product list.
"""

from __future__ import annotations

from structr_pipeline.core.connectors.pim.specs import ImagesSpec, PaginationConfig, VariantsSpec
from structr_pipeline.core.connectors.pim.vendors.base import Preset
from structr_pipeline.core.fields import PRODUCT_FIELDS, VARIANT_FIELDS

GENERIC = Preset(
    name="generic",
    path=None,
    items_path=None,
    id_paths=("id",),
    updated_paths=("updated_at",),
    pagination=PaginationConfig(kind="page", page_param="page", size_param="per_page"),
    params={},
    field_map={
        **{name: name for name in (*PRODUCT_FIELDS, *VARIANT_FIELDS)},
        "images": ImagesSpec(path="images", url="src", alt="alt"),
        "variants": VariantsSpec(path="variants", fields={f: f for f in VARIANT_FIELDS}),
    },
    attributes_root="",
    structural_keys=frozenset({"id", "updated_at", "created_at"}),
    write_method="PATCH",
    missing_path="a generic source needs the path of its product list",
)
