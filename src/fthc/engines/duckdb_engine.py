"""DuckDB, the embedded default engine: the behaviour sums of `fthc.features.measures` as SQL, in this process,
over a canonical DataFrame (zero-copy), a folder of canonical Parquet files, or a user's Parquet dataset read and
checked in SQL (`fthc.data.parquet_sql`). DuckDB spills to disk by itself; its memory is capped so that a
large dataset spills rather than fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..features.measures import RECENT_ROWS, SUMS, customer_month_sql, customer_sql, month_sql, monthly_sql, \
    window_sql
from . import ENGINES

MEMORY_LIMIT = os.environ.get("FTHC_DUCKDB_MEMORY", "2GB")
# while `window_sums` feeds the periods of `fthc track`: each period's frames are built in Python beside DuckDB's
# month rows, so DuckDB takes less (at 100M transactions: 3.5 GB peak with 2GB, measured in docs/benchmarks.md)
WINDOW_MEMORY_LIMIT = os.environ.get("FTHC_DUCKDB_WINDOW_MEMORY", "1GB")


def connect(threads: int | None = None, memory_limit: str = MEMORY_LIMIT, temp_directory: str | None = None):
    """An in-memory DuckDB connection with a memory cap and a spill folder, on the run's thread budget."""
    import duckdb

    from ..threads import budget

    con = duckdb.connect(config={"threads": threads or budget(), "memory_limit": memory_limit,
                                 "temp_directory": temp_directory or tempfile.gettempdir(),
                                 "preserve_insertion_order": False})
    return con


@ENGINES.register("duckdb", doc="DuckDB, embedded in this process (the default)")
class DuckDBEngine:
    """Behaviour sums per customer, computed by DuckDB."""

    name = "duckdb"
    reads_files = True  # reads a canonical spill of many customers' rows at once (no buckets needed)

    def __init__(self, threads: int | None = None, memory_limit: str = MEMORY_LIMIT):
        self.threads = threads
        self.memory_limit = memory_limit
        self._con = None
        self._gaps: dict[str, bool] = {}  # source view -> some (not all) balances missing: carry them forward

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
        missing = int(view["balance"].isna().sum())
        self._gaps[f"{name}_frame"] = 0 < missing < len(view)
        return f"{name}_frame"

    def files_source(self, files: list[Path], name: str = "canonical") -> str:
        """Canonical Parquet files (a spill written by fthc) as a view; `seq` keeps each file's row order."""
        from ..data.transactions import KINDS

        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        kinds = "[" + ", ".join(f"'{k}'" for k in KINDS) + "]"  # the spill keeps kinds as codes
        self.con.execute(f"""CREATE OR REPLACE TEMP VIEW {name}_files AS
            SELECT customer_id, timestamp, amount, balance, {kinds}[kind + 1] AS kind,
                   file_index * 4294967296 + file_row_number AS seq
            FROM read_parquet([{listed}], file_row_number = true)""")
        return f"{name}_files"

    def dataset_source(self, dataset, name: str = "canonical") -> str:
        """A user's Parquet dataset as a canonical view, after its rows are checked in SQL (one scan): the first
        bad row is an error naming its file and row; far dates and unmapped categories are counted as notes."""
        from ..errors import DataError
        from ..data.parquet_sql import canonical_select, checks, far_dates, unmapped_categories

        files, mapping = dataset.files, dataset.mapping
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        con = self.con
        hive = "true" if any("=" in part for f in files for part in Path(f).parts) else "false"
        con.execute(f"""CREATE OR REPLACE TEMP VIEW {name}_raw AS
            SELECT *, file_index AS __file_index, file_row_number + 1 AS __row
            FROM read_parquet([{listed}], filename = true, file_row_number = true, hive_partitioning = {hive})""")
        tests = checks(files, mapping)
        extra = {"far": far_dates(mapping)}
        unmapped = unmapped_categories(mapping)
        parts = [f"count(*) FILTER (WHERE {c.where}) AS n{i}" for i, c in enumerate(tests)]
        parts.append(f"count(*) FILTER (WHERE {extra['far']}) AS far, count(*) AS rows")
        if mapping.balance:
            parts.append(f"count(*) FILTER (WHERE \"{mapping.balance}\" IS NULL OR isnan(CAST(\"{mapping.balance}\" "
                         "AS DOUBLE))) AS no_balance")
        if unmapped:
            parts.append(f"count(*) FILTER (WHERE {unmapped}) AS unmapped")
        row = con.execute(f"SELECT {', '.join(parts)} FROM {name}_raw").fetchone()
        got = dict(zip([d[0] for d in con.description], row))
        if got["rows"] == 0:
            raise DataError("the dataset has no rows", file=dataset.name, expected="at least one transaction")
        for i, c in enumerate(tests):
            if got[f"n{i}"]:  # the first such row, in file order
                file, line, value = con.execute(
                    f"SELECT filename, __row, {c.value or 'NULL'} FROM {name}_raw WHERE {c.where} "
                    "ORDER BY __file_index, __row LIMIT 1").fetchone()
                n = got[f"n{i}"]
                raise DataError(f"{c.reason} ({n} such row{'s' if n > 1 else ''})", file=file, row=line,
                                column=c.column, expected=c.expected, value=value)
        if got["far"]:
            dataset.report.warnings.append(f"{dataset.name} column {mapping.timestamp!r}: {got['far']:,} dates "
                                           "before 1950 or in the future; kept (--lenient leaves them out, counted)")
        if unmapped and got.get("unmapped"):
            values = [r[0] for r in con.execute(f"SELECT DISTINCT trim(CAST(\"{mapping.category}\" AS VARCHAR)) "
                                                f"FROM {name}_raw WHERE {unmapped} LIMIT 50").fetchall()]
            dataset.report.unmapped_categories = values
            dataset.report.unmapped_rows = int(got["unmapped"])
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name}_dataset AS "
                    + canonical_select(files, mapping, f"{name}_raw", "__file_index * 4294967296 + __row"))
        missing = got.get("no_balance", got["rows"])
        self._gaps[f"{name}_dataset"] = bool(0 < missing < got["rows"])
        return f"{name}_dataset"

    def until(self, source: str, end: pd.Timestamp) -> str:
        """`source` as known before `end` (exclusive): a view of the transactions before it."""
        view = f"{source}_until"
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {source} "
                         f"WHERE timestamp < TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'")
        if source in self._gaps:  # unknown stays unknown (computed where needed)
            self._gaps[view] = self._gaps[source]
        return view

    def sums(self, source: str, as_of: pd.Series | None = None) -> pd.DataFrame:
        """The `CUSTOMER` sums (index: customer_id, sorted) of a canonical source view; with `as_of` (customer
        id -> cutoff time), only those customers, each from its transactions before its cutoff."""
        con = self.con
        gaps = self._gaps.get(source)
        source = self._windowed(source, as_of)
        if gaps is None:
            gaps = con.execute(f"SELECT count(*) FILTER (WHERE balance IS NULL) > 0 AND count(balance) > 0 "
                               f"FROM {source}").fetchone()[0]
        months = f"({month_sql('duckdb', source, bool(gaps), as_of is not None)}) AS months"
        out = con.execute(customer_sql("duckdb", months, source) + " ORDER BY customer_id").df() \
            .set_index("customer_id")
        return _typed(out)[SUMS]

    def _windowed(self, source: str, as_of) -> str:
        """The source, or (with `as_of`: customer id -> cutoff, or a frame of cutoff and start) those customers'
        transactions inside their windows."""
        if as_of is None:
            return source
        from ..features.window import as_cutoffs, windowed_sql

        self.con.register("as_of_cutoffs", as_cutoffs(as_of))
        return windowed_sql(source)

    def window_sums(self, source: str, windows: list[tuple[int | None, int]]):
        """For each window (first month or None, last month; as year * 12 + month - 1) in turn, every customer's
        `SUMS` over its transactions inside it and its last `RECENT_ROWS` customer-months (customer_id, month,
        credit, debit, balance): one aggregation of the transactions into month rows, which every window reads.
        The month rows live in a database file of their own in the spill folder (removed after), so that DuckDB
        can page them out under its memory cap (an in-memory table cannot be)."""
        con = self.con
        gaps = bool(self._gaps.get(source, True))
        folder = tempfile.mkdtemp(prefix="fthc-months-",
                                  dir=con.execute("SELECT current_setting('temp_directory')").fetchone()[0] or None)
        path = Path(folder) / "months.duckdb"
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS fthc_months")
        con.execute(f"SET memory_limit = '{WINDOW_MEMORY_LIMIT}'")
        try:
            con.execute("CREATE TABLE fthc_months.rows AS " + customer_month_sql("duckdb", source, wide=True))
            for start, end in windows:
                con.execute("CREATE OR REPLACE TABLE fthc_months.window AS "
                            + window_sql("duckdb", "fthc_months.rows", start, end, gaps))
                sums = con.execute(customer_sql("duckdb", "fthc_months.window") + " ORDER BY customer_id").df() \
                    .set_index("customer_id")
                months = con.execute("SELECT customer_id, month, credit, debit, balance FROM fthc_months.window "
                                     f"WHERE month > {int(end) - RECENT_ROWS}").df()
                yield _typed(sums)[SUMS], months
        finally:
            con.execute("DETACH fthc_months")
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            shutil.rmtree(folder, ignore_errors=True)

    def last_timestamp(self, source: str) -> pd.Timestamp:
        return pd.Timestamp(self.con.execute(f"SELECT max(timestamp) FROM {source}").fetchall()[0][0])

    def first_timestamp(self, source: str) -> pd.Timestamp:
        return pd.Timestamp(self.con.execute(f"SELECT min(timestamp) FROM {source}").fetchall()[0][0])

    def months(self, source: str, as_of) -> pd.DataFrame:
        """The customer-month table (customer_id, month, credit, debit, balance) of the windowed histories."""
        gaps = self._gaps.get(source, True)
        rows = self._windowed(source, as_of)
        return self.con.execute(f"SELECT customer_id, month, credit, debit, balance FROM "
                                f"({month_sql('duckdb', rows, bool(gaps), as_of is not None)}) AS m").df()

    def monthly(self, source: str, segments: pd.Series) -> pd.DataFrame:
        """Per segment and month of history, the quartiles of money in, out and balance of the customers in
        `segments` (customer id -> segment), read from the source again for those customers only."""
        con = self.con
        frame = pd.DataFrame({"customer_id": segments.index.to_numpy(), "segment": segments.to_numpy()})
        con.register("segment_of", frame)
        rows = f"(SELECT * FROM {source} WHERE customer_id IN (SELECT customer_id FROM segment_of)) AS chosen"
        months = f"({month_sql('duckdb', rows, bool(self._gaps.get(source, True)))})"
        return con.execute(monthly_sql("duckdb", months, "segment_of")).df()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def _typed(sums: pd.DataFrame) -> pd.DataFrame:
    """Counts as int64 and the rest as float64, whatever type the engine gave (DuckDB's HUGEINT sums, NULLs)."""
    counts = {"transactions", "first_month", "months", "active_months", "months_with_credit", "credits", "debits",
              "transfer_in_months", "pension_months", "balance_months", "negative_months", "recent_months",
              "earlier_months", "recent_balance_months", "earlier_balance_months", "recent_negative_months",
              "earlier_negative_months"}
    out = {}
    for c in sums.columns:
        if c in counts or c.startswith("n_"):
            out[c] = sums[c].fillna(0).astype(np.int64)
        else:
            out[c] = pd.to_numeric(sums[c]).astype(np.float64)
    return pd.DataFrame(out, index=sums.index)
