"""One suite over every valid registered combination (aeon-style shared checks): a new architecture, loss or
distance is tested the moment it is registered, with the tiny sizes it declares in `test_params`."""

import numpy as np
import torch
import pytest

from fthc.config import ClustererConfig, valid_configs
from fthc.estimator import Clusterer
from fthc.clustering import HEADS
from fthc.models import AUTOENCODERS, PRETEXT_LOSSES

BASE = ClustererConfig.of(k=3, latent_dim=4, reduced_dim=2, pretrain_batches=6, dtc_batches=4, dtc_update_interval=2,
                          batch_size=8, dtc_lr=1e-3, device="cpu")
CONFIGS = [c.replace(arch=AUTOENCODERS.get(c.encoder.autoencoder).flag("test_params"))
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
    names = {(c.encoder.autoencoder, c.encoder.pretext, c.head.clustering, c.head.distance, c.head.reduction)
             for c in CONFIGS}
    assert {n[0] for n in names} == set(AUTOENCODERS.names())
    assert {n[1] for n in names} == set(PRETEXT_LOSSES.names())
    assert {n[2] for n in names} == set(HEADS.names())
    assert {n[3] for n in names} == {"eucl", "cid", "cor"} and {n[4] for n in names} == {"none", "pca", "umap"}


def _id(c: ClustererConfig) -> str:
    e, h = c.encoder, c.head
    return f"{e.autoencoder}-{e.pretext}-{h.clustering}-{h.distance if h.clustering == 'dtc' else h.reduction}"


@pytest.mark.parametrize("config", CONFIGS, ids=_id)
def test_fit_predict_save_load_and_seed(config, data, tmp_path):
    X, mask = data
    model = Clusterer(config).fit(X, mask)
    labels = model.labels_
    assert labels.shape == (len(X),) and labels.min() >= 0 and labels.max() < config.head.k
    assert np.array_equal(model.predict(X, mask), labels)
    proba = model.predict_proba(X, mask)
    assert proba.shape == (len(X), config.head.k) and np.allclose(proba.sum(1), 1)
    z = model.transform(X, mask)
    assert z.ndim == 2 and len(z) == len(X) and np.isfinite(z).all()
    assert all(np.isfinite(model.history_["pretext_loss"]))
    assert model.degenerate_ == (np.bincount(labels, minlength=config.head.k) == 0).any()

    loaded = Clusterer.load(model.save(tmp_path / "model"))
    assert np.array_equal(loaded.predict(X, mask), model.predict(X, mask))
    np.testing.assert_allclose(loaded.predict_proba(X, mask), proba, rtol=1e-5, atol=1e-6)
    assert loaded.get_params() == model.get_params()

    again = Clusterer(config).fit(X, mask)
    assert np.array_equal(again.labels_, labels), "same config and seed must give the same labels on CPU"


VARIABLE_LENGTH = [name for name in AUTOENCODERS.names() if AUTOENCODERS.get(name).flag("variable_length")]


@pytest.mark.parametrize("name", VARIABLE_LENGTH)
def test_variable_length_networks_ignore_what_follows_a_history(name):
    """The `variable_length` flag's contract, which length-bucketed batches rely on: a history's latent is
    the same whether its batch is cropped to it or padded further with anything."""
    from fthc.config import default_embedding
    from fthc.models.network import Network

    torch.manual_seed(0)
    network = Network(name, default_embedding(name, "mse" if AUTOENCODERS.get(name).flag("has_decoder")
                                              else "contrastive"),
                      2, 40, 4, AUTOENCODERS.get(name).flag("test_params")).eval()
    lengths = torch.tensor([5, 17, 23, 23])
    x = torch.randn(4, 2, 40)  # the padding holds noise, not zeros
    mask = torch.arange(40)[None, :] < lengths[:, None]
    with torch.no_grad():
        full = network.embed(x, mask)
        cropped = network.embed(x[..., :23], mask[:, :23])
        alone = torch.cat([network.embed(x[i: i + 1, :, : int(n)], mask[i: i + 1, : int(n)])
                           for i, n in enumerate(lengths)])
    torch.testing.assert_close(cropped, full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(alone, full, rtol=1e-5, atol=1e-5)


def test_bf16_is_refused_where_the_hardware_lacks_it_and_auto_falls_back(monkeypatch):
    from fthc.errors import IncompatibleConfigError
    from fthc.models import precision

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    cpu = torch.device("cpu")
    assert precision.resolve_precision("auto", cpu) == "fp32"
    with pytest.raises(IncompatibleConfigError, match="no native bf16"):
        precision.resolve_precision("bf16", cpu)
    with pytest.raises(IncompatibleConfigError, match="unknown precision"):
        precision.resolve_precision("fp16", cpu)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    close, apart = (lambda device_type="cpu": 0.01), (lambda device_type="cpu": 0.24)
    assert precision.resolve_precision("auto", cpu, close) == "bf16"
    assert "within the 5% tolerance" in precision.precision_why("auto", cpu, close)
    # a CPU whose bf16 really computes in bf16 (AMX: 24% apart after 20 batches) keeps float32 under auto
    assert precision.resolve_precision("auto", cpu, apart) == "fp32"
    assert "beyond the 5% tolerance" in precision.precision_why("auto", cpu, apart)
    assert precision.resolve_precision("auto", cpu) == "fp32"  # nothing to check bf16 against
    assert precision.resolve_precision("bf16", cpu) == "bf16"  # asked for: allowed where native


@pytest.mark.skipif(not __import__("fthc.models.precision", fromlist=["x"]).cpu_has_native_bf16(),
                    reason="this CPU has no native bf16")
def test_auto_precision_keeps_fp32_results_and_bf16_is_the_same_whatever_the_thread_count(data):
    """What `auto` protects: a network trained under it ends within TOLERANCE of float32 (on a CPU where bf16
    computes in bf16, e.g. AMX, auto falls back to float32, which this checks too); forced bf16 is deterministic
    across thread counts."""
    from fthc.models.encoders import bf16_calibration
    from fthc.models.precision import TOLERANCE

    X, mask = data
    config = BASE.replace(autoencoder="resnet", clustering="kmeans", arch={"filters": 8}, pretrain_batches=20)
    runs = {}
    threads = torch.get_num_threads()
    try:
        for precision_, n_threads in (("fp32", 1), ("auto", 1), ("bf16", 1), ("bf16", 2)):
            torch.set_num_threads(n_threads)
            runs[precision_, n_threads] = Clusterer(config.replace(precision=precision_)).fit(X, mask)
    finally:
        torch.set_num_threads(threads)
    auto, fp32, bf16 = runs["auto", 1], runs["fp32", 1], runs["bf16", 1]
    assert fp32.encoder_.precision_ == "fp32" and bf16.encoder_.precision_ == "bf16"
    assert auto.encoder_.precision_ == ("bf16" if bf16_calibration() <= TOLERANCE else "fp32")
    assert abs(auto.history_["pretext_loss"][-1] - fp32.history_["pretext_loss"][-1]) <= \
        TOLERANCE * fp32.history_["pretext_loss"][-1]
    assert np.array_equal(runs["bf16", 2].labels_, bf16.labels_)
    np.testing.assert_array_equal(runs["bf16", 2].transform(X, mask), bf16.transform(X, mask))
