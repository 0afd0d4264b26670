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

import numpy as np
import pandas as pd


def portfolio_rate(seg) -> float:
    """The rate every segment is judged against: over the outcomes learnt, or (outcomes only judging the
    segments, as Berka's loans) over those placed in segments."""
    if seg.outcome_model_ is not None:
        return float(seg.outcomes_.y.mean())
    b = seg.outcome_check_["by_segment"]
    return float(b["positives"].sum() / max(b["with_outcome"].sum(), 1))


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


def inclusion(seg) -> dict | None:
    """The inclusion tables of a Segmenter fitted with outcomes (None without)."""
    if seg.outcome_model_ is None or seg.outcome_check_ is None:
        return None
    by_segment = seg.outcome_check_["by_segment"]
    portfolio = portfolio_rate(seg)
    good = favourable_segments(by_segment, portfolio)
    a = seg.assignments_
    invisible = a[~a["has_outcome"].astype(bool)]
    listed = invisible[invisible["segment"].isin(good)].copy()
    listed["segment_rate"] = listed["segment"].map(by_segment["rate"])
    listed["portfolio_rate"] = portfolio
    listed = listed[["segment", "name", "risk", "risk_low", "risk_high", "risk_grade", "risk_reasons",
                     "segment_rate", "portfolio_rate"]].sort_values(["risk", "segment"])
    summary = {"portfolio_rate": portfolio, "favourable": good, "invisible": int(len(invisible)),
               "invisible_in_favourable": int(len(listed)),
               "below_portfolio_risk": int((listed["risk_high"] <= portfolio).sum())}
    return {"table": listed, "summary": summary, "by_segment": by_segment}


def inclusion_html(view: dict, names: dict, esc) -> str:
    s = view["summary"]
    rows = []
    for seg, r in view["by_segment"].iterrows():
        mark = " class='good'" if seg in s["favourable"] else ""
        says = evidence(r, s["portfolio_rate"])
        est = (f"{r['risk_without_outcome']:.1%} ({r['risk_low_without_outcome']:.1%}-"
               f"{r['risk_high_without_outcome']:.1%})" if pd.notna(r.get("risk_without_outcome")) else "-")
        rate = f"{r['rate']:.1%} ({r['rate_low']:.0%}-{r['rate_high']:.0%})" if r["with_outcome"] else "-"
        rows.append(f"<tr{mark}><td>{seg}: {esc(names.get(seg, ''))}</td><td>{int(r['with_outcome']):,}</td>"
                    f"<td>{rate}</td><td>{says}</td><td>{int(r['without_outcome']):,}</td><td>{est}</td></tr>")
    return (f"<p><b>{s['invisible_in_favourable']:,}</b> of the {s['invisible']:,} customers without a credit "
            f"history sit in segments whose customers with one default at or below the portfolio's rate "
            f"({s['portfolio_rate']:.1%}), the whole 95% interval of the rate at or below it; "
            f"{s['below_portfolio_risk']:,} of them have an estimated risk whose upper bound is below it too. They "
            "are listed in inclusion.csv with their estimate and grade. Highlighted (green): those segments."
            "</p><table class='data'><tr><th>segment</th><th>with history</th><th>their default rate "
            "(95%)</th><th>evidence</th><th>without history</th><th>estimated risk of those without (95% interval "
            "of the mean)</th></tr>"
            + "".join(rows) + "</table>")
