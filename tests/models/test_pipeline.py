"""The encoder + head redesign: same labels as before it, scikit-learn conventions, one encoder for many heads,
saved artefacts of the previous format."""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SklearnNotFitted
from sklearn.utils.validation import check_is_fitted

from fthc.clustering import HEADS
from fthc.clustering.heads import KMeansHead
from fthc.config import PRESETS, ClustererConfig, make_encoder, make_head, preset
from fthc.data import SeriesSpec, build_series, read_berka, to_transactions, write_synthetic_berka
from fthc.estimator import Clusterer, FrozenEstimator, Pipeline
from fthc.errors import IncompatibleConfigError, NotFittedError
from fthc.models.encoders import AutoencoderEncoder

HERE = Path(__file__).parent
GOLDEN = json.loads((HERE / "golden_labels.json").read_text())


@pytest.fixture(scope="module")
def golden_series(tmp_path_factory):
    folder = tmp_path_factory.mktemp("golden")
    write_synthetic_berka(folder, n_accounts=60, seed=3, traits=False)  # the data the labels were recorded on
    return build_series(to_transactions(read_berka(folder)), SeriesSpec("events", seq_len=64))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_every_preset_gives_the_labels_recorded_before_the_redesign(name, golden_series):
    """fp32 labels are unchanged by the redesign; lstm and pooled were re-recorded once when their training
    batches became length-bucketed (issue 12), which changes which customers train together.

    With a margin: float32 kernels sum in another order on other CPUs (an Intel CPU with AMX moved one of the 60
    customers of fthc and pooled across a boundary), while a change of the model moves many. At most 2 of 60
    labels may differ (about 3%), the probabilities of the first three customers within 1e-3."""
    config = ClustererConfig.from_dict(GOLDEN[name]["config"]).replace(precision="fp32")
    model = Clusterer(config).fit(golden_series)
    differ = int((model.labels_ != np.asarray(GOLDEN[name]["labels"])).sum())
    assert differ <= 2, f"{differ} of {len(model.labels_)} labels differ from the recorded ones"
    np.testing.assert_allclose(model.predict_proba(golden_series)[:3], GOLDEN[name]["proba0"], atol=1e-3)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_clone_and_params_round_trip_on_every_preset(name):
    model = Clusterer(preset(name))
    twin = clone(model)
    assert twin is not model and twin.get_params() == model.get_params()
    twin.set_params(**model.get_params())
    assert twin.config == model.config
    encoder, head = make_encoder(model.config), make_head(model.config)
    for est in (encoder, head, Pipeline(encoder, head)):
        assert clone(est).get_params(deep=False).keys() == est.get_params(deep=False).keys()


def _series(n=30, length=20, seed=0):
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 3
    X = (rng.normal(size=(n, 2, length)) + group[:, None, None] * 2).astype(np.float32)
    return X


def test_refit_resets_fitted_state_and_not_fitted_errors():
    model = Clusterer(ClustererConfig.of(autoencoder="fcnn", clustering="dtc", k=3, latent_dim=4, pretrain_batches=3,
                                         dtc_batches=2, dtc_update_interval=1, batch_size=8,
                                         arch={"hidden": [8, 8, 8]}, device="cpu"))
    with pytest.raises(SklearnNotFitted):
        check_is_fitted(model)
    with pytest.raises(NotFittedError, match="not fitted yet"):  # fthc's, also scikit-learn's
        model.transform(_series())
    model.fit(_series())
    check_is_fitted(model)
    model.extra_ = "left from an earlier fit"
    model.set_params(clustering="kmeans", distance="eucl").fit(_series())
    assert not hasattr(model, "extra_") and isinstance(model.head_, KMeansHead)


def test_one_frozen_encoder_serves_every_head_and_k_without_training_again():
    X = _series()
    encoder = AutoencoderEncoder("fcnn", latent_dim=4, batches=3, batch_size=8, arch={"hidden": [8, 8, 8]},
                                 device="cpu").fit(X)
    before = {k: v.clone() for k, v in encoder.network_.state_dict().items()}
    z = encoder.transform(X)
    for name in HEADS.names():
        for k in (2, 3):
            params = {"batches": 2, "update_interval": 1} if "batches" in HEADS.get(name).build._get_param_names() \
                else {}
            model = Pipeline(FrozenEstimator(encoder), HEADS.create(name, k=k, **params)).fit(X)
            assert model.labels_.shape == (len(X),)
            assert np.array_equal(model.predict(X), model.labels_)
            if not HEADS.get(name).flag("refines_encoder"):
                assert model.encoder_ is encoder  # used as it was, not refitted
                np.testing.assert_array_equal(model.transform(X), z)
    after = encoder.network_.state_dict()
    assert all(torch_equal(before[k], after[k]) for k in before), "a head changed the shared encoder"


def torch_equal(a, b):
    return bool((a == b).all())


def test_a_clusterer_refuses_an_encoder_fitted_with_other_settings():
    config = ClustererConfig.of(autoencoder="fcnn", clustering="kmeans", k=2, latent_dim=4, pretrain_batches=3,
                                batch_size=8, arch={"hidden": [8, 8, 8]}, device="cpu")
    encoder = make_encoder(config.replace(latent_dim=3)).fit(_series())
    with pytest.raises(IncompatibleConfigError, match="latent_dim"):
        Clusterer(config, encoder=FrozenEstimator(encoder)).fit(_series())
    same = make_encoder(config).fit(_series())
    assert Clusterer(config, encoder=FrozenEstimator(same)).fit(_series()).encoder_ is same


def test_pipeline_of_named_components_saves_and_loads(tmp_path):
    X = _series()
    model = Pipeline(AutoencoderEncoder("fcnn", latent_dim=4, batches=3, batch_size=8, arch={"hidden": [8, 8, 8]},
                                        device="cpu"), KMeansHead(k=3, reduction="pca", reduced_dim=2)).fit(X)
    loaded = Pipeline.load(model.save(tmp_path / "m"))
    assert type(loaded) is Pipeline
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("name", ["kmeans_pca", "dtc"])
def test_artefacts_of_format_1_still_load(name):
    folder = HERE / "artefact_v1" / name
    assert json.loads((folder / "manifest.json").read_text())["format"] == 1
    X = np.load(HERE / "artefact_v1" / "X.npy")
    model = Clusterer.load(folder)
    np.testing.assert_allclose(model.predict_proba(X), np.load(folder / "expected_proba.npy"), atol=1e-6)


def test_typed_flags_and_factories():
    with pytest.raises(KeyError, match="no capability flag"):
        HEADS.get("kmeans").flag("uses_reductoin")
    with pytest.raises(TypeError, match="unknown capability flags"):
        HEADS.register("other", KMeansHead, uses_reductoin=True)
    assert make_head(preset("fthc"), k=7).k == 7 and preset("fthc").head.k == 4


@pytest.mark.parametrize("name", HEADS.names())
def test_every_head_has_a_starting_point_that_is_an_unfitted_copy(name):
    head = HEADS.get(name).build(k=3)
    start = head.starting_point()
    assert start is not head and type(start) is type(head) and not hasattr(start, "labels_")
    if HEADS.get(name).flag("refines_encoder"):  # the partition DTC starts from: no fine-tuning
        assert start.get_params() == {**head.get_params(), "batches": 0}
    else:
        assert start.get_params() == head.get_params()
