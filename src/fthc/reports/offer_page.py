"""offers.html: what to offer, on one self-contained page (styles and the chart inline, no script): the product,
the decisions, the cut-off the margin supports and what it does for customers without a credit history, the
strategy table with its chart (approval share against expected bad rate), the same per segment, and each
segment's savings and protection needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..offer.result import OfferResult
from ..risk.grades import MIN_OUTCOMES
from .charts import svg
from .figures import subplots
from .html import Section, chart, esc, page, percent, table, wide

GROUP_COLOURS = {"no credit history": "#08519c", "all": "#969696"}


def _pct(v) -> str:
    """A share as this page's tables write it: a missing one as '-' (as `_money` does), not blank."""
    return percent(v, missing="-")


def _money(v) -> str:
    return "-" if pd.isna(v) else f"{v:,.0f}"


def strategy_chart(table: pd.DataFrame, cutoff: int | None) -> str:
    """Approval share against expected bad rate at each grade cut-off, one line per group, with the bad rate's
    interval; the cut-off taken ringed."""
    fig, ax = subplots(figsize=(6.4, 3.4))
    for group, part in table.groupby("group", sort=False):
        part = part[part["approved"] > 0]
        if not len(part):
            continue
        c = GROUP_COLOURS.get(group, "#444")
        x, y = part["approved_share"].to_numpy(), part["bad_rate"].to_numpy()
        err = np.vstack([y - part["bad_rate_low"].to_numpy(), part["bad_rate_high"].to_numpy() - y])
        ax.errorbar(x, y, yerr=np.clip(err, 0, None), fmt="o-", color=c, ms=4, lw=1.2, capsize=2, label=group)
        for g, xi, yi in zip(part["cutoff_grade"], x, y):
            ax.annotate(str(g), (xi, yi), xytext=(3, -9), textcoords="offset points", fontsize=7, color=c)
        at = part[part["cutoff_grade"] == cutoff]
        if len(at):
            ax.plot(at["approved_share"], at["bad_rate"], "o", ms=11, mfc="none", mec="#a50f15", mew=1.5)
    ax.set_xlabel("share approved (grade at or below the cut-off, and an affordable amount)")
    ax.set_ylabel("expected bad rate")
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return svg(fig)


STRATEGY_COLUMNS = {"approved": "approved", "approved_share": "share approved", "bad_rate": "expected bad rate",
                    "bad_rate_low": "95% low", "bad_rate_high": "95% high", "amount": "amount lent",
                    "expected_loss": "expected loss", "expected_margin": "expected margin",
                    "marginal_margin": "margin of the last grade"}
FORMATS = {"share approved": _pct, "expected bad rate": _pct, "95% low": _pct, "95% high": _pct,
           "amount lent": _money, "expected loss": _money, "expected margin": _money,
           "margin of the last grade": _money, "approved": lambda v: f"{int(v):,}"}
NEEDS_COLUMNS = {"name": "segment", "customers": "customers", "steady_surplus_share": "steady surplus",
                 "could_save_per_month": "could save / month", "thin_buffer_share": "buffer under a month",
                 "income_gap_share": "income gaps", "protection_share": "both (protection)",
                 "median_free_cash_flow": "typical free cash flow"}
NEEDS_FORMATS = {"steady surplus": _pct, "could save / month": _money, "buffer under a month": _pct,
                 "income gaps": _pct, "both (protection)": _pct, "typical free cash flow": _money,
                 "customers": lambda v: f"{int(v):,}"}


def _headline(r: OfferResult) -> str:
    """What the decisions do for the customers without a credit history, and for all: counts, bad rate, money."""
    counts = r.counts()
    decided = (f"{counts['offer']:,} offered, {counts['offer a smaller amount']:,} offered a smaller amount, "
               f"{counts['decline']:,} declined (offers.csv, each with its reason; declines by reason below)")
    why = r.why_none()
    if why:
        return f"<p><b>No one is offered credit</b>: {esc(why)}. {esc(decided)}.</p>"
    groups = (("no credit history", "Customers without a credit history"), ("all", "All customers"))
    lines = [f"<b>{label}</b>: {esc(text)}." for group, label in groups if (text := r.offered_text(group))]
    cutoff = r.strategy.cutoff
    how = (f"grades up to {cutoff}, the product's cut-off" if r.product.max_grade is not None else
           f"grades up to {cutoff}, the last whose margin is positive" if cutoff is not None else "no cut-off")
    return (f"<p>{'<br>'.join(lines)}</p><p class='sub'>{esc(decided)}. Lent to {esc(how)}, where the budget "
            f"supports the amount; these terms break even at a default rate of {_pct(r.product.break_even_pd())}."
            "</p>")


def _declines(r: OfferResult) -> str:
    """Declines by reason, the reasons' first words."""
    d = r.offers[r.offers["decision"] == "decline"]["reason"]
    if not len(d):
        return ""
    kinds = d.str.replace(r"^grade \d+: a default rate.*", "default rate above break-even", regex=True) \
        .str.replace(r"^grade \d+ is beyond the cut-off.*", "beyond the cut-off", regex=True) \
        .str.replace(r"^no risk estimated.*", "no risk estimated (too short a history)", regex=True) \
        .str.replace(r"^no room for a repayment.*", "no room for a repayment", regex=True) \
        .str.replace(r"^the budget supports .* below the smallest amount.*", "below the smallest amount", regex=True) \
        .str.replace(r"^the rate, .*", "the rate does not cover funding", regex=True)
    counts = kinds.value_counts().rename("customers").to_frame()
    return "<h3>Declines by reason</h3>" + table(counts, {"customers": lambda v: f"{int(v):,}"}, index="reason")


# The page's sections, in order: each a function of the `OfferResult` that returns its Section, or None where the
# page has no such section. A new section: one function, one line in SECTIONS.


def summary_section(r: OfferResult) -> Section:
    """Whom the page is for, the headline at the cut-off, the product, the notes."""
    money = f" ({r.currency})" if r.currency else ""
    notes = ("<ul class='notes'>" + "".join(f"<li><b>Note</b>: {esc(x)}</li>" for x in r.notes) + "</ul>"
             if r.notes else "")
    return Section("summary", None, "<p class='sub'>For customers whom conventional scoring shuts out: what each can "
                   "afford from what comes in and goes out of the account, the amount that supports, its expected "
                   "loss and margin, and the cut-off a lender would deploy, read from behaviour alone. "
                   f"Money{esc(money)} over the product's term.</p>" + _headline(r)
                   + f"<p class='sub'>The product: {esc(r.product.in_words())}.</p>" + notes + _declines(r))


def strategy_section(r: OfferResult) -> Section:
    """Approval share against expected bad rate at each cut-off grade: the chart, then a table per group."""
    t, cutoff = r.strategy.table, r.strategy.cutoff
    parts = [chart(strategy_chart(t, cutoff), "Each point a cut-off grade: the share of scored customers approved "
                   "(grade at or below it and a budget that supports the amount; before the margin check the offers "
                   "apply) and their expected bad rate (the mean of their grades' PD; bars: every grade at the bound "
                   "of its 95% interval at once, a grade without outcomes at its band's). Ringed: the cut-off "
                   "taken.", "strategy")]
    for group in ("no credit history", "all"):
        part = t[t["group"] == group].set_index("cutoff_grade")
        scored = int(part["scored"].iloc[0]) if len(part) else 0
        part = part[part["approved"] > 0]  # cut-offs below the lowest grade in use approve no one
        parts.append(f"<h3>{esc(group)} ({scored:,} scored)</h3>")
        shown = part[list(STRATEGY_COLUMNS)].rename(columns=STRATEGY_COLUMNS)
        parts.append(wide(table(shown, FORMATS, index="cut-off grade",
                                flag=lambda c, v: c == "margin of the last grade" and pd.notna(v) and v < 0)))
    return Section("strategy", "The strategy table", "".join(parts))


def by_segment_section(r: OfferResult) -> Section:
    """The strategy per segment at the cut-off taken."""
    cutoff = r.strategy.cutoff
    if cutoff is None:
        return Section("by-segment", "Per segment, at the cut-off", "<p>No cut-off: no grade pays at these terms.</p>")
    seg = r.strategy.by_segment
    at = seg[seg["cutoff_grade"] == cutoff]
    at = at.set_index(at["segment"].astype(str) + " " + at["name"])
    shown = at[["scored", *list(STRATEGY_COLUMNS)[:-1]]].rename(columns=STRATEGY_COLUMNS)
    return Section("by-segment", "Per segment, at the cut-off",
                   wide(table(shown, {**FORMATS, "scored": lambda v: f"{int(v):,}"}))
                   + "<p class='sub'>Every cut-off per segment: strategy_by_segment.csv.</p>")


def needs_section(r: OfferResult) -> Section:
    """Each segment's savings and protection needs."""
    n = r.needs.rename(columns=NEEDS_COLUMNS)[list(NEEDS_COLUMNS.values())]
    label = [f"{s} {name}" if s != "all" else name for s, name in zip(n.index, n["segment"])]
    return Section("needs", "Savings and protection", "<p class='sub'>Steady surplus: money in exceeds money out even "
                   "in a bad month (the 10th percentile of its months); it could save that bad month's surplus, in 9 "
                   "months of 10. Buffer under a month: the median month-end balance covers less than a month of "
                   "typical spending. Income gaps: in a bad month money in stops or falls below half a typical "
                   "month's. Both: candidates for income protection or an emergency-buffer product. Medians of "
                   "customers.</p>" + wide(table(n.drop(columns="segment").set_index(pd.Index(label)), NEEDS_FORMATS)))


def method_section(r: OfferResult) -> Section:
    """How the figures are made."""
    return Section("method", "How the figures are made", "<dl>"
                   "<dt>Affordable repayment</dt><dd>The smaller of the product's share of typical monthly income "
                   "less the loan payments already made, and the free cash flow (money in less money out) of a "
                   "typical month; from the window the risk reads.</dd>"
                   "<dt>Amount</dt><dd>What that repayment pays off over the term at the product's rate (an "
                   "annuity); the product's amount where the budget supports it.</dd>"
                   "<dt>Probability of default</dt><dd>The grade's observed rate among customers with an outcome, "
                   "each graded out of fold; adjacent grades whose rates run backwards are pooled, and a grade with "
                   f"fewer than {MIN_OUTCOMES} outcomes is pooled with its nearer-rated neighbour, so that the rate rises with "
                   "the grade (pd_source in offers.csv); in a grade without outcomes, a customer's own estimate, "
                   "kept between its neighbours' rates. It is the default rate over the life of the credits the "
                   "outcomes describe: a term far from theirs needs a PD of its own horizon.</dd>"
                   "<dt>Expected loss and margin</dt><dd>Loss: PD x loss given default x the amount (the whole "
                   "amount as the exposure). Margin: (1 - PD) x the interest the repayments earn, less the funding "
                   "cost of the balance outstanding each month, less the expected loss.</dd>"
                   "<dt>Who the PD is learnt from</dt><dd>Borrowers, scored at their loan dates; the customers "
                   "without a credit history are scored today: population.csv of the segment run says how far "
                   "their inputs differ, and the first outcomes of those you lend to are the check.</dd></dl>")


SECTIONS = [summary_section, strategy_section, by_segment_section, needs_section, method_section]


def write_offer_page(r: OfferResult, path: Path) -> None:
    """Write offers.html for an `OfferResult`."""
    Path(path).write_text(page(f"What to offer: {r.product.name}", [section(r) for section in SECTIONS]),
                          encoding="utf-8")
