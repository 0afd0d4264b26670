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
measures of every fitted customer), `model_` (the Clusterer), `notes_` (what the outputs must say). They read the
fitted parts: `segment_model_` (what scoring applies and a model folder keeps), `risk_fit_` (what the outcomes
taught), `fit_summary_` (the fitted customers).

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
from ..errors import DataError, FthcError
from ..features.window import WINDOW
from ..risk.estimator import MIN_HISTORY
from ..progress import announce
from ..risk.segment_risk import RISK_COLUMNS
from . import saved, scoring
from .choice import choose_k
from .describe import named_segments
from .fit_checks import floor_check, noted_warning, risk_space_check, size_check
from .fit_summary import FitSummary
from .inputs import MAX_STEPS, SHORT_HISTORY, chart_sample, encoder_inputs, history_notes, read_measures, source_notes
from .profile import berka_context, profile_segments
from .risk_fit import checked_outcomes, fit_risk
from .segment_model import RiskAxis, SegmentModel, logit_of
from .stability import REFITS, Stability
from .windows import choose_window, enough_history, readable_outcomes, outcome_windows

KS = range(1, 9)
__all__ = ["Segmenter", "FthcError", "MAX_STEPS", "RISK_COLUMNS", "SHORT_HISTORY"]


_MISSING = object()


class _part:
    """A read-only fitted attribute: a field (dotted: a field's field) of one of the Segmenter's fitted parts.
    Missing where the part is not there (not fitted), or is None (fitted without outcomes; a loaded model's part it
    does not keep) unless `when_none` is given; the Segmenter's `__getattr__` then says where a loaded model left
    it."""

    def __init__(self, part: str, field: str, when_none=_MISSING):
        self.part, self.field, self.when_none = part, field.split("."), when_none

    def __set_name__(self, owner, name: str):
        self.name = name

    def __get__(self, seg, owner=None):
        if seg is None:
            return self
        value = seg.__dict__.get(self.part)
        if value is None:
            if self.part in seg.__dict__ and self.when_none is not _MISSING:
                return self.when_none
            raise AttributeError(self.name)
        for name in self.field:
            value = getattr(value, name)
        return value

    def __set__(self, seg, value):
        raise AttributeError(f"{self.name} is read from the fitted {self.part}: fit sets it")


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
    window_, currency_ : int or None, str or None
        The months of history every window reads (window="auto": the one chosen), and the currency named.
    segment_model_, risk_fit_, fit_summary_ : SegmentModel, RiskFit or None, FitSummary
        The fitted state, whose fields the attributes above read: what scoring applies and a saved model keeps
        (`fthc.segments.segment_model`), what the outcomes taught (None without outcomes;
        `fthc.segments.risk_fit`), the fitted customers (`fthc.segments.fit_summary`). A loaded model has the
        first only.

    Examples
    --------
    >>> import fthc
    >>> seg = fthc.Segmenter(k="auto").fit("bank/transactions.csv", outcomes="bank/outcomes.csv")  # doctest: +SKIP
    >>> seg.assignments_[["segment", "name", "risk", "risk_grade"]].head()                       # doctest: +SKIP
    """

    fitted_attribute = "segment_model_"
    # outcomes are fit's own input, not metadata a meta-estimator routes: no set_fit_request (and its page of help)
    __metadata_request__fit = {"outcomes": metadata_routing.UNUSED}

    # the fitted state is three parts: `segment_model_` (what scoring applies and a model folder keeps),
    # `risk_fit_` (what the outcomes taught; None without outcomes), `fit_summary_` (the fitted customers);
    # scikit-learn's fitted attributes read them
    labels_, confidence_ = _part("fit_summary_", "labels"), _part("fit_summary_", "confidence")
    profile_, measures_, sums_ = (_part("fit_summary_", f) for f in ("profile", "measures", "sums"))
    k_choice_, k_check_ = _part("fit_summary_", "k_choice"), _part("fit_summary_", "k_check")
    notes_, outcome_check_ = _part("fit_summary_", "notes"), _part("fit_summary_", "outcome_check")
    fit_seconds_, feature_space_ = _part("fit_summary_", "fit_seconds"), _part("segment_model_", "feature_space")
    monthly_, context_ = _part("fit_summary_", "monthly"), _part("fit_summary_", "context")
    representation_, column_mapping_ = (_part("segment_model_", f) for f in ("representation", "column_mapping"))
    population_ = _part("risk_fit_", "population", when_none=None)
    model_, stability_ = _part("segment_model_", "clusterer"), _part("segment_model_", "stability")
    names_, descriptions_ = _part("segment_model_", "names"), _part("segment_model_", "descriptions")
    k_why_, reasons_ = _part("segment_model_", "k_why"), _part("segment_model_", "reasons")
    window_, currency_ = _part("segment_model_", "window"), _part("segment_model_", "currency")
    outcome_model_, risk_weight_ = _part("segment_model_", "outcome_model"), _part("segment_model_", "axis.weight")
    risk_, outcomes_, risk_why_ = (_part("risk_fit_", f) for f in ("risk", "outcomes", "why"))
    risk_choice_ = _part("risk_fit_", "choice", when_none=None)

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
        currency = self.currency or source.currency
        notes = source_notes(source, self.drop_duplicates)
        measures, sums, engine = read_measures(source, self.engine)
        inputs, series = encoder_inputs(source, measures, representation, config)
        ids = measures.index.to_numpy()
        if len(ids) < 2:
            raise DataError(f"{len(ids)} customer in the data: segments need at least 2 customers",
                            expected="transactions of 2 or more customers")
        context = berka_context(source.berka, ids) if source.berka is not None else None
        learn = outcomes is not None
        known = as_outcomes(outcomes, measures.index, context) if learn else judging_outcomes(context)
        encoder = Clusterer(config)._components()[0]
        announce(f"fitting the {'features' if representation == 'behaviour' else representation} encoder on "
                 f"{len(ids):,} customers")
        encoder = encoder.fit(inputs)
        z = encoder.transform(inputs)
        k, k_choice, k_why = self._chosen_k(z, config)
        if k > len(ids):
            raise DataError(f"{len(ids)} customers cannot form {k} segments", expected=f"at least {k} customers")
        notes += list(source.report.warnings) + history_notes(series, measures, self.min_history)
        notes += [source.report.unmapped_note()] if source.report.unmapped_note() else []
        warn = noted_warning(notes)
        size_check(warn, k, len(ids))
        feature_space = encoder if isinstance(encoder, FeatureEncoder) else FeatureEncoder().fit(measures)
        window = WINDOW if self.window == "auto" else self.window  # "auto": chosen where outcomes are learnt
        risk_fit, outcome_model, axis, windows, as_of = None, None, RiskAxis(), None, None
        if known is not None:
            known = readable_outcomes(known, source, engine, self.as_of, self.performance_months, learn, warn)
            if self.window == "auto" and learn:
                window = choose_window(source, engine, known, self.as_of, self.min_history, self.risk_model,
                                       self.seed, notes)
            windows = outcome_windows(source, engine, known, measures.index, window, self.as_of, learn, warn)
            as_of = windows.measures.loc[windows.measures.index.intersection(known.y.index)]
            if learn:
                as_of = enough_history(as_of, self.min_history, window, notes)
                risk_fit, outcome_model, axis = fit_risk(
                    known, windows, as_of, measures, z, lambda: make_head(config.replace(k=k)), feature_space,
                    kind=self.risk_model, seed=self.seed, currency=currency, grade_edges=self.grade_edges,
                    min_history=self.min_history, window=window, risk_weight=self.risk_weight,
                    no_axis=self._no_axis(config, representation), notes=notes)
        announce(f"fitting k={k}")
        if axis.weight == 0:
            model = Clusterer(config.replace(k=k), encoder=FrozenEstimator(encoder)).fit(inputs)
            space = model.transform(inputs)
        else:  # the head on the behaviour space with the risk axis
            space = axis.points(z, risk_fit.fitted_logit)
            model = Clusterer.assembled(config.replace(k=k), encoder, make_head(config.replace(k=k)).fit(space),
                                        inputs)
        model.column_mapping_ = source.mapping.to_dict() if source.mapping is not None else None
        k_check = risk_space_check(axis.weight, space, config, k, self.seed, notes, warn)
        stability = Stability.fit(model.head_, space, self.refits, self.seed)
        labels = pd.Series(model.head_.labels_, index=pd.Index(ids, name="customer_id"), name="segment")
        floor_check(labels, warn)
        confidence = pd.Series(stability.proba(space)[np.arange(len(ids)), model.head_.labels_],
                               index=labels.index, name="confidence")
        monthly = source.monthly(engine, chart_sample(labels, self.seed))
        profile = profile_segments(measures, labels, context, with_population=True)
        names, descriptions = named_segments(profile, measures, labels, self.min_history, currency)
        segment_model = SegmentModel(
            clusterer=model, axis=axis, stability=stability, feature_space=feature_space,
            reasons=Reasons(feature_space, measures, labels, currency), names=names, descriptions=descriptions,
            k_why=k_why, representation=representation, min_history=self.min_history, currency=currency,
            window=window, outcome_model=outcome_model,
            credit_history=risk_fit.credit_history if risk_fit else None)
        # honest figures: customers placed from their history before the outcome's date
        check = checked_outcomes(segment_model, known, as_of, windows, labels, sums, risk_fit, self.seed) \
            if known is not None else None
        # the parts set together, last: a fit that fails on the way leaves none of them
        self.segment_model_, self.risk_fit_ = segment_model, risk_fit
        self.fit_summary_ = FitSummary(labels, confidence, profile, measures, sums, monthly, context, k_choice,
                                       k_check, notes, check, time.perf_counter() - t0)
        return self

    def _chosen_k(self, z: np.ndarray, config: ClustererConfig) -> tuple[int, pd.DataFrame | None, str | None]:
        """k as asked, or (k="auto") the largest that reproduces, with the table per k and the choice in words."""
        if self.k != "auto":
            return int(self.k), None, None
        choice = choose_k(z, lambda k, s: make_head(config.replace(seed=s), k).starting_point(), self.ks,
                          seed=self.seed)
        return choice.k, choice.table, choice.why

    def _no_axis(self, config: ClustererConfig, representation: str) -> str | None:
        """Why the method's space cannot take the risk axis (None where it can: the behaviour-feature space)."""
        from ..clustering import HEADS

        if HEADS.get(config.head.clustering).flag("refines_encoder") or representation != "behaviour":
            return (f"segments of the {self.method if isinstance(self.method, str) else 'configured'} method are "
                    "not made risk-aware (that needs the behaviour-feature space); the risk of every customer is "
                    "estimated all the same")
        return None

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
        measures, z, risk = self._scored(X)
        z = self.segment_model_.space(z, logit_of(risk))
        return pd.DataFrame(z, index=pd.Index(measures.index, name="customer_id"),
                            columns=[f"z{i}" for i in range(z.shape[1])])

    def predict(self, X) -> pd.Series:
        """Each customer's segment (a Series indexed by customer id)."""
        measures, z, risk = self._scored(X)
        segment = self.segment_model_.predict(z, logit_of(risk))
        return pd.Series(segment, index=pd.Index(measures.index, name="customer_id"), name="segment")

    def predict_proba(self, X) -> pd.DataFrame:
        """Per customer and segment: the share of the refitted segmentations that put the customer there."""
        measures, z, risk = self._scored(X)
        p = self.segment_model_.proba(z, logit_of(risk))
        return pd.DataFrame(p, index=pd.Index(measures.index, name="customer_id"), columns=list(range(p.shape[1])))

    def assign(self, X) -> pd.DataFrame:
        """Each customer's segment, its name, confidence, number of transactions and reasons; with an outcome
        model, its risk, interval, grade and risk reasons (index: customer id). The same columns as
        `assignments_` and `fthc segment`'s assignments.csv."""
        measures, z, risk = self._scored(X)
        return self.segment_model_.assign(measures, z, risk)

    def _scored(self, X) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]:
        """The customers of `X` read as at fitting: their measures, the encoder's points, their risk (or None)."""
        measures, inputs, risk = scoring.scored_inputs(self, X)
        return measures, self.model_.transform(inputs), risk

    @property
    def assignments_(self) -> pd.DataFrame:
        """The fitted customers' assignments (as `assign` gives them)."""
        self.check_fitted()
        if self.fit_summary_ is None:  # a loaded model: __getattr__ says where the fit wrote them
            raise AttributeError("assignments_")
        return scoring.fitted_assignments(self.segment_model_, self.fit_summary_, self.risk_fit_)

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
