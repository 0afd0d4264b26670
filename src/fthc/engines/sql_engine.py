"""One SQL engine, written once: every customer's behaviour sums (`fthc.features.measures`), the checks of a user's
Parquet dataset (`fthc.data.parquet_sql`), the windows, the customer-months and the monthly chart, as SQL in the
dialect DuckDB and Spark share. A database is a thin subclass (`DuckDBEngine`, `SparkEngine`, as a database
backend is in Splink or ibis) that says only how it registers a frame or a view, runs a query into pandas, keeps a
table while `fthc track`'s windows read it, and spells the little its SQL spells differently (casts, a timestamp
literal, a conditional count).

A source is the name of a view of canonical transactions: customer_id, timestamp, amount, balance (may be null),
kind (text) and seq (the canonical order: ties in time are broken by it)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd

from ..features.measures import RECENT_ROWS, SUMS, customer_month_sql, customer_sql, month_sql, monthly_sql, \
    window_sql

SEQ = "__file_index * 4294967296 + __row"  # the rows of files read in turn, each file's in order (`_read_files`)
MONTH_COLUMNS = "customer_id, month, credit, debit, balance"  # a customer-month, as the outcome model reads it


class SqlEngine:
    """Behaviour sums per customer, computed in SQL (a database's subclass runs it)."""

    name: str
    dialect: str  # the spellings of `fthc.features.measures.DIALECTS` and `fthc.data.parquet_sql.SPELLING`
    reads_files = True  # reads a canonical spill of many customers' rows at once (no buckets needed)
    # the dialect's spellings, `{}` their argument
    time_literal: str  # a timestamp literal, of 'YYYY-MM-DD HH:MM:SS'
    cutoff_time: str  # a registered frame's time column (`as_of_cutoffs`), compared with the views' times
    spill_time: str  # a canonical spill's time column, as the views' times
    kind_of_code: str  # a spill's kind code (0-based) as its kind, of the quoted kinds listed
    count_if: str  # the number of rows where a condition holds
    file_column: str  # the file a row of `_read_files` comes from, as the user named it

    def __init__(self) -> None:
        self._gaps: dict[str, bool] = {}  # source view -> some (not all) balances missing: carry them forward

    # -- what a database implements ---------------------------------------------------------------------------------
    def _register(self, view: str, frame: pd.DataFrame) -> None:
        """A pandas frame as the view `view`."""
        raise NotImplementedError

    def _create_view(self, view: str, sql: str) -> None:
        """The query `sql` as the (temporary) view `view`, replacing one of that name."""
        raise NotImplementedError

    def _read_files(self, files: list, view: str, root=None) -> None:
        """Parquet files as the view `view`: their columns (hive partition keys under `root` among them) and
        `__file_index` (the file's position in `files`), `__row` (its row number, from 1) and what `file_column`
        reads."""
        raise NotImplementedError

    def _df(self, sql: str) -> pd.DataFrame:
        """A query's result as a pandas frame."""
        raise NotImplementedError

    def _fetch(self, sql: str) -> list[tuple]:
        """A (small) query's rows."""
        raise NotImplementedError

    def _stored(self, name: str, sql: str):
        """A context manager: the query `sql` kept (computed once) while the block reads it; yields its name."""
        raise NotImplementedError

    def _month_store(self):
        """A context manager around `window_sums`: where its stored month rows live while the windows read them."""
        return nullcontext()

    def _errors(self, source=None):
        """A context manager turning the database's errors about the data into fthc's (naming `source`)."""
        return nullcontext()

    # -- sources ----------------------------------------------------------------------------------------------------
    def frame_source(self, tx: pd.DataFrame, name: str = "canonical") -> str:
        """A canonical DataFrame as a view (`seq`: its row order, which is the canonical order)."""
        view = tx[["customer_id", "timestamp", "amount", "balance"]].copy()
        view["kind"] = tx["kind"].astype(str).to_numpy()
        view["seq"] = np.arange(len(tx), dtype=np.int64)
        self._register(f"{name}_frame", view)
        self._note_balances(f"{name}_frame", int(view["balance"].isna().sum()), len(view))
        return f"{name}_frame"

    def files_source(self, files: list[Path], name: str = "canonical") -> str:
        """Canonical Parquet files (a spill written by fthc, kinds as codes) as a view; `seq` keeps each file's row
        order."""
        from ..data.transactions import KINDS

        with self._errors(files[0] if files else None):
            self._read_files(files, f"{name}_spill")
        kind = self.kind_of_code.format(", ".join(f"'{k}'" for k in KINDS))
        self._create_view(f"{name}_files", f"SELECT customer_id, {self.spill_time.format('timestamp')} AS timestamp, "
                                           f"amount, balance, {kind} AS kind, {SEQ} AS seq FROM {name}_spill")
        self._note_balances(f"{name}_files")  # unknown until needed (`balance_gaps`)
        return f"{name}_files"

    def dataset_source(self, dataset, name: str = "canonical") -> str:
        """A user's Parquet dataset as a canonical view, after its rows are checked in SQL (one scan): the first
        bad row is an error naming its file and row; far dates and unmapped categories are counted as notes."""
        from ..data.parquet_sql import canonical_select

        root = dataset.path if Path(str(dataset.path)).is_dir() else None
        with self._errors(dataset.name):
            self._read_files(dataset.files, f"{name}_raw", root)
            missing, rows = self._check_rows(dataset, f"{name}_raw")
            self._create_view(f"{name}_dataset", canonical_select(dataset.files, dataset.mapping, f"{name}_raw", SEQ,
                                                                  self.dialect))
        self._note_balances(f"{name}_dataset", missing, rows)
        return f"{name}_dataset"

    def _check_rows(self, dataset, raw: str) -> tuple[int, int]:
        """The checks of `fthc.data.parquet_sql` over the raw view, counted in one scan; the report of `dataset`
        notes far dates and unmapped categories. Returns (rows without a balance, rows)."""
        from ..data.parquet_sql import category_text, checks, far_dates, missing_balance, unmapped_categories
        from ..errors import DataError

        mapping = dataset.mapping
        tests = checks(dataset.files, mapping, self.dialect)
        counted = {f"n{i}": c.where for i, c in enumerate(tests)} | {"far": far_dates(mapping, self.dialect)}
        if mapping.balance:
            counted["no_balance"] = missing_balance(mapping, self.dialect)
        unmapped = unmapped_categories(mapping, self.dialect)
        if unmapped:
            counted["unmapped"] = unmapped
        parts = [f"{self.count_if.format(where)} AS {key}" for key, where in counted.items()]
        got = dict(zip([*counted, "rows"], self._fetch(f"SELECT {', '.join(parts)}, count(*) AS rows FROM {raw}")[0]))
        if got["rows"] == 0:
            raise DataError("the dataset has no rows", file=dataset.name, expected="at least one transaction")
        for i, c in enumerate(tests):
            if got[f"n{i}"]:  # the first such row, in file order
                file, row, value = self._fetch(
                    f"SELECT {self.file_column} AS __file, __row, {c.value or 'NULL'} AS __value FROM {raw} "
                    f"WHERE {c.where} ORDER BY __file_index, __row LIMIT 1")[0]
                n = got[f"n{i}"]
                raise DataError(f"{c.reason} ({n} such row{'s' if n > 1 else ''})", file=file, row=int(row),
                                column=c.column, expected=c.expected, value=value)
        if got["far"]:
            dataset.report.warnings.append(f"{dataset.name} column {mapping.timestamp!r}: {got['far']:,} dates "
                                           "before 1950 or in the future; kept (--lenient leaves them out, counted)")
        if unmapped and got.get("unmapped"):
            dataset.report.unmapped_categories = [r[0] for r in self._fetch(
                f"SELECT DISTINCT {category_text(mapping, self.dialect)} FROM {raw} WHERE {unmapped} LIMIT 50")]
            dataset.report.unmapped_rows = int(got["unmapped"])
        return got.get("no_balance", got["rows"]), got["rows"]

    def until(self, source: str, end: pd.Timestamp) -> str:
        """`source` as known before `end` (exclusive): a view of the transactions before it."""
        view = f"{source}_until"
        self._create_view(view, f"SELECT * FROM {source} WHERE timestamp < "
                                + self.time_literal.format(f"{end:%Y-%m-%d %H:%M:%S}"))
        self._note_gaps(view, self._gaps.get(source))  # unknown stays unknown (counted where needed)
        return view

    # -- the balance-gap flag ---------------------------------------------------------------------------------------
    def _note_balances(self, view: str, missing: int | None = None, rows: int | None = None) -> None:
        """What a new view's balances are: `missing` of `rows` (None: not known, counted when needed)."""
        self._note_gaps(view, None if missing is None else bool(0 < missing < rows))

    def _note_gaps(self, view: str, gaps: bool | None) -> None:
        """A new view's balance-gap flag (None: not known, counted when needed); a view made again under an old
        name must not keep the old view's flag."""
        self._gaps.pop(view, None)
        if gaps is not None:
            self._gaps[view] = gaps

    def balance_gaps(self, source: str) -> bool:
        """Whether some, not all, of the source's balances are missing: then each month's balance is carried
        forward from the last known one (without gaps, every month's own last balance is it). Counted once."""
        if source not in self._gaps:
            with self._errors():
                self._gaps[source] = bool(self._fetch(f"SELECT {self.count_if.format('balance IS NULL')} > 0 AND "
                                                      f"count(balance) > 0 FROM {source}")[0][0])
        return self._gaps[source]

    # -- what the engines compute -----------------------------------------------------------------------------------
    def _windowed(self, source: str, as_of) -> str:
        """The source, or (with `as_of`: customer id -> cutoff, or a frame of cutoff and start) those customers'
        transactions inside their windows."""
        if as_of is None:
            return source
        from ..features.window import as_cutoffs, windowed_sql

        self._register("as_of_cutoffs", as_cutoffs(as_of))
        return windowed_sql(source, self.cutoff_time)

    def _sums_sql(self, source: str, as_of=None) -> str:
        """The query of the `SUMS`, one row per customer (of `as_of`'s customers inside their windows)."""
        gaps = self.balance_gaps(source)
        rows = self._windowed(source, as_of)
        months = f"({month_sql(self.dialect, rows, gaps, as_of is not None)}) AS months"
        return customer_sql(self.dialect, months, rows)

    def _customers(self, sql: str) -> pd.DataFrame:
        """The `SUMS` a query gives, by customer id (sorted), typed."""
        return _typed(self._df(sql).set_index("customer_id").sort_index())[SUMS]

    def sums(self, source: str, as_of: pd.Series | None = None) -> pd.DataFrame:
        """The `CUSTOMER` sums (index: customer_id, sorted) of a canonical source view; with `as_of` (customer
        id -> cutoff time), only those customers, each from its transactions before its cutoff."""
        with self._errors():
            return self._customers(self._sums_sql(source, as_of))

    def window_sums(self, source: str, windows: list[tuple[int | None, int]]):
        """For each window (first month or None, last month; `month_index`es) in turn, every customer's `SUMS`
        over its transactions inside it and its last `RECENT_ROWS` customer-months (customer_id, month, credit,
        debit, balance): one aggregation of the transactions into month rows (kept: `_stored`), which every
        window reads."""
        gaps = self.balance_gaps(source)
        with self._month_store(), self._errors(), \
                self._stored("fthc_month_rows", customer_month_sql(self.dialect, source, wide=True)) as rows:
            for start, end in windows:
                with self._stored("fthc_window_months", window_sql(self.dialect, rows, start, end, gaps)) as months:
                    sums = self._customers(customer_sql(self.dialect, months))
                    recent = self._df(f"SELECT {MONTH_COLUMNS} FROM {months} WHERE month > {int(end) - RECENT_ROWS}")
                yield sums, recent

    def _timestamp(self, sql: str) -> pd.Timestamp:
        with self._errors():
            return pd.Timestamp(self._fetch(sql)[0][0])

    def last_timestamp(self, source: str) -> pd.Timestamp:
        return self._timestamp(f"SELECT max(timestamp) AS t FROM {source}")

    def first_timestamp(self, source: str) -> pd.Timestamp:
        return self._timestamp(f"SELECT min(timestamp) AS t FROM {source}")

    def months(self, source: str, as_of) -> pd.DataFrame:
        """The customer-month table (customer_id, month, credit, debit, balance) of the windowed histories."""
        with self._errors():
            gaps = self.balance_gaps(source)
            rows = self._windowed(source, as_of)
            return self._df(f"SELECT {MONTH_COLUMNS} FROM ({month_sql(self.dialect, rows, gaps, as_of is not None)}) "
                            "AS m")

    def monthly(self, source: str, segments: pd.Series) -> pd.DataFrame:
        """Per segment and month of history, the quartiles of money in, out and balance of the customers in
        `segments` (customer id -> segment), read from the source again for those customers only."""
        with self._errors():
            self._register("segment_of", pd.DataFrame({"customer_id": segments.index.to_numpy(),
                                                       "segment": segments.to_numpy()}))
            rows = f"(SELECT * FROM {source} WHERE customer_id IN (SELECT customer_id FROM segment_of)) AS chosen"
            months = f"({month_sql(self.dialect, rows, self.balance_gaps(source))})"
            return self._df(monthly_sql(self.dialect, months, "segment_of"))

    def close(self) -> None:
        pass


COUNTS = {"transactions", "first_month", "months", "active_months", "months_with_credit", "credits", "debits",
          "transfer_in_months", "pension_months", "balance_months", "negative_months", "recent_months",
          "earlier_months", "recent_balance_months", "earlier_balance_months", "recent_negative_months",
          "earlier_negative_months"}


def _typed(sums: pd.DataFrame) -> pd.DataFrame:
    """Counts as int64 and the rest as float64, whatever type the engine gave (DuckDB's HUGEINT sums, NULLs)."""
    out = {}
    for c in sums.columns:
        if c in COUNTS or c.startswith("n_"):
            out[c] = sums[c].fillna(0).astype(np.int64)
        else:
            out[c] = pd.to_numeric(sums[c]).astype(np.float64)
    return pd.DataFrame(out, index=sums.index)
