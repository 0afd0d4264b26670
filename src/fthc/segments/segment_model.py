"""`SegmentModel`: a fitted `Segmenter`'s segmentation as scoring applies it and a model folder keeps it (the
encoder and head, the risk axis, the refits, the names, the reasons, how the data is read), with the methods that
place customers: their points, segments, confidence and assignments table. `RiskAxis`: the outcome's log-odds as
one more axis of the space the head clusters, written here once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..offer.affordability import AFFORDABILITY
from ..risk.segment_risk import RISK_COLUMNS
from .inputs import short_history


@dataclass(frozen=True)
class RiskAxis:
    """The risk axis (`fthc.risk.aware`): each customer's log-odds, centred and scaled, weighted beside the
    encoder's points; weight 0 where the segments are not risk-aware (no axis).

    weight: how much the outcome shapes the segments; center: the mean log-odds, where a customer without a
    window sits; scale: the spread of the fitted customers' log-odds."""

    weight: float = 0.0
    center: float | None = None
    scale: float | None = None

    def points(self, z: np.ndarray, logit=None) -> np.ndarray:
        """The space the head works in: `z`, with the axis from `logit` (NaN: at the center) where risk-aware."""
        from ..risk.aware import with_axis

        if not self.weight:
            return z
        logit = np.asarray(logit, dtype=float)
        return with_axis(z, np.where(np.isnan(logit), self.center, logit), self.weight, self.scale)


def logit_of(risk: pd.DataFrame | None):
    """The log-odds column of a risk table (None without one)."""
    return None if risk is None else risk["logit"].to_numpy()


@dataclass(frozen=True, eq=False)  # holds frames and estimators: compared by identity, not field by field
class SegmentModel:
    """What places a customer in a segment, fitted or loaded from a model folder.

    clusterer: the encoder and head (`fthc.estimator.Clusterer`); axis: the risk axis; stability: the refits behind
    confidence; feature_space: the behaviour features the reasons and drift read; reasons: the traits that place a
    customer; names, descriptions, k_why: what each segment is called and says, and why k of them; representation,
    min_history, currency, window (and `column_mapping`, the clusterer's): how a customer's data is read and
    written; outcome_model: the cross-fitted outcome model (None without outcomes); credit_history: the customers
    with an outcome at fitting; monitoring: tracking's reference as a model folder keeps it (None: read from the
    fit, `tracking.reference_of`).
    """

    clusterer: Any
    axis: RiskAxis
    stability: Any
    feature_space: Any
    reasons: Any
    names: dict
    descriptions: dict
    k_why: str | None
    representation: str
    min_history: int
    currency: str | None
    window: int | None
    outcome_model: Any = None
    credit_history: pd.Index | None = None
    monitoring: dict | None = None

    @property
    def column_mapping(self) -> dict | None:
        """The columns the model was fitted with, as the clusterer holds them (and its model folder keeps them)."""
        return self.clusterer.column_mapping_

    def space(self, z: np.ndarray, logit=None) -> np.ndarray:
        """The points the head works in, from the encoder's points `z` and (risk-aware) each one's log-odds."""
        return self.axis.points(z, logit)

    def predict(self, z: np.ndarray, logit=None) -> np.ndarray:
        """Each customer's segment from its encoder points (and log-odds)."""
        return self.clusterer.head_.predict(self.space(z, logit))

    def proba(self, z: np.ndarray, logit=None) -> np.ndarray:
        """Per customer and segment: the share of the refits that put the customer there."""
        return self.stability.proba(self.space(z, logit))

    def table(self, measures: pd.DataFrame, segment: np.ndarray, confidence: np.ndarray) -> pd.DataFrame:
        """The columns every assignment has: segment, name, confidence, transactions, short_history (the history
        segmented is too thin: `inputs.short_history`, with the model's --min-history), reasons."""
        out = pd.DataFrame({"segment": segment, "name": [self.names.get(s, "") for s in segment],
                            "confidence": confidence, "transactions": measures["transactions_count"].to_numpy(),
                            "short_history": short_history(measures, self.min_history)},
                           index=pd.Index(measures.index, name="customer_id"))
        out["reasons"] = self.reasons.column(measures, segment)
        return out

    def assign(self, measures: pd.DataFrame, z: np.ndarray, risk: pd.DataFrame | None = None) -> pd.DataFrame:
        """Segment, name, confidence, transactions, reasons (and risk) of customers given by their points `z`."""
        points = self.space(z, logit_of(risk))
        segment = self.clusterer.head_.predict(points)
        proba = self.stability.proba(points)
        out = self.table(measures, segment, proba[np.arange(len(segment)), segment])
        return out.join(risk[RISK_COLUMNS + list(AFFORDABILITY)]) if risk is not None else out

    def placed(self, as_of: pd.DataFrame) -> np.ndarray | None:
        """Each customer with an outcome placed from its window before the outcome (`as_of`: those windows'
        measures), in the space the segments were made in (the risk axis at its out-of-fold log-odds where the
        segments are risk-aware); None for a network method, whose series before a date are not rebuilt."""
        if self.representation != "behaviour":
            return None
        logit = self.outcome_model.oof_.loc[as_of.index]["logit"].to_numpy() if self.axis.weight else None
        return self.predict(self.clusterer.transform(as_of), logit)
