"""Risk grades on a master scale: fixed bands of estimated probability of the outcome, the same for every seed,
refit, period and portfolio, as a lender's rating scale is (a bank's own edges by `--grade-edges`).

The default scale (`MASTER_SCALE`, docs/methods.md) has geometric edges from 1% to 60%: each grade's upper edge is
about 1.67 times the one below, so a step of one grade means the same relative change of risk anywhere on the
scale, and the grades stay fine where most customers of a retail book sit (5-40%). A customer's grade is the band
its estimated risk falls in (grade 1: the lowest risk); a refit moves a customer's grade only where its risk
crosses an edge. Nothing is cut on the outcomes, so no grade is fitted to the noise of the data it is shown on.

What each grade is observed to do comes from the customers with an outcome, each by its out-of-fold risk: how many
fall in it, their rate with a 95% Wilson interval, and whether that rests on enough outcomes (`MIN_OUTCOMES`) to be
read as the grade's rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .intervals import wilson_interval

# upper edges of grades 1..9 (grade 10: above 60%), rounded to what a credit policy would write
MASTER_SCALE = (0.01, 0.017, 0.028, 0.046, 0.077, 0.13, 0.21, 0.36, 0.60)
MIN_OUTCOMES = 30  # customers with an outcome a grade's observed rate rests on before it is read as that grade's


def check_edges(edges) -> tuple[float, ...]:
    """A scale's edges: increasing probabilities strictly between 0 and 1 (else a ValueError saying so)."""
    e = tuple(float(x) for x in edges)
    if not e or any(not 0 < x < 1 for x in e) or any(b <= a for a, b in zip(e, e[1:])):
        raise ValueError(f"grade edges must be increasing probabilities between 0 and 1 (e.g. 0.02,0.05,0.1,0.2), "
                         f"got {', '.join(f'{x:g}' for x in e) or 'none'}")
    return e


@dataclass
class Grades:
    """The master scale and what the customers with an outcome did in each of its grades."""

    edges: np.ndarray  # upper edges of grades 1..G-1: grade g holds edges[g-2] < risk <= edges[g-1]
    table: pd.DataFrame  # per grade: risk_from, risk_to, customers, positives, rate, rate_low, rate_high, enough

    def grade(self, risk) -> np.ndarray:
        """The grade (1..G) of each risk; a missing risk has grade 0."""
        r = np.asarray(risk, dtype=np.float64)
        g = np.searchsorted(self.edges, r, side="left") + 1
        return np.where(np.isnan(r), 0, g).astype(np.int64)

    @property
    def used(self) -> pd.DataFrame:
        """The grades that customers with an outcome fall in."""
        return self.table[self.table["customers"] > 0]

    def band(self, grade: int) -> str:
        """A grade's band of estimated risk in words, e.g. '7.7-13%'."""
        r = self.table.loc[grade]
        return f"{edge_text(r['risk_from'])[:-1]}-{edge_text(r['risk_to'])}"

    def to_dict(self) -> dict:
        return {"edges": self.edges.tolist(), "table": self.table.reset_index().to_dict(orient="list")}

    @classmethod
    def from_dict(cls, d: dict) -> "Grades":
        table = pd.DataFrame(d["table"]).set_index("grade")
        if "enough" not in table:
            table["enough"] = table["customers"] >= MIN_OUTCOMES
        return cls(np.asarray(d.get("edges", d.get("cuts")), dtype=np.float64), table)


def edge_text(p: float) -> str:
    """A master-scale edge as the scale writes it: 1.7%, 4.6%, 13%, 60%."""
    return f"{p * 100:.2g}%" if p * 100 < 10 else f"{p * 100:.0f}%"


def fit_grades(risk, y, edges=MASTER_SCALE) -> Grades:
    """The scale `edges` with the observed rate of each grade among the customers with an outcome `y`, each by its
    out-of-fold `risk`."""
    edges = np.asarray(check_edges(edges))
    risk, y = np.asarray(risk, dtype=np.float64), np.asarray(y).astype(int)
    grades = Grades(edges, pd.DataFrame())
    g = grades.grade(risk)
    bounds = np.r_[0.0, edges, 1.0]
    rows = []
    for grade in range(1, len(edges) + 2):
        inside = g == grade
        k, n = int(y[inside].sum()), int(inside.sum())
        lo, hi = wilson_interval(k, n)
        rows.append({"grade": grade, "risk_from": bounds[grade - 1], "risk_to": bounds[grade], "customers": n,
                     "positives": k, "rate": k / n if n else np.nan, "rate_low": lo, "rate_high": hi,
                     "enough": n >= MIN_OUTCOMES})
    grades.table = pd.DataFrame(rows).set_index("grade")
    return grades
