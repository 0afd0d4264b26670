"""Spark jobs of the commands: `fthc assign --engine spark` (every customer of a Parquet dataset scored by a saved
`Segmenter` on the executors: sums on Spark, the model broadcast to them and applied with `mapInPandas`;
assignments and measures written as Parquet partitioned by segment, ids in their own type) and `fthc data sample`
(a seeded sample of customers with all their transactions). Above the engine (`fthc.engines.spark`), which only
computes behaviour."""

from __future__ import annotations

import hashlib
import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..engines.spark import SparkEngine, spark_errors
from ..errors import DataError, FthcError

MODEL_FILES = ("manifest.json", "manifest.sha256", "weights.pt", "clustering.npz", "segmenter.npz")
_loaded: dict[str, object] = {}  # per Python worker process: model checksum -> loaded model


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
    """The broadcast Segmenter, loaded once per worker process."""
    from ..segments.segmenter import Segmenter

    key = hashlib.sha256(blob).hexdigest()
    if key not in _loaded:
        folder = Path(tempfile.mkdtemp(prefix="fthc-model-"))
        with zipfile.ZipFile(io.BytesIO(blob)) as z:
            z.extractall(folder)
        _loaded[key] = Segmenter.load(folder)
    return _loaded[key]


def score_partitions(model_blob: bytes, measures_out: bool):
    """The function each executor runs on its partitions of per-customer sums: measures, then the model."""
    def score(batches):
        from ..features import measures

        seg = _model(model_blob)
        for sums in batches:
            if not len(sums):
                continue
            sums = sums.set_index("customer_id")
            m = measures(sums)
            m["transactions_count"] = sums["transactions"].astype(np.int64)
            out = seg._assignments(m, seg.model_.transform(m)).reset_index()
            out["segment"] = out["segment"].astype("int32")
            if measures_out:
                out = out.join(m.drop(columns=["transactions_count"]).reset_index(drop=True))
            yield out
    return score


def _schema(seg, id_type, measures_out: bool):
    from pyspark.sql.types import BooleanType, DoubleType, IntegerType, LongType, StringType, StructField, StructType

    from ..features import MEASURES

    fields = [StructField("customer_id", id_type), StructField("segment", IntegerType()),
              StructField("name", StringType()), StructField("confidence", DoubleType()),
              StructField("transactions", LongType()), StructField("short_history", BooleanType()),
              StructField("reasons", StringType())]
    if measures_out:
        fields += [StructField(n, DoubleType()) for n in MEASURES]
    return StructType(fields)


def assign_spark(model_dir: Path, source, out: Path, mapping=None, *, master: str | None = None,
                 lenient: bool = False, measures: bool = True) -> dict:
    """Score every customer of a Parquet dataset with a saved Segmenter: behaviour sums and scoring on Spark;
    writes out/assignments (and out/measures) as Parquet partitioned by segment. Returns counts and seconds."""
    import time

    from ..data.dataset import open_dataset
    from ..data.transactions import ColumnMapping
    from ..reports.output_folder import check_output_folder, results_folder
    from ..segments.segmenter import Segmenter

    out = Path(out)
    check_output_folder(out, [Path(str(source))])
    seg = Segmenter.load(model_dir)  # checks the folder before any executor sees it
    if seg.model_.config.encoder.autoencoder != "features":
        raise FthcError(f"{model_dir}: scoring on Spark needs a model of the default method (features); a "
                        "network model scores with --engine duckdb")
    if seg.outcome_model_ is not None:
        raise FthcError(f"{model_dir}: this model was fitted with outcomes, and its risk is read from each "
                        "customer's window and recent months, which Spark's per-partition scoring does not build; "
                        "score it with --engine duckdb (it reads the same Parquet files where they lie)")
    if mapping is None:
        mapping = ColumnMapping.from_dict(seg.column_mapping_) if seg.column_mapping_ else None
    dataset = open_dataset(source, mapping, lenient=lenient)
    if dataset is None:
        raise DataError("Spark reads Parquet datasets", file=source, expected="a Parquet file, folder or glob")
    engine = SparkEngine(master)
    t0 = time.perf_counter()
    with spark_errors(source):
        sums = engine.sums_frame(dataset.engine_source(engine))
        blob = engine.spark.sparkContext.broadcast(_model_bytes(model_dir))
        scored = sums.mapInPandas(score_partitions(blob.value, measures),
                                  _schema(seg, sums.schema["customer_id"].dataType, measures)).persist()
        with results_folder(out, "assign --engine spark") as tmp:
            from ..features import MEASURES

            scored.drop(*[c for c in MEASURES if c in scored.columns]) \
                .write.partitionBy("segment").parquet(str(tmp / "assignments"))
            if measures:
                scored.select("customer_id", "segment", *MEASURES).write.partitionBy("segment") \
                    .parquet(str(tmp / "measures"))
            n = scored.count()
        scored.unpersist()
    dataset.close()
    return {"customers": n, "seconds": time.perf_counter() - t0, "out": out,
            "master": engine.spark.sparkContext.master}


def sample_customers(source, out: Path, customers: int, mapping=None, *, seed: int = 0,
                     master: str | None = None) -> dict:
    """A seeded random sample of about `customers` customers, with all their transactions, as Parquet."""
    from pyspark.sql import functions as F

    from ..data.dataset import open_dataset
    from ..reports.output_folder import check_output_folder, results_folder

    out = Path(out)
    check_output_folder(out, [Path(str(source))])
    dataset = open_dataset(source, mapping)
    if dataset is None:
        raise DataError("Spark reads Parquet datasets", file=source, expected="a Parquet file, folder or glob")
    engine = SparkEngine(master)
    with spark_errors(source):
        df = engine._files_frame(dataset.files, dataset.path if Path(str(dataset.path)).is_dir() else None) \
            .drop("__path", "__row", "__file_index")
        key = dataset.mapping.customer_id
        ids = df.select(key).distinct()
        total = ids.count()
        chosen = ids.withColumn("__u", F.rand(seed)).orderBy("__u").limit(min(customers, total)).drop("__u")
        with results_folder(out, "data sample") as tmp:
            df.join(chosen, on=key, how="inner").write.parquet(str(tmp / "part"))
    return {"customers": min(customers, total), "of": total, "out": out}
