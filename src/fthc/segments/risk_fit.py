"""`RiskFit`: what a `Segmenter` fitted with outcomes learnt about risk (`fthc.risk.segment_risk`), kept whole, and
`fit_risk`, which makes it; `checked_outcomes`: the honest figures of any fit with outcomes to judge it by. A
Segmenter fitted without outcomes has no RiskFit (None)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..progress import announce
from .segment_model import RiskAxis, SegmentModel
from .windows import Windows, learnt_outcomes


@dataclass(frozen=True, eq=False)  # frames: compared by identity
class RiskFit:
    """The outcomes learnt and every fitted customer's risk.

    outcomes: the `Outcomes` known at fitting (learnt from or not: too young, too thin a history); risk: each
    customer's risk, interval, grade, risk reasons, whether it has an outcome, the outcome; windows: each
    customer's window (cutoffs, sums, measures, the outcome model's inputs); fitted_logit: each fitted customer's
    cross-fitted log-odds (the risk axis of the fit); population: the learnt population against all customers,
    per input; choice, why: the risk weights tried and why the one chosen."""

    outcomes: Any
    risk: pd.DataFrame
    windows: Windows
    fitted_logit: np.ndarray
    population: pd.DataFrame | None
    choice: pd.DataFrame | None
    why: str

    @property
    def credit_history(self) -> pd.Index:
        """The customers with a credit history: an outcome known at fitting, learnt from or not (a loan too young
        to judge is a credit history all the same)."""
        return self.risk.index[self.risk["outcome"].notna()]


def fit_risk(known, windows: Windows, as_of: pd.DataFrame, measures: pd.DataFrame, z: np.ndarray, make_head,
             feature_space, *, kind: str, seed: int, currency, grade_edges, min_history: int, window,
             risk_weight, no_axis: str | None, notes: list) -> tuple[RiskFit, Any, RiskAxis]:
    """The cross-fitted outcome model, every customer's risk and grade, and the risk axis of the space (its weight
    chosen by `risk_weight`; 0 where `no_axis` says why the method's space cannot take it, or where the outcome
    model finds no signal). Returns the RiskFit, the outcome model and the axis."""
    from ..risk.segment_risk import SegmentRisk

    ids = as_of.index
    y = learnt_outcomes(known, windows.measures.index, ids, window, notes)
    announce(f"learning the outcome from {len(ids):,} customers ({int(y.sum()):,} positive; "
             f"{kind} model, nested cross-validation)")
    risk = SegmentRisk(kind, seed, currency, grade_edges, min_history).fit(windows.inputs, y, measures.index,
                                                                             known.given)
    notes += risk.notes(window)
    weight, choice = 0.0, None
    if risk_weight == 0:
        why = "risk weight 0, as asked"
    elif not risk.estimator_.has_signal:
        why = "risk weight 0 (the outcome model found no pattern beyond the portfolio's rate)"
    elif no_axis:
        notes.append(no_axis)
        why = "risk weight 0 (the method's space cannot take the risk axis)"
    else:
        weight, choice, why = risk.choose_weight(make_head, z, feature_space.transform(as_of), ids, y, risk_weight)
    fit = RiskFit(known, risk.risk_, windows, risk.logit_, risk.population_, choice, why)
    return fit, risk.estimator_, RiskAxis(weight, risk.center_, risk.scale_)


def checked_outcomes(model: SegmentModel, known, as_of: pd.DataFrame, windows: Windows, labels: pd.Series,
                     sums: pd.DataFrame, risk_fit: RiskFit | None, seed: int) -> dict:
    """The honest figures of a fit (`fthc.risk.outcome_check`) of the customers with an outcome (`known`), each
    placed from its window before the outcome (`as_of`)."""
    from ..risk.outcome_check import outcome_check

    as_of_sums = windows.sums.loc[windows.sums.index.intersection(known.y.index)]
    return outcome_check(known, as_of.index, model.placed(as_of), labels, estimator=model.outcome_model,
                         window=model.window, seed=seed, risk_choice=risk_fit.choice if risk_fit else None,
                         risk_inputs=windows.inputs, risk=risk_fit.risk if risk_fit else None, sums=sums,
                         as_of_sums=as_of_sums)
