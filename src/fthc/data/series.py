"""Per-customer time series from canonical transactions, built with one sort and vectorised group arithmetic.

Three representations, chosen by `SeriesSpec.representation`:

- `amounts` (the paper's, 1 channel): signed amounts in date order, z-scored per customer, zero padded.
- `events` (one step per transaction, 11 channels): signed log amount and log balance scaled globally (so the
  level of income and spending survives), log days since the previous transaction, and 8 indicator channels
  for the kind of transaction.
- `calendar` (one step per day/week/month from each customer's first transaction, 4 channels): credits,
  debits, end-of-period balance and number of transactions, signed-log scaled globally.

A `SeriesSet` records its spec and the global scaling it fitted, so a saved model rebuilds identical series
for new customers (`build_series(tx, series_set.spec, scaling=series_set.scaling)`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DataError
from .transactions import KINDS, validate_canonical

REPRESENTATIONS = ("amounts", "events", "calendar")
EVENT_KINDS = KINDS[:-1]  # "other" is the absence of every indicator
PERIODS = ("day", "week", "month")


@dataclass(frozen=True)
class SeriesSpec:
    """How series are built; stored with every model so new customers get the same treatment."""

    representation: Literal["amounts", "events", "calendar"] = "amounts"
    seq_len: int | None = None  # None: the longest history (events/amounts) or the longest span (calendar)
    max_steps: int | None = None  # with seq_len None: at most this many steps (longer histories keep the latest)
    padding: Literal["right", "left"] = "right"  # right: history first, zeros after
    period: Literal["day", "week", "month"] = "month"  # calendar only

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise DataError(f"unknown representation {self.representation!r}", expected=f"one of {REPRESENTATIONS}")
        if self.padding not in ("right", "left"):
            raise DataError(f"unknown padding {self.padding!r}", expected="'right' or 'left'")
        if self.period not in PERIODS:
            raise DataError(f"unknown period {self.period!r}", expected=f"one of {PERIODS}")
        for name in ("seq_len", "max_steps"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
                raise DataError(f"{name} must be a positive integer, got {value!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    def length(self, longest: int) -> int:
        """The series length for data whose longest history (or span) is `longest` steps."""
        if self.seq_len:
            return self.seq_len
        return max(min(int(longest), self.max_steps or int(longest)), 1)


@dataclass
class SeriesSet:
    """Model input: X float32 [n, channels, seq_len], mask bool [n, seq_len] (True = real step), ids [n]."""

    X: np.ndarray
    mask: np.ndarray
    ids: np.ndarray
    channels: list[str]
    spec: SeriesSpec
    scaling: dict[str, list[float]] = field(default_factory=dict)
    report: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return self.mask.sum(axis=1)

    def subset(self, index: np.ndarray) -> "SeriesSet":
        return SeriesSet(self.X[index], self.mask[index], self.ids[index], self.channels, self.spec,
                         self.scaling, self.report)


@dataclass
class _Groups:
    """Transactions sorted by customer then time (ties keep input order), and where each customer's rows sit."""

    code: np.ndarray  # customer index of each row (sorted)
    pos: np.ndarray  # position of each row within its customer's history
    length: np.ndarray  # rows per customer
    ids: np.ndarray
    order: np.ndarray | None  # permutation that sorts the input rows, None when they were already sorted

    @property
    def start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.length)[:-1]])

    def column(self, tx: pd.DataFrame, name: str, dtype=None) -> np.ndarray:
        """One input column in sorted row order (only the columns a representation needs are gathered)."""
        if isinstance(tx[name].dtype, pd.CategoricalDtype):
            values = tx[name].cat.codes.to_numpy()
        else:
            values = tx[name].to_numpy(dtype=dtype) if dtype is not None else tx[name].to_numpy()
        return values if self.order is None else values[self.order]


def _sort_order(codes: np.ndarray, ts: np.ndarray) -> np.ndarray | None:
    """Stable order by (customer, time): one argsort of a packed int64 key where it fits, else a lexsort."""
    t = ts.astype("datetime64[ns]").astype(np.int64)
    if len(t) == 0:
        return None
    t = t - t.min()
    for unit in (86_400 * 10**9, 10**9, 1):  # the coarsest unit in which every timestamp is exact
        if not (t % unit).any():
            t = t // unit
            break
    t_bits = max(int(t.max()).bit_length(), 1)
    c_bits = max(int(codes.max(initial=0)).bit_length(), 1)
    i_bits = max(len(t).bit_length(), 1)
    if c_bits + t_bits <= 62:
        key = (codes.astype(np.int64) << t_bits) | t
        if (key[1:] >= key[:-1]).all():
            return None  # canonical tables arrive sorted: nothing to do
        if c_bits + t_bits + i_bits <= 63:
            # row index in the low bits makes keys unique, so a plain (fast) sort is stable, and the
            # sorted keys carry the permutation themselves
            key = (key << i_bits) | np.arange(len(t), dtype=np.int64)
            key.sort()
            return key & ((1 << i_bits) - 1)
        return np.argsort(key, kind="stable")
    return np.lexsort((np.arange(len(codes)), t, codes))


def _group(tx: pd.DataFrame, customers: np.ndarray | None) -> tuple[pd.DataFrame, _Groups]:
    if customers is None:
        codes, ids = pd.factorize(tx["customer_id"], sort=True)
        ids = np.asarray(ids)
    else:
        ids = np.asarray(customers)
        if len(pd.unique(ids)) != len(ids):
            raise DataError("customer list has duplicate ids", column="customer_id")
        codes = pd.Index(ids).get_indexer(tx["customer_id"])
        if (codes < 0).any():
            tx = tx.loc[codes >= 0]
            codes = codes[codes >= 0]
    order = _sort_order(codes, tx["timestamp"].to_numpy())
    if order is not None:
        codes = codes[order]
    length = np.bincount(codes, minlength=len(ids))
    start = np.concatenate([[0], np.cumsum(length)[:-1]])
    pos = np.arange(len(codes)) - start[codes]
    return tx, _Groups(codes, pos, length, ids, order)


def _scatter(X: np.ndarray, channel: int, code: np.ndarray, col: np.ndarray, values) -> None:
    """X[code, channel, col] = values through the flat view of X (3-D fancy indexing is several times slower)."""
    _, C, L = X.shape
    X.reshape(-1)[code * (C * L) + (channel * L) + col] = values


def _place(g: _Groups, seq_len: int, padding: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows kept (the most recent seq_len per customer) and their column in the output."""
    kept_len = np.minimum(g.length, seq_len)
    drop = g.length - kept_len  # oldest rows dropped by truncation
    keep = g.pos >= drop[g.code]
    col = g.pos - drop[g.code]
    if padding == "left":
        col = col + (seq_len - kept_len)[g.code]
    return keep, col[keep]


def _mask(lengths: np.ndarray, seq_len: int, padding: str) -> np.ndarray:
    steps = np.arange(seq_len)
    kept = np.minimum(lengths, seq_len)[:, None]
    return steps >= seq_len - kept if padding == "left" else steps < kept


def signed_log(x: np.ndarray) -> np.ndarray:
    """sign(x) * log(1 + |x|): compresses amounts over orders of magnitude, keeps their sign and zero."""
    return np.copysign(np.log1p(np.abs(x)), x)


def build_series(tx: pd.DataFrame, spec: SeriesSpec | None = None, *, customers=None,
                 scaling: dict[str, list[float]] | None = None) -> SeriesSet:
    """Build series for every customer in `tx` (or exactly `customers`, in that order, empty ones included).

    `scaling` reuses the global scaling of an earlier SeriesSet (for new customers); otherwise it is fitted.
    """
    spec = spec or SeriesSpec()
    validate_canonical(tx)
    if customers is None and len(tx) == 0:
        raise DataError("no transactions to build series from", expected="at least one transaction")
    builder = {"amounts": _amounts, "events": _events, "calendar": _calendar}[spec.representation]
    tx, g = _group(tx, None if customers is None else np.asarray(customers))
    return builder(tx, g, spec, scaling)


def _amounts(tx: pd.DataFrame, g: _Groups, spec: SeriesSpec, scaling) -> SeriesSet:
    L = spec.length(g.length.max(initial=0))
    keep, col = _place(g, L, spec.padding)
    code = g.code[keep]
    a = g.column(tx, "amount", np.float64)[keep]
    n = len(g.ids)
    count = np.bincount(code, minlength=n).astype(np.float64)
    mean = np.bincount(code, a, minlength=n) / np.maximum(count, 1)
    centred = a - mean[code]
    std = np.sqrt(np.bincount(code, centred**2, minlength=n) / np.maximum(count, 1))
    flat = std[code] <= 1e-12 * np.maximum(1.0, np.abs(mean[code]))
    z = np.where(flat, 0.0, centred / np.where(flat, 1.0, std[code]))  # constant history -> zeros, never NaN
    X = np.zeros((n, 1, L), dtype=np.float32)
    _scatter(X, 0, code, col, z)
    kept_len = np.minimum(g.length, L)
    report = _report(g, L)
    report["zero_variance"] = int(((kept_len >= 2) & (std <= 1e-12 * np.maximum(1.0, np.abs(mean)))).sum())
    return SeriesSet(X, _mask(g.length, L, spec.padding), g.ids, ["amount_z"], spec, {}, report)


def _report(g: _Groups, L: int) -> dict[str, int]:
    return {"customers": int(len(g.ids)), "transactions": int(g.length.sum()),
            "no_transactions": int((g.length == 0).sum()), "one_transaction": int((g.length == 1).sum()),
            "truncated": int((g.length > L).sum()), "seq_len": int(L)}


def _fit_scale(values: np.ndarray, name: str, scaling: dict | None, fitted: dict) -> np.ndarray:
    """Global (not per-customer) standardisation, fitted once and reused for new customers."""
    if scaling is not None:
        if name not in scaling:
            raise DataError(f"scaling for channel {name!r} missing from the saved series settings")
        mu, sd = scaling[name]
    else:
        mu = float(values.mean()) if len(values) else 0.0
        sd = float(values.std()) if len(values) else 1.0
        sd = sd if sd > 1e-12 else 1.0
    fitted[name] = [mu, sd]
    return (values - mu) / sd


def _balance(tx: pd.DataFrame, g: _Groups) -> tuple[np.ndarray, bool]:
    """Balance after each row. A missing balance carries the customer's last known one forward (a balance
    before the first known one takes that first one); a customer without any balance gets the running sum of its
    amounts from zero, which is flagged as derived (it is a change since the first transaction, not a level)."""
    bal = g.column(tx, "balance", np.float64)
    if not np.isnan(bal).any():
        return bal, False
    frame = pd.DataFrame({"c": g.code, "b": bal})
    known = frame.groupby("c", sort=False)["b"].ffill()
    known = known.fillna(frame.assign(b=known).groupby("c", sort=False)["b"].bfill()).to_numpy()
    csum = np.cumsum(g.column(tx, "amount", np.float64))
    before = np.concatenate([[0.0], csum])[g.start]
    running = csum - before[g.code]
    return np.where(np.isnan(known), running, known), bool(np.isnan(known).any())


def _events(tx: pd.DataFrame, g: _Groups, spec: SeriesSpec, scaling) -> SeriesSet:
    L = spec.length(g.length.max(initial=0))
    keep, col = _place(g, L, spec.padding)
    n = len(g.ids)
    fitted: dict[str, list[float]] = {}
    bal, derived = _balance(tx, g)
    days = g.column(tx, "timestamp").astype("datetime64[s]").astype(np.int64) / 86400.0
    gap = np.diff(days, prepend=days[:1] if len(days) else days)
    gap[g.pos == 0] = 0.0  # first transaction of each customer has no predecessor
    kinds = g.column(tx, "kind")  # category codes, in KINDS order

    channels = ["log_amount", "log_balance", "log_days_since_previous"] + [f"is_{k}" for k in EVENT_KINDS]
    X = np.zeros((n, len(channels), L), dtype=np.float32)
    code = g.code[keep]
    amount = signed_log(g.column(tx, "amount", np.float64)[keep])
    _scatter(X, 0, code, col, _fit_scale(amount, "log_amount", scaling, fitted))
    _scatter(X, 1, code, col, _fit_scale(signed_log(bal[keep]), "log_balance", scaling, fitted))
    _scatter(X, 2, code, col, _fit_scale(np.log1p(np.maximum(gap[keep], 0)), "log_days_since_previous",
                                         scaling, fitted))
    k = kinds[keep]
    is_event = k < len(EVENT_KINDS)
    _scatter(X, 3 + k[is_event].astype(np.int64), code[is_event], col[is_event], 1.0)  # one indicator channel per kind
    report = _report(g, L)
    report["balance_derived"] = int(derived)
    return SeriesSet(X, _mask(g.length, L, spec.padding), g.ids, channels, spec, fitted, report)


def _calendar(tx: pd.DataFrame, g: _Groups, spec: SeriesSpec, scaling) -> SeriesSet:
    n = len(g.ids)
    unit = "M" if spec.period == "month" else "D"
    p = g.column(tx, "timestamp").astype(f"datetime64[{unit}]").astype(np.int64)
    has = g.length > 0
    first = np.zeros(n, dtype=np.int64)
    first[has] = p[g.start[has]]
    rel = p - first[g.code]  # periods since each customer's first transaction
    if spec.period == "week":
        rel //= 7  # weeks aligned to the first transaction's day, not to calendar weeks
    span = np.zeros(n, dtype=np.int64)
    np.maximum.at(span, g.code, rel + 1)
    L = spec.length(span.max(initial=0))
    inside = rel < L  # the window keeps the first L periods from the first transaction
    code, rel_in = g.code[inside], rel[inside]
    flat = code * L + rel_in
    amount = g.column(tx, "amount", np.float64)[inside]
    bal, derived = _balance(tx, g)
    bal = bal[inside]

    credits = np.bincount(flat, np.maximum(amount, 0), minlength=n * L)
    debits = np.bincount(flat, np.maximum(-amount, 0), minlength=n * L)
    count = np.bincount(flat, minlength=n * L).astype(np.float64)
    # end-of-period balance: the last row of each (customer, period), rows being date-sorted
    last = np.ones(len(flat), dtype=bool)
    last[:-1] = flat[1:] != flat[:-1]
    balance = np.full(n * L, np.nan)
    balance[flat[last]] = bal[last]
    balance = balance.reshape(n, L)
    # carry the balance through periods without transactions
    idx = np.where(np.isnan(balance), 0, np.arange(L)[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    balance = np.take_along_axis(balance, idx, axis=1)
    balance = np.nan_to_num(balance, nan=0.0)

    steps = np.minimum(span, L)
    mask = np.arange(L)[None, :] < steps[:, None]
    fitted: dict[str, list[float]] = {}
    chans = {"log_credits": signed_log(credits.reshape(n, L)), "log_debits": signed_log(debits.reshape(n, L)),
             "log_balance": signed_log(balance), "log_count": np.log1p(count.reshape(n, L))}
    X = np.zeros((n, len(chans), L), dtype=np.float32)
    for i, (name, values) in enumerate(chans.items()):
        scaled = _fit_scale(values[mask], name, scaling, fitted)
        X[:, i][mask] = scaled
    if spec.padding == "left":
        shift = (L - steps)
        cols = (np.arange(L)[None, :] - shift[:, None]) % L
        X = np.take_along_axis(X, np.broadcast_to(cols[:, None, :], X.shape), axis=2)
        mask = np.arange(L)[None, :] >= shift[:, None]
    report = _report(g, L)
    report["truncated"] = int((span > L).sum())
    report["balance_derived"] = int(derived)
    return SeriesSet(X, mask, g.ids, list(chans), spec, fitted, report)
