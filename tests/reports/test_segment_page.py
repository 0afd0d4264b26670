"""segments.html in a real browser (Debian's Chromium, driven by Playwright): self-contained, no errors, every
chart drawn, every segment shown; a screenshot 1,400 px wide (FTHC_SCREENSHOT: also copied there)."""

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fthc.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def segmented_berka(tmp_path_factory, n_accounts: int, seed: int, k: str) -> tuple[Path, Path]:
    """Synthetic Berka segmented with its loans as outcomes: (the data folder, the results folder)."""
    from fthc.data import write_synthetic_berka

    data = tmp_path_factory.mktemp("berka")
    write_synthetic_berka(data, n_accounts=n_accounts, seed=seed)
    out = tmp_path_factory.mktemp("page") / "segments"
    result = CliRunner().invoke(main, ["segment", "--data", str(data), "--k", k, "--outcomes", "loans",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    return data, out


def text_boxes_at(path: Path, width: int, screenshot: str | None = None) -> tuple[list, int, list, list]:
    """The page at `width` px in Chromium: each chart's text boxes, the page's scroll width, its errors and the
    URLs it requested (skipped where Chromium or Playwright is missing)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a dev extra: pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 1000})
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(path.absolute().as_uri())
        page.wait_for_load_state("load")
        charts = page.eval_on_selector_all("figure.chart", TEXT_BOXES)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if screenshot:
            page.screenshot(path=screenshot, full_page=True)
        browser.close()
    return charts, scroll, errors, requests


@pytest.fixture(scope="module")
def page_folder(tmp_path_factory):
    return segmented_berka(tmp_path_factory, 400, 2, "auto")[1]


def test_the_page_is_one_self_contained_file(page_folder):
    page = (page_folder / "segments.html").read_text()
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert 'src="http' not in page and "url(http" not in page and 'href="http' not in page
    sections = ("Customers without a credit history", "The segments", "How many segments",
                "What differs between segments", "Risk", "Fairness", "What the terms mean")
    for section in sections:
        assert f">{section}</h2>" in page, section
    # the purpose first: who without a credit history could be offered credit, then the segments
    assert [page.index(f">{s}</h2>") for s in sections] == sorted(page.index(f">{s}</h2>") for s in sections)


def test_the_page_in_a_real_browser(page_folder, tmp_path):
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a dev extra: pip install playwright")
    import pandas as pd

    segments = sorted(pd.read_csv(page_folder / "assignments.csv")["segment"].unique())
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors, requests = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        url = (page_folder / "segments.html").absolute().as_uri()
        page.goto(url)
        page.wait_for_load_state("load")
        charts = page.eval_on_selector_all("figure.chart", """figs => figs.map(f => {
            const svg = f.querySelector('svg'); if (!svg) return [f.dataset.chart, 0, 0];
            const marks = [...svg.querySelectorAll('path, rect, line, polyline, use')]
                .filter(e => { const b = e.getBoundingClientRect(); return b.width > 0 || b.height > 0; });
            const box = svg.getBoundingClientRect();
            return [f.dataset.chart, marks.length, box.width * box.height]; })""")
        cards = page.eval_on_selector_all(".card", "cs => cs.map(c => Number(c.dataset.segment))")
        shot = tmp_path / "segments.png"
        page.screenshot(path=str(shot), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert not errors, errors
    assert requests == [url], requests  # nothing fetched but the page itself
    names = {name for name, _, _ in charts}
    assert {"k_choice", "distributions", "kinds", "monthly", "risk"} <= names, names
    for name, marks, area in charts:
        assert marks > 10 and area > 10_000, (name, marks, area)  # each chart drew something
    assert sorted(cards) == [int(s) for s in segments]  # every segment has its card
    assert width <= 1400 and shot.stat().st_size > 50_000
    if os.environ.get("FTHC_SCREENSHOT"):
        shutil.copy(shot, Path(os.environ["FTHC_SCREENSHOT"]))


# every text of a chart (matplotlib draws each as a group `text_N`): its box on the page
TEXT_BOXES = """figs => figs.map(f => [f.dataset.chart, [...f.querySelectorAll('svg g[id^="text_"]')]
    .map(g => g.getBoundingClientRect()).filter(b => b.width > 0 && b.height > 0)
    .map(b => [b.left, b.top, b.right, b.bottom])])"""


def overlaps(boxes, slack=1.0):
    """Pairs of text boxes that overlap by more than `slack` pixels each way (a tick label on another, a legend
    on a title)."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a[2], b[2]) - max(a[0], b[0]) > slack and min(a[3], b[3]) - max(a[1], b[1]) > slack:
                found.append((a, b))
    return found


@pytest.mark.parametrize("width", [1400, 800])
def test_no_chart_label_overlaps_another_and_labels_stay_readable(page_folder, width):
    """At both widths: no two texts of a chart overlap, and a chart's labels are at least 7 px high (an SVG
    scaled down to the column shrinks its text with it)."""
    shot = os.environ.get("FTHC_SCREENSHOT")
    charts, scroll, _, _ = text_boxes_at(page_folder / "segments.html", width,
                                         str(Path(shot).with_suffix(f".{width}.png")) if shot else None)
    assert scroll <= width
    assert {name for name, _ in charts} >= {"k_choice", "distributions", "monthly", "risk"}
    for name, boxes in charts:
        assert boxes, name
        assert not overlaps(boxes), (width, name, overlaps(boxes)[:3])
        heights = sorted(b[3] - b[1] for b in boxes)
        assert heights[len(heights) // 2] >= 7, (width, name, heights[:5])  # the typical label, not a minus sign
