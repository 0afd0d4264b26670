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
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..base import FthcEstimator
from ..config import ClustererConfig, encoder_component, get_preset, make_head, preset
from ..errors import DataError, FthcError
from ..progress import announce
from .choice import choose_k
from .describe import describe, name_segments
from .profile import berka_context, profile_segments
from ..features.window import WINDOW
from .stability import REFITS, Stability

MAX_STEPS = 1000  # series keep each customer's latest 1,000 steps (deep methods: memory grows with the longest)
RISK_COLUMNS = ["risk", "risk_low", "risk_high", "risk_grade", "risk_reasons", "has_outcome", "outcome"]
SHORT_HISTORY = 3  # customers with fewer transactions are segmented like the others and flagged
KS = range(1, 9)


class Segmenter(FthcEstimator):
    """Segments of customers from their transactions.

    k: a number of segments, or "auto" (prediction strength, `fthc.segments.choice`).
    method: a preset name (`fthc.config.PRESETS`: features, behaviour, fthc, ...) or a `ClustererConfig`.
    columns: the column mapping of a transactions table (a dict as in the CLI's [columns] TOML, or a
        `ColumnMapping`); None: customer_id, timestamp, amount, and balance / category / direction where the table
        has columns of those names.
    engine: what computes the behaviour measures: duckdb (embedded, the default), pandas, spark.
    """

    fitted_attribute = "labels_"

    def __init__(self, k: int | str = "auto", method: str | ClustererConfig = "features", columns=None, *,
                 engine: str = "duckdb", ks=KS, seed: int = 0, representation: str | None = None,
                 lenient: bool = False, refits: int = REFITS, currency: str | None = None,
                 risk_weight: float | str = "auto", drop_duplicates: bool = False, risk_model: str = "boosted",
                 window: int | None = WINDOW, as_of=None):
        self.k = k
        self.method = method
        self.columns = columns
        self.engine = engine
        self.ks = ks
        self.seed = seed
        self.representation = representation
        self.lenient = lenient
        self.refits = refits
        self.currency = currency
        self.risk_weight = risk_weight
        self.drop_duplicates = drop_duplicates
        self.risk_model = risk_model
        self.window = window
        self.as_of = as_of

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

    def _check_k(self) -> None:
        k = self.k
        if isinstance(k, str) and k == "auto":
            return
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
            raise DataError(f"k must be a number of segments (1 or more) or 'auto', got {k!r}")

    # -- fitting ------------------------------------------------------------------------------------------
    def fit(self, X, y=None, outcomes=None) -> "Segmenter":
        """Segment the customers of `X`: a transactions DataFrame, a path (Berka folder, CSV or Parquet file,
        folder or glob of Parquet files), or a `fthc.data.Source`. `outcomes`: what the bank knows of some
        customers' credit (`fthc.risk.outcomes`): a file path, an `Outcomes`, a Series of 0/1 by customer id, or
        "loans" on a Berka folder."""
        from ..data.source import as_source
        from ..estimator import Clusterer, FrozenEstimator

        self._check_k()
        config = self._config()
        representation = self._representation(config)
        t0 = time.perf_counter()
        source = as_source(X, self._mapping(), lenient=self.lenient)
        self._reset()
        self.representation_ = representation
        self.column_mapping_ = source.mapping.to_dict() if source.mapping is not None else None
        self.currency_ = self.currency or source.currency
        source_notes = self._source_notes(source)
        measures, sums, engine = self._measures(source)
        inputs, series = self._inputs(source, measures, representation, config)
        ids = measures.index.to_numpy()
        if len(ids) < 2:
            raise DataError(f"{len(ids)} customer in the data: segments need at least 2 customers",
                            expected="transactions of 2 or more customers")
        self.context_ = berka_context(source.berka, ids) if source.berka is not None else None
        known = self._outcomes(outcomes, measures.index)
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
        self.notes_ = source_notes + list(source.report.warnings) + self._history_notes(series, measures)
        if source.report.unmapped_note():
            self.notes_.append(source.report.unmapped_note())
        self.feature_space_ = encoder if isinstance(encoder, _feature_encoder_class()) else \
            _feature_encoder_class()().fit(measures)
        self.risk_weight_, self.outcome_model_, self.risk_choice_ = 0.0, None, None
        as_of = self._windows(source, engine, known, measures) if known is not None else None
        if known is not None and self.outcomes_learn_:
            self._fit_outcome_model(known, as_of, measures, z, config, k)
        announce(f"fitting k={k}")
        model = Clusterer(config.replace(k=k), encoder=FrozenEstimator(encoder))
        if self.risk_weight_ == 0:
            model.fit(inputs)
            z = model.transform(inputs)
        else:  # the head on the behaviour space with the risk axis
            model.encoder_, model.head_ = encoder, make_head(config.replace(k=k)).fit(self._space(measures, z, True))
            model.series_spec_, model.series_scaling_, model.channels_ = (getattr(inputs, a, None) for a in
                                                                       ("spec", "scaling", "channels"))
        model.column_mapping_ = self.column_mapping_
        self.model_ = model
        space = self._space(measures, z, fitted=True)
        self.stability_ = Stability.fit(model.head_, space, self.refits, self.seed)
        self.labels_ = pd.Series(model.head_.labels_, index=pd.Index(ids, name="customer_id"), name="segment")
        self.confidence_ = pd.Series(self.stability_.proba(space)[np.arange(len(ids)), model.head_.labels_],
                                     index=self.labels_.index, name="confidence")
        self.measures_, self.sums_ = measures, sums
        self.monthly_ = source.monthly(engine, chart_sample(self.labels_, self.seed))
        self._describe()
        from .reasons import Reasons

        self.reasons_ = Reasons(self.feature_space_, measures, self.labels_, self.currency_)
        self.outcome_check_ = self._check_outcomes(known, as_of, measures) if known is not None else None
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    # -- outcomes and risk --------------------------------------------------------------------------------
    def _outcomes(self, outcomes, customers: pd.Index):
        """The outcomes to learn from (given), or Berka's loans to judge by (not given), or None."""
        from ..risk.outcomes import OutcomeFile, Outcomes, berka_outcomes, check_learnable, read_outcomes

        self.outcomes_learn_ = outcomes is not None
        if outcomes is None:
            if self.context_ is not None and self.context_["has_loan"].sum() >= 20:
                try:
                    return berka_outcomes(self.context_)
                except DataError:
                    return None
            return None
        if isinstance(outcomes, Outcomes):
            result = outcomes
        elif isinstance(outcomes, OutcomeFile):
            result = outcomes.read(customers)
        elif isinstance(outcomes, str) and outcomes == "loans":
            if self.context_ is None:
                raise DataError("outcomes 'loans' need a Berka folder (its loan table)",
                                expected="a Berka folder, or an outcomes file for a transactions table")
            result = berka_outcomes(self.context_)
        elif isinstance(outcomes, pd.Series):  # 0/1 by customer id (no dates)
            from ..risk.outcomes import outcomes_from_frame

            name = str(outcomes.name or "default")
            frame = pd.DataFrame({"customer_id": outcomes.index.to_numpy(), name: outcomes.to_numpy()})
            result = outcomes_from_frame(frame, None, "the outcomes Series", customers, "customer_id", name)
        elif isinstance(outcomes, pd.DataFrame):  # customer_id, default[, reference_date], as in a file
            from ..risk.outcomes import outcomes_from_frame

            result = outcomes_from_frame(outcomes.reset_index(drop=True), None, "the outcomes DataFrame", customers)
        else:
            result = read_outcomes(outcomes, customers)
        return result

    def _windows(self, source, engine, known, measures):
        """Every risk figure's histories (`fthc.features.window`): each customer with an outcome from the window
        before its outcome's month, each other customer (where outcomes are learnt) from the window ending at
        the data's end or `as_of`. Sets `risk_inputs_` (the outcome model's inputs of every customer with a
        window) and `as_of_sums_`; returns the window measures of the customers with an outcome."""
        from ..features.window import cutoffs

        undated = known.date is None
        if known.unknown:
            self._warn(f"{known.unknown:,} of the {known.rows or known.unknown + len(known.y):,} outcome rows in "
                       f"{known.source} name ids that are not among the customers: left out (e.g. "
                       + ", ".join(repr(str(x)) for x in known.unknown_examples[:3]) + ")")
        if undated and self.outcomes_learn_:
            self._warn(f"the outcomes in {known.source} have no dates: the model learns from the latest "
                       f"{self.window or 'all'} months of each history, which may hold what the outcome itself "
                       "caused (arrears, sanction interest); give the date the outcome refers to "
                       "(--outcome-date-col)")
        end = self._reference_end(source, engine)
        reference = pd.Series(end, index=measures.index if self.outcomes_learn_ else known.y.index)
        if not undated:
            reference.loc[known.date.index] = pd.to_datetime(known.date).to_numpy()
        announce(f"behaviour of {len(reference):,} customers over their {self.window or 'whole'}-month window "
                 "before " + ("their outcome's date" if not self.outcomes_learn_ else "their reference date"))
        self.cutoffs_, sums, self.window_measures_, self.risk_inputs_ = self._window(source, engine, reference)
        self.as_of_sums_ = sums.loc[sums.index.intersection(known.y.index)]
        return self.window_measures_.loc[self.window_measures_.index.intersection(known.y.index)]

    def _warn(self, text: str) -> None:
        """A warning for the caller, and the same line in the outputs' notes."""
        import warnings

        warnings.warn(text, UserWarning, stacklevel=4)
        self.notes_.append(text)

    def _window(self, source, engine, reference: pd.Series):
        """Each customer's window ending at its reference date (`fthc.features.window`): the cutoffs, the
        engine's sums over it, their measures, and the outcome model's inputs (with the recent months)."""
        from ..features.window import cutoffs, recent_months
        from ..risk.estimator import risk_inputs

        cut = cutoffs(reference, self.window)
        sums = source.sums(engine, as_of=cut)
        window_measures = _measures_of(sums)
        recent = recent_months(source.months(engine, cut), cut.loc[window_measures.index])
        return cut, sums, window_measures, risk_inputs(window_measures, recent)

    def _reference_end(self, source, engine) -> pd.Timestamp:
        """The reference date of customers without an outcome: `as_of`, or the day after the data's last whole
        month."""
        from ..features.window import data_end_cutoff, month_start

        if self.as_of is not None:
            return month_start(pd.Timestamp(self.as_of))
        return data_end_cutoff(source.last_timestamp(engine))

    def _fit_outcome_model(self, known, as_of, measures, z, config, k) -> None:
        """The cross-fitted outcome model, every customer's risk and grade, and the risk weight of the space."""
        from ..clustering import HEADS
        from ..risk.aware import choose_weight
        from ..risk.estimator import RiskEstimator

        inputs = self.risk_inputs_
        missing = known.y.index.difference(as_of.index)
        if len(missing):
            self.notes_.append(f"{len(missing):,} customers with an outcome have no transactions in the "
                               f"{self.window or 'whole'}-month window before its date: left out of the outcome "
                               "model")
        ids = as_of.index
        y = known.y.loc[ids].astype(int)
        announce(f"learning the outcome from {len(ids):,} customers ({int(y.sum()):,} positive; "
                 f"{self.risk_model} model, nested cross-validation)")
        est = RiskEstimator(self.risk_model, seed=self.seed, currency=self.currency_)
        est.fit(inputs.loc[ids], y, population=inputs)
        self.outcome_model_ = est
        self.outcomes_ = known
        scored = self._risk_of(inputs, measures.index)
        unscored = int(scored["risk"].isna().sum())
        if unscored:
            self.notes_.append(f"{unscored:,} customers have no transactions in their "
                               f"{self.window or 'whole'}-month window: no risk is estimated for them")
        self.risk_ = scored[RISK_COLUMNS].copy()
        self.risk_["outcome"] = known.y.reindex(measures.index)  # also those without a window (not learnt)
        self.risk_center_ = float(scored["logit"].mean())
        logit = scored["logit"].fillna(self.risk_center_).to_numpy()
        self.risk_scale_ = float(np.std(logit)) or 1.0
        self.fitted_logit_ = logit  # each fitted customer's cross-fitted log-odds (the risk axis)
        if self.risk_weight == 0:
            self.risk_why_ = "risk weight 0, as asked"
            return
        if HEADS.get(config.head.clustering).flag("refines_encoder") or self.representation_ != "behaviour":
            self.notes_.append(f"segments of the {self.method if isinstance(self.method, str) else 'configured'} "
                               "method are not made risk-aware (that needs the behaviour-feature space); the risk of "
                               "every customer is estimated all the same")
            self.risk_why_ = "risk weight 0 (the method's space cannot take the risk axis)"
            return
        z_out = self.feature_space_.transform(as_of)
        oof = est.oof_.loc[ids]
        choice_w, table, why = choose_weight(lambda: make_head(config.replace(k=k)), z, logit,
                                             self.risk_scale_, z_out, oof["logit"].to_numpy(), y.to_numpy(),
                                             est.fold_.loc[ids].to_numpy(), _auc(y, oof["risk"]),
                                             self.risk_weight)
        self.risk_weight_, self.risk_choice_, self.risk_why_ = choice_w, table, why

    def _space(self, measures: pd.DataFrame, z: np.ndarray, fitted: bool = False, risk=None) -> np.ndarray:
        """The space the head works in: the encoder's points, with the risk axis when the segments are
        risk-aware (`fitted`: the fitted customers, placed by their cross-fitted risk)."""
        from ..risk.aware import with_axis

        if not self.risk_weight_:
            return z
        if fitted:
            logit = self.fitted_logit_
        else:  # a customer without a window (no risk) sits at the mean log-odds
            logit = risk["logit"].to_numpy()
            logit = np.where(np.isnan(logit), self.risk_center_, logit)
        return with_axis(z, logit, self.risk_weight_, self.risk_scale_)

    def _check_outcomes(self, known, as_of, measures) -> dict:
        """Honest figures of how segments (and, where learnt, the risk) separate the outcomes: customers placed
        from their history before the outcome's date, rates and models that never saw their own outcome."""
        from ..risk.outcome_check import outcome_check

        return outcome_check(self, known, as_of)

    def _measures(self, source):
        """Every customer's behaviour measures (with its number of transactions), the engine's sums behind them,
        and the engine (which still holds the customer-months)."""
        from ..engines import ENGINES

        engine = ENGINES.create(self.engine)
        announce(f"behaviour of {source.describe()} ({self.engine})")
        sums = source.sums(engine)
        return _measures_of(sums), sums, engine

    def _inputs(self, source, measures: pd.DataFrame, representation: str, config, spec=None, scaling=None):
        """What the encoder reads, for the customers of `measures` in its order: their measures, their series,
        or both; and the series (or None)."""
        from ..data import SeriesSpec, build_series
        from ..models.registries import CustomerInputs

        wants = encoder_component(config).flag("input")
        if representation == "behaviour" and wants == "series":
            raise DataError(f"the {config.encoder.autoencoder!r} encoder reads series, not behaviour measures",
                            expected="representation amounts, events or calendar")
        if wants == "behaviour":
            return measures, None
        tx = source.transactions_in_memory()
        spec = spec or SeriesSpec(representation, max_steps=MAX_STEPS)
        announce(f"building {spec.representation} series of {len(measures):,} customers")
        series = build_series(tx, spec, customers=measures.index.to_numpy(), scaling=scaling)
        expected = getattr(self, "model_", None) and self.model_.channels_
        if scaling is not None and expected and series.channels != expected:
            missing = sorted(set(expected) - set(series.channels))
            raise DataError(f"series channels {series.channels} differ from the model's {expected}"
                            + (f" (missing: {missing})" if missing else ""), file=source.name,
                            expected="the channels the model was fitted on (a model saved by another fthc version?)")
        if config.encoder.feature_weight > 0:
            return CustomerInputs(series, measures), series
        return series, series

    def _describe(self) -> None:
        self.profile_ = profile_segments(self.measures_, self.labels_, self.context_, with_population=True)
        self.names_ = name_segments(self.profile_, self.measures_)
        self.descriptions_ = describe(self.profile_, self.measures_, self.currency_)

    def _source_notes(self, source) -> list[str]:
        """What the data holds that the segments will not show: exact duplicate rows (dropped on request), Berka
        accounts without transactions, several loans or owners per account."""
        from ..data.inspect import berka_problems, duplicate_rows

        notes = []
        tx = getattr(source, "transactions", None)
        if tx is not None:
            dups = duplicate_rows(tx)
            if dups and self.drop_duplicates:
                cols = [c for c in tx.columns if c != "source_row"]
                source.transactions = tx[~tx.duplicated(subset=cols)].reset_index(drop=True)
                notes.append(f"{dups:,} rows were exact duplicates of an earlier row: left out (--drop-duplicates)")
            elif dups:
                notes.append(f"{dups:,} rows are exact duplicates of an earlier row: kept (--drop-duplicates leaves "
                             "them out)")
        else:
            notes.append("exact duplicate rows are not counted for a Parquet dataset read where it lies "
                         "(fthc data inspect counts them)")
        if source.berka is not None:
            notes += berka_problems(source.berka, tx)
        return notes

    def _history_notes(self, series, measures) -> list[str]:
        notes = []
        counts = measures["transactions_count"]
        short = int((counts < SHORT_HISTORY).sum())
        if short:
            notes.append(f"{short:,} customers have fewer than {SHORT_HISTORY} transactions: segmented like the "
                         "others from very little evidence (short_history in assignments.csv)")
        if series is not None and series.report.get("truncated"):
            notes.append(f"{series.report['truncated']:,} customers have histories longer than "
                         f"{series.X.shape[2]:,} steps: their latest steps were used")
        if measures["balance_level"].isna().all():
            notes.append("the data has no balances: nothing is said about balances, and the model's space has no "
                         "balance features")
        if measures["cash_share"].isna().all():
            notes.append("no transaction kinds (every transaction is 'other'): cash, card, salary and pension are "
                         "not measured")
        return notes

    # -- scoring ------------------------------------------------------------------------------------------
    def _scored_inputs(self, X):
        source = self._source(X)
        measures, _, engine = self._measures(source)
        model = self.model_
        spec = replace(model.series_spec_, seq_len=model.seq_len_) if model.series_spec_ is not None else None
        inputs, _ = self._inputs(source, measures, self.representation_, model.config, spec,
                                 model.series_scaling_ or None)
        risk = None
        if self.outcome_model_ is not None:  # the window ending at the data's end (or as_of) of every customer
            reference = pd.Series(self._reference_end(source, engine), index=measures.index)
            risk = self._risk_of(self._window(source, engine, reference)[3], measures.index)
        return measures, inputs, risk

    def _source(self, X):
        """The data to score, read with the mapping given, or else the one the model was fitted with."""
        from ..data.source import as_source

        self.check_fitted()
        mapping = self._mapping()
        if mapping is None and self.column_mapping_:
            from ..data.transactions import ColumnMapping

            mapping = ColumnMapping.from_dict(self.column_mapping_)
        return as_source(X, mapping, lenient=self.lenient)

    def risk_at(self, X, dates: pd.Series) -> pd.DataFrame:
        """Risk, interval, grade and risk reasons of the customers of `dates` (customer id -> reference date),
        each from its window before that date's month: how an applicant is scored at its application date."""
        source = self._source(X)
        if self.outcome_model_ is None:
            raise FthcError("this model was fitted without outcomes: it estimates no risk (fit with outcomes=)")
        _, _, engine = self._measures(source)
        reference = pd.Series(pd.to_datetime(dates).to_numpy(), index=dates.index)
        return self._risk_of(self._window(source, engine, reference)[3], dates.index)

    def transform(self, X) -> pd.DataFrame:
        """The points the segments are made in (one row per customer; with the risk axis last when the
        segments are risk-aware)."""
        measures, inputs, risk = self._scored_inputs(X)
        z = self._space(measures, self.model_.transform(inputs), risk=risk)
        return pd.DataFrame(z, index=pd.Index(measures.index, name="customer_id"),
                            columns=[f"z{i}" for i in range(z.shape[1])])

    def predict(self, X) -> pd.Series:
        """Each customer's segment (a Series indexed by customer id)."""
        measures, inputs, risk = self._scored_inputs(X)
        segment = self.model_.head_.predict(self._space(measures, self.model_.transform(inputs), risk=risk))
        return pd.Series(segment, index=pd.Index(measures.index, name="customer_id"), name="segment")

    def predict_proba(self, X) -> pd.DataFrame:
        """Per customer and segment: the share of the refitted segmentations that put the customer there."""
        measures, inputs, risk = self._scored_inputs(X)
        p = self.stability_.proba(self._space(measures, self.model_.transform(inputs), risk=risk))
        return pd.DataFrame(p, index=pd.Index(measures.index, name="customer_id"), columns=list(range(p.shape[1])))

    def assign(self, X) -> pd.DataFrame:
        """Each customer's segment, its name, confidence, number of transactions and reasons; with an outcome
        model, its risk, interval, grade and risk reasons (index: customer id). The same columns as
        `assignments_` and `fthc segment`'s assignments.csv."""
        measures, inputs, risk = self._scored_inputs(X)
        return self._assignments(measures, self.model_.transform(inputs), risk)

    def _assignments(self, measures: pd.DataFrame, z: np.ndarray, risk: pd.DataFrame | None = None) -> pd.DataFrame:
        space = self._space(measures, z, risk=risk)
        segment = self.model_.head_.predict(space)
        proba = self.stability_.proba(space)
        out = self._table(pd.Index(measures.index, name="customer_id"), segment,
                          proba[np.arange(len(segment)), segment], measures["transactions_count"].to_numpy())
        out["reasons"] = self.reasons_.column(measures, segment)
        if risk is not None:  # risk from the customer's window, by models that never saw its outcome
            out = out.join(risk[RISK_COLUMNS])
        return out

    def _table(self, index: pd.Index, segment: np.ndarray, confidence: np.ndarray, counts: np.ndarray):
        """The columns every assignment has: segment, name, confidence, transactions, short_history."""
        return pd.DataFrame({"segment": segment, "name": [self.names_.get(s, "") for s in segment],
                             "confidence": confidence, "transactions": counts,
                             "short_history": counts < SHORT_HISTORY}, index=index)

    def _risk_of(self, inputs: pd.DataFrame, index: pd.Index) -> pd.DataFrame:
        """Risk, interval, grade, log-odds and risk reasons of customers given by their window's inputs (a
        customer whose outcome was learnt is scored by its own fold's model, never by one that saw it)."""
        est = self.outcome_model_
        scored = est.score(inputs).join(est.reasons(inputs)[["risk_reasons"]]).reindex(index)
        scored["risk_grade"] = scored["risk_grade"].fillna(0).astype(np.int64)
        scored["risk_reasons"] = scored["risk_reasons"].fillna("no transactions in the window: no risk estimated")
        outcome = est.outcomes_.reindex(index)
        scored["has_outcome"], scored["outcome"] = outcome.notna().to_numpy(), outcome.to_numpy()
        return scored

    @property
    def assignments_(self) -> pd.DataFrame:
        """The fitted customers' assignments (as `assign` gives them)."""
        self.check_fitted()
        seg = self.labels_.to_numpy()
        out = self._table(self.labels_.index, seg, self.confidence_.to_numpy(),
                          self.measures_["transactions_count"].to_numpy())
        out["reasons"] = self.reasons_.column(self.measures_, seg)
        if self.outcome_model_ is not None:
            out = out.join(self.risk_[RISK_COLUMNS])
        return out

    # -- saving -------------------------------------------------------------------------------------------
    def save(self, folder) -> Path:
        """The model folder (manifest, checksums, arrays; no pickle): `Segmenter.load` and `fthc assign` read it."""
        from ..artefact import write_artefact

        self.check_fitted()
        extra = {"segmenter": {"params": _params(self), "representation": self.representation_,
                               "names": {str(k): v for k, v in self.names_.items()},
                               "descriptions": {str(k): v for k, v in self.descriptions_.items()},
                               "currency": self.currency_, "k_why": self.k_why_,
                               "refits": len(self.stability_.heads), "risk_weight": self.risk_weight_,
                               "risk_scale": getattr(self, "risk_scale_", None),
                               "outcome_model": self.outcome_model_ is not None}}
        arrays = self.stability_.arrays() | {f"features.{k}": v for k, v in self.feature_space_.arrays().items()}
        arrays |= {"reasons.centres": self.reasons_.centres, "reasons.segments": self.reasons_.segments,
                   "reasons.medians": self.reasons_.medians.to_numpy(dtype=np.float64)}
        extra["segmenter"]["reasons_measures"] = list(self.reasons_.medians.columns)
        if self.outcome_model_ is not None:  # JSON text (LightGBM's own text format inside): no pickle
            import json

            arrays["risk.estimator"] = np.array(json.dumps(self.outcome_model_.to_dict()))
            extra["segmenter"] |= {"risk_center": self.risk_center_}
        return write_artefact(self.model_, folder, extra=extra, extra_arrays=arrays)

    @classmethod
    def load(cls, folder) -> "Segmenter":
        """A saved Segmenter (its manifest and checksums are checked first; nothing is unpickled)."""
        from ..artefact import read_artefact
        from ..errors import ArtefactError

        art = read_artefact(folder)
        try:
            return cls._from_artefact(art, folder)
        except ArtefactError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtefactError(f"{folder}: the model's segmenter part is incomplete or from another version "
                                f"({type(exc).__name__}: {exc}); refit it with `fthc segment`") from exc

    @classmethod
    def _from_artefact(cls, art, folder) -> "Segmenter":
        from ..errors import ArtefactError
        from ..estimator import Clusterer

        if not art.extra or "segmenter" not in art.extra or art.config is None:
            raise ArtefactError(f"{folder}: a model saved without its segmenter (fthc 0.1, or `Clusterer.save`); "
                                "load it with fthc.Clusterer.load, or refit it with `fthc segment`")
        info = art.extra["segmenter"]
        params = dict(info["params"])
        params["ks"] = range(*params["ks"]) if isinstance(params.get("ks"), list) else KS
        seg = cls(**params)
        seg.method = art.config
        model = Clusterer(art.config)
        model.encoder_, model.head_ = art.encoder, art.head
        model.series_spec_, model.series_scaling_, model.channels_ = art.series_spec, art.series_scaling, art.channels
        model.column_mapping_ = art.column_mapping
        seg.model_, seg.column_mapping_ = model, art.column_mapping
        seg.representation_, seg.currency_, seg.k_why_ = info["representation"], info["currency"], info["k_why"]
        seg.names_ = {int(k): v for k, v in info["names"].items()}
        seg.descriptions_ = {int(k): v for k, v in info["descriptions"].items()}
        k = art.config.head.k
        seg.stability_ = Stability.from_arrays(art.extra_arrays, lambda: make_head(art.config, k), k)
        seg.feature_space_ = _feature_encoder_class()().load_arrays(
            {key[len("features."):]: v for key, v in art.extra_arrays.items() if key.startswith("features.")})
        seg.risk_weight_, seg.risk_scale_ = float(info.get("risk_weight") or 0), info.get("risk_scale")
        from .reasons import Reasons

        seg.reasons_ = Reasons.from_arrays(seg.feature_space_, art.extra_arrays, info["reasons_measures"],
                                           seg.currency_)
        seg.outcome_model_ = None
        if info.get("outcome_model"):
            import json

            from ..risk.estimator import RiskEstimator

            seg.outcome_model_ = RiskEstimator.from_dict(json.loads(str(art.extra_arrays["risk.estimator"])))
            seg.risk_center_ = float(info["risk_center"])
        seg.labels_ = pd.Series(np.zeros(0, dtype=np.int64), name="segment")  # fitted; its customers are not kept
        return seg

    def __repr__(self) -> str:
        method = self.method if isinstance(self.method, str) else repr(self.method)
        return f"Segmenter(k={self.k!r}, method={method!r}, engine={self.engine!r}, seed={self.seed})"


CHART_CUSTOMERS = 20_000  # the monthly chart reads at most this many customers (a seeded sample per segment)


def chart_sample(labels: pd.Series, seed: int) -> pd.Series:
    """The customers the monthly chart reads: every one, or each kept with the same seeded chance (so each
    segment keeps about its share)."""
    if len(labels) <= CHART_CUSTOMERS:
        return labels
    share = CHART_CUSTOMERS / len(labels)
    rng = np.random.default_rng(seed + 31)
    keep = rng.random(len(labels)) < share
    return labels[keep]


def _measures_of(sums: pd.DataFrame) -> pd.DataFrame:
    """The behaviour measures of the engine's per-customer sums, with each customer's number of transactions."""
    from ..features import measures

    m = measures(sums)
    m["transactions_count"] = sums["transactions"].astype(np.int64)
    return m


def _feature_encoder_class():
    from ..models.feature_encoder import FeatureEncoder

    return FeatureEncoder


def _auc(y, score) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _params(seg: Segmenter) -> dict[str, Any]:
    """The constructor's parameters as JSON (the method is saved as the model's config)."""
    p = seg.get_params()
    p.pop("method")
    p["columns"] = seg.column_mapping_
    p["ks"] = [min(seg.ks), max(seg.ks) + 1] if len(list(seg.ks)) else None
    return p


__all__ = ["Segmenter", "FthcError"]
