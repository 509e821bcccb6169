"""Shopify product exports onto the canonical schema, multi-row products folded.

A Shopify export writes one product over several rows that share a handle: the first
row carries the product's fields, later rows are variants that leave them blank, and
image-only rows add one more product image. ``map_shopify`` gives one row per variant
with the product's fields filled in, the product's images as a list, every other
column kept under ``attributes``, and the source lines each row accounts for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from structr_pipeline.core.connectors.shopify_spec import (
    FIELD_COLUMNS,
    IMAGE_ALT,
    IMAGE_POSITION,
    IMAGE_SRC,
    Level,
    attribute_level,
    header_key,
    known_column,
)
from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.fields import (
    ATTRIBUTES,
    CANONICAL_FIELDS,
    IMAGES,
    PARSE_ERROR,
    PRODUCT_FIELDS,
    SOURCE_LINE,
    SOURCE_LINES,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.core.issues import RowIssue, SourceFileError
from structr_pipeline.core.normalize import clean_all, clean_text

# Variant fields whose presence makes a row a variant rather than an image-only row
# (the alt text of a variant's image is looked up, never read from the row).
VARIANT_DATA_FIELDS: tuple[str, ...] = tuple(f for f in VARIANT_FIELDS if f != "image_alt")


@dataclass(frozen=True)
class ColumnPlan:
    """Where each column of one Shopify header goes."""

    fields: dict[str, str]
    image_src: str | None
    image_position: str | None
    image_alt: str | None
    attributes: list[tuple[str, str, Level]] = field(default_factory=list)
    header_format: str = "legacy"


def plan_columns(header: list[str], file_name: str) -> ColumnPlan:
    """Assign each header cell to a canonical field, an image column or an attribute.

    Raises ``SourceFileError`` when the handle or title column is missing, naming what
    was looked for and what the header has.
    """
    fields: dict[str, str] = {}
    images: dict[str, str] = {}
    attributes: list[tuple[str, str, Level]] = []
    legacy = current = 0
    for name in header:
        column = known_column(name)
        if column is None:
            attributes.append((name, name, attribute_level(name)))
            continue
        if column.legacy != column.current:
            # Many current names differ from the legacy ones only in case: exact first.
            if name.strip() == column.current or (
                name.strip() != column.legacy and header_key(name) == header_key(column.current)
            ):
                current += 1
            else:
                legacy += 1
        if column.field is not None:
            if column.field in fields:
                attributes.append((name, name, "variant"))
            else:
                fields[column.field] = name
        elif column in (IMAGE_SRC, IMAGE_POSITION, IMAGE_ALT):
            if column.current in images:
                attributes.append((name, name, "variant"))
            else:
                images[column.current] = name
        else:
            attributes.append((name, column.current, column.level))
    missing = [
        f"'{spec.legacy}' (or '{spec.current}')"
        if spec.legacy != spec.current
        else f"'{spec.legacy}'"
        for spec in FIELD_COLUMNS[:2]
        if spec.field not in fields
    ]
    if missing:
        shown = ", ".join(f"'{h}'" for h in header[:12]) + (", …" if len(header) > 12 else "")
        raise SourceFileError(
            file_name,
            f"not a Shopify product export: the header has no {' and no '.join(missing)} "
            f"column (it has {shown})",
            line=1,
            column=(FIELD_COLUMNS[0].legacy if "handle" not in fields else FIELD_COLUMNS[1].legacy),
        )
    header_format = "current" if current > legacy else "legacy"
    if current and legacy:
        header_format = "mixed"
    return ColumnPlan(
        fields=fields,
        image_src=images.get(IMAGE_SRC.current),
        image_position=images.get(IMAGE_POSITION.current),
        image_alt=images.get(IMAGE_ALT.current),
        attributes=attributes,
        header_format=header_format,
    )


def field_sources_for(header: list[str]) -> dict[str, str]:
    """For each canonical field, the header cell it is read from (Shopify column spec)."""
    fields: dict[str, str] = {}
    for name in header:
        column = known_column(name)
        if column is not None and column.field is not None:
            fields.setdefault(column.field, name)
    for image in (IMAGE_SRC, IMAGE_POSITION, IMAGE_ALT):
        for name in header:
            if known_column(name) is image:
                fields.setdefault(f"images.{image.current}", name)
                break
    return fields


@dataclass(frozen=True)
class ShopifyMapping:
    """A Shopify export mapped onto the canonical schema."""

    frame: pd.DataFrame
    field_sources: dict[str, str]
    header_format: str
    image_rows: int


def _column(frame: pd.DataFrame, name: str | None, n: int) -> list[str]:
    return frame[name].tolist() if name is not None else [""] * n


def _blank(values: list[str]) -> list[bool]:
    return [not v.strip() for v in values]


def _position(text: str) -> int | None:
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number > 0 else None


def _product_images(
    rows: list[int],
    src: list[str],
    position: list[str],
    alt: list[str],
    variant_image: list[str],
) -> str:
    """The product's images as JSON: deduplicated by URL, in position order, numbered 1..n."""
    found: dict[str, dict] = {}
    for order, i in enumerate(rows):
        url = clean_text(src[i])
        if not url:
            continue
        text = clean_text(alt[i])
        if url in found:
            if text and not found[url]["alt"]:
                found[url]["alt"] = text
            continue
        found[url] = {"src": url, "alt": text, "_position": _position(position[i]), "_order": order}
    for i in rows:
        url = clean_text(variant_image[i])
        if url and url not in found:
            found[url] = {
                "src": url,
                "alt": "",
                "_position": None,
                "_order": len(found) + len(rows),
            }
    ordered = sorted(
        found.values(),
        key=lambda img: (img["_position"] is None, img["_position"] or 0, img["_order"]),
    )
    return json.dumps(
        [{"src": img["src"], "position": n, "alt": img["alt"]} for n, img in enumerate(ordered, 1)],
        ensure_ascii=False,
    )


def map_shopify(table: SourceTable) -> ShopifyMapping:
    """Map a Shopify export (either header set) onto the canonical schema, one row per variant.

    Variant rows inherit the product fields (and product-level attributes) of their
    handle's first row where they leave them blank; a different value on a later row is
    kept out and reported as a warning. Image-only rows are folded into the product's
    ``images`` and their lines into the first row's ``_source_lines``. Rows with a parse
    error or no handle stand alone, unchanged, for validation to reject.
    """
    frame = table.frame
    plan = plan_columns(table.header, table.file_name)
    n = len(frame)
    lines = [int(x) for x in frame[SOURCE_LINE].tolist()]
    broken = [bool(e) for e in frame[PARSE_ERROR].tolist()] if PARSE_ERROR in frame else [False] * n
    values = {name: _column(frame, plan.fields.get(name), n) for name in CANONICAL_FIELDS}
    handles = [h.strip() for h in values["handle"]]
    src = _column(frame, plan.image_src, n)
    position = _column(frame, plan.image_position, n)
    alt = _column(frame, plan.image_alt, n)
    blank = {name: _blank(values[name]) for name in CANONICAL_FIELDS}
    src_blank = _blank(src)
    attribute_cells = [
        (key, level, clean_all(frame[name].tolist(), multiline=True))
        for name, key, level in plan.attributes
    ]

    first_row: dict[str, int] = {}
    rows_of: dict[str, list[int]] = {}
    folded: dict[int, list[int]] = {}
    is_variant = [True] * n
    for i in range(n):
        handle = handles[i]
        if broken[i] or not handle:
            continue
        rows_of.setdefault(handle, []).append(i)
        if handle not in first_row:
            first_row[handle] = i
            continue
        if not all(blank[name][i] for name in VARIANT_DATA_FIELDS):
            continue
        others_blank = all(blank[name][i] for name in CANONICAL_FIELDS if name != "handle") and all(
            not cells[i].strip() for _, _, cells in attribute_cells
        )
        if not src_blank[i] or others_blank:
            is_variant[i] = False
            folded.setdefault(first_row[handle], []).append(lines[i])

    images_of = {
        handle: _product_images(rows, src, position, alt, values["image_src"])
        for handle, rows in rows_of.items()
    }

    out: dict[str, list] = {name: [] for name in CANONICAL_FIELDS}
    out_images: list[str] = []
    out_attributes: list[str] = []
    out_warnings: list[str] = []
    out_line: list[int] = []
    out_lines: list[str] = []
    out_error: list[str] = []
    product_columns = {name: plan.fields.get(name, name) for name in PRODUCT_FIELDS}
    for i in range(n):
        if not is_variant[i]:
            continue
        handle = handles[i]
        first = first_row.get(handle) if (handle and not broken[i]) else None
        warnings: list[RowIssue] = []
        for name in CANONICAL_FIELDS:
            value = values[name][i]
            if first is not None and first != i and name in PRODUCT_FIELDS:
                inherited = values[name][first]
                if blank[name][i]:
                    value = inherited
                elif value.strip() != inherited.strip():
                    warnings.append(
                        RowIssue(
                            lines[i],
                            product_columns[name],
                            "product_field_conflict",
                            value,
                            f"'{value.strip()}' differs from '{inherited.strip()}' on the "
                            f"product's first row (line {lines[first]}); the first row's "
                            "value is kept",
                        )
                    )
                    value = inherited
            out[name].append(value)
        attributes: dict[str, str] = {}
        for key, level, cells in attribute_cells:
            text = cells[i]
            if not text and level == "product" and first is not None:
                text = cells[first]
            if text:
                attributes[key] = text
        images = images_of.get(handle, "[]") if first is not None else "[]"
        out_images.append(images)
        out_attributes.append(json.dumps(attributes, ensure_ascii=False))
        out_warnings.append(json.dumps([w.to_dict() for w in warnings], ensure_ascii=False))
        out_line.append(lines[i])
        out_lines.append(json.dumps([lines[i], *folded.get(i, [])]))
        out_error.append(frame[PARSE_ERROR].iat[i] if broken[i] else "")

    mapped = pd.DataFrame({name: pd.Series(out[name], dtype=object) for name in CANONICAL_FIELDS})
    mapped["image_alt"] = _variant_image_alt(mapped["image_src"].tolist(), out_images)
    mapped[IMAGES] = pd.Series(out_images, dtype=object)
    mapped[ATTRIBUTES] = pd.Series(out_attributes, dtype=object)
    mapped[WARNINGS] = pd.Series(out_warnings, dtype=object)
    mapped[SOURCE_LINE] = pd.Series(out_line, dtype="int64")
    mapped[SOURCE_LINES] = pd.Series(out_lines, dtype=object)
    mapped[PARSE_ERROR] = pd.Series(out_error, dtype=object)
    return ShopifyMapping(
        frame=mapped,
        field_sources=field_sources_for(table.header),
        header_format=plan.header_format,
        image_rows=sum(len(v) for v in folded.values()),
    )


def _variant_image_alt(variant_images: list[str], product_images: list[str]) -> list[str]:
    """The alt text of each variant's own image, looked up in its product's images."""
    cache: dict[str, dict[str, str]] = {}
    alts = []
    for url, images in zip(variant_images, product_images, strict=True):
        url = clean_text(url)
        if not url:
            alts.append("")
            continue
        by_src = cache.get(images)
        if by_src is None:
            by_src = {img["src"]: img["alt"] for img in json.loads(images)}
            cache[images] = by_src
        alts.append(by_src.get(url, ""))
    return alts
