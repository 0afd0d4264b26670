"""Transaction tables too large for one pandas frame: a folder or glob of Parquet files (hive-style partitions
allowed) is streamed record batch by record batch, each batch checked like a single file, and its rows are
spilled into customer buckets (hash of the customer id) that each fit in memory. Series and summary features
are then built bucket by bucket, with the series length and the channels' scaling fitted globally in a first
pass, so the result equals the in-memory path's (to float32 rounding), whatever the bucket count.

    buckets = bucket_transactions("lake/transactions/", tmp / "buckets", mapping, rows_per_bucket=2_000_000)
    for series in bucketed_series(buckets, SeriesSpec("events")): ...   # one SeriesSet per bucket

Peak memory depends on the batch and bucket sizes, not on the data size (benchmarks/bench_scale.py).
"""

from __future__ import annotations

import glob
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from ..errors import DataError
from .errors import ReadReport
from .series import SeriesSet, SeriesSpec, build_series
from .tables import LINE, RowChecker, check_columns, column_date_format
from .transactions import KINDS, ColumnMapping, canonical_transactions


def is_glob(source: str | Path) -> bool:
    return any(ch in str(source) for ch in "*?[")


def parquet_files(source: str | Path) -> list[Path]:
    """The Parquet files of a folder (searched recursively, hive partitions included) or a glob pattern."""
    if is_glob(source):
        files = sorted(Path(p) for p in glob.glob(str(source), recursive=True) if p.endswith(".parquet"))
    elif Path(source).is_dir():
        files = sorted(Path(source).rglob("*.parquet"))
    else:
        files = [Path(source)]
    if not files:
        raise DataError("no Parquet files found", file=source, expected="a folder or glob of .parquet files")
    return files


def is_partitioned(source: str | Path) -> bool:
    """A folder of Parquet files (not a Berka folder) or a glob pattern: read with the streaming path."""
    if is_glob(source):
        return True
    path = Path(source)
    return path.is_dir() and any(path.rglob("*.parquet"))


def check_dataset(files: list[Path], mapping: ColumnMapping, root: Path | None) -> ColumnMapping:
    """Check that every file has the mapped columns, with the same types in every file; returns the mapping with
    optional columns found by their default names in the first file (`ColumnMapping.resolve`)."""
    first_schema = None
    for f in files:
        try:
            schema = pq.read_schema(f)
        except Exception as exc:  # pyarrow raises several types for files that are not Parquet
            raise DataError(f"cannot read as Parquet: {exc}", file=f) from exc
        partition_keys = {part.split("=", 1)[0] for part in f.parts if "=" in part}
        if first_schema is None:
            mapping = mapping.resolve(list(schema.names) + sorted(partition_keys))
        check_columns(list(schema.names) + sorted(partition_keys), mapping.columns(), f, ",", mapping.hints())
        if first_schema is None:
            first_schema, first_file = schema, f
            continue
        for name in mapping.columns():
            if name in schema.names and name in first_schema.names and \
                    schema.field(name).type != first_schema.field(name).type:
                raise DataError(f"column {name!r} is {schema.field(name).type} here but "
                                f"{first_schema.field(name).type} in {first_file}", file=f, column=name,
                                expected="the same column types in every file of the dataset")
    return mapping


def _dataset(files: list[Path], mapping: ColumnMapping, root: Path | None) -> ds.Dataset:
    """One dataset over every file, after checking that each file has the mapped columns with the same types."""
    check_dataset(files, mapping, root)
    partitioning = "hive" if any("=" in part for f in files for part in f.parts) else None
    return ds.dataset([str(f) for f in files], format="parquet", partitioning=partitioning,
                      partition_base_dir=str(root) if root is not None else None)


def read_dataset(source: str | Path, mapping: ColumnMapping | None = None, *, lenient: bool = False,
                 report: ReadReport | None = None) -> tuple[pd.DataFrame, ColumnMapping, ReadReport]:
    """Every transaction of a Parquet dataset as one canonical frame (checked batch by batch like one file)."""
    import tempfile

    report = report if report is not None else ReadReport()
    files = parquet_files(source)
    mapping = check_dataset(files, mapping or ColumnMapping(), Path(source) if Path(source).is_dir() else None)
    with tempfile.TemporaryDirectory(prefix="fthc-read-") as tmp:
        buckets = bucket_transactions(source, tmp, mapping, lenient=lenient, report=report, rows_per_bucket=2**62)
        tx = buckets.read(0)
    return tx, mapping, report


@dataclass
class Buckets:
    """Canonical transactions spilled into files, every customer's rows in exactly one of them."""

    files: list[Path]
    customers: int
    transactions: int
    numeric_ids: bool  # the ids are integers (`fthc.data.ids`: the dataset's id column is an integer column)
    report: ReadReport

    def read(self, i: int) -> pd.DataFrame:
        """Bucket i as canonical transactions (customer_id, timestamp, amount, balance, kind, ...)."""
        return read_bucket(self.files[i])


def read_bucket(path: Path) -> pd.DataFrame:
    """A spilled bucket as canonical transactions, sorted as the in-memory reader sorts them."""
    df = pq.read_table(path).to_pandas()
    df["timestamp"] = df["timestamp"].astype("datetime64[ns]")
    df["kind"] = pd.Categorical.from_codes(df["kind"].to_numpy(np.int8), KINDS)  # spilled as codes
    if not pd.api.types.is_integer_dtype(df["customer_id"]):
        df["customer_id"] = df["customer_id"].astype(object)
    codes = pd.factorize(df["customer_id"], sort=True)[0]
    order = np.lexsort((df["timestamp"].to_numpy().view(np.int64), codes))  # stable, like the in-memory sort
    return df.take(order).reset_index(drop=True)


def bucket_of(customer_ids: pd.Series, n_buckets: int) -> np.ndarray:
    """A stable bucket per customer id (pandas' keyed hash of its text), the same in every process."""
    return (pd.util.hash_array(customer_ids.astype(str).to_numpy(dtype=object)) % np.uint64(n_buckets)) \
        .astype(np.int64)


def _ids_as_text(customer_id: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A batch's distinct customer ids as text, and each row's index into them: the text (and its hash, the
    bucket) is computed once per customer, not once per row."""
    uniq, inverse = np.unique(customer_id if customer_id.dtype != object else customer_id.astype(str),
                              return_inverse=True)
    return uniq.astype(str).astype(object), inverse.reshape(-1)


def bucket_transactions(source: str | Path, folder: str | Path, mapping: ColumnMapping | None = None, *,
                        rows_per_bucket: int = 2_000_000, batch_rows: int = 500_000, lenient: bool = False,
                        report: ReadReport | None = None) -> Buckets:
    """Stream a Parquet dataset, check each record batch like a single file (errors name the file and its row),
    and spill canonical rows into ceil(rows / rows_per_bucket) customer buckets under `folder`."""
    report = report if report is not None else ReadReport()
    files = parquet_files(source)
    root = Path(source) if Path(source).is_dir() else None
    mapping = check_dataset(files, mapping or ColumnMapping(), root)
    dataset = _dataset(files, mapping, root)
    total = dataset.count_rows()
    if total == 0:
        raise DataError("the dataset has no rows", file=source, expected="at least one transaction")
    n_buckets = max(1, math.ceil(total / rows_per_bucket))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"bucket-{i:05d}.parquet" for i in range(n_buckets)]
    writers: list[pq.ParquetWriter | None] = [None] * n_buckets
    numeric, customers, rows = True, set(), 0
    date_format = mapping.date_format
    try:
        for fragment in dataset.get_fragments():
            path = Path(fragment.path)
            offset = 0
            for batch in fragment.to_batches(columns=mapping.columns(), batch_size=batch_rows):
                raw = batch.to_pandas()
                raw[LINE] = np.arange(offset + 1, offset + len(raw) + 1)  # Parquet rows count from 1 per file
                offset += len(raw)
                if raw.empty:
                    continue
                if date_format is None and not pd.api.types.is_datetime64_any_dtype(raw[mapping.timestamp]):
                    date_format = column_date_format(raw, mapping.timestamp, path)  # one for the whole dataset
                    report.date_formats.setdefault(mapping.timestamp, (date_format, True))
                checker = RowChecker(path, lenient=lenient, report=report)
                tx = canonical_transactions(raw, replace(mapping, date_format=date_format), checker, typed=True)
                uniq, row_id = _ids_as_text(tx["customer_id"].to_numpy())
                numeric &= tx["customer_id"].dtype != object  # a typed column: the same type in every batch
                customers.update(uniq)
                rows += len(tx)
                out = tx.assign(kind=tx["kind"].cat.codes.astype(np.int8))
                which = bucket_of(pd.Series(uniq), n_buckets)[row_id]
                for b in np.unique(which):
                    table = pa.Table.from_pandas(out[which == b], preserve_index=False)
                    if writers[b] is None:  # microseconds: Spark reads no nanosecond Parquet timestamps
                        writers[b] = pq.ParquetWriter(paths[b], table.schema, coerce_timestamps="us",
                                                      allow_truncated_timestamps=True)
                    writers[b].write_table(table.cast(writers[b].schema))
    finally:
        for w in writers:
            if w is not None:
                w.close()
    kept = [p for p, w in zip(paths, writers) if w is not None]
    return Buckets(kept, len(customers), rows, numeric, report)


def _moments(series: SeriesSet) -> dict[str, tuple[float, float, float]]:
    """Per channel: count, sum and sum of squares of the unscaled values the scaling is fitted on."""
    out = {}
    for i, name in enumerate(series.channels):
        if name not in series.scaling:
            continue
        mu, sd = series.scaling[name]
        v = series.X[:, i][series.mask].astype(np.float64) * sd + mu  # back to the values the scaling saw
        out[name] = (float(len(v)), float(v.sum()), float((v ** 2).sum()))
    return out


def global_series_settings(buckets: Buckets, spec: SeriesSpec) -> tuple[SeriesSpec, dict[str, list[float]]]:
    """The series length (longest history or span over all buckets) and the channels' global scaling.

    One read of each bucket: its series are built at its own longest length, which keeps every step, so its
    moments are those of all its values; only where the length is capped (`max_steps` or `seq_len` shorter than
    the longest history) are the moments taken again at the global length, whose steps depend on it."""
    totals: dict[str, np.ndarray] = {}
    longest = 0
    for i in range(len(buckets.files)):
        tx = buckets.read(i)
        n = _longest(tx, spec)
        longest = max(longest, n)
        for name, m in _moments(build_series(tx, replace(spec, seq_len=n, max_steps=None))).items():
            totals[name] = totals.get(name, np.zeros(3)) + np.array(m)
    fixed = replace(spec, seq_len=spec.length(longest))
    if fixed.seq_len < longest:  # capped: the kept steps depend on the global length
        totals = {}
        for i in range(len(buckets.files)):
            for name, m in _moments(build_series(buckets.read(i), fixed)).items():
                totals[name] = totals.get(name, np.zeros(3)) + np.array(m)
    scaling = {}
    for name, (n, s1, s2) in totals.items():
        mu = s1 / n if n else 0.0
        sd = math.sqrt(max(s2 / n - mu * mu, 0.0)) if n else 1.0
        scaling[name] = [mu, sd if sd > 1e-12 else 1.0]
    return fixed, scaling


def _longest(tx: pd.DataFrame, spec: SeriesSpec) -> int:
    if spec.representation != "calendar":
        return int(tx.groupby("customer_id").size().max())
    unit = "M" if spec.period == "month" else "D"
    p = pd.Series(tx["timestamp"].to_numpy().astype(f"datetime64[{unit}]").astype(np.int64))
    g = p.groupby(tx["customer_id"].to_numpy())
    return int(((g.max() - g.min()) // (7 if spec.period == "week" else 1)).max()) + 1


def bucketed_series(buckets: Buckets, spec: SeriesSpec, scaling: dict | None = None,
                    with_transactions: bool = False) -> Iterator:
    """One SeriesSet per bucket (or (transactions, SeriesSet) pairs), all with the same length and the global
    scaling (fitted here unless given)."""
    if scaling is None or spec.seq_len is None:
        spec, fitted = global_series_settings(buckets, spec)
        scaling = scaling or fitted
    for i in range(len(buckets.files)):
        tx = buckets.read(i)
        series = build_series(tx, spec, scaling=scaling)
        yield (tx, series) if with_transactions else series
