import json

import numpy as np
import pytest

from fthc.config import ClustererConfig, preset
from fthc.errors import DataError
from fthc.estimator import ArtefactError, Clusterer, NotFittedError
from fthc.registry import IncompatibleConfigError, UnknownComponentError

TINY = dict(k=2, latent_dim=2, pretrain_batches=2, dtc_batches=1, batch_size=4, arch={"hidden": (4, 4, 4)},
            autoencoder="fcnn", clustering="kmeans", device="cpu")


def X(n=8, length=12):
    return np.random.default_rng(0).normal(size=(n, 1, length)).astype(np.float32)


def test_unknown_component_lists_valid_names():
    with pytest.raises(UnknownComponentError, match=r"unknown autoencoder .resnett.; valid: dtc, fcnn, gru, lstm, resnet"):
        ClustererConfig.of(autoencoder="resnett").validate()
    with pytest.raises(UnknownComponentError, match="unknown distance 'dtw'"):
        ClustererConfig.of(distance="dtw").validate()
    with pytest.raises(UnknownComponentError, match="unknown preset"):
        preset("best")


@pytest.mark.parametrize("changes,message", [
    (dict(autoencoder="lstm", pretext="multi_rec"), "needs mirrored layers"),
    (dict(autoencoder="dtc", pretext="vae"), "does not support a variational embedding"),
    (dict(pretext="mse", embedding="vae"), "do not match"),
    (dict(autoencoder="resnet", embedding="identity"), "outputs its latent itself"),
    (dict(clustering="kmeans", distance="cid"), "does not use a distance"),
    (dict(clustering="dtc", reduction="pca"), "does not use dimension reduction"),
    (dict(k=0), "k must be at least 1"),
])
def test_incompatible_combinations_are_rejected_before_training(changes, message):
    with pytest.raises(IncompatibleConfigError, match=message):
        Clusterer(ClustererConfig.of(**changes)).fit(X())


def test_bad_inputs():
    model = Clusterer(ClustererConfig.of(**TINY))
    with pytest.raises(DataError, match="3 dimensions"):
        model.fit(np.zeros((2, 2, 2, 2)))
    with pytest.raises(DataError, match="numeric"):
        model.fit(np.array([["a", "b"]]))
    bad = X()
    bad[3, 0, 5] = np.nan
    with pytest.raises(DataError, match="NaN or infinite values \\(first at series 3, channel 0, step 5\\)"):
        model.fit(bad)
    with pytest.raises(DataError, match="1 series cannot form 2 clusters"):
        model.fit(X(n=1))
    with pytest.raises(DataError, match="mask shape"):
        model.fit(X(), mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(DataError, match="too short for the 'dtc' autoencoder"):
        Clusterer(ClustererConfig.of(autoencoder="dtc", k=2)).fit(X(length=12))


def test_predict_before_fit_and_shape_mismatch():
    model = Clusterer(ClustererConfig.of(**TINY))
    with pytest.raises(NotFittedError):
        model.predict(X())
    model.fit(X())
    with pytest.raises(DataError, match="the model was fitted on 1 x 12"):
        model.predict(X(length=13))


def test_corrupted_or_foreign_artefacts(tmp_path):
    model = Clusterer(ClustererConfig.of(**TINY)).fit(X())
    folder = model.save(tmp_path / "m")
    with open(folder / "weights.pt", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ArtefactError, match="weights.pt is missing or corrupted"):
        Clusterer.load(folder)
    folder = model.save(tmp_path / "m2")
    manifest = (folder / "manifest.json").read_text().replace('"format": 4', '"format": 99')
    (folder / "manifest.json").write_text(manifest)
    with pytest.raises(ArtefactError, match="artefact format 99"):
        Clusterer.load(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(ArtefactError, match="corrupted"):
        Clusterer.load(folder)
    with pytest.raises(ArtefactError, match="not a saved fthc model"):
        Clusterer.load(tmp_path)


def _edit(folder, change, checksum=True):
    """Edit a saved manifest; with `checksum`, also rewrite manifest.sha256 as a careful forger would."""
    from fthc.artefact import sha256

    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    if checksum:
        (folder / "manifest.sha256").write_text(sha256(folder / "manifest.json"))


@pytest.mark.parametrize("edit, checksum, message", [
    (lambda m: m["config"].update(k=5), False, "was changed after the model was saved"),
    (lambda m: m["input"].update(seq_len=99), False, "was changed after the model was saved"),
    (lambda m: m.pop("sha256"), True, "must give the checksums of exactly"),
    (lambda m: m.update(sha256={}), True, "must give the checksums of exactly"),
    (lambda m: m["sha256"].update({"../../dev/zero": "00"}), True, "must give the checksums of exactly"),
    (lambda m: m.update(input=None), True, "does not match its manifest"),
    (lambda m: m.update(config={"k": "two"}), True, "does not match its manifest"),
])
def test_edited_manifests_are_refused_with_one_clear_error(tmp_path, edit, checksum, message):
    folder = Clusterer(ClustererConfig.of(**TINY)).fit(X()).save(tmp_path / "m")
    _edit(folder, edit, checksum)
    with pytest.raises(ArtefactError, match=message):
        Clusterer.load(folder)


def test_a_missing_manifest_checksum_is_refused(tmp_path):
    folder = Clusterer(ClustererConfig.of(**TINY)).fit(X()).save(tmp_path / "m")
    (folder / "manifest.sha256").unlink()
    with pytest.raises(ArtefactError, match="manifest.sha256 is missing"):
        Clusterer.load(folder)


def test_sklearn_conventions():
    model = Clusterer(ClustererConfig.of(**TINY))
    assert not hasattr(model, "labels_")  # the constructor only stores the config
    assert model.get_params()["config"].head.k == 2
    assert model.set_params(k=3).config.head.k == 3
    assert model.fit(X()) is model
    assert preset("fthc").encoder.autoencoder == "resnet" and preset("fthc").head.clustering == "dtc"
