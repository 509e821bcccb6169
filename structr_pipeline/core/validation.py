"""Normalize mapped product rows, validate them against the schema, split valid from rejected.

Normalization cleans every cell (text, prices, numbers, barcodes, HTML) and reports what
it could not read or the catalog could not hold; image URLs that are not ``http(s)``
addresses are dropped with a warning naming where they were. The pandera schema then
checks every row lazily, so one pass finds every problem. A row with any error is
rejected with its original cells and every reason; nothing is dropped: each source line
ends up in exactly one of the two frames.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from structr_pipeline.core.connectors.registry import source_header
from structr_pipeline.core.fields import (
    CANONICAL_FIELDS,
    IMAGES,
    MONEY_FIELDS,
    PARSE_ERROR,
    PRODUCT_FRAME_COLUMNS,
    ROW_ERRORS,
    SOURCE_LINE,
    SOURCE_LINES,
    WARNINGS,
)
from structr_pipeline.core.issues import RowIssue, issues_from_json, issues_to_json
from structr_pipeline.core.normalize import (
    OutOfRange,
    clean_text,
    image_url_problem,
    normalize_barcode,
    normalize_status,
    normalize_tags,
    parse_price,
    parse_weight,
    parse_whole_number,
    sanitize_html,
)
from structr_pipeline.core.schema import ProductVariant, check_name, describe_failure
from structr_pipeline.core.values import as_text, map_distinct

# The columns of a rejected-rows frame.
ORIGINAL = "original"
ERRORS = "errors"
REJECTED_COLUMNS: tuple[str, ...] = (SOURCE_LINE, SOURCE_LINES, ORIGINAL, ERRORS)

IMAGE_URL_REFUSED = "image_url_refused"
_CELL_COUNT = re.compile(r"has (\d+) cells? but the header has (\d+)")
# A JSON item that could not be converted names the field at fault: "field 'price': …".
_NAMED_FIELD = re.compile(r"field '([^']+)'")


@dataclass(frozen=True)
class ValidationResult:
    """Valid rows (typed, the schema's columns) and rejected rows (original cells, reasons)."""

    valid: pd.DataFrame
    rejected: pd.DataFrame
    warnings_count: int
    fixes: dict[str, int]


class _Findings:
    """Errors and warnings per row, and which fields already have an error."""

    def __init__(self, lines: list[int], column_of: Callable[[str], str]) -> None:
        self.lines = lines
        self.column_of = column_of
        self.errors: list[list[RowIssue]] = [[] for _ in lines]
        self.warnings: list[list[RowIssue]] = [[] for _ in lines]
        self.failed: list[set[str]] = [set() for _ in lines]
        self.fixes: Counter[str] = Counter()

    def error(self, i: int, field: str, check: str, value: str, message: str) -> None:
        self.errors[i].append(RowIssue(self.lines[i], self.column_of(field), check, value, message))
        self.failed[i].add(field)

    def warning(self, i: int, field: str, check: str, value: str, message: str) -> None:
        self.warnings[i].append(
            RowIssue(self.lines[i], self.column_of(field), check, value, message)
        )


def _shape_issue(line: int, message: str, header: list[str]) -> RowIssue:
    """The issue for a row whose cell count does not match the header, naming the column."""
    match = _CELL_COUNT.search(message)
    column = header[-1] if header else ""
    named = _NAMED_FIELD.search(message)
    if named:
        column = named.group(1)
    if match:
        found = int(match.group(1))
        if found < len(header):
            column = header[found]
    return RowIssue(line, column, "row_shape", "", message)


def _normalize(mapped: pd.DataFrame, findings: _Findings) -> dict[str, Any]:
    """Every canonical field cleaned and typed; unreadable cells become errors."""
    columns: dict[str, Any] = {}
    for name in CANONICAL_FIELDS:
        raw = mapped[name].tolist()
        if name in MONEY_FIELDS or name in ("inventory_qty", "weight_grams"):
            parser = {
                "inventory_qty": parse_whole_number,
                "weight_grams": parse_weight,
            }.get(name, parse_price)
            parsed = map_distinct(raw, parser)
            for i, (_, problem) in enumerate(parsed):
                if problem:
                    kind = "range" if isinstance(problem, OutOfRange) else "format"
                    findings.error(i, name, f"{name}_{kind}", raw[i], problem)
            numbers = [value for value, _ in parsed]
            if name == "inventory_qty":
                columns[name] = pd.array(numbers, dtype="Int64")
            else:
                columns[name] = np.array(
                    [np.nan if v is None else v for v in numbers], dtype="float64"
                )
        elif name == "description_html":
            cleaned = map_distinct(raw, sanitize_html)
            for i, result in enumerate(cleaned):
                if result.active:
                    findings.warning(
                        i,
                        name,
                        "html_sanitized",
                        "",
                        "the sanitizer removed " + ", ".join(result.removed),
                    )
                elif result.removed:
                    findings.fixes["html_markup_dropped"] += 1
            columns[name] = [result.html for result in cleaned]
        elif name == "barcode":
            barcodes = map_distinct(raw, normalize_barcode)
            for i, barcode in enumerate(barcodes):
                if barcode.check == "barcode_not_gtin":
                    # A store's own code, kept as its barcode; the audit reports it.
                    findings.fixes["barcode_store_code_kept"] += 1
                elif barcode.check:
                    findings.warning(i, name, barcode.check, raw[i], barcode.message or "")
                if barcode.unquoted:
                    findings.fixes["barcode_apostrophe_removed"] += 1
            columns[name] = [b.value for b in barcodes]
        elif name == "tags":
            columns[name] = map_distinct(raw, normalize_tags)
        elif name == "status":
            columns[name] = map_distinct(raw, normalize_status)
        else:
            columns[name] = map_distinct(raw, clean_text)
    return columns


def _refused_images(text: str) -> tuple[str, list[tuple[str, str]]]:
    """A row's images JSON without the URLs ``image_url_problem`` refuses, and those URLs.

    The kept images are numbered 1..n again; the text is returned unchanged when every
    URL is fine.
    """
    images = json.loads(text) if text and text != "[]" else []
    problems = [image_url_problem(image["src"]) for image in images]
    refused = [(image["src"], p) for image, p in zip(images, problems, strict=True) if p]
    if not refused:
        return text, []
    kept = [image for image, p in zip(images, problems, strict=True) if not p]
    renumbered = [{**image, "position": n} for n, image in enumerate(kept, start=1)]
    return json.dumps(renumbered, ensure_ascii=False), refused


class _CellFinder:
    """Finds the source line and column a URL came from, among the lines a row accounts for."""

    def __init__(
        self, source_rows: pd.DataFrame, header: list[str], field_sources: dict[str, str]
    ) -> None:
        self.source_rows = source_rows
        image_columns = [
            column
            for field, column in field_sources.items()
            if field == "image_src" or field.startswith("images.")
        ]
        self.columns = [c for c in header if c in image_columns] + [
            c for c in header if c not in image_columns
        ]
        self.position: dict[int, int] | None = None

    def find(self, lines: list[int], value: str) -> tuple[int, str] | None:
        """The first ``(line, column)`` whose cell is ``value``, else the first holding it.

        Image columns are searched first; a cell of several URLs holds each of them.
        """
        if self.position is None:
            self.position = {
                int(line): p for p, line in enumerate(self.source_rows[SOURCE_LINE].tolist())
            }
        cells = [
            (line, column, clean_text(as_text(self.source_rows[column].iat[p])))
            for line in lines
            if (p := self.position.get(line)) is not None
            for column in self.columns
        ]
        for line, column, cell in cells:
            if cell == value:
                return line, column
        for line, column, cell in cells:
            if value in cell:
                return line, column
        return None


def _drop_refused_images(
    columns: dict[str, Any],
    images: list[str],
    handles: list[str],
    source_lines: list[str],
    findings: _Findings,
    finder: _CellFinder,
) -> list[str]:
    """Drop every image URL ``image_url_problem`` refuses; returns the rows' images JSON.

    The variant's own image (``image_src``, its alt text with it) and the product's
    images are checked. Each dropped URL is a warning, once per product, naming the line
    and column it was read from; the product itself is kept.
    """
    reported: set[tuple[str, str]] = set()
    own, alt = columns["image_src"], columns["image_alt"]
    for i, url in enumerate(own):
        problem = image_url_problem(url) if url else None
        if problem:
            own[i], alt[i] = "", ""
            if (handles[i], url) not in reported:
                reported.add((handles[i], url))
                findings.warning(
                    i, "image_src", IMAGE_URL_REFUSED, url, f"{problem}; image dropped"
                )
    checked = map_distinct(images, _refused_images)
    out = []
    for i, (kept, refused) in enumerate(checked):
        out.append(kept)
        for url, problem in refused:
            if (handles[i], url) in reported:
                continue
            reported.add((handles[i], url))
            found = finder.find(json.loads(source_lines[i]), url)
            line, column = found or (findings.lines[i], findings.column_of("image_src"))
            findings.warnings[i].append(
                RowIssue(line, column, IMAGE_URL_REFUSED, url, f"{problem}; image dropped")
            )
    return out


def _schema_failures(typed: pd.DataFrame, findings: _Findings, skip: list[bool]) -> None:
    """Run the schema lazily and record each failure not already explained by a parse error."""
    try:
        ProductVariant.validate(typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for field, check, value, index in zip(
            cases["column"], cases["check"], cases["failure_case"], cases["index"], strict=True
        ):
            if index is None or pd.isna(index):
                raise  # a whole-frame failure (a dtype or a column) is a bug, not bad input
            i = int(index)
            if skip[i] or field in findings.failed[i]:
                continue
            shown = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
            findings.error(
                i,
                field,
                check_name(str(check)),
                str(shown),
                describe_failure(str(check), shown),
            )


def validate_products(
    mapped: pd.DataFrame,
    source_rows: pd.DataFrame,
    field_sources: dict[str, str],
    file_name: str,
) -> ValidationResult:
    """Normalize and validate mapped rows; every source line ends up valid or rejected.

    ``source_rows`` gives back the original cells of rejected rows; ``field_sources``
    names the user's column for each canonical field, so every reason names the column
    as the file spells it. Image-only lines folded into a rejected row move to another
    accepted row of the same product, or are rejected with it when there is none.
    """
    header = source_header(source_rows)
    mapped = mapped.reset_index(drop=True)
    lines = [int(x) for x in mapped[SOURCE_LINE].tolist()]
    findings = _Findings(lines, lambda field: field_sources.get(field, field))

    broken = [bool(e) for e in mapped[PARSE_ERROR].tolist()] if PARSE_ERROR in mapped else []
    broken = broken or [False] * len(mapped)
    for i, problem in enumerate(broken):
        if problem:
            findings.errors[i].append(_shape_issue(lines[i], mapped[PARSE_ERROR].iat[i], header))
    # A row a connector could not make part of a product is rejected for that reason only.
    row_errors = mapped[ROW_ERRORS].tolist() if ROW_ERRORS in mapped else []
    for i, text in enumerate(row_errors):
        if text and text != "[]" and not broken[i]:
            findings.errors[i].extend(issues_from_json(text))
            broken[i] = True

    columns = _normalize(mapped, findings)
    images = _drop_refused_images(
        columns,
        [as_text(text) for text in mapped[IMAGES].tolist()],
        columns["handle"],
        [as_text(text) for text in mapped[SOURCE_LINES].tolist()],
        findings,
        _CellFinder(source_rows, header, field_sources),
    )
    # Text columns come as lists: typed as object here, so even an empty frame (a batch
    # of deletes only) has the dtypes the schema expects.
    typed = pd.DataFrame(
        {
            name: np.asarray(columns[name], dtype=object)
            if isinstance(columns[name], list)
            else columns[name]
            for name in CANONICAL_FIELDS
        }
    )
    typed[SOURCE_LINE] = np.array(lines, dtype="int64")
    for name in ("attributes", WARNINGS, SOURCE_LINES):
        typed[name] = mapped[name].astype(object).to_numpy()
    typed[IMAGES] = np.asarray(images, dtype=object)
    typed = typed[list(PRODUCT_FRAME_COLUMNS)]
    _schema_failures(typed, findings, broken)

    rejected_mask = np.array([bool(e) for e in findings.errors], dtype=bool)
    for i, problem in enumerate(broken):
        if problem and not (row_errors and row_errors[i] not in ("", "[]")):
            # only the shape error: the other cells of a ragged row are shifted
            findings.errors[i] = [findings.errors[i][0]]

    source_lines = [json.loads(text) for text in typed[SOURCE_LINES].tolist()]
    orphans = _move_folded_lines(typed["handle"].tolist(), source_lines, rejected_mask)
    typed[SOURCE_LINES] = [json.dumps(v) for v in source_lines]

    warnings_text = []
    for i, text in enumerate(typed[WARNINGS].tolist()):
        issues = (issues_from_json(text) if text and text != "[]" else []) + findings.warnings[i]
        warnings_text.append(issues_to_json(issues))
    typed[WARNINGS] = warnings_text
    valid = typed[~rejected_mask].reset_index(drop=True)

    rejected_entries = [
        (lines[i], findings.errors[i]) for i in np.flatnonzero(rejected_mask).tolist()
    ]
    handle_column = field_sources.get("handle", "handle")
    for line, handle, product_line in orphans:
        rejected_entries.append(
            (
                line,
                [
                    RowIssue(
                        line,
                        handle_column,
                        "product_rejected",
                        handle,
                        f"this row (an image or parent row) belongs to product '{handle}', "
                        f"whose every variant row was rejected (see line {product_line})",
                    )
                ],
            )
        )
    rejected = _rejected_frame(rejected_entries, source_rows, header)
    warned = int((valid[WARNINGS] != "[]").sum())
    return ValidationResult(
        valid=valid, rejected=rejected, warnings_count=warned, fixes=dict(findings.fixes)
    )


def _move_folded_lines(
    handles: list[str], source_lines: list[list[int]], rejected: np.ndarray
) -> list[tuple[int, str, int]]:
    """Give folded image lines of rejected rows to an accepted row of the same product.

    Changes ``source_lines`` in place; returns the lines that no accepted row can take,
    as ``(line, handle, line of the rejected product row)``.
    """
    first_accepted: dict[str, int] = {}
    for i, handle in enumerate(handles):
        if handle and not rejected[i] and handle not in first_accepted:
            first_accepted[handle] = i
    orphans = []
    for i in np.flatnonzero(rejected).tolist():
        own, *folded = source_lines[i]
        if not folded:
            continue
        source_lines[i] = [own]
        target = first_accepted.get(handles[i])
        if target is not None:
            source_lines[target].extend(folded)
        else:
            orphans.extend((line, handles[i], own) for line in folded)
    return orphans


def _rejected_frame(
    entries: list[tuple[int, list[RowIssue]]], source_rows: pd.DataFrame, header: list[str]
) -> pd.DataFrame:
    """Rejected rows in line order: original cells as JSON and every reason."""
    entries = sorted(entries, key=lambda entry: entry[0])
    position = {int(line): p for p, line in enumerate(source_rows[SOURCE_LINE].tolist())}
    picked = source_rows.iloc[[position[line] for line, _ in entries]][header]
    originals = [json.dumps(record, ensure_ascii=False) for record in picked.to_dict("records")]
    return pd.DataFrame(
        {
            SOURCE_LINE: pd.Series([line for line, _ in entries], dtype="int64"),
            SOURCE_LINES: pd.Series([json.dumps([line]) for line, _ in entries], dtype=object),
            ORIGINAL: pd.Series(originals, dtype=object),
            ERRORS: pd.Series([issues_to_json(issues) for _, issues in entries], dtype=object),
        },
        columns=list(REJECTED_COLUMNS),
    )
