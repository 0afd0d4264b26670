"""DuckDB, the embedded default engine: the behaviour sums of `fthc.features.measures` as SQL, in this process,
over a canonical DataFrame (zero-copy), a folder of canonical Parquet files, or a user's Parquet dataset read and
checked in SQL (`fthc.engines.parquet_sql`). DuckDB spills to disk by itself; its memory is capped so that a
large dataset spills rather than fails."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..features.measures import CUSTOMER, CUSTOMER_MONTH, MONTH_BALANCE, MONTH_BALANCE_NO_GAPS, SUMS, render
from . import ENGINES

MEMORY_LIMIT = os.environ.get("FTHC_DUCKDB_MEMORY", "2GB")


def connect(threads: int | None = None, memory_limit: str = MEMORY_LIMIT, temp_directory: str | None = None):
    """An in-memory DuckDB connection with a memory cap and a spill folder."""
    import duckdb

    con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1, "memory_limit": memory_limit,
                                 "temp_directory": temp_directory or tempfile.gettempdir(),
                                 "preserve_insertion_order": False})
    return con


@ENGINES.register("duckdb", doc="DuckDB, embedded in this process (the default)")
class DuckDBEngine:
    """Behaviour sums per customer, computed by DuckDB."""

    name = "duckdb"

    def __init__(self, threads: int | None = None, memory_limit: str = MEMORY_LIMIT):
        self.threads = threads
        self.memory_limit = memory_limit
        self._con = None

    @property
    def con(self):
        if self._con is None:
            self._con = connect(self.threads, self.memory_limit)
        return self._con

    def frame_source(self, tx: pd.DataFrame, name: str = "canonical") -> str:
        """A canonical DataFrame as a view (`seq`: its row order, which is the canonical order)."""
        view = tx[["customer_id", "timestamp", "amount", "balance"]].copy()
        view["kind"] = tx["kind"].astype(str).to_numpy()
        view["seq"] = np.arange(len(tx), dtype=np.int64)
        self.con.register(f"{name}_frame", view)
        return f"{name}_frame"

    def files_source(self, files: list[Path], name: str = "canonical") -> str:
        """Canonical Parquet files (a spill written by fthc) as a view; `seq` keeps each file's row order."""
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        index = " ".join(f"WHEN '{str(f).replace(chr(39), chr(39) * 2)}' THEN {i}" for i, f in enumerate(files))
        self.con.execute(f"""CREATE OR REPLACE TEMP VIEW {name}_files AS
            SELECT customer_id, timestamp, amount, balance, kind,
                   (CASE filename {index} END) * 4294967296 + file_row_number AS seq
            FROM read_parquet([{listed}], filename = true, file_row_number = true)""")
        return f"{name}_files"

    def sums(self, source: str, as_of: pd.Series | None = None) -> pd.DataFrame:
        """The `CUSTOMER` sums (index: customer_id, sorted) of a canonical source view; with `as_of` (customer
        id -> cutoff time), only those customers, each from its transactions before its cutoff."""
        con = self.con
        if as_of is not None:
            cut = pd.DataFrame({"customer_id": as_of.index.to_numpy(), "cutoff": pd.to_datetime(as_of.to_numpy())})
            con.register("as_of_cutoffs", cut)
            source = (f"(SELECT t.* FROM {source} t JOIN as_of_cutoffs c ON t.customer_id = c.customer_id "
                      "WHERE t.timestamp < c.cutoff)")
        gaps = con.execute(f"SELECT count(*) FILTER (WHERE balance IS NULL) > 0 AND count(balance) > 0 "
                           f"FROM {source}").fetchone()[0]
        months = render(CUSTOMER_MONTH, "duckdb", source)
        balance = render(MONTH_BALANCE if gaps else MONTH_BALANCE_NO_GAPS, "duckdb", f"({months}) AS months")
        query = render(CUSTOMER, "duckdb", f"({balance}) AS balances")
        out = con.execute(query + " ORDER BY customer_id").df().set_index("customer_id")
        return _typed(out)[SUMS]

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _typed(sums: pd.DataFrame) -> pd.DataFrame:
    """Counts as int64 and the rest as float64, whatever type the engine gave (DuckDB's HUGEINT sums, NULLs)."""
    counts = {"transactions", "first_month", "months", "active_months", "months_with_credit", "credits", "debits",
              "transfer_in_months", "pension_months", "balance_months", "negative_months"}
    out = {}
    for c in sums.columns:
        if c in counts or c.startswith("n_"):
            out[c] = sums[c].fillna(0).astype(np.int64)
        else:
            out[c] = pd.to_numeric(sums[c]).astype(np.float64)
    return pd.DataFrame(out, index=sums.index)
