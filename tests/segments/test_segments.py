import numpy as np
import pandas as pd
import pytest

from fthc.data.series import SeriesSet, SeriesSpec

from fthc.config import ClustererConfig
from fthc.data.transactions import canonical_frame
from fthc.segments.profile import customer_behaviour, describe, profile_segments
from fthc.segments.risk import default_rates, segment_auc, wilson_interval


def hand_made():
    """Customer 1: salary 1000 on the 1st of Jan-Apr, one card payment of 100 a month, balance always positive.
    Customer 2: two cash deposits, balance negative at the end of one of its two months."""
    rows = []
    bal = 0.0
    for m in range(1, 5):
        bal += 1000
        rows.append((1, f"1995-0{m}-01", 1000.0, bal, "incoming_transfer"))
        bal -= 100
        rows.append((1, f"1995-0{m}-15", -100.0, bal, "card_payment"))
    rows += [(2, "1995-01-03", 50.0, 50.0, "cash_deposit"), (2, "1995-01-20", -80.0, -30.0, "cash_withdrawal"),
             (2, "1995-02-03", 70.0, 40.0, "cash_deposit")]
    c, ts, a, b, k = zip(*rows)
    return canonical_frame(customer_id=c, timestamp=pd.to_datetime(ts), amount=a, balance=b, kind=k)


def test_profile_arithmetic_on_a_hand_made_table():
    beh = customer_behaviour(hand_made())
    one, two = beh.loc[1], beh.loc[2]
    assert one["monthly_income"] == 1000 and one["monthly_spending"] == 100
    assert one["transactions_per_month"] == 2 and one["negative_month_share"] == 0
    assert one["card_share"] == 0.5 and one["transfer_share"] == 0.5 and one["cash_share"] == 0
    assert bool(one["salary_like"]) and not bool(one["pension_like"])
    assert one["balance_level"] == np.median([900, 1800, 2700, 3600])
    assert two["monthly_income"] == np.median([50, 70]) and two["negative_month_share"] == 0.5
    assert two["cash_share"] == 1 and not bool(two["salary_like"])
    prof = profile_segments(beh, pd.Series({1: 0, 2: 1}))
    assert prof.loc[0, "customers"] == 1 and prof.loc[1, "negative_month_share"] == 0.5
    text = describe(prof)
    assert "regular monthly credit" in text[0] and "rarely negative" in text[0]
    assert "high cash use (100%" in text[1] and "negative at 50% of month ends" in text[1]


def test_risk_separation_on_a_constructed_case():
    # segment 0: 2 defaults in 20 loans; segment 1: 15 in 20; customers without a loan are ignored
    seg = pd.Series([0] * 20 + [1] * 20 + [2] * 5)
    default = pd.Series([1] * 2 + [0] * 18 + [1] * 15 + [0] * 5 + [np.nan] * 5)
    rates = default_rates(seg, default)
    assert list(rates.index) == [0, 1] and rates.loc[0, "default_rate"] == 0.1 and rates.loc[1, "loans"] == 20
    lo, hi = wilson_interval(15, 20)
    assert lo == pytest.approx(0.531, abs=1e-3) and hi == pytest.approx(0.888, abs=1e-3)
    assert rates.loc[1, "ci_low"] == pytest.approx(lo)
    # segments that separate outcomes perfectly: every fold learns rates 0 and 1, AUC exactly 1
    perfect = pd.Series([0.0] * 20 + [1.0] * 20 + [np.nan] * 5)
    assert segment_auc(seg, perfect, folds=5) == 1.0
    # the mixed case: in-sample, the two-group AUC is (pairs ranked right + ties / 2) / pairs = 0.8325; rates
    # learnt on the other folds can only lose some of that, never reach it by chance
    in_sample = (15 * 18 + 0.5 * (15 * 5 + 2 * 18)) / (17 * 23)
    auc = segment_auc(seg, default, folds=5)
    assert 0.6 < auc <= in_sample
    assert np.isnan(segment_auc(seg, pd.Series([0.0] * 45)))


def test_segment_assign_round_trip_and_k_auto(synth_berka, tmp_path):
    from fthc.segments.segment import assign, segment

    cfg = ClustererConfig.of(autoencoder="fcnn", clustering="kmeans", pretrain_batches=5, arch={"hidden": [8, 8, 16]},
                             device="cpu")
    r = segment(synth_berka, tmp_path / "seg", cfg, k=3, representation="calendar")
    out = tmp_path / "seg"
    for name in ("assignments.csv", "profile.csv", "segments.md", "segments.png", "profile.png", "risk.csv"):
        assert (out / name).exists(), name
    assert r["profile"]["customers"].sum() == 80 and r["auc"] is not None
    saved = pd.read_csv(out / "assignments.csv")
    again = assign(out / "model", synth_berka, tmp_path / "new.csv")
    assert np.array_equal(again["segment"].to_numpy(), saved["segment"].to_numpy())
    assert np.allclose(again["confidence"], saved["confidence"])


def test_k_auto_finds_an_obvious_k():
    from fthc.data.series import SeriesSet, SeriesSpec
    from fthc.segments.segment import choose_k

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 8, size=(3, 12))
    X = np.concatenate([c + rng.normal(0, 0.3, size=(30, 12)) for c in centres])[:, None, :].astype(np.float32)
    series = SeriesSet(X, np.ones((90, 12), bool), np.arange(90), ["x"], SeriesSpec())
    cfg = ClustererConfig.of(autoencoder="fcnn", clustering="kmeans", pretrain_batches=0, latent_dim=4,
                             arch={"hidden": [16, 16, 16]}, device="cpu")
    best, table, why, _ = choose_k(series, cfg, ks=range(2, 6))
    assert best == 3, table
    assert "k=3" in why and set(table.index) == {2, 3, 4, 5}
    assert table.loc[3, "prediction_strength"] >= 0.8 > table.loc[[4, 5], "prediction_strength"].max()


def test_k_auto_with_dtc_trains_one_encoder_and_judges_the_starting_partition(monkeypatch):
    from fthc.clustering.heads import DTCHead
    from fthc.data.series import SeriesSet, SeriesSpec
    from fthc.segments.segment import choose_k

    rng = np.random.default_rng(1)
    centres = rng.normal(0, 8, size=(3, 12))
    X = np.concatenate([c + rng.normal(0, 0.3, size=(30, 12)) for c in centres])[:, None, :].astype(np.float32)
    series = SeriesSet(X, np.ones((90, 12), bool), np.arange(90), ["x"], SeriesSpec())
    cfg = ClustererConfig.of(autoencoder="fcnn", clustering="dtc", pretrain_batches=5, latent_dim=4,
                             arch={"hidden": [16, 16, 16]}, device="cpu", seed=3)
    trained = []
    fit = DTCHead._train
    monkeypatch.setattr(DTCHead, "_train", lambda self, *a: trained.append(self.batches) or fit(self, *a))
    best, table, why, encoders = choose_k(series, cfg, ks=range(2, 5))
    assert best == 3, table
    assert list(encoders) == [3]  # one encoder, the config's seed: the final fit reuses it
    assert trained and set(trained) == {0}  # every fit stops at the partition the fine-tuning starts from
    assert "before fine-tuning" in why and "7 fits" in why  # the full fit and 6 resamples


@pytest.mark.parametrize("planted", [4, 5, 6])
def test_choose_k_finds_the_planted_number_of_segments(planted):
    from fthc.segments.segment import choose_k

    rng = np.random.default_rng(planted)
    centres = rng.normal(0, 6, size=(planted, 10))
    X = np.concatenate([c + rng.normal(0, 1.0, size=(40, 10)) for c in centres])[:, None, :].astype(np.float32)
    series = SeriesSet(X, np.ones(X.shape[::2], bool), np.arange(len(X)), ["x"], SeriesSpec())
    cfg = ClustererConfig.of(autoencoder="fcnn", clustering="kmeans", pretrain_batches=0, latent_dim=6,
                             arch={"hidden": [16, 16, 16]}, device="cpu")
    assert choose_k(series, cfg, ks=range(2, 9))[0] == planted


def test_choose_k_caps_k_at_the_customers_and_refuses_identical_ones():
    from fthc.errors import DataError
    from fthc.segments.segment import choose_k

    cfg = ClustererConfig.of(autoencoder="fcnn", clustering="kmeans", pretrain_batches=0, latent_dim=3,
                             arch={"hidden": [8, 8, 8]}, device="cpu")
    X = np.random.default_rng(0).normal(size=(5, 1, 6)).astype(np.float32)
    _, table, _, _ = choose_k(SeriesSet(X, np.ones((5, 6), bool), np.arange(5), ["x"], SeriesSpec()), cfg)
    assert list(table.index) == [2, 3, 4]  # k < 5 customers
    same = np.ones((20, 1, 6), np.float32)
    with pytest.raises(DataError, match="same behaviour"):
        choose_k(SeriesSet(same, np.ones((20, 6), bool), np.arange(20), ["x"], SeriesSpec()), cfg)


def test_report_renders_from_a_fixture_store(tmp_path):
    from fthc.experiments.grid import GridEntry
    from fthc.experiments.store import open_store
    from fthc.reports.grid_report import write_report

    rng = np.random.default_rng(0)
    with open_store(str(tmp_path / "s.db")) as store:
        entries = [GridEntry(ClustererConfig.of(autoencoder=a, clustering=c, k=k))
                   for a in ("fcnn", "resnet") for c in ("kmeans", "dtc") for k in (2, 4)]
        store.init_grid(entries, runs=2, grid={"runs": 2})
        for i in range(12):  # 12 of 16 runs finished: a partial grid
            run = store.claim("w", 60)
            m = {p: {"input_silhouette": float(rng.uniform(0, .5)), "input_davies_bouldin": float(rng.uniform(1, 2)),
                     "latent_silhouette": float(rng.uniform(0, .5)), "ari": float(rng.uniform(0, .3))}
                 for p in ("train", "test")}
            store.finish(run.id, "w", "invalid" if i % 5 == 0 else "done", metrics=m, train_seconds=1.0 + i)
        r = write_report(store, tmp_path / "report")
    assert "75% of 16 runs finished" in r["summary"]
    assert len(r["figures"]) >= 6 and all(p.stat().st_size > 5000 for p in r["figures"])
    page = (tmp_path / "report" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(r["figures"])
    assert "http://" not in page and "https://" not in page  # self-contained
    assert (tmp_path / "report" / "report.md").read_text().startswith("# fthc experiment report")


def test_prediction_strength_catches_a_split_segment():
    from fthc.segments.segment import prediction_strength

    a = np.repeat([0, 1, 2], 20)
    b = a.copy()
    b[:10] = 3  # segment 0 of a split in two by b
    assert prediction_strength(a, a) == 1.0
    assert prediction_strength(a, b) == pytest.approx(2 * 10 * 9 / (20 * 19))  # pairs of segment 0 kept together
    assert prediction_strength(b, a) == 1.0  # every segment of b lies inside one of a


def test_default_segment_flags_short_histories_and_says_which_were_cut(tmp_path, monkeypatch):
    """A table with a one-transaction customer and a very long history: nobody is dropped, both are stated."""
    from fthc.config import preset
    from fthc.segments import segment as seg_module

    rng = np.random.default_rng(0)
    rows = []
    for c in range(40):
        n = 1 if c == 0 else (300 if c == 1 else int(rng.integers(20, 60)))
        days = np.sort(rng.integers(0, 700, n))
        rows += [{"customer": c, "day": pd.Timestamp("2020-01-01") + pd.Timedelta(days=int(d)),
                  "value": float(rng.normal(0, 100)), "kind": ["cash", "card"][c % 2]} for d in days]
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    from fthc.data.transactions import ColumnMapping

    mapping = ColumnMapping(customer_id="customer", timestamp="day", amount="value", category="kind",
                            category_kinds={"cash": "cash_withdrawal", "card": "card_payment"})
    monkeypatch.setattr(seg_module, "MAX_STEPS", 100)
    cfg = preset("behaviour", pretrain_batches=3, batch_size=16, latent_dim=4, arch={"hidden": 8}, device="cpu")
    r = seg_module.segment(tmp_path / "t.csv", tmp_path / "out", cfg, k=3, representation="events", mapping=mapping)
    assignments = pd.read_csv(tmp_path / "out" / "assignments.csv")
    assert len(assignments) == 40 and assignments.loc[assignments.customer_id == 0, "short_history"].all()
    assert any("fewer than 3 transactions" in n for n in r["notes"])
    assert any("longer than 100 steps" in n for n in r["notes"])
    assert "Note: 1 customers have histories longer" in (tmp_path / "out" / "segments.md").read_text()
    again = seg_module.assign(tmp_path / "out" / "model", tmp_path / "t.csv", mapping=mapping)
    assert np.array_equal(again["segment"].to_numpy(), assignments["segment"].to_numpy())


def test_segment_plots_show_the_channels_that_separate_segments():
    from types import SimpleNamespace

    from fthc.reports.segment_plots import separating_channels

    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 20)
    X = rng.normal(size=(60, 3, 15)).astype(np.float32)
    X[:, 2] += labels[:, None] * 3  # only channel 2 tells the segments apart
    series = SimpleNamespace(X=X, mask=np.ones((60, 15), dtype=bool))
    assert separating_channels(series, labels) == [2]
    X[:, 0] -= labels[:, None] * 2  # now channel 0 does too, a little less
    assert separating_channels(series, labels) == [2, 0]
