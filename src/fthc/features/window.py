"""The observation window: every customer described from the same length of history, in whole calendar months,
ending at its reference date (an outcome's date; for a customer without one, the data's end or `as_of`).

A reference date d closes the window at the first day of d's month: the month the outcome happened in is never
read (it is incomplete, and may already hold what the outcome caused). The window opens `months` calendar months
earlier. `months=None` keeps all history before the cutoff.

Besides the summary measures over the window, the outcome model reads its last `RECENT` months in order (money
in, money out, month-end balance; lag 1 is the month just before the cutoff): `recent_months` builds them from the
customer-month table every engine computes with the same SQL, so a month without transactions is money in and
out of 0 with its balance carried forward, and a month before the customer's first transaction is missing (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .measures import month_index

WINDOW = 12  # months: cash-flow underwriting reads 12-24; Berka's loans have a median of 30 months before them
RECENT = 6  # months read in order by the outcome model
NO_START = pd.Timestamp("1700-01-01")  # no lower bound: early, yet inside every engine's nanosecond range


def month_start(dates) -> pd.Series | pd.Timestamp:
    """The first day of each date's month (dates as given: a zoned time keeps its own calendar)."""
    if isinstance(dates, pd.Series):
        d = pd.to_datetime(dates)
        if d.dt.tz is not None:
            d = d.dt.tz_localize(None)
        return d.dt.to_period("M").dt.to_timestamp()
    d = pd.Timestamp(dates)
    return pd.Timestamp(year=d.year, month=d.month, day=1)


def cutoffs(reference: pd.Series, months: int | None) -> pd.DataFrame:
    """Per customer (the index): `cutoff` (exclusive: the first day of the reference date's month), `start`
    (inclusive: `months` months earlier, or no bound) and `cutoff_month` (the cutoff's `month_index`)."""
    cut = month_start(reference)
    start = cut - pd.DateOffset(months=months) if months else pd.Series(NO_START, index=reference.index)
    out = pd.DataFrame({"cutoff": cut.to_numpy(), "start": pd.to_datetime(start).to_numpy()},
                       index=reference.index)
    out["cutoff_month"] = month_index(out["cutoff"]).astype(np.int64)
    return out


def data_end_cutoff(last: pd.Timestamp) -> pd.Timestamp:
    """The reference date of a customer without an outcome, from the data's last transaction: the day after it
    when it falls on its month's last day (that month is whole), else the first day of its month (the incomplete
    last month is left out)."""
    last = pd.Timestamp(last)
    if last.tz is not None:
        last = last.tz_localize(None)
    nxt = (last + pd.Timedelta(days=1)).normalize()
    return nxt if nxt.month != last.month else month_start(last)


def recent_months(months: pd.DataFrame, cut: pd.DataFrame, n: int = RECENT) -> pd.DataFrame:
    """The last `n` months before each customer's cutoff, most recent first: `in_1..n`, `out_1..n`,
    `balance_1..n` (index: the customers of `cut`). `months`: the engine's customer-month table of the windowed
    histories (customer_id, month, credit, debit, balance)."""
    ids = cut.index
    lag = np.arange(1, n + 1)
    out = {f"{name}_{i}": np.full(len(ids), np.nan) for name in ("in", "out", "balance") for i in lag}
    table = pd.DataFrame(out, index=ids)
    if len(ids) == 0:
        return table
    m = months[months["customer_id"].isin(ids)]
    pos = ids.get_indexer(m["customer_id"])
    cm = cut["cutoff_month"].to_numpy()[pos]
    first = pd.Series(m["month"].to_numpy(), index=pos).groupby(level=0).min()
    first_month = np.full(len(ids), np.iinfo(np.int64).max)
    first_month[first.index.to_numpy()] = first.to_numpy()
    k = cm - m["month"].to_numpy()  # 1 = the month before the cutoff
    credit, debit = np.zeros((len(ids), n)), np.zeros((len(ids), n))
    balance = np.full((len(ids), n + 1), np.nan)  # column n: the latest balance before the n months
    keep = (k >= 1) & (k <= n)
    credit[pos[keep], k[keep] - 1] = m["credit"].to_numpy()[keep]
    debit[pos[keep], k[keep] - 1] = m["debit"].to_numpy()[keep]
    balance[pos[keep], k[keep] - 1] = m["balance"].to_numpy(dtype=np.float64)[keep]
    older = k > n
    if older.any():  # the last balance before the n months, carried into them
        o = pd.DataFrame({"pos": pos[older], "month": m["month"].to_numpy()[older],
                          "balance": m["balance"].to_numpy(dtype=np.float64)[older]})
        last = o.sort_values("month").groupby("pos")["balance"].last()
        balance[last.index.to_numpy(), n] = last.to_numpy()
    for j in range(n - 1, -1, -1):  # carry forward: from older months (higher lag) to newer
        gap = np.isnan(balance[:, j])
        balance[gap, j] = balance[gap, j + 1]
    exists = (cut["cutoff_month"].to_numpy()[:, None] - lag[None, :]) >= first_month[:, None]
    credit[~exists], debit[~exists], balance[:, :n][~exists] = np.nan, np.nan, np.nan
    for i in lag:
        table[f"in_{i}"], table[f"out_{i}"], table[f"balance_{i}"] = credit[:, i - 1], debit[:, i - 1], \
            balance[:, i - 1]
    return table


def as_cutoffs(as_of) -> pd.DataFrame:
    """What the engines join on: customer_id, cutoff, start, from `as_of`: a Series of cutoffs (no start) or a
    frame with `cutoff` and `start` (`cutoffs`)."""
    if isinstance(as_of, pd.Series):
        frame = pd.DataFrame({"cutoff": pd.to_datetime(as_of.to_numpy()), "start": NO_START}, index=as_of.index)
    else:
        frame = as_of[["cutoff", "start"]]
    return pd.DataFrame({"customer_id": frame.index.to_numpy(), "cutoff": pd.to_datetime(frame["cutoff"]).to_numpy(),
                         "start": pd.to_datetime(frame["start"]).to_numpy()})


def windowed_sql(source: str, cast: str = "{}") -> str:
    """The SQL (DuckDB's and Spark's) of `source`'s transactions inside their customers' windows, joined to the
    registered view `as_of_cutoffs` (`as_cutoffs`); `cast` wraps the cutoff columns where the dialect needs it."""
    cutoff, start = cast.format("c.cutoff"), cast.format("c.start")
    return (f"(SELECT t.* FROM {source} t JOIN as_of_cutoffs c ON t.customer_id = c.customer_id "
            f"WHERE t.timestamp < {cutoff} AND t.timestamp >= {start}) AS before_cutoff")
