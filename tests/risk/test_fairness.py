"""The fairness audit: groups' membership of the favourable segments against the most favoured group's."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fthc.cli import main
from fthc.errors import DataError
from fthc.reports.risk_sections import fairness_html
from fthc.risk.fairness import MIN_GROUP, fairness, read_attributes
from fthc.risk.inclusion import portfolio_rate

from .test_outcomes import transactions


def fitted(labels, rates, risk=None):
    """What the audit reads of a fitted segmentation: segments, each segment's outcome rate and the portfolio's,
    estimated risk."""
    labels = pd.Series(labels, index=pd.Index([f"c{i}" for i in range(len(labels))], name="customer_id"))
    from fthc.risk.intervals import wilson_interval

    bounds = [wilson_interval(int(50 * r), 50) for r in rates]
    by_segment = pd.DataFrame({"with_outcome": 50, "rate": rates, "positives": [int(50 * r) for r in rates],
                               "rate_low": [b[0] for b in bounds], "rate_high": [b[1] for b in bounds]})
    portfolio = portfolio_rate(by_segment, pd.Series(np.repeat(rates, 50)))
    return labels, by_segment, portfolio, pd.Series(risk, index=labels.index) if risk is not None else None


def audit(labels, rates, groups, risk=None):
    labels, by_segment, portfolio, risk = fitted(labels, rates, risk)
    return fairness(labels, groups, by_segment, portfolio, risk)


def test_a_group_kept_out_of_the_favourable_segments_is_flagged_and_a_small_group_only_shown():
    # segment 0 defaults at 10%, segment 1 at 40%: segment 0 is favourable (portfolio 25%)
    labels = [0] * 90 + [1] * 10 + [0] * 30 + [1] * 70 + [1] * 5
    groups = pd.DataFrame({"region": ["north"] * 100 + ["south"] * 100 + ["east"] * 5},
                          index=[f"c{i}" for i in range(205)])
    table, found = audit(labels, [0.1, 0.4], groups)
    assert found["favourable"] == [0]
    rows = table.drop_duplicates(["attribute", "group"]).set_index("group")
    assert rows.loc["north", "favourable_rate"] == pytest.approx(0.9)
    assert rows.loc["south", "ratio_to_most_favoured"] == pytest.approx(0.3 / 0.9)
    assert rows.loc["south", "flagged"] and not rows.loc["north", "flagged"]
    assert rows.loc["east", "customers"] < MIN_GROUP and not rows.loc["east", "flagged"]  # 0% of 5: not judged
    assert found["flagged"]["group"].tolist() == ["south"]
    shares = table[(table["group"] == "south")].set_index("segment")["share_in_segment"]
    assert shares.to_dict() == pytest.approx({0: 0.3, 1: 0.7})


def test_estimated_risk_is_shown_per_group_only_where_an_outcome_model_was_learnt():
    labels = [0] * 50 + [1] * 50
    groups = pd.DataFrame({"gender": ["F", "M"] * 50}, index=[f"c{i}" for i in range(100)])
    risk = np.r_[np.full(50, 0.1), np.full(50, 0.3)]
    with_model, found = audit(labels, [0.05, 0.35], groups, risk)
    assert with_model.drop_duplicates("group").set_index("group")["mean_risk"].to_dict() == pytest.approx(
        {"F": 0.2, "M": 0.2})
    assert "mean estimated risk" in fairness_html(with_model, found, str)
    without, found = audit(labels, [0.05, 0.35], groups)
    assert without["mean_risk"].isna().all()
    assert "mean estimated risk" not in fairness_html(without, found, str)


@pytest.mark.parametrize("content, message", [
    ("id,region\n1,north\n", "missing column 'customer_id'"),
    ("customer_id\n1\n", "no attribute columns"),
    ("customer_id,region\n1,north\n1,south\n", "customer '1' appears twice"),
])
def test_bad_attribute_files_are_one_clear_error(tmp_path, content, message):
    path = tmp_path / "attributes.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        read_attributes(path, pd.Index(["1", "2"]))


def test_attribute_ids_are_matched_exactly_as_written(tmp_path):
    path = tmp_path / "attributes.csv"
    path.write_text("customer_id,region\n001,north\n1,south\n")
    got = read_attributes(path, pd.Index(["001", "1"]))
    assert got["region"].to_dict() == {"001": "north", "1": "south"}


def test_segment_writes_the_audit_for_a_tables_own_attributes(tmp_path):
    df = transactions(200, seed=3)
    df.to_csv(tmp_path / "t.csv", index=False)
    level = df[df["amount"] > 0].groupby("customer_id")["amount"].mean()
    y = (level > level.median()).astype(int)  # richer customers default more: outcomes the segments carry
    pd.DataFrame({"customer_id": y.index, "default": y.to_numpy()}).to_csv(tmp_path / "o.csv", index=False)
    pd.DataFrame({"customer_id": y.index, "band": np.where(y.index % 2, "odd", "even")}).to_csv(
        tmp_path / "a.csv", index=False)
    result = CliRunner().invoke(main, ["segment", "--data", str(tmp_path / "t.csv"), "--k", "3", "--outcomes",
                                       str(tmp_path / "o.csv"), "--attributes", str(tmp_path / "a.csv"),
                                       "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    audit = pd.read_csv(tmp_path / "s" / "fairness.csv")
    assert set(audit["group"]) == {"odd", "even"} and audit.groupby("group")["customers"].first().sum() == 200
    page = (tmp_path / "s" / "segments.html").read_text()
    assert "<h3>band</h3>" in page and "mean estimated risk" in page


def test_an_attributes_path_that_is_a_folder_or_not_a_table_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="is a folder, not an attributes file"):
        read_attributes(tmp_path, pd.Index(["1"]))
    broken = tmp_path / "a.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read the attributes"):
        read_attributes(broken, pd.Index(["1"]))
