"""Outcomes as input, the cross-fitted outcome model, risk for every customer, and risk-aware segments."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fthc
from fthc.cli import main
from fthc.errors import DataError
from fthc.risk.outcomes import OutcomeFile, read_outcomes


def transactions(n=200, seed=0, leak_after=None):
    """Customers with a year of behaviour; with `leak_after` (customer -> date), sanction-like fees from that date
    on: what a default causes, after it."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        level = rng.lognormal(7, 0.4)
        bal = 1000.0
        for m in range(1, 13):
            for d, a, k in ((2, level, "incoming_transfer"), (10, -level * rng.uniform(0.4, 1.1), "card_payment")):
                ts = pd.Timestamp(f"2022-{m:02d}-{d:02d}")
                bal += a
                rows.append((c, ts, a, bal, k))
                if leak_after is not None and c in leak_after and ts >= leak_after[c]:
                    bal -= 50
                    rows.append((c, ts + pd.Timedelta(days=1), -50.0, bal, "interest_fees"))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "balance", "category"])


@pytest.fixture(scope="module")
def berka(tmp_path_factory):
    """Synthetic Berka large enough to learn outcomes from (about a hundred customers with one)."""
    from fthc.data import write_synthetic_berka

    folder = tmp_path_factory.mktemp("risky")
    write_synthetic_berka(folder, n_accounts=400, seed=5)
    return folder


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("content, message", [
    ("customer_id,default\n1,0\n2,maybe\n", r"o\.csv, row 3, column 'default': an outcome must be 0 or 1"),
    ("customer_id,default\n", "no rows"),
    ("customer_id,status\n1,0\n", r"missing column 'default'"),
    ("customer_id,default\n1,0\n1,1\n" + "".join(f"{i},{i % 2}\n" for i in range(2, 40)), "more than one outcome"),
    ("customer_id,default\n" + "".join(f"{i},{int(i < 3)}\n" for i in range(60)), "too few outcomes to learn"),
])
def test_bad_outcome_files_are_one_clear_error_naming_file_and_column(tmp_path, content, message):
    path = write(tmp_path, "o.csv", content)
    with pytest.raises(DataError, match=message):
        read_outcomes(path, pd.Index(range(100)))


def test_unknown_ids_are_counted_and_customers_without_outcomes_are_normal(tmp_path):
    text = "customer_id,default\n" + "".join(f"{i},{i % 3 == 0:d}\n" for i in range(150)) + "x,1\n"
    got = read_outcomes(write(tmp_path, "o.csv", text), pd.Index(range(100)))
    assert len(got.y) == 100 and got.unknown == 51  # 100..149 and 'x' are not customers
    assert "51 outcome rows name ids that are not among the customers" in got.describe()


def test_cross_fitting_withholds_each_customers_own_outcome():
    """Outcomes of pure chance: a model scored on the customers it learnt from finds a pattern; cross-fitted,
    no customer's own outcome helps its own score."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from fthc.risk.model import OutcomeModel

    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(120, 30)), rng.integers(0, 2, 120)
    in_sample = roc_auc_score(y, LogisticRegression(C=3.0, max_iter=5000).fit(X, y).predict_proba(X)[:, 1])
    crossed = roc_auc_score(y, OutcomeModel(seed=0).fit(X, y).oof_[0])
    assert in_sample > 0.7 and crossed < 0.62, (in_sample, crossed)


def test_the_as_of_rule_removes_what_the_outcome_itself_causes(tmp_path):
    """Defaults of pure chance whose consequence (monthly fees after the default's date) is in the data: from
    whole histories the model reads the consequence; from histories before each date it cannot."""
    rng = np.random.default_rng(2)
    bad = {c: pd.Timestamp("2022-07-01") for c in range(200) if rng.random() < 0.4}
    df = transactions(200, leak_after=bad)
    y = pd.Series({c: float(c in bad) for c in range(200)})
    dated = pd.DataFrame({"customer_id": y.index, "default": y.to_numpy(), "reference_date": "2022-07-01"})
    undated = dated.drop(columns="reference_date")
    auc, notes = {}, {}
    for name, table in (("dated", dated), ("undated", undated)):
        path = tmp_path / f"{name}.csv"
        table.to_csv(path, index=False)
        seg = fthc.Segmenter(k=3, risk_weight=0).fit(df, outcomes=OutcomeFile(path))
        auc[name], notes[name] = seg.outcome_check_["customer_auc"]["auc"], seg.notes_
    assert auc["undated"] > 0.9 and auc["dated"] < 0.65, auc
    assert any("no dates" in n for n in notes["undated"]) and not any("no dates" in n for n in notes["dated"])


def test_risk_weight_zero_gives_the_unsupervised_segments_exactly(berka):
    plain = fthc.Segmenter(k=4).fit(berka)
    learnt = fthc.Segmenter(k=4, risk_weight=0).fit(berka, outcomes=berka / "outcomes.csv")
    assert learnt.labels_.equals(plain.labels_)
    r = learnt.risk_
    graded = r["risk"].notna()  # the others: too short a history in the window, said so
    assert r.loc[~graded, "risk_reasons"].str.startswith(("insufficient history", "no transactions")).all()
    r = r[graded]
    assert r["risk"].between(0, 1).all() and r["has_outcome"].any() and graded.mean() > 0.9
    assert (r["risk_low"] <= r["risk"]).all()
    assert (r["risk"] <= r["risk_high"]).all()


def test_assign_writes_the_columns_segment_writes_and_the_same_risk_for_customers_without_an_outcome(berka,
                                                                                                    tmp_path):
    result = CliRunner().invoke(main, ["segment", "--data", str(berka), "--k", "3", "--outcomes",
                                       str(berka / "outcomes.csv"), "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "per-customer AUC" in result.output and (tmp_path / "s" / "risk.csv").exists()
    fitted = pd.read_csv(tmp_path / "s" / "assignments.csv").set_index("customer_id")
    assert {"risk", "risk_low", "risk_high", "risk_grade", "risk_reasons", "has_outcome", "outcome"} <= \
        set(fitted.columns)
    result = CliRunner().invoke(main, ["assign", "--model", str(tmp_path / "s" / "model"), "--data",
                                       str(berka), "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    assigned = pd.read_csv(tmp_path / "a.csv").set_index("customer_id")
    assert list(assigned.columns) == list(fitted.columns)
    assert assigned["segment"].equals(fitted["segment"])
    # a customer without an outcome: its window ends at the data's end in both; one with an outcome was judged
    # from its window before the outcome's date at fitting, and assign scores it as of today
    none = fitted["outcome"].isna()  # (one with an outcome left out for a thin window is judged at its date too)
    np.testing.assert_allclose(assigned.loc[none, "risk"], fitted.loc[none, "risk"], rtol=1e-9)
    np.testing.assert_allclose(assigned.loc[none, "risk_high"], fitted.loc[none, "risk_high"], rtol=1e-9)
    assert assigned.loc[none, "risk_grade"].equals(fitted.loc[none, "risk_grade"])
    assert assigned["has_outcome"].equals(fitted["has_outcome"])


def test_loans_on_a_berka_folder_and_their_errors(berka, tmp_path):
    seg = fthc.Segmenter(k=3).fit(berka, outcomes="loans")
    assert seg.outcomes_.source == "loans" and seg.outcome_check_["dated"]
    with pytest.raises(DataError, match="need a Berka folder"):
        fthc.Segmenter(k=3).fit(transactions(40), outcomes="loans")
