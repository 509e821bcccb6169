"""The generic connector: a mapping (proposed or from a profile) applied to any CSV."""

from __future__ import annotations

import json

from structr_pipeline.core.connectors.registry import map_table
from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.mapping.profiles import MappingProfile, ProfileOptions
from structr_pipeline.core.validation import validate_products


def run(path, profile=None):
    table = read_table(path)
    mapping = map_table(table, profile)
    return mapping, validate_products(mapping.frame, table.frame, mapping.field_sources, path.name)


def test_profile_options_decimal_comma_weight_unit_and_default_vendor(tmp_path) -> None:
    path = tmp_path / "supplier.csv"
    path.write_text(
        "Ref;Name;Amount;Mass;Maker\nR-1;Lamp;1.299,50;2,5;\nR-2;Shade;12,00;0,5;Lux\n",
        encoding="utf-8",
    )
    profile = MappingProfile(
        "lux",
        {
            "Ref": "sku",
            "Name": "title",
            "Amount": "price",
            "Mass": "weight_grams",
            "Maker": "vendor",
        },
        ProfileOptions(decimal_comma=True, weight_unit="kg", default_vendor="House brand"),
    )
    mapping, result = run(path, profile)
    assert mapping.source_format == "profile"
    assert result.valid["price"].tolist() == [1299.5, 12.0]
    assert result.valid["weight_grams"].tolist() == [2500.0, 500.0]
    assert result.valid["vendor"].tolist() == ["House brand", "Lux"]
    assert result.valid["handle"].tolist() == ["r-1", "r-2"]
    assert mapping.field_sources["handle"] == "Ref"


def test_images_options_and_extra_columns(tmp_path) -> None:
    path = tmp_path / "feed.csv"
    path.write_text(
        "SKU,Name,Price,Color,Images,URL Key,Care\n"
        "T-1,Tee,25.00,Navy,"
        '"https://x.example/a.jpg, https://x.example/b.jpg",Navy Tee!,Wash cold\n',
        encoding="utf-8",
    )
    _, result = run(path)
    (row,) = result.valid.to_dict("records")
    assert (row["option1_name"], row["option1_value"]) == ("Color", "Navy")
    assert row["image_src"] == "https://x.example/a.jpg"
    assert [i["src"] for i in json.loads(row["images"])] == [
        "https://x.example/a.jpg",
        "https://x.example/b.jpg",
    ]
    assert row["handle"] == "navy-tee"
    assert json.loads(row["attributes"]) == {"Care": "Wash cold"}


def test_a_shopify_export_with_a_profile_is_read_through_the_profile(sample_csv) -> None:
    profile = MappingProfile(
        "flat", {"Variant SKU": "sku", "Title": "title", "Variant Price": "price"}
    )
    mapping, _ = run(sample_csv, profile)
    assert mapping.source_format == "profile"
    assert mapping.proposal.columns["Variant SKU"].confidence == 1.0
