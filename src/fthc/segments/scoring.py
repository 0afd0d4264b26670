"""Applying a fitted `Segmenter` to customers: reading them as it was fitted, their points, segments, confidence,
reasons and (with an outcome model) risk from the window ending at the data's end. Functions of the fitted
Segmenter, which its `transform`, `predict`, `predict_proba` and `assign` call."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..offer.affordability import AFFORDABILITY, affordability
from ..risk.segment_risk import RISK_COLUMNS, score
from .inputs import encoder_inputs, read_measures, short_history
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
    """The customers of `X`: their measures, the encoder's inputs, and their risk with the affordability of the
    same window (or None)."""
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
        window = window_of(source, engine, reference, seg.window_)
        risk = score(seg.outcome_model_, window.inputs, measures.index).join(affordability(window.measures))
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


def table(seg, measures: pd.DataFrame, segment: np.ndarray, confidence: np.ndarray) -> pd.DataFrame:
    """The columns every assignment has: segment, name, confidence, transactions, short_history (the history
    segmented is too thin: `inputs.short_history`, with the model's --min-history)."""
    return pd.DataFrame({"segment": segment, "name": [seg.names_.get(s, "") for s in segment],
                         "confidence": confidence, "transactions": measures["transactions_count"].to_numpy(),
                         "short_history": short_history(measures, seg.min_history)},
                        index=pd.Index(measures.index, name="customer_id"))


def assignments(seg, measures: pd.DataFrame, z: np.ndarray, risk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Segment, name, confidence, transactions, reasons (and risk) of customers given by their points `z`."""
    points = space(seg, measures, z, risk=risk)
    segment = seg.model_.head_.predict(points)
    proba = seg.stability_.proba(points)
    out = table(seg, measures, segment, proba[np.arange(len(segment)), segment])
    out["reasons"] = seg.reasons_.column(measures, segment)
    return out.join(risk[RISK_COLUMNS + list(AFFORDABILITY)]) if risk is not None else out


def fitted_assignments(seg) -> pd.DataFrame:
    """The fitted customers' assignments: their risk and the affordability of the window it reads, with an
    outcome model."""
    seg.check_fitted()
    labels = seg.labels_.to_numpy()
    out = table(seg, seg.measures_, labels, seg.confidence_.to_numpy())
    out["reasons"] = seg.reasons_.column(seg.measures_, labels)
    if seg.outcome_model_ is None:
        return out
    return out.join(seg.risk_[RISK_COLUMNS]).join(affordability(seg.window_measures_))


def risk_at(seg, X, dates: pd.Series) -> pd.DataFrame:
    """`Segmenter.risk_at`: each customer of `dates` scored from its window before that date's month."""
    from ..errors import FthcError

    source = source_of(seg, X)
    if seg.outcome_model_ is None:
        raise FthcError("this model was fitted without outcomes: it estimates no risk (fit with outcomes=)")
    _, _, engine = read_measures(source, seg.engine)
    reference = pd.Series(pd.to_datetime(dates).to_numpy(), index=dates.index)
    return score(seg.outcome_model_, window_of(source, engine, reference, seg.window_).inputs, dates.index)


def credit_history(seg) -> pd.Index:
    """The customers with a credit history: an outcome known at fitting, learnt from or not (a loan too young
    to judge is a credit history all the same)."""
    if hasattr(seg, "credit_history_"):  # a loaded model: its fitted customers are not kept, these ids are
        return seg.credit_history_
    return seg.risk_.index[seg.risk_["outcome"].notna()]


def offer(seg, X, product=None):
    """`Segmenter.offer`: the offers, strategy and needs of the customers of `X` (`fthc.offer.make_offer`)."""
    from ..errors import FthcError
    from ..offer import Product, make_offer

    if seg.outcome_model_ is None:
        raise FthcError("this model was fitted without outcomes: an offer needs each grade's default rate "
                        "(fit with outcomes)")
    est = seg.outcome_model_
    notes = () if est.has_signal else (
        f"the outcome model found no pattern beyond the portfolio's rate ({est.portfolio_rate_:.1%}): every customer "
        "has that rate and one grade; the offers differ by affordability alone",)
    product = product or Product()
    assigned = seg.assign(X)
    assigned["credit_history"] = assigned.index.isin(credit_history(seg))
    if assigned["commitments"].isna().all():
        notes += ("the data has no transaction kinds: loan payments already made are unknown and taken as 0, so the "
                  "affordability of customers who already borrow is overstated",)
    if product.term_months > 24:
        notes += (f"a {product.term_months}-month term: the default rates are those of the credits the outcomes "
                  "describe; a longer term defaults more, so the expected loss is understated unless they are as "
                  "long",)
    return make_offer(assigned, est.grades_, product, seg.currency_, notes)


def placed_segments(seg, as_of: pd.DataFrame) -> np.ndarray | None:
    """Each customer with an outcome placed from its window before the outcome (`as_of`: those windows'
    measures), in the space the segments were made in (with the risk axis at its out-of-fold log-odds where the
    segments are risk-aware); None for a network method, whose series before a date are not rebuilt."""
    if seg.representation_ != "behaviour":
        return None
    z = seg.model_.transform(as_of)
    if seg.outcome_model_ is not None and seg.risk_weight_:
        from ..risk.aware import with_axis

        logit = seg.outcome_model_.oof_.loc[as_of.index]["logit"].to_numpy()
        return seg.model_.head_.predict(with_axis(z, logit, seg.risk_weight_, seg.risk_scale_))
    return seg.model_.head_.predict(z)


def checked_outcomes(seg, known, as_of: pd.DataFrame) -> dict:
    """The honest figures of a fit (`fthc.risk.outcome_check`) of the customers with an outcome (`known`), each
    placed from its window before the outcome (`as_of`)."""
    from ..risk.outcome_check import outcome_check

    learnt = seg.outcome_model_ is not None
    return outcome_check(known, as_of.index, placed_segments(seg, as_of), seg.labels_,
                         estimator=seg.outcome_model_, window=seg.window_, seed=seg.seed,
                         risk_choice=seg.risk_choice_, risk_inputs=seg.risk_inputs_,
                         risk=seg.risk_ if learnt else None, sums=seg.sums_, as_of_sums=seg.as_of_sums_)
