"""Intervals for the figures fthc reports about outcomes: a default rate's Wilson interval, and a bootstrap
interval for an AUC, each with the count it rests on."""

from __future__ import annotations

import numpy as np


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sound for small groups and rates near 0 or 1)."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # mathematically low <= p <= high (low = 0 at p = 0, high = 1 at p = 1); rounding must not break that
    return max(0.0, min(p, float(centre - half))), min(1.0, max(p, float(centre + half)))


CHUNK = 50  # resamples ranked at once (a 50 x n block)


def _aucs(scores: np.ndarray, positives: int) -> np.ndarray:
    """The AUC of each row of `scores` whose first `positives` entries are the positives' (Mann-Whitney: the
    positives' mean rank, ties counted half; the same value as roc_auc_score)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores, axis=1)
    negatives = scores.shape[1] - positives
    return (ranks[:, :positives].sum(1) - positives * (positives + 1) / 2) / (positives * negatives)


def auc_interval(y: np.ndarray, score: np.ndarray, repeats: int = 500, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the AUC (customers resampled with replacement, stratified by outcome
    so that every resample has both)."""
    y, score = np.asarray(y).astype(int), np.asarray(score, dtype=float)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    draws = [np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]) for _ in range(repeats)]
    aucs = np.concatenate([_aucs(score[np.array(draws[i: i + CHUNK])], len(pos))
                           for i in range(0, repeats, CHUNK)])
    lo, hi = np.percentile(aucs, [2.5, 97.5])
    return float(lo), float(hi)
