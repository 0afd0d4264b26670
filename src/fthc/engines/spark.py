"""Scoring a bank's whole customer base on Spark: the Parquet dataset is read by Spark, repartitioned by
customer, and each partition's customers are built into series with fthc's own builder and scored by a saved
model that is broadcast to the executors (`mapInPandas`). Assignments (customer_id, segment, confidence) and
per-customer summary features are written as partitioned Parquet. A seeded sample of customers' transactions can
be written too, for `fthc segment` to fit on.

PySpark is an optional extra (`pip install "fthc[spark]"`); `local[*]` by default, or any master URL.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from ..errors import DataError, FthcError

MODEL_FILES = ("manifest.json", "manifest.sha256", "weights.pt", "clustering.npz")
_loaded: dict[str, object] = {}  # per Python worker process: model checksum -> loaded model
ROWS_PER_PARTITION = 500_000


def spark_session(master: str = "local[*]", app: str = "fthc"):
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise FthcError("the Spark engine needs PySpark: pip install \"fthc[spark]\"") from exc
    session = (SparkSession.builder.master(master).appName(app)
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.memory", os.environ.get("FTHC_SPARK_DRIVER_MEMORY", "4g"))
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    return session


def _model_bytes(model_dir: Path) -> bytes:
    """The model folder as one zip, to broadcast (a few MB at most)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in MODEL_FILES:
            path = Path(model_dir) / name
            if path.exists():
                z.write(path, name)
    return buf.getvalue()


def _model(blob: bytes):
    """The broadcast model, loaded once per worker process."""
    from ..estimator import Clusterer

    key = hashlib.sha256(blob).hexdigest()
    if key not in _loaded:
        folder = Path(tempfile.mkdtemp(prefix="fthc-model-"))
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            z.extractall(folder)
        _loaded[key] = Clusterer.load(folder)
    return _loaded[key]


def _read(spark, source, mapping):
    from pyspark.sql import functions as F

    try:
        df = spark.read.option("basePath", str(source)).parquet(str(source)) if Path(str(source)).is_dir() \
            else spark.read.parquet(str(source))
    except Exception as exc:  # Spark's AnalysisException: the path or its files
        raise DataError(f"Spark cannot read the dataset: {str(exc).splitlines()[0]}", file=source) from exc
    from ..data.partitioned import _dataset, is_glob, parquet_files

    if Path(str(source)).exists() or is_glob(source):  # local files: check each one
        _dataset(parquet_files(source), mapping, Path(str(source)) if Path(str(source)).is_dir() else None)
    missing = [c for c in mapping.columns() if c not in df.columns]
    if missing:
        raise DataError(f"missing column {missing[0]!r} (columns: {df.columns})", file=source, column=missing[0])
    # each row keeps its file and its row in that file, so an executor's error names them
    return df.select(*mapping.columns(), F.col("_metadata.file_path").alias("__file__"),
                     (F.col("_metadata.row_index") + 1).alias("__row__"))


def score_partitions(model_blob: bytes, mapping_dict: dict, lenient: bool, with_features: bool):
    """The function each executor runs on its partitions: every customer of a partition is whole (the data was
    repartitioned by customer), so series are built exactly as on one machine."""
    def score(batches):
        import numpy as np

        from ..segments.segment import model_series
        from ..data.tables import LINE, RowChecker
        from ..data.transactions import ColumnMapping, canonical_transactions
        from ..features import summary_features

        mapping = ColumnMapping.from_dict(mapping_dict)
        model = _model(model_blob)
        batches = list(batches)
        if not batches or sum(len(b) for b in batches) == 0:  # an empty partition (more partitions than customers)
            return
        raw = pd.concat(batches, ignore_index=True)
        files = raw.pop("__file__").astype(str).to_numpy()
        raw[LINE] = raw.pop("__row__").to_numpy()
        names = np.unique(files)
        tx = pd.concat([canonical_transactions(raw[files == f].reset_index(drop=True), mapping,
                                               RowChecker(Path(f.removeprefix("file:")), lenient=lenient))
                        for f in names], ignore_index=True)
        series = model_series(model, tx, ", ".join(f.removeprefix("file:") for f in names))
        proba = model.predict_proba(series)
        out = pd.DataFrame({"customer_id": series.ids.astype(str), "segment": proba.argmax(1).astype("int32"),
                            "confidence": proba.max(1)})
        if with_features:
            features = summary_features(tx)
            features.index = features.index.astype(str)
            out = out.join(features, on="customer_id")
        yield out
    return score


class _executor_errors:
    """An fthc error raised on an executor reaches the driver as Spark's PythonException: give back its line."""

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
        return False


def _schema(with_features: bool):
    from pyspark.sql.types import DoubleType, IntegerType, StringType, StructField, StructType

    from ..features import SUMMARY_FEATURES

    fields = [StructField("customer_id", StringType()), StructField("segment", IntegerType()),
              StructField("confidence", DoubleType())]
    if with_features:
        fields += [StructField(n, DoubleType()) for n in SUMMARY_FEATURES]
    return StructType(fields)


def assign_spark(model_dir: Path, source, out: Path, mapping=None, *, master: str = "local[*]",
                 partitions: int | None = None, lenient: bool = False, features: bool = True) -> dict:
    """Score every customer of a Parquet dataset with a saved model; writes out/assignments and out/features
    (Parquet, partitioned by segment). Returns counts and seconds."""
    import time

    from ..data.transactions import ColumnMapping
    from ..estimator import Clusterer

    model = Clusterer.load(model_dir)  # checks the folder before any executor sees it
    if mapping is None:
        mapping = ColumnMapping.from_dict(model.column_mapping_) if getattr(model, "column_mapping_", None) \
            else ColumnMapping()
    spark = spark_session(master)
    t0 = time.perf_counter()
    df = _read(spark, source, mapping)
    # partitions of about ROWS_PER_PARTITION rows: each one is concatenated into one pandas frame on an executor
    parts = partitions or max(2 * spark.sparkContext.defaultParallelism, math.ceil(df.count() / ROWS_PER_PARTITION))
    blob = spark.sparkContext.broadcast(_model_bytes(model_dir))
    scored = (df.repartition(parts, mapping.customer_id)
              .mapInPandas(score_partitions(blob.value, mapping.to_dict(), lenient, features), _schema(features)))
    scored = scored.persist()
    out = Path(out)
    with _executor_errors():
        scored.select("customer_id", "segment", "confidence").write.mode("overwrite").partitionBy("segment") \
            .parquet(str(out / "assignments"))
        if features:
            scored.drop("confidence").write.mode("overwrite").partitionBy("segment").parquet(str(out / "features"))
        n = scored.count()
    scored.unpersist()
    return {"customers": n, "seconds": time.perf_counter() - t0, "partitions": parts, "out": out}


def sample_customers(source, out: Path, customers: int, mapping=None, *, seed: int = 0,
                     master: str = "local[*]") -> dict:
    """A seeded random sample of about `customers` customers, with all their transactions, as Parquet (what
    `fthc segment` fits on when the whole base does not fit one machine)."""
    from pyspark.sql import functions as F

    from ..data.transactions import ColumnMapping

    mapping = mapping or ColumnMapping()
    spark = spark_session(master)
    df = _read(spark, source, mapping).drop("__file__", "__row__")
    ids = df.select(mapping.customer_id).distinct()
    total = ids.count()
    chosen = ids.withColumn("__u", F.rand(seed)).orderBy("__u").limit(min(customers, total)).drop("__u")
    sample = df.join(chosen, on=mapping.customer_id, how="inner")
    sample.write.mode("overwrite").parquet(str(out))
    return {"customers": min(customers, total), "of": total, "out": Path(out)}
