"""The automatic mapping on every non-Shopify product file of the shared datasets.

For each file the expected field of every column that should map is written out below;
every other column is expected to stay unmapped (kept as an attribute). The accuracy
per file and overall is printed (``pytest -s``) and must stay at or above 90 %.

Debatable cases, decided here:

- WooCommerce ``Regular price`` is the price and ``Sale price`` an attribute: the sale
  price is usually empty and only temporary (spec decision).
- WooCommerce ``Short description`` / Magento ``short_description`` stay attributes:
  ``Description`` is the long description, and a teaser is not an SEO description.
- WooCommerce ``Attribute N name`` / ``Attribute N value(s)`` fill ``optionN_name`` /
  ``optionN_value``: they are WooCommerce's variation attributes (variation rows carry
  one value each; parent rows list all values, which the connector can split).
- WooCommerce ``Parent`` (the parent SKU of a variation) stays an attribute: it is empty
  on parents and simple products, so it is not a handle by itself; the connector can use
  it to group variations.
- WooCommerce ``ID``, the benchmarks' ``id`` and ``unique_id``: record ids, not SKUs.
- WooCommerce ``Type`` and Magento ``product_type`` (simple/variable/configurable): the
  record's structure, not the product kind.
- WooCommerce ``Stock`` maps to inventory even where it is empty in the file.
- Magento ``url_key`` is the handle; in the SimpleProduct fixtures its values are not yet
  slugs ("Sprite Stasis Ball 55 cm gray"), the connector has to slugify them.
- Magento ``special_price`` stays an attribute; ``msrp_price`` is the compare-at price;
  ``map_price`` (minimum advertised price) stays an attribute.
- Magento ``base_image`` is the image; ``small_image``/``thumbnail_image`` (the same file
  in other roles) and ``additional_images`` stay attributes. ``base_image_label`` is the
  image alt text; ``meta_keywords`` stays an attribute (SEO keywords, not tags).
- Magento ``size``/``color`` columns fill option values in header order.
- Magento ``category_gear`` and the other sample-data attributes (activity, material,
  gender, pattern…) stay attributes.
- Walmart-Amazon ``shipweight`` is the weight (no unit given: read as grams);
  ``modelno`` (a manufacturer model number) and ``dimensions`` stay attributes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from structr_pipeline.core.csv_reading import read_table
from structr_pipeline.core.issues import SourceFileError
from structr_pipeline.core.mapping import propose_mapping

WOOCOMMERCE = {
    "SKU": "sku",
    "Name": "title",
    "Description": "description_html",
    "Stock": "inventory_qty",
    "Regular price": "price",
    "Categories": "category",
    "Tags": "tags",
    "Images": "image_src",
    "Attribute 1 name": "option1_name",
    "Attribute 1 value(s)": "option1_value",
    "Attribute 2 name": "option2_name",
    "Attribute 2 value(s)": "option2_value",
}
MAGENTO_SIMPLE = {
    "category": "category",
    "name": "title",
    "sku": "sku",
    "price": "price",
    "qty": "inventory_qty",
    "description": "description_html",
}

# File (relative to the datasets folder) → column → expected field, for the columns that
# should map; all other columns should stay unmapped.
EXPECTED: dict[str, dict[str, str]] = {
    "woocommerce-sample-products/sample_products.csv": {
        **WOOCOMMERCE,
        "Weight (lbs)": "weight_grams",
    },
    "classic-commerce-sample-products/sample_products.csv": {
        **WOOCOMMERCE,
        "Weight (kg)": "weight_grams",
    },
    "woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv": {
        **WOOCOMMERCE,
        "Weight (kg)": "weight_grams",
    },
    "magento2-sample-data/products.csv": {
        "sku": "sku",
        "categories": "category",
        "name": "title",
        "description": "description_html",
        "weight": "weight_grams",
        "price": "price",
        "url_key": "handle",
        "meta_title": "seo_title",
        "meta_description": "seo_description",
        "base_image": "image_src",
        "base_image_label": "image_alt",
        "msrp_price": "compare_at_price",
        "qty": "inventory_qty",
    },
    "magento2-sample-data/products_gear_bags.csv": MAGENTO_SIMPLE,
    "magento2-sample-data/products_gear_fitness_equipment.csv": MAGENTO_SIMPLE,
    "magento2-sample-data/products_gear_fitness_equipment_ball.csv": {
        **MAGENTO_SIMPLE,
        "size": "option1_value",
        "color": "option2_value",
        "url_key": "handle",
    },
    "magento2-sample-data/products_gear_fitness_equipment_strap.csv": {
        **MAGENTO_SIMPLE,
        "size": "option1_value",
    },
    "magento2-sample-data/products_gear_watches.csv": MAGENTO_SIMPLE,
    "dedupe-examples-abt-buy/AbtBuy_Abt.csv": {
        "title": "title",
        "description": "description_html",
        "price": "price",
    },
    "dedupe-examples-abt-buy/AbtBuy_Buy.csv": {
        "title": "title",
        "description": "description_html",
        "price": "price",
    },
    "pyjedai-abt-buy/abt.csv": {
        "name": "title",
        "description": "description_html",
        "price": "price",
    },
    "pyjedai-abt-buy/buy.csv": {
        "name": "title",
        "description": "description_html",
        "price": "price",
    },
    "pyjedai-amazon-google/amazon.csv": {
        "title": "title",
        "description": "description_html",
        "manufacturer": "vendor",
        "price": "price",
    },
    "pyjedai-amazon-google/gp.csv": {
        "title": "title",
        "description": "description_html",
        "manufacturer": "vendor",
        "price": "price",
    },
    "pyjedai-walmart-amazon/walmart.csv": {
        "title": "title",
        "price": "price",
        "shipweight": "weight_grams",
        "brand": "vendor",
    },
    "pyjedai-walmart-amazon/amazon.csv": {
        "title": "title",
        "price": "price",
        "shipweight": "weight_grams",
        "brand": "vendor",
    },
    "magellan-amazon-google/tableA.csv": {
        "title": "title",
        "description": "description_html",
        "manufacturer": "vendor",
        "price": "price",
    },
    "magellan-amazon-google/tableB.csv": {
        "title": "title",
        "description": "description_html",
        "manufacturer": "vendor",
        "price": "price",
    },
}

# Columns that must stay unmapped, checked by name (on top of "everything not expected").
MUST_STAY_UNMAPPED: dict[str, tuple[str, ...]] = {
    "woocommerce-sample-products/sample_products.csv": (
        "ID", "Type", "Published", "Tax status", "Sale price", "Short description", "Parent",
        "In stock?", "Length (in)",
    ),
    "woocommerce-product-export/wc-product-export-28-7-2024-1722216242241.csv": (
        "ID", "Type", "Published", "Tax status", "Sale price", "Parent", "Download 1 ID",
    ),
    "magento2-sample-data/products.csv": (
        "product_type", "special_price", "map_price", "small_image", "additional_images",
        "visibility", "product_online", "is_in_stock",
    ),
    "dedupe-examples-abt-buy/AbtBuy_Abt.csv": ("unique_id",),
    "pyjedai-abt-buy/abt.csv": ("id",),
    "pyjedai-walmart-amazon/walmart.csv": ("id", "modelno", "dimensions"),
    "magellan-amazon-google/tableA.csv": ("id",),
}  # fmt: skip

# Weight columns and the factor that turns their numbers into grams (None: read as grams).
UNIT_FACTORS: dict[tuple[str, str], float | None] = {
    ("woocommerce-sample-products/sample_products.csv", "Weight (lbs)"): 453.59237,
    ("classic-commerce-sample-products/sample_products.csv", "Weight (kg)"): 1000.0,
    ("magento2-sample-data/products.csv", "weight"): None,
    ("pyjedai-walmart-amazon/walmart.csv", "shipweight"): None,
}


def _read(path: Path):
    try:
        return read_table(path)
    except SourceFileError:
        # pyJedAI's Amazon-Google files use '#', which is not detected; a mapping profile
        # names the delimiter in that case.
        return read_table(path, delimiter="#")


def _proposal(datasets_dir: Path, name: str):
    table = _read(datasets_dir / name)
    return table, propose_mapping(table.header, table.frame.head(1000))


def _score(header: list[str], fields: dict[str, str | None], expected: dict[str, str]):
    """(columns right, columns in all, expected-mapped columns right, expected-mapped)."""
    right = sum(fields[c] == expected.get(c) for c in header)
    mapped_right = sum(fields[c] == f for c, f in expected.items())
    return right, len(header), mapped_right, len(expected)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dataset_mapping(datasets_dir: Path, name: str):
    table, proposal = _proposal(datasets_dir, name)
    assert list(proposal.columns) == table.header
    fields = {c: p.field for c, p in proposal.columns.items()}
    expected = EXPECTED[name]
    assert {c: fields[c] for c in expected} == expected
    unexpected = {c: f for c, f in fields.items() if f is not None and c not in expected}
    assert unexpected == {}
    for column in MUST_STAY_UNMAPPED.get(name, ()):
        assert fields[column] is None, column
    for p in proposal.columns.values():
        assert 0.0 <= p.confidence <= 1.0
        assert p.evidence


@pytest.mark.parametrize(("name", "column"), sorted(UNIT_FACTORS))
def test_dataset_weight_units(datasets_dir: Path, name: str, column: str):
    _, proposal = _proposal(datasets_dir, name)
    weight = proposal.columns[column]
    assert weight.field == "weight_grams"
    assert weight.unit_factor == UNIT_FACTORS[name, column]
    if weight.unit_factor is None:
        assert "no unit given; read as grams" in weight.evidence


def test_accuracy_over_all_datasets(datasets_dir: Path):
    """Print the share of columns mapped right per file and overall (run with -s)."""
    lines = [f"{'file':<75} {'all columns':>13} {'mapped cols':>12}"]
    total = total_right = mapped = mapped_right = 0
    for name in sorted(EXPECTED):
        table, proposal = _proposal(datasets_dir, name)
        fields = {c: p.field for c, p in proposal.columns.items()}
        right, count, m_right, m_count = _score(table.header, fields, EXPECTED[name])
        total, total_right = total + count, total_right + right
        mapped, mapped_right = mapped + m_count, mapped_right + m_right
        lines.append(
            f"{name:<75} {right:>4}/{count:<4} {right / count:>4.0%} "
            f"{m_right:>3}/{m_count:<3} {m_right / m_count:>4.0%}"
        )
    lines.append(
        f"{'overall':<75} {total_right:>4}/{total:<4} {total_right / total:>4.0%} "
        f"{mapped_right:>3}/{mapped:<3} {mapped_right / mapped:>4.0%}"
    )
    print("\n" + "\n".join(lines))
    assert total_right / total >= 0.9
    assert mapped_right / mapped >= 0.9


def test_abt_values_alone_with_meaningless_headers(datasets_dir: Path):
    """Abt's columns renamed col_1..col_4: name, description and price found from values."""
    table = read_table(datasets_dir / "pyjedai-abt-buy" / "abt.csv")
    frame = table.frame[table.header].head(1000)
    renamed = {c: f"col_{k}" for k, c in enumerate(table.header, start=1)}
    frame = frame.rename(columns=renamed)
    proposal = propose_mapping(list(frame.columns), frame)
    fields = {c: p.field for c, p in proposal.columns.items()}
    assert fields == {
        "col_1": None,  # id: record ids
        "col_2": "title",  # name
        "col_3": "description_html",  # description
        "col_4": "price",  # price
    }
    for column in ("col_2", "col_3", "col_4"):
        assert 0.45 <= proposal.columns[column].confidence <= 0.75
