"""The contrastive behaviour encoder with its hybrid view (behaviour features beside the embedding), and hard
synthetic data."""

import numpy as np
import pandas as pd
import pytest

from fthc.config import preset
from fthc.data import SeriesSpec, build_series, load_source, read_ground_truth, write_synthetic_berka
from fthc.data.synth import generate
from fthc.errors import DataError, IncompatibleConfigError
from fthc.estimator import Clusterer
from fthc.features import FEATURE_NAMES, measures
from fthc.features.reference import behaviour_sums
from fthc.models.registries import CustomerInputs


@pytest.fixture(scope="module")
def events(synth_berka):
    tx = load_source(synth_berka).transactions
    series = build_series(tx, SeriesSpec("events", seq_len=120))
    return CustomerInputs(series, measures(behaviour_sums(tx)).reindex(series.ids))


def test_behaviour_preset_fits_predicts_and_round_trips(events, tmp_path):
    config = preset("behaviour", k=3, pretrain_batches=5, batch_size=16, latent_dim=8, arch={"hidden": 8},
                    device="cpu")
    model = Clusterer(config).fit(events)
    z = model.transform(events)
    assert z.shape == (len(events), 8 + len(FEATURE_NAMES))  # the embedding and the behaviour features
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
                    device="cpu", feature_weight=0.0)
    encoder = make_encoder(config).fit(events.series)
    torch.save(encoder.state(), tmp_path / "state.pt")
    rebuilt = make_encoder(config).from_state(torch.load(tmp_path / "state.pt", weights_only=True))
    np.testing.assert_array_equal(rebuilt.transform(events), encoder.transform(events))


def test_hybrid_view_needs_the_behaviour_measures_beside_the_series(events):
    with pytest.raises(DataError, match="behaviour measures beside the series"):
        Clusterer(preset("behaviour", k=2, pretrain_batches=1, device="cpu")).fit(events.series)


def test_contrastive_pretext_rejects_encoders_it_cannot_train():
    with pytest.raises(IncompatibleConfigError, match="sub-histories"):
        preset("behaviour", autoencoder="resnet")
    with pytest.raises(IncompatibleConfigError, match="no decoder"):
        preset("behaviour", pretext="mse")
    with pytest.raises(IncompatibleConfigError, match="reconstruction loss"):
        preset("behaviour", clustering="dtc")


def test_hard_synthetic_data_has_switchers_whose_truth_is_their_majority_segment():
    std_tables, std_truth, _ = generate(300, seed=1)
    tables, truth, _ = generate(300, seed=1, difficulty="hard")
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
