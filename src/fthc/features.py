"""Simple per-customer summary features: the baseline that deep clustering must beat, and profile inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data.transactions import KINDS, validate_canonical


SUMMARY_FEATURES = ["transactions_per_month", "monthly_credit", "monthly_debit", "mean_amount", "std_amount",
                    "balance_mean", "balance_std", "negative_balance_share"] + [f"share_{k}" for k in KINDS]


def summary_features(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per customer (sorted ids): activity, monthly income and spending, balance level and volatility,
    share of negative balances, and the mix of transaction kinds."""
    validate_canonical(tx)
    g = tx.groupby("customer_id", sort=True)
    months = ((g["timestamp"].max() - g["timestamp"].min()).dt.days / 30.44).clip(lower=1)
    credit = tx["amount"].clip(lower=0)
    debit = (-tx["amount"]).clip(lower=0)
    out = pd.DataFrame({
        "transactions_per_month": g.size() / months,
        "monthly_credit": credit.groupby(tx["customer_id"]).sum() / months,
        "monthly_debit": debit.groupby(tx["customer_id"]).sum() / months,
        "mean_amount": g["amount"].mean(),
        "std_amount": g["amount"].std().fillna(0),
        "balance_mean": g["balance"].mean(),
        "balance_std": g["balance"].std().fillna(0),
        "negative_balance_share": (tx["balance"] < 0).groupby(tx["customer_id"]).mean(),
    })
    kinds = pd.crosstab(tx["customer_id"], tx["kind"], normalize="index").reindex(columns=KINDS, fill_value=0)
    kinds.columns = [f"share_{k}" for k in kinds.columns]
    return out.join(kinds).fillna(0)[SUMMARY_FEATURES]  # the columns the Spark engine declares


def standardise(features: pd.DataFrame) -> np.ndarray:
    """Signed log for heavy-tailed money columns, then z-scores: what a careful analyst would feed k-means."""
    X = features.to_numpy(dtype=np.float64)
    X = np.copysign(np.log1p(np.abs(X)), X)
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1)
