"""Dates are read with one format per column, inferred from every value or given; nothing is guessed per value."""

import numpy as np
import pandas as pd
import pytest

from fthc.data.source import load_source
from fthc.data.transactions import ColumnMapping, read_transactions
from fthc.errors import DataError

DATES = pd.to_datetime(["2023-01-03", "2023-02-14", "2023-03-05", "2023-11-30", "2023-12-01", "2024-01-12"])


def table(tmp_path, dates, name="t.csv", parquet=False):
    df = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3][: len(dates)], "timestamp": dates,
                       "amount": np.arange(len(dates), dtype=float) + 1})
    path = tmp_path / name
    if parquet:
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y", "%Y%m%d",
                                 "%Y-%m-%dT%H:%M:%S"])
def test_one_format_per_column_is_inferred_from_every_value(tmp_path, fmt):
    tx = read_transactions(table(tmp_path, DATES.strftime(fmt)))
    assert sorted(tx["timestamp"]) == list(DATES)


def test_a_consistent_dd_mm_file_is_read_as_dd_mm_everywhere(tmp_path):
    """The case pandas' per-value guess got wrong for a third of the rows."""
    dates = pd.date_range("2022-01-01", periods=400, freq="D")
    df = pd.DataFrame({"customer_id": np.arange(400) % 7, "timestamp": dates.strftime("%d/%m/%Y"),
                       "amount": 1.0})
    df.to_csv(tmp_path / "eu.csv", index=False)
    tx = read_transactions(tmp_path / "eu.csv")
    assert sorted(tx["timestamp"]) == list(dates)


def test_ambiguous_dates_are_an_error_until_a_format_is_given(tmp_path):
    path = table(tmp_path, ["03/01/2023", "04/02/2023", "05/03/2023", "06/04/2023", "07/05/2023", "08/06/2023"])
    with pytest.raises(DataError, match=r"dd/mm/YYYY .* and mm/dd/YYYY|mm/dd/YYYY .* and dd/mm/YYYY") as e:
        read_transactions(path)
    assert "date-format" in str(e.value) and "'timestamp'" in str(e.value) and str(path) in str(e.value)
    tx = read_transactions(path, ColumnMapping(date_format="%d/%m/%Y"))
    assert tx["timestamp"].min() == pd.Timestamp("2023-01-03")


def test_mixed_formats_are_an_error_naming_rows_and_formats(tmp_path):
    path = table(tmp_path, ["2023-01-03", "2023-02-14", "14/02/2023", "2023-03-05", "30/11/2023", "2023-12-01"])
    with pytest.raises(DataError, match="mixed date formats") as e:
        read_transactions(path)
    text = str(e.value)
    assert "YYYY-mm-dd" in text and "dd/mm/YYYY" in text and "row 4" in text  # header is row 1


def test_a_value_in_no_format_names_its_row(tmp_path):
    path = table(tmp_path, ["2023-01-03", "2023-02-14", "next tuesday", "2023-03-05", "2023-11-30", "2023-12-01"])
    with pytest.raises(DataError, match="row 4") as e:
        read_transactions(path)
    assert "next tuesday" in str(e.value)


def test_integer_dates_in_parquet_and_csv_are_yyyymmdd_not_1970(tmp_path):
    ints = DATES.strftime("%Y%m%d").astype(int)
    for path in (table(tmp_path, ints, "i.parquet", parquet=True), table(tmp_path, ints, "i.csv")):
        tx = read_transactions(path)
        assert sorted(tx["timestamp"]) == list(DATES), path


@pytest.mark.parametrize("values", [DATES, DATES.tz_localize("Europe/Prague"), DATES.date])
def test_parquet_dates_and_timestamps_need_no_format(tmp_path, values):
    tx = read_transactions(table(tmp_path, values, "d.parquet", parquet=True))
    assert len(tx) == 6 and tx["timestamp"].dt.year.min() == 2023


def test_dates_far_outside_the_bulk_warn_and_are_left_out_only_when_lenient(tmp_path):
    path = table(tmp_path, ["2023-01-03", "1900-02-14", "2023-03-05", "2023-11-30", "2099-12-01", "2024-01-12"])
    src = load_source(path)
    assert len(src.transactions) == 6
    assert len(src.report.warnings) == 1 and "2 dates before 1950 or in the future" in src.report.warnings[0]
    assert "row 3" in src.report.warnings[0]
    lenient = load_source(path, lenient=True)
    assert len(lenient.transactions) == 4 and len(lenient.report) == 2 and not lenient.report.warnings
