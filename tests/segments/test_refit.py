"""A refit is a fresh fit: after `set_params(...).fit(...)` every fitted attribute and output equals that of a new
Segmenter fitted with the same parameters (nothing of the earlier fit survives, cached or not)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import fthc
from tests.risk.test_validation import bank


def _equal(a, b, name):
    import dataclasses

    if dataclasses.is_dataclass(a) and not isinstance(a, type):  # a fitted part: field by field
        assert type(a) is type(b), name
        for f in dataclasses.fields(a):
            if f.name != "fit_seconds":
                _equal(getattr(a, f.name), getattr(b, f.name), f"{name}.{f.name}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=name)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, obj=name)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=name)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), name
        for key in a:
            _equal(a[key], b[key], f"{name}[{key!r}]")
    elif isinstance(a, (list, tuple)) and a and not isinstance(a[0], (str, int, float)):
        assert len(a) == len(b), name
        for i, (x, y) in enumerate(zip(a, b)):
            _equal(x, y, f"{name}[{i}]")
    elif isinstance(a, (str, int, float, bool, list, tuple, type(None))):
        assert a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b)), name
    else:  # a fitted part (a head, the outcome model, ...): compared by what it computes, below
        assert type(a) is type(b), name


@pytest.mark.slow  # three fits with outcomes: 15 s
def test_a_refit_after_set_params_equals_a_fresh_fit():
    tx, outcomes = bank(n=200, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refit = fthc.Segmenter(k=2, risk_weight="auto", refits=4).fit(tx, outcomes=outcomes)
        first_reasons = refit.assignments_["reasons"].copy()
        refit.set_params(k=4, risk_weight=0).fit(tx, outcomes=outcomes)
        fresh = fthc.Segmenter(k=4, risk_weight=0, refits=4).fit(tx, outcomes=outcomes)
    fitted = sorted(n for n in vars(fresh) if n.endswith("_") and not n.startswith("__"))
    assert fitted == sorted(n for n in vars(refit) if n.endswith("_") and not n.startswith("__"))
    assert not [n for n in vars(refit) if n.startswith("_") and not n.endswith("_")], "a private cache survives"
    for name in fitted:
        if name == "fit_seconds_":
            continue
        _equal(getattr(refit, name), getattr(fresh, name), name)
    pd.testing.assert_frame_equal(refit.assignments_, fresh.assignments_)
    assert not refit.assignments_["reasons"].equals(first_reasons)
    pd.testing.assert_frame_equal(refit.assign(tx), fresh.assign(tx))
    pd.testing.assert_frame_equal(refit.predict_proba(tx), fresh.predict_proba(tx))
