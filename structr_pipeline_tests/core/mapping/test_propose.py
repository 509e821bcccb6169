"""Unit tests for the automatic column mapping, on small frames built here."""

from __future__ import annotations

import pandas as pd
import pytest

from structr_pipeline.core.fields import CANONICAL_FIELDS
from structr_pipeline.core.mapping import (
    CANONICAL_TARGETS,
    ColumnProposal,
    MappingProposal,
    propose_mapping,
    with_overrides,
)
from structr_pipeline.core.normalize import gtin_check_digit

ROWS = 40
BRANDS = ("Acme", "Globex", "Initech")


def _ean(i: int) -> str:
    body = f"400638{i:06d}"
    return body + str(gtin_check_digit(body))


# Typical cell values for a kind of column, row i.
KINDS = {
    "sku": lambda i: f"AB-{1000 + i}",
    "title": lambda i: f"Merino sweater model {i} navy",
    "description": lambda i: f"<p>A warm sweater, number {i}.</p><ul><li>Merino wool</li></ul>",
    "plain_description": lambda i: (
        f"A warm and soft sweater made of merino wool, number {i}. "
        "Machine washable at thirty degrees and made to last for years."
    ),
    "price": lambda i: f"{19 + i}.90",
    "price_comma": lambda i: f"{19 + i},90",
    "compare": lambda i: f"{29 + i}.90",
    "compare_comma": lambda i: f"{29 + i},90",
    "cost": lambda i: f"{9 + i}.50",
    "cost_comma": lambda i: f"{9 + i},50",
    "qty": lambda i: str((i * 7) % 23),
    "weight": lambda i: f"0.{300 + i}",
    "weight_comma": lambda i: f"0,{300 + i}",
    "weight_kg_values": lambda i: f"{1 + i % 4}.5 kg",
    "ean": _ean,
    "brand": lambda i: BRANDS[i % 3],
    "image": lambda i: f"https://cdn.example.com/img/p{i}.jpg",
    "slug": lambda i: f"merino-sweater-{i}",
    "category": lambda i: ("Apparel > Tops", "Apparel > Bottoms")[i % 2],
    "color": lambda i: ("Navy", "Red", "Grey")[i % 3],
    "size": lambda i: ("S", "M", "L", "XL")[i % 4],
    "status": lambda i: ("active", "draft")[i % 2],
    "id": lambda i: str(100 + i),
    "words": lambda i: ("cheap", "expensive", "on request")[i % 3],
}


def _frame(columns: dict[str, str], rows: int = ROWS) -> pd.DataFrame:
    """A frame of str cells: each column filled with values of the named kind."""
    return pd.DataFrame(
        {name: [KINDS[kind](i) for i in range(rows)] for name, kind in columns.items()}
    )


def _fields(columns: dict[str, str]) -> dict[str, str | None]:
    frame = _frame(columns)
    proposal = propose_mapping(list(frame.columns), frame)
    return {column: p.field for column, p in proposal.columns.items()}


def _assert_valid(proposal: MappingProposal, header: list[str]) -> None:
    assert list(proposal.columns) == header
    for column, p in proposal.columns.items():
        assert p.column == column
        assert p.field is None or p.field in CANONICAL_TARGETS
        assert 0.0 <= p.confidence <= 1.0
        assert p.confidence == round(p.confidence, 3)
        assert p.evidence and all(isinstance(e, str) and e for e in p.evidence)


def test_canonical_targets_are_the_canonical_fields():
    assert CANONICAL_TARGETS == CANONICAL_FIELDS


def test_german_supplier_sheet():
    frame = _frame(
        {
            "Artikelnummer": "sku",
            "Bezeichnung": "title",
            "Preis": "price_comma",
            "UVP": "compare_comma",
            "EK": "cost_comma",
            "Bestand": "qty",
            "Gewicht (kg)": "weight_comma",
            "EAN": "ean",
            "Hersteller": "brand",
        }
    )
    proposal = propose_mapping(list(frame.columns), frame)
    _assert_valid(proposal, list(frame.columns))
    assert proposal.field_sources() == {
        "sku": "Artikelnummer",
        "title": "Bezeichnung",
        "price": "Preis",
        "compare_at_price": "UVP",
        "cost_per_item": "EK",
        "inventory_qty": "Bestand",
        "weight_grams": "Gewicht (kg)",
        "barcode": "EAN",
        "vendor": "Hersteller",
    }
    weight = proposal.columns["Gewicht (kg)"]
    assert weight.unit_factor == 1000.0
    assert any("kg" in e for e in weight.evidence)
    # Exact synonyms with agreeing values are near-certain.
    assert all(p.confidence >= 0.9 for p in proposal.columns.values())


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        pytest.param(
            {
                "Référence": "sku",
                "Désignation": "title",
                "Prix de vente": "price_comma",
                "Prix barré": "compare_comma",
                "Prix d'achat": "cost_comma",
                "Marque": "brand",
                "Quantité": "qty",
                "Poids (g)": "qty",
                "Code EAN": "ean",
                "Couleur": "color",
                "Taille": "size",
                "Catégorie": "category",
                "Image": "image",
            },
            {
                "Référence": "sku",
                "Désignation": "title",
                "Prix de vente": "price",
                "Prix barré": "compare_at_price",
                "Prix d'achat": "cost_per_item",
                "Marque": "vendor",
                "Quantité": "inventory_qty",
                "Poids (g)": "weight_grams",
                "Code EAN": "barcode",
                "Couleur": "option1_value",
                "Taille": "option2_value",
                "Catégorie": "category",
                "Image": "image_src",
            },
            id="french",
        ),
        pytest.param(
            {
                "Referencia": "sku",
                "Nombre": "title",
                "Descripción": "plain_description",
                "Precio": "price_comma",
                "Precio de coste": "cost_comma",
                "Fabricante": "brand",
                "Existencias": "qty",
                "Peso": "weight",
                "Imagen": "image",
                "Categoría": "category",
                "Talla": "size",
                "Color": "color",
            },
            {
                "Referencia": "sku",
                "Nombre": "title",
                "Descripción": "description_html",
                "Precio": "price",
                "Precio de coste": "cost_per_item",
                "Fabricante": "vendor",
                "Existencias": "inventory_qty",
                "Peso": "weight_grams",
                "Imagen": "image_src",
                "Categoría": "category",
                "Talla": "option1_value",
                "Color": "option2_value",
            },
            id="spanish",
        ),
        pytest.param(
            {
                "Codice articolo": "sku",
                "Nome": "title",
                "Descrizione": "description",
                "Prezzo": "price_comma",
                "Prezzo di listino": "compare_comma",
                "Costo": "cost_comma",
                "Produttore": "brand",
                "Giacenza": "qty",
                "Immagine": "image",
                "Colore": "color",
                "Taglia": "size",
            },
            {
                "Codice articolo": "sku",
                "Nome": "title",
                "Descrizione": "description_html",
                "Prezzo": "price",
                "Prezzo di listino": "compare_at_price",
                "Costo": "cost_per_item",
                "Produttore": "vendor",
                "Giacenza": "inventory_qty",
                "Immagine": "image_src",
                "Colore": "option1_value",
                "Taglia": "option2_value",
            },
            id="italian",
        ),
        pytest.param(
            {
                "Artikelnummer": "sku",
                "Naam": "title",
                "Beschrijving": "plain_description",
                "Verkoopprijs": "price",
                "Adviesprijs": "compare",
                "Inkoopprijs": "cost",
                "Merk": "brand",
                "Voorraad": "qty",
                "Gewicht": "weight",
                "Afbeelding": "image",
                "Kleur": "color",
                "Maat": "size",
            },
            {
                "Artikelnummer": "sku",
                "Naam": "title",
                "Beschrijving": "description_html",
                "Verkoopprijs": "price",
                "Adviesprijs": "compare_at_price",
                "Inkoopprijs": "cost_per_item",
                "Merk": "vendor",
                "Voorraad": "inventory_qty",
                "Gewicht": "weight_grams",
                "Afbeelding": "image_src",
                "Kleur": "option1_value",
                "Maat": "option2_value",
            },
            id="dutch",
        ),
        pytest.param(
            {
                "Product Name": "title",
                "Product Code/SKU": "sku",
                "Brand Name": "brand",
                "Product Description": "description",
                "Price": "price",
                "Cost Price": "cost",
                "Retail Price": "compare",
                "Current Stock Level": "qty",
                "Product Weight": "weight",
                "Product Image File - 1": "image",
                "Product UPC/EAN": "ean",
                "Category": "category",
            },
            {
                "Product Name": "title",
                "Product Code/SKU": "sku",
                "Brand Name": "vendor",
                "Product Description": "description_html",
                "Price": "price",
                "Cost Price": "cost_per_item",
                "Retail Price": "compare_at_price",
                "Current Stock Level": "inventory_qty",
                "Product Weight": "weight_grams",
                "Product Image File - 1": "image_src",
                "Product UPC/EAN": "barcode",
                "Category": "category",
            },
            id="bigcommerce",
        ),
        pytest.param(
            {
                "item_sku": "sku",
                "item_name": "title",
                "brand_name": "brand",
                "product_description": "plain_description",
                "standard_price": "price",
                "list_price": "compare",
                "quantity": "qty",
                "main_image_url": "image",
                "external_product_id": "ean",
                "bullet_point1": "title",
            },
            {
                "item_sku": "sku",
                "item_name": "title",
                "brand_name": "vendor",
                "product_description": "description_html",
                "standard_price": "price",
                "list_price": "compare_at_price",
                "quantity": "inventory_qty",
                "main_image_url": "image_src",
                "external_product_id": "barcode",
                "bullet_point1": None,
            },
            id="amazon-flat-file",
        ),
        pytest.param(
            {
                "id": "sku",
                "title": "title",
                "description": "plain_description",
                "link": "image",
                "image_link": "image",
                "price": "compare",
                "sale_price": "price",
                "brand": "brand",
                "gtin": "ean",
                "mpn": "sku",
                "google_product_category": "category",
                "availability": "status",
                "shipping_weight": "weight_kg_values",
            },
            {
                "id": "sku",
                "title": "title",
                "description": "description_html",
                "link": None,
                "image_link": "image_src",
                "price": "price",
                "sale_price": None,
                "brand": "vendor",
                "gtin": "barcode",
                "mpn": None,
                "google_product_category": "category",
                "availability": None,
                "shipping_weight": "weight_grams",
            },
            id="google-merchant",
        ),
    ],
)
def test_platform_and_language_headers(columns, expected):
    assert _fields(columns) == expected


def test_unit_factors_from_header_and_values():
    frame = _frame({"weight_lbs": "weight", "Name": "title"})
    assert propose_mapping(list(frame.columns), frame).columns["weight_lbs"].unit_factor == (
        pytest.approx(453.59237)
    )
    frame = _frame({"Gewicht in kg": "weight", "Name": "title"})
    assert propose_mapping(list(frame.columns), frame).columns["Gewicht in kg"].unit_factor == 1000
    frame = _frame({"Weight (oz)": "weight"})
    assert propose_mapping(list(frame.columns), frame).columns["Weight (oz)"].unit_factor == (
        pytest.approx(28.349523125)
    )
    frame = _frame({"shipping_weight": "weight_kg_values"})
    weight = propose_mapping(list(frame.columns), frame).columns["shipping_weight"]
    assert (weight.field, weight.unit_factor) == ("weight_grams", 1000.0)


def test_weight_without_unit_is_read_as_grams():
    frame = _frame({"weight": "weight", "sku": "sku"})
    weight = propose_mapping(list(frame.columns), frame).columns["weight"]
    assert weight.field == "weight_grams"
    assert weight.unit_factor is None
    assert "no unit given; read as grams" in weight.evidence


def test_meaningless_headers_are_mapped_from_values():
    kinds = ["ean", "price", "image", "description", "slug", "qty", "brand"]
    frame = _frame({f"col_{k}": kind for k, kind in enumerate(kinds, start=1)})
    proposal = propose_mapping(list(frame.columns), frame)
    _assert_valid(proposal, list(frame.columns))
    assert {c: p.field for c, p in proposal.columns.items()} == {
        "col_1": "barcode",
        "col_2": "price",
        "col_3": "image_src",
        "col_4": "description_html",
        "col_5": "handle",
        "col_6": "inventory_qty",
        "col_7": "vendor",
    }
    for p in proposal.columns.values():
        # Values alone are good evidence, not certainty.
        assert 0.5 <= p.confidence <= 0.75
        assert any("the values decide" in e for e in p.evidence)


def test_only_one_column_gets_a_field():
    frame = _frame({"Name": "title", "Product Name": "title", "SKU": "sku"})
    proposal = propose_mapping(list(frame.columns), frame)
    titles = [c for c, p in proposal.columns.items() if p.field == "title"]
    assert titles == ["Name"]
    assert proposal.columns["Product Name"].field is None
    assert any("title went to 'Name'" in e for e in proposal.columns["Product Name"].evidence)


def test_price_family_from_values_alone():
    frame = pd.DataFrame(
        {
            "col_a": [f"{20 + i}.00" for i in range(ROWS)],
            "col_b": [f"{15 + i - i % 3}.50" for i in range(ROWS)],
        }
    )
    proposal = propose_mapping(list(frame.columns), frame)
    assert proposal.columns["col_b"].field == "price"
    assert proposal.columns["col_a"].field == "compare_at_price"
    assert any("≥ the price column 'col_b'" in e for e in proposal.columns["col_a"].evidence)


def test_price_family_cost_below_price_with_meaningless_headers():
    frame = _frame({"c1": "cost", "c2": "price", "c3": "compare", "c4": "title"})
    fields = {c: p.field for c, p in propose_mapping(list(frame.columns), frame).columns.items()}
    assert fields == {
        "c1": "cost_per_item",
        "c2": "price",
        "c3": "compare_at_price",
        "c4": "title",
    }


def test_woocommerce_sale_price_is_kept_as_attribute_beside_regular_price():
    frame = _frame({"Sale price": "cost", "Regular price": "price", "Name": "title"})
    proposal = propose_mapping(list(frame.columns), frame)
    assert proposal.columns["Regular price"].field == "price"
    sale = proposal.columns["Sale price"]
    assert sale.field is None
    assert any("'Regular price' is the price" in e for e in sale.evidence)


def test_sale_price_is_the_price_when_it_is_the_only_one():
    frame = _frame({"Sale price": "price", "Name": "title"})
    sale = propose_mapping(list(frame.columns), frame).columns["Sale price"]
    assert sale.field == "price"
    assert any("only price column" in e for e in sale.evidence)


def test_magento_price_columns():
    assert _fields({"price": "price", "special_price": "cost", "msrp_price": "compare"}) == {
        "price": "price",
        "special_price": None,
        "msrp_price": "compare_at_price",
    }


def test_values_veto_a_header():
    frame = _frame({"Price": "words", "Name": "title"})
    proposal = propose_mapping(list(frame.columns), frame)
    price = proposal.columns["Price"]
    assert price.field is None
    assert any("do not look like price" in e for e in price.evidence)


def test_record_ids_and_structure_types_stay_unmapped():
    frame = _frame({"ID": "id", "Type": "words", "SKU": "sku", "Name": "title"})
    frame["Type"] = [("simple", "variable", "variation")[i % 3] for i in range(ROWS)]
    proposal = propose_mapping(list(frame.columns), frame)
    assert proposal.columns["ID"].field is None
    assert proposal.columns["Type"].field is None
    assert any("structure types" in e for e in proposal.columns["Type"].evidence)


def test_known_non_field_headers_stay_unmapped():
    fields = _fields({"Published": "qty", "In stock?": "qty", "Stock": "qty", "modelno": "sku"})
    assert fields == {
        "Published": None,
        "In stock?": None,
        "Stock": "inventory_qty",
        "modelno": None,
    }


def test_header_normalization():
    fields = _fields(
        {
            "productName": "title",
            "ART-NR.": "sku",
            "unit_cost": "cost",
            "EAN-Code": "ean",
            "Descripton": "description",
            "VK-Preis": "price",
        }
    )
    assert fields == {
        "productName": "title",
        "ART-NR.": "sku",
        "unit_cost": "cost_per_item",
        "EAN-Code": "barcode",
        "Descripton": "description_html",
        "VK-Preis": "price",
    }


def test_fuzzy_header_is_less_certain_than_exact():
    frame = _frame({"Product Nme": "title", "SKU": "sku"})
    proposal = propose_mapping(list(frame.columns), frame)
    fuzzy = proposal.columns["Product Nme"]
    assert fuzzy.field == "title"
    assert 0.6 <= fuzzy.confidence < proposal.columns["SKU"].confidence
    assert any("resembles" in e for e in fuzzy.evidence)


def test_empty_column_is_mapped_from_its_header_alone():
    frame = _frame({"Tags": "title", "Name": "title"})
    frame["Tags"] = ""
    tags = propose_mapping(list(frame.columns), frame).columns["Tags"]
    assert tags.field == "tags"
    assert tags.confidence == pytest.approx(0.8)
    assert any("empty" in e for e in tags.evidence)


def test_bookkeeping_columns_are_ignored_and_every_column_is_listed():
    frame = _frame({"SKU": "sku", "Whatever": "words", "Name": "title"})
    frame["_source_line"] = range(2, ROWS + 2)
    frame["_parse_error"] = ""
    header = ["SKU", "Whatever", "Name"]
    proposal = propose_mapping(header, frame)
    _assert_valid(proposal, header)
    assert proposal.columns["Whatever"].field is None


def test_missing_sample_column_and_empty_sample():
    proposal = propose_mapping(["SKU", "Name"], pd.DataFrame({"SKU": []}, dtype=object))
    assert {c: p.field for c, p in proposal.columns.items()} == {"SKU": "sku", "Name": "title"}


def test_deterministic():
    frame = _frame({"col_1": "price", "col_2": "compare", "Name": "title", "Color": "color"})
    first = propose_mapping(list(frame.columns), frame).to_dict()
    assert propose_mapping(list(frame.columns), frame).to_dict() == first


def test_to_dict_and_field_sources():
    frame = _frame({"Weight (kg)": "weight", "Other": "words"})
    proposal = propose_mapping(list(frame.columns), frame)
    data = proposal.to_dict()
    assert list(data) == ["Weight (kg)", "Other"]
    assert data["Weight (kg)"]["field"] == "weight_grams"
    assert data["Weight (kg)"]["unit_factor"] == 1000.0
    assert isinstance(data["Weight (kg)"]["evidence"], list)
    assert set(data["Other"]) == {"field", "confidence", "evidence", "unit_factor"}
    assert proposal.field_sources() == {"weight_grams": "Weight (kg)"}


def _proposal() -> MappingProposal:
    frame = _frame({"SKU": "sku", "Name": "title", "Label": "words", "Gewicht (kg)": "weight"})
    return propose_mapping(list(frame.columns), frame)


def test_with_overrides_profile_wins():
    proposal = _proposal()
    assert proposal.columns["Name"].field == "title"
    result = with_overrides(proposal, {"Label": "title", "SKU": None})
    assert result.columns["Label"] == ColumnProposal(
        "Label", "title", 1.0, ("set by the mapping profile",)
    )
    assert result.columns["SKU"] == ColumnProposal(
        "SKU", None, 1.0, ("set by the mapping profile",)
    )
    # Name had title, which the profile gives to Label.
    assert result.columns["Name"].field is None
    assert any("'Label'" in e for e in result.columns["Name"].evidence)
    assert result.columns["Gewicht (kg)"] == proposal.columns["Gewicht (kg)"]
    assert list(result.columns) == list(proposal.columns)
    assert result.field_sources() == {"title": "Label", "weight_grams": "Gewicht (kg)"}


def test_with_overrides_keeps_the_weight_unit_of_the_header():
    proposal = _proposal()
    result = with_overrides(proposal, {"Gewicht (kg)": "weight_grams"})
    assert result.columns["Gewicht (kg)"].unit_factor == 1000.0
    assert result.columns["Gewicht (kg)"].evidence == ("set by the mapping profile",)


def test_with_overrides_rejects_unknown_fields():
    with pytest.raises(ValueError, match=r"'Label'.*'colour'"):
        with_overrides(_proposal(), {"Label": "colour"})


def test_with_overrides_rejects_a_field_given_twice():
    with pytest.raises(ValueError, match=r"'title'.*'Label'.*'SKU'"):
        with_overrides(_proposal(), {"Label": "title", "SKU": "title"})


def test_with_overrides_ignores_columns_absent_from_the_file():
    result = with_overrides(_proposal(), {"Not in this file": "vendor"})
    assert "Not in this file" not in result.columns
    assert "vendor" not in result.field_sources()


def test_sixty_columns_by_a_thousand_rows_are_all_proposed():
    kinds = list(KINDS)
    columns = {f"{kinds[k % len(kinds)]} {k}": kinds[k % len(kinds)] for k in range(60)}
    frame = _frame(columns, rows=1000)
    proposal = propose_mapping(list(frame.columns), frame)
    assert len(proposal.columns) == 60
