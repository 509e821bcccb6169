"""What gets published: a product record with its usable generated copy laid over its fields.

The audit scores exactly this content (``audit.scoring.effective_content``), and the
Shopify import file is written from it, so what was graded is what ships.
"""

from __future__ import annotations

from typing import Any

from structr_pipeline.core.audit.scoring import effective_content


def published_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with title, description, SEO fields and alt texts as published."""
    content = effective_content(record)
    out = dict(record)
    out.update(
        title=content.title,
        description_html=content.description_html,
        seo_title=content.seo_title,
        seo_description=content.meta_description,
    )
    images = []
    for image, published in zip(record.get("images") or [], content.images, strict=False):
        images.append({**image, "alt": published.alt})
    out["images"] = images
    return out
