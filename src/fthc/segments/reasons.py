"""Reasons per customer: the three behaviour traits that most place a customer in its segment rather than the
next nearest one.

In the standardised behaviour-feature space (the default method's own space), each segment has a centre (the
mean of its customers). A customer is nearer its own centre c than the next nearest c'; the gap of squared
distances splits into one term per feature, (x - c')^2 - (x - c)^2: the features with the largest terms are what
put the customer where it is. Each is written with the customer's own value, its segment's median and the next
segment's: "cash withdrawals 2.3 / month (its segment: 2.1; segment 3: 0.4)".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features.measures import EVENT_KINDS

# model feature -> (the measure it is made of, how to say it, unit)
SAID = {f"rate_{k}": (f"{k}_per_month", f"{k.replace('_', ' ')}s", "per month") for k in EVENT_KINDS} | {
    "log_income_per_month": ("income_per_month", "income", "money per month"),
    "log_spending_per_month": ("spending_per_month", "spending", "money per month"),
    "spending_to_income": ("spending_to_income", "spending against income (log)", ""),
    "months_with_income": ("months_with_income", "months with income", "share"),
    "income_variation": ("income_variation", "income variation", ""),
    "log_typical_credit": ("typical_credit", "typical credit", "money"),
    "log_typical_debit": ("typical_debit", "typical debit", "money"),
    "balance_level": ("balance_level", "month-end balance", "money"),
    "balance_low": ("balance_low", "low month-end balance", "money"),
    "negative_month_share": ("negative_month_share", "months ending negative", "share"),
}


def _fmt(value: float, unit: str, currency: str | None) -> str:
    if pd.isna(value):
        return "-"
    if unit == "share":
        return f"{value:.0%}"
    if unit.startswith("money"):
        text = f"{value:,.0f}" + (f" {currency}" if currency else "")
        return text + (" / month" if unit.endswith("per month") else "")
    if unit == "per month":
        return f"{value:.1f} / month"
    return f"{value:.2f}"


class Reasons:
    """Centres of the segments in the behaviour space, and the segments' medians of each measure."""

    def __init__(self, space, measures: pd.DataFrame, labels: pd.Series, currency: str | None = None):
        self.space, self.currency = space, currency
        Z = space.transform(measures)
        lab = labels.to_numpy()
        self.segments = np.sort(np.unique(lab))
        self.centres = np.stack([Z[lab == s].mean(0) for s in self.segments])
        self.medians = measures.groupby(lab).median(numeric_only=True)
        self.names = list(space.feature_names_)

    @classmethod
    def from_arrays(cls, space, arrays: dict, measure_names: list[str], currency: str | None) -> "Reasons":
        r = cls.__new__(cls)
        r.space, r.currency, r.names = space, currency, list(space.feature_names_)
        r.segments, r.centres = arrays["reasons.segments"], arrays["reasons.centres"]
        r.medians = pd.DataFrame(arrays["reasons.medians"], index=r.segments, columns=measure_names)
        return r

    def _terms(self, measures: pd.DataFrame, segments: np.ndarray):
        """Per customer: the index of its own and of its next nearest segment, and each feature's term."""
        Z = self.space.transform(measures)
        d2 = ((Z[:, None, :] - self.centres[None]) ** 2).sum(-1)
        own = np.searchsorted(self.segments, segments)
        d2[np.arange(len(Z)), own] = np.inf
        nxt = d2.argmin(1)
        # rounded, and ties kept in the features' order: two measures equal for a customer (its one credit is its
        # income) differ only by the engine's adding order, which must not pick the reason
        return own, nxt, np.round((Z - self.centres[nxt]) ** 2 - (Z - self.centres[own]) ** 2, 9)

    def explain(self, measures: pd.DataFrame, segments: np.ndarray, most: int = 3) -> list[list[dict]]:
        """Per customer, its `most` reasons: feature, what it is, its value, its segment's and the next one's."""
        own, nxt, terms = self._terms(measures, np.asarray(segments))
        out = []
        for i in range(len(terms)):
            reasons = []
            for j in np.argsort(-terms[i], kind="stable")[:most]:
                if terms[i, j] <= 0:
                    continue
                measure, what, unit = SAID.get(self.names[j], (self.names[j], self.names[j].replace("_", " "), ""))
                s, t = self.segments[own[i]], self.segments[nxt[i]]
                reasons.append({"feature": self.names[j], "what": what, "value": measures[measure].iloc[i],
                                "segment": int(s), "segment_value": self.medians.loc[s, measure],
                                "next": int(t), "next_value": self.medians.loc[t, measure], "unit": unit,
                                "weight": float(terms[i, j])})
            out.append(reasons)
        return out

    def phrases(self, reasons: list[dict]) -> str:
        return "; ".join(f"{r['what']} {_fmt(r['value'], r['unit'], self.currency)} (its segment: "
                         f"{_fmt(r['segment_value'], r['unit'], self.currency)}; segment {r['next']}: "
                         f"{_fmt(r['next_value'], r['unit'], self.currency)})" for r in reasons)

    def column(self, measures: pd.DataFrame, segments: np.ndarray, most: int = 3) -> list[str]:
        """`phrases` of every customer's reasons, computed for all customers at once (as `explain` words them):
        the segments' medians are formatted once, each customer's own values once per reason."""
        n = len(measures)
        if n == 0:
            return []
        own, nxt, terms = self._terms(measures, np.asarray(segments))
        said = [SAID.get(f, (f, f.replace("_", " "), "")) for f in self.names]
        values = np.column_stack([measures[m].to_numpy(dtype=np.float64) for m, _, _ in said])
        medians = [[_fmt(v, unit, self.currency) for v in self.medians[m].to_numpy(dtype=np.float64)]
                   for m, _, unit in said]  # [feature][segment position]
        top = np.argsort(-terms, axis=1, kind="stable")[:, :most]
        rows = np.arange(n)
        parts = np.full((n, most), "", dtype=object)
        for r in range(most):
            j = top[:, r]
            keep = terms[rows, j] > 0
            for feature in np.unique(j[keep]):
                idx = np.flatnonzero(keep & (j == feature))
                _, what, unit = said[feature]
                mine = _format_many(values[idx, feature], unit, self.currency)
                med = medians[feature]
                parts[idx, r] = [f"{what} {a} (its segment: {med[o]}; segment {self.segments[t]}: {med[t]})"
                                 for a, o, t in zip(mine, own[idx], nxt[idx])]
        return ["; ".join(p for p in row if p) for row in parts]


def _format_many(values: np.ndarray, unit: str, currency: str | None) -> list[str]:
    """`_fmt` of many values of one unit, formatted in one pass (a missing value is '-')."""
    text = pd.Series(values, dtype="float64")
    present = text.dropna()
    if unit == "share":
        out = (present * 100).round().map("{:.0f}%".format)
    elif unit.startswith("money"):
        out = present.map("{:,.0f}".format).astype(object) + (f" {currency}" if currency else "") + \
            (" / month" if unit.endswith("per month") else "")
    elif unit == "per month":
        out = present.map("{:.1f} / month".format)
    else:
        out = present.map("{:.2f}".format)
    return out.reindex(text.index).astype(object).where(text.notna(), "-").tolist()
