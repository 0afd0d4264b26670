"""Names and descriptions of segments, generated from their profiles: what defines each segment, in words a
product manager can check against the numbers beside them (no claim the numbers do not show).

A *trait* is a profile figure far from the population's: its distance is measured in the spread of that measure
over customers (the interquartile range of a median figure; for a share of customers, its binomial spread). A
segment's name is its two or three most distinctive traits, chosen so that every segment has at least one trait
no other segment's name shares; its description states the figures behind them, with the population's beside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..progress import counted
from ..risk.intervals import wilson_interval


@dataclass(frozen=True)
class Trait:
    figure: str  # profile column
    measure: str  # per-customer measure it summarises
    high: str  # the name of the trait when the segment is above the population
    low: str | None  # ... below it (None: only the high side is a trait)
    kind: str  # median | share


TRAITS = [
    Trait("share_salary_like", "salary_like", "regular salary", None, "share"),
    Trait("share_pension_like", "pension_like", "pensioners", None, "share"),
    Trait("median_income", "typical_month_income", "high income", "low income", "median"),
    Trait("median_balance", "balance_level", "high balance", "low balance", "median"),
    Trait("share_ever_negative", "negative_month_share", "often overdrawn", "rarely overdrawn", "share"),
    Trait("share_loan_payers", "loan_payment_share", "loan payers", None, "share"),
    Trait("median_cash_share", "cash_share", "cash users", "little cash", "median"),
    Trait("median_card_share", "card_share", "card payers", None, "median"),
    Trait("median_transfer_share", "transfer_share", "transfer users", None, "median"),
    Trait("median_transactions", "transactions_per_month", "very active", "quiet", "median"),
    Trait("median_months_with_income", "months_with_income", "income most months", "irregular income", "median"),
    Trait("median_spending_to_income", "spending_to_income", "spends more than comes in", "saves", "median"),
    Trait("median_balance_trend", "balance_trend", "growing balance", "falling balance", "median"),
]
DISTINCT = 0.5  # a trait is named when its figure is at least this many spreads from the population's
SHORT_NAME = "short histories"  # the name of a segment whose customers mostly have too little history to read
THIN_SHARE = 0.5  # ... more than this share of its customers flagged short_history


def trait_scores(profile: pd.DataFrame, measures: pd.DataFrame) -> pd.DataFrame:
    """Per segment and trait: signed distance from the population in spreads of the measure (NaN where the data
    has no such measure)."""
    pop = profile.loc["all"] if "all" in profile.index else None
    segs = profile.drop(index="all", errors="ignore")
    out = {}
    for t in TRAITS:
        if t.figure not in segs.columns or t.measure not in measures or measures[t.measure].isna().all():
            continue
        m = measures[t.measure].dropna()
        if t.kind == "median":
            q1, q3 = m.quantile([0.25, 0.75])
            spread = (q3 - q1) or m.std() or 1.0
            centre = pop[t.figure] if pop is not None else m.median()
        else:
            p = float((m > 0).mean())
            spread = max(np.sqrt(p * (1 - p)), 0.05)
            centre = p
        out[t.figure] = (segs[t.figure] - centre) / spread
    return pd.DataFrame(out, index=segs.index)


def trait_name(t: Trait, score: float) -> str | None:
    if score >= DISTINCT:
        return t.high
    if score <= -DISTINCT and t.low:
        return t.low
    return None


def name_segments(profile: pd.DataFrame, measures: pd.DataFrame, most: int = 3) -> dict:
    """A short name per segment from its most distinctive traits; every segment gets at least one trait that no
    other segment's name has (`_tell_apart` where two would still read the same)."""
    scores = trait_scores(profile, measures)
    by_figure = {t.figure: t for t in TRAITS}
    top, bottom = scores.max(), scores.min()  # the segment furthest out on a trait is named for it first
    ranked, names = {}, {}
    for seg, row in scores.iterrows():
        named = [((v == top[f] and v > 0) or (v == bottom[f] and v < 0), abs(v), trait_name(by_figure[f], v))
                 for f, v in row.items() if pd.notna(v)]
        named = [n for n in sorted(named, key=lambda x: (not x[0], -x[1])) if n[2]]
        ranked[seg] = [name for *_, name in named]
        # the traits on which it is the furthest segment and clearly out (a spread or more), else its two strongest
        leading = [name for extreme, score, name in named if extreme and score >= 1.0][:most]
        names[seg] = leading or ranked[seg][:2]
    for seg, traits in ranked.items():  # add traits until one is this segment's own
        others = {t for s, ts in names.items() if s != seg for t in ts}
        own = [t for t in traits if t not in others]
        if own and not set(names[seg]) - others:
            names[seg] = names[seg][: most - 1] + [own[0]]
    out = {}
    for seg in scores.index:
        words = names[seg] or ["typical customers"]
        out[seg] = ", ".join(words)
    return _tell_apart(out, scores, by_figure, profile)


def _tell_apart(out: dict, scores: pd.DataFrame, by_figure: dict, profile: pd.DataFrame) -> dict:
    """Segments that would read the same (many segments for few traits) each get the trait on which they differ
    most from the others of the same name; only where no trait is left is their size added."""
    seen: dict[str, list] = {}
    for seg, name in out.items():
        seen.setdefault(name, []).append(seg)
    for name, segs in seen.items():
        if len(segs) < 2:
            continue
        group = scores.loc[segs]
        taken = set(name.split(", "))
        for s in sorted(segs, key=lambda s: -int(profile.loc[s, "customers"])):
            others = group.drop(index=s).mean()
            candidates = sorted(((abs(v - others[f]), trait_name(by_figure[f], v)) for f, v in group.loc[s].items()
                                 if pd.notna(v)), key=lambda c: -c[0])
            used = set(out.values())
            extra = next((t for _, t in candidates if t and t not in taken and f"{name}, {t}" not in used), None)
            if extra:
                taken.add(extra)
                out[s] = f"{name}, {extra}"
        again: dict[str, list] = {}
        for s in segs:
            again.setdefault(out[s], []).append(s)
        for same in (v for v in again.values() if len(v) > 1):
            for s in same:
                out[s] = f"{out[s]} ({counted(profile.loc[s, 'customers'], 'customer')})"
    return out


def named_segments(profile: pd.DataFrame, measures: pd.DataFrame, labels: pd.Series, min_history: int,
                   currency: str | None) -> tuple[dict, dict]:
    """Names and descriptions of fitted segments (their `profile`, and the `measures` and `labels` of their
    customers). A segment most of whose customers have short histories (`inputs.short_history`: the risk's
    --min-history rule, on the history segmented) is named for that: the behaviour words its few transactions
    would earn ('falling balance, spends more than comes in', on an income and spending of 0) say nothing about
    those customers. The other segments are named among themselves."""
    from .inputs import SHORT_HISTORY, short_history

    short = pd.Series(short_history(measures, min_history), index=measures.index)
    share = short.groupby(labels.reindex(short.index).to_numpy()).mean()
    thin = [s for s in profile.index.drop("all", errors="ignore") if share.get(s, 0.0) > THIN_SHARE]
    rest = profile.drop(index=thin)
    names = name_segments(rest, measures) if len(rest.index.drop("all", errors="ignore")) else {}
    descriptions = describe(profile, measures, currency)
    for s in thin:
        names[s] = SHORT_NAME if len(thin) == 1 else \
            f"{SHORT_NAME} ({counted(profile.loc[s, 'customers'], 'customer')})"
        descriptions[s] = (f"mostly short histories: {share[s]:.0%} of its customers have fewer than {SHORT_HISTORY} "
                           f"transactions or {min_history} months of history, too little to read behaviour "
                           "from; " + descriptions[s])
    return {s: names[s] for s in profile.index.drop("all", errors="ignore")}, descriptions


def _money(v: float, currency: str | None) -> str:
    return f"{v:,.0f}" + (f" {currency}" if currency else "")


def describe(profile: pd.DataFrame, measures: pd.DataFrame | None = None, currency: str | None = None) -> dict:
    """A short factual description of each segment from its profile, against the population's figures (the
    profile's 'all' row: true medians and shares over every customer)."""
    pop = profile.loc["all"] if "all" in profile.index else profile.median(numeric_only=True)
    out = {}
    for seg, p in profile.drop(index="all", errors="ignore").iterrows():
        parts = []
        salary, pension = p.get("share_salary_like", np.nan), p.get("share_pension_like", np.nan)
        if pd.notna(salary):
            if pension >= 0.5:
                parts.append(f"{pension:.0%} of customers receive a regular pension")
            elif salary >= 0.5:
                parts.append(f"{salary:.0%} of customers have a regular salary-like credit")
            elif salary + pension < 0.1:
                parts.append(f"hardly any regular monthly credit ({salary + pension:.0%} of customers)")
            else:
                parts.append(f"{salary + pension:.0%} of customers have a regular monthly credit "
                             f"(salary-like {salary:.0%}, pension {pension:.0%})")
        income, pi = p["median_income"], pop["median_income"]
        ratio = f" ({income / pi:.1f}x the median customer's {_money(pi, currency)})" if pi > 0 else ""
        parts.append(f"median income {_money(income, currency)}/month{ratio}")
        if pd.notna(p.get("median_balance")):
            parts.append(f"median month-end balance {_money(p['median_balance'], currency)} "
                         f"(all customers: {_money(pop['median_balance'], currency)})")
            neg = p["share_ever_negative"]
            parts.append(f"{neg:.0%} of customers ever negative at a month end" if neg >= 0.05 else
                         "rarely negative at a month end (under 5% of customers ever)")
        if pd.notna(p.get("median_cash_share")):
            parts.append(f"cash {p['median_cash_share']:.0%} of transactions, card {p['median_card_share']:.0%}")
            if p.get("share_loan_payers", 0) >= 0.2:
                parts.append(f"{p['share_loan_payers']:.0%} of customers pay a loan from the account")
        parts.append(f"{p['median_transactions']:.1f} transactions/month")
        if "loans" in p and p["loans"] > 0 and pd.notna(p.get("loan_default_rate")):
            n = int(p["loans"])
            bad = int(round(p["loan_default_rate"] * n))
            lo, hi = wilson_interval(bad, n)
            few = " (few loans: read as a range)" if n < 30 else ""
            parts.append(f"{n} loans, {p['loan_default_rate']:.0%} in default (B/D; 95% interval "
                         f"{lo:.0%}-{hi:.0%}){few}")
        out[seg] = "; ".join(parts)
    return out
