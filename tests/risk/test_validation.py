"""What a model-validation team checks: figures that never read history after the outcome (each leak planted,
then shown removed), grades, evidence rules, reasons, the inputs' rules, and the model classes."""

import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fthc
from fthc.cli import main
from fthc.errors import DataError
from fthc.risk.grades import fit_grades
from fthc.risk.inclusion import favourable_segments

REF = pd.Timestamp("2022-10-01")


def bank(n=240, seed=0, after=0.0, old=0.0):
    """24 months per customer; a third default at REF. `after`: what a default causes after REF (monthly fees of
    this size); `old`: money moved in and out more than 12 months before the data's end (outside every window)."""
    rng = np.random.default_rng(seed)
    bad = rng.random(n) < 0.35
    rows = []
    for c in range(n):
        level = rng.lognormal(7.5, 0.3) * (0.6 if bad[c] and rng.random() < 0.7 else 1.0)
        bal = 500.0
        for m in range(24):
            month = pd.Timestamp("2021-01-01") + pd.DateOffset(months=m)
            spend = level * rng.uniform(0.6, 1.2) * (1.3 if bad[c] else 1.0)
            for d, a, k in ((3, level, "incoming_transfer"), (15, -spend, "card_payment")):
                bal += a
                rows.append((c, month + pd.Timedelta(days=d - 1), a, bal, k))
            if after and bad[c] and month >= REF:
                bal -= after
                rows.append((c, month + pd.Timedelta(days=20), -after, bal, "interest_fees"))
            if old and m < 10:
                rows.append((c, month + pd.Timedelta(days=25), old, bal + old, "cash_deposit"))
                rows.append((c, month + pd.Timedelta(days=26), -old, bal, "cash_withdrawal"))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "balance", "category"])
    known = np.arange(n) < int(n * 0.6)
    outcomes = pd.DataFrame({"customer_id": np.arange(n)[known], "default": bad[known].astype(int),
                             "reference_date": REF.strftime("%Y-%m-%d")})
    return tx, outcomes


@pytest.fixture(scope="module")
def fitted():
    tx, outcomes = bank()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=0).fit(tx, outcomes=outcomes)
    return seg, tx, outcomes


def test_what_a_default_causes_after_its_date_reaches_no_figure(fitted):
    """Leaks 1 and 2 planted (fees after the default's date) and shown removed: the risk of customers with an
    outcome, the per-segment rates and the segments they are judged in are the same with and without them."""
    seg, _, outcomes = fitted
    tx_leaky, _ = bank(after=400.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        leaky = fthc.Segmenter(k=3, risk_weight=0).fit(tx_leaky, outcomes=outcomes)
    ids = outcomes["customer_id"]
    # inputs to 1e-6 (DuckDB's parallel sums may add in another order), which moves a tree's bin edge at most:
    # the risk to 1e-3, where the planted fees alone separate defaults perfectly
    pd.testing.assert_frame_equal(leaky.risk_fit_.windows.inputs.loc[ids], seg.risk_fit_.windows.inputs.loc[ids], atol=1e-6)
    np.testing.assert_allclose(leaky.risk_.loc[ids, "risk"], seg.risk_.loc[ids, "risk"], atol=1e-3)
    assert leaky.outcome_check_["customer_auc"]["auc"] == pytest.approx(seg.outcome_check_["customer_auc"]["auc"],
                                                                        abs=0.01)
    # each customer with an outcome is judged in the segment its window before the date places it in
    placed = leaky.outcome_check_["placed"]
    expected = leaky.model_.head_.predict(leaky.model_.transform(leaky.risk_fit_.windows.measures.loc[placed.index]))
    assert np.array_equal(placed.to_numpy(), expected)
    assert int(leaky.outcome_check_["by_segment"]["with_outcome"].sum()) == len(ids)


def test_a_customer_with_an_outcome_carries_its_out_of_fold_risk_from_before_the_date(fitted):
    """Leak 2: the risk column of a customer with an outcome is the validated figure, not its fold model applied
    to the whole history."""
    seg, _, outcomes = fitted
    ids = outcomes["customer_id"]
    np.testing.assert_allclose(seg.risk_.loc[ids, "risk"], seg.outcome_model_.oof_.loc[ids, "risk"])
    assert (seg.risk_fit_.windows.cutoffs.loc[ids, "cutoff"] == REF).all()


def test_customers_without_an_outcome_are_scored_on_the_same_window_length(fitted):
    """Leak 3: history older than the window changes nothing for a customer without an outcome."""
    seg, _, outcomes = fitted
    tx_old, _ = bank(old=5000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = fthc.Segmenter(k=3, risk_weight=0).fit(tx_old, outcomes=outcomes)
    none = seg.risk_.index[~seg.risk_["has_outcome"]]
    pd.testing.assert_frame_equal(other.risk_fit_.windows.inputs.loc[none], seg.risk_fit_.windows.inputs.loc[none], atol=1e-6)
    # the data ends on 27 December: the incomplete December is left out, the window is December 2021 - November 2022
    assert (seg.risk_fit_.windows.cutoffs.loc[none, "cutoff"] == pd.Timestamp("2022-12-01")).all()
    assert (seg.risk_fit_.windows.cutoffs.loc[none, "start"] == pd.Timestamp("2021-12-01")).all()


def test_grades_are_a_fixed_master_scale_whatever_the_outcomes():
    """Grades are bands of estimated risk fixed in advance: the same edges for any data, each grade's observed rate
    (with its interval and whether it rests on enough outcomes) beside it; a bank's own edges where given."""
    from fthc.risk.grades import MASTER_SCALE, MIN_OUTCOMES

    rng = np.random.default_rng(0)
    risk = rng.random(3000) * 0.7
    y = (rng.random(3000) < risk).astype(int)
    g, other = fit_grades(risk, y), fit_grades(rng.random(400) * 0.3, rng.integers(0, 2, 400))
    assert list(g.edges) == list(MASTER_SCALE) == list(other.edges) and len(g.table) == len(MASTER_SCALE) + 1
    assert np.array_equal(g.grade(risk), np.searchsorted(MASTER_SCALE, risk) + 1)
    assert g.grade([0.005, 0.01, 0.0101, 0.59, 0.61, np.nan]).tolist() == [1, 1, 2, 9, 10, 0]
    used = g.used
    assert (used["enough"] == (used["customers"] >= MIN_OUTCOMES)).all()
    calibrated = used[used["enough"]]  # y drawn at the risk itself: each grade's interval meets its band
    assert ((calibrated["rate_low"] <= calibrated["risk_to"]) & (calibrated["rate_high"] >= calibrated["risk_from"])).all()
    assert ((used["rate_low"] <= used["rate"]) & (used["rate"] <= used["rate_high"])).all()
    assert g.band(5) == "4.6-7.7%" and g.band(10) == "60-100%"
    own = fit_grades(risk, y, (0.05, 0.2, 0.4))
    assert len(own.table) == 4 and own.grade([0.1]).tolist() == [2]
    with pytest.raises(ValueError, match="increasing probabilities"):
        fit_grades(risk, y, (0.2, 0.1))


def test_a_refit_moves_a_grade_only_where_the_risk_crosses_an_edge(fitted):
    seg, tx, outcomes = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = fthc.Segmenter(k=3, risk_weight=0, seed=1).fit(tx, outcomes=outcomes)
    a, b = seg.risk_, other.risk_
    scale = np.asarray(seg.outcome_model_.grades_.edges)
    assert list(scale) == list(other.outcome_model_.grades_.edges)
    moved = a["risk_grade"] != b["risk_grade"]
    crossed = np.searchsorted(scale, a["risk"]) != np.searchsorted(scale, b["risk"])
    assert (moved == crossed).all()
    assert moved.mean() < 0.4  # the refit on another seed moves a minority, those whose risk sat near an edge
    near = np.abs(np.log(a["risk"].to_numpy()[:, None] / scale[None, :])).min(axis=1)
    assert np.median(near[moved.to_numpy()]) < np.median(near[~moved.to_numpy()])


def test_thin_histories_get_no_grade_are_not_learnt_and_are_counted():
    """Customers with 2 months of history in their window: 'insufficient history', no risk or grade, left out
    of the outcome model, counted in the notes; window_months says how many months each window held."""
    tx, outcomes = bank()
    thin = [0, 1, 2, 200, 201]  # 0-2 have an outcome (dated REF), 200-201 none (scored at the data's end)
    late = ((tx["customer_id"].isin([0, 1, 2]) & (tx["timestamp"] < REF - pd.DateOffset(months=2))) |
            (tx["customer_id"].isin([200, 201]) & (tx["timestamp"] < tx["timestamp"].max() - pd.DateOffset(months=2))))
    tx = tx[~late]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=0).fit(tx, outcomes=outcomes)
    r = seg.risk_
    assert r.loc[thin, "risk"].isna().all() and (r.loc[thin, "risk_grade"] == 0).all()
    assert r.loc[thin, "risk_reasons"].str.startswith("insufficient history: 2 months").all()
    assert (r.loc[thin, "window_months"] == 2).all() and (r.drop(index=thin)["window_months"] >= 6).all()
    assert not set(thin) & set(seg.outcome_model_.fold_.index)
    assert seg.assignments_.loc[thin, "short_history"].all()  # one rule: no risk for a thin window, and flagged
    assert any("3 customers with an outcome have fewer than 6 months" in n for n in seg.notes_)
    assert any("5 customers have fewer than 6 months of history" in n for n in seg.notes_)
    looser = fthc.Segmenter(k=3, risk_weight=0, min_history=2).fit(tx, outcomes=outcomes)
    assert looser.risk_.loc[thin, "risk"].notna().all()


def test_a_small_book_without_signal_gets_the_portfolios_rate_said_plainly(tmp_path):
    """60 outcomes of pure chance: no model is graded and explained; every customer gets the portfolio's rate and
    one grade, the reasons and the summary say why."""
    tx, outcomes = bank(n=100)
    rng = np.random.default_rng(5)
    outcomes["default"] = (rng.random(len(outcomes)) < 0.3).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3).fit(tx, outcomes=outcomes)
    est = seg.outcome_model_
    assert not est.has_signal and seg.risk_weight_ == 0
    assert np.allclose(seg.risk_["risk"], est.portfolio_rate_) and seg.risk_["risk_grade"].nunique() == 1
    assert seg.risk_["risk_reasons"].str.startswith("no risk pattern found").all()
    from fthc.reports.risk_report import risk_summary
    from fthc.segments.result import result_of

    assert "no pattern beyond the portfolio's rate" in risk_summary(result_of(seg))["lines"][0]
    tracked = seg.track(tx, every="quarter", periods=2)
    assert tracked.early_warning.empty and any(n.startswith("early warning: none;") for n in tracked.notes)


def test_reasons_are_on_the_risk_raising_side_one_per_concept(fitted):
    """Each reason's value lies on the side of the portfolio's median that raises risk (or, for a customer below
    the portfolio's rate, lowers it), lagged months of one measure are one reason, and no missing value is one."""
    from fthc.risk.estimator import concept, reason_texts

    seg, _, _ = fitted
    est = seg.outcome_model_
    texts = seg.risk_["risk_reasons"].dropna()
    low = texts.str.startswith("lower risk than most")
    assert low.any() and (~low).any()
    assert (seg.risk_.loc[low[low].index, "risk"] < est.portfolio_rate_ + 0.05).all()
    for text in texts:
        lagged = [w for w in ("money in ", "money out ", "month-end balance ") if text.count(w + "last month") +
                  sum(text.count(f"{w}{k} months back") for k in range(2, 7)) > 1]
        assert not lagged, text
    names = ["in_1", "in_2", "balance_low"]
    values = np.array([[0.5, 0.4, 0.3], [0.5, 0.4, 0.3]])
    X = np.array([[100.0, 50.0, 900.0], [100.0, np.nan, -50.0]])
    medians = np.array([200.0, 200.0, 100.0])
    sides = np.array([-1.0, -1.0, -1.0])  # less money in, a lower balance: more risk
    got = reason_texts(values, X, names, medians, sides, np.array([False, False]), None)
    assert got[0] == "money in last month 100 (portfolio median 200)"  # one concept; the balance is above median
    first, second = got[1].split("; ")  # the missing month is no reason; the balance below its median is one
    assert first == "money in last month 100 (portfolio median 200)" and second.split(" (")[0].endswith("-50")
    assert concept("in_3") == "in" and concept("balance_low") == "balance_low"


def test_a_segment_of_two_repaid_outcomes_is_never_favourable():
    by_segment = pd.DataFrame({"with_outcome": [2, 400], "rate": [0.0, 0.05], "rate_low": [0.0, 0.033],
                               "rate_high": [0.658, 0.076]}, index=[0, 1])
    assert favourable_segments(by_segment, portfolio_rate=0.2) == [1]


def test_outcomes_as_a_dataframe_or_series_and_the_inputs_rules(fitted):
    seg, tx, outcomes = fitted
    series = outcomes.set_index("customer_id")["default"]
    with pytest.warns(UserWarning, match="no dates"):
        fthc.Segmenter(k=3, risk_weight=0).fit(tx, outcomes=series)
    strangers = pd.concat([outcomes, pd.DataFrame({"customer_id": [9001, 9002], "default": [0, 1],
                                                    "reference_date": "2022-10-01"})])
    with pytest.warns(UserWarning, match="2 of the .* outcome rows .* not among the customers.*9001"):
        fthc.Segmenter(k=3, risk_weight=0).fit(tx, outcomes=strangers)
    with pytest.raises(DataError, match="none of the .* outcome ids matches a customer"):
        fthc.Segmenter(k=3).fit(tx, outcomes=outcomes.assign(customer_id=outcomes["customer_id"] + 10_000))
    with pytest.raises(DataError, match="an outcome must be 0 or 1"):
        fthc.Segmenter(k=3).fit(tx, outcomes=outcomes.assign(default=np.where(outcomes["default"], "yes", "no")))


def test_risk_reasons_and_explain_of_a_defaulted_customer(fitted, tmp_path):
    seg, tx, outcomes = fitted
    high = seg.risk_["risk"] > seg.risk_["risk"].quantile(0.75)  # a high risk always has its reasons worded
    assert seg.risk_.loc[high, "risk_reasons"].str.contains("portfolio median").all()
    data = tmp_path / "tx.csv"
    tx.assign(timestamp=tx["timestamp"].dt.strftime("%Y-%m-%d")).to_csv(data, index=False)
    outcomes.to_csv(tmp_path / "o.csv", index=False)
    out = tmp_path / "s"
    r = CliRunner().invoke(main, ["segment", "--data", str(data), "--outcomes", str(tmp_path / "o.csv"), "--k", "3",
                                  "--risk-weight", "0", "--out", str(out)])
    assert r.exit_code == 0, r.output
    defaulted = int(outcomes.loc[outcomes["default"] == 1, "customer_id"].iloc[0])
    r = CliRunner().invoke(main, ["explain", "--model", str(out / "model"), "--data", str(data), "--customer",
                                  str(defaulted)])
    assert r.exit_code == 0, r.output
    assert "known outcome: positive" in r.output and "the portfolio's rate" in r.output
    assert "against the portfolio" in r.output and "grade" in r.output and "90% interval" in r.output


@pytest.mark.parametrize("kind", ["boosted", "logistic"])
def test_each_model_class_saves_as_text_and_loads_to_the_same_scores(fitted, kind, tmp_path):
    _, tx, outcomes = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=0, risk_model=kind).fit(tx, outcomes=outcomes)
    assert seg.outcome_model_.model_.models_[0].kind == kind
    seg.save(tmp_path / "m")
    again = fthc.Segmenter.load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.assign(tx)[["risk", "risk_grade"]], seg.assign(tx)[["risk", "risk_grade"]])


def test_no_window_reads_all_history_before_each_date(fitted):
    """window=None: every customer from all of its history before its reference date (no lower bound)."""
    _, tx, outcomes = fitted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=0, window=None).fit(tx, outcomes=outcomes)
    ids = outcomes["customer_id"]
    assert (seg.risk_fit_.windows.measures.loc[ids, "months"] == 21).all()  # January 2021 - September 2022
    assert seg.risk_["risk"].notna().all()


def test_k_is_checked_again_in_the_space_with_the_risk_axis():
    """k is judged in the behaviour space; with a risk axis the head clusters another space, whose prediction
    strength for that k is measured and said (a warning where it no longer reproduces)."""
    import warnings

    tx, outcomes = bank()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=1.0).fit(tx, outcomes=outcomes)
        plain = fthc.Segmenter(k=3, risk_weight=0).fit(tx, outcomes=outcomes)
    assert seg.risk_weight_ > 0 and plain.k_check_ is None
    check = seg.k_check_
    assert check["k"] == 3 and check["verdict"] in ("reproduces", "unstable", "fails", "continuum")
    assert 0 <= check["prediction_strength"] <= 1
    said = [n for n in seg.notes_ if "in the space clustered" in n]
    assert len(said) == 1 and check["verdict"] in said[0] and "risk axis at weight 1" in said[0]


def test_a_recent_change_reads_as_a_relative_change_in_the_risk_reasons():
    """The change measures are log ratios (a scale a logistic regression can take); a lender reads them as the
    change they stand for: money in that fell by half reads -50%, and rounding noise reads 'no change', not -0%."""
    from fthc.risk.estimator import describe_input, format_value

    words, unit = describe_input("income_change")
    assert words == "money in per month, the last 3 months against the months before:" and unit == "change"
    assert format_value(np.log(0.5), unit, None) == "-50%" and format_value(np.log(1.25), unit, None) == "+25%"
    assert format_value(-0.001, unit, None) == "no change"


def test_psi_knows_its_sample_size():
    """An unchanged population of 100 is not 'watch' half the time, nor does one empty decile score 0.70; a real
    shift of the same 100 is still flagged."""
    from fthc.risk.psi import bins_of, drift_flag, psi_and_noise

    rng = np.random.default_rng(0)
    reference = bins_of(rng.normal(size=1000))
    drawn = [psi_and_noise(reference, rng.normal(size=100)) for _ in range(200)]
    assert sum(drift_flag(v) != "stable" for v, _ in drawn) > 60  # the bare 0.10 threshold: chance reads drift
    assert sum(drift_flag(v, noise) != "stable" for v, noise in drawn) <= 20  # about 5%, by construction
    emptied = rng.normal(size=100)
    emptied = emptied[emptied > np.quantile(emptied, 0.1)]  # the lowest decile gone
    assert psi_and_noise(reference, emptied)[0] < 0.35  # half a customer in the empty bin, not 1e-4 (0.70)
    assert drift_flag(*psi_and_noise(reference, rng.normal(1.0, 1.0, size=100))) == "shifted"


def test_young_good_outcomes_are_left_out_and_the_learnt_population_compared(tmp_path):
    """A good outcome dated a month before the data's end has not had time to go bad: with a performance window
    it is left out, counted and said; the inputs of those scored without an outcome are compared with those
    learnt from (population.csv)."""
    tx, outcomes = bank()
    young = outcomes.index[outcomes["default"] == 0][:20]
    outcomes.loc[young, "reference_date"] = "2022-12-15"  # the data ends on 27 December
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=0, performance_months=1).fit(tx, outcomes=outcomes)
        kept = fthc.Segmenter(k=3, risk_weight=0).fit(tx, outcomes=outcomes)  # an outcomes file: as observed
    learnt = set(seg.outcome_model_.fold_.index)
    assert not learnt & set(outcomes.loc[young, "customer_id"]) and len(learnt) == len(outcomes) - 20
    assert any(n.startswith("20 of the") and "performance window" in n for n in seg.notes_)
    assert len(kept.outcome_model_.fold_) == len(outcomes)
    pop = seg.risk_fit_.population
    assert set(pop.columns) == {"input", "psi", "chance", "flag"} and set(pop["input"]) == set(seg.risk_fit_.windows.inputs.columns)
    assert pop["psi"].is_monotonic_decreasing


def test_window_auto_finds_behaviour_older_than_a_year(tmp_path):
    """The bad customers' distress came 18-30 months before their outcome; their last 12 months look like anyone's.
    A 12-month window cannot see it; window="auto" compares 12, 24 and 36 months out of fold, takes a longer one,
    says so with each candidate's figures, and keeps it for scoring."""
    rng = np.random.default_rng(1)
    rows, outcomes = [], []
    for c in range(160):
        level, bad = rng.lognormal(7, 0.3), rng.random() < 0.4
        date = pd.Timestamp("2023-01-01") + pd.DateOffset(months=int(rng.integers(0, 12)))
        for m in range(48):
            month = pd.Timestamp("2020-01-01") + pd.DateOffset(months=m)
            if month >= date:
                break
            ago = (date.year - month.year) * 12 + date.month - month.month
            income = level * (0.2 if bad and 18 <= ago <= 30 else 1.0)
            rows += [(c, month + pd.Timedelta(days=2), round(income, 2), "salary"),
                     (c, month + pd.Timedelta(days=11), round(-level * rng.uniform(0.7, 1.0), 2), "card")]
        outcomes.append((c, int(bad), date.strftime("%Y-%m-%d")))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "category"])
    o = pd.DataFrame(outcomes, columns=["customer_id", "default", "reference_date"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, risk_weight=0, window="auto", refits=2).fit(tx, o)
    said = [n for n in seg.notes_ if n.startswith("window:")]
    assert seg.window == "auto" and seg.window_ in (24, 36) and len(said) == 1
    assert all(f"{m} months (" in said[0] for m in (12, 24, 36))
    assert seg.outcome_check_["customer_auc"]["auc"] > 0.9 and seg.outcome_check_["window"] == seg.window_
    seg.save(tmp_path / "m")
    assert fthc.Segmenter.load(tmp_path / "m").window_ == seg.window_  # scoring reads the window chosen


def test_the_averaged_cross_fits_stay_consistent_and_out_of_fold():
    """Three cross-fits: a customer with an outcome is scored by the three models that never saw it, and its
    contributions add up to its log-odds, for it and for a customer never seen (the ensemble's calibration
    included); the never-seen calibration is steeper than the pooled out-of-fold one (the averaging allowed for)."""
    from fthc.risk.model import OutcomeModel, platt

    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (rng.random(500) < 1 / (1 + np.exp(-1.5 * X[:, 0]))).astype(int)
    m = OutcomeModel(bootstraps=6, repeats=3).fit(pd.DataFrame(X), y)
    assert m.folds_.shape == (500, 3) and len(m.models_) == 15
    for rows, models in m._groups(m.folds_[:5]):
        assert all(m.folds_[np.flatnonzero(rows)[0], i // 5] == i % 5 for i in models)  # its own fold's, each repeat
    for fold in (m.folds_[:20], None):
        c = m.contributions(X[:20], fold)
        assert np.allclose(c.sum(axis=1), m.predict(X[:20], fold)["logit"])
    each = np.stack([m.models_[r * 5 + m.folds_[i, r]].logit(X[i:i + 1])[0] for i in range(500) for r in range(3)])
    raw = each.reshape(500, 3).mean(1)
    assert m.stack_[-1][0] > platt(raw, y)[0]
