"""`Pipeline` (an encoder composed with a clustering head) and `Clusterer` (the same, built from one
`ClustererConfig`): the model inside a `fthc.Segmenter`, which the grid and the library fit, predict, save and
load. The encoder reads what it is made for (`as_input`): behaviour measures, series, or both.

scikit-learn conventions: the constructor only stores its parameters, `fit` returns self and starts from a
clean state, fitted attributes end in `_`, `sklearn.base.clone` works. An encoder fitted once (the grid's
pretext reuse, `--k auto`) is composed with new heads as scikit-learn does it: wrapped in `FrozenEstimator`,
whose `fit` does nothing and which `clone` leaves as it is.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator

from .clustering import HEADS
from .base import FthcEstimator
from .config import ClustererConfig, encoder_component, make_encoder, make_head, preset
from .errors import ArtefactError, DataError, IncompatibleConfigError, NotFittedError, TrainingError

__all__ = ["ArtefactError", "Clusterer", "FrozenEstimator", "NotFittedError", "Pipeline", "TrainingError"]


def fitted_estimator(estimator):
    """The estimator inside a FrozenEstimator (or the estimator itself)."""
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator


def head_encoder(head, encoder):
    """The encoder whose latents a fitted head predicts from: its own refined copy for a head that fine-tunes
    the encoder (DTC), else the encoder it was given."""
    return getattr(head, "encoder_", None) or encoder


def series_of(data) -> tuple:
    """How an encoder's input series were built (spec, scaling, channels; None each for behaviour measures)."""
    return tuple(getattr(data, a, None) for a in ("spec", "scaling", "channels"))


class Pipeline(FthcEstimator):
    """encoder -> latents -> head. `Pipeline(AutoencoderEncoder(...), KMeansHead(k=6)).fit(series)`."""

    fitted_attribute = "head_"

    def __init__(self, encoder=None, head=None):
        self.encoder = encoder
        self.head = head

    def _components(self):
        """Fresh (unfitted) copies of the encoder and head (a FrozenEstimator's clone is itself)."""
        if self.encoder is None or self.head is None:
            raise TypeError(f"{type(self).__name__} needs an encoder and a head")
        return clone(self.encoder), clone(self.head)

    def fit(self, X, mask=None) -> "Pipeline":
        encoder, head = self._components()
        data = fitted_estimator(encoder).as_input(X, mask)
        if len(data) < head.k:
            raise DataError(f"{len(data)} series cannot form {head.k} clusters",
                            expected=f"at least k={head.k} series")
        self._reset()  # a refit starts clean
        t0 = time.perf_counter()
        encoder = fitted_estimator(encoder.fit(data, None))  # a FrozenEstimator's fit does nothing
        t1 = time.perf_counter()
        head.fit(encoder.transform(data), encoder=encoder, data=data)
        self._fitted(head_encoder(head, encoder), head, *series_of(data))
        self.pretrain_seconds_ = t1 - t0
        self.clustering_seconds_ = time.perf_counter() - t1
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _fitted(self, encoder, head, series_spec=None, series_scaling=None, channels=None) -> "Pipeline":
        """Take a fitted encoder and head, and how the series they read were built, as this model's state."""
        self.encoder_, self.head_ = encoder, head
        self.series_spec_, self.series_scaling_, self.channels_ = series_spec, series_scaling, channels
        return self

    def fit_predict(self, X, mask=None) -> np.ndarray:
        return self.fit(X, mask).labels_

    # fitted state, read from the components
    @property
    def labels_(self) -> np.ndarray:
        self.check_fitted()
        return self.head_.labels_

    @property
    def cluster_sizes_(self) -> np.ndarray:
        return self.head_.cluster_sizes_

    @property
    def degenerate_(self) -> bool:
        return self.head_.degenerate_

    @property
    def n_channels_(self) -> int | None:
        return getattr(self.encoder_, "n_channels_", None)

    @property
    def seq_len_(self) -> int | None:
        return getattr(self.encoder_, "seq_len_", None)

    @property
    def history_(self) -> dict[str, Any]:
        return {**getattr(self.encoder_, "history_", {"pretext_loss": []}),
                **getattr(self.head_, "history_", {"dtc_loss": []})}

    def transform(self, X, mask=None) -> np.ndarray:
        """Latent vectors [n, d] from the fitted encoder."""
        self.check_fitted()
        return self.encoder_.transform(X, mask)

    def predict_proba(self, X, mask=None) -> np.ndarray:
        self.check_fitted()
        return self.head_.predict_proba(self.transform(X, mask))

    def predict(self, X, mask=None) -> np.ndarray:
        self.check_fitted()
        return self.head_.predict(self.transform(X, mask))

    def save(self, folder) -> Path:
        """One folder: manifest.json (components, input, checksums), clustering.npz, and weights.pt for an
        encoder that trains a network."""
        from .artefact import write_artefact

        self.check_fitted()
        return write_artefact(self, folder)

    @classmethod
    def load(cls, folder) -> "Pipeline":
        """A saved model: a `Clusterer` when it was saved with a config, else a `Pipeline` of its components."""
        from .artefact import read_artefact

        art = read_artefact(folder)
        return Clusterer.of_artefact(art) if art.config is not None else Pipeline(art.encoder, art.head)._loaded(art)

    def _loaded(self, art) -> "Pipeline":
        """This pipeline fitted as a model folder holds it (`fthc.artefact.read_artefact`), with its column
        mapping."""
        self._fitted(art.encoder, art.head, art.series_spec, art.series_scaling, art.channels)
        self.column_mapping_ = art.column_mapping
        return self


class Clusterer(Pipeline):
    """A pipeline built from one `ClustererConfig`: an encoder (behaviour features or one of the paper's
    autoencoders) and a clustering head, fitted on one customer-series table.

    Parameters
    ----------
    config : ClustererConfig, optional
        Everything that determines the fit (`fthc.preset` builds one by name); None: the default preset.
    encoder : estimator, optional
        `FrozenEstimator(fitted)` reuses an encoder fitted with the same config's pretext settings.

    Attributes
    ----------
    encoder_, head_ : estimator
        The fitted encoder and clustering head.
    labels_ : ndarray
        Each fitted customer's segment.

    Examples
    --------
    >>> import fthc
    >>> model = fthc.Clusterer(fthc.preset("fthc", k=4))  # then model.fit(series)"""

    def __init__(self, config: ClustererConfig | None = None, encoder=None):
        self.config = config
        self.encoder = encoder

    def _components(self):
        config = self.config or ClustererConfig()
        wanted = make_encoder(config)
        if self.encoder is None:
            return wanted, make_head(config)
        given = fitted_estimator(self.encoder).get_params()
        differ = sorted(k for k, v in wanted.get_params().items() if given.get(k) != v)
        if differ:  # the saved model would describe another encoder than the one it holds
            raise IncompatibleConfigError(f"the given encoder differs from the config's in {differ}")
        return clone(self.encoder), make_head(config)

    def set_params(self, **params: Any) -> "Clusterer":
        """`config=...`, `encoder=...`, or config fields (`k=6`) changed on a copy of the config."""
        if "config" in params:
            self.config = params.pop("config")
        if "encoder" in params:
            self.encoder = params.pop("encoder")
        if params:
            self.config = (self.config or ClustererConfig()).replace(**params)
        return self

    @classmethod
    def assembled(cls, config: ClustererConfig, encoder, head, data=None) -> "Clusterer":
        """A fitted Clusterer of an encoder and a head each fitted apart: the Segmenter's head, fitted on the
        encoder's points with the risk axis added (`fthc.segments.segment_model.RiskAxis`). `data`: the encoder's
        input, whose series spec, scaling and channels scoring builds again."""
        return cls(config, encoder=FrozenEstimator(encoder))._fitted(encoder, head, *series_of(data))

    @classmethod
    def of_artefact(cls, art) -> "Clusterer":
        """The Clusterer a model folder holds (`fthc.artefact.read_artefact`), with the column mapping it read."""
        return cls(art.config)._loaded(art)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "Clusterer":
        return cls(preset(name, **overrides))

    def in_words(self) -> str:
        """The method as a reader of the page says it: 'behaviour features, k-means, k=6, seed 0'."""
        c = self.config or ClustererConfig()
        e, h = c.encoder, c.head
        heads = {"kmeans": "k-means", "gmm": "Gaussian mixture", "dtc": "DTC clustering layer"}
        encoder = "behaviour features" if not encoder_component(c).flag("trains_network") else \
            f"{e.autoencoder} autoencoder ({e.pretext} pretext loss)"
        head = heads.get(h.clustering, h.clustering) + \
            (f" ({h.distance} distance)" if HEADS.get(h.clustering).flag("uses_distance") else "") + \
            (f" after {h.reduction.upper()}" if h.reduction != "none" else "")
        return f"{encoder}, {head}, k={h.k}, seed {c.seed}"

    def __repr__(self) -> str:
        c = self.config or ClustererConfig()
        e, h = c.encoder, c.head
        if not encoder_component(c).flag("trains_network"):  # no network, no pretext loss
            return (f"Clusterer({e.autoencoder}+{h.clustering}"
                    f"{'/' + h.reduction if h.reduction != 'none' else ''}, k={h.k}, seed={c.seed})")
        return (f"Clusterer({e.autoencoder}+{e.pretext}+{h.clustering}"
                f"{'/' + h.distance if HEADS.get(h.clustering).flag('uses_distance') else ''}"
                f"{'/' + h.reduction if h.reduction != 'none' else ''}, k={h.k}, seed={c.seed})")
