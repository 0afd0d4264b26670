"""DuckDB, the embedded default engine: the behaviour sums of `fthc.features.measures` as SQL (`SqlEngine`), in this
process, over a canonical DataFrame, a folder of canonical Parquet files, or a user's Parquet dataset read and
checked in SQL (`fthc.data.parquet_sql`). DuckDB spills to disk by itself; its memory is capped so that a
large dataset spills rather than fails."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from . import ENGINES
from .sql_engine import SqlEngine

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
    con.execute("SET enable_progress_bar = false")  # fthc's own progress says what runs, on stderr
    return con


def _quoted(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@ENGINES.register("duckdb", doc="DuckDB, embedded in this process (the default)")
class DuckDBEngine(SqlEngine):
    """Behaviour sums per customer, computed by DuckDB."""

    name = dialect = "duckdb"
    time_literal = "TIMESTAMP '{}'"
    cutoff_time = spill_time = "{}"  # pandas' and fthc's spill's times are DuckDB's timestamps as they are
    kind_of_code = "[{}][kind + 1]"
    count_if = "count(*) FILTER (WHERE {})"
    file_column = "filename"

    def __init__(self, threads: int | None = None, memory_limit: str = MEMORY_LIMIT):
        super().__init__()
        self.threads = threads
        self.memory_limit = memory_limit
        self._con = None

    @property
    def con(self):
        if self._con is None:
            self._con = connect(self.threads, self.memory_limit)
        return self._con

    def _register(self, view: str, frame: pd.DataFrame) -> None:
        self.con.register(view, frame)  # read where it lies (no copy)

    def _create_view(self, view: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {sql}")

    def _read_files(self, files: list, view: str, root=None) -> None:
        hive = "true" if any("=" in part for f in files for part in Path(f).parts) else "false"
        self._create_view(view, f"""SELECT *, file_index AS __file_index, file_row_number + 1 AS __row
            FROM read_parquet([{", ".join(_quoted(f) for f in files)}], filename = true, file_row_number = true,
                              hive_partitioning = {hive})""")

    def _df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def _fetch(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    @contextmanager
    def _month_store(self):
        """The month rows in a database file of their own in the spill folder (removed after), so that DuckDB can
        page them out under its memory cap (an in-memory table cannot be); DuckDB's memory lowered meanwhile."""
        con = self.con
        folder = tempfile.mkdtemp(prefix="fthc-months-",
                                  dir=con.execute("SELECT current_setting('temp_directory')").fetchone()[0] or None)
        con.execute(f"ATTACH {_quoted(Path(folder) / 'months.duckdb')} AS fthc_months")
        con.execute(f"SET memory_limit = '{WINDOW_MEMORY_LIMIT}'")
        try:
            yield
        finally:
            con.execute("DETACH fthc_months")
            con.execute(f"SET memory_limit = '{self.memory_limit}'")
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def _stored(self, name: str, sql: str):
        self.con.execute(f"CREATE OR REPLACE TABLE fthc_months.{name} AS {sql}")
        yield f"fthc_months.{name}"  # (the file goes with `_month_store`)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
