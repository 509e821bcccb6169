"""The bundle files of a batch, from its validated and rejected frames (the Shopify CSV excepted).

``products.jsonl`` holds one product per line with its variants and images nested;
``errors.csv`` gives the rejected rows back in the user's own columns with the reasons
appended, ready to fix and import again; ``summary.json`` counts what happened.
Every file is written to a temporary name first and renamed, so a reader never sees half.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

import pandas as pd

from structr_pipeline.core.fields import (
    ATTRIBUTES,
    FLOAT_FIELDS,
    IMAGES,
    INT_FIELDS,
    PRODUCT_FIELDS,
    SOURCE_LINE,
    SOURCE_LINES,
    VARIANT_FIELDS,
    WARNINGS,
)
from structr_pipeline.core.issues import issues_from_json
from structr_pipeline.core.values import as_text, positions_by_value

ERRORS_COLUMN = "errors"

# OWASP's CSV-injection list, plus a line feed: a spreadsheet may run a cell starting
# with any of these as a formula, or (tab, CR, LF) skip to the formula behind them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_formula(cell: str) -> str:
    """Prefix ``'`` to a cell a spreadsheet would run as a formula (not to plain numbers).

    The one escaping rule of every exported CSV, applied to each header and data cell:
    a cell starting with ``=``, ``+``, ``-``, ``@``, a tab, CR or LF is prefixed, unless
    it is a plain number such as ``-3.5``.
    """
    if cell.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def write_escaped_csv(f: IO[str], header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> int:
    """Write ``header`` and ``rows`` to ``f`` as RFC 4180 CSV; returns the number of rows.

    Lines end in CRLF and every cell holding a comma, a quote, CR or LF is quoted, so
    the file reads back into exactly its rows. Every cell, header included, goes through
    ``escape_formula``; None is written as an empty cell. ``f`` must be opened with
    ``newline=""``.
    """
    writer = csv.writer(f, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([escape_formula(as_text(cell)) for cell in header])
    count = 0
    for row in rows:
        writer.writerow([escape_formula(as_text(cell)) for cell in row])
        count += 1
    return count


@contextmanager
def atomic_text(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """Open a UTF-8 text file for writing that appears at ``path`` only once complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
    try:
        with partial.open("w", encoding="utf-8", newline=newline) as f:
            yield f
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _number(value: Any, integer: bool) -> int | float | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return int(value) if integer else float(value)


def _json(text: Any, empty: Any) -> Any:
    text = as_text(text).strip()
    return json.loads(text) if text else empty


def _converter(name: str) -> Callable[[Any], Any]:
    """How a variant field's cell becomes a record value: a number, None or text."""
    if name in FLOAT_FIELDS:
        return partial(_number, integer=False)
    if name in INT_FIELDS:
        return partial(_number, integer=True)
    return as_text


def product_records(validated: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """One nested record per product, in order of the handle's first appearance.

    A record has the product-level fields, ``variants`` (variant-level fields, numbers
    as numbers or None, plus the attributes particular to that variant, its warnings and
    its source line), ``images``, ``attributes`` (the attributes every variant shares)
    and ``source_lines`` (every source line the product accounts for, ascending).
    """
    absent = [None] * len(validated)

    def column(name: str, required: bool = True) -> list[Any]:
        if required or name in validated.columns:
            return validated[name].tolist()
        return absent

    variant_columns = [(name, column(name), _converter(name)) for name in VARIANT_FIELDS]
    product_columns = [(name, column(name)) for name in PRODUCT_FIELDS]
    attributes_of = column(ATTRIBUTES, required=False)
    warnings_of = column(WARNINGS, required=False)
    line_of = column(SOURCE_LINE, required=False)
    lines_of = column(SOURCE_LINES, required=False)
    images_of = column(IMAGES, required=False)

    for positions in positions_by_value(map(as_text, column("handle"))).values():
        first = positions[0]
        attributes = [_json(attributes_of[i], {}) for i in positions]
        shared = {
            key: value
            for key, value in attributes[0].items()
            if all(key in a and a[key] == value for a in attributes[1:])
        }
        lines: set[int] = set()
        variants = []
        for i, own in zip(positions, attributes, strict=True):
            lines.update(int(x) for x in _json(lines_of[i], []))
            line = _number(line_of[i], integer=True)
            if line is not None:
                lines.add(line)
            variant = {name: convert(values[i]) for name, values, convert in variant_columns}
            variant[ATTRIBUTES] = {k: v for k, v in own.items() if k not in shared}
            variant[WARNINGS] = _json(warnings_of[i], [])
            variant["source_line"] = line
            variants.append(variant)
        record: dict[str, Any] = {name: as_text(values[first]) for name, values in product_columns}
        record["variants"] = variants
        record[IMAGES] = _json(images_of[first], [])
        record[ATTRIBUTES] = shared
        record["source_lines"] = sorted(lines)
        yield record


def write_products_jsonl(validated: pd.DataFrame, path: Path) -> int:
    """Write ``products.jsonl`` (UTF-8, one product object per line); returns the product count.

    The file is strict JSON: a NaN or infinite number raises ``ValueError`` instead of
    being written as ``NaN`` or ``Infinity``.
    """
    return write_product_records(product_records(validated), path)


def write_product_records(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write records from ``product_records`` as ``products.jsonl``; returns how many."""
    count = 0
    with atomic_text(path, newline="\n") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False, allow_nan=False))
            f.write("\n")
            count += 1
    return count


def error_text(errors_json: str) -> str:
    """Every reason of a rejected row as one readable text, reasons separated by '; '."""
    return "; ".join(issue.describe() for issue in issues_from_json(errors_json))


def write_errors_csv(rejected: pd.DataFrame, source_header: list[str], path: Path) -> int:
    """Write ``errors.csv``: the rejected rows in their original columns, plus ``errors``.

    Rows come in source-line order with the cells exactly as the user's file had them
    (formula-like cells, header cells included, prefixed with ``'``: see
    ``write_escaped_csv``), so the file can be corrected and imported again as it is.
    The header is written even when nothing was rejected. Returns the number of rows
    written.
    """
    errors_column = ERRORS_COLUMN
    while errors_column in source_header:
        errors_column = f"_{errors_column}"
    ordered = (
        rejected.sort_values(SOURCE_LINE, kind="stable") if len(rejected) else rejected
    ).to_dict("records")
    with atomic_text(path, newline="") as f:
        return write_escaped_csv(
            f, [*source_header, errors_column], _error_rows(ordered, source_header)
        )


def _error_rows(ordered: list[dict[str, Any]], source_header: list[str]) -> Iterator[list[str]]:
    for row in ordered:
        original = _json(row.get("original"), {})
        cells = [as_text(original.get(name, "")) for name in source_header]
        cells.append(error_text(as_text(row.get("errors"))))
        yield cells


def _lines(frame: pd.DataFrame) -> set[int]:
    lines: set[int] = set()
    if SOURCE_LINES in frame.columns:
        for text in frame[SOURCE_LINES]:
            lines.update(int(x) for x in _json(text, []))
    if SOURCE_LINE in frame.columns:
        lines.update(int(x) for x in frame[SOURCE_LINE])
    return lines


def accounted_lines(frame: pd.DataFrame) -> list[int]:
    """Every source line a product or rejected frame accounts for, once per mention."""
    return [line for lines in frame[SOURCE_LINES] for line in json.loads(lines)]


def write_frame_csv(frame: pd.DataFrame, path: Path) -> int:
    """Write a small report frame (merges, possible duplicates) as CSV; returns its rows.

    Written like every exported CSV (``write_escaped_csv``).
    """
    with atomic_text(path, newline="") as f:
        return write_escaped_csv(f, list(frame.columns), frame.itertuples(index=False))


def rejection_reasons(rejected: pd.DataFrame, top: int | None = None) -> list[dict[str, Any]]:
    """How many rejected rows each check caused, most frequent first, with one example."""
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    if "errors" in rejected.columns:
        for text in rejected["errors"]:
            issues = issues_from_json(as_text(text))
            for issue in issues:
                examples.setdefault(issue.check, issue.describe())
            counts.update({issue.check for issue in issues})
    return [
        {"check": check, "rows": n, "example": examples[check]}
        for check, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    ]


def build_summary(
    *,
    batch_id: str,
    source_file: str,
    sha256: str,
    rows_in: int,
    validated: pd.DataFrame,
    rejected: pd.DataFrame,
    files: Mapping[str, Path | str],
    extra_counts: Mapping[str, int] | None = None,
    created_at: datetime | None = None,
    source_format: Mapping[str, Any] | None = None,
    held_back: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``summary.json`` for one batch.

    Counts: ``rows_in``, ``rows_accepted`` and ``rows_rejected`` (distinct source lines),
    ``products``, ``variants`` and ``warnings``, plus any ``extra_counts``; the ten most
    frequent rejection reasons by check; the bundle's file paths; when it was made (UTC);
    the detected ``source_format`` with how its rows grouped into products; and the
    products ``held_back`` from the import file with their reasons.
    """
    warnings = 0
    if WARNINGS in validated.columns:
        warnings = sum(len(_json(text, [])) for text in validated[WARNINGS])
    counts: dict[str, int] = {
        "rows_in": int(rows_in),
        "rows_accepted": len(_lines(validated)),
        "rows_rejected": len(_lines(rejected)),
        "products": int(validated["handle"].nunique()) if len(validated) else 0,
        "variants": len(validated),
        "warnings": warnings,
        **{k: int(v) for k, v in (extra_counts or {}).items()},
    }
    moment = created_at or datetime.now(UTC)
    return {
        "batch_id": batch_id,
        "source_file": source_file,
        "sha256": sha256,
        "counts": counts,
        "rejection_reasons": rejection_reasons(rejected, top=10),
        "source_format": dict(source_format or {}),
        "held_back": dict(held_back or {"products": 0}),
        "files": {name: str(p) for name, p in files.items()},
        "created_at": moment.astimezone(UTC).isoformat(),
    }


def write_summary(summary: Mapping[str, Any], path: Path) -> None:
    """Write ``summary.json`` (pretty, sorted keys); adds ``created_at`` (UTC) when missing."""
    content = dict(summary)
    content.setdefault("created_at", datetime.now(UTC).isoformat())
    with atomic_text(path, newline="\n") as f:
        json.dump(content, f, ensure_ascii=False, indent=2, sort_keys=True, default=_plain)
        f.write("\n")


def _plain(value: Any) -> Any:
    """JSON for the few non-JSON values a summary may hold (paths, timestamps, NumPy numbers)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return str(value)
