"""tracks.html (`fthc track`) in a real browser: self-contained, no errors, its charts drawn, no chart label on
another at 1,400 and 800 px."""

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
    for section in ("Segment shares", "Migration", "Drift", "Early warning"):
        assert f"<h2>{section}</h2>" in page, section


@pytest.mark.parametrize("width", [1400, 800])
def test_the_tracks_page_in_a_real_browser(tracks_folder, width):
    path = tracks_folder / "tracks.html"
    charts, scroll, errors, requests = text_boxes_at(path, width)
    url = path.absolute().as_uri()
    assert not errors and requests == [url]
    assert {name for name, _ in charts} == {"shares", "transitions"}
    for name, boxes in charts:
        assert boxes and not overlaps(boxes), (width, name, overlaps(boxes)[:3])
    assert scroll <= width
