"""segments.html: one self-contained page per segmentation (styles and charts inline, no script, nothing fetched
from the web), for the product manager, the risk officer and the compliance officer alike.

What was segmented and how (with the choice of k), a card per segment (its name, size, key figures against all
customers', its description), charts of what differs between segments, the risk table with its intervals drawn,
the inclusion view (customers without a credit history and their estimated risk), the fairness audit, the notes,
and what the terms mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..progress import counted
from ..risk.grades import edge_text
from ..segments.choice import STRONG
from ..segments.result import SegmentationResult
from .charts import colour, distributions_chart, k_choice_chart, kinds_chart, monthly_chart, rate_chart
from .html import Section, chart, esc, page, percent, table


def _money(v, currency) -> str:
    return "" if pd.isna(v) else f"{v:,.0f}" + (f" {currency}" if currency else "")


# the segment risk table's columns as the page heads them
RISK_TABLE = {"customers": "customers", "with_outcome": "with an outcome", "without_outcome": "without one",
              "positives": "positive outcomes", "rate": "observed rate", "rate_low": "95% low", "rate_high": "95% high",
              "risk_without_outcome": "mean risk without an outcome"}
COUNTS = {"customers", "with_outcome", "without_outcome", "positives"}


def _pct(v) -> str:
    """A share to a whole percent: the cards and the rate tables need no finer."""
    return percent(v, digits=0)


CARD_FIGURES = [("median_income", "income / month", "money"), ("median_spending", "spending / month", "money"),
                ("median_balance", "month-end balance", "money"), ("share_ever_negative", "ever negative", "share"),
                ("median_transactions", "transactions / month", "number"),
                ("share_salary_like", "regular salary-like credit", "share"),
                ("share_pension_like", "regular pension", "share"), ("median_cash_share", "cash share", "share"),
                ("median_card_share", "card share", "share"), ("share_loan_payers", "pay a loan", "share")]


UNSURE = 0.8  # a customer whose segment fewer refits than this agree on is counted on its card


def _card(result: SegmentationResult, s, p, pop, currency, extra: str) -> str:
    rows = []
    for col, label, unit in CARD_FIGURES:
        if col not in p or pd.isna(p[col]):
            continue
        fmt = (lambda v: _money(v, currency)) if unit == "money" else _pct if unit == "share" else \
            (lambda v: f"{v:.1f}")
        rows.append(f"<tr><td>{esc(label)}</td><td class='v'>{fmt(p[col])}</td>"
                    f"<td class='p'>all: {fmt(pop[col])}</td></tr>")
    unsure = int((result.confidence[result.labels == s] < UNSURE).sum())  # said only where there are some
    return (f"<div class='card' style='--c:{colour(s)}' data-segment='{s}'><h3><span class='chip'></span>Segment {s}:"
            f" {esc(result.names.get(s, ''))}</h3><div class='size'>{counted(p['customers'], 'customer')} "
            f"({p['share']:.0%})" + (f"; {unsure:,} placed with confidence below {UNSURE}" if unsure else "")
            + f"</div><table>{''.join(rows)}</table>"
            f"{extra}<p>{esc(result.descriptions.get(s, ''))}</p></div>")


def distinguishing(measures: pd.DataFrame, labels: pd.Series, candidates: dict[str, str], most: int = 4) -> list[str]:
    """The measures whose values differ most between segments (share of their variance across customers that
    the segments explain, on ranks so that heavy tails do not decide)."""
    scores = {}
    for col in candidates:
        v = measures[col].rank(pct=True)
        if v.isna().all() or v.nunique() < 3:
            continue
        grand = v.mean()
        between = sum(len(g) * (g.mean() - grand) ** 2 for _, g in v.groupby(labels))
        total = ((v - grand) ** 2).sum()
        scores[col] = between / total if total > 0 else 0
    return sorted(scores, key=lambda c: -scores[c])[:most]


DISTRIBUTION_CANDIDATES = {"income_per_month": "money in / month", "spending_per_month": "money out / month",
                           "balance_level": "median month-end balance", "transactions_per_month": "transactions / month",
                           "cash_share": "share of transactions in cash", "card_share": "share by card",
                           "transfer_share": "share that are transfers", "months_with_income": "months with income",
                           "income_variation": "income variation", "negative_month_share": "months ending negative",
                           "loan_payment_share": "share that pay a loan", "spending_to_income": "spending vs income"}


def _draw(job) -> str:
    fn, args = job
    return fn(*args)


def _draw_charts(result: SegmentationResult, summary: dict, k: int) -> dict[str, str]:
    """Every chart of the page as SVG, drawn side by side on the thread budget (`fthc.threads.parallel_map`):
    matplotlib's SVG writing is most of the page's time."""
    from ..features.measures import EVENT_KINDS
    from ..threads import parallel_map
    from .charts import reliability_chart

    m, labels = result.measures, result.labels
    jobs = {}
    if result.k_choice is not None:
        jobs["k_choice"] = (k_choice_chart, (result.k_choice, k, STRONG))
    chosen = distinguishing(m, labels, DISTRIBUTION_CANDIDATES)
    if chosen:
        money = {"income_per_month", "spending_per_month", "balance_level"}
        jobs["distributions"] = (distributions_chart, (m[list(chosen)], labels, {c: DISTRIBUTION_CANDIDATES[c] for c
                                                                                  in chosen}, money, result.names))
    if result.sums is not None and not m["cash_share"].isna().all():
        jobs["kinds"] = (kinds_chart, (result.sums, labels, EVENT_KINDS))
    if result.monthly is not None and len(result.monthly):
        jobs["monthly"] = (monthly_chart, (result.monthly, result.currency, result.names))
    risk = summary.get("risk") or {}
    table = risk.get("table")
    if table is not None and len(table):
        jobs["risk"] = (rate_chart, (table, "rate", "rate_low", "rate_high", risk.get("overall"),
                                     risk.get("title", "outcome rate per segment"), risk.get("xlabel", "rate"),
                                     result.names))
    check = risk.get("check") or {}
    if check.get("grades") is not None:
        jobs["reliability"] = (reliability_chart, (check["calibration"],))
    return dict(zip(jobs, parallel_map(_draw, list(jobs.values()), rows=len(labels))))


# The page's sections, in order: each a function of the segmentation's result (`SegmentationResult`), the
# command's summary and the drawn charts
# that returns its Section, or None where the page has no such section. A new section: one function, one line
# in SECTIONS.


def _segments(result: SegmentationResult):
    """The profile of each segment (the population's row dropped)."""
    return result.profile.drop(index="all")


def summary_section(result: SegmentationResult, summary: dict, charts: dict) -> Section:
    """What was segmented, how many customers, into how many segments, by which method."""
    pop = result.profile.loc["all"]
    return Section("summary", None, f"<p class='sub'>{counted(pop['customers'], 'customer')} of "
                   f"{esc(summary['data'])} in {counted(len(_segments(result)), 'segment')}; method "
                   f"{esc(summary['method'])} ({esc(summary['model'])}).</p>")


def inclusion_section(result: SegmentationResult, summary: dict, charts: dict) -> Section | None:
    """The purpose first: who without a credit history could be offered credit."""
    if not summary.get("inclusion"):
        return None
    said = "".join(f"<p>{esc(line[0].upper() + line[1:])}.</p>"
                   for line in (summary.get("risk") or {}).get("lines", [])[:2])
    return Section("inclusion", "Customers without a credit history", said + summary["inclusion"])


def cards_section(result: SegmentationResult, summary: dict, charts: dict) -> Section:
    """A card per segment, with its estimated risk where the command learnt one."""
    pop = result.profile.loc["all"]
    risk_by_segment = summary.get("risk_by_segment")
    cards = []
    for s, row in _segments(result).iterrows():
        extra = ""
        if risk_by_segment is not None and s in risk_by_segment.index:
            r = risk_by_segment.loc[s]
            extra = (f"<div class='size'>estimated risk {r['risk']:.1%} (95%: {r['risk_low']:.1%}-{r['risk_high']:.1%})"
                     "</div>") if "risk" in r else ""
        cards.append(_card(result, s, row, pop, result.currency, extra))
    return Section("segments", "The segments", "<div class='cards'>" + "".join(cards) + "</div>")


def k_section(result: SegmentationResult, summary: dict, charts: dict) -> Section:
    """How k was chosen (with its chart), or that it was asked for."""
    if result.k_choice is None:
        return Section("k", None, f"<p>k = {len(_segments(result))} was asked for.</p>")
    return Section("k", "How many segments", "<p>" + esc(result.k_why) + ".</p>" + chart(
        charts["k_choice"], "Prediction strength: for a random split into halves, how well one half's segments "
        "predict which customers the other half's segments put together (1 = always); mean and spread over 10 "
        "splits.", "k_choice"))


def differences_section(result: SegmentationResult, summary: dict, charts: dict) -> Section | None:
    """The behaviours that differ most between segments, their mix of transaction kinds, their months."""
    parts = []
    if "distributions" in charts:
        parts.append(chart(charts["distributions"], "The behaviours that differ most between segments: each box "
                           "holds the middle half of the segment's customers, the whiskers 90% of them, the line "
                           "the median.", "distributions"))
    if "kinds" in charts:
        parts.append(chart(charts["kinds"], "The mix of transaction kinds of each segment (shares of all its "
                           "transactions).", "kinds"))
    if "monthly" in charts:
        parts.append(chart(charts["monthly"], "Over a customer's months: the median customer of each segment "
                           "(line) and the middle half of its customers (band), month by month from each customer's "
                           "first (a month without transactions has nothing in or out and the balance of the month "
                           "before).", "monthly"))
    if not parts:
        return None
    return Section("differences", "What differs between segments" if "distributions" in charts else None,
                   "".join(parts))


def _count(v) -> str:
    return f"{int(v):,}"


def risk_section(result: SegmentationResult, summary: dict, charts: dict) -> Section | None:
    """The outcome rate per segment (chart and table), the risk grades, segments by grade, and the reliability of
    the estimates."""
    risk = summary.get("risk")
    if risk is None:
        return None
    parts = [risk.get("html", "")]
    table_ = risk.get("table")
    if table_ is not None and len(table_):
        parts.append(chart(charts["risk"], "Each segment's outcome rate among its customers with an outcome, with "
                           "its 95% interval (Wilson): a wide interval rests on few customers.", "risk"))
        shown = table_[[c for c in RISK_TABLE if c in table_.columns]].rename(columns=RISK_TABLE) \
            .rename(index=lambda i: f"{i}: {result.names.get(i, '')}")
        parts.append(table(shown, {label: (_count if c in COUNTS else percent if c == "risk_without_outcome"
                                           else _pct) for c, label in RISK_TABLE.items()}))
    check = risk.get("check") or {}
    if check.get("grades") is not None:
        g = check["grades"]
        parts.append("<h3>Risk grades</h3><p>" + esc(risk.get("grades_line", "")) + "</p>")
        g = g[g["customers"] > 0]  # the grades of the scale this portfolio's outcomes fall in
        parts.append(table(g[["risk_from", "risk_to", "customers", "positives", "rate", "rate_low", "rate_high"]]
                           .rename(columns={"risk_from": "estimated risk from", "risk_to": "to",
                                            "customers": "customers with an outcome", "rate": "observed rate",
                                            "rate_low": "95% low", "rate_high": "95% high"}),
                           {"estimated risk from": edge_text, "to": edge_text, "customers with an outcome": _count,
                            "positives": _count, "observed rate": _pct, "95% low": _pct, "95% high": _pct},
                           index="grade"))
        if risk.get("segment_grades") is not None:
            sg = risk["segment_grades"].rename(index=lambda i: f"{i}: {result.names.get(i, '')}")
            parts.append("<p>Customers by segment and risk grade (segments are behaviour; grades carry the "
                         "risk):</p>" + table(sg, {c: _count for c in sg.columns}))
        parts.append(chart(charts["reliability"], "Observed rate against the mean estimate by decile of estimated "
                           "risk, every customer scored by a model that never saw its outcome.", "reliability"))
    return Section("risk", "Risk", "".join(parts))


def fairness_section(result: SegmentationResult, summary: dict, charts: dict) -> Section | None:
    """The fairness audit (`risk_sections.fairness_html`), where the command ran one."""
    return Section("fairness", "Fairness", summary["fairness"]) if summary.get("fairness") else None


def notes_section(result: SegmentationResult, summary: dict, charts: dict) -> Section | None:
    """What the fit noted."""
    if not result.notes:
        return None
    return Section("notes", "Notes", "<ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in result.notes)
                   + "</ul>")


def terms_section(result: SegmentationResult, summary: dict, charts: dict) -> Section:
    """What the terms mean."""
    return Section("terms", "What the terms mean", "<dl>"
                   f"<dt>confidence</dt><dd>The share of {result.refits} refits of the segmentation, "
                   "each on a random half of the "
                   "customers, that put a customer in its segment: how reproducible its assignment is (1 = every "
                   "refit agrees). It is not a probability that the segment is right.</dd>"
                   "<dt>prediction strength</dt><dd>How well segments found on half of the customers predict which "
                   "customers the other half's segments put together (Tibshirani &amp; Walther 2005); 0.8 or more "
                   "counts as reproducible.</dd>"
                   "<dt>month-end balance</dt><dd>The balance after a month's last transaction; medians are of "
                   "customers, shares are shares of customers.</dd>"
                   + ("<dt>B/D</dt><dd>Berka loan status: B = finished, not paid; D = running, client in debt (A and "
                      "C are paid or paying as agreed).</dd>" if result.context is not None else "")
                   + "</dl>")


SECTIONS = [summary_section, inclusion_section, cards_section, k_section, differences_section, risk_section,
            fairness_section, notes_section, terms_section]


def write_segment_page(result: SegmentationResult, path: Path, summary: dict) -> None:
    """Write segments.html for a segmentation's result; `summary` holds what the command knows beside it (data, method,
    risk, inclusion and fairness tables)."""
    charts = _draw_charts(result, summary, len(_segments(result)))
    Path(path).write_text(page("Customer segments", [section(result, summary, charts) for section in SECTIONS]),
                          encoding="utf-8")


__all__ = ["write_segment_page", "distinguishing", "np"]
