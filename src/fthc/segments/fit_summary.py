"""`FitSummary`: what a `Segmenter`'s fit found about the customers it was fitted on (their segments, behaviour and
profiles, the choice of k, the notes, the honest figures). Scoring new customers never reads it (`track` of a freshly
fitted model takes its reference from it), and a model folder does not keep it: it holds the bank's customers, which
the fit's results folder has."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True, eq=False)  # frames: compared by identity
class FitSummary:
    """The fitted customers and what they say.

    labels, confidence: each fitted customer's segment and the share of refits that put it there; profile: one row
    per segment and one for all customers; measures, sums: every fitted customer's behaviour measures and the
    engine's sums behind them; monthly: the sample of customer-months the monthly chart draws; context: Berka's
    loans and owners (Berka data only); k_choice: the prediction strength per k (k="auto"); k_check: k's prediction
    strength in the space clustered with a risk axis; notes: what the outputs must say; outcome_check: the honest
    figures where there are outcomes; fit_seconds: how long the fit took."""

    labels: pd.Series
    confidence: pd.Series
    profile: pd.DataFrame
    measures: pd.DataFrame
    sums: pd.DataFrame
    monthly: pd.DataFrame | None
    context: pd.DataFrame | None
    k_choice: pd.DataFrame | None
    k_check: dict | None
    notes: list
    outcome_check: dict | None
    fit_seconds: float
