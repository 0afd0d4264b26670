"""The pandas engine: the reference implementation of the behaviour sums (`fthc.features.reference`), in this
process. The SQL engines are tested against it; it is also a choice of its own (`--engine pandas`)."""

from __future__ import annotations

import pandas as pd

from ..features.measures import MONTHLY_HORIZON, month_before, month_index
from ..features.reference import customer_month, customer_sums, monthly
from . import ENGINES


@ENGINES.register("pandas", doc="pandas, the reference implementation, in this process")
class PandasEngine:
    name = "pandas"
    reads_files = False  # reads canonical buckets one at a time

    def frame_source(self, tx: pd.DataFrame, name: str = "canonical") -> pd.DataFrame:
        return tx

    def dataset_source(self, dataset, name: str = "canonical") -> "Buckets":
        """A Parquet dataset, out of core: its rows checked and spilled into customer buckets on disk (each fits
        in memory), which `sums` reads one at a time."""
        return self.files_source(dataset.spill(buckets=True))

    def files_source(self, files, name: str = "canonical") -> "Buckets":
        return Buckets(list(files))

    def until(self, source, end: pd.Timestamp):
        """`source` as known before `end` (exclusive)."""
        if isinstance(source, Buckets):
            return Buckets(source.files, end)
        return source[(source["timestamp"] < end).to_numpy()]

    def sums(self, source: pd.DataFrame, as_of: pd.Series | None = None) -> pd.DataFrame:
        """The `CUSTOMER` sums of a canonical table; with `as_of` (customer id -> cutoff), those customers only,
        each from its transactions before its cutoff."""
        frames = source.frames() if isinstance(source, Buckets) else [source]  # every customer in one bucket
        sums, months = [], []
        for tx in frames:
            months.append(customer_month(_windowed(tx, as_of), _ends(as_of)))
            sums.append(customer_sums(months[-1]))
        return pd.concat(sums).sort_index() if len(sums) > 1 else sums[0]

    def window_sums(self, source, windows: list[tuple[int | None, int]]):
        """For each window in turn, every customer's sums inside it and its last `RECENT_ROWS` customer-months:
        the reference, each window read from the transactions (`window_sql` in SQL reads month rows)."""
        from ..features.measures import RECENT_ROWS

        for start, end in windows:
            sums, months = [], []
            for tx in source.frames() if isinstance(source, Buckets) else [source]:
                month = month_index(tx["timestamp"]).to_numpy()
                inside = tx[(month <= end) & (month >= (start if start is not None else month.min()))]
                ends = pd.Series(end, index=pd.unique(inside["customer_id"]))
                m = customer_month(inside, ends)
                sums.append(customer_sums(m))
                months.append(m.loc[m["month"] > end - RECENT_ROWS, ["customer_id", "month", "credit", "debit",
                                                                     "balance"]])
            yield (pd.concat(sums).sort_index() if len(sums) > 1 else sums[0]), pd.concat(months, ignore_index=True)

    def last_timestamp(self, source) -> pd.Timestamp:
        frames = source.frames() if isinstance(source, Buckets) else [source]
        return max(pd.Timestamp(tx["timestamp"].max()) for tx in frames)

    def first_timestamp(self, source) -> pd.Timestamp:
        frames = source.frames() if isinstance(source, Buckets) else [source]
        return min(pd.Timestamp(tx["timestamp"].min()) for tx in frames)

    def months(self, source, as_of) -> pd.DataFrame:
        """The customer-month table (customer_id, month, credit, debit, balance) of the windowed histories."""
        frames = source.frames() if isinstance(source, Buckets) else [source]
        cols = ["customer_id", "month", "credit", "debit", "balance"]
        return pd.concat([customer_month(_windowed(tx, as_of), _ends(as_of))[cols] for tx in frames],
                         ignore_index=True)

    def monthly(self, source, segments: pd.Series) -> pd.DataFrame:
        frames = source.frames() if isinstance(source, Buckets) else [source]
        chosen = [customer_month(tx[tx["customer_id"].isin(segments.index)]) for tx in frames]
        return monthly(pd.concat(chosen, ignore_index=True), segments, MONTHLY_HORIZON)

    def close(self) -> None:
        pass


def _windowed(tx: pd.DataFrame, as_of) -> pd.DataFrame:
    """The transactions of the customers of `as_of` inside their windows (all of them without `as_of`)."""
    if as_of is None:
        return tx
    from ..features.window import as_cutoffs

    c = as_cutoffs(as_of).set_index("customer_id")
    cutoff, start = tx["customer_id"].map(c["cutoff"]), tx["customer_id"].map(c["start"])
    ts = tx["timestamp"]
    return tx[cutoff.notna().to_numpy() & (ts < cutoff).to_numpy() & (ts >= start).to_numpy()]


def _ends(as_of) -> pd.Series | None:
    """Each windowed customer's last month (`month_before` its cutoff)."""
    if as_of is None:
        return None
    from ..features.window import as_cutoffs

    c = as_cutoffs(as_of).set_index("customer_id")["cutoff"]
    return month_before(c)


class Buckets:
    """Canonical Parquet files, each holding whole customers, read one at a time."""

    def __init__(self, files: list, until: pd.Timestamp | None = None):
        self.files, self.until = files, until

    def frames(self):
        from ..data.partitioned import read_bucket

        for f in self.files:
            tx = read_bucket(f)
            yield tx if self.until is None else tx[(tx["timestamp"] < self.until).to_numpy()]
