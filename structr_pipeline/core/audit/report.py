"""The batch's quality report: one self-contained HTML page, readable offline.

The page holds the batch summary, the grade distribution and score histogram (inline
SVG), the most frequent issues, every product with its score, grade and issues
(filterable by grade, issue code and free text), the rejected rows, the possible
duplicates and the merges. Styles and the small filtering script are inline, and a
content security policy forbids loading anything: product image URLs appear as text
only. Every piece of product data is escaped; the data the script reads sits in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` written as
``\\u003c``, ``\\u003e`` and ``\\u0026``.
"""

from __future__ import annotations

import html
import json
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from structr_pipeline.core.audit import charts
from structr_pipeline.core.audit.rules import (
    COMPONENT_LABELS,
    COMPONENTS,
    ERROR,
    GRADES,
    RULES,
    SEVERITIES,
    AuditSettings,
)
from structr_pipeline.core.audit.scoring import (
    ProductAudit,
    effective_content,
    fix_feedback,
    summarize,
)
from structr_pipeline.core.export import atomic_text
from structr_pipeline.core.fields import SOURCE_LINE
from structr_pipeline.core.issues import issues_from_json
from structr_pipeline.core.values import as_text

# Saturated colours belong to the charts' bars only; tables use the tints and inks below.
CHART_COLORS: Mapping[str, str] = {
    "A": "#2f9e44",
    "B": "#82c91e",
    "C": "#fab005",
    "D": "#fd7e14",
    "E": "#e03131",
}
BADGE_COLORS: Mapping[str, tuple[str, str]] = {
    "A": ("#d3f9d8", "#2b8a3e"),
    "B": ("#e9fac8", "#5c940d"),
    "C": ("#fff3bf", "#b35900"),
    "D": ("#ffe8cc", "#c2410c"),
    "E": ("#ffe3e3", "#c92a2a"),
}
HISTOGRAM_COLOR = "#4c6ef5"
# Tables longer than this are cut, with a pointer to the bundle file that has every row.
MAX_TABLE_ROWS = 1000


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows for one batch.

    ``summary`` is the batch summary (as in ``summary.json``: ``batch_id``,
    ``source_file``, ``counts``…); ``records`` the product records the ``audits`` were
    made from; ``audits_before`` the audits before the fix loop, when there was one.
    ``rejected`` holds dicts with ``line``, ``errors`` (text) and ``original`` (the
    source cells; see ``rejected_entries``); ``possible_duplicates`` and ``merges`` are
    rows of the dedup stage's frames, shown as they are. ``held_back`` names the
    products kept out of the import file; they are listed first.
    """

    summary: Mapping[str, Any]
    records: Sequence[Mapping[str, Any]]
    audits: Sequence[ProductAudit]
    audits_before: Sequence[ProductAudit] | None = None
    rejected: Sequence[Mapping[str, Any]] = ()
    possible_duplicates: Sequence[Mapping[str, Any]] = ()
    merges: Sequence[Mapping[str, Any]] = ()
    settings: AuditSettings = field(default_factory=AuditSettings)
    title: str = "Product quality report"
    # Handles of the products kept out of shopify_import.csv (listed first).
    held_back: frozenset[str] = frozenset()
    # Shown above the possible duplicates (how to merge products listed twice).
    duplicates_note: str = ""


def rejected_entries(rejected: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a rejected-rows frame as the report wants them, in line order.

    Each has ``line``, ``errors`` (every reason as one text), ``reasons`` (one
    ``column: message`` text per reason) and ``original`` (the row's source cells).
    """
    if not len(rejected):
        return []
    out = []
    for row in rejected.sort_values(SOURCE_LINE, kind="stable").to_dict("records"):
        issues = issues_from_json(as_text(row.get("errors")))
        original_text = as_text(row.get("original")).strip()
        out.append(
            {
                "line": int(row[SOURCE_LINE]),
                "errors": "; ".join(issue.describe() for issue in issues),
                "reasons": [f"{issue.column}: {issue.message}" for issue in issues],
                "original": json.loads(original_text) if original_text else {},
            }
        )
    return out


def _e(value: object) -> str:
    return html.escape(as_text(value), quote=True)


def _num(value: float) -> str:
    return format(round(float(value), 1), "g")


def _script_json(value: Any) -> str:
    """JSON that cannot end the ``<script>`` element it is embedded in."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _cell(value: Any) -> str:
    """A value of a dedup frame as text ('' for missing values)."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else format(round(value, 4), "g")
    if hasattr(value, "item") and callable(value.item):
        return _cell(value.item())
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return as_text(value)


def _humanize(key: str) -> str:
    text = str(key).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _badge(grade: str) -> str:
    background, ink = BADGE_COLORS.get(grade, ("#e9ecef", "#495057"))
    return f'<span class="badge" style="background:{background};color:{ink}">{_e(grade)}</span>'


def _chip(code: str, severity: str) -> str:
    return f'<span class="chip sev-{_e(severity)}">{_e(code)}</span>'


def _section(anchor: str, title: str, body: str, note: str = "") -> str:
    lead = f'<p class="note">{note}</p>' if note else ""
    return f'<section id="{anchor}" class="card"><h2>{_e(title)}</h2>{lead}{body}</section>'


def _generic_table(rows: Sequence[Mapping[str, Any]], empty: str, file_hint: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    columns = list(dict.fromkeys(key for row in rows for key in row))
    head = "".join(f"<th>{_e(_humanize(c))}</th>" for c in columns)
    body = []
    for row in rows[:MAX_TABLE_ROWS]:
        cells = []
        for c in columns:
            text = _cell(row.get(c))
            numeric = isinstance(row.get(c), int | float) and not isinstance(row.get(c), bool)
            cells.append(f'<td class="{"num" if numeric else "wrap"}">{_e(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return _cut_note(len(rows), file_hint) + (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _cut_note(total: int, file_hint: str) -> str:
    if total <= MAX_TABLE_ROWS:
        return ""
    return (
        f'<p class="note">Showing the first {MAX_TABLE_ROWS} of {total} rows; '
        f"{_e(file_hint)} has them all.</p>"
    )


def _header(data: ReportData) -> str:
    summary = data.summary
    facts = [
        ("Source file", summary.get("source_file")),
        ("Format", (summary.get("source_format") or {}).get("sentence")),
        ("Batch", summary.get("batch_id")),
        ("Created", summary.get("created_at")),
    ]
    shown = "".join(
        f"<span><b>{_e(label)}</b> {_e(value)}</span>" for label, value in facts if value
    )
    return (
        f'<header class="top"><div class="wrap"><h1>{_e(data.title)}</h1>'
        f'<div class="meta">{shown}</div></div></header>'
    )


def _nav() -> str:
    links = [
        ("overview", "Overview"),
        ("charts", "Charts"),
        ("issues", "Top issues"),
        ("products", "Products"),
        ("rejected", "Rejected rows"),
        ("duplicates", "Possible duplicates"),
        ("merges", "Merges"),
        ("scoring", "How scores work"),
    ]
    items = "".join(f'<a href="#{anchor}">{_e(label)}</a>' for anchor, label in links)
    return f'<nav class="nav"><div class="wrap">{items}</div></nav>'


def _kpis(data: ReportData) -> str:
    summary = summarize(data.audits, data.settings)
    counts = data.summary.get("counts") or {}
    share = summary.share_c_or_better
    verdict = (
        '<span class="pill ok">target met</span>'
        if summary.passed
        else '<span class="pill bad">below target</span>'
    )
    mean_note = "out of 100"
    if data.audits_before:
        before = summarize(data.audits_before, data.settings)
        delta = summary.mean_score - before.mean_score
        mean_note = f"{_num(before.mean_score)} before fixes ({delta:+.1f})"
    cards = [
        ("Products", str(summary.products), f"{counts.get('variants', '—')} variants"),
        ("Mean score", _num(summary.mean_score), mean_note),
        (
            "Grade C or better",
            f"{share * 100:.0f}%",
            f"target {data.settings.min_share_c_or_better * 100:.0f}% {verdict}",
        ),
        _held_back_card(data),
        (
            "Rows rejected",
            str(counts.get("rows_rejected", len(data.rejected))),
            f"of {counts.get('rows_in', '—')} rows read",
        ),
        (
            "Possible duplicates",
            str(len(data.possible_duplicates)),
            f"{len(data.merges)} merges made",
        ),
    ]
    tiles = "".join(
        f'<div class="kpi"><div class="kpi-label">{_e(label)}</div>'
        f'<div class="kpi-value">{_e(value)}</div><div class="kpi-note">{note}</div></div>'
        for label, value, note in cards
    )
    count_items = "".join(
        f"<div><dt>{_e(_humanize(k))}</dt><dd>{_e(_cell(v))}</dd></div>" for k, v in counts.items()
    )
    counts_block = (
        f'<h3>Batch counts</h3><dl class="counts">{count_items}</dl>' if count_items else ""
    )
    return (
        f'<section id="overview" class="card"><h2>Overview</h2>'
        f'<div class="kpis">{tiles}</div>{counts_block}</section>'
    )


def _held_back_card(data: ReportData) -> tuple[str, str, str]:
    held = data.summary.get("held_back") or {}
    if not data.held_back:
        return ("Held back", "0", "every product is in shopify_import.csv")
    top = held.get("top_reason")
    note = (
        f"not in shopify_import.csv; top reason {_e(top)} "
        f"({held.get('reasons', {}).get(top, 0)}), listed first below"
        if top
        else "not in shopify_import.csv, listed first below"
    )
    return ("Held back", str(len(data.held_back)), note)


def _charts(data: ReportData) -> str:
    summary = summarize(data.audits, data.settings)
    before = summarize(data.audits_before, data.settings) if data.audits_before else None
    bars = charts.grade_chart(
        summary.grade_counts,
        CHART_COLORS,
        before.grade_counts if before else None,
        label="Products per grade",
    )
    bands = data.settings.grade_bands
    hist = charts.histogram(
        charts.score_bins([a.score for a in data.audits]),
        HISTOGRAM_COLOR,
        markers=[(bands[g], g) for g in GRADES[:-1]],
        label="Products per score range",
    )
    legend = ""
    if before:
        legend = (
            '<p class="legend"><span class="swatch" style="background:#ced4da"></span>'
            'before fixes <span class="swatch" style="background:#495057"></span>'
            " now, in the grade's colour</p>"
        )
    return (
        '<section id="charts" class="charts">'
        f'<div class="card chart-card" id="grade-chart"><h2>Grade distribution</h2>{bars}'
        f"{legend}</div>"
        f'<div class="card chart-card" id="score-histogram"><h2>Score histogram</h2>{hist}'
        '<p class="legend">10-point ranges; dashed lines mark where each grade starts.</p>'
        "</div></section>"
    )


def _top_issues(data: ReportData) -> str:
    products: Counter[str] = Counter()
    points: defaultdict[str, float] = defaultdict(float)
    for audit in data.audits:
        products.update(audit.codes)
        for issue in audit.issues:
            points[issue.code] += issue.points
    if not products:
        return _section(
            "issues", "Top issues", '<p class="empty">No issues: every product scores 100.</p>'
        )
    rows = []
    for code, n in sorted(products.items(), key=lambda item: (-item[1], -points[item[0]], item[0])):
        rule = RULES[code]
        rows.append(
            "<tr>"
            f'<td><button type="button" class="code-link" data-code="{_e(code)}" '
            f'title="Show these products">{_chip(code, rule.severity)}</button></td>'
            f"<td>{_e(rule.severity)}</td>"
            f'<td class="wrap">{_e(rule.summary)}</td>'
            f'<td class="num">{n}</td>'
            f'<td class="num">{_num(points[code])}</td>'
            f"<td>{'yes' if rule.fixable else 'no'}</td>"
            "</tr>"
        )
    table = (
        '<div class="scroll"><table><thead><tr><th>Code</th><th>Severity</th><th>Meaning</th>'
        '<th class="num">Products</th><th class="num">Points lost</th>'
        "<th>Fixable by generation</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _section(
        "issues", "Top issues", table, "Click a code to list the products that have it."
    )


def _issue_list(audit: ProductAudit) -> str:
    items = []
    for issue in sorted(audit.issues, key=lambda i: (-i.points, SEVERITIES.index(i.severity))):
        items.append(
            "<li>"
            f"{_chip(issue.code, issue.severity)} "
            f'<span class="pts">{"−" + _num(issue.points) if issue.points else "0"}</span> '
            f'<span class="field">{_e(issue.field)}</span> {_e(issue.message)}'
            "</li>"
        )
    return f'<ul class="issues">{"".join(items)}</ul>'


def _components(audit: ProductAudit, settings: AuditSettings) -> str:
    parts = []
    for name in COMPONENTS:
        weight = settings.weights[name]
        got = audit.components.get(name, weight)
        parts.append(f"<span>{_e(COMPONENT_LABELS[name])} <b>{_num(got)}</b>/{_num(weight)}</span>")
    return f'<div class="components">{"".join(parts)}</div>'


def _images(record: Mapping[str, Any]) -> str:
    content = effective_content(record)
    if not content.images:
        return ""
    items = "".join(
        f'<li><code class="url">{_e(image.src)}</code>'
        f"{' — ' + _e(image.alt) if image.alt else ' — <em>no alt text</em>'}</li>"
        for image in content.images
    )
    return f'<div class="images"><b>Images</b> (not loaded)<ol>{items}</ol></div>'


def _products(data: ReportData) -> str:
    records = {as_text(r.get("handle")): r for r in data.records}
    before = {a.handle: a for a in data.audits_before or ()}
    ordered = sorted(data.audits, key=lambda a: (a.handle not in data.held_back, a.score, a.handle))
    index = []
    rows = []
    for i, audit in enumerate(ordered):
        record = records.get(audit.handle, {"handle": audit.handle})
        title = effective_content(record).title
        earlier = before.get(audit.handle)
        was = earlier.score if earlier is not None and earlier.score != audit.score else None
        index.append(
            {
                "handle": audit.handle,
                "grade": audit.grade,
                "score": audit.score,
                "before": was,
                "codes": audit.codes,
                "text": f"{audit.handle}\n{title}".casefold(),
            }
        )
        _, ink = BADGE_COLORS.get(audit.grade, ("", "#495057"))
        chips = (
            "".join(_chip(code, RULES[code].severity) for code in audit.codes)
            or '<span class="ok-text">no issues</span>'
        )
        feedback = fix_feedback(audit)
        feedback_block = ""
        if feedback:
            feedback_block = (
                '<div class="feedback"><b>Sent to the copy generator</b><ul>'
                + "".join(f"<li>{_e(line)}</li>" for line in feedback)
                + "</ul></div>"
            )
        details = (
            f"<details><summary>{chips}</summary>"
            f"{_components(audit, data.settings)}{_issue_list(audit)}{feedback_block}"
            f"{_images(record)}</details>"
            if audit.issues or record.get("images")
            else chips
        )
        if was is None:
            before_cell = '<span class="muted">—</span>'
        else:
            delta = audit.score - was
            before_cell = (
                f'{_num(was)} {_badge(earlier.grade)} <span class="delta '
                f'{"up" if delta > 0 else "down"}">{delta:+.1f}</span>'
            )
        held = ' <span class="pill bad">held back</span>' if audit.handle in data.held_back else ""
        rows.append(
            f'<tr data-i="{i}">'
            f'<td class="handle"><code>{_e(audit.handle)}</code></td>'
            f'<td class="title wrap">{_e(title)}{held}</td>'
            f'<td class="num score"><span class="score-num">{_num(audit.score)}</span>'
            f'<span class="meter"><span style="width:{max(0.0, audit.score):.0f}%;'
            f'background:{ink}"></span></span></td>'
            f"<td>{_badge(audit.grade)}</td>"
            f'<td class="issues-cell">{details}</td>'
            f'<td class="num before">{before_cell}</td>'
            "</tr>"
        )
    codes = sorted({code for audit in data.audits for code in audit.codes})
    grade_options = "".join(f'<option value="{g}">{g}</option>' for g in GRADES)
    code_options = "".join(f'<option value="{_e(c)}">{_e(c)}</option>' for c in codes)
    filters = (
        '<div class="filters">'
        '<label>Grade <select id="f-grade"><option value="">All</option>'
        f"{grade_options}</select></label>"
        '<label>Issue <select id="f-code"><option value="">All</option>'
        f"{code_options}</select></label>"
        '<label class="grow">Search <input id="f-text" type="search" '
        'placeholder="Handle or title" autocomplete="off"></label>'
        '<button type="button" id="f-reset">Reset</button>'
        f'<span id="f-count" class="count">{len(rows)} products</span>'
        "</div>"
    )
    table = (
        '<div class="scroll"><table id="product-table"><thead><tr>'
        '<th><button type="button" data-sort="handle">Handle</button></th>'
        "<th>Title</th>"
        '<th class="num"><button type="button" data-sort="score">Score</button></th>'
        '<th><button type="button" data-sort="grade">Grade</button></th>'
        "<th>Issues</th>"
        '<th class="num"><button type="button" data-sort="before">Before fixes</button></th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        '<p id="no-match" class="empty" hidden>No product matches these filters.</p>'
    )
    data_block = (
        f'<script type="application/json" id="product-index">{_script_json(index)}</script>'
    )
    body = filters + table + data_block if rows else '<p class="empty">No products.</p>'
    return _section(
        "products",
        "Products",
        body,
        "Held-back products first, then worst first. Open a row's issues for the points "
        "each cost and what was sent back to the copy generator.",
    )


def _rejected(data: ReportData) -> str:
    reasons = data.summary.get("rejection_reasons") or []
    reason_block = ""
    if reasons:
        items = "".join(
            f'<li><span class="chip sev-error">{_e(r.get("check"))}</span> '
            f"<b>{_e(r.get('rows'))}</b> row{'' if r.get('rows') == 1 else 's'} — "
            '<span class="muted">e.g. '
            f"{_e(r.get('example'))}</span></li>"
            for r in reasons
        )
        reason_block = f'<ul class="reasons">{items}</ul>'
    if not data.rejected:
        return _section(
            "rejected", "Rejected rows", reason_block + '<p class="empty">No row was rejected.</p>'
        )
    rows = []
    for entry in data.rejected[:MAX_TABLE_ROWS]:
        original = entry.get("original") or {}
        if isinstance(original, str):
            original = json.loads(original) if original.strip() else {}
        reasons_list = entry.get("reasons") or [entry.get("errors", "")]
        filled = [(k, v) for k, v in original.items() if as_text(v).strip()]
        cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in filled)
        rows.append(
            "<tr>"
            f'<td class="num">{_e(entry.get("line"))}</td>'
            f'<td class="wrap"><ul class="plain">'
            + "".join(f"<li>{_e(r)}</li>" for r in reasons_list)
            + "</ul></td>"
            f"<td><details><summary>{len(filled)} filled cells</summary>"
            f'<dl class="cells">{cells}</dl></details></td>'
            "</tr>"
        )
    table = (
        _cut_note(len(data.rejected), "errors.csv")
        + '<div class="scroll"><table><thead><tr><th class="num">Line</th><th>Why</th>'
        "<th>Original cells</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    return _section(
        "rejected",
        "Rejected rows",
        reason_block + table,
        "These rows are not in the product data; errors.csv has them in their original "
        "columns, ready to fix and import again.",
    )


def _scoring(settings: AuditSettings) -> str:
    weights = "".join(
        f"<li>{_e(COMPONENT_LABELS[c])}: <b>{_num(settings.weights[c])}</b> points</li>"
        for c in COMPONENTS
    )
    bands = settings.grade_bands
    grades = (
        "".join(f"<li>{_badge(g)} {_num(bands[g])} and above</li>" for g in GRADES[:-1])
        + f"<li>{_badge(GRADES[-1])} below {_num(bands[GRADES[-2]])}</li>"
    )
    limits = (
        f"<li>Title at most {settings.title_max_chars} characters</li>"
        f"<li>SEO title at most {settings.seo_title_max_chars} characters</li>"
        f"<li>Meta description at most {settings.meta_description_max_chars} characters</li>"
        f"<li>Description at least {settings.description_min_chars} characters of text, "
        "with a paragraph and a bullet list</li>"
        f"<li>Alt text at most {settings.alt_text_max_chars} characters</li>"
    )
    body = (
        '<div class="cols">'
        f"<div><h3>Components</h3><ul>{weights}</ul></div>"
        f'<div><h3>Grades</h3><ul class="plain">{grades}</ul></div>'
        f"<div><h3>Limits</h3><ul>{limits}</ul></div>"
        "</div>"
        '<p class="foot">Each product starts at 100; every issue costs points from its '
        "component, in proportion to the variants or images it concerns, so a product's "
        "issue points always add up to what it lost. Content is judged as it will be "
        "published, generated copy included.</p>"
    )
    return _section("scoring", "How scores work", body)


def render_report(data: ReportData) -> str:
    """The whole report as one HTML document (UTF-8 text, nothing to load from elsewhere)."""
    sections = [
        _kpis(data),
        _charts(data),
        _top_issues(data),
        _products(data),
        _rejected(data),
        _section(
            "duplicates",
            "Possible duplicates",
            _generic_table(
                data.possible_duplicates,
                "No possible duplicates.",
                "possible_duplicates.csv",
            ),
            " ".join(
                filter(
                    None, ["Pairs alike enough to review, not merged.", _e(data.duplicates_note)]
                )
            ),
        ),
        _section(
            "merges",
            "Merges",
            _generic_table(data.merges, "Nothing was merged.", "merges.csv"),
            "Rows merged into another product, and why.",
        ),
        _scoring(data.settings),
    ]
    errors = sum(1 for a in data.audits if any(i.severity == ERROR for i in a.issues))
    title = f"{data.title} — {as_text(data.summary.get('source_file')) or 'batch'}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">"
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f'<body data-products="{len(data.audits)}" data-errors="{errors}">'
        f"{_header(data)}{_nav()}"
        f'<main class="wrap">{"".join(sections)}</main>'
        f"<script>{_JS}</script></body></html>\n"
    )


def write_report(data: ReportData, path: Path) -> Path:
    """Write the report to ``path`` (atomically: it appears only once complete)."""
    path = Path(path)
    with atomic_text(path, newline="\n") as f:
        f.write(render_report(data))
    return path


_CSS = """
:root{--ink:#212529;--muted:#6c757d;--line:#e9ecef;--bg:#f4f5f7;--card:#fff;
--accent:#3b5bdb;--radius:10px}
*{box-sizing:border-box}
html{scroll-behavior:smooth}
body{margin:0;background:var(--bg);color:var(--ink);
font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1200px;margin:0 auto;padding:0 20px}
header.top{background:#1f2937;color:#f8f9fa;padding:22px 0 18px}
header.top h1{margin:0 0 6px;font-size:24px;font-weight:650;letter-spacing:-.01em}
header.top .meta{display:flex;flex-wrap:wrap;gap:6px 22px;color:#ced4da;font-size:13px}
header.top .meta b{color:#adb5bd;font-weight:500;margin-right:4px}
.nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line)}
.nav .wrap{display:flex;gap:4px;overflow-x:auto}
.nav a{color:#495057;text-decoration:none;padding:10px 10px;font-size:13px;white-space:nowrap;
border-bottom:2px solid transparent}
.nav a:hover{color:var(--accent);border-bottom-color:var(--accent)}
main{padding-top:20px;padding-bottom:40px}
.card{background:var(--card);border-radius:var(--radius);padding:18px 20px;margin:0 0 18px;
box-shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08)}
h2{font-size:17px;margin:0 0 12px;font-weight:650}
h3{font-size:13px;margin:16px 0 8px;color:#495057;text-transform:uppercase;letter-spacing:.04em}
.note{color:var(--muted);margin:-6px 0 12px}
.empty{color:var(--muted);font-style:italic}
.foot{color:var(--muted);margin:14px 0 0}
.muted{color:var(--muted)}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.kpi-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.kpi-value{font-size:28px;font-weight:700;line-height:1.2;margin:2px 0}
.kpi-note{color:var(--muted);font-size:12px}
.pill{display:inline-block;border-radius:999px;padding:0 8px;font-size:11px;font-weight:600;
margin-left:4px}
.pill.ok{background:#d3f9d8;color:#2b8a3e}.pill.bad{background:#ffe3e3;color:#c92a2a}
.counts{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:4px 16px;
margin:0}
.counts div{display:flex;justify-content:space-between;border-bottom:1px dotted var(--line);
padding:3px 0}
.counts dt{color:#495057}.counts dd{margin:0;font-weight:600;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(380px,1fr));gap:18px;
margin-bottom:18px}
.charts .card{margin:0}
svg.chart{width:100%;height:auto;display:block;max-height:300px}
svg.chart text{font-family:inherit}
svg.chart rect.bar{cursor:pointer}
.legend{color:var(--muted);font-size:12px;margin:6px 0 0}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 8px;
vertical-align:-1px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);
vertical-align:baseline}
thead th{background:#f8f9fa;color:#495057;font-weight:600;position:sticky;top:0;
white-space:nowrap}
tbody tr:nth-child(even){background:#fcfcfd}
tbody tr:hover{background:#f1f3f5}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.wrap{max-width:420px;overflow-wrap:anywhere}
th button{all:unset;cursor:pointer}
th button:hover{color:var(--accent)}
th button[data-dir="asc"]::after{content:" ▲";font-size:10px}
th button[data-dir="desc"]::after{content:" ▼";font-size:10px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
td.handle{white-space:nowrap}td.title{min-width:170px}td.handle code{color:#364fc7}
.badge{display:inline-block;min-width:24px;text-align:center;font-weight:700;border-radius:6px;
padding:1px 6px}
.chip{display:inline-block;font:600 11px/1.6 ui-monospace,SFMono-Regular,Menlo,Consolas,
monospace;border-radius:4px;padding:0 5px;margin:1px 3px 1px 0;border:1px solid}
.sev-error{background:#fff5f5;color:#c92a2a;border-color:#ffc9c9}
.sev-warning{background:#fff9db;color:#a15c00;border-color:#ffe8a3}
.sev-info{background:#f1f3f5;color:#495057;border-color:#dee2e6}
.ok-text{color:#2b8a3e;font-size:12px}
.score .score-num{display:inline-block;min-width:34px;font-weight:600}
.meter{display:inline-block;width:60px;height:6px;background:#e9ecef;border-radius:3px;
vertical-align:middle;margin-left:6px;overflow:hidden}
.meter span{display:block;height:100%}
.delta{font-size:12px;font-weight:600}.delta.up{color:#2b8a3e}.delta.down{color:#c92a2a}
details summary{cursor:pointer;list-style-position:outside}
details[open] summary{margin-bottom:6px}
ul.issues{list-style:none;margin:6px 0;padding:0}
ul.issues li{padding:3px 0;border-top:1px dashed var(--line)}
.pts{font-weight:700;color:#c92a2a;font-variant-numeric:tabular-nums}
.field{color:var(--muted);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font-size:11px}
.components{display:flex;flex-wrap:wrap;gap:4px 14px;color:#495057;font-size:12px}
.feedback{background:#f8f9ff;border-left:3px solid var(--accent);padding:6px 10px;margin:6px 0;
font-size:12px}
.feedback ul{margin:4px 0 0;padding-left:18px}
.images{font-size:12px;color:#495057}.images ol{margin:4px 0;padding-left:20px}
code.url{overflow-wrap:anywhere;color:#495057}
.filters{display:flex;flex-wrap:wrap;gap:10px 14px;align-items:flex-end;margin-bottom:12px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
.filters label.grow{flex:1;min-width:200px}
.filters select,.filters input,.filters button{font:inherit;font-size:13px;padding:6px 8px;
border:1px solid #ced4da;border-radius:6px;background:#fff;color:var(--ink)}
.filters button{cursor:pointer}.filters button:hover{border-color:var(--accent)}
.count{color:var(--muted);font-size:12px;padding-bottom:8px}
button.code-link{all:unset;cursor:pointer}
button.code-link:hover .chip{outline:2px solid var(--accent)}
ul.plain{list-style:none;margin:0;padding:0}
ul.reasons{list-style:none;padding:0;margin:0 0 14px}
ul.reasons li{padding:2px 0}
dl.cells{display:grid;grid-template-columns:1fr;gap:2px;margin:4px 0;font-size:12px}
dl.cells div{display:flex;gap:8px}dl.cells dt{color:var(--muted);min-width:140px}
dl.cells dd{margin:0;overflow-wrap:anywhere}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:8px 24px}
.cols ul{margin:0;padding-left:18px}.cols ul.plain{padding:0}.cols li{padding:2px 0}
tr[hidden]{display:none}
@media print{.nav,.filters{display:none}.card{box-shadow:none;border:1px solid var(--line)}}
"""

_JS = """
(function () {
  "use strict";
  var source = document.getElementById("product-index");
  if (!source) { return; }
  var index = JSON.parse(source.textContent);
  var tbody = document.querySelector("#product-table tbody");
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr"));
  var grade = document.getElementById("f-grade");
  var code = document.getElementById("f-code");
  var text = document.getElementById("f-text");
  var count = document.getElementById("f-count");
  var none = document.getElementById("no-match");

  function has(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; });
  }

  function apply(save) {
    var g = grade.value, c = code.value, q = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (tr) {
      var item = index[Number(tr.getAttribute("data-i"))];
      var ok = (!g || item.grade === g) && (!c || item.codes.indexOf(c) >= 0) &&
        (!q || item.text.indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = "Showing " + shown + " of " + rows.length + " products";
    none.hidden = shown > 0;
    if (save) {
      var params = new URLSearchParams();
      if (g) { params.set("grade", g); }
      if (c) { params.set("code", c); }
      if (q) { params.set("q", text.value.trim()); }
      var hash = params.toString();
      try {
        history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
      } catch (e) { /* some viewers forbid it; the filters still work */ }
    }
  }

  function fromHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var g = params.get("grade") || "", c = params.get("code") || "";
    grade.value = has(grade, g) ? g : "";
    code.value = has(code, c) ? c : "";
    text.value = params.get("q") || "";
  }

  var order = { A: 0, B: 1, C: 2, D: 3, E: 4 };
  function key(item, by) {
    if (by === "handle") { return item.handle; }
    if (by === "grade") { return order[item.grade]; }
    if (by === "before") { return item.before === null ? item.score : item.before; }
    return item.score;
  }
  document.querySelectorAll("#product-table th button[data-sort]").forEach(function (button) {
    button.addEventListener("click", function () {
      var by = button.getAttribute("data-sort");
      var dir = button.getAttribute("data-dir") === "asc" ? "desc" : "asc";
      document.querySelectorAll("#product-table th button").forEach(function (b) {
        b.removeAttribute("data-dir");
      });
      button.setAttribute("data-dir", dir);
      var sign = dir === "asc" ? 1 : -1;
      rows.sort(function (a, b) {
        var x = key(index[Number(a.getAttribute("data-i"))], by);
        var y = key(index[Number(b.getAttribute("data-i"))], by);
        return (x < y ? -1 : x > y ? 1 : 0) * sign;
      });
      rows.forEach(function (tr) { tbody.appendChild(tr); });
    });
  });

  function show(field, value) {
    field.value = has(field, value) ? value : "";
    apply(true);
    document.getElementById("products").scrollIntoView();
  }
  document.querySelectorAll("button.code-link").forEach(function (button) {
    button.addEventListener("click", function () {
      grade.value = ""; text.value = "";
      show(code, button.getAttribute("data-code"));
    });
  });
  document.querySelectorAll("svg rect.bar-after").forEach(function (bar) {
    bar.addEventListener("click", function () {
      code.value = ""; text.value = "";
      show(grade, bar.getAttribute("data-grade"));
    });
  });
  [grade, code].forEach(function (el) {
    el.addEventListener("change", function () { apply(true); });
  });
  text.addEventListener("input", function () { apply(true); });
  document.getElementById("f-reset").addEventListener("click", function () {
    grade.value = ""; code.value = ""; text.value = ""; apply(true);
  });
  window.addEventListener("hashchange", function () { fromHash(); apply(false); });
  fromHash();
  apply(false);
  document.body.setAttribute("data-ready", "true");
})();
"""
