"""The hostile corpus: every case generates its own bytes, and says what a merchant expects.

Nothing here is a stored binary: a 17 MB cell or a 10,000-column sheet is made when the
test runs (``Case.make``), so the repository keeps only this module. Each case is one
input file and one expected outcome:

``imports``
    ``structr import`` exits 0 and the bundle keeps every promise: every input row
    accounted for (``rows_in`` is the number of records written, and
    ``rows_accepted + rows_rejected + rows_merged == rows_in``), the named rows rejected
    with a reason naming their line and column, the named values kept exactly.
``refused``
    the import exits non-zero with one message naming the file (and, where the case
    says so, the line and the column), and nothing is published.
``either``
    both are acceptable (a file that can be read two honest ways); whichever happens
    must meet that outcome's expectations, and never produce wrong data (mojibake, a
    lost row).

``test_hostile_corpus.py`` runs every case through the real command line and applies,
besides the case's own expectations, the checks every bundle must pass (strict JSON,
CSV files that parse back into the counted rows, no cell a spreadsheet would run).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["imports", "refused", "either"]

# A spreadsheet runs (or skips to) a formula in a cell starting with one of these.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# What UTF-8 text read as cp1252/latin-1 (or undecodable bytes) turns into.
MOJIBAKE = ("Ã", "Â", "â€", "\ufffd")
FORMULA_HEADER = '=HYPERLINK("http://evil.example","x")'

# The legacy Shopify columns the cases use (a Shopify export may hold any subset).
HANDLE, TITLE, BODY, VENDOR, TAGS = "Handle", "Title", "Body (HTML)", "Vendor", "Tags"
SKU, PRICE, COMPARE = "Variant SKU", "Variant Price", "Variant Compare At Price"
QTY, GRAMS, IMAGE = "Variant Inventory Qty", "Variant Grams", "Image Src"


# --- what a bundle looks like to a check ---------------------------------------------------


def unescape(cell: str) -> str:
    """A cell of an exported CSV as it was before the formula escape (``'=x`` → ``=x``)."""
    if cell[:1] == "'" and cell[1:2] in FORMULA_START:
        return cell[1:]
    return cell


def is_inert(cell: str) -> bool:
    """True unless a spreadsheet would run the cell as a formula (plain numbers are fine)."""
    return not cell.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(cell) is not None


@dataclass
class Bundle:
    """One batch's exports, read back: ``csvs`` maps a file name to its rows, header first."""

    dir: Path
    summary: dict[str, Any]
    products: list[dict[str, Any]]
    csvs: dict[str, list[list[str]]]
    output: str

    @property
    def counts(self) -> dict[str, int]:
        return self.summary["counts"]

    def dicts(self, name: str) -> list[dict[str, str]]:
        """The data rows of an exported CSV as dicts keyed by its (escaped) header."""
        header, *rows = self.csvs[name]
        return [dict(zip(header, row, strict=True)) for row in rows]

    def variant(self, line: int) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """The product (and its variant, when the line is a variant row) holding ``line``."""
        for product in self.products:
            for variant in product["variants"]:
                if variant["source_line"] == line:
                    return product, variant
        for product in self.products:
            if line in product["source_lines"]:
                return product, None
        return None

    def accepted_lines(self) -> set[int]:
        return {line for p in self.products for line in p["source_lines"]}

    def rejected(self) -> dict[int, dict[str, str]]:
        """errors.csv rows by the line their first reason names."""
        found: dict[int, dict[str, str]] = {}
        for row in self.dicts("errors.csv"):
            reasons = row[list(row)[-1]]
            match = re.match(r"line (\d+)", reasons)
            assert match, f"errors.csv row whose reasons name no line: {reasons!r}"
            found[int(match.group(1))] = row
        return found

    def reason(self, line: int) -> str | None:
        row = self.rejected().get(line)
        return None if row is None else row[list(row)[-1]]

    def merged_lines(self) -> set[int]:
        return {
            line
            for row in self.dicts("merges.csv")
            for line in json.loads(unescape(row["merged_lines"]))
        }

    def held_back(self) -> set[str]:
        return set((self.summary.get("held_back") or {}).get("handles") or [])

    def shopify_rows(self, handle: str) -> list[dict[str, str]]:
        """The rows of ``shopify_import.csv`` for one product, cells unescaped."""
        return [
            {unescape(k): unescape(v) for k, v in row.items()}
            for row in self.dicts("shopify_import.csv")
            if unescape(row["URL handle"]) == handle
        ]

    def text_of_every_file(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8") for path in sorted(self.dir.iterdir()))


# --- expectations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """Line ``line`` is rejected; its reason names the line and (when given) ``column``."""

    line: int
    column: str | None
    contains: str = ""


@dataclass(frozen=True)
class Preserved:
    """The value at ``line``: a product field, a variant field or ``attributes.<column>``.

    ``shopify`` names the current-format column of ``shopify_import.csv`` whose cell (on
    that variant's row) must read back as ``shopify_value`` (default: ``value``) once
    unescaped, when the product is published.
    """

    line: int
    field: str
    value: Any
    shopify: str | None = None
    shopify_value: str | None = None

    def values_of(self, bundle: Bundle) -> Any:
        found = bundle.variant(self.line)
        assert found is not None, f"line {self.line} is not in products.jsonl"
        product, variant = found
        if self.field.startswith("attributes."):
            key = self.field.removeprefix("attributes.")
            merged = {**product["attributes"], **((variant or {}).get("attributes") or {})}
            assert key in merged, f"line {self.line}: attribute {key!r} was dropped"
            return merged[key]
        if self.field in product and self.field != "variants":
            return product[self.field]
        assert variant is not None, f"line {self.line} is not a variant row"
        return variant[self.field]


@dataclass(frozen=True)
class Warned:
    """Line ``line`` is accepted with a warning of ``check`` naming ``column``."""

    line: int
    column: str
    check: str


@dataclass(frozen=True)
class Refusal:
    """How a refused import must be worded: file name always; line, column, fragments."""

    line: int | None = None
    column: str | None = None
    contains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    name: str
    summary: str
    make: Callable[[], bytes]
    outcome: Outcome
    suffix: str = ".csv"
    # Expectations when the file imports.
    rows_in: int | None = None
    rejected: tuple[Rejected, ...] = ()
    accepted: tuple[int, ...] = ()
    preserved: tuple[Preserved, ...] = ()
    warned: tuple[Warned, ...] = ()
    never_published: tuple[str, ...] = ()  # in shopify_import.csv, in any letter case
    never_in_bundle: tuple[str, ...] = ()  # in any bundle file
    check: Callable[[Bundle], None] | None = None
    # Expectations when the file is refused.
    refusal: Refusal = field(default_factory=Refusal)
    max_seconds: float = 60.0

    @property
    def file_name(self) -> str:
        return self.name + self.suffix

    def write(self, folder: Path) -> Path:
        path = folder / self.file_name
        path.write_bytes(self.make())
        return path


# --- writing the files ----------------------------------------------------------------------


def table(
    header: list[str], rows: Iterable[Mapping[str, str] | list[str]], delimiter: str = ","
) -> str:
    """CSV text (CRLF, minimal quoting); a row is a list of cells or a dict by column."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if isinstance(row, Mapping):
            unknown = set(row) - set(header)
            assert not unknown, unknown
            row = [row.get(name, "") for name in header]
        writer.writerow(row)
    return buf.getvalue()


def utf8(text: str) -> Callable[[], bytes]:
    return lambda: text.encode("utf-8")


def product_row(handle: str, title: str, sku: str, price: str, **cells: str) -> dict[str, str]:
    return {HANDLE: handle, TITLE: title, SKU: sku, PRICE: price, **cells}


# --- encodings ------------------------------------------------------------------------------

CP1252_SHEET = table(
    ["Artikelnummer", "Bezeichnung", "Preis", "Hersteller", "Bestand"],
    [
        ["A-1", "Becher grün", "12,90", "Müller & Söhne", "4"],
        ["A-2", "Crème brûlée Schale", "8,50 €", "Müller & Söhne", "2"],
        ["A-3", "Größe L Tasse", "abc", "Müller & Söhne", "1"],
        ["A-4", "Teekanne „Ostfriesen“ – 1,5 l", "24,00", "Müller & Söhne", "3"],
    ],
    delimiter=";",
)


def _cp1252_error_row_kept(bundle: Bundle) -> None:
    row = bundle.rejected()[4]
    assert row["Bezeichnung"] == "Größe L Tasse", row
    assert row["Hersteller"] == "Müller & Söhne", row


UTF16_HEADER = [HANDLE, TITLE, VENDOR, SKU, PRICE]
UTF16_SHEET = table(
    UTF16_HEADER,
    [
        ["gruener-tee", "Grüner Tee 日本", "Müller", "TEE-1", "7.50"],
        ["tasse", "Tasse ☕", "Müller", "TASSE-1", "abc"],
    ],
    delimiter="\t",
)

BOM_SHEET = "\ufeff" + table(
    [HANDLE, TITLE, VENDOR, SKU, PRICE],
    [["bom-mug", "Mug", "Kiln", "BOM-1", "5.00"], ["bom-bowl", "Bowl", "Kiln", "BOM-2", "x"]],
)


def _bom_not_in_header(bundle: Bundle) -> None:
    assert bundle.csvs["errors.csv"][0][0] == "Handle", bundle.csvs["errors.csv"][0]
    assert "\ufeff" not in bundle.text_of_every_file()


def _mixed_encoding() -> bytes:
    head = table([HANDLE, TITLE, VENDOR, SKU, PRICE], [])
    return b"".join(
        (
            head.encode("utf-8"),
            "becher,Becher grün,Müller,MB-1,12.90\r\n".encode(),
            "groesse,Größe L Tasse,Café Müller,GT-1,8.50\r\n".encode("cp1252"),
            "schale,Schale weiß,Müller,MS-1,abc\r\n".encode(),
            "teller,Teller,Müller,MT-1,5.00\r\n".encode(),
        )
    )


def _mixed_error_row_kept(bundle: Bundle) -> None:
    row = bundle.rejected()[4]
    assert (row[TITLE], row[VENDOR]) == ("Schale weiß", "Müller"), row


# --- control characters, size, shape --------------------------------------------------------

NUL_SHEET = table(
    [HANDLE, TITLE, SKU, PRICE],
    [
        ["mug", "Mug", "MUG-1", "5.00"],
        ["nul", "Mu\x00g", "NUL-1", "6.00"],
        ["bowl", "Bowl", "B-1", "7"],
    ],
)


def _no_nul_published(bundle: Bundle) -> None:
    for name in ("products.jsonl", "shopify_import.csv"):
        assert "\x00" not in (bundle.dir / name).read_text(encoding="utf-8"), name


HUGE_CELL_CHARS = 17 * 1024 * 1024


def _huge_cell() -> bytes:
    return table(
        [HANDLE, TITLE, BODY, SKU, PRICE],
        [
            ["mug", "Mug", "<p>A mug.</p>", "MUG-1", "5.00"],
            ["huge", "Huge", "<p>" + "x" * HUGE_CELL_CHARS + "</p>", "HUGE-1", "6.00"],
            ["bowl", "Bowl", "<p>A bowl.</p>", "BOWL-1", "7.00"],
        ],
    ).encode("utf-8")


WIDE_COLUMNS = 10_000
WIDE_FIXED = [HANDLE, TITLE, SKU, PRICE]


def _wide() -> bytes:
    extra = [f"Spec {k}" for k in range(len(WIDE_FIXED), WIDE_COLUMNS)]
    rows = [
        [
            f"wide-{r}",
            f"Wide product {r}",
            f"W-{r}",
            "9.99",
            *(f"r{r}-{k}" for k in range(len(extra))),
        ]
        for r in range(3)
    ]
    return table(WIDE_FIXED + extra, rows).encode("utf-8")


def _wide_columns_kept(bundle: Bundle) -> None:
    product, variant = bundle.variant(2)
    attributes = {**product["attributes"], **variant["attributes"]}
    specs = [k for k in attributes if k.startswith("Spec ")]
    assert len(specs) == WIDE_COLUMNS - len(WIDE_FIXED), len(specs)


RAGGED_SHEET = (
    f"{HANDLE},{TITLE},{SKU},{PRICE},{VENDOR}\r\n"
    "ok-1,Fine row,OK-1,5.00,Kiln\r\n"
    "extra,Extra cells,EX-1,5.00,Kiln,surplus-one,surplus-two\r\n"
    "short,Short row,SH-1\r\n"
    "ok-2,Fine row two,OK-2,6.00,Kiln\r\n"
)


def _ragged_lines_accounted(bundle: Bundle) -> None:
    rejected = bundle.rejected()
    for line in (3, 4):
        if line in rejected:
            reason = rejected[line][list(rejected[line])[-1]]
            assert f"line {line}" in reason and "column '" in reason, reason
            assert "cell" in reason, reason  # says the row's cell count is off
        else:
            _, variant = bundle.variant(line)
            assert any(w["line"] == line for w in variant["warnings"]), (
                f"line {line} was padded or cut without a warning: {variant['warnings']}"
            )
    # the surplus cells are not silently lost: they are in the reason or kept somewhere
    assert "surplus-one" in bundle.text_of_every_file()


UNBALANCED_SHEET = (
    f"{HANDLE},{TITLE},{SKU},{PRICE}\r\n"
    "mug,Mug,MUG-1,5.00\r\n"
    'lamp,"Lamp with a 12 inch shade,LAMP-1,9.00\r\n'
    "bowl,Bowl,BOWL-1,7.00\r\n"
    "cup,Cup,CUP-1,3.00\r\n"
)

# --- formulas -------------------------------------------------------------------------------

FORMULA_EXTRA = [FORMULA_HEADER, "+SUM(1)", "-2+3", "@cmd", "\t=TAB()"]
FORMULA_COLUMNS = [
    HANDLE,
    TITLE,
    VENDOR,
    TAGS,
    "Option1 Name",
    "Option1 Value",
    SKU,
    PRICE,
    QTY,
    *FORMULA_EXTRA,
]
FORMULA_SHEET = table(
    FORMULA_COLUMNS,
    [
        # line 2: accepted, a formula in every text cell
        ["mug", "=1+1 Mug", "@Kiln", "+tag", "=Size", "-Small", "=SKU-1", "12.00", "-3",
         "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1"],
        # line 3: rejected (a formula as the price), formulas the merchant gets back;
        # its two quoted CRs are line breaks, so the record spans lines 3 to 5
        ["bowl", "\t=Tabbed", "\r=cr", "-tag", "", "", "@BOWL", "=1+2", "1",
         "-3.5", "\r", "=A1", "+x", "@y"],
        # line 6: the same SKU under another handle: listed as a possible duplicate
        ["-mug", "=1+1 Mug", "@Kiln", "+tag", "", "", "=SKU-1", "12.00", "2",
         "", "", "", "", ""],
        # line 7: a second variant of mug
        ["mug", "", "", "", "", "@Large", "=SKU-2", "9.50", "4", "", "", "", "", ""],
    ],
)  # fmt: skip


def _formulas_escaped_where_the_merchant_looks(bundle: Bundle) -> None:
    header = bundle.csvs["errors.csv"][0]
    for name in (FORMULA_HEADER, "+SUM(1)", "-2+3", "@cmd", "=TAB()"):
        assert "'" + name in header, (name, header)
    row = bundle.rejected()[3]
    cells = list(row.values())
    assert "-3.5" in cells, cells  # a plain negative number stays as it is
    assert "'\r" in cells, cells  # a bare CR comes back as a cell, escaped
    assert row[TITLE] == "'\t=Tabbed", row
    assert bundle.dicts("possible_duplicates.csv"), "the shared SKU =SKU-1 is not listed"
    (first, *_) = bundle.shopify_rows("mug")
    assert first["Inventory quantity"] == "-3", first
    raw = next(r for r in bundle.dicts("shopify_import.csv") if r["URL handle"] == "mug")
    assert raw["SKU"] == "'=SKU-1", raw


FORMULA_SUPPLIER = table(
    ["SKU", "Product Name", "Price", "Brand", "=Notes", "@Extra"],
    [
        ["=DUP-1", "=Mug one", "12,00", "+Kiln", "=1+1", "@x"],
        ["=DUP-1", "=Mug one", "12,00", "+Kiln", "-x", "+y"],  # merged into line 2
        ["@B-2", "+Bowl", "-3,5", "@Kiln", "\tTab", "-1"],  # rejected: below 0
        ["+C-3", "-Cup", "4,00", "-Brand", "", ""],
    ],
    delimiter=";",
)


def _merge_report_escaped(bundle: Bundle) -> None:
    merges = bundle.dicts("merges.csv")
    assert merges, "the two =DUP-1 rows were not merged"
    assert 3 in bundle.merged_lines(), merges
    assert any("'=DUP-1" in row.values() for row in merges), merges


# --- line breaks ----------------------------------------------------------------------------

BARE_CR_SHEET = table(
    [HANDLE, TITLE, SKU, PRICE, "Notes"],
    [
        ["mug", "Mug", "CR-1", "5.00", "\r"],  # line 2 (the quoted CR ends line 2)
        ["lid", "Lid\rwith\r\nbreaks", "CR-2", "abc", "\r"],  # line 4
        ["plate", "Plate", "CR-3", "4.00", "a\rb"],  # line 8
    ],
)


def _bare_cr_round_trips(bundle: Bundle) -> None:
    row = bundle.rejected()[4]
    assert row[TITLE] == "Lid\rwith\r\nbreaks", row
    assert row["Notes"] == "'\r", row
    product, variant = bundle.variant(2)
    notes = {**product["attributes"], **variant["attributes"]}.get("Notes", "")
    assert notes in ("\r", ""), repr(notes)
    for shopify in bundle.shopify_rows("mug"):
        assert shopify.get("Notes", "") == notes, shopify


CR_ONLY_SHEET = table(
    [HANDLE, TITLE, SKU, PRICE],
    [
        ["mug", "Mug", "MUG-1", "5.00"],
        ["bowl", "Bowl", "BOWL-1", "abc"],
        ["cup", "Café", "C-1", "3"],
    ],
).replace("\r\n", "\r")

MULTILINE_SHEET = table(
    [HANDLE, TITLE, BODY, SKU, PRICE],
    [
        ["mug", "Mug", "<p>one</p>\n<p>two</p>\n<p>three</p>", "MUG-1", "5.00"],  # lines 2-4
        ["bowl", "Bowl", "<p>bowl</p>", "BOWL-1", "abc"],  # line 5
        ["cup", "Cup", "<p>cup</p>\r\n<p>more</p>", "CUP-1", "3.00"],  # lines 6-7
        ["jug", "Jug", "", "JUG-1", "-1"],  # line 8
    ],
)

# --- HTML and URLs --------------------------------------------------------------------------

XSS_BODY = (
    '<p>Good mug</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
    '<a href="javascript:alert(3)">link</a><iframe src="https://evil.example/"></iframe>'
    '<p onclick="alert(4)">Click</p>'
)
XSS_TITLE = '<script>alert("title")</script>Mug'
HTML_SHEET = table(
    [HANDLE, TITLE, BODY, VENDOR, SKU, PRICE, "SEO Description"],
    [
        [
            "xss-mug",
            XSS_TITLE,
            XSS_BODY,
            "<b>Kiln</b>",
            "XSS-1",
            "12.00",
            '"><svg onload=alert(1)>',
        ],
        [
            "url-mug",
            "Mug https://evil.example/?q=<script>alert(5)</script>",
            '<p>See the <a href="https://shop.example/care">care guide</a>.</p>',
            "Kiln",
            "XSS-2",
            "9.00",
            "",
        ],
    ],
)


def _html_is_inert(bundle: Bundle) -> None:
    for product in bundle.products:
        html = product["description_html"].lower()
        for bad in ("<script", "onerror", "javascript:", "<iframe", "onclick"):
            assert bad not in html, (bad, html)
    product, _ = bundle.variant(3)
    assert 'href="https://shop.example/care"' in product["description_html"], product
    description = " ".join(row["Description"] for row in bundle.dicts("shopify_import.csv"))
    assert "<script" not in description.lower() and "onerror" not in description.lower()
    report = (bundle.dir / "report.html").read_text(encoding="utf-8")
    for payload in (XSS_TITLE, "<svg onload", "<script>alert(5)", "<b>Kiln</b>"):
        assert payload not in report, payload


BAD_IMAGE_URLS = [
    "javascript:alert(1)",
    "data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+",
    "images/lamp.jpg",
    "//evil.example/lamp.jpg",
    "file:///etc/passwd",
    'https://cdn.example.com/x.jpg" onerror="alert(1)',
]
GOOD_IMAGE = "https://cdn.example.com/good.jpg"
IMAGE_SHEET = table(
    [HANDLE, TITLE, SKU, PRICE, IMAGE],
    [
        ["lamp", "Lamp", "LAMP-1", "20.00", BAD_IMAGE_URLS[0]],  # line 2
        *(["lamp", "", "", "", url] for url in BAD_IMAGE_URLS[1:]),  # lines 3-7
        ["lamp", "", "", "", GOOD_IMAGE],  # line 8
        ["lamp", "", "", "", "JaVaScRiPt:alert(2)"],  # line 9
    ],
)


def _only_the_good_image(bundle: Bundle) -> None:
    (lamp,) = bundle.products
    assert [image["src"] for image in lamp["images"]] == [GOOD_IMAGE], lamp["images"]
    published = [row["Product image URL"] for row in bundle.shopify_rows("lamp")]
    assert [url for url in published if url] == [GOOD_IMAGE], published
    report = (bundle.dir / "report.html").read_text(encoding="utf-8").lower()
    for attribute in ('src="javascript:', "href='javascript:", 'href="javascript:', 'src="data:'):
        assert attribute not in report, attribute


# --- invisible, right-to-left, emoji --------------------------------------------------------

INVISIBLE_SHEET = table(
    [HANDLE, TITLE, VENDOR, SKU, PRICE],
    [
        ["hebrew-cup", "כוס קפה", "קדר", "HE-1", "12.00"],  # line 2
        ["arabic-cup", "كوب قهوة", "فخار", "AR-1", "12.00"],  # line 3
        ["rlm-cup", "Cup \u200fמק״ט\u200f", "\u200fKiln\u200f", "RLM-1", "12.00"],  # line 4
        ["rlo-cup", "Cup \u202egnirt\u202c", "Kiln", "RLO-1", "12.00"],  # line 5
        ["zw-a", "Zero width mug", "Kiln", "ZW\u200b-1", "10.00"],  # line 6
        ["zw-b", "Zero width mug", "Kiln", "ZW-1", "10.00"],  # line 7
        ["soft-a", "Soft hyphen bowl", "Kiln", "SOFT\u00ad-2", "7.00"],  # line 8
        ["soft-b", "Soft hyphen bowl", "Kiln", "SOFT-2", "7.00"],  # line 9
        ["invisible-title", "\u200b\u2060\ufeff", "Kiln", "INV-3", "5.00"],  # line 10
    ],
)


def _invisible_duplicates_found(bundle: Bundle) -> None:
    for line, plain in ((6, "ZW-1"), (8, "SOFT-2")):
        found = bundle.variant(line)
        if found is not None:  # not merged away: kept as written or without the mark
            sku = found[1]["sku"]
            assert sku.replace("\u200b", "").replace("\u00ad", "") == plain, repr(sku)
    pairs = {
        frozenset((unescape(r["handle"]), unescape(r["other_handle"])))
        for r in bundle.dicts("possible_duplicates.csv")
    }
    merged = bundle.merged_lines()
    for a, b, lines in (("zw-a", "zw-b", {6, 7}), ("soft-a", "soft-b", {8, 9})):
        assert frozenset((a, b)) in pairs or merged & lines, (
            f"{a} and {b} differ only by an invisible character in the SKU, yet are "
            f"neither merged nor listed as possible duplicates: {pairs}"
        )


EMOJI_SKUS = ["☕-MUG", "👍🏽-THUMB", "🇩🇪-FLAG", "👨\u200d👩\u200d👧-FAMILY", "❤\ufe0f-HEART"]
EMOJI_SHEET = table(
    [HANDLE, TITLE, "Option1 Name", "Option1 Value", SKU, PRICE],
    [
        ["emoji-mug", "Mug ☕🔥" if i == 0 else "", "Style" if i == 0 else "", sku.split("-")[0],
         sku, f"{10 + i}.00"]
        for i, sku in enumerate(EMOJI_SKUS)
    ],
)  # fmt: skip


def _emoji_variants_all_kept(bundle: Bundle) -> None:
    (mug,) = bundle.products
    assert [v["sku"] for v in mug["variants"]] == EMOJI_SKUS
    assert [v["option1_value"] for v in mug["variants"]] == [s.split("-")[0] for s in EMOJI_SKUS]
    assert bundle.counts["rows_merged"] == 0


# Titles without a single word (found by the property tests: the matcher's word index
# is empty then).
WORDLESS_SHEET = table(
    [HANDLE, TITLE, SKU, PRICE],
    [["bang", "!", "B-1", "5.00"], ["flag", "🇺🇸", "F-1", "6.00"], ["cup", "☕", "C-1", "7.00"]],
)

# --- numbers --------------------------------------------------------------------------------

GOOGOL_400 = "1" + "0" * 400
# (cells, expectation): expectation is a rejected column, or None when the line imports.
ODD_NUMBER_ROWS: list[tuple[dict[str, str], str | None]] = [
    ({PRICE: GOOGOL_400}, PRICE),  # line 2
    ({PRICE: "inf"}, PRICE),  # line 3
    ({PRICE: "nan"}, PRICE),  # line 4
    ({PRICE: "-Infinity"}, PRICE),  # line 5
    ({PRICE: "0.00001"}, PRICE),  # line 6: would be published as 0.00
    ({PRICE: "1e10"}, PRICE),  # line 7
    ({PRICE: "10000000000"}, PRICE),  # line 8
    ({PRICE: "12.00", QTY: "99999999999999999999"}, QTY),  # line 9
    ({PRICE: "12.00", QTY: "2147483648"}, QTY),  # line 10
    ({PRICE: "12.00", COMPARE: "inf"}, COMPARE),  # line 11
    ({PRICE: "12.00", GRAMS: GOOGOL_400}, GRAMS),  # line 12
    ({PRICE: "12.00", QTY: "-2147483649"}, QTY),  # line 13
    ({PRICE: "9999999999.99", QTY: "2147483647", GRAMS: "-0"}, None),  # line 14
    ({PRICE: "-0.0", QTY: "-0"}, None),  # line 15: a zero price, never published
    ({PRICE: "0.004"}, None),  # line 16: rounds to 0.00: rejected or never published
    ({PRICE: "1,299.00", COMPARE: "1e-5"}, COMPARE),  # line 17
    ({PRICE: "12.34567"}, None),  # line 18
]
ODD_NUMBERS = table(
    [HANDLE, TITLE, SKU, PRICE, COMPARE, QTY, GRAMS],
    [
        {HANDLE: f"odd-{i + 2}", TITLE: f"Odd number {i + 2}", SKU: f"ODD-{i + 2}", **cells}
        for i, (cells, _) in enumerate(ODD_NUMBER_ROWS)
    ],
)


def _odd_numbers_never_published_wrong(bundle: Bundle) -> None:
    largest = bundle.shopify_rows("odd-14")
    assert largest, "odd-14 (9999999999.99, 2147483647) was not published"
    assert (largest[0]["Price"], largest[0]["Inventory quantity"]) == (
        "9999999999.99",
        "2147483647",
    )
    assert largest[0]["Weight value (grams)"] in ("0", "0.0", ""), largest[0]
    for line in (15, 16):
        found = bundle.variant(line)
        if found is None:
            assert bundle.reason(line) is not None, f"line {line} is neither accepted nor rejected"
            continue
        price = found[1]["price"]
        assert price is not None and abs(price) < 0.005, price
        assert not bundle.shopify_rows(f"odd-{line}"), (
            f"line {line}: a price of {price!r} is published (as 0.00 in a 2-decimal currency)"
        )
    _, zero = bundle.variant(15) or (None, None)
    if zero is not None:
        assert zero["inventory_qty"] == 0
    text = (bundle.dir / "products.jsonl").read_text(encoding="utf-8")
    assert "-0.0" not in text and '": -0,' not in text and '": -0}' not in text


# --- refused files --------------------------------------------------------------------------

HEADER_ONLY = table([HANDLE, TITLE, SKU, PRICE], [])
DUPLICATE_HEADER = table([HANDLE, TITLE, TITLE, PRICE], [["mug", "Mug", "Mug 2", "5.00"]])


def _xlsx() -> bytes:
    return b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 8


CASES: tuple[Case, ...] = (
    Case(
        "cp1252_supplier_sheet",
        "a German supplier sheet saved as cp1252, ';' and decimal commas",
        lambda: CP1252_SHEET.encode("cp1252"),
        "imports",
        rows_in=4,
        rejected=(Rejected(4, "Preis"),),
        accepted=(2, 3, 5),
        preserved=(
            Preserved(2, "title", "Becher grün"),
            Preserved(2, "vendor", "Müller & Söhne", shopify="Vendor"),
            Preserved(3, "title", "Crème brûlée Schale"),
            Preserved(3, "price", 8.5, shopify="Price", shopify_value="8.50"),
            Preserved(5, "title", "Teekanne „Ostfriesen“ – 1,5 l"),
        ),
        never_in_bundle=MOJIBAKE,
        check=_cp1252_error_row_kept,
    ),
    Case(
        "utf16_bom_tab_export",
        "Excel's 'Unicode text': UTF-16 LE with a BOM, tab-separated",
        lambda: UTF16_SHEET.encode("utf-16"),
        "imports",
        suffix=".txt",
        rows_in=2,
        rejected=(Rejected(3, PRICE),),
        preserved=(
            Preserved(2, "title", "Grüner Tee 日本"),
            Preserved(2, "vendor", "Müller", shopify="Vendor"),
        ),
        never_in_bundle=MOJIBAKE,
    ),
    Case(
        "utf8_bom_header",
        "UTF-8 with a byte-order mark before the first header",
        utf8(BOM_SHEET),
        "imports",
        rows_in=2,
        rejected=(Rejected(3, PRICE),),
        preserved=(Preserved(2, "handle", "bom-mug", shopify="URL handle"),),
        check=_bom_not_in_header,
    ),
    Case(
        "utf16_without_bom",
        "UTF-16 LE text without a byte-order mark",
        lambda: UTF16_SHEET.encode("utf-16-le"),
        "either",
        rows_in=2,
        preserved=(Preserved(2, "vendor", "Müller"),),
        never_in_bundle=MOJIBAKE,
        refusal=Refusal(contains=("UTF-16",)),
    ),
    Case(
        "mixed_utf8_cp1252",
        "UTF-8 with one line pasted from a cp1252 file (line 3)",
        _mixed_encoding,
        "either",
        rows_in=4,
        rejected=(Rejected(4, PRICE),),
        preserved=(
            Preserved(2, "vendor", "Müller", shopify="Vendor"),
            Preserved(2, "title", "Becher grün"),
            Preserved(3, "title", "Größe L Tasse"),
            Preserved(3, "vendor", "Café Müller"),
            Preserved(5, "vendor", "Müller"),
        ),
        never_in_bundle=MOJIBAKE,
        check=_mixed_error_row_kept,
        refusal=Refusal(line=3),
    ),
    Case(
        "nul_bytes",
        "a NUL byte inside a cell on line 3",
        utf8(NUL_SHEET),
        "either",
        rows_in=3,
        rejected=(Rejected(3, None),),
        accepted=(2, 4),
        check=_no_nul_published,
        refusal=Refusal(line=3),
    ),
    Case(
        "huge_cell_17mb",
        "a 17 MiB description on line 3",
        _huge_cell,
        "refused",
        refusal=Refusal(line=3, column=BODY),
    ),
    Case(
        "ten_thousand_columns",
        "10,000 columns (9,996 unknown), three products",
        _wide,
        "either",
        rows_in=3,
        accepted=(2, 3, 4),
        preserved=(Preserved(4, f"attributes.Spec {WIDE_COLUMNS - 1}", f"r2-{WIDE_COLUMNS - 5}"),),
        check=_wide_columns_kept,
        refusal=Refusal(line=1),
    ),
    Case(
        "ragged_rows",
        "line 3 has two cells too many, line 4 two too few",
        utf8(RAGGED_SHEET),
        "imports",
        rows_in=4,
        accepted=(2, 5),
        check=_ragged_lines_accounted,
    ),
    Case(
        "unbalanced_quote",
        "a quote opened on line 3 and never closed",
        utf8(UNBALANCED_SHEET),
        "refused",
        refusal=Refusal(line=3, contains=("quote",)),
    ),
    Case(
        "formula_cells_shopify",
        "formula cells (= + - @ tab CR) in every column, headers included",
        utf8(FORMULA_SHEET),
        "imports",
        rows_in=4,
        rejected=(Rejected(3, PRICE),),
        accepted=(2, 6, 7),
        preserved=(
            Preserved(2, "sku", "=SKU-1", shopify="SKU"),
            Preserved(2, "vendor", "@Kiln", shopify="Vendor"),
            Preserved(2, "tags", "+tag"),
            Preserved(2, f"attributes.{FORMULA_HEADER}", "=cmd|' /C calc'!A0"),
            Preserved(2, "attributes.-2+3", "-2+3"),
            Preserved(7, "sku", "=SKU-2", shopify="SKU"),
            Preserved(2, "option1_name", "=Size", shopify="Option1 name"),
            Preserved(7, "option1_value", "@Large", shopify="Option1 value"),
        ),
        check=_formulas_escaped_where_the_merchant_looks,
    ),
    Case(
        "formula_cells_supplier_merge",
        "a supplier sheet whose duplicate formula SKUs merge (merges.csv)",
        utf8(FORMULA_SUPPLIER),
        "imports",
        rows_in=4,
        rejected=(Rejected(4, "Price"),),
        preserved=(Preserved(5, "sku", "+C-3", shopify="SKU"), Preserved(5, "vendor", "-Brand")),
        check=_merge_report_escaped,
    ),
    Case(
        "bare_cr_cells",
        "cells holding a bare CR, and CR and CRLF inside a title",
        utf8(BARE_CR_SHEET),
        "imports",
        rows_in=3,
        rejected=(Rejected(4, PRICE),),
        accepted=(2, 8),
        preserved=(Preserved(8, "sku", "CR-3", shopify="SKU"),),
        check=_bare_cr_round_trips,
    ),
    Case(
        "cr_line_endings",
        "old Mac line ends: CR only",
        utf8(CR_ONLY_SHEET),
        "imports",
        rows_in=3,
        rejected=(Rejected(3, PRICE),),
        accepted=(2, 4),
        preserved=(Preserved(4, "title", "Café"),),
    ),
    Case(
        "multiline_cells",
        "quoted descriptions over several lines: reasons name the physical line",
        utf8(MULTILINE_SHEET),
        "imports",
        rows_in=4,
        rejected=(Rejected(5, PRICE), Rejected(8, PRICE)),
        accepted=(2, 6),
        preserved=(Preserved(6, "sku", "CUP-1", shopify="SKU"),),
    ),
    Case(
        "html_payloads",
        "scripts, event handlers, javascript: links and iframes in HTML and text cells",
        utf8(HTML_SHEET),
        "imports",
        rows_in=2,
        accepted=(2, 3),
        warned=(Warned(2, BODY, "html_sanitized"),),
        # a title is plain text (kept as written, escaped by the report); markup that
        # runs is what must never be published
        never_published=("onerror=", "javascript:", "<iframe", "onclick"),
        check=_html_is_inert,
    ),
    Case(
        "image_url_payloads",
        "javascript:, data:, file:, relative and attribute-breaking image URLs",
        utf8(IMAGE_SHEET),
        "imports",
        rows_in=8,
        accepted=tuple(range(2, 10)),
        warned=tuple(Warned(line, IMAGE, "image_url_refused") for line in (2, 3, 4, 5, 6, 7, 9)),
        never_published=(
            "javascript",
            "data:",
            "file:",
            "images/lamp.jpg",
            "//evil.example",
            "onerror",
        ),
        check=_only_the_good_image,
    ),
    Case(
        "invisible_and_rtl",
        "Hebrew, Arabic, RLM and RLO marks, zero-width spaces and soft hyphens in SKUs",
        utf8(INVISIBLE_SHEET),
        "imports",
        rows_in=9,
        rejected=(Rejected(10, TITLE),),
        preserved=(
            Preserved(2, "title", "כוס קפה", shopify="Title"),
            Preserved(2, "vendor", "קדר", shopify="Vendor"),
            Preserved(3, "title", "كوب قهوة"),
            Preserved(3, "vendor", "فخار", shopify="Vendor"),
            Preserved(4, "title", "Cup \u200fמק״ט\u200f"),
            Preserved(4, "vendor", "\u200fKiln\u200f", shopify="Vendor"),
            Preserved(5, "title", "Cup \u202egnirt\u202c"),
        ),
        check=_invisible_duplicates_found,
    ),
    Case(
        "emoji_skus",
        "emoji SKUs and option values: skin tones, flags, ZWJ families, VS16",
        utf8(EMOJI_SHEET),
        "imports",
        rows_in=5,
        accepted=(2, 3, 4, 5, 6),
        preserved=(
            Preserved(2, "title", "Mug ☕🔥"),
            *(
                Preserved(line, "sku", sku, shopify="SKU")
                for line, sku in enumerate(EMOJI_SKUS, start=2)
            ),
        ),
        check=_emoji_variants_all_kept,
    ),
    Case(
        "wordless_titles",
        "every title is punctuation or emoji only ('!', '🇺🇸', '☕')",
        utf8(WORDLESS_SHEET),
        "imports",
        rows_in=3,
        accepted=(2, 3, 4),
        preserved=(
            Preserved(2, "title", "!"),
            Preserved(3, "title", "🇺🇸"),
            Preserved(4, "title", "☕", shopify="Title"),
        ),
    ),
    Case(
        "odd_numbers",
        "1 and 400 zeros, inf, nan, 0.00001, 1e10, -0, 32-bit edges, 0.004",
        utf8(ODD_NUMBERS),
        "imports",
        rows_in=len(ODD_NUMBER_ROWS),
        rejected=tuple(
            Rejected(i + 2, column) for i, (_, column) in enumerate(ODD_NUMBER_ROWS) if column
        ),
        preserved=(
            Preserved(14, "price", 9999999999.99),
            Preserved(14, "inventory_qty", 2147483647),
            Preserved(18, "price", 12.3457, shopify="Price", shopify_value="12.3457"),
        ),
        check=_odd_numbers_never_published_wrong,
    ),
    Case("empty_file", "0 bytes", lambda: b"", "refused", refusal=Refusal(contains=("empty",))),
    Case(
        "header_only",
        "a header and no rows",
        utf8(HEADER_ONLY),
        "refused",
        refusal=Refusal(line=1, contains=("no rows",)),
    ),
    Case(
        "duplicate_header",
        "the header names 'Title' twice",
        utf8(DUPLICATE_HEADER),
        "refused",
        refusal=Refusal(line=1, column=TITLE),
    ),
    Case(
        "xlsx_renamed_csv",
        "an Excel workbook (ZIP) saved under a .csv name",
        _xlsx,
        "refused",
        refusal=Refusal(contains=("Excel",)),
    ),
)

CASES_BY_NAME: dict[str, Case] = {case.name: case for case in CASES}
assert len(CASES_BY_NAME) == len(CASES), "case names must be unique"
