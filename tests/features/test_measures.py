"""The behaviour measures say what their names say, and every engine computes the same values (to 1e-6) as the
pandas reference, on the edge cases of real data."""

import numpy as np
import pandas as pd
import pytest

from fthc.data.transactions import canonical_frame
from fthc.engines import ENGINES, Engine
from fthc.engines.duckdb_engine import DuckDBEngine
from fthc.features import FEATURE_NAMES, SUMS, measures, model_features, usable_features, available
from fthc.features.reference import behaviour_sums


def table(rows, balance=True):
    c, ts, a, b, k = zip(*rows)
    return canonical_frame(customer_id=c, timestamp=pd.to_datetime(ts), amount=a,
                           balance=b if balance else None, kind=k)


def test_a_salary_on_the_first_of_every_month_is_regular_income():
    """1,000 on the 1st of each of 24 months: income in every calendar month, varying by nothing, salary-like."""
    rows = [(1, f"{2020 + m // 12}-{m % 12 + 1:02d}-01", 1000.0, 1000.0 * (m + 1), "incoming_transfer")
            for m in range(24)]
    m = measures(behaviour_sums(table(rows))).loc[1]
    assert m["months"] == 24 and m["months_with_income"] == 1.0
    assert m["income_variation"] == 0.0 and m["salary_like"] == 1.0
    assert m["income_per_month"] == 1000.0


def make_engine(name: str):
    """A registered engine, fresh; Spark where PySpark is installed (its session starts on first use)."""
    if not ENGINES.get(name).flag("embedded"):
        pytest.importorskip("pyspark")
    return ENGINES.create(name)


@pytest.mark.parametrize("name", ENGINES.names())
def test_every_registered_engine_has_the_engine_interface(name):
    e = ENGINES.create(name)
    assert isinstance(e, Engine), f"{name} lacks part of fthc.engines.Engine"
    assert e.name == name


@pytest.mark.parametrize("name", ENGINES.names())
def test_a_constant_amount_varies_by_exactly_nothing_whatever_the_order_of_adding(name):
    """E[x^2] - E[x]^2 of a fixed salary cancels to rounding noise whose size depends on the order the engine
    adds in; the measures call it 0, so the same data gives the same measures on every run and engine."""
    rows = [(c, f"{2020 + m // 12}-{m % 12 + 1:02d}-03", 1837.37 + c, 10.0 * m, "incoming_transfer")
            for c in range(50) for m in range(24)]
    e = make_engine(name)
    m = measures(e.sums(e.frame_source(table(rows))))
    assert (m["income_variation"] == 0.0).all() and (m["amount_sd"] == 0.0).all()


def test_a_missing_balance_is_carried_forward_not_invented():
    rows = [(1, "2021-01-05", -100.0, 50000.0, "card_payment"), (1, "2021-02-05", -100.0, 49900.0, "card_payment"),
            (1, "2021-03-05", -100.0, np.nan, "card_payment"), (1, "2021-04-05", -100.0, 49700.0, "card_payment")]
    m = measures(behaviour_sums(table(rows))).loc[1]
    assert m["negative_month_share"] == 0.0  # not the running sum from zero (-300): no fake overdraft
    assert m["balance_low"] == pytest.approx(np.percentile([50000, 49900, 49900, 49700], 10))
    from fthc.data.series import SeriesSpec, build_series

    series = build_series(table(rows), SeriesSpec("calendar"))
    assert not series.report["balance_derived"]


@pytest.mark.parametrize("name", ENGINES.names())
def test_a_dormant_month_keeps_the_balance_of_the_month_before(name):
    """Overdrawn at -500 from February to July with transactions only in February and July: 6 of the 8
    month-ends are negative, and the median month-end is -500 (counting only active months gave 0.33 and +100)."""
    rows = [(1, "2023-01-10", 1000.0, 100.0, "cash_deposit"), (1, "2023-02-10", -600.0, -500.0, "card_payment"),
            (1, "2023-07-10", -1.0, -500.0, "card_payment"), (1, "2023-08-10", 700.0, 200.0, "cash_deposit")]
    e = make_engine(name)
    sums = e.sums(e.frame_source(table(rows)))
    m = measures(sums).loc[1]
    assert m["months"] == 8 and m["negative_month_share"] == 0.75 and m["balance_level"] == -500.0
    assert sums.loc[1, "active_months"] == 4 and sums.loc[1, "balance_months"] == 8
    assert m["months_with_income"] == 0.25 and m["income_per_month"] == 1700.0 / 8


def test_without_a_balance_column_nothing_is_said_about_balances():
    rows = [(c, f"2021-0{m}-03", 100.0 * (c + 1), np.nan, "cash_deposit") for c in range(3) for m in range(1, 7)]
    sums = behaviour_sums(table(rows, balance=False))
    m = measures(sums)
    assert m["balance_level"].isna().all() and m["negative_month_share"].isna().all()
    names = usable_features(available(sums))
    assert not any(n.startswith("balance") or n == "negative_month_share" for n in names)
    assert set(model_features(m, names).columns) == set(names) and len(names) < len(FEATURE_NAMES)


def test_without_categories_kinds_are_not_measured():
    rows = [(1, "2021-01-03", 10.0, 10.0, "other"), (1, "2021-02-03", -5.0, 5.0, "other")]
    m = measures(behaviour_sums(table(rows)))
    assert m["cash_share"].isna().all() and m["salary_like"].isna().all()
    assert m["income_per_month"].notna().all()


def edge_cases() -> pd.DataFrame:
    """One transaction; several on one day (ties in time, ordered as given); a customer whose balances have gaps
    and one who has none at all; a month without transactions; an overdraft; every kind."""
    from fthc.data.transactions import KINDS

    rng = np.random.default_rng(0)
    rows = [(1, "2021-03-04", 50.0, 50.0, "cash_deposit")]
    bal = 100.0
    for i in range(40):
        day = f"2021-{1 + i // 8:02d}-{1 + (i % 4):02d}"  # four transactions a day, on some days
        amount = float(rng.normal(0, 80))
        bal += amount
        rows.append((2, day, amount, bal if i % 7 else np.nan, KINDS[i % len(KINDS)]))
    for m in (1, 2, 5, 6):  # no transactions in March and April
        rows.append((3, f"2022-0{m}-10", -300.0, -50.0 * m, "loan_payment"))
    rows += [(4, f"2021-0{m}-1{m}", 20.0 * m, np.nan, "pension") for m in range(1, 4)]
    return table(rows)


@pytest.mark.parametrize("name", ENGINES.names())
def test_every_engine_equals_the_reference_on_the_edge_cases(name):
    tx = edge_cases()
    ref = behaviour_sums(tx)
    e = make_engine(name)
    got = e.sums(e.frame_source(tx))
    assert list(got.columns) == SUMS and got.index.equals(ref.index)
    for col in SUMS:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-6, atol=1e-9,
                                   equal_nan=True, err_msg=col)
    m = measures(got)
    assert m.loc[1, "transactions_per_month"] == 1 and m.loc[3, "months"] == 6  # the gap months count
    assert m.loc[3, "negative_month_share"] == 1.0 and m.loc[4, "pension_like"] == 0  # amounts vary by > 20%


def stopped_salary() -> pd.DataFrame:
    """Customer 1: a salary of 1,000 on the 1st and card spending of 900 on the 15th, January to September 2023,
    then nothing (gone quiet before a cutoff of January 2024); customer 2: one deposit in March 2023."""
    rows, bal = [], 0.0
    for m in range(9):
        bal += 1000
        rows.append((1, f"2023-{m + 1:02d}-01", 1000.0, bal, "incoming_transfer"))
        bal -= 900
        rows.append((1, f"2023-{m + 1:02d}-15", -900.0, bal, "card_payment"))
    rows.append((2, "2023-03-05", 100.0, 100.0, "cash_deposit"))
    return table(rows)


@pytest.mark.parametrize("name", ENGINES.names())
def test_recent_change_reads_the_months_before_the_cutoff_quiet_ones_included(name):
    """A window ending at a cutoff of 2024-01: the last 3 months (October-December) are dormant, so money in
    stopped (log(1 / 1,001)), the last regular credit is 3 months back, and the months count to the cutoff."""
    from fthc.features.window import cutoffs

    cut = cutoffs(pd.Series(pd.Timestamp("2024-01-15"), index=[1, 2]), 12)
    e = make_engine(name)
    m = measures(e.sums(e.frame_source(stopped_salary()), as_of=cut)).loc[1]
    assert m["months"] == 12 and m["months_with_income"] == 0.75
    assert m["income_change"] == pytest.approx(np.log(1 / 1001))
    assert m["spending_change"] == pytest.approx(np.log(1 / 901))
    assert m["transaction_rate_change"] == pytest.approx(np.log(1 / 3))
    assert m["months_since_regular_credit"] == 3
    assert m["balance_change"] == pytest.approx(900 - 500)  # 100, 200, ... 900, then 900 three times
    assert m["income_trend"] < 0 and m["negative_change"] == 0


def test_without_a_cutoff_the_history_ends_at_its_own_last_month():
    m = measures(behaviour_sums(stopped_salary())).loc[1]
    assert m["months"] == 9 and m["months_since_regular_credit"] == 0
    assert m["income_change"] == pytest.approx(0.0) and m["balance_change"] == pytest.approx(800 - 350)
    short = measures(behaviour_sums(stopped_salary())).loc[2]  # one month: nothing before the last 3
    assert np.isnan(short["income_change"]) and np.isnan(short["months_since_regular_credit"])


@pytest.mark.parametrize("name", ENGINES.names())
def test_every_engine_equals_the_reference_inside_windows(name):
    """Windowed sums and customer-months (cutoffs after, inside and before each history; a 6-month window and
    none) are the reference's on every engine."""
    from fthc.engines.pandas_engine import PandasEngine
    from fthc.features.window import cutoffs

    tx = pd.concat([edge_cases(), stopped_salary().assign(customer_id=lambda d: d["customer_id"] + 10)],
                   ignore_index=True)
    dates = pd.Series(pd.to_datetime(["2021-04-20", "2021-03-02", "2023-01-01", "2021-02-28", "2024-01-15",
                                      "2023-06-30"]), index=[1, 2, 3, 4, 11, 12])
    e, ref = make_engine(name), PandasEngine()
    for months in (6, None):
        cut = cutoffs(dates, months)
        got, want = e.sums(e.frame_source(tx), as_of=cut), ref.sums(ref.frame_source(tx), as_of=cut)
        assert list(got.columns) == SUMS and got.index.equals(want.index)
        for col in SUMS:
            np.testing.assert_allclose(got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-6, atol=1e-9,
                                       equal_nan=True, err_msg=f"{col} ({months} months)")
        gm = e.months(e.frame_source(tx), cut).sort_values(["customer_id", "month"], ignore_index=True)
        wm = ref.months(ref.frame_source(tx), cut).sort_values(["customer_id", "month"], ignore_index=True)
        pd.testing.assert_frame_equal(gm.astype(float), wm.astype(float), rtol=1e-6)


def test_a_customer_split_across_files_with_ties_is_read_like_one_file(tmp_path):
    """The same rows as one Parquet file and split over two files (a customer's same-day rows in both): the
    engine reading the files in SQL gives the sums of the in-memory reader."""
    from fthc import Segmenter
    from fthc.data.source import as_source

    tx = edge_cases()
    raw = tx[["customer_id", "timestamp", "amount", "balance"]].assign(category=tx["kind"].astype(str))
    raw.to_parquet(tmp_path / "one.parquet", index=False)
    folder = tmp_path / "split"
    folder.mkdir()
    half = len(raw) // 2
    raw.iloc[:half].to_parquet(folder / "a.parquet", index=False)
    raw.iloc[half:].to_parquet(folder / "b.parquet", index=False)
    ref = behaviour_sums(as_source(tmp_path / "one.parquet").transactions_in_memory())
    for source in (tmp_path / "one.parquet", folder):
        e = DuckDBEngine()
        got = as_source(source).sums(e)
        for col in SUMS:
            np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float), rtol=1e-6, atol=1e-9,
                                       equal_nan=True, err_msg=f"{source.name}: {col}")
    assert Segmenter(k=2).fit(folder).labels_.equals(Segmenter(k=2).fit(tmp_path / "one.parquet").labels_)


def test_memory_does_not_depend_on_the_longest_history(tmp_path):
    """One customer with 100,000 transactions among 1,000 ordinary ones needs the memory of as many rows spread
    over ordinary customers (measured in fresh processes), not that of series padded to the longest history
    (1,001 x 11 channels x 100,000 steps: 4.4 GB)."""
    import json
    import subprocess
    import sys

    rng = np.random.default_rng(0)

    def write(path, ordinary, long_rows):
        cust = np.concatenate([np.repeat(np.arange(ordinary), 60), np.full(long_rows, 10**6)])
        days = rng.integers(0, 700, len(cust))
        pd.DataFrame({"customer_id": cust, "timestamp": pd.Timestamp("2020-01-01") + pd.to_timedelta(days, "D"),
                      "amount": rng.normal(0, 100, len(cust)), "balance": rng.normal(1000, 300, len(cust))}) \
            .to_parquet(path, index=False)

    code = ("import json, sys, resource\nfrom fthc.data.source import as_source\n"
            "from fthc.engines.duckdb_engine import DuckDBEngine\nas_source(sys.argv[1]).sums(DuckDBEngine(threads=2))\n"
            "print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))")
    peaks = {}
    for name, ordinary, long_rows in (("ordinary", 1000, 0), ("long", 1000, 100_000), ("spread", 2667, 0)):
        path = tmp_path / f"{name}.parquet"
        write(path, ordinary, long_rows)
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
        peaks[name] = json.loads(out.stdout.strip().splitlines()[-1])
    assert peaks["long"] <= peaks["spread"] + 40, peaks  # the same rows, whoever holds them (40 MB: noise)
    assert peaks["long"] - peaks["ordinary"] < 200, peaks  # 100,000 more rows, not 4.4 GB of padding


@pytest.mark.parametrize("name", ENGINES.names())
def test_windows_read_from_month_rows_equal_windows_read_from_transactions(name):
    """`window_sums` (one aggregation into customer-months, read by every window: `fthc track`'s periods) gives
    each window the sums that reading the transactions inside it gives, on every engine, and the pandas
    reference's; its last customer-months are those of the window's month table."""
    from fthc.engines.pandas_engine import PandasEngine
    from fthc.features.measures import RECENT_ROWS, month_before, month_index
    from fthc.features.window import cutoffs

    tx = pd.concat([edge_cases(), stopped_salary().assign(customer_id=lambda d: d["customer_id"] + 10)],
                   ignore_index=True)
    e, ref = make_engine(name), PandasEngine()
    cuts = [pd.Timestamp("2021-04-01"), pd.Timestamp("2022-04-01"), pd.Timestamp("2023-07-01"),
            pd.Timestamp("2024-01-01")]
    for months in (6, None):
        spans = [(month_index(c) - months if months else None, month_before(c)) for c in cuts]
        got = list(e.window_sums(e.frame_source(tx), spans))
        want = list(ref.window_sums(ref.frame_source(tx), spans))
        for cut, (sums, recent), (ref_sums, ref_recent) in zip(cuts, got, want):
            read = e.sums(e.frame_source(tx), as_of=cutoffs(pd.Series(cut, index=tx["customer_id"].unique()), months))
            for other in (ref_sums, read):
                assert sums.index.equals(other.index), (cut, months)
                for col in SUMS:
                    np.testing.assert_allclose(sums[col].to_numpy(float), other[col].to_numpy(float), rtol=1e-6,
                                               atol=1e-9, equal_nan=True, err_msg=f"{col} ({cut}, {months})")
            order = ["customer_id", "month"]
            pd.testing.assert_frame_equal(recent.sort_values(order, ignore_index=True).astype(float),
                                          ref_recent.sort_values(order, ignore_index=True).astype(float), rtol=1e-6)
            assert recent["month"].min() > spans[cuts.index(cut)][1] - RECENT_ROWS
