"""Early-warning alerts a portfolio team can work: a budget of alerts per period, filled by rules in order.

A team can call, write to or review so many customers a month; a list that flags a quarter of the book is no list.
Each period's budget (`ALERTS`: 5% of the customers tracked in it, or a count) is filled by these rules, in order,
within each by estimated risk, highest first:

1. *high risk*: estimated risk at least `HIGH` times the portfolio's rate;
2. *deteriorated*: the risk's log-odds rose since the period before by more than the score's own noise band (the
   99th percentile of the period-to-period change among customers whose tracked behaviour did not move: what the
   score does when nothing happens), to above the portfolio's rate;
3. *into a worst grade*: the grade rose into one of the `WORST` highest grades of the master scale that the fit's
   customers occupy.

A customer meeting no rule is never alerted, so a quiet period has fewer alerts than its budget. Each alert names
its first rule and every rule it meets. `benchmarks/bench_time.py` compares the list with ranking by risk at the
same volume.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import DataError

ALERTS = 0.05  # the default budget: this share of each period's tracked customers
HIGH = 2.0  # "high risk": at least this multiple of the portfolio's rate
STABLE = 0.10  # a tracked measure moved by at most this share of its level: behaviour counts as unchanged
WORST = 2  # the highest grades in use whose entry is an alert
BAND_QUANTILE = 0.99
RULES = ("high risk", "deteriorated", "into a worst grade")
COLUMNS = ["customer_id", "period_end", "rule", "why", "from_segment", "segment", "from_grade", "risk_grade",
           "risk_before", "risk", "risk_reasons"]


def parse_budget(text) -> float | int:
    """An alert budget from the command line: a share ('5%', '0.05') or a count of customers ('200')."""
    value = str(text).strip()
    try:
        if value.endswith("%"):
            share = float(value[:-1]) / 100
        elif "." in value:
            share = float(value)
        else:
            count = int(value)
            if count < 0:
                raise ValueError
            return count
    except ValueError:
        raise DataError(f"alerts {text!r} is neither a share nor a count",
                        expected="a share of the customers tracked ('5%' or 0.05) or a count ('200')") from None
    if not 0 <= share <= 1:
        raise DataError(f"alerts {text!r} is not a share between 0% and 100%", expected="e.g. 5%")
    return share


def budget_of(alerts: float | int, customers: int) -> int:
    """The alerts a period of `customers` may hold."""
    if isinstance(alerts, float):
        return min(customers, math.ceil(alerts * customers))
    return min(customers, int(alerts))


def _logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def noise_band(tracks: pd.DataFrame, measures: list[str]) -> tuple[float, int]:
    """The score's own noise: the 99th percentile of the period-to-period change of the risk's log-odds among the
    customer-periods whose tracked `measures` each moved by at most `STABLE` of their level (and how many those
    were). NaN where fewer than 30."""
    step = tracks.groupby("customer_id", sort=False)["risk"].shift()  # the period before, scored or not
    keep = tracks["risk"].notna().to_numpy()
    t, step = tracks[keep], step[keep]
    ok = step.notna().to_numpy().copy()
    for m in measures:
        before = (t[m] - t[f"{m}_change"]).abs().to_numpy()
        ok &= (t[f"{m}_change"].abs().to_numpy() <= STABLE * np.maximum(before, 1e-9)) | \
            (t[f"{m}_change"].to_numpy() == 0)
    change = np.abs(_logit(t["risk"].to_numpy()[ok]) - _logit(step.to_numpy()[ok]))
    if len(change) < 30:
        return float("nan"), int(len(change))
    return float(np.quantile(change, BAND_QUANTILE)), int(len(change))


def alert_list(tracks: pd.DataFrame, alerts: float | int, portfolio_rate: float, worst_from: int,
               band: float) -> pd.DataFrame:
    """Each period's alerts (see the module): the budget filled by the rules in order, by risk within each."""
    t = tracks[["customer_id", "period_end", "segment", "risk_grade", "risk"]].copy()
    g = t.groupby("customer_id", sort=False)  # the period before, scored or not (a thin one has no risk)
    t["from_segment"], t["from_grade"], t["risk_before"] = g["segment"].shift(), g["risk_grade"].shift(), \
        g["risk"].shift()
    t = t[t["risk"].notna()].copy()
    rise = _logit(t["risk"]) - _logit(t["risk_before"].fillna(t["risk"]))
    hits = np.c_[(t["risk"] >= HIGH * portfolio_rate).to_numpy(),
                 (t["risk_before"].notna() & (rise > band) & (t["risk"] > portfolio_rate)).to_numpy(),
                 (t["from_grade"].fillna(0).gt(0) & (t["risk_grade"] > t["from_grade"]) &
                  (t["risk_grade"] >= worst_from)).to_numpy()]
    hit = hits.any(axis=1)
    t["priority"] = np.where(hit, hits.argmax(axis=1), len(RULES))
    t["h0"], t["h1"], t["h2"] = hits[:, 0], hits[:, 1], hits[:, 2]
    sizes = t.groupby("period_end").size()
    chosen = []
    for end, period in t[hit].groupby("period_end", sort=True):
        chosen.append(period.sort_values(["priority", "risk"], ascending=[True, False], kind="stable")
                      .head(budget_of(alerts, int(sizes[end]))))
    out = pd.concat(chosen) if chosen else t.iloc[:0]
    out = out.assign(rule=[RULES[p] for p in out["priority"]], risk_reasons="",
                     why=[_why(row, (row.h0, row.h1, row.h2), band) for row in out.itertuples()])
    for col in ("from_segment", "from_grade"):
        out[col] = out[col].astype("Int64")
    return out.sort_values(["period_end", "priority", "risk"], ascending=[True, True, False])[COLUMNS] \
        .reset_index(drop=True)


def _why(row, hits, band: float) -> str:
    words = []
    if hits[0]:
        words.append(f"risk {row.risk:.1%}, at least {HIGH:g}x the portfolio's rate")
    if hits[1]:
        words.append(f"risk {row.risk_before:.1%} -> {row.risk:.1%}, beyond the score's own period-to-period noise "
                     f"(log-odds +{band:.2f})")
    if hits[2]:
        words.append(f"grade {int(row.from_grade)} -> {int(row.risk_grade)}, into a worst grade")
    return "; ".join(words)


def first_worst_grade(grades) -> int:
    """The lowest of the `WORST` highest grades the fit's customers with an outcome occupy: `alert_list`'s
    `worst_from`, the grade from which a rise is into a worst grade."""
    used = grades.used.index
    return int(used[-WORST]) if len(used) >= WORST else int(grades.table.index[-1])
