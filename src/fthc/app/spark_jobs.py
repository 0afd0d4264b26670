"""Spark jobs of the commands: `fthc assign --engine spark` (every customer of a Parquet dataset scored by a saved
`Segmenter` on the executors, the model broadcast to them and applied with `mapInPandas`: from each customer's sums
for the default model, from each customer's whole rows for a network model or one with outcomes;
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
import pandas as pd

from ..engines.spark import SparkEngine, spark_errors
from ..errors import DataError

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
            out = seg.segment_model_.assign(m, seg.model_.transform(m)).reset_index()
            out["segment"] = out["segment"].astype("int32")
            if measures_out:
                out = out.join(m.drop(columns=["transactions_count"]).reset_index(drop=True))
            yield out
    return score


def score_transactions(model_blob: bytes, measures_out: bool, as_of):
    """The function each executor runs on a partition of whole customers' canonical transactions (rows
    repartitioned by customer): the saved Segmenter applied as `fthc assign` applies it (series for a network
    model; the risk window ending at `as_of`, the whole dataset's reference date, for a model with outcomes)."""
    def score(batches):
        import pandas as pd

        from ..data.transactions import canonical_frame
        from ..segments import scoring
        from ..threads import thread_budget

        frames = [b for b in batches if len(b)]
        if not frames:
            return
        rows = pd.concat(frames, ignore_index=True).sort_values(["customer_id", "seq"], kind="stable")
        tx = canonical_frame(customer_id=rows["customer_id"].to_numpy(), timestamp=rows["timestamp"].to_numpy(),
                             amount=rows["amount"].to_numpy(), balance=rows["balance"].to_numpy(),
                             kind=rows["kind"].to_numpy())
        seg = _model(model_blob)
        seg.columns, seg.as_of = None, as_of  # canonical rows; one reference date
        seg.model_.column_mapping_ = None  # this executor's own copy of the model
        seg.engine = "duckdb"  # this executor's rows, in process
        with thread_budget(1):  # one thread per Spark task: the executors are the parallelism
            measures, inputs, risk = scoring.scored_inputs(seg, tx)
            out = seg.segment_model_.assign(measures, seg.model_.transform(inputs), risk).reset_index()
        out["segment"] = out["segment"].astype("int32")
        if measures_out:
            from ..features import MEASURES

            out = out.join(measures[list(MEASURES)].reset_index(drop=True))
        yield out
    return score


def _schema(seg, id_type, measures_out: bool):
    from pyspark.sql.types import BooleanType, DoubleType, IntegerType, LongType, StringType, StructField, StructType

    from ..features import MEASURES

    fields = [StructField("customer_id", id_type), StructField("segment", IntegerType()),
              StructField("name", StringType()), StructField("confidence", DoubleType()),
              StructField("transactions", LongType()), StructField("short_history", BooleanType()),
              StructField("reasons", StringType())]
    if seg.outcome_model_ is not None:
        fields += [StructField("risk", DoubleType()), StructField("risk_low", DoubleType()),
                   StructField("risk_high", DoubleType()), StructField("risk_grade", LongType()),
                   StructField("risk_reasons", StringType()), StructField("window_months", LongType()),
                   StructField("has_outcome", BooleanType()),
                   StructField("outcome", DoubleType())]
        from ..offer.affordability import AFFORDABILITY

        fields += [StructField(c, DoubleType()) for c in AFFORDABILITY]  # of the window the risk reads
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
    by_sums = seg.model_.config.encoder.autoencoder == "features" and seg.outcome_model_ is None
    if mapping is None:
        fitted = seg.segment_model_.column_mapping
        mapping = ColumnMapping.from_dict(fitted) if fitted else None
    dataset = open_dataset(source, mapping, lenient=lenient)
    if dataset is None:
        raise DataError("Spark reads Parquet datasets", file=source, expected="a Parquet file, folder or glob")
    engine = SparkEngine(master)
    t0 = time.perf_counter()
    with spark_errors(source):
        view = dataset.engine_source(engine)
        blob = engine.spark.sparkContext.broadcast(_model_bytes(model_dir))
        if by_sums:  # the default model reads only each customer's sums: one row per customer leaves SQL
            sums = engine.sums_frame(view)
            scored = sums.mapInPandas(score_partitions(blob.value, measures),
                                      _schema(seg, sums.schema["customer_id"].dataType, measures)).persist()
        else:  # series (a network) or risk windows (outcomes): each customer's rows, whole, on one executor
            from ..features.window import data_end_cutoff

            as_of = seg.as_of if seg.as_of is not None else data_end_cutoff(engine.last_timestamp(view))
            rows = engine.spark.table(view).select("customer_id", "timestamp", "amount", "balance", "kind", "seq")
            parts = max(engine.spark.sparkContext.defaultParallelism, 1)
            scored = rows.repartition(parts, "customer_id").mapInPandas(
                score_transactions(blob.value, measures, pd.Timestamp(as_of)),
                _schema(seg, rows.schema["customer_id"].dataType, measures)).persist()
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
