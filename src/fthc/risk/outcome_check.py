"""The honest figures of a segmentation's risk, from one fit: how well the segments (and, where outcomes were
learnt, each customer's estimated risk) separate the outcomes, with the counts and intervals they rest on.

Every figure is out of sample twice over: in time (each customer with an outcome is placed, and scored, from its
history before the outcome's date, so what the outcome causes - arrears, sanction interest - cannot predict it)
and in outcome (a segment's rate, and the risk model, are learnt on the other folds' customers, never on the
customer's own outcome).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from .intervals import wilson_interval
from .separation import auc_with_interval, out_of_fold_rates, stratified_folds


def outcome_check(seg, known, as_of: pd.DataFrame | None, measures: pd.DataFrame) -> dict:
    learnt = seg.outcome_model_ is not None
    placed = as_of if as_of is not None else measures.loc[measures.index.intersection(known.y.index)]
    ids = placed.index
    y = known.y.loc[ids].to_numpy().astype(int)
    if learnt:
        fold = seg.outcome_model_.fold_
        oof = seg.outcome_model_.oof_
    else:
        fold = stratified_folds(y, max(2, min(5, int(np.bincount(y, minlength=2).min()))), seg.seed)
    z = seg.model_.transform(placed) if seg.representation_ == "behaviour" else None
    out: dict = {"learnt": learnt, "source": known.source, "dated": known.date is not None,
                 "customers_with_outcome": int(len(ids)), "positives": int(y.sum())}
    if z is not None:  # each customer placed from its history before the outcome's date
        if learnt and seg.risk_weight_:
            from .aware import with_axis

            labels = seg.model_.head_.predict(with_axis(z, oof[3], seg.risk_weight_, seg.risk_scale_))
        else:
            labels = seg.model_.head_.predict(z)
        out["segment_auc"] = auc_with_interval(y, out_of_fold_rates(labels, y, fold))
        out["placed_by"] = "history before the outcome's date" if known.date is not None else "whole history"
    else:  # a network method: segments as fitted (its series before a date are not rebuilt)
        labels = seg.labels_.reindex(ids).to_numpy()
        out["segment_auc"] = auc_with_interval(y, out_of_fold_rates(labels, y, fold))
        out["placed_by"] = "whole history (a network method's segments)"
    if learnt:
        out["customer_auc"] = auc_with_interval(y, oof[0])
        out["brier"] = float(np.mean((oof[0] - y) ** 2))
        out["brier_base"] = float(np.mean((y.mean() - y) ** 2))
        from .model import calibration_table

        out["calibration"] = calibration_table(y, oof[0])
        if seg.risk_choice_ is not None and 0.0 in seg.risk_choice_.index:
            out["unsupervised_auc"] = float(seg.risk_choice_.loc[0.0, "segment_auc"])
        out["weights"] = pd.Series(seg.outcome_model_.weights_, index=seg.feature_space_.feature_names_) \
            .sort_values(key=np.abs, ascending=False)
    else:  # the baseline beside it: k-means on summary features, as an analyst would
        out["baseline_auc"] = _baseline(seg, ids, y, fold, len(np.unique(seg.labels_)))
    out["by_segment"] = by_segment(seg, known)
    return out


def _baseline(seg, ids, y, fold, k: int) -> dict:
    """k-means on standardised summary features of every customer, each customer with an outcome placed from
    its summary features before the outcome's date."""
    from ..features import summary_features

    def signed_log(f: pd.DataFrame) -> np.ndarray:
        X = f.to_numpy(dtype=np.float64)
        return np.copysign(np.log1p(np.abs(X)), X)

    X = signed_log(summary_features(seg.sums_))
    mu, sd = X.mean(0), np.where(X.std(0) > 0, X.std(0), 1)
    km = KMeans(max(k, 2), n_init=10, random_state=seg.seed).fit((X - mu) / sd)
    before = seg.as_of_sums_ if seg.as_of_sums_ is not None else seg.sums_
    placed = (signed_log(summary_features(before.loc[ids])) - mu) / sd
    return auc_with_interval(y, out_of_fold_rates(km.predict(placed), y, fold))


def by_segment(seg, known) -> pd.DataFrame:
    """Per segment: customers, with and without an outcome, the observed rate with its Wilson interval, and
    (where learnt) the mean estimated risk of those without an outcome."""
    d = pd.DataFrame({"segment": seg.labels_, "outcome": known.y.reindex(seg.labels_.index)})
    if seg.outcome_model_ is not None:
        d = d.join(seg.risk_[["risk", "risk_low", "risk_high"]])
    rows = {}
    for s, g in d.groupby("segment"):
        has = g["outcome"].notna()
        n, k = int(has.sum()), int(g.loc[has, "outcome"].sum())
        lo, hi = wilson_interval(k, n)
        row = {"customers": len(g), "with_outcome": n, "without_outcome": int((~has).sum()), "positives": k,
               "rate": k / n if n else np.nan, "rate_low": lo, "rate_high": hi}
        if "risk" in g:
            none = g.loc[~has]
            row |= {"risk_without_outcome": float(none["risk"].mean()) if len(none) else np.nan,
                    "risk_low_without_outcome": float(none["risk_low"].mean()) if len(none) else np.nan,
                    "risk_high_without_outcome": float(none["risk_high"].mean()) if len(none) else np.nan}
        rows[s] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "segment"
    return out
