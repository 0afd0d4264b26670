"""Spark: the behaviour of a bank's whole base on a cluster (or `local[N]`, N the thread budget), from the same SQL as DuckDB
(`fthc.features.measures`, the Spark spellings filled in). The jobs that score customers with a saved model on the
executors, and that sample customers, are the application's (`fthc.app.spark_jobs`).

- `SparkEngine`: the engine of `Segmenter(engine="spark")` / `fthc segment --engine spark`: reads a Parquet
  dataset (checked in SQL, `fthc.data.parquet_sql`) and computes every customer's sums on Spark; the driver
  receives one row per customer (not one per transaction) to fit the head on.

The SQL, the dataset checks and the windows are `SqlEngine`'s, DuckDB's too: this module says how Spark registers
views, runs them and spells its casts.

PySpark is an optional extra (`pip install "fthc[spark]"`); `local[N]` (the thread budget, `fthc.threads`) by default, or any master URL
(`FTHC_SPARK_MASTER`).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, FthcError
from . import ENGINES
from .sql_engine import SqlEngine


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
class SparkEngine(SqlEngine):
    """Behaviour sums per customer, computed by Spark SQL."""

    name = dialect = "spark"
    time_literal = "TIMESTAMP_NTZ '{}'"
    cutoff_time = spill_time = "CAST({} AS TIMESTAMP_NTZ)"  # months are wall times: no session time zone
    kind_of_code = "element_at(array({}), kind + 1)"
    count_if = "count(CASE WHEN {} THEN 1 END)"
    file_column = "regexp_replace(__path, '^file:', '')"

    def __init__(self, master: str | None = None):
        super().__init__()
        self.master = master
        self._spark = None

    @property
    def spark(self):
        if self._spark is None:
            self._spark = spark_session(self.master)
        return self._spark

    def _register(self, view: str, frame: pd.DataFrame) -> None:
        frame = pd.DataFrame({c: frame[c].to_numpy() for c in frame.columns})
        self.spark.createDataFrame(frame).createOrReplaceTempView(view)

    def _create_view(self, view: str, sql: str) -> None:
        self.spark.sql(sql).createOrReplaceTempView(view)

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

    def _read_files(self, files: list, view: str, root=None) -> None:
        self._files_frame(files, root).createOrReplaceTempView(view)

    def _df(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()

    def _fetch(self, sql: str) -> list[tuple]:
        return [tuple(r) for r in self.spark.sql(sql).collect()]

    @contextmanager
    def _stored(self, name: str, sql: str):
        frame = self.spark.sql(sql).persist()  # cached on the executors
        frame.createOrReplaceTempView(name)
        try:
            yield name
        finally:
            frame.unpersist()

    def _errors(self, source=None):
        return spark_errors(source)

    def sums_frame(self, source: str, as_of: pd.Series | None = None):
        """The `CUSTOMER` sums as a Spark DataFrame (what `assign --engine spark` scores on the executors)."""
        return self.spark.sql(self._sums_sql(source, as_of))

    def monthly(self, source: str, segments: pd.Series) -> pd.DataFrame:
        return super().monthly(source, segments.astype(np.int64))  # Spark's segments: longs

    def close(self) -> None:
        pass  # the session is shared by the process; Spark stops it at exit
