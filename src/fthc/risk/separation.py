"""Risk separation: how well segments separate an outcome. Each customer is scored with its segment's outcome
rate learnt on the other folds, never its own (cross-validated), and the AUC comes with a bootstrap interval and
the number of customers and positives it rests on."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from .intervals import auc_interval


def stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each customer's fold (0..folds-1), stratified by outcome and seeded."""
    fold = np.zeros(len(y), dtype=int)
    for f, (_, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(y, y)):
        fold[test] = f
    return fold


def out_of_fold_rates(labels: np.ndarray, y: np.ndarray, fold: np.ndarray) -> np.ndarray:
    """Each customer scored with its segment's outcome rate among the other folds' customers (a segment absent
    from them takes their overall rate): a score that never saw the customer's own outcome."""
    score = np.zeros(len(y))
    for f in np.unique(fold):
        train, test = fold != f, fold == f
        rates = pd.Series(y[train]).groupby(labels[train]).mean()
        score[test] = pd.Series(labels[test]).map(rates).fillna(y[train].mean()).to_numpy()
    return score


def segment_auc(segments: pd.Series, default: pd.Series, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated AUC of scoring each customer with its segment's default rate (learnt on the other folds)."""
    d = pd.DataFrame({"segment": segments, "default": default}).dropna()
    y = d["default"].astype(int).to_numpy()
    if len(np.unique(y)) < 2:
        return float("nan")
    folds = min(folds, int(np.bincount(y).min()))
    if folds < 2:
        return float("nan")
    score = out_of_fold_rates(d["segment"].to_numpy(), y, stratified_folds(y, folds, seed))
    return float(roc_auc_score(y, score))


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
