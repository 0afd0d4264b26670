"""Engines: what computes the behaviour measures of every customer (and scores them) where the data is.

- `duckdb` (the default): embedded, in this process; reads DataFrames, CSV/Parquet files and folders, spills to
  disk by itself.
- `spark`: PySpark, local or a cluster (`pip install "fthc[spark]"`), for a base that outgrows one machine.
- `pandas`: the reference implementation the others are tested against; bucket by bucket for a dataset on disk.
Every engine computes the same definitions (`fthc.features.measures`) and gives the same values. DuckDB and Spark
are one engine written once (`fthc.engines.sql_engine.SqlEngine`: the SQL, the dataset checks, the windows), each a
thin subclass saying how its database registers views, runs queries and spells its casts.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import pandas as pd

from ..registry import Registry


@runtime_checkable
class Engine(Protocol):
    """What every registered engine provides (checked for each in tests/features/test_measures.py). A source is
    whatever the engine's own `*_source` returns (a view name, a frame, buckets of files): only it reads it."""

    name: str
    reads_files: bool  # reads a spill of many customers' rows at once (else a dataset on disk comes in buckets)

    def frame_source(self, tx: pd.DataFrame, name: str = "canonical") -> Any:
        """Canonical transactions in memory as a source."""

    def files_source(self, files: list, name: str = "canonical") -> Any:
        """Canonical Parquet spill files as a source."""

    def dataset_source(self, dataset, name: str = "canonical") -> Any:
        """A mapped Parquet dataset read where it lies (checked as the in-memory reader checks)."""

    def sums(self, source, as_of: pd.Series | None = None) -> pd.DataFrame:
        """Every customer's behaviour sums (`fthc.features.measures.SUMS`), over its window when `as_of` gives
        each customer's cutoffs."""

    def last_timestamp(self, source) -> pd.Timestamp:
        """The data's last transaction time."""

    def first_timestamp(self, source) -> pd.Timestamp:
        """The data's first transaction time."""

    def months(self, source, as_of) -> pd.DataFrame:
        """Each customer's money in and out per month of its window (the recent-months inputs)."""

    def window_sums(self, source, windows: list) -> Any:
        """For each (first month or None, last month) window in turn, every customer's sums inside it and its last
        customer-months: `fthc track`'s periods, from one aggregation of the transactions."""

    def monthly(self, source, segments: pd.Series) -> pd.DataFrame:
        """Per segment and month since each customer's first: the quartiles of balance and flows (the chart)."""

    def close(self) -> None:
        """Release what the engine holds (connections, spill files)."""


ENGINES: Registry = Registry("engine", flags={
    "embedded": True,  # runs inside this Python process
}, lazy=("fthc.engines.duckdb_engine", "fthc.engines.pandas_engine", "fthc.engines.spark"))

DEFAULT_ENGINE = "duckdb"


def default_engine():
    return ENGINES.create(DEFAULT_ENGINE)


__all__ = ["DEFAULT_ENGINE", "ENGINES", "Engine", "default_engine"]
