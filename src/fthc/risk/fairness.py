"""A fairness audit of a segmentation, where the data says who customers are (Berka: gender from the birth
number, age band, region; a table: `--attributes FILE` with customer_id and columns of its own).

Attributes are never used for fitting: the audit reads the fitted segments beside them. Per attribute and group:
its customers, their share in each segment, their mean estimated risk (where outcomes were learnt); and for the
favourable segments (those whose customers with an outcome default at or below the portfolio's rate, or without
outcomes the segments of lowest estimated risk) each group's rate of membership against the most favoured
group's: below 0.8 (the four-fifths rule) the group is flagged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.ids import as_id_type
from ..errors import DataError

FOUR_FIFTHS = 0.8
MIN_GROUP = 20  # smaller groups are reported but not flagged: their rates rest on too few customers


def berka_attributes(context: pd.DataFrame) -> pd.DataFrame:
    """Gender, age band and region of each Berka account's owner."""
    age = context["age"]
    return pd.DataFrame({
        "gender": np.where(context["female"].astype("boolean").fillna(False), "F", "M"),
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
    frame = raw.drop(columns=[id_col]).astype(str)[~foreign]
    frame.index = ids[~foreign].to_numpy()
    if frame.index.duplicated().any():
        raise DataError(f"customer {str(frame.index[frame.index.duplicated()][0])!r} appears twice", file=path,
                        column=id_col, expected="one row per customer")
    return frame[frame.index.isin(customers)]


def fairness(seg, attributes: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The audit table (one row per attribute, group and segment) and what it found."""
    labels = seg.labels_
    a = attributes.reindex(labels.index)
    risk = seg.risk_["risk"] if seg.outcome_model_ is not None else None
    by_segment = seg.outcome_check_["by_segment"] if seg.outcome_check_ is not None else None
    if by_segment is not None and seg.outcome_model_ is not None:
        portfolio = float(seg.outcomes_.y.mean())
        favourable = [s for s, r in by_segment.iterrows() if r["with_outcome"] and r["rate"] <= portfolio]
        basis = f"segments whose default rate is at or below the portfolio's ({portfolio:.1%})"
    elif by_segment is not None:
        portfolio = float(by_segment["positives"].sum() / max(by_segment["with_outcome"].sum(), 1))
        favourable = [s for s, r in by_segment.iterrows() if r["with_outcome"] and r["rate"] <= portfolio]
        basis = f"segments whose default rate is at or below the portfolio's ({portfolio:.1%})"
    else:
        favourable, basis = [], "no outcomes: no favourable segments to audit"
    rows = []
    for attribute in a.columns:
        groups = a[attribute].fillna("unknown")
        member = labels.isin(favourable)
        rates = member.groupby(groups).mean()
        sizes = groups.value_counts()
        eligible = rates[sizes.reindex(rates.index) >= MIN_GROUP]
        best = eligible.max() if len(eligible) else np.nan
        for group, n in sizes.items():
            in_group = groups == group
            shares = labels[in_group].value_counts(normalize=True)
            ratio = rates[group] / best if best and best > 0 else np.nan
            for s in sorted(labels.unique()):
                rows.append({"attribute": attribute, "group": group, "customers": int(n), "segment": int(s),
                             "share_in_segment": float(shares.get(s, 0.0)),
                             "mean_risk": float(risk[in_group].mean()) if risk is not None else np.nan,
                             "favourable_rate": float(rates[group]) if favourable else np.nan,
                             "ratio_to_most_favoured": float(ratio) if favourable else np.nan,
                             "flagged": bool(favourable and n >= MIN_GROUP and ratio < FOUR_FIFTHS)})
    table = pd.DataFrame(rows)
    flagged = table[table["flagged"]].drop_duplicates(["attribute", "group"])
    found = {"favourable": favourable, "basis": basis, "flagged": flagged[["attribute", "group", "customers",
                                                                           "favourable_rate",
                                                                           "ratio_to_most_favoured"]]}
    return table, found


def fairness_html(table: pd.DataFrame, found: dict, esc) -> str:
    """Per attribute: each group's membership of the favourable segments against the most favoured group's."""
    if table.empty:
        return ""
    parts = [f"<p>Attributes were <b>not</b> used to fit the segments. Favourable: {esc(found['basis'])} "
             f"({', '.join(map(str, found['favourable'])) or 'none'}). A group whose rate of membership is below "
             f"{FOUR_FIFTHS:.0%} of the most favoured group's is flagged (groups of fewer than {MIN_GROUP} customers "
             "are shown, not flagged).</p>"]
    per_group = table.drop_duplicates(["attribute", "group"]).copy()
    with_risk = per_group["mean_risk"].notna().any()   # an outcome model was learnt: its estimates per group
    for attribute, g in per_group.groupby("attribute", sort=False):
        rows = "".join(
            f"<tr{' class=flag' if r['flagged'] else ''}><td>{esc(r['group'])}</td><td>{int(r['customers']):,}</td>"
            f"<td>{'' if pd.isna(r['favourable_rate']) else f'{r.favourable_rate:.1%}'}</td>"
            f"<td>{'' if pd.isna(r['ratio_to_most_favoured']) else f'{r.ratio_to_most_favoured:.2f}'}</td>"
            + (f"<td>{'' if pd.isna(r['mean_risk']) else f'{r.mean_risk:.1%}'}</td>" if with_risk else "")
            + f"<td>{'below 4/5' if r['flagged'] else ''}</td></tr>" for _, r in g.iterrows())
        parts.append(f"<h3>{esc(attribute)}</h3><table class='data'><tr><th>group</th><th>customers</th>"
                     "<th>in favourable segments</th><th>ratio to the most favoured</th>"
                     + ("<th>mean estimated risk</th>" if with_risk else "")
                     + f"<th>four-fifths rule</th></tr>{rows}</table>")
    return "".join(parts)
