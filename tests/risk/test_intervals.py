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
