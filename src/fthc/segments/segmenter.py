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
from .stability import REFITS, Stability

MAX_STEPS = 1000  # series keep each customer's latest 1,000 steps (deep methods: memory grows with the longest)
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
                 lenient: bool = False, refits: int = REFITS, currency: str | None = None):
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
    def fit(self, X, y=None) -> "Segmenter":
        """Segment the customers of `X`: a transactions DataFrame, a path (Berka folder, CSV or Parquet file,
        folder or glob of Parquet files), or a `fthc.data.Source`."""
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
        measures, sums, engine = self._measures(source)
        inputs, series = self._inputs(source, measures, representation, config)
        ids = measures.index.to_numpy()
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
        announce(f"fitting k={k}")
        model = Clusterer(config.replace(k=k), encoder=FrozenEstimator(encoder)).fit(inputs)
        model.column_mapping_ = self.column_mapping_
        z = model.transform(inputs)
        self.model_ = model
        self.stability_ = Stability.fit(model.head_, z, self.refits, self.seed)
        self.labels_ = pd.Series(model.labels_, index=pd.Index(ids, name="customer_id"), name="segment")
        self.confidence_ = pd.Series(self.stability_.proba(z)[np.arange(len(ids)), model.labels_],
                                     index=self.labels_.index, name="confidence")
        self.measures_, self.sums_ = measures, sums
        self.monthly_ = engine.monthly(self.labels_)
        self.context_ = berka_context(source.berka, ids) if source.berka is not None else None
        self._describe()
        self.notes_ = list(source.report.warnings) + self._history_notes(series)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _measures(self, source):
        """Every customer's behaviour measures (with its number of transactions), the engine's sums behind them,
        and the engine (which still holds the customer-months)."""
        from ..engines import ENGINES
        from ..features import measures

        engine = ENGINES.create(self.engine)
        announce(f"behaviour of {source.describe()} ({self.engine})")
        sums = source.sums(engine)
        m = measures(sums)
        m["transactions_count"] = sums["transactions"].astype(np.int64)
        return m, sums, engine

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

    def _history_notes(self, series) -> list[str]:
        notes = []
        counts = self.measures_["transactions_count"]
        short = int((counts < SHORT_HISTORY).sum())
        if short:
            notes.append(f"{short:,} customers have fewer than {SHORT_HISTORY} transactions: segmented like the "
                         "others from very little evidence (short_history in assignments.csv)")
        if series is not None and series.report.get("truncated"):
            notes.append(f"{series.report['truncated']:,} customers have histories longer than "
                         f"{series.X.shape[2]:,} steps: their latest steps were used")
        if self.measures_["balance_level"].isna().all():
            notes.append("the data has no balances: nothing is said about balances, and the model's space has no "
                         "balance features")
        if self.measures_["cash_share"].isna().all():
            notes.append("no transaction kinds (every transaction is 'other'): cash, card, salary and pension are "
                         "not measured")
        return notes

    # -- scoring ------------------------------------------------------------------------------------------
    def _scored_inputs(self, X):
        from ..data.source import as_source

        self.check_fitted()
        mapping = self._mapping()
        if mapping is None and self.column_mapping_:
            from ..data.transactions import ColumnMapping

            mapping = ColumnMapping.from_dict(self.column_mapping_)
        source = as_source(X, mapping, lenient=self.lenient)
        measures, _, _ = self._measures(source)
        model = self.model_
        spec = replace(model.series_spec_, seq_len=model.seq_len_) if model.series_spec_ is not None else None
        inputs, _ = self._inputs(source, measures, self.representation_, model.config, spec,
                                 model.series_scaling_ or None)
        return measures, inputs

    def transform(self, X) -> pd.DataFrame:
        """The points the segments are made in (one row per customer)."""
        measures, inputs = self._scored_inputs(X)
        z = self.model_.transform(inputs)
        return pd.DataFrame(z, index=pd.Index(measures.index, name="customer_id"),
                            columns=[f"z{i}" for i in range(z.shape[1])])

    def predict(self, X) -> pd.Series:
        return self.assign(X)["segment"]

    def predict_proba(self, X) -> pd.DataFrame:
        """Per customer and segment: the share of the refitted segmentations that put the customer there."""
        measures, inputs = self._scored_inputs(X)
        p = self.stability_.proba(self.model_.transform(inputs))
        return pd.DataFrame(p, index=pd.Index(measures.index, name="customer_id"), columns=list(range(p.shape[1])))

    def assign(self, X) -> pd.DataFrame:
        """Each customer's segment, its name, confidence and number of transactions (index: customer id)."""
        measures, inputs = self._scored_inputs(X)
        return self._assignments(measures, self.model_.transform(inputs))

    def _assignments(self, measures: pd.DataFrame, z: np.ndarray) -> pd.DataFrame:
        segment = self.model_.head_.predict(z)
        proba = self.stability_.proba(z)
        counts = measures["transactions_count"].to_numpy()
        out = pd.DataFrame({"segment": segment, "name": [self.names_.get(s, "") for s in segment],
                            "confidence": proba[np.arange(len(segment)), segment], "transactions": counts,
                            "short_history": counts < SHORT_HISTORY},
                           index=pd.Index(measures.index, name="customer_id"))
        return out

    @property
    def assignments_(self) -> pd.DataFrame:
        """The fitted customers' assignments (as `assign` gives them)."""
        self.check_fitted()
        counts = self.measures_["transactions_count"].to_numpy()
        seg = self.labels_.to_numpy()
        return pd.DataFrame({"segment": seg, "name": [self.names_.get(s, "") for s in seg],
                             "confidence": self.confidence_.to_numpy(), "transactions": counts,
                             "short_history": counts < SHORT_HISTORY}, index=self.labels_.index)

    # -- saving -------------------------------------------------------------------------------------------
    def save(self, folder) -> Path:
        """The model folder (manifest, checksums, arrays; no pickle): `Segmenter.load` and `fthc assign` read it."""
        from ..artefact import write_artefact

        self.check_fitted()
        extra = {"segmenter": {"params": _params(self), "representation": self.representation_,
                               "names": {str(k): v for k, v in self.names_.items()},
                               "descriptions": {str(k): v for k, v in self.descriptions_.items()},
                               "currency": self.currency_, "k_why": self.k_why_,
                               "refits": len(self.stability_.heads)}}
        return write_artefact(self.model_, folder, extra=extra, extra_arrays=self.stability_.arrays())

    @classmethod
    def load(cls, folder) -> "Segmenter":
        from ..artefact import read_artefact
        from ..errors import ArtefactError
        from ..estimator import Clusterer

        art = read_artefact(folder)
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
        seg.labels_ = pd.Series(np.zeros(0, dtype=np.int64), name="segment")  # fitted; its customers are not kept
        return seg

    def __repr__(self) -> str:
        method = self.method if isinstance(self.method, str) else repr(self.method)
        return f"Segmenter(k={self.k!r}, method={method!r}, engine={self.engine!r}, seed={self.seed})"


def _params(seg: Segmenter) -> dict[str, Any]:
    """The constructor's parameters as JSON (the method is saved as the model's config)."""
    p = seg.get_params()
    p.pop("method")
    p["columns"] = seg.column_mapping_
    p["ks"] = [min(seg.ks), max(seg.ks) + 1] if len(list(seg.ks)) else None
    return p


__all__ = ["Segmenter", "FthcError"]
