"""The config split by component (encoder section, head section, where it runs), stored as one flat row."""

import json
from dataclasses import FrozenInstanceError, asdict
from pathlib import Path

import pytest

from fthc.config import PRESETS, ClustererConfig, EncoderConfig, HeadConfig, make_encoder, make_head, preset
from fthc.errors import IncompatibleConfigError

HERE = Path(__file__).parent
GOLDEN = json.loads((HERE / "golden_labels.json").read_text())
KEYS_BEFORE = json.loads((HERE / "config_keys_before_split.json").read_text())  # preset -> key, flat config


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_rows_stored_before_the_split_read_back_to_the_same_row(name):
    row = GOLDEN[name]["config"]  # written by the flat config (no precision, feature_weight: older fields)
    config = ClustererConfig.from_dict(row)
    assert {k: v for k, v in config.to_dict().items() if k in row} == row


@pytest.mark.parametrize("name", sorted(KEYS_BEFORE))
def test_every_preset_keeps_the_key_it_had_before_the_split(name):
    """Stored runs are found again by their key. `features` is not among them: it was a GRU trained for 0
    batches and is now the behaviour-feature encoder it always was (it never ran in a stored grid)."""
    assert preset(name).key() == KEYS_BEFORE[name]


def test_the_default_names_no_network_and_takes_no_pretext_options():
    config = preset("features")
    assert (config.encoder.autoencoder, config.encoder.pretext, config.head.k) == ("features", "none", 6)
    from fthc.estimator import Clusterer

    assert repr(Clusterer(config)) == "Clusterer(features+kmeans, k=6, seed=0)"
    assert Clusterer(config).in_words() == "behaviour features, k-means, k=6, seed 0"  # what the page says
    words = Clusterer(preset("dtc")).in_words()
    assert "autoencoder" in words and "pretext loss" in words
    for bad in ({"pretrain_batches": 5}, {"lr": 0.1, "latent_dim": 3}):
        with pytest.raises(IncompatibleConfigError, match="trains no network") as err:
            preset("features", **bad)
        assert all(name in str(err.value) for name in bad)  # each option given is named


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_flat_and_by_section(name):
    config = preset(name, k=5, seed=2)
    assert ClustererConfig.from_dict(config.to_dict()) == config
    by_section = {"encoder": asdict(config.encoder), "head": asdict(config.head), "seed": 2}
    assert ClustererConfig.from_dict(by_section) == config.replace(device="auto", precision="auto")
    assert hash(ClustererConfig.from_dict(config.to_dict())) == hash(config)


def test_sections_are_typed_and_frozen():
    config = ClustererConfig(EncoderConfig(autoencoder="lstm", latent_dim=6), HeadConfig(clustering="kmeans", k=3))
    assert isinstance(config.encoder, EncoderConfig) and isinstance(config.head, HeadConfig)
    assert config.encoder.embedding == "identity"  # derived in the section: the LSTM outputs its own latent
    with pytest.raises(FrozenInstanceError):
        config.head.k = 4
    assert config == ClustererConfig.of(autoencoder="lstm", latent_dim=6, clustering="kmeans", k=3)


def test_replace_routes_each_field_to_its_section_and_rederives_the_embedding():
    base = preset("fthc")
    changed = base.replace(k=7, pretext="vae", autoencoder="fcnn", seed=3)
    assert (changed.head.k, changed.encoder.pretext, changed.encoder.embedding, changed.seed) == (7, "vae", "vae", 3)
    assert changed.head.distance == base.head.distance and changed.encoder.lr == base.encoder.lr
    assert base.head.k == 4  # the original is unchanged
    assert base.replace(head=HeadConfig(clustering="kmeans", k=2)).head == HeadConfig(clustering="kmeans", k=2)


def test_the_encoder_is_built_from_its_section_alone():
    base = preset("fthc", device="cpu")
    same_encoder = base.replace(k=6, distance="cid", dtc_batches=3)
    assert make_encoder(same_encoder).get_params() == make_encoder(base).get_params()
    assert make_encoder(base.replace(latent_dim=3)).get_params() != make_encoder(base).get_params()
    head = make_head(base.replace(dtc_lr=0.5, batch_size=8))
    assert (head.lr, head.batch_size) == (0.5, 8)  # DTC fine-tunes with the encoder's batch size


def test_unknown_and_misplaced_fields_are_errors_naming_them():
    with pytest.raises(IncompatibleConfigError, match="kk"):
        ClustererConfig.from_dict({"kk": 3})
    with pytest.raises(IncompatibleConfigError, match="kk"):
        preset("fthc").replace(kk=3)
    with pytest.raises(IncompatibleConfigError, match=r"autoencoder \(in head\)"):
        ClustererConfig.from_dict({"head": {"autoencoder": "lstm"}})


def test_the_row_fields_are_the_flat_rows_keys_each_in_one_section():
    assert ClustererConfig.row_fields() == tuple(ClustererConfig().to_dict())
    assert not {f for f in asdict(EncoderConfig())} & {f for f in asdict(HeadConfig())}
