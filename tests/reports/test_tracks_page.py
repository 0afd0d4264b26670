"""tracks.html (`fthc track`) in a real browser: self-contained, no errors, its charts drawn, no chart label on
another at 1,400 and 800 px."""

import shutil

import pytest
from click.testing import CliRunner

from fthc.cli import main

from .test_segment_page import TEXT_BOXES, overlaps

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def tracks_folder(tmp_path_factory):
    from fthc.data import write_synthetic_berka

    data = tmp_path_factory.mktemp("berka")
    write_synthetic_berka(data, n_accounts=300, seed=4)
    seg = tmp_path_factory.mktemp("seg") / "segments"
    runner = CliRunner()
    r = runner.invoke(main, ["segment", "--data", str(data), "--k", "4", "--outcomes", "loans", "--out", str(seg)])
    assert r.exit_code == 0, r.output
    out = tmp_path_factory.mktemp("tracks") / "t"
    r = runner.invoke(main, ["track", "--model", str(seg / "model"), "--data", str(data), "--every", "quarter",
                             "--periods", "4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_the_tracks_page_is_one_self_contained_file(tracks_folder):
    page = (tracks_folder / "tracks.html").read_text()
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    for section in ("Segment shares", "Migration", "Drift", "Early warning"):
        assert f"<h2>{section}</h2>" in page, section


@pytest.mark.parametrize("width", [1400, 800])
def test_the_tracks_page_in_a_real_browser(tracks_folder, width):
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a dev extra: pip install playwright")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 1000})
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        url = (tracks_folder / "tracks.html").absolute().as_uri()
        page.goto(url)
        page.wait_for_load_state("load")
        charts = page.eval_on_selector_all("figure.chart", TEXT_BOXES)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert not errors and requests == [url]
    assert {name for name, _ in charts} == {"shares", "transitions"}
    for name, boxes in charts:
        assert boxes and not overlaps(boxes), (width, name, overlaps(boxes)[:3])
    assert scroll <= width
