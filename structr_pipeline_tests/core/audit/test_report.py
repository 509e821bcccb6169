"""The HTML quality report, built from real batches of the sample file."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from structr_pipeline.core.audit import (
    ReportData,
    audit_products,
    rejected_entries,
    render_report,
    summarize,
    write_report,
)
from structr_pipeline.core.audit.charts import score_bins
from structr_pipeline.core.audit.report import CHART_COLORS, HISTOGRAM_COLOR, MAX_TABLE_ROWS

from .conftest import HOSTILE_TITLE

URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "data", "poster", "xlink:href"}


class Page(HTMLParser):
    """Every tag, attribute and script body of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data):
        if self._script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    def attribute_values(self, names: set[str]) -> list[tuple[str, str, str]]:
        return [
            (tag, name, value or "")
            for tag, attrs in self.tags
            for name, value in attrs.items()
            if name in names
        ]

    def product_index(self) -> list[dict]:
        [(attrs, body)] = [s for s in self.scripts if s[0].get("id") == "product-index"]
        assert attrs.get("type") == "application/json"
        return json.loads(body)


@pytest.fixture(scope="module")
def sample_page(sample_batch) -> str:
    return render_report(sample_batch.report)


@pytest.fixture(scope="module")
def hostile_page(hostile_batch) -> str:
    return render_report(hostile_batch.report)


def test_the_sample_batch_is_audited_before_and_after_copy_generation(sample_batch):
    handles = [r["handle"] for r in sample_batch.records]
    assert handles == [a.handle for a in sample_batch.audits]
    assert len(handles) == 6
    before = {a.handle: a.score for a in sample_batch.audits_before}
    after = {a.handle: a.score for a in sample_batch.audits}
    # The sample's own SEO fields are mostly empty; generated copy fills them in.
    assert (
        summarize(sample_batch.audits).mean_score > summarize(sample_batch.audits_before).mean_score
    )
    assert all(after[h] >= before[h] for h in handles)
    assert "SEO_TITLE_MISSING" in {c for a in sample_batch.audits_before for c in a.codes}
    assert "SEO_TITLE_MISSING" not in {c for a in sample_batch.audits for c in a.codes}
    # what no model can fix stays: the gift card has no image and no barcode
    gift = next(a for a in sample_batch.audits if a.handle == "gift-card")
    assert {"IMAGE_MISSING", "GTIN_MISSING"} <= set(gift.codes)
    # the sanitizer's finding on the pour-over's description reaches the audit
    pour = next(a for a in sample_batch.audits if a.handle == "ceramic-pour-over")
    assert "HTML_STRIPPED" in pour.codes


def test_the_page_lists_every_product_with_its_score_and_grade(sample_batch, sample_page):
    page = Page(sample_page)
    rows = [attrs for tag, attrs in page.tags if tag == "tr" and "data-i" in attrs]
    assert len(rows) == len(sample_batch.audits)
    for audit in sample_batch.audits:
        assert f"<code>{html.escape(audit.handle)}</code>" in sample_page
    index = page.product_index()
    assert sorted(item["handle"] for item in index) == sorted(a.handle for a in sample_batch.audits)
    by_handle = {a.handle: a for a in sample_batch.audits}
    before = {a.handle: a for a in sample_batch.audits_before}
    for item in index:
        audit = by_handle[item["handle"]]
        assert (item["grade"], item["score"], item["codes"]) == (
            audit.grade,
            audit.score,
            audit.codes,
        )
        changed = before[item["handle"]].score != audit.score
        assert item["before"] == (before[item["handle"]].score if changed else None)
    # worst first
    assert [item["score"] for item in index] == sorted(a.score for a in sample_batch.audits)


def test_the_page_has_every_section(sample_batch, sample_page):
    for anchor in ("overview", "charts", "issues", "products", "rejected", "duplicates", "merges"):
        assert f'id="{anchor}"' in sample_page
    summary = sample_batch.report.summary
    assert html.escape(summary["batch_id"]) in sample_page
    assert "shopify_sample.csv" in sample_page
    assert f"<dd>{summary['counts']['rows_in']}</dd>" in sample_page
    # the grade chart: one bar per grade now and one before fixes
    page = Page(sample_page)
    bars = [a for t, a in page.tags if t == "rect" and "bar" in (a.get("class") or "")]
    assert len(bars) == 10
    counts = summarize(sample_batch.audits).grade_counts
    for grade, color in CHART_COLORS.items():
        [bar] = [a for a in bars if a["data-grade"] == grade and "bar-after" in a["class"]]
        assert bar["fill"] == color
        assert (float(bar["height"]) > 0) == (counts[grade] > 0)
    # the histogram: ten 10-point bins, their heights in proportion to their counts
    bins = [a for t, a in page.tags if t == "rect" and a.get("class") == "bin"]
    assert len(bins) == 10 and all(b["fill"] == HISTOGRAM_COLOR for b in bins)
    expected = score_bins([a.score for a in sample_batch.audits])
    heights = [float(b["height"]) for b in bins]
    tallest = max(expected)
    for height, count in zip(heights, expected, strict=True):
        assert height == pytest.approx(heights[expected.index(tallest)] * count / tallest, abs=0.2)


def test_rejected_rows_show_line_reasons_and_original_cells(sample_batch, sample_page):
    rejected = sample_batch.report.rejected
    assert [r["line"] for r in rejected] == [10, 11, 16]
    assert rejected[0]["original"]["Variant Price"] == "abc"
    assert "line 10, column 'Variant Price'" in rejected[0]["errors"]
    assert "Variant Barcode: '7612345678925' is not a valid GTIN-13" in rejected[1]["reasons"][0]
    for entry in rejected:
        assert f'<td class="num">{entry["line"]}</td>' in sample_page
        for reason in entry["reasons"]:
            assert html.escape(reason) in sample_page
    assert "<dt>Variant Price</dt><dd>abc</dd>" in sample_page


def test_nothing_is_loaded_from_anywhere(sample_page, hostile_page):
    for text in (sample_page, hostile_page):
        page = Page(text)
        for tag, name, value in page.attribute_values(URL_ATTRIBUTES):
            assert not re.match(r"\s*(https?:)?//", value, re.I), (tag, name, value)
            if name == "href":
                assert tag == "a" and value.startswith("#"), (tag, value)
        tags = {tag for tag, _ in page.tags}
        assert not tags & {"img", "link", "iframe", "object", "embed", "image", "use"}
        assert all(attrs.get("src") is None for attrs, _ in page.scripts)
        assert "@import" not in text and "url(" not in text
        csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
        assert "default-src 'none'" in csp[0]["content"]
    # image URLs are there, as text
    assert "https://images.example.com/structr-sample/merino-navy.jpg</code>" in sample_page


def test_product_text_is_escaped(hostile_batch, hostile_page):
    assert "canvas-tote" in [r["handle"] for r in hostile_batch.records]
    assert HOSTILE_TITLE in [r["title"] for r in hostile_batch.records]
    assert "<script>alert" not in hostile_page
    assert html.escape(HOSTILE_TITLE) in hostile_page
    page = Page(hostile_page)
    assert [attrs.get("type") for attrs, _ in page.scripts] == ["application/json", None]
    [(_, data)] = [s for s in page.scripts if s[0].get("id") == "product-index"]
    assert "<" not in data and ">" not in data and "&" not in data
    assert "\\u003cscript\\u003ealert" in data
    titles = [item["text"] for item in page.product_index()]
    assert any(HOSTILE_TITLE.casefold() in text for text in titles)


def test_duplicates_and_merges_are_shown(hostile_batch, hostile_page):
    possible = hostile_batch.report.possible_duplicates
    assert possible and {p["handle"] for p in possible} == {"canvas-tote-copy"}
    section = hostile_page[
        hostile_page.index('id="duplicates"') : hostile_page.index('id="merges"')
    ]
    for row in possible:
        assert html.escape(row["rule"]) in section
        assert "canvas-tote-copy" in section
    codes = {a.handle: a.codes for a in hostile_batch.audits}
    assert "DUPLICATE_DESCRIPTION" in codes["canvas-tote"]
    assert "DUPLICATE_DESCRIPTION" in codes["canvas-tote-copy"]

    merges = [
        {
            "survivor_handle": "mug",
            "merged_handle": "mug-<b>old</b>",
            "merged_lines": "[7, 8]",
            "score": float("nan"),
            "rule": "same SKU",
        }
    ]
    data = ReportData(
        summary={"batch_id": "b"},
        records=hostile_batch.records,
        audits=hostile_batch.audits,
        merges=merges,
    )
    text = render_report(data)
    section = text[text.index('id="merges"') :]
    assert "mug-&lt;b&gt;old&lt;/b&gt;" in section and "<b>old</b>" not in section
    assert "Survivor handle" in section and "[7, 8]" in section
    assert "Nothing was merged." not in section
    # without an earlier audit the page has no before-fixes values
    assert all(item["before"] is None for item in Page(text).product_index())


def test_long_tables_are_cut_with_a_pointer_to_the_file(sample_batch):
    many = [{"handle": f"h{i}", "other_handle": f"o{i}"} for i in range(MAX_TABLE_ROWS + 5)]
    text = render_report(
        ReportData(
            summary={},
            records=sample_batch.records,
            audits=sample_batch.audits,
            possible_duplicates=many,
        )
    )
    assert f"first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 5} rows" in text
    assert "possible_duplicates.csv" in text
    assert f'<td class="wrap">h{MAX_TABLE_ROWS - 1}</td>' in text
    assert f'<td class="wrap">h{MAX_TABLE_ROWS}</td>' not in text


def test_an_empty_batch_renders():
    text = render_report(ReportData(summary={"batch_id": "empty"}, records=[], audits=[]))
    assert "No products." in text and "No row was rejected." in text
    assert 'id="product-index"' not in text


def test_write_report_writes_the_page_atomically(sample_batch, tmp_path):
    path = tmp_path / "reports" / "quality_report.html"
    assert write_report(sample_batch.report, path) == path
    text = path.read_text(encoding="utf-8")
    assert text == render_report(sample_batch.report)
    assert text.startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in path.parent.iterdir()) == ["quality_report.html"]


def test_rejected_entries_of_an_empty_frame():
    assert rejected_entries(pd.DataFrame(columns=["_source_line", "original", "errors"])) == []


def test_issue_details_and_feedback_are_on_the_page(sample_batch, sample_page):
    records = [dict(r, seo_title="") for r in sample_batch.records_before]
    [audit] = audit_products(records[:1])
    text = render_report(ReportData(summary={}, records=records[:1], audits=[audit]))
    assert "Sent to the copy generator" in text
    assert "seo_title is missing: write one of at most 60 characters." in text
    assert "−4.5" in text  # the points the missing SEO title cost
