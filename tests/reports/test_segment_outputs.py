import fthc
from fthc.reports.segment_outputs import write_segment_outputs
from fthc.segments.result import result_of

from ..risk.test_outcomes import transactions


def test_confidence_is_explained_with_the_number_of_refits_it_was_made_of(tmp_path):
    seg = fthc.Segmenter(k=3, refits=6).fit(transactions(120, seed=1))
    write_segment_outputs(result_of(seg), tmp_path, {"method": "features", "model": repr(seg.model_),
                                                      "data": "df", "sections": []})
    assert "the share of 6 refits" in (tmp_path / "segments.md").read_text()
    assert "The share of 6 refits" in (tmp_path / "segments.html").read_text()


def test_berka_loan_statuses_are_explained_only_for_berka_data(tmp_path):
    seg = fthc.Segmenter(k=3, refits=4).fit(transactions(120, seed=2))
    write_segment_outputs(result_of(seg), tmp_path, {"method": "features", "model": repr(seg.model_),
                                                      "data": "df", "sections": []})
    page = (tmp_path / "segments.html").read_text()
    assert "<dt>confidence</dt>" in page and "Berka loan status" not in page


def test_every_kind_in_the_kinds_chart_has_a_colour_of_its_own():
    """Ten blocks (the eight kinds, interest credited drawn apart, other): ten colours, none read as another."""
    import re

    import numpy as np
    import pandas as pd

    from fthc.features.measures import EVENT_KINDS
    from fthc.reports.charts import kinds_chart

    sums = pd.DataFrame({f"n_{k}": [5, 3] for k in EVENT_KINDS} | {"n_interest_credited": [2, 1],
                                                                    "transactions": [60, 40]})
    svg = kinds_chart(sums, pd.Series(np.array([0, 1])), EVENT_KINDS)
    fills = set(re.findall(r"fill: (#[0-9a-f]{6})", svg)) - {"#ffffff", "#000000"}
    assert len(fills) >= len(EVENT_KINDS) + 2, fills


def test_grade_counts_in_segments_md_are_whole_numbers():
    """A grades frame whose columns are all numbers (as before the 'enough' column, or read back from a file)
    gave rows of floats: segments.md said '232.0' customers."""
    import numpy as np

    from fthc.reports.risk_report import grades_markdown
    from fthc.risk.grades import fit_grades

    rng = np.random.default_rng(0)
    risk = rng.uniform(0.02, 0.7, 600)
    table = fit_grades(risk, rng.uniform(size=600) < risk).table.astype(float)
    lines = grades_markdown(table)
    counts = [line.split(" | ")[2] for line in lines[2:]]
    assert counts == [f"{int(n):,}" for n in table["customers"]] and sum(map(int, counts)) == 600, lines
    assert not any(".0 |" in line for line in lines), lines
