"""`fthc.Segmenter`: three lines from a DataFrame, the same segments as the command line, profiles that say what
they mean, confidence as a share of refits, and a model that assigns new customers as at fitting."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import fthc
from fthc.cli import main
from fthc.data.transactions import canonical_frame
from fthc.segments.profile import profile_segments
from fthc.segments.describe import describe, name_segments


def user_table(n_customers=60, seed=0) -> pd.DataFrame:
    """A bank's own table: its own column names, three habits (salaried, cash, card users), a balance."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_customers):
        habit = c % 3
        balance = float(rng.uniform(500, 5000))
        for m in range(12):
            month = pd.Timestamp("2022-01-01") + pd.DateOffset(months=m)
            if habit == 0:
                events = [(1, 2500.0 * rng.uniform(0.98, 1.02), "SALARY")] + \
                    [(int(rng.integers(2, 28)), -float(rng.uniform(20, 90)), "CARD") for _ in range(6)]
            elif habit == 1:
                events = [(int(rng.integers(1, 28)), float(rng.uniform(100, 900)), "CASH_IN") for _ in range(3)] + \
                    [(int(rng.integers(1, 28)), -float(rng.uniform(100, 600)), "ATM") for _ in range(3)]
            else:
                events = [(5, 900.0, "SALARY")] + [(int(rng.integers(2, 28)), -float(rng.uniform(5, 40)), "CARD")
                                                   for _ in range(15)]
            for day, amount, cat in sorted(events):
                balance += amount
                rows.append({"client": f"C{c:04d}", "booked": month + pd.Timedelta(days=day - 1),
                             "value": round(amount, 2), "bal": round(balance, 2), "mcc": cat})
    return pd.DataFrame(rows)


COLUMNS = {"customer_id": "client", "timestamp": "booked", "amount": "value", "balance": "bal", "category": "mcc",
           "category_kinds": {"SALARY": "incoming_transfer", "CARD": "card_payment", "CASH_IN": "cash_deposit",
                              "ATM": "cash_withdrawal"}}


def test_three_lines_on_a_dataframe_give_the_segments_of_the_command_line(tmp_path):
    df = user_table()
    seg = fthc.Segmenter(k=3, columns=COLUMNS).fit(df)
    assert isinstance(seg.labels_, pd.Series) and seg.labels_.index.name == "customer_id"
    assert seg.labels_.index[0] == "C0000" and seg.labels_.nunique() == 3
    assert {"customers", "median_income", "median_balance"} <= set(seg.profile_.columns)
    assert "all" in seg.profile_.index and len(seg.names_) == len(seg.descriptions_) == 3
    df.to_csv(tmp_path / "t.csv", index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\ncustomer_id = "client"\ntimestamp = "booked"\namount = "value"\nbalance = "bal"\n'
                       'category = "mcc"\n[categories]\nSALARY = "incoming_transfer"\nCARD = "card_payment"\n'
                       'CASH_IN = "cash_deposit"\nATM = "cash_withdrawal"\n')
    result = CliRunner().invoke(main, ["segment", "--data", str(tmp_path / "t.csv"), "--mapping", str(mapping),
                                       "--k", "3", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    cli = pd.read_csv(tmp_path / "out" / "assignments.csv", dtype={"customer_id": str}).set_index("customer_id")
    pd.testing.assert_series_equal(cli["segment"], seg.labels_, check_names=False)
    np.testing.assert_allclose(cli["confidence"], seg.confidence_.to_numpy())
    # the habits are what the segments are made of
    truth = pd.Series([int(c[1:]) % 3 for c in seg.labels_.index], index=seg.labels_.index)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(truth, seg.labels_) == 1.0


def test_default_columns_need_no_mapping_and_are_found_by_name():
    df = user_table(n_customers=30).rename(columns={"client": "customer_id", "booked": "timestamp", "value": "amount",
                                                     "bal": "balance", "mcc": "category"})
    seg = fthc.Segmenter(k=3).fit(df)
    mapping = seg.segment_model_.column_mapping
    assert mapping["balance"] == "balance" and mapping["category"] == "category"
    assert seg.measures_["balance_level"].notna().all()


def test_a_berka_folder_path_brings_its_loans_and_the_model_assigns_as_at_fitting(synth_berka, tmp_path):
    seg = fthc.Segmenter(k=4).fit(synth_berka)
    assert {"loans", "loan_default_rate", "median_age"} <= set(seg.profile_.columns)
    assert seg.currency_ == "CZK" and "CZK" in seg.descriptions_[0]
    folder = seg.save(tmp_path / "model")
    assert not (folder / "weights.pt").exists()  # the default trains no network
    loaded = fthc.Segmenter.load(folder)
    again = loaded.assign(synth_berka)
    pd.testing.assert_series_equal(again["segment"], seg.labels_, check_names=False)
    np.testing.assert_allclose(again["confidence"].to_numpy(), seg.confidence_.to_numpy())
    assert loaded.predict_proba(synth_berka).shape == (80, 4)
    np.testing.assert_allclose(loaded.predict_proba(synth_berka).sum(axis=1), 1.0)


def test_repr_manifest_and_markdown_name_no_network(synth_berka, tmp_path):
    result = CliRunner().invoke(main, ["segment", "--data", str(synth_berka), "--k", "3", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    for name in ("segments.md", "model/manifest.json", "segments.html"):
        text = (tmp_path / "o" / name).read_text().lower()
        assert "gru" not in text and "contrastive" not in text, name
    assert "behaviour features, k-means, k=3" in (tmp_path / "o" / "segments.md").read_text()


def test_confidence_is_the_share_of_refits_that_agree():
    """On two overlapping blobs: customers deep inside a blob are always assigned alike (1.0), customers between
    them less often; and the confidence predicts how often an independent set of refits agrees."""
    from fthc.clustering.heads import KMeansHead
    from fthc.segments.stability import Stability

    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(-1.2, 1, size=(300, 2)), rng.normal(1.2, 1, size=(300, 2))])
    head = KMeansHead(k=2, seed=0).fit(z)
    conf = Stability.fit(head, z, refits=40, seed=0).proba(z)[np.arange(600), head.labels_]
    far = np.abs(z[:, 0]) > 2.5
    assert conf[far].min() == 1.0 and conf[~far].min() < 0.9
    other = Stability.fit(head, z, refits=40, seed=99).proba(z)[np.arange(600), head.labels_]
    assert np.abs(other - conf).mean() < 0.05  # a frequency, not an artefact of one set of refits


def test_the_median_customer_is_the_median():
    """90 customers at 1,000 a month and 10 at 10,000: the median customer's income is 1,000, whatever the
    segments; the description compares with it."""
    rows = []
    for c in range(100):
        income = 10_000.0 if c < 10 else 1_000.0
        for m in range(1, 7):
            rows.append((c, f"2021-0{m}-01", income, "incoming_transfer"))
    c, ts, a, k = zip(*rows)
    tx = canonical_frame(customer_id=c, timestamp=pd.to_datetime(ts), amount=a, kind=k)
    from fthc.features import measures
    from fthc.features.reference import behaviour_sums

    m = measures(behaviour_sums(tx))
    labels = pd.Series([0 if i < 10 else 1 for i in m.index], index=m.index)
    prof = profile_segments(m, labels, with_population=True)
    assert prof.loc["all", "median_income"] == 1000.0
    text = describe(prof, m)
    assert "10.0x the median customer's 1,000/month" in text[0].replace(" /month", "/month") or \
        "(10.0x the median customer's 1,000)" in text[0]
    assert "100% of customers have a regular salary-like credit" in text[1]


def test_names_give_every_segment_a_trait_of_its_own(synth_berka):
    seg = fthc.Segmenter(k=5).fit(synth_berka)
    names = {s: set(n.split(" (")[0].split(", ")) for s, n in seg.names_.items()}
    for s, traits in names.items():
        others = set().union(*(t for o, t in names.items() if o != s))
        assert traits - others, (s, seg.names_)


def test_deep_methods_note_short_and_cut_histories(tmp_path, monkeypatch):
    from fthc.segments import inputs as module

    rng = np.random.default_rng(0)
    rows = []
    for c in range(40):
        n = 1 if c == 0 else (300 if c == 1 else int(rng.integers(20, 60)))
        for d in np.sort(rng.integers(0, 700, n)):
            rows.append({"customer_id": c, "timestamp": pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(d)),
                         "amount": float(rng.normal(0, 100))})
    monkeypatch.setattr(module, "MAX_STEPS", 100)
    config = fthc.preset("fcnn", pretrain_batches=3, batch_size=16, latent_dim=4, arch={"hidden": [8, 8, 8]},
                         device="cpu")
    seg = fthc.Segmenter(k=3, method=config, representation="events").fit(pd.DataFrame(rows))
    assert seg.assignments_.loc[0, "short_history"] and len(seg.labels_) == 40
    assert any("fewer than 3 transactions" in n for n in seg.notes_)
    assert any("longer than 100 steps" in n for n in seg.notes_)
    assert any("no balances" in n for n in seg.notes_)


@pytest.mark.parametrize("k", ["three", 0, 2.5, True])
def test_a_bad_k_is_refused_before_any_work(k):
    with pytest.raises(fthc.DataError, match="k must be"):
        fthc.Segmenter(k=k).fit(user_table(6))


def test_reasons_are_worded_when_a_measure_is_missing_for_every_customer_of_a_group():
    """A customer with one transaction has no monthly variation: its reasons say '-', as explain does."""
    from fthc.segments.reasons import _fmt, _format_many

    for unit in ("share", "money per month", "money", "per month", "ratio"):
        values = np.array([np.nan, 0.25, 1234.5])
        assert _format_many(values, unit, "CZK") == [_fmt(v, unit, "CZK") for v in values]
        assert _format_many(np.array([np.nan, np.nan]), unit, None) == ["-", "-"]


def test_many_segments_are_told_apart_by_a_trait_not_by_their_size(tmp_path):
    """20 segments of 400 customers: every name differs, and by what the customers do (a trait on which a
    segment differs most from the others of its name), not by a count of customers."""
    import warnings

    from fthc.data import write_synthetic_berka

    write_synthetic_berka(tmp_path, n_accounts=400, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = list(fthc.Segmenter(k=20).fit(tmp_path).names_.values())
    assert len(set(names)) == 20, names
    assert not any("customers)" in n for n in names), names


def test_the_python_api_a_scikit_learn_user_expects(tmp_path):
    """fit(X, y) learns from y as outcomes; fit_predict gives the labels; a loaded model says which fitted
    attributes it does not keep and where the fit wrote them; its repr is short."""
    from tests.segments.test_point_in_time import bank

    tx, outcomes = bank(120)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = fthc.Segmenter(k=3, refits=2).fit(tx, outcomes)
    assert seg.outcome_model_ is not None and seg.risk_ is not None
    assert fthc.Segmenter(k=3, refits=2).fit(tx, y=outcomes).outcome_model_ is not None
    labels = fthc.Segmenter(k=3, refits=2).fit_predict(tx)
    assert labels.equals(fthc.Segmenter(k=3, refits=2).fit(tx).labels_)
    seg.save(tmp_path / "m")
    loaded = fthc.Segmenter.load(tmp_path / "m")
    assert repr(loaded) == "Segmenter(k=3, method='features', engine='duckdb', seed=0)"
    for name, where in (("profile_", "profile.csv"), ("risk_", "assignments.csv"), ("k_choice_", "k_choice.csv")):
        with pytest.raises(AttributeError, match=f"loaded model keeps what scoring needs.*{where}"):
            getattr(loaded, name)
    assert not hasattr(loaded, "no_such_thing_")
    assert loaded.assign(tx)["segment"].equals(seg.assign(tx)["segment"])


def test_a_segment_of_short_histories_is_named_for_them_not_for_behaviour():
    """Eight customers who joined in the last four months with 2-5 transactions each (issue 39: such customers
    formed 'falling balance, spends more than comes in, irregular income' on an income and spending of 0). Each
    is flagged short_history by the risk's rule (fewer than --min-history months), even with 3 or more
    transactions, and a segment made mostly of them is named 'short histories' and says so."""
    import warnings

    rng = np.random.default_rng(1)
    rows = []
    for c in range(8):
        start = pd.Timestamp("2022-12-31") - pd.Timedelta(days=int(rng.integers(30, 110)))
        balance = float(rng.uniform(0, 300))
        for day in np.sort(rng.integers(0, (pd.Timestamp("2022-12-31") - start).days, int(rng.integers(2, 6)))):
            amount = float(rng.choice([-1, 1]) * rng.uniform(20, 200))
            balance += amount
            rows.append({"client": f"T{c}", "booked": start + pd.Timedelta(days=int(day)), "value": round(amount, 2),
                         "bal": round(balance, 2), "mcc": "ATM" if amount < 0 else "CASH_IN"})
    data = pd.concat([user_table(60), pd.DataFrame(rows)], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the small segments' warning
        seg = fthc.Segmenter(k=4, columns=COLUMNS).fit(data)
    a = seg.assignments_
    thin = a.index.str.startswith("T")
    assert a.loc[thin, "short_history"].all() and (a.loc[thin, "transactions"] >= 3).any()
    assert not a.loc[~thin, "short_history"].any()
    mostly = pd.Series(thin, index=a.index).groupby(a["segment"]).mean() > 0.5
    theirs = set(mostly.index[mostly])
    assert a.loc[thin, "segment"].isin(theirs).mean() >= 0.75, a.loc[thin]  # most of them are segmented together
    for s, name in seg.names_.items():
        assert name.startswith("short histories") == (s in theirs), seg.names_
    assert all(seg.descriptions_[s].startswith("mostly short histories: 100% of its customers") for s in theirs)
    assert any(n.startswith("8 customers have fewer than 3 transactions or 6 months of history") for n in seg.notes_)
