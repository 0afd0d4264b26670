"""Applying a fitted `Segmenter` to customers: reading them as it was fitted, their points, segments, confidence,
reasons and (with an outcome model) risk from the window ending at the data's end. Functions of the fitted
Segmenter, which its `transform`, `predict`, `predict_proba` and `assign` call."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..risk.segment_risk import RISK_COLUMNS, score
from .inputs import SHORT_HISTORY, encoder_inputs, read_measures
from .windows import reference_end, window_of


def source_of(seg, X):
    """The data to score, read with the mapping given, or else the one the model was fitted with."""
    from ..data.source import as_source
    from ..data.transactions import ColumnMapping

    seg.check_fitted()
    mapping = seg._mapping()
    if mapping is None and seg.column_mapping_:
        mapping = ColumnMapping.from_dict(seg.column_mapping_)
    return as_source(X, mapping, lenient=seg.lenient)


def scored_inputs(seg, X):
    """The customers of `X`: their measures, the encoder's inputs, and their risk (or None)."""
    from ..data.source import cut_source

    source = source_of(seg, X)
    if seg.as_of is not None:  # a model fitted as of a date scores as of that date
        source = cut_source(source, seg.as_of)
    measures, _, engine = read_measures(source, seg.engine)
    model = seg.model_
    spec = replace(model.series_spec_, seq_len=model.seq_len_) if model.series_spec_ is not None else None
    inputs, _ = encoder_inputs(source, measures, seg.representation_, model.config, spec,
                               model.series_scaling_ or None, model.channels_)
    risk = None
    if seg.outcome_model_ is not None:  # the window ending at the data's end (or as_of) of every customer
        reference = pd.Series(reference_end(source, engine, seg.as_of), index=measures.index)
        risk = score(seg.outcome_model_, window_of(source, engine, reference, seg.window_).inputs, measures.index)
    return measures, inputs, risk


def space(seg, measures: pd.DataFrame, z: np.ndarray, fitted: bool = False, risk=None) -> np.ndarray:
    """The space the head works in: the encoder's points, with the risk axis when the segments are
    risk-aware (`fitted`: the fitted customers, placed by their cross-fitted risk)."""
    from ..risk.aware import with_axis

    if not seg.risk_weight_:
        return z
    if fitted:
        logit = seg.fitted_logit_
    else:  # a customer without a window (no risk) sits at the mean log-odds
        logit = risk["logit"].to_numpy()
        logit = np.where(np.isnan(logit), seg.risk_center_, logit)
    return with_axis(z, logit, seg.risk_weight_, seg.risk_scale_)


def table(seg, index: pd.Index, segment: np.ndarray, confidence: np.ndarray, counts: np.ndarray) -> pd.DataFrame:
    """The columns every assignment has: segment, name, confidence, transactions, short_history."""
    return pd.DataFrame({"segment": segment, "name": [seg.names_.get(s, "") for s in segment],
                         "confidence": confidence, "transactions": counts,
                         "short_history": counts < SHORT_HISTORY}, index=index)


def assignments(seg, measures: pd.DataFrame, z: np.ndarray, risk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Segment, name, confidence, transactions, reasons (and risk) of customers given by their points `z`."""
    points = space(seg, measures, z, risk=risk)
    segment = seg.model_.head_.predict(points)
    proba = seg.stability_.proba(points)
    out = table(seg, pd.Index(measures.index, name="customer_id"), segment, proba[np.arange(len(segment)), segment],
                measures["transactions_count"].to_numpy())
    out["reasons"] = seg.reasons_.column(measures, segment)
    return out.join(risk[RISK_COLUMNS]) if risk is not None else out
