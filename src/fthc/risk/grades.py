"""Risk grades: at most `MAX_GRADES` bands of the portfolio's estimated risk (not within a segment), each with its
observed outcome rate and interval, in increasing order of rate, two neighbours merged wherever the data cannot
tell them apart.

Fitted on the customers with an outcome, each by its out-of-fold risk: start from equal-count bands of risk;
while some neighbours are not separated, merge the pair least separated. Two neighbours are separated when, over
`RESAMPLES` bootstrap resamples of their customers, the higher band's rate exceeds the lower's in at least 95% of
them (a one-sided 5% test). So the grades are monotone by construction, and each step up means a higher rate on
this data. Every customer gets the grade its risk falls in (grade 1: the lowest risk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .intervals import wilson_interval

MAX_GRADES = 8
RESAMPLES = 400
SEPARATED = 0.95


@dataclass
class Grades:
    cuts: np.ndarray  # inner boundaries of risk, increasing: grade g holds cuts[g-2] < risk <= cuts[g-1]
    table: pd.DataFrame  # per grade: risk_from, risk_to, customers, positives, rate, rate_low, rate_high

    def grade(self, risk) -> np.ndarray:
        """The grade (1..G) of each risk; a missing risk has grade 0."""
        r = np.asarray(risk, dtype=np.float64)
        g = np.searchsorted(self.cuts, r, side="left") + 1
        return np.where(np.isnan(r), 0, g).astype(np.int64)

    def to_dict(self) -> dict:
        return {"cuts": self.cuts.tolist(), "table": self.table.reset_index().to_dict(orient="list")}

    @classmethod
    def from_dict(cls, d: dict) -> "Grades":
        return cls(np.asarray(d["cuts"], dtype=np.float64), pd.DataFrame(d["table"]).set_index("grade"))


def _separation(y_lo: np.ndarray, y_hi: np.ndarray, rng: np.random.Generator) -> float:
    """Share of bootstrap resamples in which the higher band's rate is above the lower's."""
    lo = rng.choice(y_lo, (RESAMPLES, len(y_lo))).mean(1)
    hi = rng.choice(y_hi, (RESAMPLES, len(y_hi))).mean(1)
    return float((hi > lo).mean())


def fit_grades(risk, y, max_grades: int = MAX_GRADES, seed: int = 0) -> Grades:
    """Grades from the out-of-fold `risk` of the customers with an outcome `y` (see the module)."""
    risk, y = np.asarray(risk, dtype=np.float64), np.asarray(y).astype(int)
    order = np.argsort(risk, kind="stable")
    bands = [b for b in np.array_split(order, min(max_grades, len(risk))) if len(b)]
    # bands split where risk ties across a boundary would put equal risks in two grades: join those
    merged: list[np.ndarray] = []
    for b in bands:
        if merged and risk[merged[-1]].max() >= risk[b].min():
            merged[-1] = np.r_[merged[-1], b]
        else:
            merged.append(b)
    bands = merged
    rng = np.random.default_rng(seed)
    while len(bands) > 1:
        sep = [_separation(y[bands[i]], y[bands[i + 1]], rng) for i in range(len(bands) - 1)]
        worst = int(np.argmin(sep))
        if sep[worst] >= SEPARATED:
            break
        bands[worst] = np.r_[bands[worst], bands.pop(worst + 1)]
    cuts = np.array([risk[b].max() for b in bands[:-1]])
    rows = []
    for g, b in enumerate(bands, start=1):
        k, n = int(y[b].sum()), len(b)
        lo, hi = wilson_interval(k, n)
        rows.append({"grade": g, "risk_from": float(risk[b].min()), "risk_to": float(risk[b].max()),
                     "customers": n, "positives": k, "rate": k / n, "rate_low": lo, "rate_high": hi})
    return Grades(cuts, pd.DataFrame(rows).set_index("grade"))
