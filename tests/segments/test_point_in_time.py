"""`as_of` is a point in time (every input cut at it: a backtest equals a fit on the data as it then stood),
outcomes dated outside the data are one clear error, and every command round-trips every kind of customer id."""

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fthc
from fthc.cli import main
from fthc.errors import DataError


def bank(n=150, seed=3):
    """Two years of monthly income and spending, some customers' income falling before a dated outcome."""
    rng = np.random.default_rng(seed)
    rows, outcomes = [], []
    for c in range(n):
        level, bad = rng.lognormal(7, 0.4), rng.random() < 0.35
        date = pd.Timestamp("2022-03-01") + pd.DateOffset(months=int(rng.integers(0, 18)))
        bal = 500.0
        for m in range(24):
            month = pd.Timestamp("2021-01-01") + pd.DateOffset(months=m)
            income = level * (0.3 if bad and month >= date - pd.DateOffset(months=3) else 1.0)
            for d, a, k in ((3, income, "salary"), (12, -level * rng.uniform(0.5, 1.05), "card")):
                bal += a
                rows.append((c, month + pd.Timedelta(days=d - 1), round(a, 2), round(bal, 2), k))
        outcomes.append((c, int(bad), date.strftime("%Y-%m-%d")))
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "balance", "category"])
    return tx, pd.DataFrame(outcomes, columns=["customer_id", "default", "reference_date"])


def fit(tx, outcomes, **kw):
    return fthc.Segmenter(k=3, risk_weight=0, refits=3, **kw).fit(tx, outcomes=outcomes)


@pytest.mark.parametrize("as_of", ["2022-06-30", "2022-09-15"])
def test_a_fit_as_of_a_date_equals_a_fit_on_the_data_as_it_stood_then(as_of):
    tx, outcomes = bank()
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    cut_tx = tx[tx["timestamp"] < end]
    cut_outcomes = outcomes[pd.to_datetime(outcomes["reference_date"]) < end]
    whole = fit(tx, outcomes, as_of=as_of)
    cut = fit(cut_tx, cut_outcomes, as_of=as_of)
    pd.testing.assert_series_equal(whole.labels_, cut.labels_)
    pd.testing.assert_frame_equal(whole.risk_, cut.risk_)
    assert any("dated after the as-of date" in n for n in whole.notes_)
    assert len(whole.outcome_model_.fold_) < len(outcomes)  # outcomes dated later were not learnt
    if pd.Timestamp(as_of).day != pd.Timestamp(as_of).days_in_month:  # mid-month: its month is not whole anyway
        pd.testing.assert_frame_equal(fit(cut_tx, cut_outcomes).risk_, cut.risk_)
    # and what the fit read ends there: the measures equal those of the cut data
    pd.testing.assert_frame_equal(whole.measures_, cut.measures_)


def test_segment_as_of_on_the_command_line_writes_its_results_and_the_model_keeps_the_date(tmp_path):
    tx, outcomes = bank()
    tx.to_csv(tmp_path / "tx.csv", index=False)
    outcomes.to_csv(tmp_path / "o.csv", index=False)
    out = tmp_path / "seg"
    r = CliRunner().invoke(main, ["segment", "--data", str(tmp_path / "tx.csv"), "--outcomes", str(tmp_path / "o.csv"),
                                  "--k", "3", "--as-of", "31.12.2022", "--out", str(out)])
    assert r.exit_code == 0, r.output
    saved = json.loads((out / "model" / "manifest.json").read_text())["extra"]["segmenter"]["params"]
    assert saved["as_of"].startswith("2022-12-31")
    loaded = fthc.Segmenter.load(out / "model")
    assert pd.Timestamp(loaded.as_of) == pd.Timestamp("2022-12-31")
    scored = loaded.assign(tmp_path / "tx.csv")  # scored as of the same date: the fit's own risk
    fitted = pd.read_csv(out / "assignments.csv").set_index("customer_id")
    without = ~fitted["has_outcome"].astype(bool)
    np.testing.assert_allclose(scored.loc[fitted.index[without], "risk"], fitted.loc[without, "risk"], atol=1e-6)


@pytest.mark.parametrize("dated, why", [("2099-01-01", "2099-01-01 to 2099-01-01"),
                                        ("1980-01-01", "1980-01-01 to 1980-01-01")])
def test_outcomes_dated_outside_the_data_are_one_clear_error(tmp_path, dated, why):
    tx, outcomes = bank()
    outcomes["reference_date"] = dated
    with pytest.raises(DataError, match=f"too few outcomes to learn from: 0 of the 150 .*{why}"):
        fit(tx, outcomes)
    tx.to_csv(tmp_path / "tx.csv", index=False)
    outcomes.to_csv(tmp_path / "o.csv", index=False)
    r = CliRunner().invoke(main, ["segment", "--data", str(tmp_path / "tx.csv"), "--outcomes", str(tmp_path / "o.csv"),
                                  "--k", "3", "--out", str(tmp_path / "s")])
    assert r.exit_code == 2 and "Traceback" not in r.output, r.output
    assert "too few outcomes to learn from" in r.output


def test_the_rule_of_ten_holds_after_the_windows_leave_customers_out():
    tx, outcomes = bank()
    outcomes.loc[outcomes.index[:140], "reference_date"] = "1980-01-01"  # 10 left with a history
    with pytest.raises(DataError, match="too few outcomes to learn from: 10 of the 150"):
        fit(tx, outcomes)


@pytest.mark.parametrize("kind", ["int", "leading zeros", "uuid-like"])
def test_every_command_round_trips_every_kind_of_id(tmp_path, kind):
    tx, outcomes = bank(120)
    to_id = {"int": lambda c: c + 100000, "leading zeros": lambda c: f"{c:06d}",
             "uuid-like": lambda c: f"{c:08x}-7e3a-4c1b-9f00-{c * 7919:012x}"}[kind]
    tx["customer_id"], outcomes["customer_id"] = tx["customer_id"].map(to_id), outcomes["customer_id"].map(to_id)
    tx.to_csv(tmp_path / "tx.csv", index=False)
    outcomes.to_csv(tmp_path / "o.csv", index=False)
    run = CliRunner().invoke
    data, model = str(tmp_path / "tx.csv"), str(tmp_path / "seg" / "model")
    r = run(main, ["segment", "--data", data, "--outcomes", str(tmp_path / "o.csv"), "--k", "3",
                   "--out", str(tmp_path / "seg")])
    assert r.exit_code == 0, r.output
    want = sorted(str(i) for i in tx["customer_id"].unique())
    read = lambda p: sorted(pd.read_csv(p, dtype={"customer_id": str})["customer_id"])  # noqa: E731
    assert read(tmp_path / "seg" / "assignments.csv") == want
    r = run(main, ["assign", "--model", model, "--data", data, "--out", str(tmp_path / "scored.csv")])
    assert r.exit_code == 0, r.output
    assert read(tmp_path / "scored.csv") == want
    one = str(tx["customer_id"].iloc[-1])
    r = run(main, ["explain", "--model", model, "--data", data, "--customer", one])
    assert r.exit_code == 0 and f"customer {one}: segment" in r.output, r.output
    r = run(main, ["track", "--model", model, "--data", data, "--every", "quarter", "--periods", "2",
                   "--out", str(tmp_path / "tracks")])
    assert r.exit_code == 0, r.output
    tracks = pd.read_parquet(tmp_path / "tracks" / "tracks.parquet")
    assert set(map(str, tracks["customer_id"])) <= set(want) and len(set(tracks["customer_id"])) > 100
    if kind == "leading zeros":  # a key written without its zeros is not the customer, and says whom it may mean
        r = run(main, ["explain", "--model", model, "--data", data, "--customer", one.lstrip("0")])
        assert r.exit_code == 2 and f"did you mean '{one}'" in r.output, r.output
