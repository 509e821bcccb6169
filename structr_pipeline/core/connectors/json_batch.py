"""Read a landed JSON Lines batch (webhook events, PIM items, product records) as source rows.

A JSON batch is a ``.jsonl`` file, one JSON object per line, kept in landing like any
input file, so re-running the batch re-reads exactly the same items. Each line is one of:

- ``{"source": "shopify", "topic": "products/create" | "products/update", "payload": {…}}``:
  a Shopify product object (webhook body or Admin API);
- ``{"source": "shopify", "topic": "products/delete", "payload": {"id": …}}``;
- ``{"source": "record", "topic": "product.upsert", "payload": {…}}``: a product record in
  the format of the bundle's ``products.jsonl`` (missing fields are empty);
- ``{"source": "record", "topic": "product.delete", "payload": {"external_id": …}}``;
- ``{"source": "pim", "item": {…}}``: a raw item pulled from a PIM, mapped by the batch's
  PIM source (all items of the batch are mapped together, so linked assets resolve);
- a bare product record (a line of a bundle's ``products.jsonl``).

Products become rows of a Shopify-format table (the current header set, one row per
variant, image rows after), so the rest of the pipeline maps, validates and
deduplicates them exactly as it does a Shopify CSV. Line numbers in later stages refer
to the rows of that table. An item that cannot be converted becomes one row with the
reason as its parse error: validation rejects it, naming the item, field and reason,
and it is counted like every other row. Deletes are collected, not turned into rows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.connectors.shopify_export import product_rows
from structr_pipeline.core.connectors.shopify_json import (
    shopify_external_id,
    shopify_product_record,
)
from structr_pipeline.core.connectors.shopify_spec import CURRENT_HEADER
from structr_pipeline.core.fields import (
    ATTRIBUTES,
    IMAGES,
    NUMBER_FIELDS,
    PARSE_ERROR,
    PRODUCT_FIELDS,
    SOURCE_LINE,
    VARIANT_FIELDS,
)
from structr_pipeline.core.issues import SourceFileError

# A Shopify payload error names its field first: "variants[0].price: '…' is not a price".
_FIELD_FIRST = re.compile(r"([\w.\[\]]+): (.*)", re.DOTALL)

# Maps every PIM item of a batch at once: (records, [(item index, reason)]).
PimMapper = Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], list[tuple[int, str]]]]


@dataclass
class JsonBatch:
    """A JSON batch read as a Shopify-format source table, plus its deletes."""

    frame: pd.DataFrame
    header: list[str]
    items: int
    deletes: list[str] = field(default_factory=list)
    item_errors: int = 0


def is_json_batch(file_name: str) -> bool:
    """True for the file names read as JSON batches (``.jsonl`` and ``.ndjson``)."""
    return Path(file_name).suffix.lower() in (".jsonl", ".ndjson")


def complete_record(record: dict[str, Any]) -> dict[str, Any]:
    """A product record with every field present: text '' and numbers None when missing.

    A record without variants gets one empty variant, so the product still becomes a row
    (which validation then rejects for what it lacks, rather than it vanishing).
    """
    out: dict[str, Any] = {name: _text(record.get(name)) for name in PRODUCT_FIELDS}
    variants = record.get("variants") or [{}]
    if not isinstance(variants, list):
        raise ValueError("field 'variants': expected a list")
    out["variants"] = []
    for i, variant in enumerate(variants):
        if not isinstance(variant, dict):
            raise ValueError(f"field 'variants[{i}]': expected an object")
        complete: dict[str, Any] = {}
        for name in VARIANT_FIELDS:
            value = variant.get(name)
            complete[name] = value if name in NUMBER_FIELDS else _text(value)
        complete[ATTRIBUTES] = _attributes(variant.get(ATTRIBUTES), f"variants[{i}].attributes")
        out["variants"].append(complete)
    images = record.get(IMAGES) or []
    if not isinstance(images, list):
        raise ValueError("field 'images': expected a list")
    out[IMAGES] = [
        {
            "src": _text(image.get("src")),
            "position": image.get("position") or i,
            "alt": _text(image.get("alt")),
        }
        for i, image in enumerate(images, start=1)
        if isinstance(image, dict) and _text(image.get("src"))
    ]
    out[ATTRIBUTES] = _attributes(record.get(ATTRIBUTES), "attributes")
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _attributes(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"field '{where}': expected an object")
    return {str(k): _text(v) for k, v in value.items()}


def _json_int(text: str) -> int | Decimal:
    """A JSON integer; one too long for Python's ``int`` (over 4,300 digits) as a Decimal.

    The Decimal reaches validation as its digits, which refuses the one cell as out of
    range instead of the whole file failing to read.
    """
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


def _shopify_record(payload: dict[str, Any]) -> dict[str, Any]:
    """``shopify_product_record``, its errors naming the field as ``field '…'`` does."""
    try:
        return shopify_product_record(payload)
    except ValueError as exc:
        named = _FIELD_FIRST.fullmatch(str(exc))
        if named is None:
            raise
        raise ValueError(f"field '{named.group(1)}': {named.group(2)}") from exc


def _describe(envelope: dict[str, Any]) -> str:
    payload = envelope.get("payload") if isinstance(envelope.get("payload"), dict) else envelope
    for key in ("handle", "id", "external_id", "title"):
        if isinstance(payload, dict) and payload.get(key) not in (None, ""):
            return f"{key} {payload[key]!r}"
    return "no id"


def _convert(envelope: Any) -> tuple[list[dict[str, Any]], str | None]:
    """One non-PIM line → (records, external id to archive or None)."""
    if not isinstance(envelope, dict):
        raise ValueError("field '(line)': expected a JSON object")
    source = envelope.get("source")
    topic = str(envelope.get("topic") or "")
    payload = envelope.get("payload")
    if source is None and "variants" in envelope:
        return [envelope], None
    if not isinstance(payload, dict):
        raise ValueError("field 'payload': expected a JSON object")
    if source == "shopify":
        if topic == "products/delete":
            return [], shopify_external_id(payload)
        if topic in ("products/create", "products/update"):
            return [_shopify_record(payload)], None
    elif source == "record":
        if topic == "product.delete":
            external_id = _text(payload.get("external_id") or payload.get("handle"))
            if not external_id:
                raise ValueError("field 'payload.external_id': missing")
            return [], external_id
        if topic == "product.upsert":
            return [payload], None
    raise ValueError(f"field 'topic': unknown source/topic {source!r}/{topic!r}")


def read_json_batch(
    path: Path, file_name: str | None = None, pim_mapper: PimMapper | None = None
) -> JsonBatch:
    """Read a JSON Lines batch into a Shopify-format frame like ``read_table`` gives.

    The frame has the current Shopify header columns (then attribute columns in order of
    first appearance), ``SOURCE_LINE`` (the row's line in that table, header = 1) and
    ``PARSE_ERROR``. ``pim_mapper`` maps the batch's PIM items; without one, PIM items
    are an error naming the line. Raises ``SourceFileError`` when the file as a whole is
    not JSON Lines (empty, or a line that is not JSON).
    """
    path = Path(path)
    name = file_name or path.name
    entries: list[tuple[int, Any]] = []
    with path.open("r", encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                entries.append((number, json.loads(line, parse_int=_json_int)))
            except json.JSONDecodeError as exc:
                raise SourceFileError(name, f"not valid JSON ({exc.msg})", line=number) from exc
    if not entries:
        raise SourceFileError(name, "the file holds no JSON lines")

    rows: list[dict[str, str]] = []
    deletes: list[str] = []
    errors = 0

    def add_error(number: int, what: str, reason: str) -> None:
        nonlocal errors
        errors += 1
        rows.append({PARSE_ERROR: f"item on line {number} of {name} ({what}): {reason}"})

    def add_record(number: int, record: dict[str, Any], what: str) -> None:
        try:
            rows.extend(product_rows(complete_record(record)))
        except (ValueError, TypeError, KeyError) as exc:
            add_error(number, what, str(exc))

    pim_items: list[tuple[int, dict[str, Any]]] = []
    for number, envelope in entries:
        if isinstance(envelope, dict) and envelope.get("source") == "pim":
            item = envelope.get("item")
            if isinstance(item, dict) and pim_mapper is not None:
                pim_items.append((number, item))
            else:
                reason = (
                    "field 'source': the batch names no PIM source (pim_source) to map it"
                    if pim_mapper is None
                    else "field 'item': expected a JSON object"
                )
                add_error(number, "pim item", reason)
            continue
        what = _describe(envelope) if isinstance(envelope, dict) else "not an object"
        try:
            records, delete = _convert(envelope)
        except (ValueError, TypeError, KeyError) as exc:
            add_error(number, what, str(exc))
            continue
        if delete:
            deletes.append(delete)
        for record in records:
            add_record(number, record, what)

    if pim_items:
        assert pim_mapper is not None
        records, item_errors = pim_mapper([item for _, item in pim_items])
        for index, reason in item_errors:
            number, item = pim_items[index]
            add_error(number, _describe(item), reason)
        for record in records:
            add_record(0, record, _describe(record))

    extra: dict[str, None] = {}
    for row in rows:
        for key in row:
            if key != PARSE_ERROR:
                extra.setdefault(key)
    known = set(CURRENT_HEADER)
    header = [*CURRENT_HEADER, *(k for k in extra if k not in known)]
    data = {column: [row.get(column, "") for row in rows] for column in header}
    frame = pd.DataFrame(data, columns=header, dtype=object)
    frame[SOURCE_LINE] = list(range(2, len(rows) + 2))
    frame[PARSE_ERROR] = [row.get(PARSE_ERROR, "") for row in rows]
    return JsonBatch(
        frame=frame,
        header=header,
        items=len(entries),
        deletes=deletes,
        item_errors=errors,
    )
