"""The histories every risk figure reads (`fthc.features.window`): each customer with an outcome from the window
before its outcome's month, each other customer (where outcomes are learnt) from the window ending at the data's
end or `as_of`. Functions of a source, an engine and plain parameters."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..progress import agreeing, announce, counted


@dataclass(frozen=True)
class Windows:
    """Each customer's window: its cutoffs, the engine's sums over it, their measures, and the outcome model's
    inputs (with the recent months)."""

    cutoffs: pd.DataFrame
    sums: pd.DataFrame
    measures: pd.DataFrame
    inputs: pd.DataFrame


def reference_end(source, engine, as_of=None) -> pd.Timestamp:
    """The reference date of customers without an outcome: the day after the last whole month of the data, or of
    what was known on `as_of`."""
    from ..features.window import data_end_cutoff

    # `as_of` says the data is complete to that day: its month counts as whole when the day is the month's last
    return data_end_cutoff(pd.Timestamp(as_of) if as_of is not None else source.last_timestamp(engine))


def _assembled(cut: pd.DataFrame, sums: pd.DataFrame, month_rows: pd.DataFrame) -> Windows:
    """A `Windows` from the engine's sums over the windows `cut` (`cutoffs`) and their customer-months."""
    from ..features.window import recent_months
    from ..risk.estimator import risk_inputs
    from .inputs import measures_of

    window_measures = measures_of(sums)
    recent = recent_months(month_rows, cut.loc[window_measures.index])
    return Windows(cut, sums, window_measures, risk_inputs(window_measures, recent))


def window_of(source, engine, reference: pd.Series, months: int | None) -> Windows:
    """Each customer's window of `months` ending at its reference date (customer id -> date)."""
    from ..features.window import cutoffs

    cut = cutoffs(reference, months)
    return _assembled(cut, source.sums(engine, as_of=cut), source.months(engine, cut))


def period_windows(source, engine, cuts: list, months: int | None):
    """Every customer's window of `months` ending at each of `cuts` (exclusive ends, first days of months), in
    turn: one aggregation of the transactions into month rows, which each period reads (customers without a
    transaction in a window are not in it). Yields (cut, Windows)."""
    from ..features.measures import month_before
    from ..features.window import cutoffs
    from .inputs import check_finite

    spans = []
    for cut in cuts:
        end = month_before(cut)
        spans.append((end + 1 - months if months else None, end))
    for cut, (sums, month_rows) in zip(cuts, source.window_sums(engine, spans)):
        w = _assembled(cutoffs(pd.Series(cut, index=sums.index), months), sums, month_rows)
        check_finite(sums, w.measures, source.name)
        yield cut, w


def known_at(known, as_of, warn):
    """The outcomes known on `as_of` (point in time): those dated after it are left out, counted and said."""
    from ..data.source import as_of_end
    from ..risk.outcomes import Outcomes

    if as_of is None or known.date is None:
        return known
    late = known.date.index[(pd.to_datetime(known.date) >= as_of_end(as_of)).to_numpy()]
    if not len(late):
        return known
    warn(f"{len(late):,} of the {counted(len(known.y), 'outcome')} in {known.source} "
         f"{agreeing(len(late), 'is', 'are')} dated after the as-of date "
         f"{pd.Timestamp(as_of):%Y-%m-%d} (e.g. " + ", ".join(repr(str(x)) for x in late[:3]) +
         "): left out, as they were not known then")
    keep = known.y.index.difference(late, sort=False)
    return Outcomes(known.y.loc[keep], known.date.loc[keep], known.source, known.column, known.unknown,
                    known.rows, known.unknown_examples)


def outcome_windows(source, engine, known, customers: pd.Index, months: int | None, as_of, learn: bool,
                    warn) -> Windows:
    """The windows of the customers with an outcome (before its date) and, where outcomes are learnt, of every
    other customer (ending at `as_of` or the data's end). `warn(text)` receives what the caller must be told:
    outcome ids that match no customer, outcomes without dates."""
    if known.unknown:
        warn(f"{known.unknown:,} of the {known.rows or known.unknown + len(known.y):,} outcome rows in "
             f"{known.source} name ids that are not among the customers: left out (e.g. "
             + ", ".join(repr(str(x)) for x in known.unknown_examples[:3]) + ")")
    if known.date is None and learn:
        warn(f"the outcomes in {known.source} have no dates: the model learns from the latest "
             f"{months or 'all'} months of each history, which may hold what the outcome itself caused (arrears, "
             "sanction interest); give the date the outcome refers to (--outcome-date-col)")
    reference = pd.Series(reference_end(source, engine, as_of), index=customers if learn else known.y.index)
    if known.date is not None:
        reference.loc[known.date.index] = pd.to_datetime(known.date).to_numpy()
    announce(f"behaviour of {counted(len(reference), 'customer')} over their {months or 'whole'}-month window "
             "before " + ("their outcome's date" if not learn else "their reference date"))
    return window_of(source, engine, reference, months)


def learnt_outcomes(known, windowed: pd.Index, ids: pd.Index, months: int | None, notes: list) -> pd.Series:
    """The 0/1 outcomes of `ids` (the customers learnt from), after saying in `notes` how many customers with an
    outcome had no transaction in their window (`windowed`: those with one), and checking enough are left."""
    missing = known.y.index.difference(windowed)
    if len(missing):
        notes.append(f"{counted(len(missing), 'customer')} with an outcome {agreeing(len(missing), 'has', 'have')} no "
                     f"transactions in the {months or 'whole'}-month window before its date: left out of the outcome "
                     "model")
    y = known.y.loc[ids].astype(int)
    learnable_after_windows(known, y, missing, months)
    return y


def learnable_after_windows(known, y: pd.Series, missing: pd.Index, months: int | None) -> None:
    """The rule of `fthc.risk.outcomes.MIN_EACH`, applied to what the windows leave to learn from: outcomes dated
    outside the data have no history before them."""
    from ..errors import TooFewOutcomes
    from ..risk.outcomes import MIN_EACH

    ones, zeros = int(y.sum()), int((y == 0).sum())
    if ones >= MIN_EACH and zeros >= MIN_EACH:
        return
    where = ""
    if len(missing) and known.date is not None:
        dates = pd.to_datetime(known.date.loc[missing])
        where = (f"; the {len(missing):,} without one are dated {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}: "
                 "is the date column the outcome's own date, inside the transactions' span?")
    raise TooFewOutcomes(f"too few outcomes to learn from: {len(y):,} of the {len(known.y):,} customers with an outcome "
                    f"have transactions in the {months or 'whole'}-month window before its date ({ones} positive, "
                    f"{zeros} negative){where}", file=known.source, column=known.column,
                    expected=f"at least {MIN_EACH} of each with a history before the outcome's date")


def enough_history(measures: pd.DataFrame, min_months: int, window: int | None, notes: list) -> pd.DataFrame:
    """The customers with an outcome whose window holds at least `min_months` months of history: the others are
    left out of the outcome model (a few months carry little evidence), counted in `notes`. The rule is
    `risk.estimator.thin_history`, which flags short histories too."""
    from ..risk.estimator import thin_history

    short = thin_history(measures["months"], min_months)
    if short.any():
        notes.append(f"{counted(short.sum(), 'customer')} with an outcome {agreeing(short.sum(), 'has', 'have')} "
                     f"fewer than {min_months} months of history in the {window or 'whole'}-month window before its "
                     "date: left out of the outcome model")
    return measures[~short]


def readable_outcomes(known, source, engine, as_of, performance: int | None, learn: bool, warn):
    """The outcomes a fit may read: those known on `as_of` (`known_at`) and, where it learns, old enough to say
    (`mature`)."""
    known = known_at(known, as_of, warn)
    return mature(known, source, engine, as_of, performance_months(performance, known), warn) if learn else known


def performance_months(asked: int | None, known) -> int:
    """The performance window: as asked, else `PERFORMANCE_MONTHS` for Berka's loans (dated by the loan's start;
    a running loan in good standing is status C) and 0 for outcomes a bank gives (taken as observed)."""
    from ..risk.outcomes import PERFORMANCE_MONTHS

    return asked if asked is not None else PERFORMANCE_MONTHS if known.source == "loans" else 0


def mature(known, source, engine, as_of, months: int, warn):
    """The outcomes old enough to be read: a 0 (good) dated within `months` of the data's end (or `as_of`) has not
    had time to go bad (a loan granted a month before the data ends is running, not repaid), so it is left out,
    counted and said. A 1 is kept: a default is seen whenever it comes."""
    from ..data.source import as_of_end
    from ..risk.outcomes import Outcomes

    if not months or known.date is None:
        return known
    end = as_of_end(as_of) if as_of is not None else as_of_end(source.last_timestamp(engine))
    young = (pd.to_datetime(known.date) >= end - pd.DateOffset(months=months)).reindex(known.y.index).fillna(False)
    immature = known.y.index[(young & (known.y == 0)).to_numpy()]
    if not len(immature):
        return known
    warn(f"{len(immature):,} of the {int((known.y == 0).sum()):,} good outcomes (0) in {known.source} are dated within the "
         f"{months}-month performance window before the data's end ({(end - pd.DateOffset(months=months)).date()} "
         "on): too young to say they will not go bad, left out of learning and judging (--performance-months)")
    keep = known.y.index.difference(immature, sort=False)
    return Outcomes(known.y.loc[keep], known.date.reindex(keep), known.source, known.column, known.unknown,
                    known.rows, known.unknown_examples, known.y.loc[immature])


WINDOWS = (12, 24, 36)  # the lookbacks `window="auto"` chooses among, in months


def choose_window(source, engine, known, as_of, min_history: int, kind: str, seed: int, notes: list) -> int:
    """`window="auto"`: the lookback whose outcome model has the lowest out-of-fold log-loss, each fitted on the
    same customers (those with `min_history` months in the shortest window: they have them in every longer one)
    and judged on their outcomes out of fold; said in `notes` with every candidate's figures. The right lookback
    depends on the bank's data: how long before an outcome behaviour already tells."""
    from ..risk.estimator import RiskEstimator
    from ..risk.outcomes import MIN_EACH

    rows, ids = [], None
    for months in WINDOWS:
        w = outcome_windows(source, engine, known, known.y.index, months, as_of, False, lambda text: None)
        if ids is None:
            ids = w.measures.index[(w.measures["months"] >= min_history).to_numpy()]
        y = known.y.reindex(ids).dropna().astype(int)
        if min(int(y.sum()), int((y == 0).sum())) < MIN_EACH:
            return WINDOWS[0]  # too few to choose on: the stated default (the fit then says why it cannot learn)
        est = RiskEstimator(kind, seed=seed, bootstraps=0).fit(w.inputs.reindex(y.index), y)
        rows.append((months, est.signal_["logloss"], est.signal_["auc"]))
    best = min(rows, key=lambda r: r[1])
    notes.append(f"window: {best[0]} months, chosen by out-of-fold log-loss on {len(ids):,} customers with an "
                 "outcome among " + ", ".join(f"{m} months ({ll:.4f}, AUC {auc:.3f})" for m, ll, auc in rows))
    return best[0]
