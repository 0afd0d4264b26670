"""Behaviour over time: each customer's segment, risk and grade at the end of every period, from the fitted model
applied to the window ending there (no refit); the migrations between consecutive periods, an early-warning list,
and drift of the model's inputs, its segment shares and its risk against the fit's population.

What a portfolio team runs every month or quarter:
- *tracks*: per customer and period end, the segment, risk and grade the model gives the window of history ending
  there (the Segmenter's `window` months; customers without a transaction in a window are not in that period);
- *migration*: for each pair of consecutive periods, how many customers moved from each segment (and grade) to
  each other one, as counts and rates with a Wilson 95% interval (small cells read as ranges);
- *early warning*: a budget of alerts per period (`fthc.segments.alerts`): high risk, then a deterioration beyond
  the score's own noise, then a move into a worst grade; with the behaviours that raise their risk most;
- *drift*: the population stability index (PSI) of each model feature (deciles of the fit's population), of the
  segment shares and of the risk (deciles), each period against the fit's population: the industry's 0.10
  (watch) and 0.25 (shifted: refit) thresholds.

The transactions are aggregated once into customer-months (one pass, on every engine); each period's window reads
those month rows, never the transactions again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import DataError, FthcError
from ..features.model_features import model_features
from ..progress import announce
from ..risk.psi import PSI_SHIFT, PSI_WATCH, _psi, bins_of, drift_flag, psi, psi_and_noise  # noqa: F401
from .alerts import ALERTS
from .fit_summary import FitSummary
from .risk_fit import RiskFit
from .segment_model import SegmentModel, logit_of

EVERY = {"month": 1, "quarter": 3}
PERIODS = 12  # periods tracked when no start is given (the latest ones)
TRACKED_MEASURES = ["income_per_month", "spending_per_month", "balance_level", "negative_month_share",
                    "transactions_per_month"]


@dataclass(frozen=True)
class Tracks:
    """The tables of `track`: `tracks` (customer_id, period_end, segment, name, risk, risk_grade and the tracked
    measures with their change since the period before), `migration`, `early_warning`, `drift`; `notes` say
    what a reader must know (a shift that calls for a refit)."""

    tracks: pd.DataFrame
    migration: pd.DataFrame
    early_warning: pd.DataFrame
    drift: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def period_cutoffs(last: pd.Timestamp, every: str, start=None, end=None, periods: int = PERIODS,
                   last_month=None) -> list:
    """The periods' exclusive ends (the first day after each period), oldest first: calendar months or quarters,
    the last ending with `end`'s month (default: the data's last whole month or quarter, `last` being the data's
    end cutoff), back to `start`, or `periods` of them. `end` says the data is complete to that month, so it may
    reach the month of the data's last transaction (`last_month`, its first day), never later."""
    from ..features.window import month_start

    if every not in EVERY:
        raise DataError(f"unknown period {every!r}", expected=" or ".join(EVERY))
    step = EVERY[every]
    stop = month_start(pd.Timestamp(end)) + pd.DateOffset(months=1) if end is not None else pd.Timestamp(last)
    ceiling = pd.Timestamp(last_month) + pd.DateOffset(months=1) if end is not None and last_month is not None \
        else pd.Timestamp(last)
    stop = min(stop, ceiling)
    while (stop.month - 1) % step:  # calendar quarters: periods end in March, June, September, December
        stop = stop - pd.DateOffset(months=1)
    first = month_start(pd.Timestamp(start)) + pd.DateOffset(months=step) if start is not None else None
    out, c = [], stop
    while (first is None and len(out) < periods) or (first is not None and c >= first):
        out.append(c)
        c = c - pd.DateOffset(months=step)
    if not out:
        raise DataError(f"no whole {every} between {start} and {end}", expected="--from before --to")
    return out[::-1]


def share_psi(reference: dict, current: pd.Series) -> float:
    """PSI of the shares of categories (segments) of `current` against the reference's shares (segment -> share)."""
    cats = sorted({int(c) for c in reference} | {int(c) for c in current.unique()})
    p = np.array([float(reference.get(str(c), reference.get(c, 0.0))) for c in cats])
    q = current.value_counts(normalize=True).reindex(cats, fill_value=0).to_numpy()
    return _psi(p, q)


def reference_of(model: SegmentModel, risk_fit: RiskFit | None, summary: FitSummary | None) -> dict:
    """The fit's population as tracking compares with it (stored in a saved model: `SegmentModel.monitoring`):
    each model feature's and the risk's decile bins, the segment shares, each segment's mean risk, all read from
    the fitted customers' windows (the window tracking reads: before each outcome's date, or ending at the data's
    end). A model fitted without outcomes has no windows of its customers: its reference is each segment's mean
    risk only (none), and drift is measured against the first tracked period instead (`first_period_reference`)."""
    if model.monitoring is not None:
        return model.monitoring
    if risk_fit is None:
        return {"basis": "first period"}
    windows = risk_fit.windows.measures
    names = model.feature_space.feature_names_
    features = model_features(windows, names)
    logit = pd.Series(np.asarray(risk_fit.fitted_logit, dtype=float), index=summary.measures.index)
    segments = pd.Series(model.predict(model.feature_space.transform(windows),
                                       logit.reindex(windows.index).to_numpy()), index=windows.index)
    return {"basis": "fit windows",
            "features": {n: bins_of(features[n].to_numpy()) for n in names},
            "segments": {str(int(s)): float(v) for s, v in segments.value_counts(normalize=True).items()},
            "risk": bins_of(risk_fit.risk["risk"].to_numpy(dtype=float)),
            "segment_risk": {str(int(s)): float(v) for s, v in
                             risk_fit.risk["risk"].groupby(summary.labels).mean().items()}}


def track(seg, X, every: str = "quarter", start=None, end=None, periods: int = PERIODS,
          alerts: float | int = ALERTS) -> Tracks:
    """`Segmenter.track`: the module's tables for the customers of `X`, read as at fitting."""
    from ..config import encoder_component
    from ..features.window import data_end_cutoff, month_start
    from . import scoring
    from ..engines import ENGINES
    from .inputs import encoder_inputs
    from .windows import period_windows

    seg.check_fitted()
    model = seg.segment_model_
    if encoder_component(model.clusterer.config).flag("input") != "behaviour":
        raise FthcError(f"track follows models of behaviour measures (the default method); this model's "
                        f"{model.clusterer.config.encoder.autoencoder!r} encoder reads series")
    source = scoring.source_of(seg, X)
    engine = ENGINES.create(seg.engine)
    announce(f"behaviour of {source.describe()} ({seg.engine}): one aggregation into customer-months for every "
             "period")
    last_ts = pd.Timestamp(source.last_timestamp(engine))
    cuts = period_cutoffs(data_end_cutoff(last_ts), every, start, end, periods, month_start(last_ts))
    said = coverage_notes(cuts, last_ts, source.first_timestamp(engine), model.window, end)
    est = model.outcome_model
    names = model.feature_space.feature_names_
    reference = reference_of(model, seg.risk_fit_, seg.fit_summary_)
    rows, drift_rows, last_inputs, first_end = [], [], None, None
    for i, (cut, w) in enumerate(period_windows(source, engine, cuts, model.window)):
        announce(f"period {i + 1} of {len(cuts)}: the {model.window or 'whole'}-month window ending "
                 f"{(cut - pd.Timedelta(days=1)).date()}")
        m = w.measures
        if m.empty:
            continue
        inputs, _ = encoder_inputs(source, m, model.representation, model.clusterer.config)
        risk = est.score(w.inputs).reindex(m.index) if est is not None else None
        period = pd.DataFrame({"customer_id": m.index.to_numpy(), "period_end": cut - pd.Timedelta(days=1),
                               "segment": model.predict(model.clusterer.transform(inputs), logit_of(risk))})
        period["name"] = pd.Categorical(period["segment"].map(model.names))
        if risk is not None:
            period["risk"] = risk["risk"].to_numpy()
            period["risk_grade"] = risk["risk_grade"].fillna(0).astype(np.int64).to_numpy()
        for col in TRACKED_MEASURES:
            period[col] = m[col].to_numpy()
        rows.append(period)
        features = model_features(m, names)
        if first_end is None:
            first_end = period["period_end"].iloc[0]
            if "features" not in reference:  # no windows of the fit's customers: the first period is the base
                reference = first_period_reference(period, features, names)
        drift_rows += period_drift(reference, period, features, names)  # per period: no period's features kept
        last_inputs = w.inputs
    engine.close()  # the engine's memory back before the tables are assembled
    if not rows:
        raise DataError("no customer has a transaction in any tracked window", file=source.name,
                        expected="transactions in the periods tracked (--from, --to)")
    tracks = pd.concat(rows, ignore_index=True).sort_values(["customer_id", "period_end"], kind="stable")
    for col in TRACKED_MEASURES:
        tracks[f"{col}_change"] = tracks.groupby("customer_id", sort=False)[col].diff()
    tracks = tracks.reset_index(drop=True)
    migration = migrations(tracks, model.names)
    warning, warned = early_warning(est, tracks, alerts, last_inputs)
    drift, notes = drift_table(drift_rows, reference["basis"], first_end)
    return Tracks(tracks, migration, warning, drift, said + notes + warned)


def coverage_notes(cuts: list, last_ts: pd.Timestamp, first_ts: pd.Timestamp, window: int | None, end) -> list[str]:
    """What the periods cover that a reader must be told: an incomplete last month left out (and how to say it is
    complete), windows that reach back before the data begins."""
    from ..features.window import month_start

    said = []
    if end is None and cuts[-1] <= month_start(last_ts):
        said.append(f"periods: the data's last month ({last_ts:%Y-%m}) is left out as incomplete (its last transaction is on "
                    f"{last_ts:%Y-%m-%d}); give --to {last_ts:%Y-%m} if the data is complete to it")
    if window:
        short = [c for c in cuts if c - pd.DateOffset(months=window) < month_start(first_ts)]
        if short:
            said.append(f"periods: {len(short)} of the {len(cuts)} periods' {window}-month windows reach back before the data "
                        f"begins ({first_ts:%Y-%m-%d}): up to {(short[-1] - pd.Timedelta(days=1)):%Y-%m-%d}, the "
                        "customers' histories there are shorter than the window")
    return said


def migrations(tracks: pd.DataFrame, names: dict) -> pd.DataFrame:
    """Per pair of consecutive periods, segment to segment (and grade to grade): counts, the rate among the
    customers of the first, and its Wilson 95% interval."""
    from ..risk.intervals import wilson_interval

    ends = sorted(tracks["period_end"].unique())
    out = []
    for before, after in zip(ends, ends[1:]):
        a = tracks[tracks["period_end"] == before].set_index("customer_id")
        b = tracks[tracks["period_end"] == after].set_index("customer_id")
        both = a.index.intersection(b.index)
        for kind in ("segment", "risk_grade") if "risk_grade" in tracks else ("segment",):
            table = pd.crosstab(a.loc[both, kind], b.loc[both, kind])
            for f, row in table.iterrows():
                total = int(row.sum())
                for t, n in row.items():
                    if n == 0 and f != t:
                        continue
                    lo, hi = wilson_interval(int(n), total)
                    out.append({"period_end": pd.Timestamp(after), "kind": kind.replace("risk_", ""),
                                "from": int(f), "to": int(t),
                                "from_name": names.get(int(f), "") if kind == "segment" else "",
                                "to_name": names.get(int(t), "") if kind == "segment" else "",
                                "customers": int(n), "of": total, "rate": n / total if total else np.nan,
                                "rate_low": lo, "rate_high": hi})
    return pd.DataFrame(out, columns=["period_end", "kind", "from", "to", "from_name", "to_name", "customers",
                                      "of", "rate", "rate_low", "rate_high"])


def early_warning(est, tracks: pd.DataFrame, alerts, last_inputs: pd.DataFrame | None) -> tuple[pd.DataFrame, list]:
    """The alerts of every period (`fthc.segments.alerts`) of the outcome model `est` (None: none), with risk
    reasons at the last period, and what the notes say of them (the noise band measured)."""
    from .alerts import COLUMNS, alert_list, first_worst_grade, noise_band

    if "risk" not in tracks or est is None:
        return pd.DataFrame(columns=COLUMNS), []
    if not est.has_signal:
        return pd.DataFrame(columns=COLUMNS), ["early warning: none; the model found no pattern beyond the "
                                               "portfolio's rate in its outcomes, so every customer has that rate"]
    band, stable = noise_band(tracks, TRACKED_MEASURES)
    said = (f"early warning: the score's own noise band from period to period is {band:.2f} in log-odds (99th "
            f"percentile over {stable:,} customer-periods whose behaviour did not move); a rise beyond it is a "
            "deterioration") if np.isfinite(band) else \
        f"early warning: too few customer-periods with unchanged behaviour ({stable}) to measure the score's noise; " \
        "no deterioration alerts"
    flagged = alert_list(tracks, alerts, est.portfolio_rate_, first_worst_grade(est.grades_),
                         band if np.isfinite(band) else np.inf)
    last = tracks["period_end"].max()
    at_last = (flagged["period_end"] == last).to_numpy()
    if at_last.any() and last_inputs is not None:
        ids = flagged.loc[at_last, "customer_id"]
        reasons = est.reasons(last_inputs.loc[ids.to_numpy()])["risk_reasons"]
        flagged.loc[at_last, "risk_reasons"] = reasons.reindex(ids.to_numpy()).to_numpy()
    return flagged, [said]


def first_period_reference(period: pd.DataFrame, features: pd.DataFrame, names: list[str]) -> dict:
    """The base of drift for a model fitted without outcomes (no windows of the fit's customers): the first
    tracked period's features and segment shares."""
    return {"basis": "first period", "features": {n: bins_of(features[n].to_numpy()) for n in names},
            "segments": {str(int(k)): float(v) for k, v in period["segment"].value_counts(normalize=True).items()}}


def period_drift(ref: dict, period: pd.DataFrame, features: pd.DataFrame, names: list[str]) -> list[dict]:
    """One period's PSI of each model feature, of the segment shares and of the risk against `ref`
    (`reference_of`, or `first_period_reference`)."""
    rows = [("feature", n, *psi_and_noise(ref["features"][n], features[n].to_numpy(float))) for n in names
            if n in ref["features"]]
    rows.append(("segment shares", "segment", share_psi(ref["segments"], period["segment"]), 0.0))
    if "risk" in ref and "risk" in period:
        rows.append(("risk", "risk", *psi_and_noise(ref["risk"], period["risk"].to_numpy(float))))
    end = pd.Timestamp(period["period_end"].iloc[0])
    return [{"period_end": end, "what": w, "name": n, "psi": v, "flag": drift_flag(v, noise), "against": ref["basis"]}
            for w, n, v, noise in rows]


def drift_table(rows: list[dict], basis: str, first_end) -> tuple[pd.DataFrame, list[str]]:
    """The periods' drift rows as a table, and what the latest period says: refit (PSI >= 0.25), or watch."""
    drift = pd.DataFrame(rows, columns=["period_end", "what", "name", "psi", "flag", "against"])
    notes = []
    latest = drift[drift["period_end"] == drift["period_end"].max()]
    shifted = latest[latest["flag"] == "shifted"]
    if len(shifted):
        base = "the one the model was fitted on" if basis == "fit windows" else \
            f"the first tracked period's ({pd.Timestamp(first_end).date()})"
        notes.append(f"at {pd.Timestamp(latest['period_end'].iloc[0]).date()} the population has shifted from "
                     f"{base} (PSI >= {PSI_SHIFT}: " + ", ".join(shifted["name"].head(6))
                     + "): refit the model (fthc segment) before relying on its segments and risk")
    elif (latest["flag"] == "watch").any():
        notes.append(f"at {pd.Timestamp(latest['period_end'].iloc[0]).date()} some inputs moved (PSI {PSI_WATCH}-"
                     f"{PSI_SHIFT}: " + ", ".join(latest.loc[latest['flag'] == 'watch', 'name'].head(6))
                     + "): watch them; no refit needed yet")
    return drift, notes
