import numpy as np
import pandas as pd
import pytest

from fthc.errors import DataError
from fthc.data.source import load_transactions
from fthc.data.transactions import ColumnMapping, read_transactions


def make_table(n_customers=5, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        for _ in range(rng.integers(1, 12)):
            rows.append({"cust": f"C{c:03d}", "when": pd.Timestamp("2021-01-01") + pd.Timedelta(days=int(rng.integers(0, 400))),
                         "value": round(float(rng.normal(0, 100)), 2), "cat": rng.choice(["salary", "atm", "shop"])})
    return pd.DataFrame(rows)


def test_signed_csv_with_mapping_flags(tmp_path):
    df = make_table()
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False, sep=";")
    m = ColumnMapping(customer_id="cust", timestamp="when", amount="value", category="cat",
                      category_kinds={"salary": "incoming_transfer", "atm": "cash_withdrawal"})
    tx = read_transactions(path, m)
    assert len(tx) == len(df)
    assert pd.api.types.is_string_dtype(tx["customer_id"]) and tx["timestamp"].dtype == "datetime64[ns]"
    assert tx.groupby("customer_id")["timestamp"].apply(lambda s: s.is_monotonic_increasing).all()
    assert np.isclose(tx["amount"].sum(), df["value"].sum())
    kinds = dict(zip(tx["category"], tx["kind"].astype(str)))
    assert kinds["salary"] == "incoming_transfer" and kinds["shop"] == "other"
    assert tx["balance"].isna().all()


def test_unsigned_amount_with_direction_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,timestamp,amount,dc\n7,2020-01-03,10,D\n7,2020-01-01,25,C\n8,2020-01-02,3,C\n")
    tx = read_transactions(path, ColumnMapping(direction="dc"))
    assert tx["customer_id"].tolist() == [7, 7, 8]
    assert tx["amount"].tolist() == [25.0, -10.0, 3.0]  # date-sorted within customer, debit negative


def test_parquet_and_toml_mapping(tmp_path):
    df = make_table()
    df["bal"] = np.arange(len(df), dtype=float)
    df.to_parquet(tmp_path / "t.parquet")
    (tmp_path / "m.toml").write_text(
        '[columns]\ncustomer_id = "cust"\ntimestamp = "when"\namount = "value"\nbalance = "bal"\n'
        'category = "cat"\n[categories]\natm = "cash_withdrawal"\n')
    m = ColumnMapping.from_toml(tmp_path / "m.toml")
    tx, report = load_transactions(tmp_path / "t.parquet", m)
    assert len(tx) == len(df) and len(report) == 0
    assert (tx.loc[tx["category"] == "atm", "kind"] == "cash_withdrawal").all()
    assert not tx["balance"].isna().any()


def test_toml_mapping_errors(tmp_path):
    (tmp_path / "m.toml").write_text('[columns]\ncustomer = "x"\n')
    with pytest.raises(DataError, match=r"unknown keys in \[columns\]: \['customer'\]"):
        ColumnMapping.from_toml(tmp_path / "m.toml")
    with pytest.raises(DataError, match="unknown transaction kinds"):
        ColumnMapping(category_kinds={"atm": "cash"})


def test_lenient_generic_read(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,timestamp,amount\n1,2020-01-01,5\n1,2020-01-02,abc\n2,,3\n2,2020-01-02,3\n")
    tx, report = load_transactions(path, lenient=True)
    assert len(tx) == 2 and sorted(p.row for p in report.problems) == [3, 4]


def test_categories_named_like_kinds_map_to_themselves(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,timestamp,amount,cat\n1,2020-01-01,-5,cash_withdrawal\n1,2020-01-02,9,salary\n")
    tx = read_transactions(path, ColumnMapping(category="cat"))
    assert tx["kind"].astype(str).tolist() == ["cash_withdrawal", "other"]


@pytest.mark.parametrize("ids, expected", [
    (["001", "1", "01"], ["001", "01", "1"]),  # leading zeros: three customers, their text kept
    (["12345678901234567890", "12345678901234567891"], ["12345678901234567890", "12345678901234567891"]),
    ([str(10**24 + i) for i in range(3)], [str(10**24 + i) for i in range(3)]),  # 25 digits, all distinct
    (["7", "-3", "12"], [-3, 7, 12]),  # every value round-trips: integers
    (["A1", "7"], ["7", "A1"]),
])
def test_csv_customer_ids_keep_their_text(tmp_path, ids, expected):
    path = tmp_path / "t.csv"
    path.write_text("customer_id,timestamp,amount\n" + "".join(f"{c},2020-01-0{i + 1},5\n" for i, c in enumerate(ids)))
    tx = read_transactions(path)
    assert sorted(tx["customer_id"].unique().tolist(), key=str) == sorted(expected, key=str)
    assert tx["customer_id"].nunique() == len(set(ids))


def test_parquet_ids_keep_their_column_type(tmp_path):
    frame = pd.DataFrame({"customer_id": ["1", "2"], "timestamp": pd.to_datetime(["2020-01-01", "2020-01-02"]),
                          "amount": [1.0, 2.0]})
    frame.to_parquet(tmp_path / "text.parquet")
    assert read_transactions(tmp_path / "text.parquet")["customer_id"].tolist() == ["1", "2"]  # text stays text
    frame.assign(customer_id=[10**17, 2]).to_parquet(tmp_path / "int.parquet")
    assert read_transactions(tmp_path / "int.parquet")["customer_id"].tolist() == [2, 10**17]


@pytest.mark.parametrize("encoding, words", [
    ("latin-1", ["Überweisung Müller", "Zinsgutschrift", "Gebühr", "Bargeldauszahlung Straße"]),
    ("cp1250", ["Příjem mzdy", "Výběr hotovosti", "Úrok", "Převod na účet"]),
])
def test_an_export_that_is_not_utf8_is_read_and_said(tmp_path, encoding, words):
    """A German or Czech bank's export in its code page: read (its amounts, ids and categories exactly where the
    code page is given), and the reading says which encoding it took, never a parse error about fields."""
    from click.testing import CliRunner

    from fthc.cli import main
    from fthc.data.errors import ReadReport
    from fthc.data.transactions import read_mapped

    rows = [(c, f"2024-0{m}-1{c}", f"{(-1) ** m * (100 + c)},5{m}", words[(c + m) % len(words)])
            for c in range(1, 6) for m in range(1, 7)]
    text = "client;booked;value;category\n" + "".join(";".join(map(str, r)) + "\n" for r in rows)
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    mapping = ColumnMapping(customer_id="client", timestamp="booked", amount="value", category="category",
                            decimal=",")
    report = ReadReport()
    tx, _ = read_mapped(path, mapping, report=report)
    assert len(tx) == 30 and tx["amount"].abs().min() == pytest.approx(101.51)
    assert any("is not UTF-8: read as" in w for w in report.warnings)
    told = ColumnMapping(**{**mapping.to_dict(), "encoding": encoding, "category_kinds": {}})
    raw = read_mapped(path, told, report=ReadReport())[0]
    assert len(raw) == 30
    from fthc.data.tables import read_text_table

    assert set(read_text_table(path, ";", encoding=encoding)["category"]) == set(words)
    r = CliRunner().invoke(main, ["data", "inspect", "--data", str(path), "--customer-col", "client",
                                  "--timestamp-col", "booked", "--amount-col", "value", "--decimal", ",",
                                  "--encoding", "no-such-codec"])
    assert r.exit_code == 2 and "unknown encoding 'no-such-codec'" in r.output and "Traceback" not in r.output
