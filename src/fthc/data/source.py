"""The one data-source entry point: whatever a user has -> canonical transactions, with the Berka tables when
there are any (loans, districts, for profiles and risk) and what reading reported. Used by inspect, segment,
assign, the grid runner and `fthc.Segmenter` alike.

- a DataFrame of transactions (user column names mapped by a `ColumnMapping`, or a canonical table);
- a Berka folder (the 8 tables), a CSV or Parquet file: read into memory and checked row by row;
- a folder or glob of Parquet files (a data lake): a `Dataset`, whose behaviour measures an engine computes over
  the files themselves (`fthc.engines`); read into memory only where a method needs whole series.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError
from ..progress import counted
from .berka import BerkaData, read_berka, to_transactions
from .errors import ReadReport
from .relation import OnEngine
from .tables import LINE, RowChecker
from .transactions import ColumnMapping, canonical_transactions, read_mapped


@dataclass
class Source(OnEngine):
    """Canonical transactions in memory."""

    transactions: pd.DataFrame
    berka: BerkaData | None  # None for a plain transaction table
    report: ReadReport
    mapping: ColumnMapping | None = None  # how a table's columns were read (None: Berka, or canonical)
    name: str = "transactions"
    currency: str | None = None

    def _make_relation(self, engine):
        return engine.frame_source(self.transactions)

    def transactions_in_memory(self) -> pd.DataFrame:
        return self.transactions

    def describe(self) -> str:
        return (f"{counted(self.transactions['customer_id'].nunique(), 'customer')} "
                f"({counted(len(self.transactions), 'transaction')})")


def load_source(path: str | Path, mapping: ColumnMapping | None = None, *, lenient: bool = False) -> Source:
    """Read a Berka folder (the 8 tables) or a CSV/Parquet transaction table mapped by `mapping`.

    Parameters
    ----------
    path : str or Path
        A Berka folder, a CSV or Parquet file, or a partitioned folder of them.
    mapping : ColumnMapping, optional
        Which columns hold what; None: the canonical names (customer_id, timestamp, amount, ...).
    lenient : bool
        Leave out bad rows (counted and reported) instead of refusing the file.

    Returns
    -------
    Source
        The canonical transactions (`.transactions`), what reading found (`.report`), the Berka tables if any.

    Examples
    --------
    >>> import fthc
    >>> source = fthc.load_source("bank/transactions.csv")  # doctest: +SKIP"""
    path = Path(path)
    if path.is_dir() and not _parquet_folder(path):
        data = read_berka(path, lenient=lenient)
        return Source(to_transactions(data), data, data.report, None, str(path), "CZK")
    if path.is_dir():
        from .partitioned import read_dataset

        tx, mapping, report = read_dataset(path, mapping, lenient=lenient)
        return Source(tx, None, report, mapping, str(path), mapping.currency)
    report = ReadReport()
    tx, mapping = read_mapped(path, mapping, lenient=lenient, report=report)
    return Source(tx, None, report, mapping, str(path), mapping.currency)


def _parquet_folder(path: Path) -> bool:
    from .partitioned import is_partitioned

    return is_partitioned(path)


def load_transactions(path: str | Path, mapping: ColumnMapping | None = None, *,
                      lenient: bool = False) -> tuple[pd.DataFrame, ReadReport]:
    """Canonical transactions and what lenient reading skipped (the Berka tables left out)."""
    src = load_source(path, mapping, lenient=lenient)
    return src.transactions, src.report


def from_frame(df: pd.DataFrame, mapping: ColumnMapping | None = None, *, lenient: bool = False) -> Source:
    """A user's DataFrame of transactions, checked like a file (rows are numbered from 1 in the frame's order);
    a canonical table (fthc's own, with a `kind` column of fthc's kinds) is taken as it is."""
    from .transactions import KINDS, validate_canonical

    if mapping is None and "kind" in df.columns and isinstance(df["kind"].dtype, pd.CategoricalDtype) and \
            list(df["kind"].cat.categories) == KINDS:
        return Source(validate_canonical(df), None, ReadReport(), None, "DataFrame")
    mapping = (mapping or ColumnMapping()).resolve(df.columns)
    missing = [c for c in mapping.columns() if c not in df.columns]
    if missing:
        import difflib

        close = difflib.get_close_matches(missing[0], [str(c) for c in df.columns], n=1)
        raise DataError(f"missing column {missing[0]!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
                        file="DataFrame", column=missing[0], expected=f"columns {mapping.columns()} "
                        f"(map yours with columns={{'customer_id': ..., 'timestamp': ...}}), found {list(df.columns)}")
    raw = df[mapping.columns()].reset_index(drop=True).copy()
    raw[LINE] = np.arange(1, len(raw) + 1)
    report = ReadReport()
    tx = canonical_transactions(raw, mapping, RowChecker(Path("DataFrame"), lenient=lenient, report=report),
                                typed=True)
    return Source(tx, None, report, mapping, "DataFrame", mapping.currency)


def as_of_end(as_of) -> pd.Timestamp:
    """The exclusive end of what is known on `as_of`: the day after it (the data is complete to that day)."""
    day = pd.Timestamp(as_of)
    if day.tz is not None:
        day = day.tz_localize(None)
    return day.normalize() + pd.Timedelta(days=1)


def cut_source(source, as_of):
    """The data as it stood on `as_of` (`--as-of`, point in time): every transaction after that day left out,
    whatever the source (a frame in memory, or Parquet files an engine reads where they lie)."""
    from .dataset import Dataset

    end = as_of_end(as_of)
    if isinstance(source, Dataset):
        return replace(source, until=end, _transactions=None, _spill=None)
    ts = source.transactions["timestamp"]
    bound = end.tz_localize(ts.dt.tz) if getattr(ts.dt, "tz", None) is not None else end
    return replace(source, transactions=source.transactions[(ts < bound).to_numpy()].reset_index(drop=True))


def as_source(data, mapping: ColumnMapping | None = None, *, lenient: bool = False):
    """A `Source` (or a `Dataset` of Parquet files) from a DataFrame, a path, or a source already made."""
    from .dataset import Dataset, open_dataset

    if isinstance(data, (Source, Dataset)):
        return data
    if isinstance(data, pd.DataFrame):
        return from_frame(data, mapping, lenient=lenient)
    if isinstance(data, (str, Path)):
        dataset = open_dataset(data, mapping, lenient=lenient)
        return dataset if dataset is not None else load_source(data, mapping, lenient=lenient)
    raise DataError(f"cannot read transactions from a {type(data).__name__}",
                    expected="a DataFrame, or the path of a Berka folder, a CSV/Parquet file or a Parquet folder")


__all__ = ["Source", "as_of_end", "as_source", "cut_source", "from_frame", "load_source", "load_transactions"]
