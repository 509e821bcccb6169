"""Mapping PIM items onto product records: each preset's packaging, locales and errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from structr_pipeline.core.connectors.pim import (
    ItemError,
    item_id,
    item_updated_at,
    parse_source,
    records_from_items,
)
from structr_pipeline.core.export import product_records
from structr_pipeline.core.fields import (
    ATTRIBUTES,
    CANONICAL_FIELDS,
    IMAGES,
    SOURCE_LINE,
    SOURCE_LINES,
    WARNINGS,
)


def akeneo(**settings):
    """An Akeneo source with ``settings``."""
    return parse_source(
        "ak", {"preset": "akeneo", "base_url": "https://pim.example.com", **settings}
    )


def value(data, locale=None, scope=None, **extra):
    """One Akeneo value."""
    return {"locale": locale, "scope": scope, "data": data, **extra}


def test_record_has_exactly_the_products_jsonl_shape():
    """Same keys and value types as ``export.product_records`` gives for a validated row."""
    row = {name: "" for name in CANONICAL_FIELDS}
    row.update(handle="h", title="T", sku="S", price=1.5, inventory_qty=2, weight_grams=3.0)
    for name in ("compare_at_price", "cost_per_item"):
        row[name] = None
    row.update(
        {IMAGES: "[]", ATTRIBUTES: "{}", WARNINGS: "[]", SOURCE_LINE: 2, SOURCE_LINES: "[2]"}
    )
    expected = next(product_records(pd.DataFrame([row])))

    item = {"identifier": "S", "values": {"name": [value("T")], "price": [value(1.5)]}}
    records, errors = records_from_items([item], akeneo())

    assert errors == []
    record = records[0]
    assert list(record) == list(expected)
    assert list(record["variants"][0]) == list(expected["variants"][0])
    for key in expected:
        if key != "variants":
            assert type(record[key]) is type(expected[key]), key
    variant = record["variants"][0]
    assert variant["price"] == 1.5 and isinstance(variant["price"], float)
    assert variant["compare_at_price"] is None and variant["inventory_qty"] is None
    assert variant["attributes"] == {}
    json.dumps(record)


def test_akeneo_locale_scope_currency_and_units():
    item = {
        "identifier": "Red Shoe/42",
        "family": "shoes",
        "categories": ["men", "sale"],
        "enabled": False,
        "updated": "2024-03-01T10:00:00+01:00",
        "values": {
            "name": [value("Chaussure", "fr_FR"), value("Shoe", "en_US")],
            "description": [
                value("<p>Print</p>", "en_US", "print"),
                value("<p>Web</p>", "en_US", "ecommerce"),
            ],
            "meta_title": [value("Generic title"), value("Titre", "fr_FR")],
            "price": [
                value([{"amount": "12.00", "currency": "USD"}, {"amount": "11", "currency": "EUR"}])
            ],
            "weight": [value({"amount": "250", "unit": "GRAM"})],
            "ean": [value("4006381333931")],
            "material": [value("leather", "en_US"), value("cuir", "fr_FR")],
            "picture": [
                value(
                    "a/b/shoe.jpg",
                    _links={"download": {"href": "https://pim.example.com/media/a/b/shoe.jpg"}},
                )
            ],
        },
    }
    records, errors = records_from_items(
        [item], akeneo(locale="en_US", scope="ecommerce", currency="EUR")
    )
    assert errors == []
    record = records[0]
    assert record["handle"] == "red-shoe-42"
    assert record["title"] == "Shoe"
    assert record["description_html"] == "<p>Web</p>"
    assert record["seo_title"] == "Generic title"  # no en_US value: the one without locale
    assert record["product_type"] == "shoes" and record["category"] == "men"
    assert record["status"] == "draft"
    variant = record["variants"][0]
    assert variant["sku"] == "Red Shoe/42"
    assert variant["price"] == 11.0
    assert variant["weight_grams"] == 250.0
    assert variant["barcode"] == "4006381333931"
    assert variant["image_src"] == "https://pim.example.com/media/a/b/shoe.jpg"
    assert record["images"] == [
        {"src": "https://pim.example.com/media/a/b/shoe.jpg", "position": 1, "alt": ""}
    ]
    assert record["attributes"] == {
        "external_id": "ak:Red Shoe/42",
        "external_updated_at": "2024-03-01T10:00:00+01:00",
        "material": "leather",
    }

    french, _ = records_from_items([item], akeneo(locale="fr_FR", currency="USD"))
    assert french[0]["title"] == "Chaussure"
    assert french[0]["seo_title"] == "Titre"
    assert french[0]["variants"][0]["price"] == 12.0

    _, errors = records_from_items([item], akeneo(currency="GBP"))
    assert errors == [
        ItemError(0, "Red Shoe/42", "price", "values.price: no price in GBP (found USD, EUR)")
    ]


ITALIC_X = {"nodeType": "text", "value": "x", "marks": [{"type": "italic"}]}


def test_contentful_locale_nesting_links_and_rich_text():
    source = parse_source(
        "cf",
        {
            "preset": "contentful",
            "base_url": "https://cdn.contentful.com",
            "path": "/spaces/s/environments/master/entries",
            "locale": "de-DE",
        },
    )
    asset = {
        "sys": {"id": "a1", "type": "Asset"},
        "fields": {
            "title": {"en-US": "Photo", "de-DE": "Foto"},
            "file": {"en-US": {"url": "//images.ctfassets.net/s/a1/p.jpg"}},
        },
    }
    nested = {
        "sys": {"id": "e1", "type": "Entry", "updatedAt": "2024-03-02T08:00:00.000Z"},
        "fields": {
            "title": {"en-US": "Lamp", "de-DE": "Lampe"},
            "sku": {"en-US": "L-1"},
            "price": {"en-US": "19,90"},
            "description": {
                "en-US": {
                    "nodeType": "document",
                    "content": [
                        {
                            "nodeType": "heading-2",
                            "content": [{"nodeType": "text", "value": "Fish & chips", "marks": []}],
                        },
                        {
                            "nodeType": "paragraph",
                            "content": [
                                {
                                    "nodeType": "hyperlink",
                                    "data": {"uri": "https://example.com"},
                                    "content": [
                                        {
                                            "nodeType": "text",
                                            "value": "x",
                                            "marks": [{"type": "italic"}],
                                        }
                                    ],
                                }
                            ],
                        },
                    ],
                }
            },
            "images": {
                "en-US": [
                    {"sys": {"type": "Link", "linkType": "Asset", "id": "a1"}},
                    {"sys": {"type": "Link", "linkType": "Asset", "id": "missing"}},
                ]
            },
            "specs": {"en-US": {"watts": 40}},
        },
        "_includes": {"Asset": {"a1": asset}},
    }
    flat = {
        "sys": {"id": "e2", "type": "Entry", "locale": "de-DE"},
        "fields": {"title": "Lampe flach", "sku": "L-2", "price": 5},
    }
    records, errors = records_from_items([nested, flat], source)
    assert errors == []
    first, second = records
    assert first["title"] == "Lampe"
    assert first["handle"] == "l-1"  # no slug: from the SKU
    assert first["variants"][0]["price"] == 19.9
    assert first["description_html"] == (
        '<h2>Fish &amp; chips</h2><p><a href="https://example.com"><em>x</em></a></p>'
    )
    assert first["images"] == [
        {"src": "https://images.ctfassets.net/s/a1/p.jpg", "position": 1, "alt": "Foto"}
    ]
    assert item_id(nested, source) == "e1"
    assert item_updated_at(nested, source) == "2024-03-02T08:00:00.000Z"
    assert second["title"] == "Lampe flach" and second["variants"][0]["price"] == 5.0


STRAPI_V4 = {
    "id": 7,
    "attributes": {
        "title": "Mug",
        "sku": "M-7",
        "price": "9.90",
        "stock": 4,
        "colour": "blue",
        "updatedAt": "2024-03-03T09:00:00.000Z",
        "images": {
            "data": [{"id": 1, "attributes": {"url": "/uploads/m.jpg", "alternativeText": "A mug"}}]
        },
        "seo": {"metaTitle": "Blue mug", "metaDescription": "A blue mug."},
    },
}
STRAPI_V5 = {
    "id": 7,
    "documentId": "d7",
    "title": "Mug",
    "sku": "M-7",
    "price": "9.90",
    "stock": 4,
    "colour": "blue",
    "updatedAt": "2024-03-03T09:00:00.000Z",
    "images": [{"id": 1, "url": "/uploads/m.jpg", "alternativeText": "A mug"}],
    "seo": {"metaTitle": "Blue mug", "metaDescription": "A blue mug."},
}


def test_strapi_v4_and_v5_map_alike():
    source = parse_source(
        "st",
        {
            "preset": "strapi",
            "base_url": "https://cms.example.com/strapi",
            "field_map": {"inventory_qty": "stock"},
        },
    )
    (v4,), errors4 = records_from_items([STRAPI_V4], source)
    (v5,), errors5 = records_from_items([STRAPI_V5], source)
    assert errors4 == errors5 == []
    assert item_id(STRAPI_V4, source) == "7" and item_id(STRAPI_V5, source) == "d7"
    assert item_updated_at(STRAPI_V4, source) == "2024-03-03T09:00:00.000Z"
    assert v4["attributes"].pop("external_id") == "st:7"
    assert v5["attributes"].pop("external_id") == "st:d7"
    assert v4 == v5
    assert v4["images"] == [
        {"src": "https://cms.example.com/uploads/m.jpg", "position": 1, "alt": "A mug"}
    ]
    assert v4["seo_title"] == "Blue mug"
    assert v4["variants"][0]["inventory_qty"] == 4
    assert v4["attributes"]["colour"] == "blue"


def test_strapi_blocks_rich_text():
    source = parse_source("st", {"preset": "strapi", "base_url": "https://cms.example.com"})
    blocks = [
        {"type": "heading", "level": 3, "children": [{"type": "text", "text": "Care"}]},
        {
            "type": "list",
            "format": "unordered",
            "children": [
                {"type": "list-item", "children": [{"type": "text", "text": "Wash", "bold": True}]}
            ],
        },
    ]
    (record,), _ = records_from_items([{**STRAPI_V5, "description": blocks}], source)
    assert record["description_html"] == "<h3>Care</h3><ul><li><strong>Wash</strong></li></ul>"


def test_generic_variants_images_and_overrides():
    source = parse_source(
        "gen",
        {
            "preset": "generic",
            "base_url": "https://api.example.com",
            "path": "/products",
            "id_path": "code",
            "weight_unit": "kg",
            "field_map": {
                "title": "name",
                "vendor": None,
                "price": "pricing.amount",
                "weight_grams": "shipping.weight",
                "images": {"path": "pictures"},
                "variants": {
                    "path": "skus",
                    "fields": {"sku": "code", "price": "amount", "option1_value": "size"},
                },
            },
        },
    )
    item = {
        "code": 42,
        "name": "Jacket",
        "vendor": "Ignored",
        "option1_name": "Size",
        "pricing": {"amount": 99},
        "shipping": {"weight": "1,2"},
        "pictures": ["https://cdn.example.com/1.jpg", "https://cdn.example.com/1.jpg", "/2.jpg"],
        "skus": [{"code": "J-S", "size": "S"}, {"code": "J-M", "size": "M", "amount": 105}],
        "season": "winter",
        "tags": ["outdoor", "rain"],
    }
    (record,), errors = records_from_items([item], source)
    assert errors == []
    assert record["title"] == "Jacket" and record["vendor"] == ""
    assert record["handle"] == "j-s"
    assert record["tags"] == "outdoor, rain"
    assert [v["sku"] for v in record["variants"]] == ["J-S", "J-M"]
    assert [v["option1_value"] for v in record["variants"]] == ["S", "M"]
    # A variant without its own price takes the product's; the weight is in kg.
    assert [v["price"] for v in record["variants"]] == [99.0, 105.0]
    assert record["variants"][0]["weight_grams"] == 1200.0
    assert record["variants"][0]["image_src"] == ""  # several variants: no variant image
    assert [i["src"] for i in record["images"]] == [
        "https://cdn.example.com/1.jpg",
        "https://api.example.com/2.jpg",
    ]
    # Unmapped plain values are kept, the unmapped vendor included.
    assert record["attributes"] == {
        "external_id": "gen:42",
        "vendor": "Ignored",
        "season": "winter",
    }


def test_malformed_items_become_item_errors_and_the_rest_still_map():
    source = parse_source(
        "gen", {"preset": "generic", "base_url": "https://api.example.com", "path": "/p"}
    )
    items = [
        {"id": "ok", "title": "Fine", "price": 10},
        ["not", "an", "object"],
        {"title": "no id"},
        {"id": "p1", "title": "Bad price", "price": "ten"},
        {"id": "p2", "title": {"en": "object"}, "inventory_qty": 1.5},
        {"id": "p3", "title": "Path through text", "variants": "S,M"},
        {"id": "p4", "title": "T", "images": [{"src": 7}], "weight_grams": True},
        {"id": "p5", "title": "T", "variants": [{"sku": {"a": 1}}, 3]},
    ]
    records, errors = records_from_items(items, source)

    assert [r["attributes"]["external_id"] for r in records] == ["gen:ok"]
    found = {(e.index, e.item_id, e.field): e.reason for e in errors}
    assert found[(1, "", "item")] == "expected an object, got an array"
    assert found[(2, "", "id")] == "no identifier at id"
    assert "'ten' is not a price" in found[(3, "p1", "price")]
    assert found[(4, "p2", "title")] == "title: expected text, got an object"
    assert "'1.5' is not a whole number" in found[(4, "p2", "inventory_qty")]
    assert found[(5, "p3", "variants")] == "variants: expected an array, got a string"
    assert found[(6, "p4", "images[0]")] == "src: expected a URL, got a number"
    assert found[(6, "p4", "weight_grams")] == "weight_grams: expected a weight, got a boolean"
    assert found[(7, "p5", "variants[0].sku")] == "sku: expected text, got an object"
    assert found[(7, "p5", "variants[1]")] == "expected an object, got a number"
    assert {e.index for e in errors} == {1, 2, 3, 4, 5, 6, 7}
    assert errors[0].describe() == "item #1, field 'item': expected an object, got an array"


def test_a_path_through_a_value_of_the_wrong_type_is_an_item_error():
    source = parse_source(
        "gen",
        {
            "preset": "generic",
            "base_url": "https://api.example.com",
            "path": "/p",
            "field_map": {"price": "pricing.amount"},
        },
    )
    _, errors = records_from_items([{"id": "x", "pricing": "12.00"}], source)
    assert errors == [
        ItemError(0, "x", "price", "'pricing' is a string, so 'pricing.amount' cannot be read")
    ]


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"values": "oops"}, "is a string, expected an object"),
        ({"values": {"name": {"data": "x"}}}, "is an object, expected an array"),
    ],
)
def test_akeneo_malformed_values(values, reason):
    _, errors = records_from_items([{"identifier": "A", **values}], akeneo())
    assert len(errors) == 1 and errors[0].item_id == "A"
    assert reason in errors[0].reason


def test_numbers_too_large_for_a_float_are_item_errors_not_a_failed_batch():
    source = parse_source(
        "gen", {"preset": "generic", "base_url": "https://api.example.com", "path": "/p"}
    )
    items = [
        {"id": "huge", "title": "Huge", "price": 10**400},
        {"id": "inf", "title": "Inf", "price": float("inf")},
        {"id": "ok", "title": "Fine", "price": 10},
    ]
    records, errors = records_from_items(items, source)
    assert [r["attributes"]["external_id"] for r in records] == ["gen:ok"]
    found = {(e.item_id, e.field): e.reason for e in errors}
    assert "is not a finite number" in found[("huge", "price")]
    assert "is not a finite number" in found[("inf", "price")]
