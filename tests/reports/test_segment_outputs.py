import fthc
from fthc.reports.segment_outputs import write_segment_outputs

from ..risk.test_outcomes import transactions


def test_confidence_is_explained_with_the_number_of_refits_it_was_made_of(tmp_path):
    seg = fthc.Segmenter(k=3, refits=6).fit(transactions(120, seed=1))
    write_segment_outputs(seg, tmp_path, {"method": "features", "model": repr(seg.model_), "data": "df",
                                          "sections": []})
    assert "the share of 6 refits" in (tmp_path / "segments.md").read_text()
    assert "The share of 6 refits" in (tmp_path / "segments.html").read_text()


def test_berka_loan_statuses_are_explained_only_for_berka_data(tmp_path):
    seg = fthc.Segmenter(k=3, refits=4).fit(transactions(120, seed=2))
    write_segment_outputs(seg, tmp_path, {"method": "features", "model": repr(seg.model_), "data": "df",
                                          "sections": []})
    page = (tmp_path / "segments.html").read_text()
    assert "<dt>confidence</dt>" in page and "Berka loan status" not in page
