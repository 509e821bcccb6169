"""Score product records 0–100, grade them A–E and say what each lost point is for.

``audit_products`` audits the content that will be published (``effective_content``:
the product's own fields with usable generated copy laid over them), plus the variants'
prices and identifiers and the findings earlier stages left on the record. Each issue
costs points from one component of the score (see ``rules.py``), so the points of a
product's issues always add up to 100 minus its score.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from structr_pipeline.core.audit.rules import (
    COMPONENTS,
    ERROR,
    GRADES,
    RULES,
    AuditSettings,
)
from structr_pipeline.core.generation.copy import html_to_text
from structr_pipeline.core.normalize import is_gtin_shaped, is_valid_gtin
from structr_pipeline.core.values import sku_key

# Generated copy that is published: written in this run or taken from the cache.
USABLE_COPY = ("generated", "cached")

_PARAGRAPH = re.compile(r"(?i)<p\b[^>]*>")
_LIST_WITH_ITEM = re.compile(r"(?is)<(?:ul|ol)\b[^>]*>.*?<li\b[^>]*>")
_NOT_WORD = re.compile(r"[\W_]+")
_SHOWN = 5


@dataclass(frozen=True)
class ImageContent:
    """One product image as published: its URL, position and alt text."""

    src: str
    position: int | None
    alt: str
    alt_generated: bool = False


@dataclass(frozen=True)
class Content:
    """What a product will be published with, generated copy laid over its own fields.

    ``generated`` names the fields whose value comes from generated copy
    (``image_alt`` when at least one image's alt text does).
    """

    handle: str
    title: str
    vendor: str
    product_type: str
    category: str
    description_html: str
    seo_title: str
    meta_description: str
    images: tuple[ImageContent, ...]
    generated: frozenset[str] = frozenset()

    @cached_property
    def description_text(self) -> str:
        """The description's visible text (``html_to_text``), worked out once."""
        return html_to_text(self.description_html)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def usable_copy(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's generated copy when it is to be published, else an empty dict."""
    generated = record.get("generated_copy") or {}
    if generated.get("status") not in USABLE_COPY:
        return {}
    return dict(generated.get("copy") or {})


def effective_content(record: Mapping[str, Any]) -> Content:
    """The content a product record will be published with.

    Generated copy whose status is ``generated`` or ``cached`` replaces the title, SEO
    title, meta description (the record's ``seo_description``), description and, image
    by image, the alt text; an empty generated value keeps the product's own.
    """
    copy = usable_copy(record)
    generated: set[str] = set()

    def pick(own_field: str, copy_field: str) -> str:
        value = _text(copy.get(copy_field))
        if value:
            generated.add(copy_field)
            return value
        return _text(record.get(own_field))

    alts = copy.get("image_alt") or []
    images = []
    for i, image in enumerate(record.get("images") or []):
        new_alt = _text(alts[i]) if i < len(alts) else ""
        if new_alt:
            generated.add("image_alt")
        position = image.get("position")
        images.append(
            ImageContent(
                src=_text(image.get("src")),
                position=position if isinstance(position, int) else None,
                alt=new_alt or _text(image.get("alt")),
                alt_generated=bool(new_alt),
            )
        )
    return Content(
        handle=_text(record.get("handle")),
        title=pick("title", "title"),
        vendor=_text(record.get("vendor")),
        product_type=_text(record.get("product_type")),
        category=_text(record.get("category")),
        description_html=pick("description_html", "description_html"),
        seo_title=pick("seo_title", "seo_title"),
        meta_description=pick("seo_description", "meta_description"),
        images=tuple(images),
        generated=frozenset(generated),
    )


@dataclass(frozen=True)
class AuditIssue:
    """One thing that costs a product points, or that a person should know about.

    ``field`` is the published field concerned (the copy generator's name for the
    fields it writes); ``instruction`` is the sentence to send the copy generator when
    the issue is ``fixable`` by regenerating the copy.
    """

    code: str
    severity: str
    field: str
    points: float
    message: str
    fixable: bool
    instruction: str = ""

    @property
    def component(self) -> str:
        """The score component the issue takes its points from."""
        return RULES[self.code].component

    def to_dict(self) -> dict[str, Any]:
        """The issue as a JSON-ready dict."""
        return {
            "code": self.code,
            "severity": self.severity,
            "field": self.field,
            "points": self.points,
            "message": self.message,
            "fixable": self.fixable,
            "component": self.component,
            "instruction": self.instruction,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditIssue:
        """An issue from ``to_dict`` output."""
        return cls(
            code=str(data["code"]),
            severity=str(data["severity"]),
            field=str(data["field"]),
            points=float(data["points"]),
            message=str(data["message"]),
            fixable=bool(data["fixable"]),
            instruction=str(data.get("instruction", "")),
        )


@dataclass(frozen=True)
class ProductAudit:
    """A product's score (0–100), grade, points per component and issues."""

    handle: str
    score: float
    grade: str
    components: dict[str, float]
    issues: list[AuditIssue] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The product's issue codes, each once, in issue order."""
        return list(dict.fromkeys(issue.code for issue in self.issues))

    @property
    def has_errors(self) -> bool:
        """Whether any issue has severity ``error``."""
        return any(issue.severity == ERROR for issue in self.issues)

    @property
    def holds_back(self) -> list[str]:
        """The codes that keep the product out of the import file (wrong or unsellable)."""
        return [code for code in self.codes if code in RULES and RULES[code].holds_back]

    def to_dict(self) -> dict[str, Any]:
        """The audit as a JSON-ready dict."""
        return {
            "handle": self.handle,
            "score": self.score,
            "grade": self.grade,
            "components": dict(self.components),
            "issues": [issue.to_dict() for issue in self.issues],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProductAudit:
        """An audit from ``to_dict`` output."""
        return cls(
            handle=str(data["handle"]),
            score=float(data["score"]),
            grade=str(data["grade"]),
            components={str(k): float(v) for k, v in data["components"].items()},
            issues=[AuditIssue.from_dict(i) for i in data.get("issues", [])],
        )


def grade_for(score: float, settings: AuditSettings | None = None) -> str:
    """The grade of a score: the first of A–D whose lower bound it reaches, else E."""
    bands = (settings or AuditSettings()).grade_bands
    for grade in GRADES[:-1]:
        if score >= bands[grade]:
            return grade
    return GRADES[-1]


def normalized_description(html: str) -> str:
    """A description's visible text compared without case, punctuation or spacing."""
    return _comparable(html_to_text(html))


def _comparable(text: str) -> str:
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def _listed(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    more = len(items) - _SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _variant_label(variant: Mapping[str, Any], index: int) -> str:
    sku = _text(variant.get("sku"))
    if sku:
        return sku
    line = variant.get("source_line")
    return f"line {line}" if isinstance(line, int) else f"variant {index + 1}"


def _of(count: int, total: int, noun: str) -> str:
    return f"{count} of {total} {noun}{'' if total == 1 else 's'}"


@dataclass(frozen=True)
class _Batch:
    """What the audit of one product needs to know about the others."""

    description_twins: Mapping[str, list[str]]
    sku_counts: Counter[str]


def _batch_context(records: Sequence[Mapping[str, Any]], contents: Sequence[Content]) -> _Batch:
    by_text: dict[str, list[str]] = {}
    for content in contents:
        text = _comparable(content.description_text)
        if text:
            by_text.setdefault(text, []).append(content.handle)
    twins: dict[str, list[str]] = {}
    for handles in by_text.values():
        if len(set(handles)) > 1:
            for handle in handles:
                twins[handle] = [h for h in dict.fromkeys(handles) if h != handle]
    skus: Counter[str] = Counter()
    for record in records:
        for variant in record.get("variants") or []:
            key = sku_key(_text(variant.get("sku")))
            if key:
                skus[key] += 1
    return _Batch(description_twins=twins, sku_counts=skus)


class _Issues:
    """Collects a product's issues, pricing each from its rule and the settings."""

    def __init__(self, settings: AuditSettings) -> None:
        self.settings = settings
        self.items: list[AuditIssue] = []

    def add(
        self,
        code: str,
        message: str,
        *,
        fraction: float = 1.0,
        instruction: str = "",
        field: str | None = None,
    ) -> None:
        rule = RULES[code]
        points = round(self.settings.max_points(code) * fraction, 2)
        self.items.append(
            AuditIssue(
                code=code,
                severity=rule.severity,
                field=field or rule.field,
                points=points,
                message=message,
                fixable=rule.fixable,
                instruction=instruction if rule.fixable else "",
            )
        )


def _check_basic_info(
    content: Content, variants: Sequence[Mapping[str, Any]], out: _Issues
) -> None:
    limit = out.settings.title_max_chars
    if not content.title:
        out.add("TITLE_MISSING", "The product has no title.")
    elif len(content.title) > limit:
        out.add(
            "TITLE_TOO_LONG",
            f"The title is {len(content.title)} characters; the limit is {limit}.",
            instruction=(
                f"title is {len(content.title)} characters: shorten it to at most {limit} "
                "characters."
            ),
        )
    if not content.vendor:
        out.add("VENDOR_MISSING", "The product has no vendor (brand).")
    if not content.product_type and not content.category:
        out.add("PRODUCT_TYPE_MISSING", "The product has neither a product type nor a category.")

    if not variants:
        return
    total = len(variants)
    no_price, not_positive, no_saving = [], [], []
    for i, variant in enumerate(variants):
        label = _variant_label(variant, i)
        price, compare_at = variant.get("price"), variant.get("compare_at_price")
        if price is None:
            no_price.append(label)
        elif price <= 0:
            not_positive.append(label)
        if price is not None and compare_at is not None and 0 < compare_at <= price:
            no_saving.append(f"{label} ({compare_at:g} vs {price:g})")
    if no_price:
        out.add(
            "PRICE_MISSING",
            f"{_of(len(no_price), total, 'variant')} have no price: {_listed(no_price)}.",
            fraction=len(no_price) / total,
        )
    if not_positive:
        out.add(
            "PRICE_NOT_POSITIVE",
            f"{_of(len(not_positive), total, 'variant')} are priced at 0: {_listed(not_positive)}.",
            fraction=len(not_positive) / total,
        )
    repeated = _repeated_options(variants)
    if repeated:
        out.add(
            "OPTIONS_REPEATED",
            f"{_of(len(repeated), total, 'variant')} repeat the option values of another "
            f"variant: {_listed(repeated)}. Merge or tell them apart before publishing.",
        )
    if no_saving:
        out.add(
            "COMPARE_AT_NOT_ABOVE_PRICE",
            f"{_of(len(no_saving), total, 'variant')} have a compare-at price that is not "
            f"above the price: {_listed(no_saving)}.",
            fraction=len(no_saving) / total,
        )


def _repeated_options(variants: Sequence[Mapping[str, Any]]) -> list[str]:
    """Labels of the variants whose option values (ignoring case) an earlier one has."""
    seen: set[tuple[str, ...]] = set()
    repeated = []
    for i, variant in enumerate(variants):
        key = tuple(_text(variant.get(f"option{n}_value")).casefold() for n in range(1, 4))
        if key in seen:
            shown = " / ".join(v for v in key if v) or "no options"
            repeated.append(f"{_variant_label(variant, i)} ({shown})")
        seen.add(key)
    return repeated


def _check_identifiers(variants: Sequence[Mapping[str, Any]], batch: _Batch, out: _Issues) -> None:
    if not variants:
        return
    total = len(variants)
    no_sku, shared_sku, no_gtin, bad_gtin, store_code = [], [], [], [], []
    lost_digits = False
    for i, variant in enumerate(variants):
        label = _variant_label(variant, i)
        sku = _text(variant.get("sku"))
        if not sku:
            no_sku.append(label)
        elif batch.sku_counts[sku_key(sku)] > 1:
            shared_sku.append(sku)
        barcode = _text(variant.get("barcode"))
        if not barcode:
            no_gtin.append(label)
            lost_digits = lost_digits or any(
                w.get("check") == "barcode_scientific_notation"
                for w in variant.get("warnings") or []
            )
        elif not is_gtin_shaped(barcode):
            store_code.append(f"{label} ('{barcode}')")
        elif not is_valid_gtin(barcode):
            bad_gtin.append(f"{label} ('{barcode}')")
    if no_sku:
        out.add(
            "SKU_MISSING",
            f"{_of(len(no_sku), total, 'variant')} have no SKU: {_listed(no_sku)}.",
            fraction=len(no_sku) / total,
        )
    if shared_sku:
        out.add(
            "SKU_DUPLICATE",
            f"{_of(len(shared_sku), total, 'variant')} share their SKU with another variant "
            f"of the batch: {_listed(shared_sku)}.",
            fraction=len(shared_sku) / total,
        )
    if no_gtin:
        hint = (
            " Some were lost to scientific notation in a spreadsheet; export the column as text."
            if lost_digits
            else ""
        )
        out.add(
            "GTIN_MISSING",
            f"{_of(len(no_gtin), total, 'variant')} have no barcode (GTIN): "
            f"{_listed(no_gtin)}.{hint}",
            fraction=len(no_gtin) / total,
        )
    if bad_gtin:
        out.add(
            "GTIN_INVALID",
            f"{_of(len(bad_gtin), total, 'variant')} have a GTIN whose check digit is "
            f"wrong: {_listed(bad_gtin)}.",
            fraction=len(bad_gtin) / total,
        )
    if store_code:
        out.add(
            "BARCODE_NOT_GTIN",
            f"{_of(len(store_code), total, 'variant')} carry a store barcode that is not a "
            f"GTIN: {_listed(store_code)}. It is published as the barcode; channels that "
            "need a GTIN (Google Shopping, Amazon) cannot match it.",
            fraction=len(store_code) / total,
        )


def _check_media(content: Content, out: _Issues) -> None:
    images = content.images
    if not images:
        out.add("IMAGE_MISSING", "The product has no image.")
        return
    limit = out.settings.alt_text_max_chars
    total = len(images)
    missing = [str(i) for i, image in enumerate(images, 1) if not image.alt]
    too_long = [str(i) for i, image in enumerate(images, 1) if len(image.alt) > limit]
    if missing:
        out.add(
            "ALT_TEXT_MISSING",
            f"{_of(len(missing), total, 'image')} have no alt text (image {_listed(missing)}).",
            fraction=len(missing) / total,
            instruction=(
                f"image_alt is missing for image {_listed(missing)}: write one alt text of at "
                f"most {limit} characters for every image, in image order."
            ),
        )
    if too_long:
        out.add(
            "ALT_TEXT_TOO_LONG",
            f"{_of(len(too_long), total, 'image')} have alt text longer than {limit} "
            f"characters (image {_listed(too_long)}).",
            fraction=len(too_long) / total,
            instruction=(
                f"image_alt of image {_listed(too_long)} is longer than {limit} characters: "
                "shorten it."
            ),
        )


def _check_description(content: Content, batch: _Batch, out: _Issues) -> None:
    minimum = out.settings.description_min_chars
    text = content.description_text
    if not text:
        out.add(
            "DESCRIPTION_MISSING",
            "The product has no description.",
            instruction=(
                "description_html is missing: write one with at least one <p> paragraph and "
                f"a <ul> list of <li> items, at least {minimum} characters of text."
            ),
        )
        return
    if len(text) < minimum:
        out.add(
            "DESCRIPTION_TOO_SHORT",
            f"The description has {len(text)} characters of text; the minimum is {minimum}.",
            instruction=(
                f"description_html has {len(text)} characters of text: write at least "
                f"{minimum}, using only the product facts."
            ),
        )
    missing = []
    if not _PARAGRAPH.search(content.description_html):
        missing.append("a <p> paragraph")
    if not _LIST_WITH_ITEM.search(content.description_html):
        missing.append("a bullet list")
    if missing:
        out.add(
            "DESCRIPTION_UNSTRUCTURED",
            f"The description has no {' and no '.join(missing)}.",
            instruction=(
                f"description_html has no {' and no '.join(missing)}: structure it as <p> "
                "paragraphs and a <ul> list of <li> items."
            ),
        )
    twins = batch.description_twins.get(content.handle)
    if twins:
        out.add(
            "DUPLICATE_DESCRIPTION",
            f"The description is the same as that of {len(twins)} other "
            f"product{'' if len(twins) == 1 else 's'}: {_listed(twins)}.",
        )


def _check_seo(content: Content, out: _Issues) -> None:
    for value, name, label, limit in (
        (content.seo_title, "SEO_TITLE", "seo_title", out.settings.seo_title_max_chars),
        (
            content.meta_description,
            "META_DESCRIPTION",
            "meta_description",
            out.settings.meta_description_max_chars,
        ),
    ):
        words = label.replace("_", " ").replace("seo", "SEO")
        if not value:
            out.add(
                f"{name}_MISSING",
                f"The product has no {words}.",
                instruction=f"{label} is missing: write one of at most {limit} characters.",
            )
        elif len(value) > limit:
            out.add(
                f"{name}_TOO_LONG",
                f"The {words} is {len(value)} characters; the limit is {limit}.",
                instruction=(
                    f"{label} is {len(value)} characters: shorten it to at most {limit} characters."
                ),
            )


def _check_generation(record: Mapping[str, Any], content: Content, out: _Issues) -> None:
    generated = record.get("generated_copy") or {}
    status = generated.get("status")
    if status == "failed":
        out.add(
            "COPY_GENERATION_FAILED",
            "Copy generation failed for this product; its own text is published as it is.",
        )
    if status in USABLE_COPY:
        flags = [f for f in generated.get("flags") or [] if isinstance(f, Mapping)]
        if flags:
            fields = list(dict.fromkeys(_text(f.get("field")) or "copy" for f in flags))
            fragments = [f"'{_text(f.get('text'))}' in {_text(f.get('field'))}" for f in flags]
            out.add(
                "UNSUPPORTED_CLAIM",
                " ".join(_text(f.get("message")) for f in flags),
                field=", ".join(fields),
                instruction=(
                    f"the copy states what the product facts do not support "
                    f"({'; '.join(fragments)}): remove it or use only what the facts give."
                ),
            )
    removed = [
        _text(w.get("message"))
        for v in record.get("variants") or []
        for w in v.get("warnings") or []
        if w.get("check") == "html_sanitized"
    ]
    if removed:
        replaced = (
            " The published description is the generated one."
            if "description_html" in content.generated
            else ""
        )
        out.add(
            "HTML_STRIPPED",
            f"The source description held active content: {removed[0]}.{replaced}",
        )


def _audit_one(
    record: Mapping[str, Any], content: Content, batch: _Batch, settings: AuditSettings
) -> ProductAudit:
    out = _Issues(settings)
    variants = list(record.get("variants") or [])
    _check_basic_info(content, variants, out)
    _check_identifiers(variants, batch, out)
    _check_media(content, out)
    _check_description(content, batch, out)
    _check_seo(content, out)
    _check_generation(record, content, out)
    lost = dict.fromkeys(COMPONENTS, 0.0)
    for issue in out.items:
        lost[issue.component] += issue.points
    components = {c: round(settings.weights[c] - lost[c], 2) for c in COMPONENTS}
    score = round(100.0 - sum(issue.points for issue in out.items), 2)
    return ProductAudit(
        handle=content.handle,
        score=score,
        grade=grade_for(score, settings),
        components=components,
        issues=out.items,
    )


def audit_products(
    records: Iterable[Mapping[str, Any]], settings: AuditSettings | None = None
) -> list[ProductAudit]:
    """Audit each product record (as ``product_records`` gives it, with ``generated_copy``).

    Returns one ``ProductAudit`` per record, in order. Duplicate descriptions and SKUs
    are looked for across the records given.
    """
    settings = settings or AuditSettings()
    records = list(records)
    contents = [effective_content(r) for r in records]
    batch = _batch_context(records, contents)
    return [
        _audit_one(record, content, batch, settings)
        for record, content in zip(records, contents, strict=True)
    ]


def fix_feedback(audit: ProductAudit) -> list[str]:
    """One instruction per fixable issue, for one regeneration of the product's copy."""
    return [issue.instruction for issue in audit.issues if issue.fixable and issue.instruction]


@dataclass(frozen=True)
class AuditSummary:
    """A batch's audit at a glance.

    ``top_issues`` gives ``(code, products)`` pairs, most frequent first;
    ``share_c_or_better`` is 1.0 for an empty batch; ``passed`` compares it with the
    settings' ``min_share_c_or_better``.
    """

    products: int
    grade_counts: dict[str, int]
    mean_score: float
    median_score: float
    share_c_or_better: float
    min_share_c_or_better: float
    top_issues: list[tuple[str, int]]
    products_with_errors: list[str]
    fixable_products: int

    @property
    def passed(self) -> bool:
        """Whether enough products grade C or better."""
        return self.share_c_or_better >= self.min_share_c_or_better

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return {
            "products": self.products,
            "grade_counts": dict(self.grade_counts),
            "mean_score": self.mean_score,
            "median_score": self.median_score,
            "share_c_or_better": self.share_c_or_better,
            "min_share_c_or_better": self.min_share_c_or_better,
            "passed": self.passed,
            "top_issues": [{"code": code, "products": n} for code, n in self.top_issues],
            "products_with_errors": list(self.products_with_errors),
            "fixable_products": self.fixable_products,
        }

    def to_metadata(self) -> dict[str, Any]:
        """Flat numbers and short texts, the shape run metadata wants."""
        return {
            "products": self.products,
            **{f"grade_{g}": n for g, n in self.grade_counts.items()},
            "mean_score": self.mean_score,
            "median_score": self.median_score,
            "share_c_or_better": self.share_c_or_better,
            "passed": self.passed,
            "products_with_errors": len(self.products_with_errors),
            "fixable_products": self.fixable_products,
            "top_issues": ", ".join(f"{code} ({n})" for code, n in self.top_issues) or "none",
        }


def summarize(
    audits: Sequence[ProductAudit], settings: AuditSettings | None = None, top: int = 10
) -> AuditSummary:
    """Grade counts, mean and median score, the most frequent issue codes (by products
    affected), the share graded C or better and the products with error-severity issues."""
    settings = settings or AuditSettings()
    grades = Counter(a.grade for a in audits)
    codes: Counter[str] = Counter()
    for audit in audits:
        codes.update(audit.codes)
    scores = sorted(a.score for a in audits)
    n = len(scores)
    median = 0.0
    if n:
        middle = n // 2
        median = scores[middle] if n % 2 else (scores[middle - 1] + scores[middle]) / 2
    good = sum(grades[g] for g in GRADES[:3])
    return AuditSummary(
        products=n,
        grade_counts={g: grades[g] for g in GRADES},
        mean_score=round(sum(scores) / n, 2) if n else 0.0,
        median_score=round(median, 2),
        share_c_or_better=round(good / n, 4) if n else 1.0,
        min_share_c_or_better=settings.min_share_c_or_better,
        top_issues=sorted(codes.items(), key=lambda item: (-item[1], item[0]))[:top],
        products_with_errors=[a.handle for a in audits if a.has_errors],
        fixable_products=sum(1 for a in audits if fix_feedback(a)),
    )
