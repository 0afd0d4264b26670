"""tracks.html (`fthc track`) in a real browser: self-contained, no errors, its charts drawn, no chart label on
another at 1,400 and 800 px; risk over time charted where the model learnt risk, one line saying why not where not."""

import re

import pandas as pd
import pytest
from click.testing import CliRunner

from fthc.cli import main

from .test_segment_page import overlaps, segmented_berka, text_boxes_at

@pytest.fixture(scope="module")
def tracks_folder(tmp_path_factory):
    data, seg = segmented_berka(tmp_path_factory, 300, 4, "4")
    out = tmp_path_factory.mktemp("tracks") / "t"
    r = CliRunner().invoke(main, ["track", "--model", str(seg / "model"), "--data", str(data), "--every",
                                  "quarter", "--periods", "4", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_the_tracks_page_is_one_self_contained_file(tracks_folder):
    page = (tracks_folder / "tracks.html").read_text()
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    sections = ("Risk over time", "Segment shares", "Migration", "Drift", "Early warning")
    for section in sections:
        assert f"<h2>{section}</h2>" in page, section
    assert [page.index(f"<h2>{s}</h2>") for s in sections] == sorted(page.index(f"<h2>{s}</h2>") for s in sections)


def chart_texts(page: str, name: str) -> list[str]:
    """The texts of one chart of a page (matplotlib's SVG names each text in a comment beside its glyphs)."""
    start = page.index(f"data-chart='{name}'")
    return re.findall(r"<!-- (.*?) -->", page[start:page.index("</figure>", start)])


def test_risk_over_time_is_charted_from_the_tracks(tracks_folder):
    """Every segment has its line and every grade the customers fall in has its block, with the periods tracked
    on the axis."""
    tracks = pd.read_parquet(tracks_folder / "tracks.parquet")
    assert tracks["risk"].notna().any()
    texts = chart_texts((tracks_folder / "tracks.html").read_text(), "risk")
    assert "all customers" in texts and "mean estimated risk per segment" in texts
    for s in tracks["segment"].unique():
        assert any(t.startswith(f"{s}: ") for t in texts), s
    for g in tracks["risk_grade"].unique():
        assert {0: "no estimate", 1: "grade 1 (lowest risk)"}.get(g, f"grade {g}") in texts, g
    for end in tracks["period_end"].unique():
        assert pd.Timestamp(end).strftime("%Y-%m") in texts


@pytest.fixture(scope="module")
def tracks_without_risk(tmp_path_factory):
    """tracks.html of a model fitted without outcomes: it scores no risk."""
    from fthc.data import write_synthetic_berka

    data = tmp_path_factory.mktemp("berka")
    write_synthetic_berka(data, n_accounts=200, seed=5)
    seg, out = tmp_path_factory.mktemp("seg") / "s", tmp_path_factory.mktemp("tracks") / "t"
    for args in (["segment", "--data", str(data), "--k", "3", "--out", str(seg)],
                 ["track", "--model", str(seg / "model"), "--data", str(data), "--every", "quarter", "--periods",
                  "3", "--out", str(out)]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, r.output
    return out


def test_without_risk_the_section_says_so_in_one_line(tracks_without_risk):
    assert "risk" not in pd.read_parquet(tracks_without_risk / "tracks.parquet")
    page = (tracks_without_risk / "tracks.html").read_text()
    start = page.index("<section id='risk'>") + len("<section id='risk'>")
    section = page[start:page.index("</section>", start)]
    assert "data-chart='risk'" not in page and "<figure" not in section
    assert re.fullmatch(r"<h2>Risk over time</h2><p class='no-risk'>No risk over time: the model was fitted "
                        r"without outcomes[^<]*<code>[^<]*</code>\)\.</p>", section), section


@pytest.mark.parametrize("width", [1400, 800])
def test_the_tracks_page_in_a_real_browser(tracks_folder, width):
    path = tracks_folder / "tracks.html"
    charts, scroll, errors, requests = text_boxes_at(path, width)
    url = path.absolute().as_uri()
    assert not errors and requests == [url]
    assert {name for name, _ in charts} == {"risk", "shares", "transitions"}
    for name, boxes in charts:
        assert boxes and not overlaps(boxes), (width, name, overlaps(boxes)[:3])
    assert scroll <= width
