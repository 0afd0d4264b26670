"""A segmentation's risk, on frames: the cross-fitted outcome model with its grades and reasons
(`RiskEstimator`), every customer's risk from its window, and the risk axis that risk-aware segments cluster on
(`fthc.risk.aware`). It takes inputs and outcomes, never a Segmenter; `Segmenter` holds one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..progress import agreeing, counted
from .estimator import RiskEstimator, thin_history

RISK_COLUMNS = ["risk", "risk_low", "risk_high", "risk_grade", "risk_reasons", "window_months", "has_outcome",
                "outcome"]


def score(est: RiskEstimator, inputs: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    """Risk, interval, grade, log-odds and risk reasons of the customers of `index`, given by their window's
    inputs (a customer whose outcome was learnt is scored by its own fold's model, never by one that saw it; one
    without a window has no risk)."""
    months = inputs["months"] if "months" in inputs else pd.Series(np.inf, index=inputs.index)
    enough = inputs[~est.thin(inputs)]
    scored = est.score(enough).join(est.reasons(enough)[["risk_reasons"]]).reindex(index)
    scored["risk_grade"] = scored["risk_grade"].fillna(0).astype(np.int64)
    window = months.reindex(index)
    thin = thin_history(window, est.min_history)
    scored.loc[thin, "risk_reasons"] = [f"insufficient history: {m:.0f} month{'s' if m != 1 else ''} in the window "
                                        f"(at least {est.min_history} needed): no risk or grade estimated"
                                        for m in window[thin]]
    scored["risk_reasons"] = scored["risk_reasons"].fillna("no transactions in the window: no risk estimated")
    scored["window_months"] = window.fillna(0).clip(upper=1e6).astype(np.int64).to_numpy()
    outcome = est.outcomes_.reindex(index)
    scored["has_outcome"], scored["outcome"] = outcome.notna().to_numpy(), outcome.to_numpy()
    return scored


class SegmentRisk:
    """The outcome model of a segmentation and each fitted customer's risk and place on the risk axis.

    kind: the outcome model (a name of `RISK_MODELS`). Fitted attributes: `estimator_` (the `RiskEstimator`),
    `risk_` (RISK_COLUMNS of every fitted customer), `center_` and `scale_` (of the log-odds: the axis' units),
    `logit_` (each fitted customer's cross-fitted log-odds; the mean where it has no window), `unscored_` (how
    many have no window)."""

    def __init__(self, kind: str = "boosted", seed: int = 0, currency: str | None = None, grade_edges=None,
                 min_history: int | None = None):
        self.kind, self.seed, self.currency, self.grade_edges = kind, seed, currency, grade_edges
        self.min_history = min_history

    def fit(self, inputs: pd.DataFrame, y: pd.Series, customers: pd.Index, outcomes: pd.Series) -> "SegmentRisk":
        """`inputs`: the window inputs of every customer with a window; `y`: the 0/1 outcomes learnt from (ids in
        `inputs`); `customers`: every fitted customer; `outcomes`: every known outcome (also of customers without
        a window, shown but not learnt)."""
        est = RiskEstimator(self.kind, seed=self.seed, currency=self.currency,
                            **{k: v for k, v in (("grade_edges", self.grade_edges),
                                                 ("min_history", self.min_history)) if v is not None})
        self.estimator_ = est.fit(inputs.loc[y.index], y, population=inputs)
        scored = score(est, inputs, customers)
        from .psi import population_shift

        self.unscored_ = int(scored["risk"].isna().sum())
        graded = scored["risk"].notna().reindex(inputs.index, fill_value=False).to_numpy()
        scored_without = inputs[graded & ~inputs.index.isin(y.index)]
        self.population_ = population_shift(inputs.loc[y.index, est.columns_], scored_without[est.columns_]) \
            if len(scored_without) else None
        self.thin_ = int(((scored["window_months"] > 0) & (scored["window_months"] < est.min_history)).sum())
        self.risk_ = scored[RISK_COLUMNS].copy()
        self.risk_["outcome"] = outcomes.reindex(customers)
        self.center_ = float(scored["logit"].mean())
        self.logit_ = scored["logit"].fillna(self.center_).to_numpy()
        self.scale_ = float(np.std(self.logit_)) or 1.0
        return self

    def notes(self, window: int | None) -> list[str]:
        """What the outputs must say of the fitted customers' risk: who has none, and whether those scored without
        an outcome are like those learnt from."""
        months, said = window or "whole", []
        pop = self.population_
        shifted = pop["input"][pop["flag"] == "shifted"] if pop is not None else []
        if len(shifted):
            said.append(f"the customers scored without an outcome differ from those the model learnt from (PSI >= "
                        f"0.25: {', '.join(shifted[:5])}; population.csv): their risk extrapolates from people unlike "
                        "them; read it as a ranking more than as a rate")
        if self.thin_:
            said.append(f"{counted(self.thin_, 'customer')} {agreeing(self.thin_, 'has', 'have')} fewer than "
                        f"{self.estimator_.min_history} months of history in their {months}-month window: no risk or "
                        "grade ('insufficient history' in their risk reasons)")
        if self.unscored_ - self.thin_:
            n = self.unscored_ - self.thin_
            said.append(f"{counted(n, 'customer')} {agreeing(n, 'has', 'have')} no transactions in their "
                        f"{months}-month window: no risk is estimated for them")
        return said

    def choose_weight(self, make_head, z: np.ndarray, z_outcome: np.ndarray, ids: pd.Index, y: pd.Series,
                      requested="auto"):
        """The risk axis' weight (`fthc.risk.aware.choose_weight`): `z` the fitted customers' points, `z_outcome`
        those of the customers with an outcome (from their window before its date), scored out of fold."""
        from sklearn.metrics import roc_auc_score

        from .aware import choose_weight

        oof = self.estimator_.oof_.loc[ids]
        return choose_weight(make_head, z, self.logit_, self.scale_, z_outcome, oof["logit"].to_numpy(),
                             y.to_numpy(), self.estimator_.fold_.loc[ids].to_numpy(),
                             float(roc_auc_score(y, oof["risk"])), requested)
