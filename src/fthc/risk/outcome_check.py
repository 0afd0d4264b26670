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


def outcome_check(known, ids: pd.Index, placed: np.ndarray | None, labels: pd.Series, *, estimator=None,
                  window: int | None = None, seed: int = 0, risk_choice: pd.DataFrame | None = None,
                  risk_inputs: pd.DataFrame | None = None, risk: pd.DataFrame | None = None,
                  sums: pd.DataFrame | None = None, as_of_sums: pd.DataFrame | None = None) -> dict:
    """The honest figures of the customers `ids` with an outcome in `known` (an `Outcomes`).

    `placed`: each one's segment from its window before the outcome (None: a network method, whose segments are
    taken as fitted); `labels`: every fitted customer's segment. With the cross-fitted outcome model
    (`estimator`, a `RiskEstimator`): its inputs (`risk_inputs`), every customer's `risk`, and the risk weights
    tried (`risk_choice`); without one, the k-means baseline on the summary features of `sums` (every customer)
    and `as_of_sums` (the customers with an outcome, over their windows), seeded by `seed`. `window`: the months
    each window reads (None: all)."""
    learnt = estimator is not None
    y = known.y.loc[ids].to_numpy().astype(int)
    if learnt:
        est = estimator
        fold = est.fold_.loc[ids].to_numpy()
        oof = est.oof_.loc[ids]
    else:
        fold = stratified_folds(y, max(2, min(5, int(np.bincount(y, minlength=2).min()))), seed)
    out: dict = {"learnt": learnt, "source": known.source, "dated": known.date is not None,
                 "customers_with_outcome": int(len(ids)), "positives": int(y.sum()), "window": window}
    if placed is not None:  # each customer placed from its window before the outcome's date
        out["placed_by"] = (f"{window}-month window before the outcome's month" if window else
                            "history before the outcome's month") if known.date is not None else \
            "latest window (the outcomes have no dates)"
    else:  # a network method: segments as fitted (its series before a date are not rebuilt)
        placed = labels.reindex(ids).to_numpy()
        out["placed_by"] = "whole history (a network method's segments)"
    out["segment_auc"] = auc_with_interval(y, out_of_fold_rates(placed, y, fold))
    out["placed"] = pd.Series(placed, index=ids, name="segment")
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
        if risk_choice is not None and 0.0 in risk_choice.index:
            out["unsupervised_auc"] = float(risk_choice.loc[0.0, "segment_auc"])
        out["drivers"] = est.importance(risk_inputs.loc[ids])
    else:  # the baseline beside it: k-means on summary features, as an analyst would
        out["baseline_auc"] = _baseline(sums, as_of_sums, seed, ids, y, fold, len(np.unique(labels)))
    out["by_segment"] = by_segment(labels, out["placed"], known.y.loc[ids], estimator, risk_inputs, risk)
    return out


def _baseline(sums: pd.DataFrame, as_of_sums: pd.DataFrame, seed: int, ids, y, fold, k: int) -> dict:
    """k-means on standardised summary features of every customer, each customer with an outcome placed from
    its summary features over its window before the outcome's date."""
    from ..features import summary_features

    def signed_log(f: pd.DataFrame) -> np.ndarray:
        X = f.to_numpy(dtype=np.float64)
        return np.copysign(np.log1p(np.abs(X)), X)

    X = signed_log(summary_features(sums))
    mu, sd = X.mean(0), np.where(X.std(0) > 0, X.std(0), 1)
    km = KMeans(max(k, 2), n_init=10, random_state=seed).fit((X - mu) / sd)
    placed = (signed_log(summary_features(as_of_sums.loc[ids])) - mu) / sd
    return auc_with_interval(y, out_of_fold_rates(km.predict(placed), y, fold))


def by_segment(labels: pd.Series, placed: pd.Series, y: pd.Series, estimator=None,
               risk_inputs: pd.DataFrame | None = None, risk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per segment: its customers; those with an outcome placed in it as of their outcome's date, their rate
    and its Wilson interval; those without an outcome, and (where learnt) their mean estimated risk with the
    interval of that mean over the model's bootstrap refits (`estimator`, reading `risk_inputs`; `risk`: every
    customer's estimated risk)."""
    invisible = labels[~labels.index.isin(y.index)]
    boots, index = None, None
    if estimator is not None:
        inputs = risk_inputs
        have = invisible.index[invisible.index.isin(inputs.index)]
        have = have[~estimator.thin(inputs.loc[have])]  # those too thin to score have no risk
        boots, index = estimator.boot_risks(inputs.loc[have]), have
    rows = {}
    for s in sorted(labels.unique()):
        with_y = y[placed == s]
        n, k = int(len(with_y)), int(with_y.sum())
        lo, hi = wilson_interval(k, n)
        none = invisible[invisible == s]
        row = {"customers": int((labels == s).sum()), "with_outcome": n, "without_outcome": int(len(none)),
               "positives": k, "rate": k / n if n else np.nan, "rate_low": lo, "rate_high": hi}
        if boots is not None:
            risk_of = risk["risk"].reindex(none.index)
            cols = index.get_indexer(none.index[none.index.isin(index)])
            means = boots[:, cols].mean(1) if len(cols) else np.array([np.nan])
            row |= {"risk_without_outcome": float(risk_of.mean()) if len(none) else np.nan,
                    "risk_low_without_outcome": float(np.percentile(means, 2.5)) if len(cols) else np.nan,
                    "risk_high_without_outcome": float(np.percentile(means, 97.5)) if len(cols) else np.nan}
        rows[s] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "segment"
    return out
