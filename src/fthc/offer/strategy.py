"""The strategy table a scorecard is deployed with: for each grade cut-off, who is approved (grade at or below
it, and an amount the budget supports), the expected bad rate with its interval, and the money: amount lent,
expected loss and margin, for the customers without a credit history and for all; the same per segment.

The expected bad rate of the approved is the mean of their PD (`fthc.offer.decisions.grade_pd`); its interval is
the mean of their PD intervals: every grade at its lower (upper) bound at once, a conservative band rather than
one that assumes the grades' errors cancel. The marginal columns are those of the last grade let in: a cut-off
pays while its marginal margin is positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .decisions import money
from .product import Product

GROUPS = {"no credit history": lambda o: ~o["credit_history"].astype(bool), "all": lambda o: np.ones(len(o), bool)}


@dataclass(frozen=True)
class Strategy:
    """The cut-off table (`table`: per group and cut-off grade), the same per segment (`by_segment`), and the
    cut-off the product takes (its `max_grade`, or the last grade whose marginal margin is positive)."""

    table: pd.DataFrame
    by_segment: pd.DataFrame
    cutoff: int | None


def _rows(o: pd.DataFrame, grades: list[int], product: Product) -> list[dict]:
    scored = o[o["risk_grade"] > 0]
    lendable = product.lendable(scored["supported_amount"])
    amount = np.minimum(scored["supported_amount"], product.amount if product.amount is not None else np.inf)
    m = money(amount.to_numpy(), scored["pd"].to_numpy(), product)
    rows = []
    for g in grades:
        take = (lendable & (scored["risk_grade"] <= g)).to_numpy()
        edge = (lendable & (scored["risk_grade"] == g)).to_numpy()
        n = int(take.sum())
        rows.append({"cutoff_grade": g, "customers": len(o), "scored": len(scored), "approved": n,
                     "approved_share": n / len(scored) if len(scored) else np.nan,
                     "bad_rate": scored["pd"][take].mean() if n else np.nan,
                     "bad_rate_low": scored["pd_low"][take].mean() if n else np.nan,
                     "bad_rate_high": scored["pd_high"][take].mean() if n else np.nan,
                     "amount": float(amount[take].sum()), "expected_loss": float(m["expected_loss"][take].sum()),
                     "expected_margin": float(m["expected_margin"][take].sum()),
                     "marginal_customers": int(edge.sum()),
                     "marginal_margin": float(m["expected_margin"][edge].sum())})
    return rows


def strategy(offers: pd.DataFrame, grades: list[int], product: Product) -> Strategy:
    """The strategy of the customers of `offers` (`fthc.offer.decisions.offers`) over the cut-offs `grades`."""
    rows = [{"group": name, **r} for name, pick in GROUPS.items() for r in _rows(offers[pick(offers)], grades,
                                                                                   product)]
    table = pd.DataFrame(rows)
    by_segment = pd.DataFrame([{"segment": int(s), "name": part["name"].iloc[0], **r}
                               for s, part in offers.groupby("segment", sort=True)
                               for r in _rows(part, grades, product)])
    if product.max_grade is not None:
        cutoff = product.max_grade
    else:
        all_ = table[(table["group"] == "all") & (table["marginal_customers"] > 0)]
        paying = all_[all_["marginal_margin"] > 0]["cutoff_grade"]
        cutoff = int(paying.max()) if len(paying) else None
    return Strategy(table, by_segment, cutoff)

