"""The Spark engine scores exactly what the in-memory path scores (skipped where PySpark is not installed)."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="PySpark is an optional extra: pip install 'fthc[spark]'")

from fthc.config import preset  # noqa: E402
from fthc.data.transactions import ColumnMapping  # noqa: E402
from fthc.engines.spark import assign_spark, sample_customers  # noqa: E402
from fthc.errors import DataError  # noqa: E402
from fthc.segments.segment import assign, segment  # noqa: E402

MAPPING = ColumnMapping(customer_id="cust", timestamp="when", amount="value", balance="bal", category="cat",
                        category_kinds={"salary": "incoming_transfer", "atm": "cash_withdrawal"})


@pytest.fixture(scope="module")
def lake(parquet_lake):
    """The shared dataset, and the default method fitted on it (in memory) under seg/model."""
    if not (parquet_lake / "seg" / "model").exists():
        segment(parquet_lake / "whole.parquet", parquet_lake / "seg", preset("features"), 3, "events", MAPPING)
    return parquet_lake


def test_spark_assignments_equal_the_in_memory_ones(lake, tmp_path):
    expected = assign(lake / "seg" / "model", lake / "whole.parquet").set_index("customer_id")
    # more partitions than customers: empty partitions and partitions of one customer
    r = assign_spark(lake / "seg" / "model", lake / "tx", tmp_path / "out", master="local[2]", partitions=60)
    got = pd.read_parquet(tmp_path / "out" / "assignments")
    got = got.assign(customer_id=got["customer_id"].astype(int), segment=got["segment"].astype(int))
    got = got.set_index("customer_id").sort_index()
    assert r["customers"] == 40 and len(got) == 40
    assert got["segment"].equals(expected["segment"].reindex(got.index).astype(int))
    np.testing.assert_allclose(got["confidence"], expected["confidence"].reindex(got.index), rtol=1e-6)
    features = pd.read_parquet(tmp_path / "out" / "features")
    assert len(features) == 40 and "monthly_credit" in features


def test_a_file_missing_a_column_is_an_error_naming_it(lake, lake_missing_a_column, tmp_path):
    with pytest.raises(DataError, match=r"b\.parquet.*'value'"):
        assign_spark(lake / "seg" / "model", lake_missing_a_column, tmp_path / "out", master="local[2]")


def test_a_seeded_sample_of_customers_keeps_whole_histories(lake, tmp_path):
    r = sample_customers(lake / "tx", tmp_path / "s", 10, MAPPING, seed=1, master="local[2]")
    s = pd.read_parquet(tmp_path / "s")
    whole = pd.read_parquet(lake / "whole.parquet")
    assert r["customers"] == 10 and r["of"] == 40 and s["cust"].nunique() == 10
    assert s.groupby("cust").size().equals(whole[whole["cust"].isin(s["cust"])].groupby("cust").size())
    again = sample_customers(lake / "tx", tmp_path / "s2", 10, MAPPING, seed=1, master="local[2]")
    assert again["customers"] == 10 and set(pd.read_parquet(tmp_path / "s2")["cust"]) == set(s["cust"])


def test_a_bad_value_names_its_file_and_row(lake, tmp_path):
    folder = tmp_path / "rows"
    folder.mkdir()
    whole = pd.read_parquet(lake / "whole.parquet").astype({"value": str})
    whole.head(40).to_parquet(folder / "a.parquet", index=False)
    tail = whole.tail(40).reset_index(drop=True)
    tail.loc[6, "value"] = "twelve"
    tail.to_parquet(folder / "b.parquet", index=False)
    with pytest.raises(DataError, match=r"b\.parquet, row 7, column 'value'"):
        assign_spark(lake / "seg" / "model", folder, tmp_path / "out", master="local[2]")
