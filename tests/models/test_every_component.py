"""One suite over every valid registered combination (aeon-style shared checks): a new architecture, loss or
distance is tested the moment it is registered, with the tiny sizes it declares in `test_params`."""

import numpy as np
import pytest

from fthc.config import ClustererConfig, valid_configs
from fthc.estimator import Clusterer
from fthc.clustering import HEADS
from fthc.models import AUTOENCODERS, PRETEXT_LOSSES

BASE = ClustererConfig(k=3, latent_dim=4, reduced_dim=2, pretrain_batches=6, dtc_batches=4, dtc_update_interval=2,
                       batch_size=8, dtc_lr=1e-3, device="cpu")
CONFIGS = [c.replace(arch=AUTOENCODERS.get(c.autoencoder).flag("test_params"))
           for c in valid_configs(BASE, ks=(3,))]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, length = 36, 30
    t = np.linspace(0, 4 * np.pi, length)
    group = np.arange(n) % 3
    X = np.stack([np.sin(t * (1 + g)) + 0.3 * rng.normal(size=length) for g in group])[:, None, :]
    X = np.concatenate([X, rng.normal(size=X.shape)], axis=1).astype(np.float32)  # 2 channels
    mask = np.ones((n, length), dtype=bool)
    mask[::4, 25:] = False  # some shorter histories
    X[~np.broadcast_to(mask[:, None, :], X.shape)] = 0
    return X, mask


def test_the_suite_covers_every_registered_component():
    names = {(c.autoencoder, c.pretext, c.clustering, c.distance, c.reduction) for c in CONFIGS}
    assert {n[0] for n in names} == set(AUTOENCODERS.names())
    assert {n[1] for n in names} == set(PRETEXT_LOSSES.names())
    assert {n[2] for n in names} == set(HEADS.names())
    assert {n[3] for n in names} == {"eucl", "cid", "cor"} and {n[4] for n in names} == {"none", "pca", "umap"}


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.autoencoder}-{c.pretext}-{c.clustering}-"
                                                        f"{c.distance if c.clustering == 'dtc' else c.reduction}")
def test_fit_predict_save_load_and_seed(config, data, tmp_path):
    X, mask = data
    model = Clusterer(config).fit(X, mask)
    labels = model.labels_
    assert labels.shape == (len(X),) and labels.min() >= 0 and labels.max() < config.k
    assert np.array_equal(model.predict(X, mask), labels)
    proba = model.predict_proba(X, mask)
    assert proba.shape == (len(X), config.k) and np.allclose(proba.sum(1), 1)
    z = model.transform(X, mask)
    assert z.ndim == 2 and len(z) == len(X) and np.isfinite(z).all()
    assert all(np.isfinite(model.history_["pretext_loss"]))
    assert model.degenerate_ == (np.bincount(labels, minlength=config.k) == 0).any()

    loaded = Clusterer.load(model.save(tmp_path / "model"))
    assert np.array_equal(loaded.predict(X, mask), model.predict(X, mask))
    np.testing.assert_allclose(loaded.predict_proba(X, mask), proba, rtol=1e-5, atol=1e-6)
    assert loaded.get_params() == model.get_params()

    again = Clusterer(config).fit(X, mask)
    assert np.array_equal(again.labels_, labels), "same config and seed must give the same labels on CPU"
