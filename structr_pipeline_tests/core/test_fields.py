"""One field registry: the tuples, the pandera schema and the catalog columns come from it."""

from __future__ import annotations

import hashlib

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.schema import CreateTable

from structr_pipeline.core import fields
from structr_pipeline.core.audit import GRADES
from structr_pipeline.core.connectors.registry import MAPPING_COLUMNS
from structr_pipeline.core.dedup.merge import MERGE_COLUMNS
from structr_pipeline.core.dedup.review import QUEUE_COLUMNS
from structr_pipeline.core.fields import FIELDS, FIELDS_BY_NAME
from structr_pipeline.core.frames import (
    AUDITED_FIELDS,
    COPY_STATUSES,
    FRAME_SCHEMAS,
    GENERATED_COPY_FIELDS,
)
from structr_pipeline.core.schema import ProductVariant
from structr_pipeline.core.validation import REJECTED_COLUMNS
from structr_pipeline.store.db import products, variants

# sha256 of the products and variants DDL as it was before the registry drove the columns.
# A change here changes the created tables: it needs a migration (``db.SCHEMA_VERSION``).
DDL_SHA256 = {
    ("sqlite", "products"): "716bcf32224f6b1984a69bee3390545d97e41c53ca98463afa977b477526cd8e",
    ("sqlite", "variants"): "23191b0cdff3cade8f6c73e1c4ff5c727905370b44e649479962253ee142c276",
    ("postgresql", "products"): "6e1176099d7b1515262a780ceeae1bc218bef8a48af917f4bcf99bd825148af9",
    ("postgresql", "variants"): "820109d9de117f02976ffde173bb22568da7f0e5862ae0c9e30ea9e6587bd59e",
}


def test_the_field_tuples_are_the_registry_by_grain() -> None:
    assert tuple(f.name for f in FIELDS) == fields.PRODUCT_FRAME_COLUMNS
    assert tuple(f.name for f in FIELDS if f.grain != "row") == fields.CANONICAL_FIELDS
    by_grain = set(fields.PRODUCT_FIELDS) | set(fields.VARIANT_FIELDS)
    assert set(fields.CANONICAL_FIELDS) == by_grain
    assert all(FIELDS_BY_NAME[name].grain == "product" for name in fields.PRODUCT_FIELDS)
    assert all(FIELDS_BY_NAME[name].grain == "variant" for name in fields.VARIANT_FIELDS)
    assert all(f.description for f in FIELDS)


def test_the_pandera_schema_is_the_registry() -> None:
    assert list(ProductVariant.columns) == [f.name for f in FIELDS]
    assert ProductVariant.strict and ProductVariant.ordered
    for field in FIELDS:
        column = ProductVariant.columns[field.name]
        assert column.nullable == field.nullable, field.name
        assert column.description == field.description
        assert len(column.checks) == len(field.checks), field.name
    assert str(ProductVariant.columns["inventory_qty"].dtype) == "Int64"
    assert str(ProductVariant.columns["price"].dtype) == "float64"
    assert [c.name for c in ProductVariant.columns["barcode"].checks] == ["valid_gtin"]


def test_the_catalog_columns_are_the_registry() -> None:
    stored = {c.name for c in products.columns} | {c.name for c in variants.columns}
    for field in FIELDS:
        if field.sql_type is None:
            assert field.name not in stored or field.name == fields.SOURCE_LINE
            continue
        table = products if field.grain == "product" or field.name == fields.IMAGES else variants
        column = table.c[field.name]
        assert column.nullable == (field.nullable and not column.primary_key), field.name
    product_columns = [c.name for c in products.columns if c.name in FIELDS_BY_NAME]
    variant_columns = [c.name for c in variants.columns if c.name in FIELDS_BY_NAME]
    assert product_columns == [*fields.PRODUCT_FIELDS, fields.IMAGES, fields.ATTRIBUTES]
    assert variant_columns == [
        "handle",
        *fields.VARIANT_FIELDS,
        fields.ATTRIBUTES,
        fields.WARNINGS,
    ]


def test_the_created_tables_are_as_before() -> None:
    dialects = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}
    for (dialect, name), digest in DDL_SHA256.items():
        table = {"products": products, "variants": variants}[name]
        ddl = str(CreateTable(table).compile(dialect=dialects[dialect]))
        assert hashlib.sha256(ddl.encode()).hexdigest() == digest, ddl


def test_frame_schemas_name_the_columns_their_producers_write() -> None:
    from structr_pipeline.core.audit.results import AUDIT_COLUMNS
    from structr_pipeline.core.generation.results import COLUMNS, STATUSES

    def columns(name: str) -> tuple[str, ...]:
        return tuple(FRAME_SCHEMAS[name].columns)

    assert columns("column_mapping") == MAPPING_COLUMNS
    assert columns("rejected_rows") == REJECTED_COLUMNS
    assert columns("duplicate_merges") == MERGE_COLUMNS
    assert columns("possible_duplicates") == QUEUE_COLUMNS
    assert columns("generated_copy") == COLUMNS == tuple(f.name for f in GENERATED_COPY_FIELDS)
    assert columns("audited_products") == AUDIT_COLUMNS == tuple(f.name for f in AUDITED_FIELDS)
    assert columns("validated_products") == fields.PRODUCT_FRAME_COLUMNS
    assert columns("deduplicated_products") == (*fields.PRODUCT_FRAME_COLUMNS, "_change")
    assert COPY_STATUSES == STATUSES
    assert FRAME_SCHEMAS["audited_products"].columns["grade"].checks[0].statistics == {
        "allowed_values": list(GRADES)
    }
