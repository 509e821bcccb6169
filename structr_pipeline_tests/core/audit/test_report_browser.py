"""The quality report opened in headless Chromium: the charts paint and the filters work.

Skipped when Chromium is not installed, unless ``STRUCTR_REQUIRE_CHROMIUM=1`` (then a
missing browser fails the test).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from structr_pipeline.core.audit import summarize, write_report
from structr_pipeline.core.audit.report import CHART_COLORS, HISTOGRAM_COLOR

from .test_report import Page

pytestmark = pytest.mark.slow

WIDTH, HEIGHT = 1280, 2000


def chromium() -> str:
    found = next(
        (p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and os.access(p, os.X_OK)),
        None,
    )
    if found is None:
        reason = "headless Chromium (/usr/bin/chromium) is not installed"
        if os.environ.get("STRUCTR_REQUIRE_CHROMIUM") == "1":
            pytest.fail(f"{reason}, but STRUCTR_REQUIRE_CHROMIUM=1")
        pytest.skip(reason)
    return found


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def rgb(hex_color: str) -> tuple[int, int, int]:
    value = hex_color.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def mask_of(image: Image.Image, color: str, tolerance: int = 2) -> Image.Image:
    """A black-and-white mask of where the screenshot has ``color`` (per-channel tolerance)."""
    channels = [
        band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
        for band, c in zip(image.split(), rgb(color), strict=True)
    ]
    return ImageChops.multiply(ImageChops.multiply(channels[0], channels[1]), channels[2])


def area_of(mask: Image.Image) -> int:
    return mask.histogram()[255]


@pytest.fixture(scope="module")
def report_file(sample_batch, tmp_path_factory) -> Path:
    return write_report(sample_batch.report, tmp_path_factory.mktemp("report") / "report.html")


def test_the_charts_paint(sample_batch, report_file, tmp_path):
    binary = chromium()
    shot = tmp_path / "report.png"
    run_chromium(binary, tmp_path / "profile", f"--screenshot={shot}", report_file.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)

    counts = summarize(sample_batch.audits).grade_counts
    assert sum(1 for n in counts.values() if n) >= 2  # the proportions below mean something
    masks = {grade: mask_of(image, color) for grade, color in CHART_COLORS.items()}
    per_product = []
    for grade, n in counts.items():
        if n == 0:
            assert area_of(masks[grade]) < 20, grade  # a zero bar has no area
        else:
            assert area_of(masks[grade]) > 150 * n, grade
            per_product.append(area_of(masks[grade]) / n)
    # bars of one width: area in proportion to the grade's count
    assert max(per_product) / min(per_product) < 1.15

    bins = mask_of(image, HISTOGRAM_COLOR)
    assert area_of(bins) > 150 * len(sample_batch.audits) // 2
    # the histogram sits beside the grade chart, near the top of the page
    boxes = [masks[g].getbbox() for g, n in counts.items() if n]
    grade_right = max(box[2] for box in boxes)
    grade_bottom = max(box[3] for box in boxes)
    left, top, right, bottom = bins.getbbox()
    assert grade_right < left
    assert grade_bottom < HEIGHT // 2 and bottom < HEIGHT // 2
    assert abs(grade_bottom - bottom) <= 12  # both charts share a baseline row
    # the histogram's area has axes, labels and bars, not a blank box
    area = image.crop((left - 40, top - 40, right + 10, bottom + 20))
    colors = dict((c, n) for n, c in area.getcolors(maxcolors=area.width * area.height))
    assert len(colors) > 20
    assert colors.get((255, 255, 255), 0) / (area.width * area.height) < 0.9


def dump(binary: str, profile: Path, url: str) -> Page:
    result = run_chromium(binary, profile, "--dump-dom", url)
    assert "<html" in result.stdout
    return Page(result.stdout)


def visible_rows(page: Page) -> tuple[list[int], list[int]]:
    rows = [attrs for tag, attrs in page.tags if tag == "tr" and "data-i" in attrs]
    shown = [int(a["data-i"]) for a in rows if "hidden" not in a]
    hidden = [int(a["data-i"]) for a in rows if "hidden" in a]
    return shown, hidden


def texts_of(page_text: str, element_id: str) -> str:
    start = page_text.index(f'id="{element_id}"')
    return page_text[start : page_text.index("<", start)]


def test_the_filters_run_in_the_browser(sample_batch, report_file, tmp_path):
    binary = chromium()
    audits = sample_batch.audits
    index = Page(report_file.read_text(encoding="utf-8")).product_index()

    page = dump(binary, tmp_path / "p1", report_file.as_uri())
    body = next(attrs for tag, attrs in page.tags if tag == "body")
    assert body.get("data-ready") == "true"  # the script ran to its end
    shown, hidden = visible_rows(page)
    assert len(shown) == len(audits) and hidden == []

    grade = "A"
    expected = sorted(i for i, item in enumerate(index) if item["grade"] == grade)
    assert 0 < len(expected) < len(audits)
    url = f"{report_file.as_uri()}#grade={grade}"
    result = run_chromium(binary, tmp_path / "p2", "--dump-dom", url)
    shown, hidden = visible_rows(Page(result.stdout))
    assert sorted(shown) == expected
    assert len(hidden) == len(audits) - len(expected)
    assert f"Showing {len(expected)} of {len(audits)} products" in texts_of(
        result.stdout, "f-count"
    )

    url = f"{report_file.as_uri()}#code=GTIN_MISSING&q=board"
    shown, _ = visible_rows(dump(binary, tmp_path / "p3", url))
    assert [index[i]["handle"] for i in shown] == ["walnut-cutting-board"]

    url = f"{report_file.as_uri()}#q=no-such-product"
    result = run_chromium(binary, tmp_path / "p4", "--dump-dom", url)
    page = Page(result.stdout)
    assert visible_rows(page)[0] == []
    no_match = next(a for t, a in page.tags if a.get("id") == "no-match")
    assert "hidden" not in no_match
