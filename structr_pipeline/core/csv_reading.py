"""Reading a delimited text file into a frame of strings, detecting what nobody configured.

``read_table`` guesses the encoding and the delimiter, takes the first non-empty record
as the header (in an Amazon inventory template, whose first record starts with
``TemplateType=``, the row of field names below its preamble) and returns every record
as one row of untouched ``str`` cells, together
with the physical line it starts on (``SOURCE_LINE``) and, for a row whose cell count
differs from the header's, a sentence saying so (``PARSE_ERROR``). A file that cannot be
read as a table at all raises ``SourceFileError`` naming the file, the line and the column.

A UTF-8 file with some lines in cp1252 (rows pasted from another export) is decoded line
by line: each line that is not valid UTF-8 is read as cp1252, and ``SourceTable.warnings``
names those lines.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from structr_pipeline.core.fields import PARSE_ERROR, SOURCE_LINE
from structr_pipeline.core.issues import SourceFileError

DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_TRIED_DELIMITERS = "tried ',', ';', tab, '|' and every other punctuation character in the header"
# Share of the sampled records after the header that must have the header's cell count for
# a delimiter outside ``DELIMITERS`` to be chosen (and below which a common one is not
# clearly consistent).
_RARE_CONSISTENCY = 0.95
# Characters common inside header names and product text, never taken for a delimiter.
_TEXT_CHARS = frozenset(".-_'/()&%+*!?=@$€£<>[]{}\u2018\u2019\u201c\u201d\u2013\u2014\u2026°™®©")
# Control characters that files use as delimiters (ASCII file, group, record, unit separators).
_SEPARATOR_CONTROLS = frozenset("\x1c\x1d\x1e\x1f")

# Records (header included) parsed with each candidate delimiter to judge it.
_SAMPLE_RECORDS = 51
_SAMPLE_CHARS = 1 << 20
# Share of control characters in the first 8 KiB above which the text is called binary.
_BINARY_SAMPLE_CHARS = 8192
_BINARY_CONTROL_SHARE = 0.10
# The stdlib default (128 Ki characters) is too small for long HTML descriptions.
_FIELD_SIZE_LIMIT = 16 * 1024 * 1024

# The separator controls (\x1c-\x1f) are left out: a file may use them as its delimiter.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1b\x7f-\x9f]")
_LINE_BREAK = re.compile(r"\r\n?|\n")
_BREAK_CHAR = re.compile(r"[\r\n]")
_BYTE_LINE_BREAK = re.compile(rb"\r\n?|\n")
# Decoding as UTF-8 with ``surrogateescape`` turns each byte that is not UTF-8 into one of these.
_ESCAPED_BYTE = re.compile(r"[\udc80-\udcff]")
# Line numbers listed in a warning before "and N more".
_LISTED_LINES = 10
_VISIBLE = re.compile(r"[^\s\ufeff]")
_RESERVED_NAMES = (SOURCE_LINE, PARSE_ERROR)
# An Amazon inventory template (a category's flat file saved as text) starts with a
# preamble: ``TemplateType=fptcustom``, ``Version=…`` and settings cells, then a row of
# local labels ("Seller SKU"), then the row of field names the records follow.
_TEMPLATE_MARK = "templatetype="
_TEMPLATE_SKU = frozenset({"item_sku", "sku"})
_TEMPLATE_PRODUCT_TYPE = frozenset({"feed_product_type", "product_type"})
# Lines below the ``TemplateType=`` row within which its field names must come.
_TEMPLATE_PREAMBLE_LINES = 10


@dataclass(frozen=True)
class SourceTable:
    """A source file read as a table: the frame plus what was detected about the file."""

    frame: pd.DataFrame
    header: list[str]
    encoding: str
    delimiter: str
    file_name: str
    # Sentences about the reading a person should check (lines decoded as cp1252).
    warnings: tuple[str, ...] = ()


def read_table(
    path: Path,
    file_name: str | None = None,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> SourceTable:
    """Read a CSV-like file into a ``SourceTable`` of string cells.

    The encoding (BOM, then strict UTF-8, cp1252, latin-1) and the delimiter (``, ; tab |``,
    or another punctuation character of the header such as ``#`` ``^`` ``~`` ``:`` or
    ``\\x1f`` when only it splits the records consistently) are detected unless given (a
    mapping profile may fix them). The frame has one row per record, the header names as
    columns (every cell a ``str``, missing cells ``""``), then ``SOURCE_LINE`` (the 1-based
    physical line the record starts on) and ``PARSE_ERROR`` ("" unless the record has a
    different number of cells than the header). ``file_name`` (default: ``path.name``) is
    the name used in every error message.

    A UTF-8 file whose other lines are not UTF-8 has those lines read as cp1252; its
    ``encoding`` is then ``utf-8+cp1252`` and ``warnings`` names the lines.

    Raises ``SourceFileError`` when the file is empty, binary, not a table, has a header
    but no rows, a duplicated header name, a quoted cell that is never closed, or a cell
    longer than 16 Mi characters.
    """
    path = Path(path)
    name = file_name if file_name is not None else path.name
    return _read(name, path.read_bytes(), encoding, delimiter, limit=None, truncated=False)


def read_sample(
    path: Path,
    max_rows: int = 1000,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_bytes: int = 8 << 20,
) -> SourceTable:
    """Read only the start of a file: at most ``max_rows`` records from its first bytes.

    Detection works as in ``read_table`` but on what was read, so a large file is
    analysed in about the time a small one takes. A record cut off by the byte limit is
    left out.
    """
    path = Path(path)
    with path.open("rb") as f:
        return sample_table(
            f, path.name, max_rows, encoding=encoding, delimiter=delimiter, max_bytes=max_bytes
        )


def sample_table(
    f: BinaryIO,
    file_name: str,
    max_rows: int = 1000,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_bytes: int = 8 << 20,
) -> SourceTable:
    """``read_sample`` on a file already open for reading in binary, named ``file_name``."""
    data = f.read(max_bytes + 1)
    truncated = len(data) > max_bytes
    if truncated:
        data = data[: data.rfind(b"\n", 0, max_bytes) + 1] or data[:max_bytes]
    return _read(file_name, data, encoding, delimiter, limit=max_rows, truncated=truncated)


def _read(
    name: str,
    data: bytes,
    encoding: str | None,
    delimiter: str | None,
    limit: int | None,
    truncated: bool,
) -> SourceTable:
    if not data:
        raise SourceFileError(name, "the file is empty (0 bytes)")
    warnings: tuple[str, ...] = ()
    if encoding:
        try:
            text = data.decode(encoding)
        except LookupError as exc:
            raise SourceFileError(name, f"cannot be decoded as {encoding}: {exc}") from exc
        except UnicodeDecodeError as exc:
            line = len(_BYTE_LINE_BREAK.findall(data, 0, exc.start)) + 1
            raise SourceFileError(
                name, f"cannot be decoded as {encoding}: {exc.reason}", line=line
            ) from exc
    else:
        text, encoding, warnings = _decode(data)
    visible = _VISIBLE.search(text)
    if visible is None:
        raise SourceFileError(name, "the file is empty (it holds only whitespace and blank lines)")
    _check_text(name, data, text, encoding)
    _check_not_other_format(name, text, visible.start())

    previous_limit = csv.field_size_limit(_FIELD_SIZE_LIMIT)
    try:
        delimiter = delimiter or _detect_delimiter(name, text)
        frame, header = _parse(name, text, delimiter, limit, truncated)
    finally:
        csv.field_size_limit(previous_limit)
    return SourceTable(
        frame=frame,
        header=header,
        encoding=encoding,
        delimiter=delimiter,
        file_name=name,
        warnings=warnings,
    )


def _decode(data: bytes) -> tuple[str, str, tuple[str, ...]]:
    """Decode the bytes: the text, the name of the encoding that worked and any warnings.

    A file that is valid UTF-8 but for some lines (or starts with a UTF-8 BOM) is decoded
    line by line; the warnings name the lines that were not UTF-8.
    """
    bom = data.startswith(codecs.BOM_UTF8)
    if bom:
        try:
            return data.decode("utf-8-sig"), "utf-8-sig", ()
        except UnicodeDecodeError:
            pass
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", ()
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8", ()
    except UnicodeDecodeError as exc:
        utf8_known = bom or not data[: exc.start].isascii()
    mixed = _decode_lines(data[len(codecs.BOM_UTF8) :] if bom else data, utf8_known)
    if mixed is not None:
        text, recoded = mixed
        base = "utf-8-sig" if bom else "utf-8"
        warnings = tuple(
            f"{_lines_phrase(lines)} not valid UTF-8, unlike the rest of the file, and "
            f"{'was' if len(lines) == 1 else 'were'} read as {other}: check that "
            f"{'its' if len(lines) == 1 else 'their'} accented letters read right"
            for other, lines in recoded.items()
        )
        return text, "+".join((base, *recoded)), warnings
    try:
        return data.decode("cp1252"), "cp1252", ()
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1", ()


def _decode_lines(data: bytes, utf8_known: bool) -> tuple[str, dict[str, list[int]]] | None:
    """Decode UTF-8 text some of whose physical lines are not UTF-8, line by line.

    Those lines are read as cp1252 (as latin-1 if they hold a byte cp1252 leaves
    undefined). Returns the text and, per encoding used, the 1-based lines read with it;
    None when no line outside those holds a UTF-8 sequence (the file is not UTF-8 at all),
    unless ``utf8_known`` (a BOM or a UTF-8 sequence already seen said so).
    """
    if not utf8_known and data.decode("utf-8", "ignore").isascii():
        return None
    text = data.decode("utf-8", "surrogateescape")
    pieces: list[str] = []
    recoded: dict[str, list[int]] = {}
    utf8_seen = utf8_known
    done = 0  # text before this offset is in ``pieces``
    line, counted = 1, 0  # ``line`` is the line starting at offset ``counted``
    escaped = _ESCAPED_BYTE.search(text)
    while escaped is not None:
        at = escaped.start()
        before = max(text.rfind("\n", done, at), text.rfind("\r", done, at))
        start = before + 1 if before >= 0 else done
        found = _BREAK_CHAR.search(text, at)
        end = found.start() if found is not None else len(text)
        line += _count_breaks(text, counted, start)
        counted = start
        kept = text[done:start]
        utf8_seen = utf8_seen or not kept.isascii()
        raw = text[start:end].encode("utf-8", "surrogateescape")
        try:
            pieces += (kept, raw.decode("cp1252"))
            recoded.setdefault("cp1252", []).append(line)
        except UnicodeDecodeError:
            pieces += (kept, raw.decode("latin-1"))
            recoded.setdefault("latin-1", []).append(line)
        done = end
        escaped = _ESCAPED_BYTE.search(text, end)
    rest = text[done:]
    if not (utf8_seen or not rest.isascii()):
        return None  # every non-ASCII byte was in a line that is not UTF-8
    pieces.append(rest)
    return "".join(pieces), recoded


def _count_breaks(text: str, start: int, end: int) -> int:
    """The line breaks (``\\r\\n``, ``\\r`` or ``\\n``) in ``text[start:end]``."""
    return (
        text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    )


def _lines_phrase(lines: list[int]) -> str:
    """``line 3 is``, ``lines 3 and 7 are``, ``lines 3, 7, … and 12 more are``."""
    if len(lines) == 1:
        return f"line {lines[0]} is"
    shown = [str(n) for n in lines[:_LISTED_LINES]]
    hidden = len(lines) - len(shown)
    if hidden:
        return f"lines {', '.join(shown)} and {hidden} more are"
    return f"lines {', '.join(shown[:-1])} and {shown[-1]} are"


def _line_of(text: str, index: int) -> int:
    """The 1-based physical line holding ``text[index]``."""
    return len(_LINE_BREAK.findall(text, 0, index)) + 1


def _check_text(name: str, data: bytes, text: str, encoding: str) -> None:
    """Raise if the decoded text looks like binary content rather than text."""
    nul = text.find("\x00")
    if nul >= 0:
        reason = (
            f"does not look like a text file (binary content: NUL characters after decoding "
            f"as {encoding}, the first on line {_line_of(text, nul)}){_binary_hint(data)}"
        )
        raise SourceFileError(name, reason)
    sample = text[:_BINARY_SAMPLE_CHARS]
    controls = len(_CONTROL_CHARS.findall(sample))
    if controls > _BINARY_CONTROL_SHARE * len(sample):
        reason = (
            f"does not look like a text file (binary content: {controls} of the first "
            f"{len(sample)} characters are control characters after decoding as {encoding})"
            f"{_binary_hint(data)}"
        )
        raise SourceFileError(name, reason)


def _binary_hint(data: bytes) -> str:
    """A suggestion for the commonest binary files people upload instead of a CSV."""
    if data.startswith(b"PK\x03\x04"):
        return "; it looks like an Excel workbook or a ZIP archive: export the sheet as CSV"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "; it looks like an old Excel (.xls) workbook: export the sheet as CSV"
    head = data[:_BINARY_SAMPLE_CHARS]
    if len(head) >= 4 and max(head[0::2].count(0), head[1::2].count(0)) > len(head) // 4:
        return "; it looks like UTF-16 text without a byte-order mark: save it as UTF-8"
    return ""


def _check_not_other_format(name: str, text: str, first_visible: int) -> None:
    """Raise if the first non-empty line shows the file is JSON, HTML or XML."""
    first = text[first_visible]
    if first in "{[":
        raise SourceFileError(
            name,
            f"looks like JSON, not a CSV table (the first line starts with '{first}')",
            line=_line_of(text, first_visible),
        )
    if first == "<":
        raise SourceFileError(
            name,
            "looks like HTML or XML, not a CSV table (the first line starts with '<')",
            line=_line_of(text, first_visible),
        )


def _is_blank(cells: list[str]) -> bool:
    """True for a record with no visible content (it cannot be the header)."""
    return all(not cell.replace("\ufeff", "").strip() for cell in cells)


def _starts_template(cells: list[str]) -> bool:
    """True for the first record of an Amazon inventory template (``TemplateType=…``)."""
    return cells[0].replace("\ufeff", "").strip().lower().startswith(_TEMPLATE_MARK)


def _is_template_fields(cells: list[str]) -> bool:
    """True for a template's row of field names (``item_sku`` and ``feed_product_type``)."""
    names = {cell.strip().lower() for cell in cells}
    return bool(names & _TEMPLATE_SKU) and bool(names & _TEMPLATE_PRODUCT_TYPE)


def _reader(lines: Iterable[str], delimiter: str):
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def _detect_delimiter(name: str, text: str) -> str:
    """Pick the delimiter giving a multi-cell header and the most consistent cell counts.

    ``DELIMITERS`` are judged first and win ties in their order. Any other punctuation
    character of the header line (``_rare_candidates``) is then judged, and wins only when
    no common delimiter gives a clearly consistent table and it does: at least one record
    and at least ``_RARE_CONSISTENCY`` of the sampled records with the header's cell count.
    An Amazon template's ``TemplateType=`` row is not judged: its labels row is.
    """
    truncated = len(text) > _SAMPLE_CHARS
    sample = text[:_SAMPLE_CHARS]
    header_line = 1
    common: tuple[tuple[float, int, int], str] | None = None
    for rank, delimiter in enumerate(DELIMITERS):
        judged = _judge(sample, delimiter, truncated)
        if judged is None:
            continue
        line, counts = judged
        if counts[0] == 1:
            header_line = line
            continue
        score = (_consistency(counts), counts[0], -rank)
        if common is None or score > common[0]:
            common = (score, delimiter)
    if common is not None and common[0][0] >= _RARE_CONSISTENCY:
        return common[1]
    rare: tuple[tuple[float, int, int], str] | None = None
    splitting: list[str] = []  # rare candidates giving a multi-cell header
    for rank, delimiter in enumerate(_rare_candidates(sample)):
        judged = _judge(sample, delimiter, truncated)
        if judged is None or judged[1][0] == 1:
            continue
        counts = judged[1]
        splitting.append(delimiter)
        consistency = _consistency(counts)
        if len(counts) < 2 or consistency < _RARE_CONSISTENCY:
            continue
        score = (consistency, counts[0], -rank)
        if rare is None or score > rare[0]:
            rare = (score, delimiter)
    if rare is not None:
        return rare[1]
    if common is not None:
        return common[1]
    if splitting:
        shown = ", ".join(_shown(d) for d in splitting)
        reason = (
            f"the common ones give a single column, and {shown} "
            f"{'splits' if len(splitting) == 1 else 'split'} the header but not the records "
            "into the same number of cells"
        )
    else:
        reason = "every candidate gives a single column"
    raise SourceFileError(
        name,
        f"could not find a column delimiter in the header ({_TRIED_DELIMITERS}); {reason}",
        line=header_line,
    )


def _judge(sample: str, delimiter: str, truncated: bool) -> tuple[int, list[int]] | None:
    """The header's line and the cell counts of the first records read with ``delimiter``.

    Leading blank records and an Amazon template's ``TemplateType=`` row are passed over;
    None when no record remains. ``truncated`` says the sample is the start of a longer
    text, so its last record may be cut short and is not counted.
    """
    counts: list[int] = []
    line = 1
    reader = _reader(io.StringIO(sample, newline=""), delimiter)
    try:
        for cells in reader:
            # An Amazon template's first row may hold only a few cells of metadata.
            if not counts and (_is_blank(cells) or _starts_template(cells)):
                continue
            if not counts:
                line = reader.line_num
            counts.append(len(cells))
            if len(counts) >= _SAMPLE_RECORDS:
                break
        else:
            if truncated and len(counts) > 1:
                counts.pop()
    except csv.Error:
        pass
    return (line, counts) if counts else None


def _consistency(counts: list[int]) -> float:
    """The share of records after the header with as many cells as the header (1.0 if none)."""
    rows = counts[1:]
    return sum(c == counts[0] for c in rows) / len(rows) if rows else 1.0


def _rare_candidates(sample: str) -> list[str]:
    """The characters of the header line that could be an uncommon delimiter, in order.

    The header line is the first with visible content, past an Amazon template's
    ``TemplateType=`` row. Letters, digits, marks, spaces, the quote character, the
    ``DELIMITERS`` and ``_TEXT_CHARS`` are left out.
    """
    line = ""
    for match in re.finditer(r"[^\r\n]+", sample):
        candidate = match.group()
        if _VISIBLE.search(candidate) and not _starts_template([candidate]):
            line = candidate
            break
    found: list[str] = []
    for char in dict.fromkeys(line):
        if char in DELIMITERS or char in _TEXT_CHARS or char == '"':
            continue
        category = unicodedata.category(char)
        if category[0] in "PS" or char in _SEPARATOR_CONTROLS:
            found.append(char)
    return found


def _shown(delimiter: str) -> str:
    """A delimiter as a message names it: ``tab`` or the quoted character."""
    return "tab" if delimiter == "\t" else repr(delimiter)


class _EndOfInput:
    """Empty iterator that records that the csv reader asked for a line past the end."""

    def __init__(self) -> None:
        self.reached = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        self.reached = True
        raise StopIteration


def _unclosed_quote(name: str, line: int, column: str | None) -> SourceFileError:
    return SourceFileError(
        name,
        "a quoted cell that starts here is never closed, so the rest of the file was read "
        'into it; close the quote (a quote inside a cell is written as two quotes "")',
        line=line,
        column=column,
    )


def _oversized_cell(
    name: str, text: str, line: int, delimiter: str, header: list[str] | None
) -> SourceFileError:
    """The error for the record starting on ``line`` that holds a cell over the field limit.

    The record is read again without the limit to find which cell it is (its column) and
    how long; a record that then runs to the end of the input is an unclosed quote.
    """
    offset = 0
    if line > 1:
        offset = next(itertools.islice(_LINE_BREAK.finditer(text), line - 2, None)).end()
    end = _EndOfInput()
    reader = _reader(itertools.chain(io.StringIO(text[offset:], newline=""), end), delimiter)
    previous_limit = csv.field_size_limit(sys.maxsize)
    try:
        cells = next(reader, [])
    finally:
        csv.field_size_limit(previous_limit)
    index = max(range(len(cells)), key=lambda k: len(cells[k]), default=0)
    column = header[index] if header is not None and index < len(header) else None
    if end.reached:
        return _unclosed_quote(name, line, column)
    which = "the cell" if column is not None else f"cell {index + 1} of the record"
    size = len(cells[index]) if cells else 0
    return SourceFileError(
        name,
        f"{which} holds {size:,} characters, more than the {_FIELD_SIZE_LIMIT:,} a "
        "cell may hold; shorten it",
        line=line,
        column=column,
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _unescaped(cell: str) -> str:
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _ESCAPED_STARTS else cell


def _clean_header(name: str, cells: list[str], line: int) -> list[str]:
    """Clean the header cells, name empty ones ``column_<k>`` and reject duplicates.

    The apostrophe an export puts before a header cell that would run as a formula
    (``'=HYPERLINK(…)``) goes, as it does from data cells, so an exported file reads back
    with the names it was written from.
    """
    cleaned = [_unescaped(cell.replace("\ufeff", "")).strip() for cell in cells]
    positions: dict[str, list[int]] = {}
    for k, cell in enumerate(cleaned, start=1):
        if cell:
            positions.setdefault(cell, []).append(k)
    for cell, where in positions.items():
        if len(where) > 1:
            times = "twice" if len(where) == 2 else f"{len(where)} times"
            listed = ", ".join(str(k) for k in where[:-1]) + f" and {where[-1]}"
            raise SourceFileError(
                name,
                f"the header names column '{cell}' {times} (columns {listed}); rename one",
                line=line,
                column=cell,
            )
        if cell in _RESERVED_NAMES:
            raise SourceFileError(
                name,
                f"the header has a column named '{cell}', a name the pipeline keeps for its "
                "own bookkeeping; rename it",
                line=line,
                column=cell,
            )
    header: list[str] = []
    taken = set(positions)
    for k, cell in enumerate(cleaned, start=1):
        if not cell:
            cell = f"column_{k}"
            suffix = 2
            while cell in taken:
                cell = f"column_{k}_{suffix}"
                suffix += 1
            taken.add(cell)
        header.append(cell)
    return header


def _check_preamble(name: str, template_line: int, line: int | None) -> None:
    """Raise when an Amazon template's field names are not within its first lines.

    ``line`` starts the record being passed over as preamble, None at the end of the input.
    """
    if line is not None and line - template_line < _TEMPLATE_PREAMBLE_LINES:
        return
    raise SourceFileError(
        name,
        "starts like an Amazon inventory template (TemplateType=…), but no row within "
        f"{_TEMPLATE_PREAMBLE_LINES} lines of it holds the field names (item_sku and "
        "feed_product_type); keep the template's top three rows as Amazon wrote them",
        line=template_line,
    )


def _parse(
    name: str, text: str, delimiter: str, limit: int | None = None, truncated: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """Parse the text with ``delimiter`` into the frame and the cleaned header.

    ``limit`` stops after that many records; ``truncated`` says the text is the start of
    a longer file, so a record still open at its end is dropped rather than an error.
    """
    end = _EndOfInput()
    reader = _reader(itertools.chain(io.StringIO(text, newline=""), end), delimiter)
    header: list[str] | None = None
    header_line = 0
    # Line of an Amazon template's ``TemplateType=`` row while its field names are sought.
    template_line = 0
    width = 0
    rows: list[list[str]] = []
    starts: list[int] = []
    errors: list[str] = []
    start = 1
    try:
        for cells in reader:
            if end.reached and truncated:
                break
            if end.reached:
                column = None
                if header is not None and len(cells) <= width:
                    column = header[len(cells) - 1]
                raise _unclosed_quote(name, start, column)
            record_start = start
            start = reader.line_num + 1
            if header is None:
                if _is_blank(cells):
                    continue
                if not template_line and _starts_template(cells):
                    template_line = record_start
                    continue
                if template_line and not _is_template_fields(cells):
                    _check_preamble(name, template_line, record_start)
                    continue
                header_line = record_start
                header = _clean_header(name, cells, header_line)
                width = len(header)
                continue
            if not cells:
                continue
            count = len(cells)
            if count == width:
                errors.append("")
            elif count < width:
                errors.append(
                    f"the row has {_plural(count, 'cell')} but the header has {width}; "
                    "the missing cells were left empty"
                )
                cells = cells + [""] * (width - count)
            else:
                extra = ", ".join(repr(cell) for cell in cells[width:])
                errors.append(
                    f"the row has {count} cells but the header has {width}; extra cells: {extra}"
                )
                cells = cells[:width]
            rows.append(cells)
            starts.append(record_start)
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _oversized_cell(name, text, start, delimiter, header) from exc
        raise SourceFileError(
            name,
            f"the record that starts here cannot be read ({exc}); most likely a quoted cell "
            "that starts here is never closed",
            line=start,
        ) from exc

    if header is None and template_line:
        _check_preamble(name, template_line, None)
    if header is None:  # only blank records, which the emptiness check should have caught
        raise SourceFileError(name, "the file is empty (it holds only blank records)")
    if not rows:
        raise SourceFileError(
            name,
            f"the file has a header ({_plural(width, 'column')}) but no rows",
            line=header_line,
        )

    cells_2d = np.empty((len(rows), width), dtype=object)
    cells_2d[:] = rows
    frame = pd.DataFrame(cells_2d, columns=header, copy=False)
    frame[SOURCE_LINE] = np.asarray(starts, dtype=np.int64)
    frame[PARSE_ERROR] = np.asarray(errors, dtype=object)
    return frame, header
