import numpy as np
import pytest

from fthc.risk.intervals import auc_interval, wilson_interval


@pytest.mark.parametrize("n", range(1, 300))
def test_a_rate_lies_inside_its_wilson_interval_at_zero_and_one(n):
    """A segment with no default (or only defaults) is common among small segments; its interval must contain
    its rate exactly, or the risk chart cannot draw it."""
    low, high = wilson_interval(0, n)
    assert low == 0.0 < high
    low, high = wilson_interval(n, n)
    assert low < high == 1.0


def test_wilson_matches_the_textbook_value():
    low, high = wilson_interval(8, 51)
    assert (low, high) == pytest.approx((0.0818, 0.2805), abs=1e-3)


def test_the_auc_interval_holds_the_auc_and_narrows_with_more_customers():
    rng = np.random.default_rng(0)
    widths = []
    for n in (100, 2000):
        y = rng.integers(0, 2, n)
        score = y + rng.normal(0, 1.5, n)
        low, high = auc_interval(y, score, repeats=200)
        widths.append(high - low)
    assert widths[1] < widths[0] / 2
    assert np.isnan(auc_interval(np.zeros(10), np.arange(10.0))[0])


def test_the_monotone_model_never_lowers_risk_as_a_known_risk_behaviour_grows():
    """`--risk-model monotone`: boosted trees whose risk can only rise with the share of negative month-ends and
    only fall with the month-end balance, whatever the noise in the outcomes; unknown directions stay free."""
    import numpy as np
    import pandas as pd

    from fthc.risk.model import OutcomeModel, monotone_constraints

    assert monotone_constraints(["negative_month_share", "balance_low", "in_3", "out_3", "balance_2", "x"]) == \
        (1, -1, -1, 0, -1, 0)
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"negative_month_share": rng.random(n), "balance_low": rng.normal(0, 1, n),
                      "x": rng.normal(0, 1, n)})
    logit = 2 * X["negative_month_share"] - X["balance_low"] + np.sin(3 * X["x"])
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = OutcomeModel("monotone", bootstraps=2).fit(X, y)
    assert "monotone" in model.chosen_
    grid = np.linspace(0, 1, 41)
    for col, sign in (("negative_month_share", 1), ("balance_low", -1)):
        probe = pd.DataFrame({c: np.full(41, X[c].median()) for c in X.columns})
        probe[col] = grid if col == "negative_month_share" else np.linspace(-2, 2, 41)
        risk = model.predict(probe)["risk"]
        assert (sign * np.diff(risk) >= -1e-12).all(), (col, risk)
