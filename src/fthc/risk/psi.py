"""The population stability index (PSI): how far a population's distribution of a value has moved from a
reference's, over the reference's decile bins; the industry's 0.10 (watch) and 0.25 (shifted) thresholds. Used by
`fthc track` (drift against the fit) and by the fit itself (the customers scored without an outcome against
those the model learnt from)."""

from __future__ import annotations

import numpy as np
import pandas as pd

PSI_WATCH, PSI_SHIFT = 0.10, 0.25
PSI_FLOOR = 1e-4  # a bin's share below this counts as this (an empty bin would make the PSI infinite)


def bins_of(values: np.ndarray, bins: int = 10) -> dict:
    """A reference distribution: its decile edges, the share of values in each bin and how many values."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {"edges": [], "shares": [1.0], "n": 0}
    edges = np.unique(np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1]))
    shares = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1) / len(values)
    return {"edges": edges.tolist(), "shares": shares.tolist(), "n": int(len(values))}


def psi(reference: dict, current: np.ndarray) -> float:
    """Population stability index of `current` against a `bins_of` reference: sum over its bins of
    (q - p) ln(q / p), p and q the reference's and the current shares, an empty bin counted as half a value (so
    one empty decile of 100 customers is not a shift by itself)."""
    return psi_and_noise(reference, current)[0]


def psi_and_noise(reference: dict, current: np.ndarray) -> tuple[float, float]:
    """The PSI (`psi`) and the PSI two samples of these sizes from one population exceed 5% of the time (the
    PSI is about (1/n + 1/m) times a chi-square with bins - 1 degrees of freedom there): below it, a PSI is
    chance, not drift."""
    from scipy.stats import chi2

    current = np.asarray(current, dtype=np.float64)
    current = current[np.isfinite(current)]
    if len(current) == 0:
        return float("nan"), float("nan")
    edges = np.asarray(reference["edges"], dtype=np.float64)
    m, n = len(current), int(reference.get("n") or 0)
    q = np.bincount(np.searchsorted(edges, current, side="right"), minlength=len(edges) + 1) / m
    value = _psi(np.asarray(reference["shares"], dtype=np.float64), q, 0.5 / n if n else PSI_FLOOR, 0.5 / m)
    noise = float(chi2.ppf(0.95, max(len(q) - 1, 1)) * ((1 / n if n else 0.0) + 1 / m))
    return value, noise


def _psi(p: np.ndarray, q: np.ndarray, p_floor: float = PSI_FLOOR, q_floor: float = PSI_FLOOR) -> float:
    p, q = np.maximum(p, p_floor), np.maximum(q, q_floor)
    return float(np.sum((q - p) * np.log(q / p)))


def drift_flag(value: float, noise: float = 0.0) -> str:
    """stable, watch (0.10) or shifted (0.25); a value within what chance gives samples of these sizes (`noise`)
    is stable whatever its size."""
    if not np.isfinite(value):
        return ""
    if np.isfinite(noise) and value < noise:
        return "stable"
    return "shifted" if value >= PSI_SHIFT else "watch" if value >= PSI_WATCH else "stable"


def population_shift(learnt: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """Per input, the PSI of the customers scored without an outcome (`scored`) against those the outcome model
    learnt from (`learnt`), with its flag, largest first: where they differ, the risk of the former is an
    extrapolation from people unlike them."""
    rows = []
    for c in learnt.columns:
        value, noise = psi_and_noise(bins_of(learnt[c].to_numpy(dtype=float)), scored[c].to_numpy(dtype=float))
        rows.append({"input": c, "psi": value, "chance": noise, "flag": drift_flag(value, noise)})
    out = pd.DataFrame(rows, columns=["input", "psi", "chance", "flag"])
    return out.sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)
