"""What a segmentation reads: every customer's behaviour measures (from an engine), the encoder's inputs (measures,
series or both), and the notes on what the data holds that the segments will not show. Functions of a source and
plain parameters, so that fitting and scoring (`Segmenter`) read data one way."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..config import encoder_component
from ..errors import DataError
from ..progress import agreeing, announce, counted
from ..risk.estimator import thin_history

MAX_STEPS = 1000  # series keep each customer's latest 1,000 steps (deep methods: memory grows with the longest)
SHORT_HISTORY = 3  # customers with fewer transactions are segmented like the others and flagged
CHART_CUSTOMERS = 20_000  # the monthly chart reads at most this many customers (a seeded sample per segment)


def measures_of(sums: pd.DataFrame) -> pd.DataFrame:
    """The behaviour measures of the engine's per-customer sums, with each customer's number of transactions."""
    from ..features import measures

    m = measures(sums)
    m["transactions_count"] = sums["transactions"].astype(np.int64)
    return m


def read_measures(source, engine_name: str):
    """Every customer's behaviour measures (with its number of transactions), the engine's sums behind them,
    and the engine (which still holds the customer-months)."""
    from ..engines import ENGINES

    engine = ENGINES.create(engine_name)
    announce(f"behaviour of {source.describe()} ({engine_name})")
    sums = source.sums(engine)
    m = measures_of(sums)
    check_finite(sums, m, source.name)
    return m, sums, engine


def check_finite(sums: pd.DataFrame, measures: pd.DataFrame, name) -> None:
    """Sums and measures that overflow (amounts near the float limit, 1.8e308, added up) are one clear error
    naming the customer and the column, never infinities or NaN handed to the model."""
    for frame, what in ((sums, "sum"), (measures, "measure")):
        values = frame.select_dtypes("number")
        inf = np.isinf(values.to_numpy(dtype=np.float64, na_value=np.nan))
        if inf.any():
            row, col = np.argwhere(inf)[0]
            raise DataError(f"customer {str(frame.index[row])!r}: its {what} {values.columns[col]!r} overflows to "
                            f"infinity ({int(inf.any(axis=1).sum()):,} customers)", file=name,
                            expected="amounts of money whose sums fit a 64-bit float (below about 1e300)")


def encoder_inputs(source, measures: pd.DataFrame, representation: str, config, spec=None, scaling=None,
                   expected_channels=None):
    """What the encoder reads, for the customers of `measures` in its order: their measures, their series, or
    both; and the series (or None). `expected_channels`: a fitted model's, checked when scoring."""
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
    announce(f"building {spec.representation} series of {counted(len(measures), 'customer')}")
    series = build_series(tx, spec, customers=measures.index.to_numpy(), scaling=scaling)
    if scaling is not None and expected_channels and series.channels != expected_channels:
        missing = sorted(set(expected_channels) - set(series.channels))
        raise DataError(f"series channels {series.channels} differ from the model's {expected_channels}"
                        + (f" (missing: {missing})" if missing else ""), file=source.name,
                        expected="the channels the model was fitted on (a model saved by another fthc version?)")
    if config.encoder.feature_weight > 0:
        return CustomerInputs(series, measures), series
    return series, series


def source_notes(source, drop_duplicates: bool) -> list[str]:
    """What the data holds that the segments will not show: exact duplicate rows (dropped on request), Berka
    accounts without transactions, several loans or owners per account."""
    from ..data.inspect import berka_problems, duplicate_rows

    notes = []
    tx = getattr(source, "transactions", None)
    if tx is not None:
        dups = duplicate_rows(tx)
        if dups and drop_duplicates:
            cols = [c for c in tx.columns if c != "source_row"]
            source.transactions = tx[~tx.duplicated(subset=cols)].reset_index(drop=True)
            notes.append(f"{counted(dups, 'row')} {agreeing(dups, 'was an exact duplicate', 'were exact duplicates')} "
                         "of an earlier row: left out (--drop-duplicates)")
        elif dups:
            notes.append(f"{counted(dups, 'row')} {agreeing(dups, 'is an exact duplicate', 'are exact duplicates')} "
                         "of an earlier row: kept (--drop-duplicates leaves them out)")
    else:
        notes.append("exact duplicate rows are not counted for a Parquet dataset read where it lies "
                     "(fthc data inspect counts them)")
    if source.berka is not None:
        notes += berka_problems(source.berka, tx)
    return notes


def short_history(measures: pd.DataFrame, min_months: int) -> np.ndarray:
    """Histories too thin to read behaviour from (short_history): fewer than SHORT_HISTORY transactions, or fewer
    calendar months than the risk asks of a window (`thin_history`, --min-history), so that a segment of them is
    not named for behaviour it has no months to show."""
    return (measures["transactions_count"] < SHORT_HISTORY).to_numpy() | thin_history(measures["months"], min_months)


def history_notes(series, measures: pd.DataFrame, min_months: int) -> list[str]:
    """What the histories lack: very short ones, cut ones, no balances, no transaction kinds."""
    notes = []
    short = int(short_history(measures, min_months).sum())
    if short:
        notes.append(f"{counted(short, 'customer')} {agreeing(short, 'has', 'have')} fewer than {SHORT_HISTORY} "
                     f"transactions or {min_months} months of history: segmented like the others from very little "
                     "evidence (short_history in assignments.csv)")
    if series is not None and series.report.get("truncated"):
        n = series.report["truncated"]
        notes.append(f"{counted(n, 'customer')} {agreeing(n, 'has a history', 'have histories')} longer than "
                     f"{series.X.shape[2]:,} steps: their latest steps were used")
    if measures["balance_level"].isna().all():
        notes.append("the data has no balances: nothing is said about balances, and the model's space has no "
                     "balance features")
    if measures["cash_share"].isna().all():
        notes.append("no transaction kinds (every transaction is 'other'): cash, card, salary and pension are "
                     "not measured")
    return notes


def chart_sample(labels: pd.Series, seed: int) -> pd.Series:
    """The customers the monthly chart reads: every one, or each kept with the same seeded chance (so each
    segment keeps about its share)."""
    if len(labels) <= CHART_CUSTOMERS:
        return labels
    share = CHART_CUSTOMERS / len(labels)
    rng = np.random.default_rng(seed + 31)
    keep = rng.random(len(labels)) < share
    return labels[keep]
