"""A fairness audit of a segmentation, where the data says who customers are (Berka: gender from the birth
number, age band, region; a table: `--attributes FILE` with customer_id and columns of its own).

Attributes are never used for fitting: the audit reads the fitted segments beside them. Per attribute and group:
its customers, their share in each segment, their mean estimated risk (where outcomes were learnt); and for the
favourable segments (those whose customers with an outcome default at or below the portfolio's rate, or without
outcomes none) each group's rate of membership against the most favoured group's, with the 95% interval of that
ratio (Katz's log interval for a ratio of two proportions). A group is flagged only where the evidence says so:
the ratio below 0.8 (the four-fifths rule) *and* its whole interval below 1, with both groups of at least
`MIN_GROUP` customers. A missing attribute is the group "unknown".
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.ids import as_id_type
from ..errors import DataError
from .intervals import wilson_interval

FOUR_FIFTHS = 0.8
MIN_GROUP = 30  # smaller groups (and reference groups) are reported but not flagged: too few customers
MIN_OUTCOMES = 10  # fewer defaults or non-defaults in a group: no AUC and no calibration verdict for it
WORST_SHARE = 0.2  # the worst grades: the fewest highest grades that hold at least this share of the graded


def ratio_interval(k1: int, n1: int, k0: int, n0: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of (k1/n1) / (k0/n0) (Katz et al. 1978, on the log scale; 0.5 added to empty cells)."""
    if n1 == 0 or n0 == 0:
        return float("nan"), float("nan")
    if k1 == 0 or k0 == 0:
        k1, k0, n1, n0 = k1 + 0.5, k0 + 0.5, n1 + 0.5, n0 + 0.5
    ratio = (k1 / n1) / (k0 / n0)
    se = np.sqrt(max(1 / k1 - 1 / n1 + 1 / k0 - 1 / n0, 0.0))
    return float(ratio * np.exp(-z * se)), float(ratio * np.exp(z * se))


def berka_attributes(context: pd.DataFrame) -> pd.DataFrame:
    """Gender, age band and region of each Berka account's owner."""
    age = context["age"]
    female = context["female"].astype("boolean")
    return pd.DataFrame({
        "gender": np.where(female.isna(), "unknown", np.where(female.fillna(False), "F", "M")),
        "age_band": pd.cut(age, [0, 30, 45, 60, 200], labels=["under 30", "30-44", "45-59", "60+"],
                           right=False).astype(object).fillna("unknown"),
        "region": context["region"].astype(str)}, index=context.index)


def read_attributes(path, customers: pd.Index, id_col: str = "customer_id") -> pd.DataFrame:
    """An attributes file (CSV or Parquet): customer_id and any columns of groups, keyed like the customers."""
    from ..data.tables import read_keyed_file

    path = Path(path)
    raw, _ = read_keyed_file(path, "attributes file", [])
    if id_col not in raw.columns:
        raise DataError(f"missing column {id_col!r}", file=path, column=id_col,
                        expected=f"a column {id_col!r} and one column per attribute")
    if len(raw.columns) < 2:
        raise DataError("no attribute columns", file=path, expected="customer_id and one column per attribute")
    ids, foreign = as_id_type(raw[id_col], customers.to_numpy())
    values = raw.drop(columns=[id_col])
    empty = values.isna() | (values.astype("string").apply(lambda c: c.str.strip()) == "")
    frame = values.astype(str).mask(empty, "unknown")[~foreign]
    frame.index = ids[~foreign].to_numpy()
    if frame.index.duplicated().any():
        raise DataError(f"customer {str(frame.index[frame.index.duplicated()][0])!r} appears twice", file=path,
                        column=id_col, expected="one row per customer")
    return frame[frame.index.isin(customers)]


def mean_interval(values, z: float = 1.96) -> tuple[float, float, float]:
    """Mean of `values` (missing ones left out) and its normal 95% interval: how precisely the group's customers
    pin their mean, not the model's own uncertainty."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    half = z * float(v.std(ddof=1)) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
    return mean, mean - half, mean + half


@dataclass(frozen=True)
class GroupRisk:
    """How the outcome model treats one group, on its customers whose outcome was learnt."""

    with_outcome: int
    defaults: int
    observed_rate: float  # their default rate, with its Wilson interval
    observed_low: float
    observed_high: float
    estimated_rate: float  # the mean of their out-of-fold estimates
    expected_low: float  # where the observed rate falls 95% of the time were those estimates right
    expected_high: float
    calibration: str  # "calibrated", "mis-calibrated: under-estimated" / "...: over-estimated", "" unjudged
    auc: float  # how well the risk ranks the group's customers, with its bootstrap interval
    auc_low: float
    auc_high: float
    risk_note: str


def group_risk(risk, outcome, z: float = 1.96) -> GroupRisk:
    """A group's calibration and AUC from its customers' out-of-fold `risk` and 0/1 `outcome`. The range the
    observed rate is judged against is the spread of a sum of independent Bernoulli(risk) outcomes (normal
    approximation, sound from `MIN_OUTCOMES` of each outcome): the rate were the estimates right."""
    from .separation import auc_with_interval

    risk, y = np.asarray(risk, dtype=np.float64), np.asarray(outcome, dtype=np.float64)
    ok = ~np.isnan(risk) & ~np.isnan(y)
    risk, y = risk[ok], y[ok].astype(int)
    n, k = len(y), int(y.sum())
    nan = float("nan")
    if n == 0:
        return GroupRisk(0, 0, nan, nan, nan, nan, nan, nan, "", nan, nan, nan, "no customer with an outcome")
    rate, estimate = k / n, float(risk.mean())
    lo, hi = wilson_interval(k, n, z)
    half = z * float(np.sqrt((risk * (1 - risk)).sum())) / n
    low, high = max(estimate - half, 0.0), min(estimate + half, 1.0)
    if min(k, n - k) < MIN_OUTCOMES:
        return GroupRisk(n, k, rate, lo, hi, estimate, low, high, "", nan, nan, nan,
                         f"{k} defaults and {n - k} non-defaults (fewer than {MIN_OUTCOMES} of one): no AUC or "
                         "calibration verdict")
    verdict = ("mis-calibrated: under-estimated" if rate > high else
               "mis-calibrated: over-estimated" if rate < low else "calibrated")
    auc = auc_with_interval(y, risk)
    return GroupRisk(n, k, rate, lo, hi, estimate, low, high, verdict, auc["auc"], auc["auc_low"], auc["auc_high"],
                     "")


def group_order(groups: pd.Series) -> list:
    """The groups in their natural order where every label names a number (age or income bands: 'under 30',
    '30-44', '45-59', '60+'), else the largest first (ties by name); 'unknown' last either way."""
    sizes = groups.value_counts()
    known = [g for g in sizes.index if g != "unknown"]

    def number(label):
        text = str(label).replace(",", "")
        found = re.search(r"\d+(?:\.\d+)?", text)
        below = re.match(r"\s*(under|below|less than|<)", text, re.IGNORECASE) is not None
        return None if found is None else (float(found.group()), -1 if below else 0)

    keys = {g: number(g) for g in known}
    if known and all(key is not None for key in keys.values()):
        ordered = sorted(known, key=lambda g: (keys[g], str(g)))
    else:
        ordered = sorted(known, key=lambda g: (-sizes[g], str(g)))
    return ordered + (["unknown"] if "unknown" in sizes.index else [])


def worst_grades(grades: pd.Series, share: float = WORST_SHARE) -> list[int]:
    """The fewest highest grades that together hold at least `share` of the graded customers (grade 0: none)."""
    counts = grades[grades > 0].value_counts().sort_index(ascending=False)
    if counts.empty:
        return []
    held = counts.cumsum() / counts.sum()
    return [int(g) for g in counts.index[: int(np.searchsorted(held.to_numpy(), share - 1e-12)) + 1]]


def fairness(labels: pd.Series, attributes: pd.DataFrame, by_segment: pd.DataFrame | None = None,
             portfolio: float | None = None, risk: pd.Series | None = None, learnt: pd.DataFrame | None = None,
             grades: pd.Series | None = None) -> tuple[pd.DataFrame, dict]:
    """The audit table (one row per attribute, group and segment) and what it found: `labels` each customer's
    segment, `attributes` its groups, `by_segment` the segments' outcome rates and `portfolio` the rate they are
    judged against (None: no outcomes), `risk` each customer's estimated risk (None: no outcome model),
    `learnt` the out-of-fold `risk` and 0/1 `outcome` of the customers the model learnt from (None: no
    calibration by group), `grades` each customer's grade (0: none; None: no grades)."""

    a = attributes.reindex(labels.index)
    if by_segment is not None:
        from .inclusion import favourable_segments

        favourable = favourable_segments(by_segment, portfolio)
        basis = (f"segments whose default rate, with its whole 95% interval, is at or below the portfolio's "
                 f"({portfolio:.1%})")
    else:
        favourable, basis = [], "no outcomes: no favourable segments to audit"
    if learnt is not None:
        learnt = learnt[learnt.index.isin(labels.index)]
    graded = grades.reindex(labels.index).fillna(0).astype(int) if grades is not None else None
    worst = worst_grades(graded) if graded is not None else []
    rows, spread = [], []
    member = labels.isin(favourable)
    for attribute in a.columns:
        groups = a[attribute].fillna("unknown").replace("", "unknown")
        rates = member.groupby(groups).mean()
        counts = member.groupby(groups).sum()
        sizes = groups.value_counts()
        eligible = rates[sizes.reindex(rates.index) >= MIN_GROUP]
        best_group = eligible.idxmax() if len(eligible) else None
        best = eligible.max() if len(eligible) else np.nan
        for group in group_order(groups):
            n = sizes[group]
            in_group = groups == group
            shares = labels[in_group].value_counts(normalize=True)
            ratio = rates[group] / best if best and best > 0 else np.nan
            reference = bool(favourable) and group == best_group
            lo, hi = (ratio_interval(int(counts[group]), int(n), int(counts[best_group]), int(sizes[best_group]))
                      if best_group is not None and best and best > 0 and not reference else (np.nan, np.nan))
            flagged = bool(favourable and n >= MIN_GROUP and ratio < FOUR_FIFTHS and hi < 1)
            mean, mean_lo, mean_hi = mean_interval(risk[in_group]) if risk is not None else (np.nan,) * 3
            fit = {}
            if learnt is not None:
                of_group = learnt[(groups.reindex(learnt.index) == group).to_numpy()]
                fit = asdict(group_risk(of_group["risk"], of_group["outcome"]))
            worst_of = {}
            if graded is not None:
                g = graded[in_group]
                g = g[g > 0]
                bad = int(g.isin(worst).sum())
                w_lo, w_hi = wilson_interval(bad, len(g))
                worst_of = {"graded": len(g), "worst_grade_share": bad / len(g) if len(g) else np.nan,
                            "worst_grade_low": w_lo, "worst_grade_high": w_hi}
                spread += [{"attribute": attribute, "group": group, "grade": int(grade), "customers": int(c),
                            "share": c / len(g)} for grade, c in g.value_counts().sort_index().items()]
            for s in sorted(labels.unique()):
                rows.append({"attribute": attribute, "group": group, "customers": int(n), "segment": int(s),
                             "share_in_segment": float(shares.get(s, 0.0)),
                             "mean_risk": mean, "mean_risk_low": mean_lo, "mean_risk_high": mean_hi,
                             "favourable_rate": float(rates[group]) if favourable else np.nan,
                             "ratio_to_most_favoured": float(ratio) if favourable else np.nan,
                             "ratio_low": lo if favourable else np.nan, "ratio_high": hi if favourable else np.nan,
                             "reference": reference, "flagged": flagged, **fit, **worst_of})
    table = pd.DataFrame(rows)
    flagged = table[table["flagged"]].drop_duplicates(["attribute", "group"])
    found = {"favourable": favourable, "basis": basis, "flagged": flagged[["attribute", "group", "customers",
                                                                           "favourable_rate",
                                                                           "ratio_to_most_favoured", "ratio_low",
                                                                           "ratio_high"]],
             "worst_grades": worst,
             "grades": pd.DataFrame(spread, columns=["attribute", "group", "grade", "customers", "share"])}
    if learnt is not None:
        per_group = table.drop_duplicates(["attribute", "group"])
        found["miscalibrated"] = per_group[per_group["calibration"].str.startswith("mis-calibrated")][
            ["attribute", "group", "with_outcome", "observed_rate", "estimated_rate", "expected_low",
             "expected_high", "calibration"]]
    return table, found
