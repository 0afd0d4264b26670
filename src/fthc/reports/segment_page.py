"""segments.html: one self-contained page per segmentation (styles and charts inline, no script, nothing fetched
from the web), for the product manager, the risk officer and the compliance officer alike.

What was segmented and how (with the choice of k), a card per segment (its name, size, key figures against all
customers', its description), charts of what differs between segments, the risk table with its intervals drawn,
the inclusion view (customers without a credit history and their estimated risk), the fairness audit, the notes,
and what the terms mean.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..progress import counted
from ..risk.grades import edge_text
from ..segments.choice import STRONG
from .charts import colour, distributions_chart, k_choice_chart, kinds_chart, monthly_chart, rate_chart

CSS = """
:root { --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: var(--bg); }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line);
padding-bottom: 4px; } h3 { font-size: 15px; margin: 0 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
        border-top: 5px solid var(--c); break-inside: avoid; }
.card .size { color: var(--muted); font-size: 13px; margin-bottom: 8px; }
.card table { width: 100%; border-collapse: collapse; font-size: 13px; margin: 6px 0 8px; }
.card td { padding: 2px 0; border-bottom: 1px dotted var(--line); } .card td.v { text-align: right; font-weight: 600; white-space: nowrap; padding-left: 6px; }
.card td.p { text-align: right; color: var(--muted); white-space: nowrap; padding-left: 6px; }
.card p { margin: 6px 0 0; font-size: 13px; color: #333; }
.chip { display: inline-block; width: 11px; height: 11px; border-radius: 2px; background: var(--c); margin-right: 5px; }
figure.chart { background: white; border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; padding: 10px;
               break-inside: avoid; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
table.data { border-collapse: collapse; background: white; font-size: 13px; margin: 8px 0; }
table.data th, table.data td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data th { background: #eef1f5; }
.flag { color: #a50f15; font-weight: 600; }
.good { background: #e6f4ea; }
.notes li { margin: 3px 0; } dl dt { font-weight: 600; margin-top: 6px; } dl dd { margin: 0 0 0 16px; color: #333; }
@media print { body { background: white; } main { padding: 0; } .card, figure.chart { border-color: #999; } }
"""


def esc(x) -> str:
    return html.escape(str(x))


def _money(v, currency) -> str:
    return "" if pd.isna(v) else f"{v:,.0f}" + (f" {currency}" if currency else "")


# the segment risk table's columns as the page heads them
RISK_TABLE = {"customers": "customers", "with_outcome": "with an outcome", "without_outcome": "without one",
              "positives": "positive outcomes", "rate": "observed rate", "rate_low": "95% low", "rate_high": "95% high",
              "risk_without_outcome": "mean risk without an outcome"}
COUNTS = {"customers", "with_outcome", "without_outcome", "positives"}


def _pct(v) -> str:
    return "" if pd.isna(v) else f"{v:.0%}"


CARD_FIGURES = [("median_income", "income / month", "money"), ("median_spending", "spending / month", "money"),
                ("median_balance", "month-end balance", "money"), ("share_ever_negative", "ever negative", "share"),
                ("median_transactions", "transactions / month", "number"),
                ("share_salary_like", "regular salary-like credit", "share"),
                ("share_pension_like", "regular pension", "share"), ("median_cash_share", "cash share", "share"),
                ("median_card_share", "card share", "share"), ("share_loan_payers", "pay a loan", "share")]


UNSURE = 0.8  # a customer whose segment fewer refits than this agree on is counted on its card


def _card(seg, s, p, pop, currency, extra: str) -> str:
    rows = []
    for col, label, unit in CARD_FIGURES:
        if col not in p or pd.isna(p[col]):
            continue
        fmt = (lambda v: _money(v, currency)) if unit == "money" else _pct if unit == "share" else \
            (lambda v: f"{v:.1f}")
        rows.append(f"<tr><td>{esc(label)}</td><td class='v'>{fmt(p[col])}</td>"
                    f"<td class='p'>all: {fmt(pop[col])}</td></tr>")
    unsure = int((seg.confidence_[seg.labels_ == s] < UNSURE).sum())  # said only where there are some
    return (f"<div class='card' style='--c:{colour(s)}' data-segment='{s}'><h3><span class='chip'></span>Segment {s}:"
            f" {esc(seg.names_.get(s, ''))}</h3><div class='size'>{counted(p['customers'], 'customer')} "
            f"({p['share']:.0%})" + (f"; {unsure:,} placed with confidence below {UNSURE}" if unsure else "")
            + f"</div><table>{''.join(rows)}</table>"
            f"{extra}<p>{esc(seg.descriptions_.get(s, ''))}</p></div>")


def _table(df: pd.DataFrame, formats: dict | None = None, index: str = "segment", flag=None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in [index, *df.columns])
    body = []
    for idx, row in df.iterrows():
        cells = [f"<td>{esc(idx)}</td>"]
        for c in df.columns:
            v = row[c]
            text = formats[c](v) if c in formats else (f"{v:,.3f}" if isinstance(v, float) else str(v))
            cls = " class='flag'" if flag and flag(c, v) else ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='data'><tr>{head}</tr>{''.join(body)}</table>"


def _chart(svg_text: str, caption: str, name: str) -> str:
    return f"<figure class='chart' data-chart='{name}'>{svg_text}<figcaption>{esc(caption)}</figcaption></figure>"


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


def _draw_charts(seg, summary: dict, k: int) -> dict[str, str]:
    """Every chart of the page as SVG, drawn side by side on the thread budget (`fthc.threads.parallel_map`):
    matplotlib's SVG writing is most of the page's time."""
    from ..features.measures import EVENT_KINDS
    from ..threads import parallel_map
    from .charts import reliability_chart

    m, labels = seg.measures_, seg.labels_
    jobs = {}
    if seg.k_choice_ is not None:
        jobs["k_choice"] = (k_choice_chart, (seg.k_choice_, k, STRONG))
    chosen = distinguishing(m, labels, DISTRIBUTION_CANDIDATES)
    if chosen:
        money = {"income_per_month", "spending_per_month", "balance_level"}
        jobs["distributions"] = (distributions_chart, (m[list(chosen)], labels, {c: DISTRIBUTION_CANDIDATES[c] for c
                                                                                  in chosen}, money, seg.names_))
    if seg.sums_ is not None and not m["cash_share"].isna().all():
        jobs["kinds"] = (kinds_chart, (seg.sums_, labels, EVENT_KINDS))
    if seg.monthly_ is not None and len(seg.monthly_):
        jobs["monthly"] = (monthly_chart, (seg.monthly_, seg.currency_, seg.names_))
    risk = summary.get("risk") or {}
    table = risk.get("table")
    if table is not None and len(table):
        jobs["risk"] = (rate_chart, (table, "rate", "rate_low", "rate_high", risk.get("overall"),
                                     risk.get("title", "outcome rate per segment"), risk.get("xlabel", "rate"),
                                     seg.names_))
    check = risk.get("check") or {}
    if check.get("grades") is not None:
        jobs["reliability"] = (reliability_chart, (check["calibration"],))
    return dict(zip(jobs, parallel_map(_draw, list(jobs.values()), rows=len(labels))))


def write_segment_page(seg, path: Path, summary: dict) -> None:
    """Write segments.html for a fitted Segmenter; `summary` holds what the command knows beside it (data, method,
    risk, inclusion and fairness tables)."""
    p = seg.profile_
    pop = p.loc["all"]
    segs = p.drop(index="all")
    currency = seg.currency_
    charts = _draw_charts(seg, summary, len(segs))
    parts = [f"<h1>Customer segments</h1><p class='sub'>{counted(pop['customers'], 'customer')} of "
             f"{esc(summary['data'])} in {counted(len(segs), 'segment')}; method {esc(summary['method'])} "
             f"({esc(summary['model'])}).</p>"]
    risk = summary.get("risk")
    if summary.get("inclusion"):  # the purpose first: who without a credit history could be offered credit
        said = "".join(f"<p>{esc(line[0].upper() + line[1:])}.</p>" for line in (risk or {}).get("lines", [])[:2])
        parts.append("<h2>Customers without a credit history</h2>" + said + summary["inclusion"])
    # cards
    risk_by_segment = summary.get("risk_by_segment")
    cards = []
    for s, row in segs.iterrows():
        extra = ""
        if risk_by_segment is not None and s in risk_by_segment.index:
            r = risk_by_segment.loc[s]
            extra = (f"<div class='size'>estimated risk {r['risk']:.1%} (95%: {r['risk_low']:.1%}-{r['risk_high']:.1%})"
                     "</div>") if "risk" in r else ""
        cards.append(_card(seg, s, row, pop, currency, extra))
    parts.append("<h2>The segments</h2><div class='cards'>" + "".join(cards) + "</div>")
    # how k was chosen
    if seg.k_choice_ is not None:
        parts.append("<h2>How many segments</h2><p>" + esc(seg.k_why_) + ".</p>")
        parts.append(_chart(charts["k_choice"],
                            "Prediction strength: for a random split into halves, how well one half's segments "
                            "predict which customers the other half's segments put together (1 = always); mean and "
                            "spread over 10 splits.", "k_choice"))
    else:
        parts.append(f"<p>k = {len(segs)} was asked for.</p>")
    # what differs
    m = seg.measures_
    labels = seg.labels_
    chosen = distinguishing(m, labels, DISTRIBUTION_CANDIDATES)
    if chosen:
        parts.append("<h2>What differs between segments</h2>")
        parts.append(_chart(charts["distributions"],
                            "The behaviours that differ most between segments: each box holds the middle half of "
                            "the segment's customers, the whiskers 90% of them, the line the median.",
                            "distributions"))
    if "kinds" in charts:
        parts.append(_chart(charts["kinds"], "The mix of transaction kinds of each "
                            "segment (shares of all its transactions).", "kinds"))
    if "monthly" in charts:
        parts.append(_chart(charts["monthly"], "Over a customer's months: the median customer of each segment "
                            "(line) and the middle half of its customers (band), month by month from each customer's "
                            "first (a month without transactions has nothing in or out and the balance of the month "
                            "before).", "monthly"))
    # risk
    if risk is not None:
        count = lambda v: f"{int(v):,}"  # noqa: E731
        parts.append("<h2>Risk</h2>" + risk.get("html", ""))
        table = risk.get("table")
        if table is not None and len(table):
            parts.append(_chart(charts["risk"],
                                "Each segment's outcome rate among its customers with an outcome, with its 95% "
                                "interval (Wilson): a wide interval rests on few customers.", "risk"))
            shown = table[[c for c in RISK_TABLE if c in table.columns]].rename(columns=RISK_TABLE) \
                .rename(index=lambda i: f"{i}: {seg.names_.get(i, '')}")
            risk_pct = lambda v: "" if pd.isna(v) else f"{v:.1%}"  # noqa: E731
            parts.append(_table(shown, {label: (count if c in COUNTS else risk_pct if c == "risk_without_outcome"
                                                else _pct) for c, label in RISK_TABLE.items()}))
        check = risk.get("check") or {}
        if check.get("grades") is not None:
            g = check["grades"]
            parts.append("<h3>Risk grades</h3><p>" + esc(risk.get("grades_line", "")) + "</p>")
            g = g[g["customers"] > 0]  # the grades of the scale this portfolio's outcomes fall in
            parts.append(_table(g[["risk_from", "risk_to", "customers", "positives", "rate", "rate_low", "rate_high"]]
                                .rename(columns={"risk_from": "estimated risk from", "risk_to": "to",
                                                 "customers": "customers with an outcome", "rate": "observed rate",
                                                 "rate_low": "95% low", "rate_high": "95% high"}),
                                {"estimated risk from": edge_text, "to": edge_text, "customers with an outcome": count,
                                 "positives": count, "observed rate": _pct, "95% low": _pct, "95% high": _pct},
                                index="grade"))
            if risk.get("segment_grades") is not None:
                sg = risk["segment_grades"].rename(index=lambda i: f"{i}: {seg.names_.get(i, '')}")
                parts.append("<p>Customers by segment and risk grade (segments are behaviour; grades carry the "
                             "risk):</p>" + _table(sg, {c: count for c in sg.columns}))
            parts.append(_chart(charts["reliability"], "Observed rate against the mean estimate "
                                "by decile of estimated risk, every customer scored by a model that never saw its "
                                "outcome.", "reliability"))
    if summary.get("fairness"):
        parts.append("<h2>Fairness</h2>" + summary["fairness"])
    if seg.notes_:
        parts.append("<h2>Notes</h2><ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in seg.notes_)
                     + "</ul>")
    parts.append("<h2>What the terms mean</h2><dl>"
                 f"<dt>confidence</dt><dd>The share of {len(seg.stability_.heads)} refits of the segmentation, "
                 "each on a random half of the "
                 "customers, that put a customer in its segment: how reproducible its assignment is (1 = every "
                 "refit agrees). It is not a probability that the segment is right.</dd>"
                 "<dt>prediction strength</dt><dd>How well segments found on half of the customers predict which "
                 "customers the other half's segments put together (Tibshirani &amp; Walther 2005); 0.8 or more "
                 "counts as reproducible.</dd>"
                 "<dt>month-end balance</dt><dd>The balance after a month's last transaction; medians are of "
                 "customers, shares are shares of customers.</dd>"
                 + ("<dt>B/D</dt><dd>Berka loan status: B = finished, not paid; D = running, client in debt (A and C "
                    "are paid or paying as agreed).</dd>" if seg.context_ is not None else "")
                 + "</dl>")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Customer segments</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>")
    Path(path).write_text(page, encoding="utf-8")


__all__ = ["write_segment_page", "distinguishing", "np"]
