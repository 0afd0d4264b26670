"""The vectorised series builder against straightforward per-customer reference implementations."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fthc.data.berka import read_berka, to_transactions
from fthc.errors import DataError
from fthc.data.series import EVENT_KINDS, SeriesSpec, build_series, signed_log
from fthc.data.transactions import KINDS, canonical_frame


@st.composite
def tables(draw):
    n = draw(st.integers(1, 40))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 200), min_size=n, max_size=n))
    amounts = draw(st.lists(st.sampled_from([-50.0, -3.5, 0.0, 1.0, 7.25, 100.0, 1000.0]), min_size=n, max_size=n))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    with_balance = draw(st.booleans())
    balance = draw(st.lists(st.floats(-1e4, 1e4), min_size=n, max_size=n)) if with_balance else None
    return canonical_frame(customer_id=customers, timestamp=pd.Timestamp("1995-01-30") + pd.to_timedelta(days, unit="D"),
                           amount=amounts, balance=balance, kind=kinds)


def history(tx, cid):
    """One customer's rows in date order (file order on ties): the reference's own sort."""
    rows = tx[tx["customer_id"] == cid]
    return rows.iloc[np.lexsort((np.arange(len(rows)), rows["timestamp"].to_numpy()))]


def reference_amounts(tx, L, padding):
    ids = sorted(tx["customer_id"].unique())
    X = np.zeros((len(ids), 1, L))
    for i, cid in enumerate(ids):
        a = history(tx, cid)["amount"].to_numpy()[-L:]
        z = (a - a.mean()) / a.std() if len(a) > 1 and a.std() > 1e-12 * max(1, abs(a.mean())) else np.zeros(len(a))
        if padding == "right":
            X[i, 0, : len(z)] = z
        else:
            X[i, 0, L - len(z):] = z
    return X


@settings(max_examples=60, deadline=None)
@given(tx=tables(), L=st.one_of(st.none(), st.integers(1, 12)), padding=st.sampled_from(["right", "left"]))
def test_amounts_match_reference(tx, L, padding):
    s = build_series(tx, SeriesSpec("amounts", seq_len=L, padding=padding))
    Lx = L or int(tx.groupby("customer_id").size().max())
    assert s.X.shape == (tx["customer_id"].nunique(), 1, Lx) and s.X.dtype == np.float32
    np.testing.assert_allclose(s.X, reference_amounts(tx, Lx, padding), atol=1e-5)
    assert np.isfinite(s.X).all()
    assert (s.mask.sum(1) == np.minimum(tx.groupby("customer_id").size().sort_index().to_numpy(), Lx)).all()
    assert (s.X[:, 0][~s.mask] == 0).all()


def reference_events(tx, L, scaling):
    ids = sorted(tx["customer_id"].unique())
    X = np.zeros((len(ids), 3 + len(EVENT_KINDS), L))
    for i, cid in enumerate(ids):
        h = history(tx, cid)
        bal = h["balance"].to_numpy()
        if np.isnan(bal).any():
            bal = np.where(np.isnan(bal), np.cumsum(h["amount"].to_numpy()), bal)
        days = (h["timestamp"] - h["timestamp"].iloc[0]).dt.days.to_numpy().astype(float)
        gap = np.diff(days, prepend=days[0])
        feats = [signed_log(h["amount"].to_numpy()), signed_log(bal), np.log1p(gap)]
        for c, name in enumerate(["log_amount", "log_balance", "log_days_since_previous"]):
            mu, sd = scaling[name]
            X[i, c, : min(len(h), L)] = ((feats[c] - mu) / sd)[-L:]
        for j, k in enumerate(h["kind"].astype(str).to_numpy()[-L:]):
            if k != "other":
                X[i, 3 + EVENT_KINDS.index(k), j] = 1
    return X


@settings(max_examples=60, deadline=None)
@given(tx=tables(), L=st.one_of(st.none(), st.integers(1, 12)))
def test_events_match_reference(tx, L):
    s = build_series(tx, SeriesSpec("events", seq_len=L))
    Lx = L or int(tx.groupby("customer_id").size().max())
    np.testing.assert_allclose(s.X, reference_events(tx, Lx, s.scaling), atol=1e-4)
    # the global scaling of the kept amount channel is a plain standardisation
    kept = s.X[:, 0][s.mask]
    if kept.std() > 0:
        assert abs(kept.mean()) < 1e-4 and abs(kept.std() - 1) < 1e-3


def reference_calendar(tx, period, L):
    ids = sorted(tx["customer_id"].unique())
    raw = np.zeros((len(ids), 4, L))
    mask = np.zeros((len(ids), L), dtype=bool)
    for i, cid in enumerate(ids):
        h = history(tx, cid)
        bal = h["balance"].to_numpy()
        if np.isnan(bal).any():
            bal = np.where(np.isnan(bal), np.cumsum(h["amount"].to_numpy()), bal)
        if period == "month":
            p = (h["timestamp"].dt.year * 12 + h["timestamp"].dt.month).to_numpy()
        else:
            days = (h["timestamp"] - pd.Timestamp("1970-01-01")).dt.days.to_numpy()
            p = days if period == "day" else (days - days[0]) // 7 + days[0]
        rel = p - p[0]
        last_bal = 0.0
        for t in range(min(rel.max() + 1, L)):
            rows = rel == t
            a = h["amount"].to_numpy()[rows]
            if rows.any():
                last_bal = bal[rows][-1]
            raw[i, :, t] = [a[a > 0].sum(), -a[a < 0].sum(), last_bal, rows.sum()]
            mask[i, t] = True
    return raw, mask


@settings(max_examples=40, deadline=None)
@given(tx=tables(), period=st.sampled_from(["day", "week", "month"]), L=st.one_of(st.none(), st.integers(1, 8)))
def test_calendar_matches_reference(tx, period, L):
    s = build_series(tx, SeriesSpec("calendar", seq_len=L, period=period))
    raw, mask = reference_calendar(tx, period, s.X.shape[2])
    np.testing.assert_array_equal(s.mask, mask)
    for c, name in enumerate(["log_credits", "log_debits", "log_balance", "log_count"]):
        mu, sd = s.scaling[name]
        values = np.log1p(raw[:, c]) if name == "log_count" else signed_log(raw[:, c])
        expected = np.where(mask, (values - mu) / sd, 0)
        np.testing.assert_allclose(s.X[:, c], expected, atol=1e-4)


def test_defined_results_for_degenerate_customers():
    tx = canonical_frame(customer_id=[1, 2, 2, 3, 3, 3], timestamp=pd.to_datetime(["1995-01-01"] * 6),
                         amount=[5.0, 2.0, 2.0, 1.0, 2.0, 3.0])
    s = build_series(tx, SeriesSpec("amounts"), customers=[1, 2, 3, 4])
    assert np.isfinite(s.X).all()
    assert (s.X[0] == 0).all() and (s.X[1] == 0).all() and (s.X[3] == 0).all()
    assert s.report["one_transaction"] == 1 and s.report["zero_variance"] == 1 and s.report["no_transactions"] == 1
    assert s.mask[3].sum() == 0


def test_truncation_keeps_the_most_recent():
    tx = canonical_frame(customer_id=[1] * 5, timestamp=pd.date_range("1995-01-01", periods=5), amount=[1, 2, 3, 4, 50.0])
    s = build_series(tx, SeriesSpec("amounts", seq_len=2))
    assert s.report["truncated"] == 1
    assert s.X[0, 0, 1] > s.X[0, 0, 0]  # 50 is the most recent, kept last


def test_scaling_is_reused_for_new_customers():
    tx = canonical_frame(customer_id=[1, 1, 2, 2], timestamp=pd.date_range("1995-01-01", periods=4),
                         amount=[100.0, -50.0, 3000.0, -20.0], balance=[100, 50, 3000, 2980.0])
    fitted = build_series(tx, SeriesSpec("events"))
    new = tx[tx["customer_id"] == 2]
    again = build_series(new, fitted.spec, scaling=fitted.scaling)
    np.testing.assert_allclose(again.X[0], fitted.X[1])
    with pytest.raises(DataError, match="scaling for channel"):
        build_series(new, fitted.spec, scaling={})


def test_bad_specs():
    with pytest.raises(DataError, match="unknown representation"):
        SeriesSpec("wavelets")
    with pytest.raises(DataError, match="positive integer"):
        SeriesSpec(seq_len=0)


def test_synthetic_berka_series(synth_berka):
    tx = to_transactions(read_berka(synth_berka))
    for rep in ("amounts", "events", "calendar"):
        s = build_series(tx, SeriesSpec(rep))
        assert len(s) == 80 and np.isfinite(s.X).all()
    s = build_series(tx, SeriesSpec("amounts"))
    assert s.X.shape[2] == tx.groupby("customer_id").size().max()
