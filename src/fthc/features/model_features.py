"""The features the default model clusters on (`MODEL_FEATURES`: the behaviour measures on scales k-means can
compare) and the summary-feature baseline an analyst would make (`SUMMARY_FEATURES`), both read off the measures of
`fthc.features.measures`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..data.transactions import KINDS
from .measures import EVENT_KINDS, Available, measures


# -- the default model's features: the measures on scales k-means can compare ---------------------------------
@dataclass(frozen=True)
class Feature:
    name: str
    compute: Callable[[pd.DataFrame], pd.Series]  # from the measures
    needs: str = ""


def _signed_log(x: pd.Series) -> pd.Series:
    return np.sign(x) * np.log1p(np.abs(x))


MODEL_FEATURES: list[Feature] = [
    *[Feature(f"rate_{k}", lambda m, k=k: np.log1p(m[f"{k}_per_month"]), "kinds") for k in EVENT_KINDS],
    Feature("log_income_per_month", lambda m: np.log1p(m["income_per_month"])),
    Feature("log_spending_per_month", lambda m: np.log1p(m["spending_per_month"])),
    Feature("spending_to_income", lambda m: m["spending_to_income"]),
    Feature("months_with_income", lambda m: m["months_with_income"]),
    Feature("income_variation", lambda m: m["income_variation"]),
    Feature("log_typical_credit", lambda m: np.log1p(m["typical_credit"].fillna(0))),
    Feature("log_typical_debit", lambda m: np.log1p(m["typical_debit"].fillna(0))),
    Feature("balance_level", lambda m: _signed_log(m["balance_level"]), "balance"),
    Feature("balance_low", lambda m: _signed_log(m["balance_low"]), "balance"),
    Feature("negative_month_share", lambda m: m["negative_month_share"], "balance"),
]
FEATURE_NAMES = [f.name for f in MODEL_FEATURES]


def model_features(m: pd.DataFrame, names: list[str] | None = None) -> pd.DataFrame:
    """The features named (default: all) from the measures; a customer with no month-end balance (every balance
    before its first known one missing) gets the balance features of 0 balance."""
    chosen = [f for f in MODEL_FEATURES if names is None or f.name in names]
    with np.errstate(all="ignore"):
        cols = {f.name: f.compute(m).astype("float64") for f in chosen}
    return pd.DataFrame(cols, index=m.index).fillna(0.0)


def usable_features(what: Available) -> list[str]:
    """The features the data can give: no balance features without balances, no kind rates without kinds."""
    return [f.name for f in MODEL_FEATURES if not f.needs or getattr(what, f.needs)]


# -- the baseline: summary features, as an analyst would make them -------------------------------------------
SUMMARY_FEATURES = ["transactions_per_month", "income_per_month", "spending_per_month", "mean_amount", "amount_sd",
                    "balance_mean", "balance_volatility", "negative_month_share"] + [f"share_{k}" for k in KINDS]


def summary_features(sums: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: activity, money in and out per month, amount level and spread, balance level and
    volatility, negative months, and the mix of transaction kinds (their shares)."""
    m = measures(sums)
    s = sums.astype("float64")
    out = m[SUMMARY_FEATURES[:8]].copy()
    for k in KINDS[:-1]:
        out[f"share_{k}"] = s[f"n_{k}"] / s["transactions"]
    out["share_other"] = 1 - out[[f"share_{k}" for k in KINDS[:-1]]].sum(axis=1)
    return out.fillna(0.0)[SUMMARY_FEATURES]


def standardise(features: pd.DataFrame) -> np.ndarray:
    """Signed log for heavy-tailed money columns, then z-scores: what a careful analyst would feed k-means."""
    X = features.to_numpy(dtype=np.float64)
    X = np.copysign(np.log1p(np.abs(X)), X)
    sd = X.std(0)
    return (X - X.mean(0)) / np.where(sd > 0, sd, 1)
