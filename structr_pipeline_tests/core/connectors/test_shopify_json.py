"""Shopify product JSON (REST Admin API product objects, as webhooks send them) as records.

The payloads are Shopify's documented examples: the ``products/create`` webhook example
("Example T-Shirt") and the product resource example ("IPod Nano - 8GB", two of its four
variants). A record must have exactly the shape ``export.product_records`` writes, which
is checked against the CSV pipeline run on the same product.
"""

from __future__ import annotations

import copy
import csv
import json
from pathlib import Path

import pytest

from structr_pipeline.core.connectors.registry import map_source_frame
from structr_pipeline.core.connectors.shopify_json import (
    shopify_external_id,
    shopify_product_record,
)
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.export import product_records
from structr_pipeline.core.fields import PRODUCT_FIELDS, VARIANT_FIELDS
from structr_pipeline.core.validation import validate_products

PRODUCTS_CREATE_EXAMPLE = {
    "admin_graphql_api_id": "gid://shopify/Product/788032119674292922",
    "body_html": "An example T-Shirt",
    "created_at": None,
    "handle": "example-t-shirt",
    "id": 788032119674292922,
    "product_type": "Shirts",
    "published_at": "2021-12-31T19:00:00-05:00",
    "template_suffix": None,
    "title": "Example T-Shirt",
    "updated_at": "2021-12-31T19:00:00-05:00",
    "vendor": "Acme",
    "status": "active",
    "published_scope": "web",
    "tags": "example, mens, t-shirt",
    "variants": [
        {
            "admin_graphql_api_id": "gid://shopify/ProductVariant/642667041472713922",
            "barcode": None,
            "compare_at_price": "24.99",
            "created_at": "2021-12-29T19:00:00-05:00",
            "id": 642667041472713922,
            "inventory_policy": "deny",
            "position": 1,
            "price": "19.99",
            "product_id": 788032119674292922,
            "sku": None,
            "taxable": True,
            "title": "Small",
            "updated_at": "2021-12-30T19:00:00-05:00",
            "option1": "Small",
            "option2": None,
            "option3": None,
            "image_id": None,
            "inventory_item_id": None,
            "inventory_quantity": 75,
            "old_inventory_quantity": 75,
        },
        {
            "admin_graphql_api_id": "gid://shopify/ProductVariant/757650484644203962",
            "barcode": None,
            "compare_at_price": "24.99",
            "created_at": "2021-12-29T19:00:00-05:00",
            "id": 757650484644203962,
            "inventory_policy": "deny",
            "position": 2,
            "price": "19.99",
            "product_id": 788032119674292922,
            "sku": None,
            "taxable": True,
            "title": "Medium",
            "updated_at": "2021-12-31T19:00:00-05:00",
            "option1": "Medium",
            "option2": None,
            "option3": None,
            "image_id": None,
            "inventory_item_id": None,
            "inventory_quantity": 50,
            "old_inventory_quantity": 50,
        },
    ],
    "options": [],
    "images": [],
    "image": None,
    "media": [],
    "has_variants_that_requires_components": False,
    "category": None,
}

IPOD_NANO_EXAMPLE = {
    "id": 632910392,
    "title": "IPod Nano - 8GB",
    "body_html": (
        "<p>It's the small iPod with one very big idea: Video. Now the world's most popular "
        "music player, available in 4GB and 8GB models, lets you enjoy TV shows, movies, video "
        "podcasts, and more.</p>"
    ),
    "vendor": "Apple",
    "product_type": "Cult Products",
    "created_at": "2021-01-11T18:12:26-05:00",
    "handle": "ipod-nano",
    "updated_at": "2021-01-11T18:12:26-05:00",
    "published_at": "2007-12-31T19:00:00-05:00",
    "template_suffix": None,
    "published_scope": "web",
    "tags": "Emotive, Flash Memory, MP3, Music",
    "admin_graphql_api_id": "gid://shopify/Product/632910392",
    "variants": [
        {
            "id": 808950810,
            "product_id": 632910392,
            "title": "Pink",
            "price": "199.00",
            "sku": "IPOD2008PINK",
            "position": 1,
            "inventory_policy": "continue",
            "compare_at_price": None,
            "fulfillment_service": "manual",
            "inventory_management": "shopify",
            "option1": "Pink",
            "option2": None,
            "option3": None,
            "taxable": True,
            "barcode": "1234_pink",
            "grams": 567,
            "image_id": 562641783,
            "weight": 1.25,
            "weight_unit": "lb",
            "inventory_item_id": 808950810,
            "inventory_quantity": 10,
            "old_inventory_quantity": 10,
            "requires_shipping": True,
        },
        {
            "id": 49148385,
            "product_id": 632910392,
            "title": "Red",
            "price": "199.00",
            "sku": "IPOD2008RED",
            "position": 2,
            "inventory_policy": "continue",
            "compare_at_price": None,
            "fulfillment_service": "manual",
            "inventory_management": "shopify",
            "option1": "Red",
            "option2": None,
            "option3": None,
            "taxable": True,
            "barcode": "1234_red",
            "grams": 567,
            "image_id": None,
            "weight": 1.25,
            "weight_unit": "lb",
            "inventory_item_id": 49148385,
            "inventory_quantity": 20,
            "old_inventory_quantity": 20,
            "requires_shipping": True,
        },
    ],
    "options": [
        {
            "id": 594680422,
            "product_id": 632910392,
            "name": "Color",
            "position": 1,
            "values": ["Pink", "Red", "Green", "Black"],
        }
    ],
    "images": [
        {
            "id": 850703190,
            "product_id": 632910392,
            "position": 1,
            "alt": None,
            "width": 123,
            "height": 456,
            "src": "https://cdn.shopify.com/s/files/1/0006/9093/3842/products/ipod-nano.png?v=1610406746",
            "variant_ids": [],
        },
        {
            "id": 562641783,
            "product_id": 632910392,
            "position": 2,
            "alt": None,
            "width": 123,
            "height": 456,
            "src": "https://cdn.shopify.com/s/files/1/0006/9093/3842/products/ipod-nano-2.png?v=1610406746",
            "variant_ids": [808950810],
        },
    ],
}

NANO_IMAGE_1 = IPOD_NANO_EXAMPLE["images"][0]["src"]
NANO_IMAGE_2 = IPOD_NANO_EXAMPLE["images"][1]["src"]


def payload(example: dict, **changes) -> dict:
    """A deep copy of an example with top-level fields changed."""
    copied = copy.deepcopy(example)
    copied.update(changes)
    return copied


def test_products_create_example() -> None:
    record = shopify_product_record(payload(PRODUCTS_CREATE_EXAMPLE))

    assert {k: record[k] for k in PRODUCT_FIELDS} == {
        "handle": "example-t-shirt",
        "title": "Example T-Shirt",
        "description_html": "An example T-Shirt",
        "vendor": "Acme",
        "product_type": "Shirts",
        "category": "",
        "tags": "example, mens, t-shirt",
        "status": "active",
        "option1_name": "",
        "option2_name": "",
        "option3_name": "",
        "seo_title": "",
        "seo_description": "",
    }
    assert record["attributes"] == {"external_id": "shopify:788032119674292922"}
    assert record["images"] == []
    small, medium = record["variants"]
    assert small == {
        "option1_value": "Small",
        "option2_value": "",
        "option3_value": "",
        "sku": "",
        "barcode": "",
        "price": 19.99,
        "compare_at_price": 24.99,
        "cost_per_item": None,
        "inventory_qty": 75,
        "weight_grams": None,
        "image_src": "",
        "image_alt": "",
        "attributes": {},
        "warnings": [],
        "source_line": None,
    }
    assert (medium["option1_value"], medium["inventory_qty"]) == ("Medium", 50)


def test_product_resource_example() -> None:
    record = shopify_product_record(payload(IPOD_NANO_EXAMPLE))

    assert record["handle"] == "ipod-nano"
    assert record["title"] == "IPod Nano - 8GB"
    assert record["description_html"].startswith("<p>It's the small iPod with one very big")
    assert record["tags"] == "Emotive, Flash Memory, MP3, Music"
    assert record["status"] == ""
    assert record["option1_name"] == "Color"
    assert record["images"] == [
        {"src": NANO_IMAGE_1, "position": 1, "alt": ""},
        {"src": NANO_IMAGE_2, "position": 2, "alt": ""},
    ]
    pink, red = record["variants"]
    assert pink["option1_value"] == "Pink"
    assert pink["sku"] == "IPOD2008PINK"
    assert pink["barcode"] == "1234_pink"
    assert pink["price"] == 199.0 and isinstance(pink["price"], float)
    assert pink["compare_at_price"] is None
    assert pink["inventory_qty"] == 10 and isinstance(pink["inventory_qty"], int)
    # grams wins over weight + unit when both are present.
    assert pink["weight_grams"] == 567.0 and isinstance(pink["weight_grams"], float)
    assert (pink["image_src"], pink["image_alt"]) == (NANO_IMAGE_2, "")
    assert (red["option1_value"], red["inventory_qty"], red["image_src"]) == ("Red", 20, "")
    assert record["attributes"] == {"external_id": "shopify:632910392"}


def test_record_is_json_serializable_like_products_jsonl() -> None:
    record = shopify_product_record(payload(IPOD_NANO_EXAMPLE))
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record
    assert list(record) == [
        *PRODUCT_FIELDS,
        "variants",
        "images",
        "attributes",
        "source_lines",
    ]
    for variant in record["variants"]:
        assert list(variant) == [*VARIANT_FIELDS, "attributes", "warnings", "source_line"]


@pytest.mark.parametrize(
    ("weight", "unit", "grams"),
    [
        (1.25, "lb", 566.990463),
        (0.2, "kg", 200.0),
        (8, "oz", 226.796185),
        (350, "g", 350.0),
        ("0.5", "KG", 500.0),
    ],
)
def test_weight_converted_to_grams_when_grams_absent(weight, unit, grams) -> None:
    product = payload(IPOD_NANO_EXAMPLE)
    for variant in product["variants"]:
        del variant["grams"]
        variant["weight"], variant["weight_unit"] = weight, unit
    record = shopify_product_record(product)
    assert [v["weight_grams"] for v in record["variants"]] == [grams, grams]


def test_variants_follow_their_position_and_options_theirs() -> None:
    product = payload(IPOD_NANO_EXAMPLE)
    product["variants"][0]["position"], product["variants"][1]["position"] = 2, 1
    product["variants"][0]["option2"] = "8GB"
    product["variants"][1]["option2"] = "8GB"
    product["options"] = [
        {"name": "Capacity", "position": 2, "values": ["8GB"]},
        {"name": "Color", "position": 1, "values": ["Pink", "Red"]},
    ]
    record = shopify_product_record(product)
    assert [v["option1_value"] for v in record["variants"]] == ["Red", "Pink"]
    assert (record["option1_name"], record["option2_name"]) == ("Color", "Capacity")
    assert record["variants"][0]["option2_value"] == "8GB"


def test_variant_image_found_through_the_images_variant_ids() -> None:
    product = payload(IPOD_NANO_EXAMPLE)
    product["variants"][0]["image_id"] = None
    product["images"][1]["alt"] = "Pink iPod nano"
    record = shopify_product_record(product)
    assert record["variants"][0]["image_src"] == NANO_IMAGE_2
    assert record["variants"][0]["image_alt"] == "Pink iPod nano"
    assert record["images"][1]["alt"] == "Pink iPod nano"


def test_cells_are_cleaned_like_the_csv_path() -> None:
    product = payload(
        PRODUCTS_CREATE_EXAMPLE,
        title="  Example\u00a0T-Shirt ",
        body_html="<p>Soft</p><script>alert(1)</script>",
        tags=["mens", "example", "Mens", " "],
        status="Active",
        category={"name": "Shirts", "full_name": "Apparel & Accessories > Clothing > Shirts"},
    )
    product["variants"][0]["barcode"] = "'030955168517"
    product["variants"][0]["price"] = "1,299.00"
    record = shopify_product_record(product)
    assert record["title"] == "Example T-Shirt"
    assert record["description_html"] == "<p>Soft</p>"
    assert record["tags"] == "mens, example"
    assert record["status"] == "active"
    assert record["category"] == "Apparel & Accessories > Clothing > Shirts"
    assert record["variants"][0]["barcode"] == "030955168517"
    assert record["variants"][0]["price"] == 1299.0


def test_handle_derived_from_the_title_when_missing() -> None:
    product = payload(PRODUCTS_CREATE_EXAMPLE, title="Crème Brûlée Mug (12 oz)")
    del product["handle"]
    assert shopify_product_record(product)["handle"] == "creme-brulee-mug-12-oz"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": None, "handle": None}, "title: missing or empty"),
        ({"title": "  "}, "title: missing or empty"),
        ({"title": "!!!", "handle": ""}, "handle: missing"),
        ({"id": None}, "id: missing"),
        ({"id": "gid://shopify/Product/1"}, "id: expected a non-negative whole number"),
        ({"variants": []}, "variants: missing or empty"),
        ({"variants": {"id": 1}}, "variants: expected a list"),
        ({"variants": ["Small"]}, "variants[0]: expected an object"),
        ({"title": {"en": "Shirt"}}, "title: expected text, got an object"),
        ({"tags": 5}, "tags: expected text"),
        ({"images": [{"id": 1, "src": ""}]}, "images[0].src: missing"),
        ({"options": [{"name": n} for n in "abcd"]}, "options: at most 3"),
    ],
)
def test_malformed_payloads_name_the_field(change, message) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        shopify_product_record(payload(PRODUCTS_CREATE_EXAMPLE, **change))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "abc", r"variants\[1\]\.price: 'abc' is not a price"),
        ("compare_at_price", True, r"variants\[1\]\.compare_at_price: expected a price"),
        ("inventory_quantity", 2.5, r"variants\[1\]\.inventory_quantity: '2.5' is not a whole"),
        ("weight_unit", "stone", r"variants\[1\]\.weight_unit: 'stone' is not one of"),
    ],
)
def test_malformed_variants_name_the_variant_and_field(field, value, message) -> None:
    product = payload(IPOD_NANO_EXAMPLE)
    variant = product["variants"][1]
    if field == "weight_unit":
        del variant["grams"]
    variant[field] = value
    with pytest.raises(ValueError, match=message):
        shopify_product_record(product)


def test_not_an_object() -> None:
    with pytest.raises(ValueError, match="payload: expected an object, got a list"):
        shopify_product_record([PRODUCTS_CREATE_EXAMPLE])


def test_external_id_of_a_delete_payload() -> None:
    assert shopify_external_id({"id": 788032119674292922}) == "shopify:788032119674292922"
    assert shopify_external_id({"id": "632910392"}) == "shopify:632910392"
    for bad in ({}, {"id": None}, {"id": -1}, {"id": True}, {"id": "abc"}):
        with pytest.raises(ValueError, match="id: "):
            shopify_external_id(bad)
    with pytest.raises(ValueError, match="payload: expected an object"):
        shopify_external_id("788032119674292922")


def _write_shopify_csv(path: Path, product: dict) -> Path:
    """The product as a Shopify product export (legacy header), one row per variant."""
    header = [
        "Handle",
        "Title",
        "Body (HTML)",
        "Vendor",
        "Type",
        "Tags",
        "Status",
        "Option1 Name",
        "Option1 Value",
        "Variant SKU",
        "Variant Grams",
        "Variant Inventory Qty",
        "Variant Price",
        "Variant Compare At Price",
        "Variant Barcode",
        "Image Src",
        "Image Position",
        "Image Alt Text",
        "Variant Image",
    ]
    images = {img["id"]: img for img in product["images"]}
    rows = []
    for i, variant in enumerate(product["variants"]):
        image = product["images"][i] if i < len(product["images"]) else None
        own = images.get(variant["image_id"])
        rows.append(
            {
                "Handle": product["handle"],
                "Title": product["title"] if i == 0 else "",
                "Body (HTML)": product["body_html"] if i == 0 else "",
                "Vendor": product["vendor"] if i == 0 else "",
                "Type": product["product_type"] if i == 0 else "",
                "Tags": product["tags"] if i == 0 else "",
                "Status": product["status"] if i == 0 else "",
                "Option1 Name": product["options"][0]["name"] if i == 0 else "",
                "Option1 Value": variant["option1"],
                "Variant SKU": variant["sku"],
                "Variant Grams": str(variant["grams"]),
                "Variant Inventory Qty": str(variant["inventory_quantity"]),
                "Variant Price": variant["price"],
                "Variant Compare At Price": variant["compare_at_price"] or "",
                "Variant Barcode": variant["barcode"],
                "Image Src": image["src"] if image else "",
                "Image Position": str(image["position"]) if image else "",
                "Image Alt Text": (image["alt"] or "") if image else "",
                "Variant Image": own["src"] if own else "",
            }
        )
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_same_record_as_the_csv_pipeline_gives(tmp_path) -> None:
    product = payload(IPOD_NANO_EXAMPLE, status="active")
    for variant, gtin in zip(product["variants"], ("4006381333931", "4006381333948"), strict=True):
        variant["barcode"] = gtin
    product["variants"][1]["compare_at_price"] = "249.00"
    product["images"][0]["alt"] = "iPod nano, front"

    path = _write_shopify_csv(tmp_path / "ipod.csv", product)
    table = read_table(path)
    mapping = map_source_frame(table.frame, path.name)
    result = validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)
    assert len(result.rejected) == 0
    (from_csv,) = product_records(result.valid)
    from_json = shopify_product_record(product)

    def comparable(record: dict) -> dict:
        out = {k: v for k, v in record.items() if k not in ("attributes", "source_lines")}
        out["variants"] = [
            {k: v for k, v in variant.items() if k not in ("attributes", "warnings", "source_line")}
            for variant in record["variants"]
        ]
        return out

    assert comparable(from_json) == comparable(from_csv)
    assert list(from_json) == list(from_csv)
    assert [list(v) for v in from_json["variants"]] == [list(v) for v in from_csv["variants"]]
