"""Risk separation without credit scoring: how well segments fitted without loan outcomes separate them."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound for small segments and rates near 0 or 1)."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, float(centre - half)), min(1.0, float(centre + half))


def default_rates(segments: pd.Series, default: pd.Series) -> pd.DataFrame:
    """Per segment: loans, defaults, default rate with its 95% Wilson interval (customers with a loan only)."""
    d = pd.DataFrame({"segment": segments, "default": default}).dropna()
    rows = []
    for seg, g in d.groupby("segment"):
        n, k = len(g), int(g["default"].astype(bool).sum())
        lo, hi = wilson_interval(k, n)
        rows.append({"segment": seg, "loans": n, "defaults": k, "default_rate": k / n if n else np.nan,
                     "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows).set_index("segment")


def segment_auc(segments: pd.Series, default: pd.Series, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated AUC of scoring each customer with its segment's default rate (learnt on the other folds)."""
    d = pd.DataFrame({"segment": segments, "default": default}).dropna()
    y = d["default"].astype(int).to_numpy()
    if len(np.unique(y)) < 2:
        return float("nan")
    folds = min(folds, int(np.bincount(y).min()))
    if folds < 2:
        return float("nan")
    scores = np.zeros(len(d))
    seg = d["segment"].to_numpy()
    prior = y.mean()
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(seg, y):
        rates = pd.Series(y[train]).groupby(seg[train]).mean()
        scores[test] = pd.Series(seg[test]).map(rates).fillna(prior).to_numpy()
    return float(roc_auc_score(y, scores))
