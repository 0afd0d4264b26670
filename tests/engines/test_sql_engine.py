"""DuckDB and Spark are one SQL engine (`fthc.engines.sql_engine.SqlEngine`) written once: a database's subclass
only registers views, runs queries and spells its casts. The month index is one definition, in Python and SQL."""

import numpy as np
import pandas as pd
import pytest

from fthc.data.source import Source
from fthc.data.errors import ReadReport
from fthc.engines.duckdb_engine import DuckDBEngine
from fthc.engines.pandas_engine import PandasEngine
from fthc.engines.sql_engine import SqlEngine
from fthc.features.measures import month_before, month_index, render
from tests.features.test_measures import edge_cases

# what a database's subclass may define: how it is made and connected, and the hooks (no SQL of the engine's own)
HOOKS = {"name", "dialect", "time_literal", "cutoff_time", "spill_time", "kind_of_code", "count_if", "file_column",
         "_register", "_create_view", "_read_files", "_df", "_fetch", "_stored", "_month_store", "_errors", "close"}


def test_duckdb_and_spark_define_only_how_their_database_runs_the_one_engine():
    from fthc.engines import spark

    own = {"duckdb": (DuckDBEngine, {"__init__", "con"}),
           "spark": (spark.SparkEngine, {"__init__", "spark", "_files_frame", "sums_frame", "monthly"})}
    for name, (cls, extra) in own.items():
        assert issubclass(cls, SqlEngine)
        defined = {k for k in vars(cls) if not (k.startswith("__") and k != "__init__")}
        assert defined - HOOKS - extra == set(), name
    # Spark's extras call the engine, they hold none of it: sums_frame is the one SQL of the sums
    assert "_sums_sql" in spark.SparkEngine.sums_frame.__code__.co_names


def test_the_month_index_is_the_same_in_python_and_in_sql():
    days = pd.Series(pd.to_datetime(["1999-12-31 23:59:59", "2000-01-01", "2020-02-29 12:00", "2023-07-01",
                                     "2024-01-01", "1970-01-01"], format="mixed"))
    e = DuckDBEngine(threads=1)
    e._register("days", pd.DataFrame({"t": days}))
    got = e._df(render("SELECT {month_index(t)} AS i, {month_before(t)} AS b FROM days", "duckdb", ""))
    assert got["i"].tolist() == month_index(days).tolist() == [d.year * 12 + d.month - 1 for d in days]
    assert got["b"].tolist() == month_before(days).tolist() == [month_index(d) - 1 for d in days]
    assert month_index(pd.Timestamp("2024-01-15")) - month_index(pd.Timestamp("2023-12-31")) == 1
    assert month_before(pd.Timestamp("2024-01-01")) == month_index(pd.Timestamp("2023-12-01"))
    assert "year(t) * 12 + month(t) - 1" in render("{month_index(t)}", "spark", "")  # alike in every dialect
    e.close()


@pytest.mark.parametrize("engine", [DuckDBEngine, PandasEngine])
def test_months_and_the_chart_need_no_sums_first(engine):
    """`Source.months` and `Source.monthly` make the engine's relation themselves (there was a hidden order)."""
    from fthc.features.window import cutoffs

    tx = edge_cases()
    ids = pd.Index(tx["customer_id"].unique())
    cut = cutoffs(pd.Series(pd.Timestamp("2022-07-01"), index=ids), 6)
    first, second = Source(tx, None, ReadReport()), Source(tx, None, ReadReport())
    e = engine()
    months = first.months(e, cut)
    second.sums(e, as_of=cut)
    pd.testing.assert_frame_equal(months.sort_values(["customer_id", "month"], ignore_index=True),
                                  second.months(e, cut).sort_values(["customer_id", "month"], ignore_index=True))
    segments = pd.Series(np.arange(len(ids)) % 2, index=ids)
    assert len(Source(tx, None, ReadReport()).monthly(e, segments))
    e.close()


def test_the_balance_gap_flag_changes_only_the_work_not_the_values(tmp_path):
    """Known when a frame or a dataset is read, counted once (and kept) for a spill; carrying balances forward
    where none is missing gives what reading each month's own does."""
    tx = edge_cases()
    e = DuckDBEngine(threads=1)
    view = e.frame_source(tx)
    assert e.balance_gaps(view) is True  # some balances missing: carried forward
    whole = tx.assign(balance=tx["balance"].fillna(0.0))
    full = e.frame_source(whole, "full")
    assert e.balance_gaps(full) is False
    fast = e.sums(full)
    e._gaps[full] = True
    pd.testing.assert_frame_equal(e.sums(full), fast)
    spill = tmp_path / "spill.parquet"
    whole.assign(kind=whole["kind"].cat.codes.astype(np.int8)).to_parquet(spill, index=False)
    files = e.files_source([spill], "spilled")
    assert files not in e._gaps
    pd.testing.assert_frame_equal(e.sums(files), fast)
    assert e._gaps[files] is False  # counted once, then known
    until = e.until(files, pd.Timestamp("2022-01-01"))
    assert e._gaps[until] is False
    e.close()
