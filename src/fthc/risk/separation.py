"""Risk separation: how well segments separate an outcome. Each customer is scored with its segment's outcome
rate learnt on the other folds, never its own (cross-validated), and the AUC comes with a bootstrap interval and
the number of customers and positives it rests on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from .intervals import auc_interval, wilson_interval


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


def segment_scores(segments: pd.Series, outcome: pd.Series, folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Customers with an outcome, each scored with its segment's outcome rate learnt on the other folds (a
    segment unseen in training takes the overall rate). Columns: outcome, score."""
    d = pd.DataFrame({"segment": segments, "outcome": outcome}).dropna()
    y = d["outcome"].astype(int).to_numpy()
    scores = np.full(len(d), np.nan)
    folds = min(folds, int(np.bincount(y, minlength=2).min())) if len(d) else 0
    if folds >= 2:
        seg = d["segment"].to_numpy()
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(seg, y):
            rates = pd.Series(y[train]).groupby(seg[train]).mean()
            scores[test] = pd.Series(seg[test]).map(rates).fillna(y[train].mean()).to_numpy()
    return pd.DataFrame({"outcome": y, "score": scores}, index=d.index)


def auc_with_interval(y, score) -> dict:
    """AUC, its 95% bootstrap interval, and the customers and positives it rests on."""
    y, score = np.asarray(y).astype(int), np.asarray(score, dtype=float)
    ok = ~np.isnan(score)
    y, score = y[ok], score[ok]
    if len(np.unique(y)) < 2:
        return {"auc": float("nan"), "auc_low": float("nan"), "auc_high": float("nan"), "customers": int(len(y)),
                "positives": int(y.sum())}
    lo, hi = auc_interval(y, score)
    return {"auc": float(roc_auc_score(y, score)), "auc_low": lo, "auc_high": hi, "customers": int(len(y)),
            "positives": int(y.sum())}
