"""Scores, grades and issues of product records, and the settings that tune them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from structr_pipeline.core.audit import (
    COMPONENTS,
    RULES,
    AuditIssue,
    AuditSettings,
    AuditSettingsError,
    ProductAudit,
    audit_products,
    effective_content,
    fix_feedback,
    grade_for,
    summarize,
)
from structr_pipeline.core.generation.copy import html_to_text

PARAGRAPH = "Soft, warm and made to last through many winters of daily wear. " * 2


def describe(handle: str) -> str:
    """A structured description long enough to pass, different for every handle."""
    return f"<p>{PARAGRAPH.strip()}</p><ul><li>Ribbed cuffs</li><li>Crew neck {handle}</li></ul>"


DESCRIPTION = describe("wool-sweater")


def variant(**extra: Any) -> dict[str, Any]:
    """A variant with every field the audit reads filled in well."""
    return {
        "option1_value": "S",
        "sku": "SKU-1",
        "barcode": "4006381333931",
        "price": 49.0,
        "compare_at_price": None,
        "inventory_qty": 3,
        "warnings": [],
        "source_line": 2,
        **extra,
    }


def product(handle: str = "wool-sweater", **extra: Any) -> dict[str, Any]:
    """A product record (``product_records`` shape) that scores 100."""
    record = {
        "handle": handle,
        "title": "Wool Sweater",
        "description_html": describe(handle),
        "vendor": "Northwind",
        "product_type": "Sweaters",
        "category": "Apparel > Sweaters",
        "tags": "wool",
        "status": "active",
        "seo_title": "Wool Sweater | Northwind",
        "seo_description": "A warm wool crew neck sweater with ribbed cuffs.",
        "variants": [variant(sku=f"{handle}-S")],
        "images": [{"src": "https://cdn.example/a.jpg", "position": 1, "alt": "Front view"}],
        "attributes": {},
        "source_lines": [2],
    }
    record.update(extra)
    return record


def generated(status: str = "generated", flags: list | None = None, **fields: Any) -> dict:
    """A ``generated_copy`` entry as ``with_generated_copy`` nests it."""
    usable = status in ("generated", "cached")
    return {
        "status": status,
        "copy": dict(fields) if usable else {},
        "flags": flags or [],
        "model": "offline-template-v1",
        "prompt_version": "1",
    }


def codes_of(records: list[dict], settings: AuditSettings | None = None) -> list[str]:
    return audit_products(records, settings)[0].codes


def first_variant(**changes: Any) -> Callable[[dict], list[dict]]:
    def change(record: dict) -> list[dict]:
        record["variants"][0].update(changes)
        return [record]

    return change


def fields(**changes: Any) -> Callable[[dict], list[dict]]:
    def change(record: dict) -> list[dict]:
        record.update(changes)
        return [record]

    return change


def with_description_of_length(n: int) -> Callable[[dict], list[dict]]:
    """A structured description whose visible text is exactly ``n`` characters."""
    item = "Ribbed cuffs"
    paragraph = "x" * (n - len(item) - 1)  # html_to_text puts one line break between blocks
    return fields(description_html=f"<p>{paragraph}</p><ul><li>{item}</li></ul>")


def with_second_product(**changes: Any) -> Callable[[dict], list[dict]]:
    def change(record: dict) -> list[dict]:
        return [record, product("other", **changes)]

    return change


def with_second_variant(**changes: Any) -> Callable[[dict], list[dict]]:
    def change(record: dict) -> list[dict]:
        record["variants"].append(variant(source_line=3, **changes))
        return [record]

    return change


def with_alt(alt: str) -> Callable[[dict], list[dict]]:
    def change(record: dict) -> list[dict]:
        record["images"][0]["alt"] = alt
        return [record]

    return change


def with_warning(check: str) -> Callable[[dict], list[dict]]:
    warning = {"line": 2, "column": "Body (HTML)", "check": check, "value": "", "message": "m"}
    return first_variant(warnings=[warning])


FLAG = {
    "field": "description_html",
    "kind": "claim",
    "text": "waterproof",
    "message": "The description mentions 'waterproof' (a claim), which the product facts do "
    "not state; remove it unless the facts support it.",
}
STRUCTURED = "<p>A fine sweater.</p><ol><li>Crew neck</li></ol>"

# code: (a change that triggers it, a change just short of triggering it)
CASES: dict[str, tuple[Callable, Callable]] = {
    "TITLE_MISSING": (fields(title=""), fields(title="W")),
    "TITLE_TOO_LONG": (fields(title="x" * 71), fields(title="x" * 70)),
    "VENDOR_MISSING": (fields(vendor=" "), fields(vendor="N")),
    "PRODUCT_TYPE_MISSING": (
        fields(product_type="", category=""),
        fields(product_type="", category="Apparel"),
    ),
    "PRICE_MISSING": (first_variant(price=None), first_variant(price=0.01)),
    "PRICE_NOT_POSITIVE": (first_variant(price=0.0), first_variant(price=0.01)),
    "COMPARE_AT_NOT_ABOVE_PRICE": (
        first_variant(price=49.0, compare_at_price=49.0),
        first_variant(price=49.0, compare_at_price=49.01),
    ),
    "SKU_MISSING": (first_variant(sku=""), first_variant(sku="A")),
    "OPTIONS_REPEATED": (
        with_second_variant(sku="B", option1_value=" s "),
        with_second_variant(sku="B", option1_value="M"),
    ),
    "SKU_DUPLICATE": (
        with_second_variant(sku=" wool-sweater-s ", option1_value="M"),
        with_second_variant(sku="wool-sweater-m", option1_value="M"),
    ),
    "GTIN_MISSING": (first_variant(barcode=""), first_variant(barcode="012345678905")),
    "GTIN_INVALID": (first_variant(barcode="4006381333932"), first_variant(barcode="96385074")),
    "BARCODE_NOT_GTIN": (first_variant(barcode="30235"), first_variant(barcode="96385074")),
    "IMAGE_MISSING": (fields(images=[]), fields(images=[{"src": "a.jpg", "alt": "A"}])),
    "ALT_TEXT_MISSING": (with_alt(""), with_alt("A")),
    "ALT_TEXT_TOO_LONG": (with_alt("a" * 126), with_alt("a" * 125)),
    "DESCRIPTION_MISSING": (
        fields(description_html="<p> </p>"),
        fields(description_html=STRUCTURED),
    ),
    "DESCRIPTION_TOO_SHORT": (with_description_of_length(149), with_description_of_length(150)),
    "DESCRIPTION_UNSTRUCTURED": (
        fields(description_html=f"<p>{PARAGRAPH}</p>"),
        fields(description_html=f"<p>{PARAGRAPH}</p><ol><li>Crew neck</li></ol>"),
    ),
    "DUPLICATE_DESCRIPTION": (
        with_second_product(description_html=DESCRIPTION.upper().replace(".", "!")),
        with_second_product(description_html=DESCRIPTION.replace("Crew neck", "V neck")),
    ),
    "SEO_TITLE_MISSING": (fields(seo_title=""), fields(seo_title="S")),
    "SEO_TITLE_TOO_LONG": (fields(seo_title="s" * 61), fields(seo_title="s" * 60)),
    "META_DESCRIPTION_MISSING": (fields(seo_description=""), fields(seo_description="M")),
    "META_DESCRIPTION_TOO_LONG": (
        fields(seo_description="m" * 161),
        fields(seo_description="m" * 160),
    ),
    "UNSUPPORTED_CLAIM": (
        fields(generated_copy=generated(flags=[FLAG], title="Wool Sweater")),
        fields(generated_copy=generated(title="Wool Sweater")),
    ),
    "HTML_STRIPPED": (with_warning("html_sanitized"), with_warning("barcode_leading_zero")),
    "COPY_GENERATION_FAILED": (
        fields(generated_copy=generated("failed")),
        fields(generated_copy=generated("skipped_unchanged")),
    ),
}


def test_the_reference_product_scores_100_without_issues():
    [audit] = audit_products([product()])
    assert audit.score == 100
    assert audit.grade == "A"
    assert audit.issues == []
    assert audit.components == {"basic_info": 30, "identifiers": 20, "media": 20, "content": 30}


def test_every_issue_code_has_a_case():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_issue_code_is_raised(code):
    trigger, _ = CASES[code]
    audit = audit_products(trigger(product()))[0]
    assert code in audit.codes
    issue = next(i for i in audit.issues if i.code == code)
    rule = RULES[code]
    assert (issue.severity, issue.fixable) == (rule.severity, rule.fixable)
    assert issue.message
    assert sum(i.points for i in audit.issues) == pytest.approx(100 - audit.score)


@pytest.mark.parametrize("code", sorted(CASES))
def test_issue_code_is_not_raised_just_short_of_its_limit(code):
    _, near_miss = CASES[code]
    assert code not in codes_of(near_miss(product()))


@pytest.mark.parametrize(
    ("code", "severity", "fixable"),
    [
        ("PRICE_NOT_POSITIVE", "error", False),
        ("GTIN_INVALID", "error", False),
        ("BARCODE_NOT_GTIN", "warning", False),
        ("COMPARE_AT_NOT_ABOVE_PRICE", "warning", False),
        ("SKU_MISSING", "warning", False),
        ("IMAGE_MISSING", "warning", False),
        ("META_DESCRIPTION_MISSING", "warning", True),
        ("SEO_TITLE_TOO_LONG", "info", True),
        ("ALT_TEXT_MISSING", "warning", True),
        ("DESCRIPTION_TOO_SHORT", "warning", True),
        ("DESCRIPTION_UNSTRUCTURED", "info", True),
        ("UNSUPPORTED_CLAIM", "warning", True),
        ("TITLE_TOO_LONG", "warning", True),
    ],
)
def test_severity_and_fixability(code, severity, fixable):
    assert (RULES[code].severity, RULES[code].fixable) == (severity, fixable)


def everything_wrong() -> dict:
    return product(
        title="",
        vendor="",
        product_type="",
        category="",
        description_html="",
        seo_title="",
        seo_description="",
        images=[],
        variants=[variant(sku="", barcode="4006381333932", price=0.0, compare_at_price=0.0)],
        generated_copy=generated("failed"),
    )


@pytest.mark.parametrize(
    "records",
    [
        [product()],
        [everything_wrong()],
        CASES["DUPLICATE_DESCRIPTION"][0](product()),
        [
            product(
                title="t" * 90,
                seo_title="s" * 80,
                seo_description="m" * 200,
                description_html=f"<p>{'x' * 40}</p>",
                images=[
                    {"src": "1.jpg", "alt": ""},
                    {"src": "2.jpg", "alt": "a" * 200},
                    {"src": "3.jpg", "alt": "ok"},
                ],
                variants=[
                    variant(sku="", barcode="", price=10.0, compare_at_price=9.0),
                    variant(sku="X", barcode="ABC", price=None),
                    variant(sku="x ", price=0.0, source_line=4),
                ],
                generated_copy=generated(flags=[FLAG, {**FLAG, "text": "100%"}]),
            )
        ],
    ],
    ids=["clean", "everything-wrong", "duplicates", "mixed"],
)
def test_issue_points_add_up_to_what_the_score_lost(records):
    for audit in audit_products(records):
        assert sum(i.points for i in audit.issues) == pytest.approx(100 - audit.score)
        assert sum(audit.components.values()) == pytest.approx(audit.score)
        assert all(value >= -1e-9 for value in audit.components.values())
        for name in COMPONENTS:
            lost = sum(i.points for i in audit.issues if i.component == name)
            assert audit.components[name] == pytest.approx(AuditSettings().weights[name] - lost)
        assert 0 <= audit.score <= 100
        assert audit.grade == grade_for(audit.score)


def test_a_product_with_everything_wrong_keeps_only_what_it_cannot_lose():
    [audit] = audit_products([everything_wrong()])
    # Left: the compare-at share of basic info (3) and the claims share of content (6),
    # which only a real compare-at price and generated copy can lose.
    assert audit.score == 9
    assert audit.components == {"basic_info": 3, "identifiers": 0, "media": 0, "content": 6}
    assert audit.grade == "E"
    assert {"PRICE_NOT_POSITIVE", "GTIN_INVALID", "SKU_MISSING", "IMAGE_MISSING"} <= set(
        audit.codes
    )
    assert "COMPARE_AT_NOT_ABOVE_PRICE" not in audit.codes  # a compare-at price of 0 is none


def test_a_store_barcode_is_not_an_invalid_gtin_and_holds_nothing_back():
    record = product(
        variants=[
            variant(barcode="30235"),
            variant(barcode="AB-77", source_line=3, option1_value="M"),
        ]
    )
    [audit] = audit_products([record])

    assert "GTIN_INVALID" not in audit.codes
    store = next(i for i in audit.issues if i.code == "BARCODE_NOT_GTIN")
    assert store.severity == "warning"
    assert "'30235'" in store.message and "'AB-77'" in store.message
    assert audit.holds_back == []


def test_only_problems_that_make_a_product_wrong_or_unsellable_hold_it_back():
    wrong_gtin = product("a", variants=[variant(sku="A", barcode="4006381333932")])
    free = product("b", variants=[variant(sku="B", barcode="96385074", price=0.0)])
    no_description = product("c", description_html="")
    [gtin_audit, free_audit, description_audit] = audit_products([wrong_gtin, free, no_description])

    assert gtin_audit.holds_back == ["GTIN_INVALID"]
    assert free_audit.holds_back == ["PRICE_NOT_POSITIVE"]
    assert "DESCRIPTION_MISSING" in description_audit.codes
    assert description_audit.has_errors and description_audit.holds_back == []


def test_variant_issues_cost_in_proportion_to_the_variants_concerned():
    record = product(
        variants=[
            variant(sku="A", barcode=""),
            variant(sku="", barcode="", source_line=3, option1_value="M"),
            variant(sku="C", barcode="4006381333931", source_line=4, option1_value="L"),
            variant(sku="D", barcode="4006381333948", source_line=5, option1_value="XL"),
        ]
    )
    [audit] = audit_products([record])
    points = {i.code: i.points for i in audit.issues}
    # identifiers are worth 20: half for SKUs, half for GTINs
    assert points == {"SKU_MISSING": 2.5, "GTIN_MISSING": 5.0}
    gtin = next(i for i in audit.issues if i.code == "GTIN_MISSING")
    assert "2 of 4 variants" in gtin.message and "A, line 3" in gtin.message
    assert audit.components["identifiers"] == 12.5
    assert audit.score == 92.5


def test_weights_come_from_the_settings():
    settings = AuditSettings.from_mapping(
        {"weights": {"basic_info": 10, "identifiers": 40, "media": 10, "content": 40}}
    )
    record = product(images=[], variants=[variant(barcode="")])
    [audit] = audit_products([record], settings)
    points = {i.code: i.points for i in audit.issues}
    assert points == {"GTIN_MISSING": 20.0, "IMAGE_MISSING": 10.0}
    assert audit.score == 70
    assert audit.components == {"basic_info": 10, "identifiers": 20, "media": 0, "content": 40}
    [default] = audit_products([record])
    assert default.score == 70  # 10 + 20 with the default weights: the same by coincidence
    assert {i.code: i.points for i in default.issues} == {"GTIN_MISSING": 10, "IMAGE_MISSING": 20}


def test_a_component_weighted_zero_costs_nothing():
    settings = AuditSettings.from_mapping(
        {"weights": {"basic_info": 40, "identifiers": 0, "media": 30, "content": 30}}
    )
    [audit] = audit_products([product(variants=[variant(sku="", barcode="")])], settings)
    assert audit.score == 100
    assert {i.code for i in audit.issues} == {"SKU_MISSING", "GTIN_MISSING"}
    assert all(i.points == 0 for i in audit.issues)


def test_limits_come_from_the_settings():
    settings = AuditSettings.from_mapping(
        {"title_max_chars": 10, "meta_description_max_chars": 20, "description_min_chars": 400}
    )
    codes = codes_of([product()], settings)
    assert codes == ["TITLE_TOO_LONG", "DESCRIPTION_TOO_SHORT", "META_DESCRIPTION_TOO_LONG"]
    [audit] = audit_products([product()], settings)
    assert "at most 20 characters" in fix_feedback(audit)[-1]


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100, "A"),
        (90, "A"),
        (89.99, "B"),
        (80, "B"),
        (79.99, "C"),
        (70, "C"),
        (69.99, "D"),
        (60, "D"),
        (59.99, "E"),
        (0, "E"),
    ],
)
def test_grade_bands_at_their_boundaries(score, grade):
    assert grade_for(score, AuditSettings()) == grade
    assert grade_for(score) == grade


def test_grade_bands_come_from_the_settings():
    settings = AuditSettings.from_mapping({"grade_bands": {"A": 95, "B": 85}})
    assert [grade_for(s, settings) for s in (95, 94.9, 85, 84.9, 70, 60, 59)] == [
        "A",
        "B",
        "B",
        "C",
        "C",
        "D",
        "E",
    ]


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"title_max": 70}, "unknown key 'title_max'"),
        ({"weights": {"basic_info": 50}}, "weights must sum to 100, but they sum to 120"),
        ({"weights": {"pricing": 10}}, "unknown component(s) pricing"),
        (
            {"weights": {"basic_info": -10, "content": 70}},
            "weights.basic_info must be a number of at least 0, not -10",
        ),
        ({"weights": {"media": "20"}}, "weights.media must be a number"),
        ({"weights": [30, 20, 20, 30]}, "weights must be a mapping, not list"),
        ({"grade_bands": {"B": 95}}, "grade_bands must decrease strictly from A to D"),
        ({"grade_bands": {"E": 50}}, "grade_bands: unknown grade(s) E"),
        ({"grade_bands": {"A": 120}}, "grade_bands.A must be a number in (0, 100]"),
        ({"title_max_chars": 0}, "title_max_chars must be a whole number of at least 1"),
        ({"description_min_chars": True}, "description_min_chars must be a whole number"),
        ({"seo_title_max_chars": 60.5}, "seo_title_max_chars must be a whole number"),
        ({"min_share_c_or_better": 1.5}, "min_share_c_or_better must be a number in [0, 1]"),
    ],
)
def test_settings_are_validated(mapping, expected):
    with pytest.raises(AuditSettingsError) as raised:
        AuditSettings.from_mapping(mapping)
    assert expected in str(raised.value)


def test_settings_report_every_problem_at_once():
    with pytest.raises(AuditSettingsError) as raised:
        AuditSettings(title_max_chars=-1, min_share_c_or_better=-0.1)
    assert len(raised.value.problems) == 2


def test_settings_from_mapping_keep_defaults_and_round_trip():
    settings = AuditSettings.from_mapping(
        {"weights": {"basic_info": 40, "content": 20}, "min_share_c_or_better": 0.5}
    )
    assert dict(settings.weights) == {
        "basic_info": 40,
        "identifiers": 20,
        "media": 20,
        "content": 20,
    }
    assert settings.title_max_chars == 70 and settings.seo_title_max_chars == 60
    assert settings.meta_description_max_chars == 160
    assert AuditSettings.from_mapping(settings.to_dict()) == settings
    assert AuditSettings.from_mapping(None) == AuditSettings()
    assert hash(settings) == hash(AuditSettings.from_mapping(settings.to_dict()))
    with pytest.raises(AuditSettingsError, match="must be a mapping, not list"):
        AuditSettings.from_mapping([("title_max_chars", 5)])


def test_duplicate_descriptions_are_found_across_the_products_given():
    shared = "<p>The same words.</p><ul><li>Same list</li></ul>"
    records = [
        product("a", description_html=shared),
        product("b", description_html=shared.replace("words.", "WORDS!")),
        product("c", description_html=shared.replace("<p>", "<p> ")),
        product("d"),
        product("e", description_html=""),
        product("f", description_html=""),
    ]
    audits = {a.handle: a for a in audit_products(records)}
    for handle in "abc":
        assert "DUPLICATE_DESCRIPTION" in audits[handle].codes
    issue = next(i for i in audits["a"].issues if i.code == "DUPLICATE_DESCRIPTION")
    assert "2 other products: b, c" in issue.message
    for handle in "def":
        assert "DUPLICATE_DESCRIPTION" not in audits[handle].codes  # empty ones are no twins
    # alone, the same record has no twin
    assert "DUPLICATE_DESCRIPTION" not in codes_of([records[0]])


def test_generated_descriptions_count_for_duplicates():
    own = "<p>Different words here.</p><ul><li>Item</li></ul>"
    records = [
        product("a", description_html=own),
        product("b", generated_copy=generated(description_html=own)),
    ]
    assert all("DUPLICATE_DESCRIPTION" in a.codes for a in audit_products(records))


def test_a_sku_shared_between_products_is_a_duplicate():
    records = [product("a"), product("b", variants=[variant(sku="A-S")])]
    assert [a.codes for a in audit_products(records)] == [["SKU_DUPLICATE"], ["SKU_DUPLICATE"]]


def test_effective_content_overlays_usable_generated_copy():
    record = product(
        images=[
            {"src": "1.jpg", "position": 1, "alt": "own one"},
            {"src": "2.jpg", "position": 2, "alt": "own two"},
            {"src": "3.jpg", "position": 3, "alt": ""},
        ],
        generated_copy=generated(
            "cached",
            title="New Title",
            seo_title="New SEO",
            meta_description="New meta",
            description_html="<p>New</p>",
            bullets=["a"],
            image_alt=["gen one", ""],
        ),
    )
    content = effective_content(record)
    assert content.title == "New Title"
    assert content.seo_title == "New SEO"
    assert content.meta_description == "New meta"
    assert content.description_html == "<p>New</p>"
    assert [i.alt for i in content.images] == ["gen one", "own two", ""]
    assert [i.alt_generated for i in content.images] == [True, False, False]
    assert content.vendor == "Northwind"
    assert content.generated == {
        "title",
        "seo_title",
        "meta_description",
        "description_html",
        "image_alt",
    }


@pytest.mark.parametrize("status", ["failed", "skipped_unchanged"])
def test_effective_content_ignores_copy_that_is_not_published(status):
    record = product(generated_copy={**generated(status), "copy": {"title": "Not used"}})
    content = effective_content(record)
    assert content.title == "Wool Sweater"
    assert content.meta_description == record["seo_description"]
    assert content.generated == frozenset()


def test_effective_content_keeps_own_values_where_the_copy_is_empty():
    record = product(generated_copy=generated(title="", seo_title="  "))
    content = effective_content(record)
    assert (content.title, content.seo_title) == ("Wool Sweater", "Wool Sweater | Northwind")
    assert effective_content(product()) == effective_content(product(generated_copy=None))


def test_the_audit_judges_the_published_content():
    bare = product(seo_title="", seo_description="", description_html="")
    bare["images"][0]["alt"] = ""
    assert {
        "SEO_TITLE_MISSING",
        "META_DESCRIPTION_MISSING",
        "DESCRIPTION_MISSING",
        "ALT_TEXT_MISSING",
    } <= set(codes_of([bare]))
    fixed = copy.deepcopy(bare)
    fixed["generated_copy"] = generated(
        title="Wool Sweater",
        seo_title="Wool Sweater | Northwind",
        meta_description="A warm wool sweater.",
        description_html=DESCRIPTION,
        image_alt=["Front of the sweater"],
    )
    [audit] = audit_products([fixed])
    assert audit.issues == [] and audit.score == 100


def test_html_stripped_says_when_the_generated_description_replaced_it():
    record = with_warning("html_sanitized")(product())[0]
    [kept] = audit_products([record])
    record["generated_copy"] = generated(description_html=DESCRIPTION)
    [replaced] = audit_products([record])
    assert "generated one" not in kept.issues[0].message
    assert "generated one" in replaced.issues[0].message
    assert kept.issues[0].points == 0


def test_scientific_notation_is_named_when_it_lost_a_gtin():
    warning = {
        "line": 2,
        "column": "Variant Barcode",
        "check": "barcode_scientific_notation",
        "value": "4.00638E+12",
        "message": "m",
    }
    [audit] = audit_products(first_variant(barcode="", warnings=[warning])(product()))
    assert "scientific notation" in audit.issues[0].message


def test_fix_feedback_has_one_sentence_per_fixable_issue():
    record = product(
        title="T" * 80,
        seo_description="",
        variants=[variant(barcode="", price=0.0)],
        images=[{"src": "a.jpg", "alt": ""}, {"src": "b.jpg", "alt": "B"}],
        generated_copy=generated(flags=[FLAG]),
    )
    [audit] = audit_products([record])
    fixable = [i for i in audit.issues if i.fixable]
    assert {i.code for i in fixable} == {
        "TITLE_TOO_LONG",
        "META_DESCRIPTION_MISSING",
        "ALT_TEXT_MISSING",
        "UNSUPPORTED_CLAIM",
    }
    assert {"GTIN_MISSING", "PRICE_NOT_POSITIVE"} <= set(audit.codes)
    feedback = fix_feedback(audit)
    assert len(feedback) == len(fixable)
    assert "meta_description is missing: write one of at most 160 characters." in feedback
    assert "title is 80 characters: shorten it to at most 70 characters." in feedback
    assert any(s.startswith("image_alt is missing for image 1") for s in feedback)
    assert any("'waterproof' in description_html" in s for s in feedback)
    assert not any("barcode" in s or "price" in s for s in feedback)


def test_no_feedback_for_a_product_with_only_unfixable_issues():
    [audit] = audit_products([product(images=[], variants=[variant(sku="")])])
    assert audit.codes == ["SKU_MISSING", "IMAGE_MISSING"]
    assert fix_feedback(audit) == []


def test_summary_of_a_batch():
    records = [
        product("a"),
        product("b", images=[]),  # 80: B
        product(  # 100 - 20 - 6 - 4.5 - 15 = 54.5: E
            "c",
            images=[],
            vendor="",
            description_html="",
            variants=[variant(sku="c-1", price=0.0)],
        ),
        product("d", variants=[variant(sku="d-1", barcode="4006381333932")]),  # GTIN_INVALID: 90
    ]
    audits = audit_products(records)
    assert [a.grade for a in audits] == ["A", "B", "E", "A"]
    summary = summarize(audits)
    assert summary.grade_counts == {"A": 2, "B": 1, "C": 0, "D": 0, "E": 1}
    assert summary.products == 4
    assert summary.mean_score == pytest.approx(81.125, abs=0.005)
    assert summary.median_score == 85
    assert summary.share_c_or_better == 0.75
    assert not summary.passed
    assert summarize(audits, AuditSettings(min_share_c_or_better=0.75)).passed
    assert summary.top_issues[0] == ("IMAGE_MISSING", 2)
    assert summary.top_issues == [
        ("IMAGE_MISSING", 2),
        ("DESCRIPTION_MISSING", 1),
        ("GTIN_INVALID", 1),
        ("PRICE_NOT_POSITIVE", 1),
        ("VENDOR_MISSING", 1),
    ]
    assert summarize(audits, top=1).top_issues == [("IMAGE_MISSING", 2)]
    assert [a.score for a in audits] == [100, 80, 54.5, 90]
    assert summary.products_with_errors == ["c", "d"]
    metadata = summary.to_metadata()
    assert metadata["grade_A"] == 2 and metadata["products_with_errors"] == 2
    assert metadata["top_issues"].startswith("IMAGE_MISSING (2)")
    assert all(isinstance(v, int | float | str | bool) for v in metadata.values())
    assert summary.to_dict()["passed"] is False


def test_summary_of_no_products():
    summary = summarize([])
    assert summary.products == 0 and summary.mean_score == 0
    assert summary.share_c_or_better == 1.0 and summary.passed


def test_audits_round_trip_through_dicts():
    [audit] = audit_products([everything_wrong()])
    data = audit.to_dict()
    assert data["issues"][0]["code"] == audit.issues[0].code
    assert {"code", "severity", "field", "points", "message", "fixable"} <= set(data["issues"][0])
    assert ProductAudit.from_dict(data) == audit
    issue = audit.issues[0]
    assert AuditIssue.from_dict(issue.to_dict()) == issue


def test_description_length_counts_visible_text():
    # markup and entities do not count: "&amp;" is one character
    html = f"<p><strong>{'a' * 70}</strong> &amp; {'b' * 64}</p><ul><li>cuffs</li></ul>"
    assert len(html_to_text(html)) == 70 + 3 + 64 + 1 + 5
    assert "DESCRIPTION_TOO_SHORT" in codes_of([product(description_html=html)])
