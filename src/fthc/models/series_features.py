"""Behaviour features read off the `events` series: how often each kind of transaction happens, money in and
out per month, how regular income is, balance level and how often it is negative, typical amounts.

They are what summary features see (levels and the mix of kinds) stated as monthly *rates* rather than shares
(a segment is a set of habits: salary monthly, cash twice a month), with the regularity of income, computed
from the series itself so that a saved model rebuilds them for new customers from the same series spec.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DataError

NEEDED = ("log_amount", "log_balance", "log_days_since_previous")
MONTH_DAYS = 30.44


def _raw(X: np.ndarray, channels: list[str], scaling: dict, name: str) -> np.ndarray:
    mu, sd = scaling[name]
    return X[:, channels.index(name)] * sd + mu


def series_features(X: np.ndarray, mask: np.ndarray, channels: list[str] | None,
                    scaling: dict | None) -> tuple[np.ndarray, list[str]]:
    """[n, f] features and their names; X [n, C, L] in the `events` layout with its fitted scaling."""
    if channels is None or scaling is None or any(c not in channels for c in NEEDED):
        raise DataError("behaviour features need the 'events' representation built by fthc (channels "
                        f"{', '.join(NEEDED)} and their scaling); got channels {channels}",
                        expected="a SeriesSet with representation='events'")
    m = mask.astype(bool)
    n, L = m.shape
    n_valid = np.maximum(m.sum(1), 1)
    amount = _raw(X, channels, scaling, "log_amount")  # signed log of the amount
    money = np.where(m, np.sign(amount) * np.expm1(np.abs(amount)), 0.0)
    credit, debit = np.clip(money, 0, None), np.clip(-money, 0, None)
    log_gap = np.where(m, _raw(X, channels, scaling, "log_days_since_previous"), 0.0)
    day = np.cumsum(np.where(m, np.expm1(np.clip(log_gap, 0, None)), 0.0), 1)  # days since the first step
    months = np.maximum(day.max(1) / MONTH_DAYS, 1.0)
    cols: dict[str, np.ndarray] = {}
    for c in channels:
        if c.startswith("is_"):  # how many of each kind per month
            cols[f"rate_{c[3:]}"] = np.log1p(((X[:, channels.index(c)] > 0.5) & m).sum(1) / months)
    cols["log_credit_per_month"] = np.log1p(credit.sum(1) / months)
    cols["log_debit_per_month"] = np.log1p(debit.sum(1) / months)
    cols["spending_to_income"] = np.log((debit.sum(1) + 1) / (credit.sum(1) + 1))
    # income regularity: money in per calendar month of the history
    month = np.where(m, np.minimum(day // MONTH_DAYS, L - 1), L).astype(np.int64)
    per_month = np.zeros((n, L + 1))
    np.add.at(per_month, (np.repeat(np.arange(n), L), month.ravel()), credit.ravel())
    active = np.arange(L + 1)[None, :] < np.ceil(months)[:, None]
    in_months = np.where(active, per_month, np.nan)
    balance = np.where(m, _raw(X, channels, scaling, "log_balance"), np.nan)
    credits = np.where(m & (amount > 0), amount, np.nan)
    debits = np.where(m & (amount < 0), -amount, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no credits at all: no credit median (0 is used)
        cols["months_with_income"] = ((per_month > 0) & active).sum(1) / active.sum(1)
        cols["income_variation"] = np.nanstd(in_months, 1) / (np.nanmean(in_months, 1) + 1)
        cols["balance_median"] = np.nanmedian(balance, 1)
        cols["balance_p10"] = np.nanpercentile(balance, 10, axis=1)
        cols["negative_balance_share"] = np.nansum(balance < 0, 1) / n_valid
        cols["credit_median"] = np.nanmedian(credits, 1)
        cols["debit_median"] = np.nanmedian(debits, 1)
    F = np.column_stack(list(cols.values())).astype(np.float64)
    return np.nan_to_num(F, nan=0.0, posinf=0.0, neginf=0.0), list(cols)
