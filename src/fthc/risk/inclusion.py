"""The inclusion view, the reason the product exists: the customers without a credit history (no outcome known)
and what their behaviour says of their risk.

Per segment: customers with and without an outcome, the segment's observed rate among those with one (each placed
as of its outcome's date), the mean estimated risk (and the interval of that mean) of those without. A segment
is *favourable* only on evidence: the upper bound of its rate's 95% Wilson interval is at or below the
portfolio's rate (a segment with 2 outcomes, both repaid, has an interval of 0-66% and is "too few outcomes to
say"). The *credit-invisible in favourable segments* are the customers without an outcome in such segments:
behaviour like that of customers who repay, and no record that scoring could use. They are listed in
inclusion.csv with their own estimated risk and grade.
"""

from __future__ import annotations

import pandas as pd


def portfolio_rate(by_segment: pd.DataFrame, known: pd.Series | None = None) -> float:
    """The rate every segment is judged against: over the outcomes known where outcomes are learnt (`known`, 0/1
    by customer, learnt from or not), or (outcomes only judging the segments, as Berka's loans) over those placed
    in segments."""
    if known is not None:
        return float(known.mean())
    return float(by_segment["positives"].sum() / max(by_segment["with_outcome"].sum(), 1))


def favourable_segments(by_segment: pd.DataFrame, portfolio_rate: float) -> list:
    """Segments whose rate's 95% interval lies at or below the portfolio's rate."""
    known = by_segment[by_segment["with_outcome"] > 0]
    return [s for s, r in known.iterrows() if r["rate_high"] <= portfolio_rate]


def evidence(row, portfolio_rate: float) -> str:
    """What a segment's (or grade's) outcomes say against the portfolio's rate, in words."""
    if not row["with_outcome"]:
        return "no outcomes"
    if row["rate_high"] <= portfolio_rate:
        return "favourable"
    if row["rate_low"] >= portfolio_rate:
        return "above the portfolio"
    return "too few outcomes to say"


def inclusion(assignments: pd.DataFrame, by_segment: pd.DataFrame, portfolio: float) -> dict:
    """The inclusion tables: `assignments` with their risk columns (has_outcome, risk, grade, reasons), the
    segments' outcome rates (`by_segment`, as `fthc.risk.outcome_check` gives them) and the portfolio's rate."""
    good = favourable_segments(by_segment, portfolio)
    a = assignments
    # without a credit history: no outcome at all (one whose outcome was not learnt, for a thin window, has one)
    invisible = a[a["outcome"].isna()] if "outcome" in a else a[~a["has_outcome"].astype(bool)]
    listed = invisible[invisible["segment"].isin(good)].copy()
    listed["segment_rate"] = listed["segment"].map(by_segment["rate"])
    listed["portfolio_rate"] = portfolio
    listed = listed[["segment", "name", "risk", "risk_low", "risk_high", "risk_grade", "risk_reasons",
                     "segment_rate", "portfolio_rate"]].sort_values(["risk", "segment"])
    summary = {"portfolio_rate": portfolio, "favourable": good, "invisible": int(len(invisible)),
               "invisible_in_favourable": int(len(listed)),
               "graded": int((invisible["risk_grade"] > 0).sum()) if "risk_grade" in invisible else 0,
               "below_portfolio_risk": int((listed["risk_high"] <= portfolio).sum())}
    return {"table": listed, "summary": summary, "by_segment": by_segment}
