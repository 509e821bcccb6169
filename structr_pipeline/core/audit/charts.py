"""Small SVG charts drawn in Python for the quality report: no scripts, no external files.

Each function returns one ``<svg>`` element that scales to its container (``viewBox``).
Every label is escaped; the colours come from the caller.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

FONT_SIZE = 12
AXIS = "#868e96"
GRID = "#e9ecef"
INK = "#343a40"
MUTED = "#868e96"
# Bars of the grade chart before the fix loop.
BEFORE = "#ced4da"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5, 10, 20, 50, …)."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def _ticks(top: int, count: int = 4) -> list[int]:
    step = max(1, top // count)
    return list(range(0, top + 1, step))


def _frame(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{_e(label)}" '
        f'font-size="{FONT_SIZE}">'
        f"<title>{_e(label)}</title>" + "".join(body) + "</svg>"
    )


def _y_axis(left: int, top: int, plot_h: int, right: int, y_max: int) -> list[str]:
    parts = []
    for tick in _ticks(y_max):
        y = top + plot_h - plot_h * tick / y_max
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}</text>'
        )
    return parts


def grade_chart(
    counts: Mapping[str, int],
    colors: Mapping[str, str],
    before: Mapping[str, int] | None = None,
    label: str = "Products per grade",
) -> str:
    """Vertical bars, one per grade in ``counts`` order, each in its grade's colour.

    With ``before``, a grey bar beside each shows the count before the fix loop.
    """
    grades = list(counts)
    width, height = 480, 240
    left, right, top, bottom = 40, 12, 20, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = _nice_max(max([*counts.values(), *(before or {}).values(), 1]))
    slot = plot_w / max(1, len(grades))
    bar_w = slot * (0.36 if before else 0.56)
    body = _y_axis(left, top, plot_h, width - right, y_max)
    base = top + plot_h
    for i, grade in enumerate(grades):
        centre = left + slot * (i + 0.5)
        bars = [(counts[grade], colors[grade], "after")]
        if before is not None:
            bars.insert(0, (before.get(grade, 0), BEFORE, "before"))
        for j, (value, color, kind) in enumerate(bars):
            x = centre - bar_w - 2 + j * (bar_w + 4) if len(bars) == 2 else centre - bar_w / 2
            h = plot_h * value / y_max
            shown = "before fixes" if kind == "before" else "now"
            body.append(
                f'<rect class="bar bar-{kind}" data-grade="{_e(grade)}" x="{x:.1f}" '
                f'y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{_e(color)}">'
                f"<title>{_e(grade)}: {value} product{'' if value == 1 else 's'} ({shown})"
                "</title></rect>"
            )
            body.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{base - h - 5:.1f}" text-anchor="middle" '
                f'fill="{INK if kind == "after" else MUTED}" font-weight="600">{value}</text>'
            )
        body.append(
            f'<text x="{centre:.1f}" y="{base + 20}" text-anchor="middle" fill="{INK}" '
            f'font-size="14" font-weight="700">{_e(grade)}</text>'
        )
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{AXIS}"/>')
    return _frame(width, height, label, body)


def score_bins(scores: Sequence[float], width: int = 10) -> list[int]:
    """How many scores fall in each bin of ``width`` points (0–9.99, …); 100 joins the last."""
    count = 100 // width
    bins = [0] * count
    for score in scores:
        bins[min(count - 1, max(0, int(score // width)))] += 1
    return bins


def histogram(
    bins: Sequence[int],
    color: str,
    markers: Sequence[tuple[float, str]] = (),
    label: str = "Products per score range",
) -> str:
    """Adjacent bars over 0–100, one per bin, with dashed lines at the ``markers``.

    ``markers`` are ``(score, text)`` pairs, for example the lowest score of each grade.
    """
    width, height = 480, 240
    left, right, top, bottom = 40, 12, 36, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = _nice_max(max([*bins, 1]))
    body = _y_axis(left, top, plot_h, width - right, y_max)
    base = top + plot_h
    bin_w = plot_w / max(1, len(bins))
    span = 100 / max(1, len(bins))
    for i, value in enumerate(bins):
        x = left + i * bin_w
        h = plot_h * value / y_max
        low = round(i * span)
        high = 100 if i == len(bins) - 1 else round((i + 1) * span)
        body.append(
            f'<rect class="bin" x="{x + 1:.1f}" y="{base - h:.1f}" width="{bin_w - 2:.1f}" '
            f'height="{h:.1f}" fill="{_e(color)}"><title>{low}–{high}: {value} '
            f"product{'' if value == 1 else 's'}</title></rect>"
        )
        if value:
            body.append(
                f'<text x="{x + bin_w / 2:.1f}" y="{base - h - 5:.1f}" text-anchor="middle" '
                f'fill="{INK}" font-weight="600">{value}</text>'
            )
    for i in range(0, len(bins) + 1, 2):
        x = left + i * bin_w
        body.append(
            f'<text x="{x:.1f}" y="{base + 18}" text-anchor="middle" fill="{MUTED}">'
            f"{round(i * span)}</text>"
        )
    for score, text in markers:
        x = left + plot_w * score / 100
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 14}" y2="{base}" stroke="{AXIS}" '
            f'stroke-dasharray="3 3"/>'
            f'<text x="{x:.1f}" y="{top - 19}" text-anchor="middle" fill="{MUTED}" '
            f'font-size="11" font-weight="600">{_e(text)}</text>'
        )
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{AXIS}"/>')
    return _frame(width, height, label, body)
