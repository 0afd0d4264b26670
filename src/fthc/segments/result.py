"""`SegmentationResult`: what a fitted `Segmenter` says, as plain typed fields, for whoever writes it out (the
reports, the fairness and inclusion views). Built once by `result_of` after a fit; the layers above read it and
never the Segmenter, so the Segmenter's fitted attributes are its own business."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class SegmentationResult:
    """One fitted segmentation as its outputs read it.

    Parameters
    ----------
    labels, confidence : Series
        Each fitted customer's segment, and the share of refits that put it there (index: customer id).
    profile : DataFrame
        One row per segment and one ("all") for every customer.
    names, descriptions : dict
        Each segment's name and description.
    assignments : DataFrame
        The fitted customers' assignments, as `Segmenter.assignments_` gives them (assignments.csv).
    measures : DataFrame
        Every fitted customer's behaviour measures (the page's distributions).
    sums : DataFrame or None
        The engine's sums behind them (the kinds chart).
    monthly : DataFrame or None
        The sample of customer-months the monthly chart draws.
    k_choice, k_why : DataFrame or None, str or None
        The prediction strength per k and the choice in words (k="auto"); None when k was asked for.
    k : int
        The number of segments fitted.
    degenerate : bool
        Whether some of the k segments asked for have no customer.
    notes : tuple of str
        What the outputs must say about the data and the fit.
    currency : str or None
        The currency the outputs name.
    refits : int
        How many refits on halves `confidence` was made of.
    context : DataFrame or None
        Berka's loans and owners of the fitted customers (Berka data only).
    outcome_model : RiskEstimator or None
        The cross-fitted outcome model, where outcomes were learnt.
    known_outcomes : Series or None
        The outcomes known at fitting (0/1 by customer id), learnt from or not (too young, too thin a history).
    outcome_check : dict or None
        The honest figures (`fthc.risk.outcome_check`), where there are outcomes.
    risk : DataFrame or None
        Every customer's risk, interval, grade and reasons, where outcomes were learnt.
    risk_choice, risk_why : DataFrame or None, str or None
        The risk weights tried and why the one chosen.
    population : DataFrame or None
        The learnt population against all customers, per input.
    method, model : str
        The method's name ("config" for a configuration) and the model in words.
    """

    labels: pd.Series
    confidence: pd.Series
    profile: pd.DataFrame
    names: dict
    descriptions: dict
    assignments: pd.DataFrame
    measures: pd.DataFrame
    sums: pd.DataFrame | None
    monthly: pd.DataFrame | None
    k_choice: pd.DataFrame | None
    k_why: str | None
    k: int
    degenerate: bool
    notes: tuple[str, ...]
    currency: str | None
    refits: int
    context: pd.DataFrame | None
    outcome_model: Any
    known_outcomes: pd.Series | None
    outcome_check: dict | None
    risk: pd.DataFrame | None
    risk_choice: pd.DataFrame | None
    risk_why: str | None
    population: pd.DataFrame | None
    method: str
    model: str


def result_of(seg) -> SegmentationResult:
    """The `SegmentationResult` of a fitted Segmenter, read from its parts."""
    seg.check_fitted()
    model, fit, summary = seg.segment_model_, seg.risk_fit_, seg.fit_summary_
    return SegmentationResult(
        labels=summary.labels, confidence=summary.confidence, profile=summary.profile, names=dict(model.names),
        descriptions=dict(model.descriptions), assignments=seg.assignments_, measures=summary.measures,
        sums=summary.sums, monthly=summary.monthly, k_choice=summary.k_choice, k_why=model.k_why,
        k=int(model.clusterer.head_.k), degenerate=bool(model.clusterer.degenerate_), notes=tuple(summary.notes),
        currency=model.currency, refits=len(model.stability.heads), context=summary.context,
        outcome_model=model.outcome_model, known_outcomes=fit.outcomes.y if fit else None,
        outcome_check=summary.outcome_check, risk=fit.risk if fit else None,
        risk_choice=fit.choice if fit else None, risk_why=fit.why if fit else None,
        population=fit.population if fit else None,
        method=seg.method if isinstance(seg.method, str) else "config", model=model.clusterer.in_words())
