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

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.ids import as_id_type
from ..errors import DataError

FOUR_FIFTHS = 0.8
MIN_GROUP = 30  # smaller groups (and reference groups) are reported but not flagged: too few customers


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
                           right=False).astype(str),
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


def fairness(labels: pd.Series, attributes: pd.DataFrame, by_segment: pd.DataFrame | None = None,
             portfolio: float | None = None, risk: pd.Series | None = None) -> tuple[pd.DataFrame, dict]:
    """The audit table (one row per attribute, group and segment) and what it found: `labels` each customer's
    segment, `attributes` its groups, `by_segment` the segments' outcome rates and `portfolio` the rate they are
    judged against (None: no outcomes), `risk` each customer's estimated risk (None: no outcome model)."""
    a = attributes.reindex(labels.index)
    if by_segment is not None:
        from .inclusion import favourable_segments

        favourable = favourable_segments(by_segment, portfolio)
        basis = (f"segments whose default rate, with its whole 95% interval, is at or below the portfolio's "
                 f"({portfolio:.1%})")
    else:
        favourable, basis = [], "no outcomes: no favourable segments to audit"
    rows = []
    member = labels.isin(favourable)
    for attribute in a.columns:
        groups = a[attribute].fillna("unknown").replace("", "unknown")
        rates = member.groupby(groups).mean()
        counts = member.groupby(groups).sum()
        sizes = groups.value_counts()
        eligible = rates[sizes.reindex(rates.index) >= MIN_GROUP]
        best_group = eligible.idxmax() if len(eligible) else None
        best = eligible.max() if len(eligible) else np.nan
        for group, n in sizes.items():
            in_group = groups == group
            shares = labels[in_group].value_counts(normalize=True)
            ratio = rates[group] / best if best and best > 0 else np.nan
            lo, hi = (ratio_interval(int(counts[group]), int(n), int(counts[best_group]), int(sizes[best_group]))
                      if best_group is not None and best and best > 0 else (np.nan, np.nan))
            flagged = bool(favourable and n >= MIN_GROUP and ratio < FOUR_FIFTHS and hi < 1)
            for s in sorted(labels.unique()):
                rows.append({"attribute": attribute, "group": group, "customers": int(n), "segment": int(s),
                             "share_in_segment": float(shares.get(s, 0.0)),
                             "mean_risk": float(risk[in_group].mean()) if risk is not None else np.nan,
                             "favourable_rate": float(rates[group]) if favourable else np.nan,
                             "ratio_to_most_favoured": float(ratio) if favourable else np.nan,
                             "ratio_low": lo if favourable else np.nan, "ratio_high": hi if favourable else np.nan,
                             "flagged": flagged})
    table = pd.DataFrame(rows)
    flagged = table[table["flagged"]].drop_duplicates(["attribute", "group"])
    found = {"favourable": favourable, "basis": basis, "flagged": flagged[["attribute", "group", "customers",
                                                                           "favourable_rate",
                                                                           "ratio_to_most_favoured", "ratio_low",
                                                                           "ratio_high"]]}
    return table, found
