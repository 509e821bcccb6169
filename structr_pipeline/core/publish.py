"""What gets published: a product record with its usable generated copy laid over its fields,
and which products are held back from the import file.

The audit scores exactly this content (``audit.scoring.effective_content``), and the
Shopify import file is written from it, so what was graded is what ships. A product is
held back only for a problem that would make it wrong or unsellable once published.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from structr_pipeline.core.audit.rules import RULES
from structr_pipeline.core.audit.scoring import effective_content

# The batch option that publishes products even when a problem would hold them back.
PUBLISH_ERRORS_OPTION = "publish_products_with_errors"


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


@dataclass(frozen=True)
class HeldBack:
    """The products kept out of ``shopify_import.csv``, and why."""

    reasons: dict[str, list[str]]  # handle → the codes that hold it back

    @property
    def handles(self) -> set[str]:
        """The held-back products' handles."""
        return set(self.reasons)

    def by_code(self) -> list[tuple[str, int]]:
        """Each holding code with the number of products it holds back, most first."""
        counts = Counter(code for codes in self.reasons.values() for code in codes)
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def to_json(self) -> dict[str, Any]:
        """For ``summary.json``: the count, the reasons by code and the first handles."""
        by_code = self.by_code()
        return {
            "products": len(self.reasons),
            "top_reason": by_code[0][0] if by_code else None,
            "top_reason_summary": RULES[by_code[0][0]].summary if by_code else None,
            "reasons": dict(by_code),
            "handles": sorted(self.reasons)[:100],
            "override_option": f"{PUBLISH_ERRORS_OPTION}=true",
        }


def held_back(holds_back: Iterable[tuple[str, str]], allowed: bool = False) -> HeldBack:
    """The products to hold back, from ``(handle, JSON list of codes)`` pairs of the audit.

    Only problems that make the published product wrong or unsellable hold it back (see
    ``Rule.holds_back``); with ``allowed`` (the batch option) nothing is held back.
    """
    if allowed:
        return HeldBack({})
    reasons = {}
    for handle, text in holds_back:
        codes = json.loads(text) if text else []
        if codes:
            reasons[str(handle)] = [str(c) for c in codes]
    return HeldBack(reasons)
