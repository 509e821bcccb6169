"""What the audit checks: the issue codes, what each may cost, and the settings that tune them.

A product's score starts at 100 and is split into components (basic info, identifiers,
media, content), each worth its weight in points. Every issue code belongs to one
component and costs at most ``share`` of that component's weight; issues that apply
to some variants or images only cost that fraction of it. Within a component the codes
that can occur together never add up to more than its weight, so a component never goes
below zero and every lost point is owed to an issue.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from itertools import pairwise
from types import MappingProxyType
from typing import Any

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES: tuple[str, ...] = (ERROR, WARNING, INFO)

BASIC_INFO = "basic_info"
IDENTIFIERS = "identifiers"
MEDIA = "media"
CONTENT = "content"
COMPONENTS: tuple[str, ...] = (BASIC_INFO, IDENTIFIERS, MEDIA, CONTENT)
COMPONENT_LABELS: Mapping[str, str] = MappingProxyType(
    {
        BASIC_INFO: "Basic info",
        IDENTIFIERS: "Identifiers",
        MEDIA: "Media",
        CONTENT: "Content",
    }
)

GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")


@dataclass(frozen=True)
class Rule:
    """One issue code: where its points come from, how bad it is, who can fix it."""

    code: str
    component: str
    share: float  # of the component's weight, at most (0 for issues that cost nothing)
    severity: str
    field: str
    fixable: bool  # whether regenerating the copy can remove it
    summary: str  # what the code means, for the report
    # Whether the problem makes the published product wrong or unsellable, so that the
    # product is held back from ``shopify_import.csv``.
    holds_back: bool = False


_RULE_LIST: tuple[Rule, ...] = (
    # Basic info: the title 0.35, vendor 0.2, type or category 0.2, prices 0.25.
    Rule(
        "TITLE_MISSING", BASIC_INFO, 0.35, ERROR, "title", False, "The product has no title.",
        holds_back=True,
    ),
    Rule(
        "TITLE_TOO_LONG", BASIC_INFO, 0.15, WARNING, "title", True,
        "The title is longer than the limit.",
    ),
    Rule("VENDOR_MISSING", BASIC_INFO, 0.2, WARNING, "vendor", False, "No vendor or brand."),
    Rule(
        "PRODUCT_TYPE_MISSING", BASIC_INFO, 0.2, WARNING, "product_type", False,
        "Neither a product type nor a category.",
    ),
    Rule(
        "PRICE_MISSING", BASIC_INFO, 0.15, ERROR, "price", False,
        "Variants without a price.", holds_back=True,
    ),
    Rule(
        "PRICE_NOT_POSITIVE", BASIC_INFO, 0.15, ERROR, "price", False,
        "Variants priced at zero.", holds_back=True,
    ),
    Rule(
        "OPTIONS_REPEATED", BASIC_INFO, 0.0, ERROR, "option1_value", False,
        "Two variants with the same option values: the storefront cannot tell them apart, "
        "and Shopify refuses the product.", holds_back=True,
    ),
    Rule(
        "COMPARE_AT_NOT_ABOVE_PRICE", BASIC_INFO, 0.1, WARNING, "compare_at_price", False,
        "A compare-at price that is not above the price shows no saving.",
    ),
    # Identifiers: SKUs 0.5, GTINs 0.5, both in proportion to the variants concerned.
    Rule("SKU_MISSING", IDENTIFIERS, 0.5, WARNING, "sku", False, "Variants without a SKU."),
    Rule(
        "SKU_DUPLICATE", IDENTIFIERS, 0.5, WARNING, "sku", False,
        "A SKU that another variant of the batch also has.",
    ),
    Rule(
        "GTIN_MISSING", IDENTIFIERS, 0.5, WARNING, "barcode", False,
        "Variants without a barcode (GTIN).",
    ),
    Rule(
        "GTIN_INVALID", IDENTIFIERS, 0.5, ERROR, "barcode", False,
        "A GTIN-8, -12, -13 or -14 whose check digit is wrong.", holds_back=True,
    ),
    Rule(
        "BARCODE_NOT_GTIN", IDENTIFIERS, 0.5, WARNING, "barcode", False,
        "A store's own barcode that is not a GTIN: published as it is, but channels that "
        "need a GTIN cannot match it.",
    ),
    # Media: an image 0.5, alt text 0.5 in proportion to the images concerned.
    Rule("IMAGE_MISSING", MEDIA, 1.0, WARNING, "images", False, "The product has no image."),
    Rule(
        "ALT_TEXT_MISSING", MEDIA, 0.5, WARNING, "image_alt", True,
        "Images without alt text.",
    ),
    Rule(
        "ALT_TEXT_TOO_LONG", MEDIA, 0.25, INFO, "image_alt", True,
        "Alt text longer than the limit.",
    ),
    # Content: description 0.5, SEO title 0.15, meta description 0.15, claims 0.2.
    Rule(
        "DESCRIPTION_MISSING", CONTENT, 0.5, ERROR, "description_html", True,
        "The product has no description.",
    ),
    Rule(
        "DESCRIPTION_TOO_SHORT", CONTENT, 0.25, WARNING, "description_html", True,
        "The description is shorter than the minimum.",
    ),
    Rule(
        "DESCRIPTION_UNSTRUCTURED", CONTENT, 0.15, INFO, "description_html", True,
        "The description has no paragraph or no bullet list.",
    ),
    Rule(
        "DUPLICATE_DESCRIPTION", CONTENT, 0.1, WARNING, "description_html", False,
        "Another product of the batch has the same description.",
    ),
    Rule(
        "SEO_TITLE_MISSING", CONTENT, 0.15, WARNING, "seo_title", True, "No SEO title.",
    ),
    Rule(
        "SEO_TITLE_TOO_LONG", CONTENT, 0.075, INFO, "seo_title", True,
        "The SEO title is longer than search engines show.",
    ),
    Rule(
        "META_DESCRIPTION_MISSING", CONTENT, 0.15, WARNING, "meta_description", True,
        "No meta description.",
    ),
    Rule(
        "META_DESCRIPTION_TOO_LONG", CONTENT, 0.075, INFO, "meta_description", True,
        "The meta description is longer than search engines show.",
    ),
    Rule(
        "UNSUPPORTED_CLAIM", CONTENT, 0.2, WARNING, "copy", True,
        "Generated copy states something the product facts do not support.",
    ),
    Rule(
        "HTML_STRIPPED", CONTENT, 0.0, WARNING, "description_html", False,
        "Active content (scripts, event handlers) was removed from the source description.",
    ),
    Rule(
        "COPY_GENERATION_FAILED", CONTENT, 0.0, WARNING, "copy", False,
        "No copy could be generated; the source text is published as it is.",
    ),
)  # fmt: skip

RULES: Mapping[str, Rule] = MappingProxyType({rule.code: rule for rule in _RULE_LIST})

DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {BASIC_INFO: 30.0, IDENTIFIERS: 20.0, MEDIA: 20.0, CONTENT: 30.0}
)
DEFAULT_GRADE_BANDS: Mapping[str, float] = MappingProxyType(
    {"A": 90.0, "B": 80.0, "C": 70.0, "D": 60.0}
)


class AuditSettingsError(ValueError):
    """Audit settings that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid audit settings: " + "; ".join(self.problems))


_LIMITS = (
    "title_max_chars",
    "seo_title_max_chars",
    "meta_description_max_chars",
    "description_min_chars",
    "alt_text_max_chars",
)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


@dataclass(frozen=True)
class AuditSettings:
    """How products are scored: component weights, length limits and grade bands.

    ``weights`` gives each component's points (they must sum to 100); ``grade_bands``
    the lowest score of grades A–D (E is everything below D). Lengths count characters;
    the description's length is that of its visible text. ``min_share_c_or_better`` is
    the share of products that must grade C or better for the batch to pass.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    title_max_chars: int = 70
    seo_title_max_chars: int = 60
    meta_description_max_chars: int = 160
    description_min_chars: int = 150
    alt_text_max_chars: int = 125
    grade_bands: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_GRADE_BANDS))
    min_share_c_or_better: float = 0.8

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise AuditSettingsError(problems)
        object.__setattr__(
            self, "weights", MappingProxyType({c: float(self.weights[c]) for c in COMPONENTS})
        )
        object.__setattr__(
            self,
            "grade_bands",
            MappingProxyType({g: float(self.grade_bands[g]) for g in GRADES[:-1]}),
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> AuditSettings:
        """Settings from a mapping (a YAML or JSON section); missing keys keep their default.

        ``weights`` and ``grade_bands`` may give only some of their keys. Raises
        ``AuditSettingsError`` naming every unknown key and bad value.
        """
        if data is not None and not isinstance(data, Mapping):
            kind = type(data).__name__
            raise AuditSettingsError([f"audit settings must be a mapping, not {kind}"])
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise AuditSettingsError(
                [f"unknown key '{k}' (known: {', '.join(sorted(known))})" for k in unknown]
            )
        problems = []
        for name, defaults in (("weights", DEFAULT_WEIGHTS), ("grade_bands", DEFAULT_GRADE_BANDS)):
            if name not in data:
                continue
            given = data[name]
            if not isinstance(given, Mapping):
                problems.append(f"{name} must be a mapping, not {type(given).__name__}")
                continue
            data[name] = {**defaults, **given}
        if problems:
            raise AuditSettingsError(problems)
        return cls(**data)

    def __hash__(self) -> int:
        """A hash of every setting (the mappings included), so settings can be cache keys."""
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON-ready values."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, Mapping) else value
        return out

    def max_points(self, code: str) -> float:
        """The most points an issue with this code can cost."""
        rule = RULES[code]
        return self.weights[rule.component] * rule.share


def _problems(settings: AuditSettings) -> list[str]:
    """Every reason the settings cannot be used."""
    problems: list[str] = []
    weights = settings.weights
    if not isinstance(weights, Mapping):
        problems.append(f"weights must be a mapping, not {type(weights).__name__}")
    else:
        unknown = sorted(str(k) for k in weights if k not in COMPONENTS)
        if unknown:
            problems.append(
                f"weights: unknown component(s) {', '.join(unknown)} "
                f"(known: {', '.join(COMPONENTS)})"
            )
        missing = [c for c in COMPONENTS if c not in weights]
        if missing:
            problems.append(f"weights: missing {', '.join(missing)}")
        bad = False
        for name in COMPONENTS:
            value = weights.get(name)
            if name in weights and (not _is_number(value) or value < 0):
                problems.append(f"weights.{name} must be a number of at least 0, not {value!r}")
                bad = True
        if not unknown and not missing and not bad:
            total = sum(float(weights[c]) for c in COMPONENTS)
            if not math.isclose(total, 100.0, abs_tol=1e-9):
                problems.append(f"weights must sum to 100, but they sum to {total:g}")

    for name in _LIMITS:
        value = getattr(settings, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            problems.append(f"{name} must be a whole number of at least 1, not {value!r}")

    bands = settings.grade_bands
    if not isinstance(bands, Mapping):
        problems.append(f"grade_bands must be a mapping, not {type(bands).__name__}")
    else:
        needed = GRADES[:-1]
        unknown = sorted(str(k) for k in bands if k not in needed)
        if unknown:
            problems.append(
                f"grade_bands: unknown grade(s) {', '.join(unknown)} (known: {', '.join(needed)})"
            )
        missing = [g for g in needed if g not in bands]
        if missing:
            problems.append(f"grade_bands: missing {', '.join(missing)}")
        values = []
        for grade in needed:
            value = bands.get(grade)
            if grade not in bands:
                continue
            if not _is_number(value) or not 0 < value <= 100:
                problems.append(f"grade_bands.{grade} must be a number in (0, 100], not {value!r}")
            else:
                values.append(float(value))
        if len(values) == len(needed) and any(a <= b for a, b in pairwise(values)):
            shown = ", ".join(f"{g} {v:g}" for g, v in zip(needed, values, strict=True))
            problems.append(f"grade_bands must decrease strictly from A to D, not {shown}")

    share = settings.min_share_c_or_better
    if not _is_number(share) or not 0 <= share <= 1:
        problems.append(f"min_share_c_or_better must be a number in [0, 1], not {share!r}")
    return problems
