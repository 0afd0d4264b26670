"""Behaviour features read off the `events` series: levels, mix of kinds, regularity and balance, per customer.

They are what summary features see (income and spending levels, balance, the mix of transaction kinds) and a
little more (spread and tails of amounts, regularity of timing), computed from the series itself so that a
saved model rebuilds them for new customers from the same series spec, and a Spark executor can too.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import DataError

NEEDED = ("log_amount", "log_balance", "log_days_since_previous")


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
    n_valid = m.sum(1)
    nan = np.where(m, 0.0, np.nan)
    amount = _raw(X, channels, scaling, "log_amount") + nan  # signed log of the amount
    balance = _raw(X, channels, scaling, "log_balance") + nan
    log_gap = _raw(X, channels, scaling, "log_days_since_previous") + nan
    days = np.nansum(np.expm1(np.clip(log_gap, 0, None)), 1)
    months = np.maximum(days / 30.44, 1.0)
    credit = np.where(amount > 0, amount, np.nan)
    debit = np.where(amount < 0, -amount, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no credits at all: no credit median (0 is used)
        cols = {
            "log_transactions_per_month": np.log(np.maximum(n_valid, 1) / months),
            "credit_share": np.nansum(amount > 0, 1) / np.maximum(n_valid, 1),
            "log_monthly_credit": np.log1p(np.nansum(np.expm1(credit), 1) / months),
            "log_monthly_debit": np.log1p(np.nansum(np.expm1(debit), 1) / months),
            "credit_median": np.nanmedian(credit, 1), "credit_spread": np.nanstd(credit, 1),
            "credit_p90": np.nanpercentile(credit, 90, axis=1),
            "debit_median": np.nanmedian(debit, 1), "debit_spread": np.nanstd(debit, 1),
            "debit_p90": np.nanpercentile(debit, 90, axis=1),
            "balance_median": np.nanmedian(balance, 1), "balance_spread": np.nanstd(balance, 1),
            "balance_p10": np.nanpercentile(balance, 10, axis=1),
            "negative_balance_share": np.nansum(balance < 0, 1) / np.maximum(n_valid, 1),
            "gap_mean": np.nanmean(log_gap, 1), "gap_spread": np.nanstd(log_gap, 1),
        }
        for c in channels:
            if c.startswith("is_"):
                cols[f"share_{c[3:]}"] = np.nansum(X[:, channels.index(c)] + nan, 1) / np.maximum(n_valid, 1)
    F = np.column_stack(list(cols.values())).astype(np.float64)
    return np.nan_to_num(F, nan=0.0, posinf=0.0, neginf=0.0), list(cols)

