"""Engines: what computes the behaviour measures of every customer (and scores them) where the data is.

- `duckdb` (the default): embedded, in this process; reads DataFrames, CSV/Parquet files and folders, spills to
  disk by itself.
- `spark`: PySpark, local or a cluster (`pip install "fthc[spark]"`), for a base that outgrows one machine.
- `pandas`: the reference implementation the others are tested against; bucket by bucket for a dataset on disk.
Every engine computes the same definitions (`fthc.features.measures`) and gives the same values.
"""

from __future__ import annotations

from ..registry import Registry

ENGINES: Registry = Registry("engine", flags={
    "embedded": True,  # runs inside this Python process
}, lazy=("fthc.engines.duckdb_engine", "fthc.engines.pandas_engine", "fthc.engines.spark"))

DEFAULT_ENGINE = "duckdb"


def default_engine():
    return ENGINES.create(DEFAULT_ENGINE)


__all__ = ["DEFAULT_ENGINE", "ENGINES", "default_engine"]
