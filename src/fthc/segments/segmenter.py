"""`Segmenter`: customer segments from transactions, in three lines.

    import fthc
    seg = fthc.Segmenter(k=6).fit(df)          # a transactions DataFrame, a Berka folder, or a file's path
    seg.profile_                               # what each segment's customers do
    seg.predict(new_df)                        # segments of new customers (a Series indexed by customer id)

A scikit-learn style estimator (the constructor stores its parameters, `fit` returns self, fitted attributes end
in `_`), whose model is a `Clusterer` from a preset (`method`): by default behaviour features per customer
(`fthc.features`, computed by an engine) and k-means. `fthc segment` and `fthc assign` are thin layers over it
and give the same segments.

Fitted attributes: `labels_` (a Series by customer id), `confidence_` (how reproducible each customer's segment
is, `fthc.segments.stability`), `profile_` (one row per segment and one for all customers), `names_`,
`descriptions_`, `k_choice_` (the prediction-strength table when k was chosen), `measures_` (the behaviour
measures of every fitted customer), `model_` (the Clusterer), `notes_` (what the outputs must say).

With outcomes (`fit(X, outcomes=...)`: a file, a Series of 0/1 by customer id, or "loans" on a Berka folder):
`risk_` (every customer's estimated risk with its interval, whether it has an outcome, its risk band within its
segment; `fthc.risk.model`), `risk_weight_` and `risk_choice_` (how much the outcome shaped the segments,
`fthc.risk.aware`), `outcomes_`. Without outcomes on a Berka folder, the loans still judge the segments (never
used to fit them). Either way `outcome_check_` holds the honest figures: AUCs on histories before each outcome's
date, out of fold, with intervals.
"""

from __future__ import annotations

import time
import numpy as np
import pandas as pd
from sklearn.base import ClusterMixin
from sklearn.utils import metadata_routing

from ..base import FthcEstimator
from ..config import ClustererConfig, encoder_component, get_preset, make_head, preset
from ..errors import DataError, FthcError, FthcWarning
from ..features.window import WINDOW
from ..risk.estimator import MIN_HISTORY
from ..progress import announce
from ..risk.segment_risk import RISK_COLUMNS
from . import saved, scoring
from .choice import choose_k, recheck_k
from .describe import named_segments
from .inputs import MAX_STEPS, SHORT_HISTORY, chart_sample, encoder_inputs, history_notes, read_measures, source_notes
from .profile import berka_context, profile_segments
from .stability import REFITS, Stability
from .windows import chosen_window, enough_history, learnt_outcomes, readable_outcomes, outcome_windows

KS = range(1, 9)
SMALL_SEGMENTS = 10  # fewer customers than this per segment, on average, is warned about
SEGMENT_FLOOR = 5  # a segment of fewer customers is named in a warning: it describes nobody in particular
__all__ = ["Segmenter", "FthcError", "MAX_STEPS", "RISK_COLUMNS", "SHORT_HISTORY"]


def check_k(k) -> None:
    """A number of segments (1 or more) or "auto", refused before any work otherwise."""
    if isinstance(k, str) and k == "auto":
        return
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise DataError(f"k must be a number of segments (1 or more) or 'auto', got {k!r}")


class Segmenter(ClusterMixin, FthcEstimator):
    """Segments of customers from their transactions, with their risk where outcomes are given.

    Parameters
    ----------
    k : int or "auto", default "auto"
        The number of segments, or "auto": the largest that reproduces (prediction strength,
        `fthc.segments.choice`); 1 when none does.
    method : str or ClustererConfig, default "features"
        A preset name (`fthc.config.PRESETS`: features, behaviour, fthc, pooled, dtc, lstm, fcnn, vae) or a config.
    columns : dict or ColumnMapping, optional
        Which columns of a transactions table hold what, as in the CLI's [columns] TOML (an unknown key is
        refused). None: customer_id, timestamp, amount, and balance / category / direction where present.
    engine : {"duckdb", "pandas", "spark"}, default "duckdb"
        What computes the behaviour measures (`fthc.engines.ENGINES`).
    ks : range, default range(1, 9)
        The ks that k="auto" chooses among.
    seed : int, default 0
        Seeds every fit and split: the same data and seed give the same segments.
    representation : str, optional
        The series a network method reads (amounts, events, calendar); None: the preset's.
    lenient : bool, default False
        Skip bad rows (counted in `notes_`) instead of refusing the data.
    refits : int, default 20
        Refits on random halves behind `confidence_` and `predict_proba`.
    currency : str, optional
        The currency the outputs name; None: the data's (CZK for Berka) or none.
    risk_weight : float or "auto", default "auto"
        How much the outcome shapes the segments (`fthc.risk.aware`): "auto" (the stated rule), 0 (unsupervised).
    drop_duplicates : bool, default False
        Leave out exact duplicate rows (otherwise counted and kept).
    risk_model : {"boosted", "monotone", "logistic", "auto"}, default "boosted"
        The outcome model (`fthc.risk.model`), its hyperparameters chosen by nested cross-validation.
    window : int, "auto" or None, default 12
        Months of history before each customer's reference date that every risk figure reads; None: all; "auto":
        12, 24 or 36, whichever the outcome model predicts best out of fold (`window_` holds the one read).
    as_of : date, optional
        A point in time: the data and the outcomes as they stood on that day (nothing later is read); the
        reference date of customers without an outcome. None: the data's end.
    min_history : int, default 6
        Months of history in the window a customer needs for a risk and a grade (fewer: "insufficient history",
        left out of the outcome model, counted in the notes).
    performance_months : int, optional
        Good outcomes dated within this many months of the data's end are too young to read: left out, counted.
        None: 6 for Berka's loans (dated by the loan's start, status C while running), 0 for outcomes given (taken
        as observed).
    grade_edges : sequence of float, optional
        The master scale's edges of estimated risk (`fthc.risk.grades`); None: `MASTER_SCALE` (1% to 60%).

    Attributes
    ----------
    labels_ : Series
        Each fitted customer's segment (index: customer id).
    confidence_ : Series
        The share of refits that put each customer in its segment.
    profile_, names_, descriptions_ : DataFrame, dict, dict
        What each segment's customers do, and its name and description.
    k_choice_, k_why_ : DataFrame or None, str or None
        The prediction strength per k, and the choice in words (k="auto").
    k_check_ : dict or None
        With a risk axis: the prediction strength and verdict of k in the space actually clustered.
    measures_, sums_ : DataFrame
        Every fitted customer's behaviour measures and the engine's sums behind them.
    model_ : Clusterer
        The encoder and head; `stability_` the refits, `reasons_` the reasons per customer.
    risk_ : DataFrame
        With outcomes: risk, interval, grade, risk reasons, whether it has an outcome, the outcome.
    outcome_model_, outcomes_ : RiskEstimator, Outcomes
        The cross-fitted outcome model and the outcomes it learnt.
    risk_weight_, risk_choice_, risk_why_ : float, DataFrame, str
        How much the outcome shaped the segments, the weights tried, why.
    outcome_check_ : dict or None
        Leak-free figures: AUCs on histories before each outcome's date, out of fold, with intervals.
    notes_ : list of str
        What the outputs must say about the data and the fit.

    Examples
    --------
    >>> import fthc
    >>> seg = fthc.Segmenter(k="auto").fit("bank/transactions.csv", outcomes="bank/outcomes.csv")  # doctest: +SKIP
    >>> seg.assignments_[["segment", "name", "risk", "risk_grade"]].head()                       # doctest: +SKIP
    """

    fitted_attribute = "labels_"
    # outcomes are fit's own input, not metadata a meta-estimator routes: no set_fit_request (and its page of help)
    __metadata_request__fit = {"outcomes": metadata_routing.UNUSED}

    def __init__(self, k: int | str = "auto", method: str | ClustererConfig = "features", columns=None, *,
                 engine: str = "duckdb", ks=KS, seed: int = 0, representation: str | None = None,
                 lenient: bool = False, refits: int = REFITS, currency: str | None = None,
                 risk_weight: float | str = "auto", drop_duplicates: bool = False, risk_model: str = "boosted",
                 window: int | str | None = WINDOW, as_of=None, min_history: int = MIN_HISTORY,
                 performance_months: int | None = None, grade_edges=None):
        self.k, self.method, self.columns, self.engine, self.ks, self.seed = k, method, columns, engine, ks, seed
        self.representation, self.lenient, self.refits, self.currency = representation, lenient, refits, currency
        self.risk_weight, self.drop_duplicates, self.risk_model = risk_weight, drop_duplicates, risk_model
        self.window, self.as_of, self.min_history, self.grade_edges = window, as_of, min_history, grade_edges
        self.performance_months = performance_months

    # -- configuration ------------------------------------------------------------------------------------
    def _config(self) -> ClustererConfig:
        if isinstance(self.method, ClustererConfig):
            return self.method.replace(seed=self.seed).validate()
        return preset(self.method, seed=self.seed)

    def _representation(self, config: ClustererConfig) -> str:
        if self.representation:
            return self.representation
        if isinstance(self.method, str):
            return get_preset(self.method).representation
        return "behaviour" if encoder_component(config).flag("input") == "behaviour" else "amounts"

    def _mapping(self):
        from ..data.transactions import ColumnMapping

        if self.columns is None or isinstance(self.columns, ColumnMapping):
            return self.columns
        if isinstance(self.columns, dict):
            return ColumnMapping.from_dict(self.columns)
        raise DataError(f"columns must be a dict or a ColumnMapping, got {type(self.columns).__name__}",
                        expected='e.g. columns={"customer_id": "client", "timestamp": "booked_at"}')

    # -- fitting ------------------------------------------------------------------------------------------
    def fit(self, X, y=None, outcomes=None) -> "Segmenter":
        """Segment the customers of `X`: a transactions DataFrame, a path (Berka folder, CSV or Parquet file,
        folder or glob of Parquet files), or a `fthc.data.Source`. `outcomes`: what the bank knows of some
        customers' credit (`fthc.risk.outcomes`): a file path, an `Outcomes`, a Series of 0/1 by customer id, a
        frame (`fthc.risk.outcomes.outcomes_frame` names its columns), or "loans" on a Berka folder; `y` is taken
        for it where `outcomes` is not given (scikit-learn's `fit(X, y)`)."""
        outcomes = y if outcomes is None else outcomes
        from ..data.source import as_source, cut_source
        from ..estimator import Clusterer, FrozenEstimator
        from ..models.feature_encoder import FeatureEncoder
        from ..risk.outcomes import as_outcomes, judging_outcomes
        from .reasons import Reasons

        check_k(self.k)
        config = self._config()
        representation = self._representation(config)
        t0 = time.perf_counter()
        source = as_source(X, self._mapping(), lenient=self.lenient)
        if self.as_of is not None:  # point in time: nothing after as_of is read, outcomes included
            source = cut_source(source, self.as_of)
        self._reset()
        self.representation_ = representation
        self.column_mapping_ = source.mapping.to_dict() if source.mapping is not None else None
        self.currency_ = self.currency or source.currency
        notes = source_notes(source, self.drop_duplicates)
        measures, sums, engine = read_measures(source, self.engine)
        inputs, series = encoder_inputs(source, measures, representation, config)
        ids = measures.index.to_numpy()
        if len(ids) < 2:
            raise DataError(f"{len(ids)} customer in the data: segments need at least 2 customers",
                            expected="transactions of 2 or more customers")
        self.context_ = berka_context(source.berka, ids) if source.berka is not None else None
        self.outcomes_learn_ = outcomes is not None
        known = as_outcomes(outcomes, measures.index, self.context_) if outcomes is not None else \
            judging_outcomes(self.context_)
        encoder = Clusterer(config)._components()[0]
        announce(f"fitting the {'features' if representation == 'behaviour' else representation} encoder on "
                 f"{len(ids):,} customers")
        encoder = encoder.fit(inputs)
        z = encoder.transform(inputs)
        if self.k == "auto":
            choice = choose_k(z, lambda k, s: make_head(config.replace(seed=s), k).starting_point(), self.ks,
                              seed=self.seed)
            k, self.k_choice_, self.k_why_ = choice.k, choice.table, choice.why
        else:
            k, self.k_choice_, self.k_why_ = int(self.k), None, None
        if k > len(ids):
            raise DataError(f"{len(ids)} customers cannot form {k} segments", expected=f"at least {k} customers")
        self.notes_ = notes + list(source.report.warnings) + history_notes(series, measures, self.min_history)
        if source.report.unmapped_note():
            self.notes_.append(source.report.unmapped_note())
        size_check(self, k, len(ids))
        self.feature_space_ = encoder if isinstance(encoder, FeatureEncoder) else FeatureEncoder().fit(measures)
        self.risk_weight_, self.outcome_model_, self.risk_choice_ = 0.0, None, None
        as_of = None
        self.window_ = WINDOW if self.window == "auto" else self.window  # "auto": chosen where outcomes are learnt
        if known is not None:
            known = readable_outcomes(known, source, engine, self.as_of, self.performance_months,
                                      self.outcomes_learn_, self._warn)
            self.window_ = chosen_window(self, source, engine, known)
            w = outcome_windows(source, engine, known, measures.index, self.window_, self.as_of,
                                self.outcomes_learn_, self._warn)
            self.cutoffs_, self.window_measures_, self.risk_inputs_ = w.cutoffs, w.measures, w.inputs
            self.as_of_sums_ = w.sums.loc[w.sums.index.intersection(known.y.index)]
            as_of = w.measures.loc[w.measures.index.intersection(known.y.index)]
            if self.outcomes_learn_:
                as_of = enough_history(as_of, self.min_history, self.window_, self.notes_)
                self._fit_risk(known, as_of, measures, z, config, k)
        announce(f"fitting k={k}")
        model = Clusterer(config.replace(k=k), encoder=FrozenEstimator(encoder))
        if self.risk_weight_ == 0:
            model.fit(inputs)
            z = model.transform(inputs)
        else:  # the head on the behaviour space with the risk axis
            model.encoder_, model.head_ = encoder, make_head(config.replace(k=k)).fit(scoring.space(self, measures, z, True))
            model.series_spec_, model.series_scaling_, model.channels_ = (getattr(inputs, a, None) for a in
                                                                       ("spec", "scaling", "channels"))
        model.column_mapping_ = self.column_mapping_
        self.model_ = model
        space = scoring.space(self, measures, z, fitted=True)
        self.k_check_ = risk_space_check(self, space, config, k)
        self.stability_ = Stability.fit(model.head_, space, self.refits, self.seed)
        self.labels_ = pd.Series(model.head_.labels_, index=pd.Index(ids, name="customer_id"), name="segment")
        floor_check(self)
        self.confidence_ = pd.Series(self.stability_.proba(space)[np.arange(len(ids)), model.head_.labels_],
                                     index=self.labels_.index, name="confidence")
        self.measures_, self.sums_ = measures, sums
        self.monthly_ = source.monthly(engine, chart_sample(self.labels_, self.seed))
        self.profile_ = profile_segments(self.measures_, self.labels_, self.context_, with_population=True)
        self.names_, self.descriptions_ = named_segments(self)
        self.reasons_ = Reasons(self.feature_space_, measures, self.labels_, self.currency_)
        # honest figures: customers placed from their history before the outcome's date
        self.outcome_check_ = scoring.checked_outcomes(self, known, as_of) if known is not None else None
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _warn(self, text: str) -> None:
        """A warning for the caller, and the same line in the outputs' notes."""
        import warnings

        warnings.warn(text, FthcWarning, stacklevel=4)
        self.notes_.append(text)

    def _fit_risk(self, known, as_of, measures, z, config, k) -> None:
        """The cross-fitted outcome model, every customer's risk and grade, and the risk weight of the space
        (`fthc.risk.segment_risk`)."""
        from ..clustering import HEADS
        from ..risk.segment_risk import SegmentRisk

        ids = as_of.index
        y = learnt_outcomes(known, self.window_measures_.index, ids, self.window_, self.notes_)
        announce(f"learning the outcome from {len(ids):,} customers ({int(y.sum()):,} positive; "
                 f"{self.risk_model} model, nested cross-validation)")
        risk = SegmentRisk(self.risk_model, self.seed, self.currency_, self.grade_edges, self.min_history).fit(
            self.risk_inputs_, y, measures.index, known.given)
        self.outcome_model_, self.outcomes_, self.risk_ = risk.estimator_, known, risk.risk_
        self.risk_center_, self.risk_scale_, self.fitted_logit_ = risk.center_, risk.scale_, risk.logit_
        self.population_ = risk.population_
        self.notes_ += risk.notes(self.window_)
        if self.risk_weight == 0:
            self.risk_why_ = "risk weight 0, as asked"
        elif not risk.estimator_.has_signal:
            self.risk_why_ = "risk weight 0 (the outcome model found no pattern beyond the portfolio's rate)"
        elif HEADS.get(config.head.clustering).flag("refines_encoder") or self.representation_ != "behaviour":
            self.notes_.append(f"segments of the {self.method if isinstance(self.method, str) else 'configured'} "
                               "method are not made risk-aware (that needs the behaviour-feature space); the risk of "
                               "every customer is estimated all the same")
            self.risk_why_ = "risk weight 0 (the method's space cannot take the risk axis)"
        else:
            self.risk_weight_, self.risk_choice_, self.risk_why_ = risk.choose_weight(
                lambda: make_head(config.replace(k=k)), z, self.feature_space_.transform(as_of), ids, y,
                self.risk_weight)

    def risk_at(self, X, dates: pd.Series) -> pd.DataFrame:
        """Risk, interval, grade and risk reasons of the customers of `dates` (customer id -> reference date),
        each from its window before that date's month: how an applicant is scored at its application date."""
        return scoring.risk_at(self, X, dates)

    def track(self, X, every: str = "quarter", start=None, end=None, periods: int = 12, alerts: float | int = 0.05):
        """Segment, risk and grade at every period's end, migrations, early-warning alerts (`alerts`: a share of
        each period's customers, or a count), drift (`segments.tracking`)."""
        from .tracking import track
        return track(self, X, every, start, end, periods, alerts)

    def transform(self, X) -> pd.DataFrame:
        """The points the segments are made in (one row per customer; with the risk axis last when the
        segments are risk-aware)."""
        measures, inputs, risk = scoring.scored_inputs(self, X)
        z = scoring.space(self, measures, self.model_.transform(inputs), risk=risk)
        return pd.DataFrame(z, index=pd.Index(measures.index, name="customer_id"),
                            columns=[f"z{i}" for i in range(z.shape[1])])

    def predict(self, X) -> pd.Series:
        """Each customer's segment (a Series indexed by customer id)."""
        measures, inputs, risk = scoring.scored_inputs(self, X)
        segment = self.model_.head_.predict(scoring.space(self, measures, self.model_.transform(inputs), risk=risk))
        return pd.Series(segment, index=pd.Index(measures.index, name="customer_id"), name="segment")

    def predict_proba(self, X) -> pd.DataFrame:
        """Per customer and segment: the share of the refitted segmentations that put the customer there."""
        measures, inputs, risk = scoring.scored_inputs(self, X)
        p = self.stability_.proba(scoring.space(self, measures, self.model_.transform(inputs), risk=risk))
        return pd.DataFrame(p, index=pd.Index(measures.index, name="customer_id"), columns=list(range(p.shape[1])))

    def assign(self, X) -> pd.DataFrame:
        """Each customer's segment, its name, confidence, number of transactions and reasons; with an outcome
        model, its risk, interval, grade and risk reasons (index: customer id). The same columns as
        `assignments_` and `fthc segment`'s assignments.csv."""
        measures, inputs, risk = scoring.scored_inputs(self, X)
        return self._assignments(measures, self.model_.transform(inputs), risk)

    def _assignments(self, measures: pd.DataFrame, z: np.ndarray, risk: pd.DataFrame | None = None) -> pd.DataFrame:
        return scoring.assignments(self, measures, z, risk)

    @property
    def assignments_(self) -> pd.DataFrame:
        """The fitted customers' assignments (as `assign` gives them)."""
        return scoring.fitted_assignments(self)

    def offer(self, X, product=None):
        """What to offer each customer of `X` (`fthc.offer`): affordable repayment and amount, PD, expected loss
        and margin, a decision and its reason; the strategy table of grade cut-offs; each segment's savings and
        protection needs. `product`: a `fthc.offer.Product` (None: its stated defaults)."""
        return scoring.offer(self, X, product)

    # -- saving -------------------------------------------------------------------------------------------
    def save(self, folder):
        """The model folder (manifest, checksums, arrays; no pickle): `Segmenter.load` and `fthc assign` read it."""
        return saved.save(self, folder)

    @classmethod
    def load(cls, folder) -> "Segmenter":
        """A saved Segmenter (its manifest and checksums are checked first; nothing is unpickled)."""
        return saved.load(cls, folder)

    def __repr__(self) -> str:
        method = self.method if isinstance(self.method, str) else repr(self.method)
        columns = f", columns={given_columns(self.columns)!r}" if given_columns(self.columns) else ""
        return f"Segmenter(k={self.k!r}, method={method!r}{columns}, engine={self.engine!r}, seed={self.seed})"


def given_columns(columns) -> dict | None:
    """The column mapping as a user would have written it: only what differs from the defaults."""
    from dataclasses import asdict

    from ..data.transactions import ColumnMapping

    if columns is None:
        return None
    given = asdict(columns) if isinstance(columns, ColumnMapping) else dict(columns)
    default = asdict(ColumnMapping())
    return {k: v for k, v in given.items() if k in default and v not in (default[k], list(default[k] or []))
            and not (k in ColumnMapping.OPTIONAL_BY_NAME and v == k)}


def risk_space_check(seg: Segmenter, space: np.ndarray, config: ClustererConfig, k: int) -> dict | None:
    """k was judged in the behaviour space; with a risk axis the head clusters another space, so k's prediction
    strength is measured again there, said in the notes, and warned about where it no longer reproduces."""
    if seg.risk_weight_ == 0 or k < 2:
        return None
    check = recheck_k(space, lambda kk, s: make_head(config.replace(seed=s), kk).starting_point(), k,
                          seed=seg.seed)
    said = (f"k={k} in the space clustered (behaviour with the risk axis at weight {seg.risk_weight_:g}): "
            f"prediction strength {check['prediction_strength']:.2f} ± {check['prediction_strength_sd']:.2f}, "
            f"{check['verdict']}")
    if check["verdict"] == "reproduces":
        seg.notes_.append(said)
    else:
        seg._warn(said + ": these segments are not reproducible; try another k, or --risk-weight 0")
    return check


def size_check(seg: Segmenter, k: int, customers: int) -> None:
    """A k too large for the customers is warned about before the fit."""
    if k > 1 and customers < SMALL_SEGMENTS * k:
        seg._warn(f"k={k} for {customers:,} customers leaves about {customers / k:.0f} customers per segment: "
                  "segments this small are neither describable nor reproducible; ask for at most "
                  f"k={max(customers // SMALL_SEGMENTS, 1)}, or k='auto'")


def floor_check(seg: Segmenter) -> None:
    """Segments under the floor (`SEGMENT_FLOOR` customers) are named, whatever k was asked."""
    sizes = seg.labels_.value_counts().sort_index()
    tiny = sizes[sizes < SEGMENT_FLOOR]
    if len(tiny):
        shown = ", ".join(f"{s} ({n})" for s, n in tiny.head(8).items()) + (", ..." if len(tiny) > 8 else "")
        seg._warn(f"{len(tiny)} of {len(sizes)} segments {'holds' if len(tiny) == 1 else 'hold'} fewer than "
                  f"{SEGMENT_FLOOR} customers (segment "
                  f"(customers): {shown}): too few to describe or to reproduce; ask for a smaller k, or k='auto'")

