"""Product copy output model, prompt templates and messages, and the unsupported-facts guard."""

from __future__ import annotations

import dataclasses
import json

import pytest

from structr_pipeline.core.generation.copy import CopyValidationError, ProductCopy, parse_copy
from structr_pipeline.core.generation.guard import check_facts, format_findings
from structr_pipeline.core.generation.prompts import (
    BrandVoice,
    build_messages,
    cache_key,
    load_prompt,
    product_facts,
)

DESCRIPTION = "<p>A soft everyday tee.</p><ul><li>Crew neck</li><li>Short sleeves</li></ul>"


def answer(**changes: object) -> dict:
    """A valid answer for a product with two images, with some keys changed."""
    data = {
        "seo_title": "Classic Tee | Acme",
        "title": "Classic Tee",
        "description_html": DESCRIPTION,
        "bullets": ["Soft feel", "Crew neck", "Short sleeves"],
        "meta_description": "A soft tee with a crew neck.",
        "image_alt": ["Front of the tee", "Back of the tee"],
    }
    data.update(changes)
    return data


def make_copy(**changes: object) -> ProductCopy:
    data = answer(**changes)
    return parse_copy(json.dumps(data), len(data["image_alt"]))


PRODUCT = {
    "title": "Classic Tee",
    "vendor": "Acme",
    "product_type": "T-Shirt",
    "category": "Apparel > Tops",
    "tags": "summer, basics, Summer",
    "description_html": "<p>Made of <b>cotton</b> &amp; love.</p><script>alert(1)</script>",
    "options": [{"name": "Size", "values": ["S", "M"]}],
    "price": 19.5,
    "currency": "EUR",
    "images": [{"src": "https://cdn.example/tee-500.jpg", "alt": "Front", "width": 500}],
    "cost": 4.2,
    "supplier_email": "buyer@example.com",
}


# --- ProductCopy and parse_copy ---------------------------------------------------------


def test_a_valid_answer_parses() -> None:
    copy = parse_copy(json.dumps(answer()), 2)
    assert copy.title == "Classic Tee"
    assert copy.description_html == DESCRIPTION
    assert len(copy.bullets) == 3


def test_every_problem_is_listed_at_once_field_by_field() -> None:
    data = answer(
        seo_title="S" * 61,
        title="T" * 71,
        description_html="<p>Only a paragraph.</p>",
        bullets=["ok", "B" * 201, "ok"],
        meta_description="M" * 161,
    )
    with pytest.raises(CopyValidationError) as caught:
        parse_copy(json.dumps(data), 2)
    problems = caught.value.problems
    assert len(problems) == 5
    assert problems[0] == "seo_title: is 61 characters; it must be at most 60 characters"
    assert problems[1].startswith("title: is 71 characters; it must be at most 70")
    assert problems[2].startswith("description_html: must contain at least one <p> paragraph")
    assert "missing: a <ul> list with <li> items" in problems[2]
    assert problems[3].startswith("bullets[1]: is 201 characters; it must be at most 200")
    assert problems[4].startswith("meta_description: is 161 characters")
    assert str(caught.value).splitlines() == [f"- {p}" for p in problems]


@pytest.mark.parametrize(
    ("bullets", "expected"),
    [
        (["a", "b"], "bullets: has 2 items; it needs at least 3"),
        (["a"] * 7, "bullets: has 7 items; it allows at most 6"),
        (["a", "", "c"], "bullets[1]: must not be empty"),
    ],
)
def test_bullet_count_and_emptiness(bullets: list[str], expected: str) -> None:
    with pytest.raises(CopyValidationError) as caught:
        parse_copy(json.dumps(answer(bullets=bullets)), 2)
    assert caught.value.problems == [expected]


def test_missing_and_extra_keys_are_problems() -> None:
    data = answer(price="12")
    del data["title"]
    with pytest.raises(CopyValidationError) as caught:
        parse_copy(json.dumps(data), 2)
    assert caught.value.problems[0] == "title: is missing"
    assert caught.value.problems[1].startswith("price: is not a ProductCopy key")


def test_a_fenced_json_answer_parses() -> None:
    text = "```json\n" + json.dumps(answer(), indent=2) + "\n```"
    assert parse_copy(text, 2).title == "Classic Tee"
    assert parse_copy("Here you go:\n" + json.dumps(answer()), 2).title == "Classic Tee"


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '```json\n{"title": \n```'])
def test_text_that_is_not_one_json_object_is_rejected(text: str) -> None:
    with pytest.raises(CopyValidationError) as caught:
        parse_copy(text, 0)
    assert caught.value.problems[0].startswith("answer: ")


def test_a_script_in_the_description_is_removed() -> None:
    html = DESCRIPTION + '<script>alert("x")</script><p onclick="steal()">More</p>'
    copy = parse_copy(json.dumps(answer(description_html=html)), 2)
    assert "<script" not in copy.description_html
    assert "alert" not in copy.description_html
    assert "onclick" not in copy.description_html
    assert copy.description_html.startswith(DESCRIPTION)


def test_image_alt_must_match_the_image_count() -> None:
    with pytest.raises(CopyValidationError) as caught:
        parse_copy(json.dumps(answer()), 3)
    assert caught.value.problems == [
        "image_alt: has 2 entries but the product has 3 images; give exactly one alt text "
        "per image, in image order"
    ]
    assert parse_copy(json.dumps(answer(image_alt=[])), 0).image_alt == []


def test_whitespace_is_trimmed_before_lengths_are_counted() -> None:
    copy = parse_copy(json.dumps(answer(title="  " + "T" * 70 + "\n")), 2)
    assert copy.title == "T" * 70


# --- Prompts, facts and messages --------------------------------------------------------


def test_the_prompt_file_loads_with_a_version() -> None:
    template = load_prompt()
    assert template.name == "product_copy"
    assert isinstance(template.prompt_version, str) and template.prompt_version
    assert "{facts_json}" in template.user
    for key in ("seo_title", "description_html", "bullets", "meta_description", "image_alt"):
        assert key in template.system
    assert "brand_voice" in template.system
    assert "{feedback}" in template.feedback


def test_an_unknown_or_unsafe_prompt_name_is_refused() -> None:
    with pytest.raises(FileNotFoundError):
        load_prompt("no_such_prompt")
    with pytest.raises(ValueError):
        load_prompt("../secrets")


def test_product_facts_strips_html_and_keeps_only_the_listed_keys() -> None:
    facts = product_facts(PRODUCT)
    assert set(facts) == {
        "title", "vendor", "product_type", "category", "tags", "description_text",
        "options", "price", "currency", "images",
    }  # fmt: skip
    assert facts["description_text"] == "Made of cotton & love."
    assert facts["tags"] == ["summer", "basics"]
    assert facts["images"] == [{"src": "https://cdn.example/tee-500.jpg", "alt": "Front"}]
    assert facts["options"] == [{"name": "Size", "values": ["S", "M"]}]
    assert facts["price"] == 19.5
    assert "buyer@example.com" not in json.dumps(facts)


def test_product_facts_truncates_long_descriptions_and_fills_missing_keys() -> None:
    facts = product_facts({"description_html": "<p>" + "word " * 1000 + "</p>"})
    assert len(facts["description_text"]) <= 2000
    assert facts["description_text"].endswith("…")
    assert facts["price"] is None and facts["images"] == [] and facts["title"] == ""


def test_build_messages_ends_with_exactly_the_facts_json() -> None:
    template = load_prompt()
    facts = product_facts(PRODUCT)
    voice = BrandVoice(tone="playful", avoid=("cheap",))
    messages = build_messages(template, facts, voice)
    expected = json.dumps(
        {**facts, "brand_voice": {"tone": "playful", "avoid": ["cheap"]}},
        sort_keys=True,
        ensure_ascii=False,
    )
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == template.system
    assert messages[-1]["content"] == expected


def test_feedback_goes_just_before_the_facts() -> None:
    template = load_prompt()
    facts = product_facts(PRODUCT)
    feedback = "- title: is 71 characters; it must be at most 70 characters"
    messages = build_messages(template, facts, BrandVoice(), feedback)
    assert [m["role"] for m in messages] == ["system", "user", "user"]
    assert feedback in messages[1]["content"]
    assert messages[-1] == build_messages(template, facts, BrandVoice())[-1]


def test_cache_key_changes_with_what_decides_the_answer_only() -> None:
    template = load_prompt()
    facts = product_facts(PRODUCT)
    voice = BrandVoice()
    key = cache_key(template, facts, voice, "model-a")
    assert len(key) == 64 and int(key, 16) >= 0
    assert cache_key(template, dict(reversed(facts.items())), voice, "model-a") == key
    assert cache_key(load_prompt(), product_facts(PRODUCT), BrandVoice(), "model-a") == key
    newer = dataclasses.replace(template, prompt_version=template.prompt_version + ".1")
    others = {
        cache_key(newer, facts, voice, "model-a"),
        cache_key(template, facts, voice, "model-b"),
        cache_key(template, {**facts, "price": 20.0}, voice, "model-a"),
        cache_key(template, facts, BrandVoice(tone="bold"), "model-a"),
        cache_key(template, facts, BrandVoice(avoid=("cheap",)), "model-a"),
    }
    assert len(others) == 5 and key not in others


# --- Guard ------------------------------------------------------------------------------


def test_the_guard_flags_what_the_facts_do_not_say() -> None:
    facts = product_facts({"title": "Tee", "description_html": "<p>Soft cotton tee.</p>"})
    copy = make_copy(bullets=["100% organic cotton, waterproof, 5-year warranty", "b", "c"])
    findings = check_facts(copy, facts)
    flagged = [(f.field, f.kind, f.text) for f in findings]
    assert flagged == [
        ("bullets", "number", "100%"),
        ("bullets", "certification", "organic"),
        ("bullets", "claim", "waterproof"),
        ("bullets", "number", "5-year"),
    ]
    assert "cotton" not in {f.text.lower() for f in findings}
    assert findings[0].message.startswith("Bullet 1 states '100%'")
    assert format_findings(findings).splitlines()[0] == f"- bullets: {findings[0].message}"


def test_numbers_from_the_facts_pass() -> None:
    facts = product_facts(
        {
            "title": "Kettle 1.7 l",
            "description_html": "<p>100% stainless steel, weighs 1.2kg, 2 year warranty.</p>",
            "price": 1299.0,
            "images": [{"src": "https://cdn.example/kettle-30.jpg", "alt": ""}],
        }
    )
    copy = make_copy(
        title="Kettle, 1.7 litres",
        bullets=["100 % stainless steel", "Only 1.2 kg", "2-year warranty", "Yours for 1,299.00"],
        meta_description="Boils 30 cups",
    )
    findings = check_facts(copy, facts)
    # 30 appears only in an image URL, which is no fact.
    assert [(f.field, f.kind, f.text) for f in findings] == [("meta_description", "number", "30")]


def test_a_number_in_another_unit_is_flagged_as_a_unit() -> None:
    facts = product_facts({"description_html": "<p>Weighs 5 kg.</p>"})
    findings = check_facts(make_copy(meta_description="Weighs 5 lb, or 5 in all"), facts)
    assert [(f.kind, f.text) for f in findings] == [("unit", "5 lb")]
    assert "5 kg" in findings[0].message


def test_supported_terms_pass_case_and_hyphens_aside() -> None:
    facts = product_facts(
        {
            "title": "Organic Cotton Rain Jacket",
            "tags": ["Waterproof", "OEKO-TEX", "eco friendly"],
            "description_html": "<p>Made of stainless steel.</p>",
        }
    )
    copy = make_copy(
        bullets=["Waterproof organic cotton", "Oeko Tex certified", "Eco-friendly", "Steel zip"]
    )
    assert check_facts(copy, facts) == []


def test_longer_terms_and_claims_win_over_their_parts() -> None:
    facts = product_facts({"description_html": "<p>Steel blade, 1 per pack.</p>"})
    copy = make_copy(
        bullets=["Stainless steel blade", "The #1 knife", "Clinically proven sharpness"],
        meta_description="Within reach. The ce of it.",
    )
    flagged = [(f.kind, f.text) for f in check_facts(copy, facts)]
    assert flagged == [
        ("material", "Stainless steel"),
        ("claim", "#1"),
        ("claim", "Clinically proven"),
    ]


def test_the_description_is_checked_as_text() -> None:
    facts = product_facts({"description_html": "<p>Cotton.</p>"})
    copy = make_copy(description_html="<p>Pure <b>merino</b>.</p><ul><li>Vegan</li></ul>")
    flagged = [(f.field, f.kind, f.text) for f in check_facts(copy, facts)]
    assert flagged == [
        ("description_html", "material", "merino"),
        ("description_html", "certification", "Vegan"),
    ]
