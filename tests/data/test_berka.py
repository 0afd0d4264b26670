
import numpy as np
import pandas as pd
import pytest

from fthc.data.berka import read_berka, read_table, to_transactions
from fthc.data.synth import generate, read_ground_truth


def test_reads_the_seven_real_tables_unchanged(real_berka):
    data = read_berka(real_berka, require_trans=False)
    expected = {"account": 4500, "client": 5369, "disp": 5369, "card": 892, "district": 77, "loan": 682,
                "order": 6471}
    assert {k: len(v) for k, v in data.tables.items()} == expected
    assert len(data.report) == 0
    district = data["district"].set_index("district_id")
    assert np.isnan(district.loc[69, "unemployment_95"]) and pd.isna(district.loc[69, "crimes_95"])
    assert district.loc[1, "avg_salary"] == 12541
    client = data["client"].set_index("client_id")
    # 706213: month 62 -> woman born 1970-12-13; 450204: man born 1945-02-04
    assert client.loc[1, "gender"] == "F" and client.loc[1, "birth_date"] == pd.Timestamp("1970-12-13")
    assert client.loc[2, "gender"] == "M" and client.loc[2, "birth_date"] == pd.Timestamp("1945-02-04")
    assert data["card"]["issued"].min() >= pd.Timestamp("1993-01-01")
    assert set(data["loan"]["status_en"].unique()) >= {"finished, no problems", "running, client in debt"}
    assert data["account"]["frequency_en"].value_counts()["monthly"] == 4167
    assert str(data["order"]["k_symbol"].dtype) == "category"


def test_real_tables_lack_trans_and_say_so(real_berka):
    from fthc.errors import DataError

    with pytest.raises(DataError, match="missing Berka table 'trans'"):
        read_berka(real_berka)


def test_synthetic_round_trip(synth_berka):
    data = read_berka(synth_berka)
    assert set(data.tables) == {"account", "client", "disp", "order", "trans", "loan", "card", "district"}
    trans = data["trans"]
    # the balance column is consistent with the signed amounts
    sign = np.where(trans["type"] == "PRIJEM", 1, -1)
    trans = trans.assign(signed=trans["amount"] * sign).sort_values(["account_id", "date", "__line__"])
    running = trans.groupby("account_id")["signed"].cumsum()
    assert np.allclose(running, trans["balance"], atol=0.011)
    tx = to_transactions(data)
    assert tx["timestamp"].is_monotonic_increasing or tx.groupby("customer_id")["timestamp"].apply(
        lambda s: s.is_monotonic_increasing).all()
    vyber = data["trans"]["type"] == "VYBER"
    assert vyber.any(), "synthetic data carries Berka's rare third type"
    assert (tx.loc[tx["transaction_id"].isin(data["trans"].loc[vyber, "trans_id"]), "amount"] < 0).all()
    truth = read_ground_truth(synth_berka)
    assert set(truth["account_id"]) == set(data["account"]["account_id"])


def test_accepts_csv_extension_and_lf_line_ends(synth_berka, tmp_path):
    for path in synth_berka.iterdir():
        if path.suffix == ".asc":
            text = path.read_bytes().replace(b"\r\n", b"\n")
            (tmp_path / (path.stem + ".csv")).write_bytes(text)
    a, b = read_berka(synth_berka), read_berka(tmp_path)
    pd.testing.assert_frame_equal(a["trans"], b["trans"])


def test_synthetic_is_seeded_and_realistic():
    t1, g1, _ = generate(300, seed=3)
    t2, g2, _ = generate(300, seed=3)
    pd.testing.assert_frame_equal(t1["trans"], t2["trans"])
    t3, _, _ = generate(300, seed=4)
    assert not t1["trans"]["amount"].equals(t3["trans"]["amount"])
    per = t1["trans"].groupby("account_id").size()
    assert 150 < per.mean() < 330 and per.max() <= 675
    dates = t1["trans"]["date"]
    assert dates.min() >= 930101 and dates.max() <= 981231
    k = set(t1["trans"]["k_symbol"].astype(str))
    assert {"UROK", "SLUZBY", "SIPO", "DUCHOD", "UVER"} <= k
    assert set(g1["segment"]) == {"salaried", "pensioner", "cash_economy", "stressed", "high_activity",
                                  "dormant_saver"}


def test_loan_outcomes_depend_on_segment():
    tables, truth, _ = generate(3000, seed=1)
    loans = tables["loan"].merge(truth, on="account_id")
    bad = loans["status"].isin(["B", "D"]).groupby(loans["segment"]).mean()
    assert bad["stressed"] > 2 * bad["salaried"]


def test_read_single_table_by_name(synth_berka):
    loan = read_table(synth_berka / "loan.asc", "loan")
    assert loan["payments"].dtype == np.float64 and str(loan["status"].dtype) == "category"
