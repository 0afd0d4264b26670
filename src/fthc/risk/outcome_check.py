"""The honest figures of a segmentation's risk, from one fit: how well the segments (and, where outcomes were
learnt, each customer's estimated risk and grade) separate the outcomes, with the counts and intervals they rest
on.

Every figure is out of sample twice over: in time (each customer with an outcome is placed, and scored, from its
observation window before the outcome's month, so what the outcome causes - arrears, sanction interest - cannot
predict it) and in outcome (a segment's rate, and the risk model, are learnt on the other folds' customers,
never on the customer's own outcome). A segment's rate counts the customers with an outcome placed in it as of
their outcome's date, not by their whole history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from .intervals import wilson_interval
from .separation import auc_with_interval, out_of_fold_rates, stratified_folds


def outcome_check(seg, known, as_of: pd.DataFrame) -> dict:
    learnt = seg.outcome_model_ is not None
    placed = as_of  # the window measures of the customers with an outcome
    ids = placed.index
    y = known.y.loc[ids].to_numpy().astype(int)
    if learnt:
        est = seg.outcome_model_
        fold = est.fold_.loc[ids].to_numpy()
        oof = est.oof_.loc[ids]
    else:
        fold = stratified_folds(y, max(2, min(5, int(np.bincount(y, minlength=2).min()))), seg.seed)
    z = seg.model_.transform(placed) if seg.representation_ == "behaviour" else None
    out: dict = {"learnt": learnt, "source": known.source, "dated": known.date is not None,
                 "customers_with_outcome": int(len(ids)), "positives": int(y.sum()), "window": seg.window_}
    if z is not None:  # each customer placed from its window before the outcome's date
        if learnt and seg.risk_weight_:
            from .aware import with_axis

            labels = seg.model_.head_.predict(with_axis(z, oof["logit"].to_numpy(), seg.risk_weight_,
                                                        seg.risk_scale_))
        else:
            labels = seg.model_.head_.predict(z)
        out["placed_by"] = (f"{seg.window_}-month window before the outcome's month" if seg.window_ else
                            "history before the outcome's month") if known.date is not None else \
            "latest window (the outcomes have no dates)"
    else:  # a network method: segments as fitted (its series before a date are not rebuilt)
        labels = seg.labels_.reindex(ids).to_numpy()
        out["placed_by"] = "whole history (a network method's segments)"
    out["segment_auc"] = auc_with_interval(y, out_of_fold_rates(labels, y, fold))
    out["placed"] = pd.Series(labels, index=ids, name="segment")
    if learnt:
        out["customer_auc"] = auc_with_interval(y, oof["risk"].to_numpy())
        grades = est.grades_.grade(oof["risk"].to_numpy())
        out["grade_auc"] = auc_with_interval(y, grades.astype(float))
        out["grades"] = est.grades_.table
        out["brier"] = float(np.mean((oof["risk"].to_numpy() - y) ** 2))
        out["brier_base"] = float(np.mean((y.mean() - y) ** 2))
        from .model import calibration_table

        out["calibration"] = calibration_table(y, oof["risk"].to_numpy())
        out["model"] = est.model_.chosen_
        out["signal"] = est.signal_
        out["model_choice"] = est.model_.choice_
        if seg.risk_choice_ is not None and 0.0 in seg.risk_choice_.index:
            out["unsupervised_auc"] = float(seg.risk_choice_.loc[0.0, "segment_auc"])
        out["drivers"] = est.importance(seg.risk_inputs_.loc[ids])
    else:  # the baseline beside it: k-means on summary features, as an analyst would
        out["baseline_auc"] = _baseline(seg, ids, y, fold, len(np.unique(seg.labels_)))
    out["by_segment"] = by_segment(seg, out["placed"], known.y.loc[ids])
    return out


def _baseline(seg, ids, y, fold, k: int) -> dict:
    """k-means on standardised summary features of every customer, each customer with an outcome placed from
    its summary features over its window before the outcome's date."""
    from ..features import summary_features

    def signed_log(f: pd.DataFrame) -> np.ndarray:
        X = f.to_numpy(dtype=np.float64)
        return np.copysign(np.log1p(np.abs(X)), X)

    X = signed_log(summary_features(seg.sums_))
    mu, sd = X.mean(0), np.where(X.std(0) > 0, X.std(0), 1)
    km = KMeans(max(k, 2), n_init=10, random_state=seg.seed).fit((X - mu) / sd)
    placed = (signed_log(summary_features(seg.as_of_sums_.loc[ids])) - mu) / sd
    return auc_with_interval(y, out_of_fold_rates(km.predict(placed), y, fold))


def by_segment(seg, placed: pd.Series, y: pd.Series) -> pd.DataFrame:
    """Per segment: its customers; those with an outcome placed in it as of their outcome's date, their rate
    and its Wilson interval; those without an outcome, and (where learnt) their mean estimated risk with the
    interval of that mean over the model's bootstrap refits."""
    labels = seg.labels_
    invisible = labels[~labels.index.isin(y.index)]
    boots, index = None, None
    if seg.outcome_model_ is not None:
        inputs = seg.risk_inputs_
        have = invisible.index[invisible.index.isin(inputs.index)]
        have = have[~seg.outcome_model_.thin(inputs.loc[have])]  # those too thin to score have no risk
        boots, index = seg.outcome_model_.boot_risks(inputs.loc[have]), have
    rows = {}
    for s in sorted(labels.unique()):
        with_y = y[placed == s]
        n, k = int(len(with_y)), int(with_y.sum())
        lo, hi = wilson_interval(k, n)
        none = invisible[invisible == s]
        row = {"customers": int((labels == s).sum()), "with_outcome": n, "without_outcome": int(len(none)),
               "positives": k, "rate": k / n if n else np.nan, "rate_low": lo, "rate_high": hi}
        if boots is not None:
            risk = seg.risk_["risk"].reindex(none.index)
            cols = index.get_indexer(none.index[none.index.isin(index)])
            means = boots[:, cols].mean(1) if len(cols) else np.array([np.nan])
            row |= {"risk_without_outcome": float(risk.mean()) if len(none) else np.nan,
                    "risk_low_without_outcome": float(np.percentile(means, 2.5)) if len(cols) else np.nan,
                    "risk_high_without_outcome": float(np.percentile(means, 97.5)) if len(cols) else np.nan}
        rows[s] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "segment"
    return out
