"""Applying a fitted `Segmenter` to customers: reading them as it was fitted (its parameters and its
`SegmentModel`), and (with an outcome model) their risk from the window ending at the data's end; the fitted
customers' assignments from the fit's parts. The segments themselves are the `SegmentModel`'s."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..offer.affordability import affordability
from ..risk.segment_risk import RISK_COLUMNS, score
from .fit_summary import FitSummary
from .inputs import encoder_inputs, read_measures
from .risk_fit import RiskFit
from .segment_model import SegmentModel
from .windows import reference_end, window_of


def source_of(seg, X):
    """The data to score, read with the mapping given, or else the one the model was fitted with."""
    from ..data.source import as_source
    from ..data.transactions import ColumnMapping

    seg.check_fitted()
    mapping, fitted = seg._mapping(), seg.segment_model_.column_mapping
    if mapping is None and fitted:
        mapping = ColumnMapping.from_dict(fitted)
    return as_source(X, mapping, lenient=seg.lenient)


def scored_inputs(seg, X):
    """The customers of `X`: their measures, the encoder's inputs, and their risk with the affordability of the
    same window (or None)."""
    from ..data.source import cut_source

    source = source_of(seg, X)
    if seg.as_of is not None:  # a model fitted as of a date scores as of that date
        source = cut_source(source, seg.as_of)
    measures, _, engine = read_measures(source, seg.engine)
    fitted = seg.segment_model_
    model = fitted.clusterer
    spec = replace(model.series_spec_, seq_len=model.seq_len_) if model.series_spec_ is not None else None
    inputs, _ = encoder_inputs(source, measures, fitted.representation, model.config, spec,
                               model.series_scaling_ or None, model.channels_)
    risk = None
    if fitted.outcome_model is not None:  # the window ending at the data's end (or as_of) of every customer
        reference = pd.Series(reference_end(source, engine, seg.as_of), index=measures.index)
        window = window_of(source, engine, reference, fitted.window)
        risk = score(fitted.outcome_model, window.inputs, measures.index).join(affordability(window.measures))
    return measures, inputs, risk


def fitted_assignments(model: SegmentModel, summary: FitSummary, risk_fit: RiskFit | None) -> pd.DataFrame:
    """The fitted customers' assignments: their risk and the affordability of the window it reads, with an
    outcome model."""
    out = model.table(summary.measures, summary.labels.to_numpy(), summary.confidence.to_numpy())
    if risk_fit is None:
        return out
    return out.join(risk_fit.risk[RISK_COLUMNS]).join(affordability(risk_fit.windows.measures))


def risk_at(seg, X, dates: pd.Series) -> pd.DataFrame:
    """`Segmenter.risk_at`: each customer of `dates` scored from its window before that date's month."""
    from ..errors import FthcError

    source = source_of(seg, X)
    model = seg.segment_model_
    if model.outcome_model is None:
        raise FthcError("this model was fitted without outcomes: it estimates no risk (fit with outcomes=)")
    _, _, engine = read_measures(source, seg.engine)
    reference = pd.Series(pd.to_datetime(dates).to_numpy(), index=dates.index)
    return score(model.outcome_model, window_of(source, engine, reference, model.window).inputs, dates.index)


def offer(seg, X, product=None):
    """`Segmenter.offer`: the offers, strategy and needs of the customers of `X` (`fthc.offer.make_offer`)."""
    from ..errors import FthcError
    from ..offer import Product, make_offer

    model = seg.segment_model_
    if model.outcome_model is None:
        raise FthcError("this model was fitted without outcomes: an offer needs each grade's default rate "
                        "(fit with outcomes)")
    est = model.outcome_model
    notes = () if est.has_signal else (
        f"the outcome model found no pattern beyond the portfolio's rate ({est.portfolio_rate_:.1%}): every customer "
        "has that rate and one grade; the offers differ by affordability alone",)
    product = product or Product()
    assigned = seg.assign(X)
    assigned["credit_history"] = assigned.index.isin(model.credit_history)
    return make_offer(assigned, est.grades_, product, model.currency, notes)
