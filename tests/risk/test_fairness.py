"""The fairness audit: groups' membership of the favourable segments against the most favoured group's."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fthc.cli import main
from fthc.errors import DataError
from fthc.reports.risk_sections import fairness_html, fairness_markdown
from fthc.risk.fairness import MIN_GROUP, fairness, ratio_interval, read_attributes
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


def audit(labels, rates, groups, risk=None, learnt=None):
    labels, by_segment, portfolio, risk = fitted(labels, rates, risk)
    return fairness(labels, groups, by_segment, portfolio, risk, learnt)


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
    per_group = audit.drop_duplicates("group")
    assert per_group["with_outcome"].sum() > 100 and per_group["mean_risk_low"].lt(per_group["mean_risk"]).all()
    assert per_group["observed_rate"].between(0, 1).all() and per_group["estimated_rate"].between(0, 1).all()
    grades = pd.read_csv(tmp_path / "s" / "fairness_grades.csv")
    assert grades.groupby("group")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    page = (tmp_path / "s" / "segments.html").read_text()
    assert "<h3>band</h3>" in page and "mean estimated risk" in page and "observed default rate" in page


def test_an_attributes_path_that_is_a_folder_or_not_a_table_is_one_clear_error(tmp_path):
    with pytest.raises(DataError, match="is a folder, not an attributes file"):
        read_attributes(tmp_path, pd.Index(["1"]))
    broken = tmp_path / "a.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="cannot read the attributes"):
        read_attributes(broken, pd.Index(["1"]))


def planted_outcomes(seed=7, n=600):
    """Customers with an outcome in five groups, each with an out-of-fold risk p: `calibrated` defaults at p,
    `under` at 2p (its risk under-estimated), `over` at p/2, `unranked` at the mean of p whatever its own p
    (calibrated on average, the risk ranks nothing), `small` has too few defaults to be judged."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(["calibrated", "under", "over", "unranked", "small"], [n, n, n, n, 30])
    p = rng.uniform(0.05, 0.4, len(groups))
    truth = np.select([groups == "under", groups == "over", groups == "unranked"], [2 * p, p / 2, p.mean()], p)
    ids = [f"c{i}" for i in range(len(groups))]
    learnt = pd.DataFrame({"risk": p, "outcome": (rng.random(len(groups)) < truth).astype(int)}, index=ids)
    return learnt, pd.DataFrame({"group": groups}, index=ids)


def test_a_group_whose_risk_is_under_estimated_is_flagged_and_a_calibrated_one_is_not():
    learnt, groups = planted_outcomes()
    labels = [0, 1] * (len(groups) // 2)
    table, found = audit(labels, [0.1, 0.4], groups, learnt["risk"].to_numpy(), learnt=learnt)
    rows = table.drop_duplicates("group").set_index("group")
    assert rows.loc["calibrated", "calibration"] == "calibrated"
    assert rows.loc["unranked", "calibration"] == "calibrated"
    assert rows.loc["under", "calibration"] == "mis-calibrated: under-estimated"
    assert rows.loc["over", "calibration"] == "mis-calibrated: over-estimated"
    under = rows.loc["under"]
    assert under["observed_low"] > under["expected_high"] and under["observed_rate"] > 1.5 * under["estimated_rate"]
    assert set(found["miscalibrated"]["group"]) == {"under", "over"}
    for group in ("calibrated", "under", "over"):  # the risk ranks these groups' customers, not `unranked`'s
        assert rows.loc[group, "auc_low"] > 0.55, rows.loc[group]
    assert rows.loc["unranked", "auc_low"] < 0.5 < rows.loc["unranked", "auc_high"]
    small = rows.loc["small"]
    assert small["defaults"] < 10 and small["calibration"] == "" and np.isnan(small["auc"])
    assert f"{small['defaults']} defaults and" in small["risk_note"] and "fewer than 10" in small["risk_note"]
    assert 0 < small["observed_low"] < small["observed_rate"]  # the rate is shown all the same
    page = fairness_html(table, found, str)
    assert "mis-calibrated: under-estimated" in page and "AUC within the group" in page
    assert "under (observed" in fairness_markdown(["group"], found)[-1]
    without, found = audit(labels, [0.1, 0.4], groups, learnt["risk"].to_numpy())
    assert "calibration" not in without and "miscalibrated" not in found
    assert "AUC within the group" not in fairness_html(without, found, str)


def test_mean_risk_has_an_interval_that_narrows_with_the_group():
    rng = np.random.default_rng(1)
    groups = pd.DataFrame({"size": ["small"] * 100 + ["large"] * 1600}, index=[f"c{i}" for i in range(1700)])
    risk = rng.uniform(0.0, 0.4, 1700)  # mean 0.2 in both groups
    table, _ = audit([0, 1] * 850, [0.1, 0.4], groups, risk)
    rows = table.drop_duplicates("group").set_index("group")
    for group in ("small", "large"):
        assert rows.loc[group, "mean_risk_low"] < 0.2 < rows.loc[group, "mean_risk_high"]
    width = rows["mean_risk_high"] - rows["mean_risk_low"]
    assert width["small"] / width["large"] == pytest.approx(4, rel=0.15)  # sqrt(1600 / 100)


def test_the_most_favoured_group_is_the_reference_with_no_interval():
    labels = [0] * 90 + [1] * 10 + [0] * 30 + [1] * 70
    groups = pd.DataFrame({"region": ["north"] * 100 + ["south"] * 100}, index=[f"c{i}" for i in range(200)])
    table, found = audit(labels, [0.1, 0.4], groups)
    rows = table.drop_duplicates("group").set_index("group")
    assert rows.loc["north", "reference"] and rows.loc["north", "ratio_to_most_favoured"] == 1
    assert rows.loc["north", ["ratio_low", "ratio_high"]].isna().all()
    assert not rows.loc["south", "reference"] and rows.loc["south", "ratio_high"] < 1
    page = fairness_html(table, found, str)
    assert "<td>1.000 (reference)</td>" in page  # the reference's cell: its ratio and no interval after it
    lo, hi = ratio_interval(90, 100, 90, 100)  # what north judged against itself would show
    assert f"({lo:.2f}-{hi:.2f})" not in page


def test_age_bands_are_in_their_natural_order_other_groups_largest_first_unknown_last():
    sizes = {"45-59": 50, "30-44": 80, "60+": 20, "under 30": 40, "unknown": 90}
    age = np.repeat(list(sizes), list(sizes.values()))
    region = np.repeat(["west", "unknown", "east", "north"], [40, 120, 80, 40])
    groups = pd.DataFrame({"age_band": age, "region": region}, index=[f"c{i}" for i in range(len(age))])
    table, _ = audit([0, 1] * (len(age) // 2), [0.1, 0.4], groups)
    order = table.drop_duplicates(["attribute", "group"]).groupby("attribute", sort=False)["group"].agg(list)
    assert order["age_band"] == ["under 30", "30-44", "45-59", "60+", "unknown"]
    assert order["region"] == ["east", "north", "west", "unknown"]  # largest first, ties by name


def test_a_missing_age_is_the_group_unknown():
    from fthc.risk.fairness import berka_attributes

    context = pd.DataFrame({"age": [25.0, np.nan, 61.0], "female": [True, None, False], "region": ["a", "b", "c"]})
    assert berka_attributes(context)["age_band"].tolist() == ["under 30", "unknown", "60+"]


def test_each_groups_share_in_the_worst_grades_and_its_grade_distribution():
    """Grades 1-5; the worst grades hold at least a fifth of the graded customers: grade 5 (15%) and grade 4."""
    index = [f"c{i}" for i in range(400)]
    grades = pd.Series(np.r_[[1] * 100, [2] * 60, [3] * 20, [4] * 10, [5] * 10,    # group a: 10% in 4-5
                             [1] * 40, [2] * 40, [3] * 40, [4] * 30, [5] * 50,    # group b: 40% in 4-5
                             ], index=index)
    grades.iloc[:5] = 0  # no grade: left out of the shares
    groups = pd.DataFrame({"g": ["a"] * 200 + ["b"] * 200}, index=index)
    labels, by_segment, portfolio, _ = fitted([0, 1] * 200, [0.1, 0.4])
    table, found = fairness(labels, groups, by_segment, portfolio, grades=grades)
    assert found["worst_grades"] == [5, 4]
    rows = table.drop_duplicates("group").set_index("group")
    assert rows.loc["a", "graded"] == 195 and rows.loc["a", "worst_grade_share"] == pytest.approx(20 / 195)
    assert rows.loc["b", "worst_grade_share"] == pytest.approx(0.4)
    assert rows.loc["b", "worst_grade_low"] > rows.loc["a", "worst_grade_high"]
    spread = found["grades"].set_index(["group", "grade"])["share"]
    assert spread.groupby("group").sum().to_dict() == pytest.approx({"a": 1.0, "b": 1.0})
    assert spread[("b", 5)] == pytest.approx(0.25) and 0 not in found["grades"]["grade"].tolist()
