"""Any product CSV onto the canonical schema, through a column mapping.

Each record is one variant. The mapping (proposed from headers and values, or set by
a profile) says which column fills which field; every other column is kept under
``attributes``. Units and number formats the mapping or profile know about are applied
here, so validation sees grams and unambiguous decimals.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from structr_pipeline.core.csv_reading import SourceTable
from structr_pipeline.core.fields import (
    ATTRIBUTES,
    CANONICAL_FIELDS,
    IMAGES,
    NUMBER_FIELDS,
    PARSE_ERROR,
    SOURCE_LINE,
    SOURCE_LINES,
    WARNINGS,
)
from structr_pipeline.core.mapping.profiles import WEIGHT_UNITS, ProfileOptions
from structr_pipeline.core.mapping.propose import MappingProposal
from structr_pipeline.core.normalize import clean_all, clean_text, parse_number
from structr_pipeline.core.values import slugify

_URL_SPLIT = re.compile(r"\s*[,|;]\s*|\s+(?=https?://)")


def _decimal_comma(value: str) -> str:
    """``1.299,50`` → ``1299.50``: dots are thousands separators, the comma is the decimal."""
    return value.replace(".", "").replace(",", ".") if value else value


def _in_grams(value: str, factor: float) -> str:
    number, problem = parse_number(value)
    if number is None or problem:
        return value
    grams = round(number * factor, 6)
    return repr(grams) if not grams.is_integer() else str(int(grams))


def _images(urls_cell: str, alt: str) -> list[dict]:
    urls = [u for u in _URL_SPLIT.split(clean_text(urls_cell)) if u]
    seen: dict[str, None] = {}
    for url in urls:
        seen.setdefault(url)
    return [
        {"src": url, "position": n, "alt": clean_text(alt) if n == 1 else ""}
        for n, url in enumerate(seen, start=1)
    ]


def map_generic(
    table: SourceTable, mapping: MappingProposal, options: ProfileOptions | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Map the table's rows through ``mapping``; returns the mapped frame and field sources.

    Option columns mapped from a header such as ``Color`` get that header as the option
    name. An image cell may hold several URLs (comma, ``|`` or ``;`` separated): the first
    is the variant's image, all of them the product's images. Handles are made URL-safe;
    without a handle column, the handle is derived from the SKU.
    """
    options = options or ProfileOptions()
    frame = table.frame
    n = len(frame)
    sources = mapping.field_sources()
    values: dict[str, list[str]] = {}
    for name in CANONICAL_FIELDS:
        column = sources.get(name)
        values[name] = frame[column].tolist() if column is not None else [""] * n

    for number in range(1, 4):
        value_column = sources.get(f"option{number}_value")
        if value_column is not None and f"option{number}_name" not in sources:
            label = clean_text(value_column)
            values[f"option{number}_name"] = [
                label if v.strip() else "" for v in values[f"option{number}_value"]
            ]
    if options.decimal_comma:
        for name in NUMBER_FIELDS:
            values[name] = [_decimal_comma(v.strip()) for v in values[name]]
    weight_column = sources.get("weight_grams")
    if weight_column is not None:
        proposal = mapping.columns[weight_column]
        factor = WEIGHT_UNITS.get(options.weight_unit or "", proposal.unit_factor or 1.0)
        if factor != 1.0:
            values["weight_grams"] = [_in_grams(v, factor) for v in values["weight_grams"]]
    if options.default_vendor:
        values["vendor"] = [v if v.strip() else options.default_vendor for v in values["vendor"]]
    if "handle" in sources:
        values["handle"] = [slugify(v) for v in values["handle"]]
    elif "sku" in sources:
        values["handle"] = [slugify(v) for v in values["sku"]]
        sources = {**sources, "handle": sources["sku"]}

    images = [
        _images(cell, alt)
        for cell, alt in zip(values["image_src"], values["image_alt"], strict=True)
    ]
    values["image_src"] = [found[0]["src"] if found else "" for found in images]

    mapped_columns = set(sources.values())
    extra = [c for c in table.header if c not in mapped_columns]
    extra_cells = [(c, clean_all(frame[c].tolist(), multiline=True)) for c in extra]
    attributes = [
        json.dumps({c: cells[i] for c, cells in extra_cells if cells[i]}, ensure_ascii=False)
        for i in range(n)
    ]

    lines = frame[SOURCE_LINE].astype("int64").tolist()
    mapped = pd.DataFrame(
        {name: pd.Series(values[name], dtype=object) for name in CANONICAL_FIELDS}
    )
    mapped[IMAGES] = [json.dumps(found, ensure_ascii=False) for found in images]
    mapped[ATTRIBUTES] = attributes
    mapped[WARNINGS] = "[]"
    mapped[SOURCE_LINE] = pd.Series(lines, dtype="int64")
    mapped[SOURCE_LINES] = [json.dumps([line]) for line in lines]
    mapped[PARSE_ERROR] = frame[PARSE_ERROR].tolist() if PARSE_ERROR in frame else ""
    return mapped, sources
