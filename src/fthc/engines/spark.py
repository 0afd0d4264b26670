"""Spark: the behaviour of a bank's whole base on a cluster (or `local[N]`, N the thread budget), from the same SQL as DuckDB
(`fthc.features.measures`, the Spark spellings filled in). The jobs that score customers with a saved model on the
executors, and that sample customers, are the application's (`fthc.app.spark_jobs`).

- `SparkEngine`: the engine of `Segmenter(engine="spark")` / `fthc segment --engine spark`: reads a Parquet
  dataset (checked in SQL, `fthc.data.parquet_sql`) and computes every customer's sums on Spark; the driver
  receives one row per customer (not one per transaction) to fit the head on.

PySpark is an optional extra (`pip install "fthc[spark]"`); `local[N]` (the thread budget, `fthc.threads`) by default, or any master URL
(`FTHC_SPARK_MASTER`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, FthcError
from ..features.measures import RECENT_ROWS, SUMS, customer_month_sql, customer_sql, month_sql, monthly_sql, \
    window_sql
from . import ENGINES



def spark_session(master: str | None = None, app: str = "fthc"):
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise FthcError("the Spark engine needs PySpark: pip install \"fthc[spark]\"") from exc
    from ..threads import budget

    master = master or os.environ.get("FTHC_SPARK_MASTER") or f"local[{budget()}]"  # local[N]: the thread budget
    session = (SparkSession.builder.master(master).appName(app)
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", os.environ.get("FTHC_SPARK_PARTITIONS", "16"))
               .config("spark.driver.memory", os.environ.get("FTHC_SPARK_DRIVER_MEMORY", "4g"))
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


class spark_errors:
    """Spark's errors about user data become one line: an fthc error raised on an executor (its PythonException)
    gives back its own line; Spark's own (a file it cannot read) names the file."""

    def __init__(self, source=None):
        self.source = source

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, FthcError):
            return False
        text = str(exc)
        for name, cls in (("DataError", DataError), ("ArtefactError", FthcError), ("FthcError", FthcError)):
            marker = f"fthc.errors.{name}: "
            if marker in text:
                raise cls(text.split(marker, 1)[1].splitlines()[0]) from None
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            cause = next((line for line in reversed(lines) if "Error" in line or "Exception" in line),
                         lines[0] if lines else type(exc).__name__)
            raise DataError(f"Spark could not process the data: {cause[:300]}", file=self.source) from None
        return False


@ENGINES.register("spark", embedded=False, doc="Spark (local or a cluster), the same SQL as DuckDB")
class SparkEngine:
    """Behaviour sums per customer, computed by Spark SQL."""

    name = "spark"
    reads_files = True

    def __init__(self, master: str | None = None):
        self.master = master
        self._spark = None
        self._gaps: dict[str, bool] = {}

    @property
    def spark(self):
        if self._spark is None:
            self._spark = spark_session(self.master)
        return self._spark

    def frame_source(self, tx: pd.DataFrame, name: str = "canonical") -> str:
        view = pd.DataFrame({"customer_id": tx["customer_id"].to_numpy(), "timestamp": tx["timestamp"].to_numpy(),
                             "amount": tx["amount"].to_numpy(), "balance": tx["balance"].to_numpy(),
                             "kind": tx["kind"].astype(str).to_numpy(), "seq": np.arange(len(tx), dtype=np.int64)})
        df = self.spark.createDataFrame(view)
        df.createOrReplaceTempView(f"{name}_frame")
        missing = int(view["balance"].isna().sum())
        self._gaps[f"{name}_frame"] = 0 < missing < len(view)
        return f"{name}_frame"

    def _files_frame(self, files: list[Path], root=None):
        """Spark's reading of the files, with each row's file index and row number (1-based)."""
        from pyspark.sql import functions as F

        paths = [str(Path(f).absolute()) for f in files]
        reader = self.spark.read.option("basePath", str(Path(root).absolute())) if root else self.spark.read
        df = reader.parquet(*paths)
        index = self.spark.createDataFrame(pd.DataFrame({"__path": ["file:" + p for p in paths],
                                                         "__file_index": np.arange(len(paths), dtype=np.int64)}))
        return (df.withColumn("__path", F.col("_metadata.file_path"))
                .withColumn("__row", F.col("_metadata.row_index") + 1)
                .join(F.broadcast(index), "__path"))

    def files_source(self, files: list[Path], name: str = "canonical") -> str:
        """Canonical Parquet files (a spill written by fthc, kinds as codes)."""
        from ..data.transactions import KINDS

        with spark_errors(files[0] if files else None):
            self._files_frame(files).createOrReplaceTempView(f"{name}_spill")
        kinds = "array(" + ", ".join(f"'{k}'" for k in KINDS) + ")"
        self.spark.sql(f"""SELECT customer_id, CAST(timestamp AS TIMESTAMP_NTZ) AS timestamp, amount, balance,
                           element_at({kinds}, kind + 1) AS kind, __file_index * 4294967296 + __row AS seq
                           FROM {name}_spill""").createOrReplaceTempView(f"{name}_files")
        return f"{name}_files"

    def dataset_source(self, dataset, name: str = "canonical") -> str:
        """A user's Parquet dataset as a canonical view, after its rows are checked in SQL."""
        from ..data.parquet_sql import canonical_select, checks, far_dates, unmapped_categories

        files, mapping = dataset.files, dataset.mapping
        root = dataset.path if Path(str(dataset.path)).is_dir() else None
        with spark_errors(dataset.name):
            self._files_frame(files, root).createOrReplaceTempView(f"{name}_raw")
            tests = checks(files, mapping, "spark")
            parts = [f"count(CASE WHEN {c.where} THEN 1 END) AS n{i}" for i, c in enumerate(tests)]
            parts.append(f"count(CASE WHEN {far_dates(mapping, 'spark')} THEN 1 END) AS far, count(*) AS rows")
            if mapping.balance:
                b = f"`{mapping.balance}`"
                parts.append(f"count(CASE WHEN {b} IS NULL OR isnan(CAST({b} AS DOUBLE)) THEN 1 END) AS no_balance")
            unmapped = unmapped_categories(mapping, "spark")
            if unmapped:
                parts.append(f"count(CASE WHEN {unmapped} THEN 1 END) AS unmapped")
            got = self.spark.sql(f"SELECT {', '.join(parts)} FROM {name}_raw").collect()[0].asDict()
            if got["rows"] == 0:
                raise DataError("the dataset has no rows", file=dataset.name, expected="at least one transaction")
            for i, c in enumerate(tests):
                if got[f"n{i}"]:
                    first = self.spark.sql(f"SELECT __path, __row, {c.value or 'NULL'} AS v FROM {name}_raw WHERE "
                                           f"{c.where} ORDER BY __file_index, __row LIMIT 1").collect()[0]
                    n = got[f"n{i}"]
                    raise DataError(f"{c.reason} ({n} such row{'s' if n > 1 else ''})",
                                    file=first[0].removeprefix("file:"), row=int(first[1]), column=c.column,
                                    expected=c.expected, value=first[2])
            if got["far"]:
                dataset.report.warnings.append(f"{dataset.name} column {mapping.timestamp!r}: {got['far']:,} dates "
                                               "before 1950 or in the future; kept (--lenient leaves them out, "
                                               "counted)")
            if unmapped and got.get("unmapped"):
                col = f"trim(CAST(`{mapping.category}` AS STRING))"
                dataset.report.unmapped_categories = [r[0] for r in self.spark.sql(
                    f"SELECT DISTINCT {col} FROM {name}_raw WHERE {unmapped} LIMIT 50").collect()]
                dataset.report.unmapped_rows = int(got["unmapped"])
            select = canonical_select(files, mapping, f"{name}_raw", "__file_index * 4294967296 + __row", "spark")
            self.spark.sql(select).createOrReplaceTempView(f"{name}_dataset")
        missing = got.get("no_balance", got["rows"])
        self._gaps[f"{name}_dataset"] = bool(0 < missing < got["rows"])
        return f"{name}_dataset"

    def until(self, source: str, end: pd.Timestamp) -> str:
        """`source` as known before `end` (exclusive): a view of the transactions before it."""
        view = f"{source}_until"
        self.spark.sql(f"SELECT * FROM {source} WHERE timestamp < TIMESTAMP_NTZ '{end:%Y-%m-%d %H:%M:%S}'"
                       ).createOrReplaceTempView(view)
        if source in self._gaps:  # unknown stays unknown (computed where needed)
            self._gaps[view] = self._gaps[source]
        return view

    def sums_frame(self, source: str, as_of: pd.Series | None = None):
        """The `CUSTOMER` sums as a Spark DataFrame (the customer-months kept as the view `customer_months`)."""
        spark = self.spark
        gaps = self._gaps.get(source, True)
        source = self._windowed(source, as_of)
        months = f"({month_sql('spark', source, gaps, as_of is not None)}) AS months"
        return spark.sql(customer_sql("spark", months, source))

    def _windowed(self, source: str, as_of) -> str:
        if as_of is None:
            return source
        from ..features.window import as_cutoffs, windowed_sql

        self.spark.createDataFrame(as_cutoffs(as_of)).createOrReplaceTempView("as_of_cutoffs")
        return windowed_sql(source, "CAST({} AS TIMESTAMP_NTZ)")

    def window_sums(self, source: str, windows: list[tuple[int | None, int]]):
        """For each window in turn, every customer's `SUMS` inside it and its last `RECENT_ROWS` customer-months,
        from one aggregation of the transactions into month rows (cached on the executors)."""
        from .duckdb_engine import _typed

        gaps = self._gaps.get(source, True)
        with spark_errors():
            rows = self.spark.sql(customer_month_sql("spark", source, wide=True)).persist()
            rows.createOrReplaceTempView("fthc_month_rows")
        try:
            for start, end in windows:
                with spark_errors():
                    months = self.spark.sql(window_sql("spark", "fthc_month_rows", start, end, gaps)).persist()
                    months.createOrReplaceTempView("fthc_window_months")
                    sums = self.spark.sql(customer_sql("spark", "fthc_window_months")).toPandas() \
                        .set_index("customer_id").sort_index()
                    recent = self.spark.sql("SELECT customer_id, month, credit, debit, balance FROM "
                                            f"fthc_window_months WHERE month > {int(end) - RECENT_ROWS}").toPandas()
                    months.unpersist()
                yield _typed(sums)[SUMS], recent
        finally:
            rows.unpersist()

    def last_timestamp(self, source: str) -> pd.Timestamp:
        with spark_errors():
            return pd.Timestamp(self.spark.sql(f"SELECT max(timestamp) AS t FROM {source}").collect()[0][0])

    def first_timestamp(self, source: str) -> pd.Timestamp:
        with spark_errors():
            return pd.Timestamp(self.spark.sql(f"SELECT min(timestamp) AS t FROM {source}").collect()[0][0])

    def months(self, source: str, as_of) -> pd.DataFrame:
        """The customer-month table (customer_id, month, credit, debit, balance) of the windowed histories."""
        rows = self._windowed(source, as_of)
        months = month_sql("spark", rows, self._gaps.get(source, True), as_of is not None)
        with spark_errors():
            return self.spark.sql(f"SELECT customer_id, month, credit, debit, balance FROM ({months}) AS m").toPandas()

    def sums(self, source: str, as_of: pd.Series | None = None) -> pd.DataFrame:
        from .duckdb_engine import _typed

        with spark_errors():
            out = self.sums_frame(source, as_of).toPandas().set_index("customer_id").sort_index()
        return _typed(out)[SUMS]

    def monthly(self, source: str, segments: pd.Series) -> pd.DataFrame:
        frame = self.spark.createDataFrame(pd.DataFrame({"customer_id": segments.index.to_numpy(),
                                                         "segment": segments.to_numpy().astype(np.int64)}))
        frame.createOrReplaceTempView("segment_of")
        rows = f"(SELECT * FROM {source} WHERE customer_id IN (SELECT customer_id FROM segment_of)) AS chosen"
        months = f"({month_sql('spark', rows, self._gaps.get(source, True))})"
        with spark_errors():
            return self.spark.sql(monthly_sql("spark", months, "segment_of")).toPandas()

    def close(self) -> None:
        pass  # the session is shared by the process; Spark stops it at exit
