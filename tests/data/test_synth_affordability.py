"""The synthetic generator's affordability plant (`generate(affordability=True)`): present when asked for, and
without it the tables of before, byte for byte."""

import hashlib
from pathlib import Path

import numpy as np
import pytest

from fthc.data import synth
from fthc.data.synth import Migration, generate, write_table

# sha256 (first 16 hex digits) of the 8 tables as written, ground_truth and outcomes, from the generator before
# the plant existed: the default data (README figures, every test) must not move
BEFORE = [
    (dict(n_accounts=300, seed=3), "1d493206cb96af2c"),
    (dict(n_accounts=300, seed=5, difficulty="hard", risk="recent"), "58253f27c218aef0"),
    (dict(n_accounts=200, seed=1, traits=False), "58966b26b403c3df"),
    (dict(n_accounts=300, seed=2, migration=Migration(0.3, "1997-01")), "a312d95dbbddaa55"),
]


def _digest(tmp: Path, **kw) -> str:
    tables, truth, outcomes = generate(**kw)
    h = hashlib.sha256()
    for name, df in tables.items():
        write_table(df, tmp / name, name)
        h.update((tmp / name).read_bytes())
    h.update(truth.to_csv(index=False).encode())
    h.update(outcomes.to_csv(index=False).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("kw,digest", BEFORE, ids=["default", "hard-recent", "no-traits", "migration"])
def test_without_the_plant_the_tables_are_those_of_before(tmp_path, kw, digest):
    assert _digest(tmp_path, **kw) == digest
    assert _digest(tmp_path, **kw, affordability=False) == digest


def test_the_plant_raises_the_bad_rate_of_loans_heavy_against_their_surplus():
    plain, truth0, _ = generate(2500, seed=7)
    planted, truth, outcomes = generate(2500, seed=7, affordability=True)
    # only the loans' outcomes (and what a bad loan changes after its date) move: the rest is drawn the same
    for name in ("account", "client", "disp", "order", "card", "district"):
        assert plain[name].equals(planted[name])
    loan0, loan = plain["loan"], planted["loan"]
    assert loan0.drop(columns="status").equals(loan.drop(columns="status"))
    g = truth.set_index("account_id").loc[loan["account_id"]]
    burden = g["loan_burden"].to_numpy()
    assert np.allclose(burden, loan["payments"].to_numpy() / g["expected_surplus"].to_numpy(), rtol=1e-3)
    assert (g["expected_surplus"] > 0).all()
    bad0 = loan0["status"].isin(["B", "D"]).to_numpy()
    bad = loan["status"].isin(["B", "D"]).to_numpy()
    # the same uniform draws decide: a loan above the reference burden can only turn bad, one below only good
    above = burden > synth.BURDEN_REFERENCE
    assert (bad[above] >= bad0[above]).all() and (bad[~above] <= bad0[~above]).all()
    assert (bad != bad0).sum() > 0.05 * len(bad)
    # the effect: the heaviest third of loans against the lightest third, with the plant and without
    lo, hi = np.quantile(burden, [1 / 3, 2 / 3])
    gap0 = bad0[burden >= hi].mean() - bad0[burden <= lo].mean()
    gap = bad[burden >= hi].mean() - bad[burden <= lo].mean()
    assert gap > gap0 + 0.15, (gap, gap0)
    # the overall bad rate stays about what it was (BURDEN_REFERENCE's choice)
    assert abs(bad.mean() - bad0.mean()) < 0.05
    # the outcomes file follows the loans' statuses
    o = outcomes[outcomes["credit"] == "loan"].set_index("customer_id")["default"]
    assert (o.loc[loan["account_id"]].to_numpy() == bad).all()
    assert truth0.columns.tolist() + ["expected_surplus", "loan_burden"] == truth.columns.tolist()


def test_the_truth_written_gives_each_loans_burden(tmp_path):
    from fthc.data import write_synthetic_berka
    from fthc.data.synth import read_ground_truth

    write_synthetic_berka(tmp_path, 300, seed=1, affordability=True)
    truth = read_ground_truth(tmp_path)
    has_loan = truth["loan_burden"].notna()
    assert has_loan.any() and (truth.loc[has_loan, "expected_surplus"] > 0).all()
    assert truth.loc[~has_loan, "expected_surplus"].isna().all()
