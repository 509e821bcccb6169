"""The settings shared by a source's configuration and its vendor's defaults.

Paging (``PaginationConfig``) and where a product's images and variants are
(``ImagesSpec``, ``VariantsSpec``): a ``PimSource`` may set them, and every vendor preset
(``vendors``) gives its own. They live apart from ``config`` so that the presets, which
``config`` consults to check a source, do not import the module that imports them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from structr_pipeline.core.fields import VARIANT_FIELDS


class FrozenModel(BaseModel):
    """A settings model that refuses unknown keys and cannot be changed once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PaginationConfig(FrozenModel):
    """How the list endpoint pages through its items.

    ``kind`` is one of:

    * ``page``: ``page_param`` (from ``first_page``) and ``size_param``;
    * ``offset``: ``offset_param`` and ``limit_param``, the offset advanced by the items
      actually received;
    * ``cursor``: the next cursor read from the body at ``cursor_path`` and sent as
      ``cursor_param``;
    * ``link_header``: the URL of the ``Link: <…>; rel="next"`` response header; the first
      request carries ``page_param`` (``first_page``) and ``size_param``, as servers such
      as json-server send no ``Link`` header without them (``page_param: null`` leaves
      the page out, for APIs that refuse it);
    * ``next_url``: a URL read from the body at ``next_url_path`` (Akeneo's
      ``_links.next.href``);
    * ``none``: a single request.

    Paging stops at an empty page, at the end the server announces (the item total at
    ``total_path`` or, without one, in an ``X-Total-Count``, ``X-Total`` or
    ``X-WP-Total`` header, for offsets; ``page_count_path`` for pages), or when there is
    no next cursor or URL. Whatever the kind, a pull that ends with fewer items than the
    announced total reports the shortfall.
    """

    kind: Literal["page", "offset", "cursor", "link_header", "next_url", "none"]
    page_param: str | None = "page"
    first_page: int = 1
    size_param: str = "per_page"
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"
    next_url_path: str = "_links.next.href"
    total_path: str | None = None
    page_count_path: str | None = None

    @model_validator(mode="after")
    def _page_kind_needs_page_param(self) -> PaginationConfig:
        if self.kind == "page" and not self.page_param:
            raise ValueError("page_param: page paging needs the name of its page parameter")
        return self


class ImagesSpec(FrozenModel):
    """Where a product's images are: a list (or one object) at ``path``.

    Each element is a URL string, or an object with the URL at ``url`` and the alt text
    at ``alt`` (dotted paths inside the element).
    """

    path: str
    url: str = "url"
    alt: str | None = "alt"


class VariantsSpec(FrozenModel):
    """Where a product's variants are: a list of objects at ``path``.

    ``fields`` maps variant fields (``sku``, ``price``, ``option1_value`` …) to dotted
    paths inside one variant object; a variant field not listed takes the product-level
    mapping.
    """

    path: str
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _variant_fields_only(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(VARIANT_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown variant field(s) {', '.join(unknown)}; "
                f"expected some of {', '.join(VARIANT_FIELDS)}"
            )
        return value


FieldSpec = str | ImagesSpec | VariantsSpec | None
