"""The contrastive behaviour encoder with its hybrid view, the Gaussian-mixture head, behaviour features read off
the events series, and hard synthetic data."""

import numpy as np
import pandas as pd
import pytest

from fthc.config import preset
from fthc.data import SeriesSpec, build_series, load_source, read_ground_truth, write_synthetic_berka
from fthc.data.synth import generate
from fthc.errors import DataError, IncompatibleConfigError
from fthc.estimator import Clusterer
from fthc.models.series_features import series_features


@pytest.fixture(scope="module")
def events(synth_berka):
    return build_series(load_source(synth_berka).transactions, SeriesSpec("events", seq_len=120))


def test_behaviour_preset_fits_predicts_and_round_trips(events, tmp_path):
    config = preset("behaviour", k=3, pretrain_batches=5, batch_size=16, latent_dim=8, arch={"hidden": 8},
                    device="cpu")
    model = Clusterer(config).fit(events)
    z = model.transform(events)
    n_features = len(series_features(events.X[:2], events.mask[:2], events.channels, events.scaling)[1])
    assert z.shape == (len(events), 8 + n_features)  # the embedding and the behaviour features
    assert np.isfinite(z).all() and not model.degenerate_
    proba = model.predict_proba(events)
    assert np.allclose(proba.sum(1), 1) and np.array_equal(proba.argmax(1), model.labels_)
    loaded = Clusterer.load(model.save(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict_proba(events), proba, atol=1e-6)
    again = Clusterer(config).fit(events)
    assert np.array_equal(again.labels_, model.labels_), "same config and seed, same labels"


def test_a_contrastive_encoder_state_rebuilds_it_through_a_weights_only_load(events, tmp_path):
    """The grid stores a pretext stage as `state()` and other workers rebuild it with `from_state`."""
    import torch

    from fthc.config import make_encoder

    config = preset("behaviour", k=3, pretrain_batches=3, batch_size=16, latent_dim=8, arch={"hidden": 8},
                    device="cpu")
    encoder = make_encoder(config).fit(events)
    torch.save(encoder.state(), tmp_path / "state.pt")
    rebuilt = make_encoder(config).from_state(torch.load(tmp_path / "state.pt", weights_only=True))
    np.testing.assert_array_equal(rebuilt.transform(events), encoder.transform(events))


def test_hybrid_view_needs_the_events_representation(synth_berka):
    amounts = build_series(load_source(synth_berka).transactions, SeriesSpec("amounts", seq_len=60))
    with pytest.raises(DataError, match="events"):
        Clusterer(preset("behaviour", k=2, pretrain_batches=1, device="cpu")).fit(amounts)


def test_contrastive_pretext_rejects_encoders_it_cannot_train():
    with pytest.raises(IncompatibleConfigError, match="sub-histories"):
        preset("behaviour", autoencoder="resnet")
    with pytest.raises(IncompatibleConfigError, match="no decoder"):
        preset("behaviour", pretext="mse")
    with pytest.raises(IncompatibleConfigError, match="reconstruction loss"):
        preset("behaviour", clustering="dtc")


def test_series_features_match_a_direct_computation():
    tx = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "amount": [100.0, -40.0, -10.0, 50.0, -80.0],
                       "timestamp": pd.to_datetime(["2020-01-01", "2020-01-11", "2020-03-01", "2020-01-01", "2020-01-02"]),
                       "balance": [100.0, 60.0, 50.0, 50.0, -30.0], "kind": ["pension", "card_payment",
                                                                               "cash_withdrawal", "cash_deposit",
                                                                               "cash_withdrawal"]})
    from fthc.data.transactions import canonical_frame

    tx = canonical_frame(customer_id=tx.customer_id, timestamp=tx.timestamp.to_numpy(), amount=tx.amount.to_numpy(),
                         balance=tx.balance.to_numpy(), kind=tx.kind)
    s = build_series(tx, SeriesSpec("events"))
    F, names = series_features(s.X, s.mask, s.channels, s.scaling)
    f, g = dict(zip(names, F[0])), dict(zip(names, F[1]))
    months = 60 / 30.44  # customer 1: 2020-01-01 .. 2020-03-01
    assert f["rate_card_payment"] == pytest.approx(np.log1p(1 / months), rel=1e-4)
    assert f["rate_pension"] == pytest.approx(np.log1p(1 / months), rel=1e-4) and f["rate_cash_deposit"] == 0
    assert f["log_credit_per_month"] == pytest.approx(np.log1p(100 / months), rel=1e-3)
    assert f["spending_to_income"] == pytest.approx(np.log(51 / 101), rel=1e-3)
    assert f["months_with_income"] == pytest.approx(0.5)  # income in the first of its two months
    assert g["rate_cash_withdrawal"] == pytest.approx(np.log1p(1), rel=1e-4)  # 1 day: counted as one month
    assert f["negative_balance_share"] == 0 and g["negative_balance_share"] == 0.5
    assert f["credit_median"] == pytest.approx(np.log1p(100), rel=1e-4)
    assert f["debit_median"] == pytest.approx((np.log1p(40) + np.log1p(10)) / 2, rel=1e-4)


def test_hard_synthetic_data_has_switchers_whose_truth_is_their_majority_segment():
    std_tables, std_truth = generate(300, seed=1)
    tables, truth = generate(300, seed=1, difficulty="hard")
    assert (truth["switched_to"] != "").mean() > 0.15 and (std_truth["switched_to"] == "").all()
    assert (truth["blend"] > 0).mean() > (std_truth["blend"] > 0).mean()
    with pytest.raises(ValueError, match="unknown difficulty"):
        generate(10, difficulty="extreme")


def test_standard_synthetic_data_is_unchanged_by_the_difficulty_option(tmp_path):
    a = generate(50, seed=4)[0]["trans"]
    b = generate(50, seed=4, difficulty="standard")[0]["trans"]
    pd.testing.assert_frame_equal(a, b)
    write_synthetic_berka(tmp_path, 30, seed=2, difficulty="hard")
    assert {"segment", "switched_to"} <= set(read_ground_truth(tmp_path).columns)
