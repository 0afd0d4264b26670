"""Spark computes the same behaviour and the same segments as DuckDB and the pandas reference, from the same SQL,
and scores every customer on its executors (skipped where PySpark is not installed)."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pyspark", reason="PySpark is an optional extra: pip install 'fthc[spark]'")

from fthc import Segmenter  # noqa: E402
from fthc.data.transactions import ColumnMapping  # noqa: E402
from fthc.app.spark_jobs import assign_spark, sample_customers  # noqa: E402
from fthc.errors import DataError  # noqa: E402
from fthc.app.commands import assign, segment  # noqa: E402

MAPPING = ColumnMapping(customer_id="cust", timestamp="when", amount="value", balance="bal", category="cat",
                        category_kinds={"salary": "incoming_transfer", "atm": "cash_withdrawal"})


@pytest.fixture(scope="module")
def lake(parquet_lake, tmp_path_factory):
    """The shared dataset, and the default method fitted on it (DuckDB) under its own folder."""
    out = tmp_path_factory.mktemp("spark") / "seg"
    segment(parquet_lake / "tx", out, Segmenter(k=3, columns=MAPPING))
    return parquet_lake, out


def test_three_engines_give_the_same_sums_and_segments(lake):
    data, _ = lake
    fitted = {e: Segmenter(k=3, columns=MAPPING, engine=e).fit(data / "tx") for e in ("duckdb", "pandas", "spark")}
    ref = fitted["pandas"].sums_
    for engine in ("duckdb", "spark"):
        got = fitted[engine].sums_
        assert got.index.equals(ref.index)
        for col in ref.columns:
            np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-6, atol=1e-9,
                                       equal_nan=True, err_msg=f"{engine}: {col}")
        assert fitted[engine].labels_.equals(fitted["pandas"].labels_)
    monthly = fitted["spark"].fit_summary_.monthly.sort_values(["segment", "month_number"]).reset_index(drop=True)
    expected = fitted["duckdb"].fit_summary_.monthly.sort_values(["segment", "month_number"]).reset_index(drop=True)
    np.testing.assert_allclose(monthly.to_numpy(float), expected.to_numpy(float), rtol=1e-6, equal_nan=True)


def test_spark_scores_every_customer_as_duckdb_does(lake, tmp_path):
    data, seg = lake
    expected = assign(seg / "model", data / "tx").set_index("customer_id")
    r = assign_spark(seg / "model", data / "tx", tmp_path / "out", master="local[2]")
    got = pd.read_parquet(tmp_path / "out" / "assignments")
    assert got["customer_id"].dtype == np.int64  # the input's id type
    got = got.assign(segment=got["segment"].astype(int)).set_index("customer_id").sort_index()
    assert r["customers"] == 40 and len(got) == 40
    assert got["segment"].equals(expected["segment"].reindex(got.index).astype(int))
    np.testing.assert_allclose(got["confidence"], expected["confidence"].reindex(got.index), rtol=1e-9)
    measures = pd.read_parquet(tmp_path / "out" / "measures")
    assert len(measures) == 40 and "income_per_month" in measures


def _same_scores(model, data, tmp_path, risk):
    expected = assign(model, data).set_index("customer_id")
    assign_spark(model, data, tmp_path / "out", master="local[2]")
    got = pd.read_parquet(tmp_path / "out" / "assignments")
    got = got.assign(segment=got["segment"].astype(int)).set_index("customer_id").sort_index()
    expected = expected.reindex(got.index)
    assert len(got) == 40 and got["segment"].equals(expected["segment"].astype(int))
    np.testing.assert_allclose(got["confidence"], expected["confidence"], rtol=1e-9)
    assert got["reasons"].equals(expected["reasons"])
    if risk:
        np.testing.assert_allclose(got["risk"], expected["risk"], rtol=1e-9)
        assert got["risk_grade"].equals(expected["risk_grade"].astype(np.int64))
        assert got["risk_reasons"].equals(expected["risk_reasons"])
        assert got["has_outcome"].equals(expected["has_outcome"].astype(bool))
        for col in ("typical_income", "typical_free_cash_flow", "bad_month_free_cash_flow", "buffer", "commitments"):
            np.testing.assert_allclose(got[col], expected[col], rtol=1e-9, err_msg=col)  # affordability, same window


def test_spark_scores_a_network_model_as_duckdb_does(lake, tmp_path):
    import fthc

    data, _ = lake
    config = fthc.preset("fcnn", pretrain_batches=3, batch_size=16, latent_dim=4, arch={"hidden": [8, 8, 8]},
                         device="cpu")
    segment(data / "tx", tmp_path / "net", Segmenter(k=2, method=config, columns=MAPPING, representation="events"))
    _same_scores(tmp_path / "net" / "model", data / "tx", tmp_path, risk=False)


def test_spark_scores_a_model_fitted_with_outcomes_with_its_risk(lake, tmp_path):
    import warnings

    data, _ = lake
    ids = np.arange(40) * 11
    outcomes = pd.DataFrame({"customer_id": ids, "default": (np.arange(40) % 3 == 0).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no dates: said in the notes
        segment(data / "tx", tmp_path / "risk", Segmenter(k=2, columns=MAPPING, risk_weight=0), outcomes=outcomes)
    _same_scores(tmp_path / "risk" / "model", data / "tx", tmp_path, risk=True)


def test_a_file_missing_a_column_is_an_error_naming_it(lake, lake_missing_a_column, tmp_path):
    with pytest.raises(DataError, match=r"b\.parquet.*'value'"):
        assign_spark(lake[1] / "model", lake_missing_a_column, tmp_path / "out", master="local[2]")


def test_a_seeded_sample_of_customers_keeps_whole_histories(lake, tmp_path):
    data, _ = lake
    r = sample_customers(data / "tx", tmp_path / "s", 10, MAPPING, seed=1, master="local[2]")
    s = pd.read_parquet(tmp_path / "s" / "part")
    whole = pd.read_parquet(data / "whole.parquet")
    assert r["customers"] == 10 and r["of"] == 40 and s["cust"].nunique() == 10
    assert s.groupby("cust").size().equals(whole[whole["cust"].isin(s["cust"])].groupby("cust").size())


def test_a_bad_value_names_its_file_and_row(lake, tmp_path):
    folder = tmp_path / "rows"
    folder.mkdir()
    whole = pd.read_parquet(lake[0] / "whole.parquet")
    whole.head(40).to_parquet(folder / "a.parquet", index=False)
    tail = whole.tail(40).reset_index(drop=True)
    tail.loc[6, "value"] = np.inf
    tail.to_parquet(folder / "b.parquet", index=False)
    with pytest.raises(DataError, match=r"b\.parquet, row 7, column 'value'"):
        assign_spark(lake[1] / "model", folder, tmp_path / "out", master="local[2]")
    text = whole.astype({"value": str})  # amounts as text: fthc's own parsing, then Spark
    text.head(40).to_parquet(folder / "a.parquet", index=False)
    tail = text.tail(40).reset_index(drop=True)
    tail.loc[3, "value"] = "twelve"
    tail.to_parquet(folder / "b.parquet", index=False)
    with pytest.raises(DataError, match=r"b\.parquet, row 4, column 'value'"):
        assign_spark(lake[1] / "model", folder, tmp_path / "out2", master="local[2]")


def test_a_file_that_is_not_parquet_in_the_folder_is_one_line(lake, tmp_path):
    """A stray text file among the Parquet files: one line naming it, never Spark's Java trace (CLI, exit 2)."""
    import shutil

    from click.testing import CliRunner

    from fthc.cli import main

    folder = tmp_path / "tx"
    shutil.copytree(lake[0] / "tx", folder)
    (folder / "month=2022-03" / "notes.parquet").write_text("not parquet at all")
    result = CliRunner().invoke(main, ["assign", "--engine", "spark", "--spark-master", "local[2]", "--model",
                                       str(lake[1] / "model"), "--data", str(folder), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "notes.parquet" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 3, result.output


def test_a_readme_in_a_partition_is_left_out_as_duckdb_leaves_it_and_a_spill_is_read(lake, tmp_path):
    """Issue 39: a README.txt inside a partition. Spark reads the dataset's *.parquet files only, as DuckDB does
    (never Spark's 'is not a Parquet file'), with the rows in SQL and, with lenient reading, from fthc's own
    spill of checked rows (written in nanoseconds, it was Spark's PARQUET_TYPE_ILLEGAL)."""
    import shutil

    folder = tmp_path / "tx"
    shutil.copytree(lake[0] / "tx", folder)
    (folder / "month=2022-03" / "README.txt").write_text("These are the March transactions.\n")
    expected = assign(lake[1] / "model", folder).sort_values("customer_id")["segment"].astype(int).to_numpy()
    for lenient in (False, True):
        out = tmp_path / f"scored-{lenient}"
        assert assign_spark(lake[1] / "model", folder, out, master="local[2]", lenient=lenient)["customers"] == 40
        got = pd.read_parquet(out / "assignments").sort_values("customer_id")
        assert np.array_equal(got["segment"].astype(int).to_numpy(), expected), lenient


def test_spark_output_never_deletes_files_it_did_not_write(lake, tmp_path):
    from click.testing import CliRunner

    from fthc.cli import main

    out = tmp_path / "scored"
    (out / "measures").mkdir(parents=True)
    (out / "measures" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(main, ["assign", "--engine", "spark", "--spark-master", "local[2]", "--model",
                                       str(lake[1] / "model"), "--data", str(lake[0] / "tx"), "--out", str(out)])
    assert result.exit_code == 2 and "did not write" in result.output, result.output
    assert (out / "measures" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("zone", ["Europe/Prague", "+02:00"])
def test_zoned_parquet_months_are_the_zones_calendar(tmp_path, zone):
    from tests.test_reliability import salary_at_half_past_midnight

    salary_at_half_past_midnight(zone).to_parquet(tmp_path / "s.parquet", index=False)
    m = Segmenter(k=1, engine="spark").fit(tmp_path / "s.parquet").measures_.loc["a"]
    assert m["months"] == 12 and m["months_with_income"] == 1.0 and m["income_variation"] == 0.0


def test_spark_tracks_customers_over_time_as_duckdb_does(lake):
    """`track` end to end on Spark: the same segments, risk and grades per period, the same migrations and the
    same drift as on DuckDB, from the same windows."""
    import warnings

    data, _ = lake
    ids = np.arange(40) * 11
    outcomes = pd.DataFrame({"customer_id": ids, "default": (np.arange(40) % 3 == 0).astype(int)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no dates: said in the notes
        seg = Segmenter(k=2, columns=MAPPING, risk_weight=0, window=6).fit(data / "tx", outcomes=outcomes)
    on_duckdb = seg.track(data / "tx", every="month", periods=3)
    seg.engine = "spark"
    on_spark = seg.track(data / "tx", every="month", periods=3)
    t, want = on_spark.tracks, on_duckdb.tracks
    assert t["period_end"].nunique() == 3 and len(t) == len(want)
    pd.testing.assert_frame_equal(t, want, check_exact=False, rtol=1e-6)
    pd.testing.assert_frame_equal(on_spark.migration, on_duckdb.migration)
    pd.testing.assert_frame_equal(on_spark.drift, on_duckdb.drift, check_exact=False, rtol=1e-6)
