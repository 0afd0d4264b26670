"""Partitioned Parquet, out of core: the same series and features as the in-memory path, whatever the buckets."""

import numpy as np
import pandas as pd
import pytest

from fthc.data import SeriesSpec, build_series
from fthc.data.partitioned import bucket_transactions, bucketed_series, is_partitioned, parquet_files
from fthc.data.transactions import ColumnMapping, read_transactions
from fthc.errors import DataError
from fthc.features import summary_features
from fthc.features.reference import behaviour_sums


MAPPING = ColumnMapping(customer_id="cust", timestamp="when", amount="value", balance="bal", category="cat",
                        category_kinds={"salary": "incoming_transfer", "atm": "cash_withdrawal"})


@pytest.mark.parametrize("representation", ["events", "calendar", "amounts"])
@pytest.mark.parametrize("rows_per_bucket", [10**9, 300, 37])
def test_bucketed_series_equal_the_in_memory_series(parquet_lake, tmp_path, representation, rows_per_bucket):
    assert is_partitioned(parquet_lake / "tx") and len(parquet_files(parquet_lake / "tx")) == 24
    whole = build_series(read_transactions(parquet_lake / "whole.parquet", MAPPING), SeriesSpec(representation))
    buckets = bucket_transactions(parquet_lake / "tx", tmp_path / "b", MAPPING, rows_per_bucket=rows_per_bucket,
                                  batch_rows=50)
    assert buckets.customers == 40 and buckets.transactions == whole.report["transactions"]
    parts = list(bucketed_series(buckets, SeriesSpec(representation)))
    assert len(parts) == len(buckets.files) >= (1 if rows_per_bucket > 10**6 else 2)
    ids = np.concatenate([p.ids for p in parts])
    X = np.concatenate([p.X for p in parts])[np.argsort(ids)]
    mask = np.concatenate([p.mask for p in parts])[np.argsort(ids)]
    assert np.array_equal(np.sort(ids), whole.ids) and ids.dtype == whole.ids.dtype
    assert np.array_equal(mask, whole.mask)
    np.testing.assert_allclose(X, whole.X, rtol=1e-5, atol=1e-5)  # float32 rounding of the global scaling
    for name, (mu, sd) in whole.scaling.items():
        np.testing.assert_allclose(parts[0].scaling[name], [mu, sd], rtol=1e-6)


def test_bucketed_features_equal_the_in_memory_features(parquet_lake, tmp_path):
    whole = summary_features(behaviour_sums(read_transactions(parquet_lake / "whole.parquet", MAPPING)))
    buckets = bucket_transactions(parquet_lake / "tx", tmp_path / "b", MAPPING, rows_per_bucket=200, batch_rows=64)
    parts = pd.concat([summary_features(behaviour_sums(buckets.read(i))) for i in range(len(buckets.files))]).sort_index()
    pd.testing.assert_frame_equal(parts, whole, check_exact=False, rtol=1e-9)


def test_files_that_disagree_are_errors_naming_the_file(parquet_lake, lake_missing_a_column, tmp_path):
    folder = lake_missing_a_column
    good = pd.read_parquet(parquet_lake / "whole.parquet")
    with pytest.raises(DataError, match=r"b\.parquet.*missing column 'value'"):
        bucket_transactions(folder, tmp_path / "b1", MAPPING)
    good.tail(10).astype({"value": str}).to_parquet(folder / "b.parquet", index=False)
    with pytest.raises(DataError, match=r"b\.parquet.*column 'value' is (large_)?string here but double"):
        bucket_transactions(folder, tmp_path / "b2", MAPPING)
    (folder / "b.parquet").unlink()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no Parquet files found"):
        bucket_transactions(empty, tmp_path / "b3", MAPPING)


def test_a_bad_row_in_one_file_names_that_file_and_its_row(parquet_lake, tmp_path):
    folder = tmp_path / "rows"
    folder.mkdir()
    df = pd.read_parquet(parquet_lake / "whole.parquet").head(20).astype({"value": object})
    df.to_parquet(folder / "a.parquet", index=False)
    df.loc[5, "value"] = "twelve"
    df.astype({"value": str}).to_parquet(folder / "b.parquet", index=False)
    (folder / "a.parquet").unlink()
    with pytest.raises(DataError, match=r"b\.parquet, row 6, column 'value'"):
        bucket_transactions(folder, tmp_path / "b", MAPPING)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_a_partitioned_dataset_is_segmented_whole_as_the_same_table_in_one_file(parquet_lake, tmp_path, engine):
    """Every customer of the lake is fitted and scored (the engine reads the files where they lie); the segments
    equal those of the same rows as one file, and assign gives them again."""
    from fthc import Segmenter
    from fthc.app.commands import assign, segment

    r = segment(parquet_lake / "tx", tmp_path / "seg", Segmenter(k=3, columns=MAPPING, engine=engine))
    fitted = pd.read_csv(tmp_path / "seg" / "assignments.csv")
    assert len(fitted) == 40 and fitted["customer_id"].is_unique and int(r["segmenter"].profile_.loc["all",
                                                                                                  "customers"]) == 40
    whole = Segmenter(k=3, columns=MAPPING, engine=engine).fit(parquet_lake / "whole.parquet")
    assert whole.labels_.equals(r["segmenter"].labels_)
    again = assign(tmp_path / "seg" / "model", parquet_lake / "tx", tmp_path / "a.parquet")
    merged = fitted.merge(pd.read_parquet(tmp_path / "a.parquet"), on="customer_id")
    assert len(merged) == 40 and (merged["segment_x"] == merged["segment_y"]).all()
    assert pd.read_parquet(tmp_path / "a.parquet")["customer_id"].dtype == np.int64  # ids keep their type


def test_capped_lengths_keep_the_latest_steps_like_the_in_memory_path(parquet_lake, tmp_path):
    spec = SeriesSpec("events", max_steps=20)  # shorter than the longest history: the kept steps depend on it
    whole = build_series(read_transactions(parquet_lake / "whole.parquet", MAPPING), spec)
    buckets = bucket_transactions(parquet_lake / "tx", tmp_path / "b", MAPPING, rows_per_bucket=300, batch_rows=50)
    parts = list(bucketed_series(buckets, spec))
    ids = np.concatenate([p.ids for p in parts])
    X = np.concatenate([p.X for p in parts])[np.argsort(ids)]
    assert X.shape == whole.X.shape and X.shape[2] == 20
    np.testing.assert_allclose(X, whole.X, rtol=1e-5, atol=1e-5)


def test_the_spill_keeps_microseconds_that_spark_reads(parquet_lake, tmp_path):
    """Spark refuses nanosecond Parquet timestamps: the canonical spill (--lenient, or dates as text) that
    `fthc assign --engine spark` reads is written in microseconds, and read back as before."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buckets = bucket_transactions(parquet_lake / "tx", tmp_path / "b", MAPPING, rows_per_bucket=300)
    assert all(pq.read_schema(f).field("timestamp").type == pa.timestamp("us") for f in buckets.files)
    back = pd.concat(buckets.read(i) for i in range(len(buckets.files)))
    whole = read_transactions(parquet_lake / "whole.parquet", MAPPING)
    assert back["timestamp"].dtype == "datetime64[ns]"
    assert back.sort_values(["customer_id", "timestamp"])["timestamp"].reset_index(drop=True).equals(
        whole.sort_values(["customer_id", "timestamp"])["timestamp"].reset_index(drop=True))
