"""`Clusterer`: a deep time-series clusterer with scikit-learn conventions.

The constructor only stores the config; `fit` trains the autoencoder with its pretext loss (`pretrain`),
then clusters its latent space (`fit_clustering`): k-means after optional PCA/UMAP, or the DTC layer.
Fitted attributes end in `_`. `save`/`load` write one folder: weights (loaded weights-only), fitted
reduction and centroids as plain arrays, and a JSON manifest with checksums; nothing is unpickled.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from . import __version__
from .clustering.dtc import DTCLayer, centroids_from_labels, initial_labels, kl_divergence, target_distribution
from .config import ClustererConfig, preset
from .data.errors import DataError, FthcError
from .data.series import SeriesSet, SeriesSpec
from .models import AUTOENCODERS, EMBEDDINGS, PRETEXT_LOSSES

ARTEFACT_FORMAT = 1


class NotFittedError(FthcError, RuntimeError):
    """predict/transform/save called before fit."""


class TrainingError(FthcError, RuntimeError):
    """Training diverged (non-finite loss)."""


class ArtefactError(FthcError, ValueError):
    """A saved model folder that is missing, corrupted, or written by an incompatible version."""


@dataclass
class Inputs:
    X: torch.Tensor
    mask: torch.Tensor
    spec: SeriesSpec | None = None
    scaling: dict | None = None
    channels: list[str] | None = None


def as_inputs(X, mask=None) -> Inputs:
    """Accept a SeriesSet or an array [n, channels, seq_len] (or [n, seq_len]); reject what cannot be clustered."""
    spec = scaling = channels = None
    if isinstance(X, SeriesSet):
        X, mask, spec, scaling, channels = X.X, X.mask, X.spec, X.scaling, X.channels
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise DataError(f"input must be numeric, got dtype {X.dtype}", expected="float32 [n, channels, seq_len]")
    if X.ndim == 2:
        X = X[:, None, :]
    if X.ndim != 3:
        raise DataError(f"input must have 3 dimensions [n, channels, seq_len], got shape {X.shape}")
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise DataError(f"input has NaN or infinite values (first at series {bad[0]}, channel {bad[1]}, "
                        f"step {bad[2]})", expected="finite values")
    if mask is None:
        mask = np.ones((X.shape[0], X.shape[2]), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (X.shape[0], X.shape[2]):
        raise DataError(f"mask shape {mask.shape} does not match input {X.shape}", expected="[n, seq_len]")
    return Inputs(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(mask), spec,
                  scaling, channels)


def seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    return torch.Generator().manual_seed(seed)


class Network(nn.Module):
    """Autoencoder + embedding: what the pretext stage trains."""

    def __init__(self, config: ClustererConfig, in_channels: int, seq_len: int):
        super().__init__()
        self.autoencoder = AUTOENCODERS.get(config.autoencoder).build(in_channels, seq_len, config.latent_dim,
                                                                       **config.arch)
        self.embedding = EMBEDDINGS.get(config.embedding).build(self.autoencoder.feature_shape, config.latent_dim)

    def forward(self, x, mask):
        h, enc_acts = self.autoencoder.encode(x, mask)
        z, extras = self.embedding(h)
        x_hat, dec_acts = self.autoencoder.decode(z)
        return z, x_hat, enc_acts, dec_acts, extras


class Clusterer:
    """Deep time-series clustering of customer histories. `Clusterer(preset('fthc', k=4)).fit(series)`."""

    def __init__(self, config: ClustererConfig | None = None, **overrides: Any):
        config = config or ClustererConfig()
        self.config = config.replace(**overrides) if overrides else config

    # -- scikit-learn conventions -------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return self.config.to_dict()

    def set_params(self, **params: Any) -> "Clusterer":
        self.config = self.config.replace(**params)
        return self

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> "Clusterer":
        return cls(preset(name, **overrides))

    def __repr__(self) -> str:
        c = self.config
        return (f"Clusterer({c.autoencoder}+{c.pretext}+{c.clustering}"
                f"{'/' + c.distance if c.clustering == 'dtc' else ''}"
                f"{'/' + c.reduction if c.reduction != 'none' else ''}, k={c.k}, seed={c.seed})")

    @property
    def device(self) -> torch.device:
        d = self.config.device
        if d == "auto":
            d = "cuda" if torch.cuda.is_available() else "cpu"
        return torch.device(d)

    # -- fitting ------------------------------------------------------------------------------------
    def fit(self, X, mask=None) -> "Clusterer":
        data = self._check_fit_input(X, mask)  # once, so pretrain and fit_clustering see the same Inputs
        t0 = time.perf_counter()
        self.pretrain(data)
        self.fit_clustering(data)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def fit_predict(self, X, mask=None) -> np.ndarray:
        return self.fit(X, mask).labels_

    def _check_fit_input(self, X, mask) -> Inputs:
        cfg = self.config.validate()
        data = X if isinstance(X, Inputs) else as_inputs(X, mask)
        n, c, length = data.X.shape
        if n < cfg.k:
            raise DataError(f"{n} series cannot form {cfg.k} clusters", expected=f"at least k={cfg.k} series")
        min_len = AUTOENCODERS.get(cfg.autoencoder).flag("min_seq_len", 1)
        if length < min_len:
            raise DataError(f"seq_len {length} is too short for the {cfg.autoencoder!r} autoencoder",
                            expected=f"seq_len >= {min_len}")
        return data

    def pretrain(self, X, mask=None, state: dict | None = None) -> "Clusterer":
        """Train the autoencoder with its pretext loss (or load `state` from an earlier identical pretext stage)."""
        data = self._check_fit_input(X, mask)  # Inputs from the grid runner are checked too
        cfg = self.config
        gen = seed_everything(cfg.seed)
        _, self.n_channels_, self.seq_len_ = data.X.shape
        self.series_spec_, self.series_scaling_, self.channels_ = data.spec, data.scaling, data.channels
        self.network_ = Network(cfg, self.n_channels_, self.seq_len_).to(self.device)
        self.history_ = {"pretext_loss": [], "dtc_loss": []}
        t0 = time.perf_counter()
        if state is not None:
            self.network_.load_state_dict(state)
            self.pretext_reused_ = True
        else:
            self.pretext_reused_ = False
            loss_fn = PRETEXT_LOSSES.get(cfg.pretext).build
            opt = torch.optim.Adam(self.network_.parameters(), lr=cfg.lr)
            self.network_.train()
            for idx in self._batches(len(data.X), cfg.pretrain_batches, gen):
                x, m = data.X[idx].to(self.device), data.mask[idx].to(self.device)
                z, x_hat, enc_acts, dec_acts, extras = self.network_(x, m)
                loss = loss_fn(x, x_hat, m, enc_acts, dec_acts, extras, beta=cfg.vae_beta)
                if not torch.isfinite(loss):
                    raise TrainingError(f"pretext loss became {float(loss)} at batch "
                                        f"{len(self.history_['pretext_loss'])}; lower lr (now {cfg.lr})")
                opt.zero_grad()
                loss.backward()
                opt.step()
                self.history_["pretext_loss"].append(float(loss.detach()))
        self.pretrain_seconds_ = time.perf_counter() - t0
        return self

    def pretext_state(self) -> dict[str, torch.Tensor]:
        """The pretext stage's weights, to reuse for every clustering option that shares it."""
        self._check_fitted("network_")
        return {k: v.detach().cpu().clone() for k, v in self.network_.state_dict().items()}

    def _batches(self, n: int, count: int, gen: torch.Generator):
        """`count` batches drawn as successive shuffled epochs (each series once per epoch)."""
        size = min(self.config.batch_size, n)
        perm, pos = torch.randperm(n, generator=gen), 0
        for _ in range(count):
            if pos + size > n:
                perm, pos = torch.randperm(n, generator=gen), 0
            yield perm[pos: pos + size]
            pos += size

    def fit_clustering(self, X, mask=None, latents: np.ndarray | None = None) -> "Clusterer":
        """Cluster the latent space of the pretrained network. k-means can take `latents` already computed
        (`transform`) by an identical pretext stage, so that options sharing it do not recompute them."""
        self._check_fitted("network_")
        data = X if isinstance(X, Inputs) else as_inputs(X, mask)
        cfg = self.config
        t0 = time.perf_counter()
        if cfg.clustering == "kmeans":
            self._fit_kmeans(data, latents)
        else:
            self._fit_dtc(data)
        sizes = np.bincount(self.labels_, minlength=cfg.k)
        self.cluster_sizes_ = sizes
        self.degenerate_ = bool((sizes == 0).any())
        self.clustering_seconds_ = time.perf_counter() - t0
        return self

    def _latents(self, data: Inputs, network: nn.Module | None = None, batch: int = 256) -> torch.Tensor:
        network = network or self.network_
        network.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(data.X), batch):
                x, m = data.X[i: i + batch].to(self.device), data.mask[i: i + batch].to(self.device)
                h, _ = network.autoencoder.encode(x, m)
                z, _ = network.embedding(h)
                out.append(z)
        return torch.cat(out)

    # k-means on the (reduced) latent space
    def _fit_kmeans(self, data: Inputs, latents: np.ndarray | None = None) -> None:
        from sklearn.cluster import KMeans

        cfg = self.config
        z = (self._latents(data).flatten(1).cpu().numpy() if latents is None else latents).astype(np.float64)
        self.reducer_ = None
        if cfg.reduction == "pca":
            from sklearn.decomposition import PCA

            pca = PCA(n_components=min(cfg.reduced_dim, *z.shape), random_state=cfg.seed).fit(z)
            self.reducer_ = {"kind": "pca", "components": pca.components_, "mean": pca.mean_}
        elif cfg.reduction == "umap":
            import umap

            reducer = umap.UMAP(n_components=cfg.reduced_dim, n_neighbors=min(15, len(z) - 1),
                                random_state=cfg.seed, n_jobs=1, n_epochs=200)
            emb = reducer.fit_transform(z)
            self.reducer_ = {"kind": "umap", "train_latents": z, "train_embedding": emb.astype(np.float64)}
        r = self._reduce(z)
        km = KMeans(cfg.k, n_init=10, random_state=cfg.seed).fit(r)
        self.cluster_centers_ = km.cluster_centers_
        self.labels_ = self._nearest(r)

    def _reduce(self, z: np.ndarray) -> np.ndarray:
        """Apply the fitted reduction. UMAP places points by their nearest training latents (no pickled model):
        a training point maps onto its own embedding, a new one onto the distance-weighted mean of 15."""
        r = self.reducer_
        if r is None:
            return z
        if r["kind"] == "pca":
            return (z - r["mean"]) @ r["components"].T
        train, emb = r["train_latents"], r["train_embedding"]
        k = min(15, len(train))
        d2 = (z**2).sum(1)[:, None] + (train**2).sum(1)[None, :] - 2 * z @ train.T
        d = np.sqrt(np.maximum(d2, 0))
        nn_idx = np.argsort(d, axis=1, kind="stable")[:, :k]
        nn_d = np.take_along_axis(d, nn_idx, axis=1)
        w = 1.0 / (nn_d + 1e-9)
        exact = nn_d[:, 0] < 1e-9 * (1 + np.abs(z).max())
        w[exact] = 0
        w[exact, 0] = 1
        return (w[..., None] * emb[nn_idx]).sum(1) / w.sum(1, keepdims=True)

    def _nearest(self, r: np.ndarray) -> np.ndarray:
        d2 = ((r[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(-1)
        return d2.argmin(1)

    # the DTC layer
    def _fit_dtc(self, data: Inputs) -> None:
        cfg = self.config
        rng = np.random.default_rng(cfg.seed)
        start_state = copy.deepcopy(self.network_.state_dict())
        n = len(data.X)
        min_size = max(2, int(0.01 * n))
        attempts = []
        for attempt in range(cfg.max_restarts + 1):
            gen = seed_everything(cfg.seed + 1000 * (attempt + 1))
            network = self.network_
            network.load_state_dict(start_state)
            z = self._latents(data)
            labels, how = initial_labels(z, cfg.k, cfg.distance, cfg.init if attempt == 0 else "kmeans++",
                                         rng, min_size)
            layer = DTCLayer(centroids_from_labels(z, labels, cfg.k), cfg.distance, cfg.alpha).to(self.device)
            losses = self._train_dtc(data, network, layer, gen)
            with torch.no_grad():
                q = self._soft(data, network, layer)
            if not torch.isfinite(q).all():  # the last step produced non-finite weights: fall back to the start
                self.history_["dtc_diverged"] = True
                network.load_state_dict(start_state)
                layer = DTCLayer(centroids_from_labels(z, labels, cfg.k), cfg.distance, cfg.alpha).to(self.device)
                with torch.no_grad():
                    q = self._soft(data, network, layer)
            labels = q.argmax(1).cpu().numpy()
            filled = int((np.bincount(labels, minlength=cfg.k) > 0).sum())
            attempts.append((filled, attempt, copy.deepcopy(network.state_dict()), layer, labels, how, losses))
            if filled == cfg.k:
                break
        filled, attempt, state, layer, labels, how, losses = max(attempts, key=lambda a: (a[0], -a[1]))
        self.network_.load_state_dict(state)
        self.dtc_ = layer
        self.labels_ = labels
        self.init_method_ = how
        self.restarts_ = len(attempts) - 1
        self.history_["dtc_loss"] = losses

    def _soft(self, data: Inputs, network, layer, batch: int = 256) -> torch.Tensor:
        z = self._latents(data, network, batch)
        return layer(z)

    def _train_dtc(self, data: Inputs, network, layer: DTCLayer, gen: torch.Generator) -> list[float]:
        cfg = self.config
        if cfg.dtc_batches == 0:
            return []
        loss_fn = PRETEXT_LOSSES.get(cfg.pretext).build
        opt = torch.optim.Adam(list(network.parameters()) + list(layer.parameters()), lr=cfg.dtc_lr)
        losses, p_all = [], None
        for b, idx in enumerate(self._batches(len(data.X), cfg.dtc_batches, gen)):
            if b % cfg.dtc_update_interval == 0:  # the target distribution is held fixed between updates
                with torch.no_grad():
                    p_all = target_distribution(self._soft(data, network, layer))
            network.train()
            x, m = data.X[idx].to(self.device), data.mask[idx].to(self.device)
            z, x_hat, enc_acts, dec_acts, extras = network(x, m)
            q = layer(z)
            loss = kl_divergence(p_all[idx.to(p_all.device)], q) + cfg.dtc_recon_weight * loss_fn(
                x, x_hat, m, enc_acts, dec_acts, extras, beta=cfg.vae_beta)
            if not torch.isfinite(loss):  # diverged: keep the last finite state and say so
                self.history_["dtc_diverged"] = True
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        return losses

    # -- inference ----------------------------------------------------------------------------------
    def _check_fitted(self, attr: str = "labels_") -> None:
        if not hasattr(self, attr):
            raise NotFittedError("this Clusterer is not fitted yet: call fit first")

    def _check_input(self, X, mask, needs: str = "labels_") -> Inputs:
        self._check_fitted(needs)
        data = as_inputs(X, mask)
        if data.X.shape[1:] != (self.n_channels_, self.seq_len_):
            raise DataError(f"input has {data.X.shape[1]} channels x {data.X.shape[2]} steps; the model was fitted "
                            f"on {self.n_channels_} x {self.seq_len_}",
                            expected="series built with the model's series spec")
        return data

    def transform(self, X, mask=None) -> np.ndarray:
        """Latent vectors [n, latent size] (the VAE's mean; DTC latent series flattened); works after pretrain."""
        return self._latents(self._check_input(X, mask, needs="network_")).flatten(1).cpu().numpy()

    def predict_proba(self, X, mask=None) -> np.ndarray:
        """Soft assignments: the DTC layer's, or for k-means a Student's t kernel on centroid distances."""
        data = self._check_input(X, mask)
        if self.config.clustering == "dtc":
            with torch.no_grad():
                return self._soft(data, self.network_, self.dtc_).cpu().numpy().astype(np.float64)
        r = self._reduce(self._latents(data).flatten(1).cpu().numpy().astype(np.float64))
        d2 = ((r[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(-1)
        q = (1 + d2 / self.config.alpha) ** (-(self.config.alpha + 1) / 2)
        return q / q.sum(1, keepdims=True)

    def predict(self, X, mask=None, latents: np.ndarray | None = None) -> np.ndarray:
        if self.config.clustering == "dtc":
            return self.predict_proba(X, mask).argmax(1)
        data = self._check_input(X, mask)
        z = self._latents(data).flatten(1).cpu().numpy() if latents is None else latents
        return self._nearest(self._reduce(z.astype(np.float64)))

    # -- persistence --------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the fitted model to `folder`: manifest.json, weights.pt, clustering.npz."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        weights = {f"network.{k}": v.cpu() for k, v in self.network_.state_dict().items()}
        if self.config.clustering == "dtc":
            weights["dtc.centroids"] = self.dtc_.centroids.detach().cpu()
        torch.save(weights, folder / "weights.pt")
        arrays = {"labels": self.labels_}
        if self.config.clustering == "kmeans":
            arrays["cluster_centers"] = self.cluster_centers_
            for key, value in (self.reducer_ or {}).items():
                if key != "kind":
                    arrays[f"reducer.{key}"] = value
        np.savez(folder / "clustering.npz", **arrays)
        manifest = {
            "format": ARTEFACT_FORMAT, "fthc_version": __version__, "config": self.config.to_dict(),
            "input": {"n_channels": self.n_channels_, "seq_len": self.seq_len_, "channels": self.channels_,
                      "series_spec": self.series_spec_.to_dict() if self.series_spec_ else None,
                      "series_scaling": self.series_scaling_},
            "reducer": (self.reducer_ or {}).get("kind") if self.config.clustering == "kmeans" else None,
            "fitted": {"degenerate": self.degenerate_, "cluster_sizes": self.cluster_sizes_.tolist()},
            "sha256": {name: _sha256(folder / name) for name in ("weights.pt", "clustering.npz")},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "Clusterer":
        folder = Path(folder)
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
        except FileNotFoundError as exc:
            raise ArtefactError(f"{folder}: no manifest.json; not a saved fthc model") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtefactError(f"{folder / 'manifest.json'} is corrupted: {exc}") from exc
        if manifest.get("format") != ARTEFACT_FORMAT:
            raise ArtefactError(f"{folder}: saved in artefact format {manifest.get('format')!r} by fthc "
                                f"{manifest.get('fthc_version')}; this fthc {__version__} reads format "
                                f"{ARTEFACT_FORMAT}")
        for name, digest in manifest["sha256"].items():
            path = folder / name
            if not path.exists() or _sha256(path) != digest:
                raise ArtefactError(f"{path} is missing or corrupted (checksum mismatch)")
        self = cls(ClustererConfig.from_dict(manifest["config"]))
        inp = manifest["input"]
        self.n_channels_, self.seq_len_, self.channels_ = inp["n_channels"], inp["seq_len"], inp["channels"]
        self.series_spec_ = SeriesSpec(**inp["series_spec"]) if inp["series_spec"] else None
        self.series_scaling_ = inp["series_scaling"]
        weights = torch.load(folder / "weights.pt", map_location=self.device, weights_only=True)
        self.network_ = Network(self.config, self.n_channels_, self.seq_len_).to(self.device)
        self.network_.load_state_dict({k[len("network."):]: v for k, v in weights.items() if k.startswith("network.")})
        self.network_.eval()
        with np.load(folder / "clustering.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        self.labels_ = arrays["labels"]
        if self.config.clustering == "dtc":
            self.dtc_ = DTCLayer(weights["dtc.centroids"], self.config.distance, self.config.alpha).to(self.device)
        else:
            self.cluster_centers_ = arrays["cluster_centers"]
            kind = manifest["reducer"]
            self.reducer_ = None if not kind else {"kind": kind, **{
                k[len("reducer."):]: v for k, v in arrays.items() if k.startswith("reducer.")}}
        self.degenerate_ = manifest["fitted"]["degenerate"]
        self.cluster_sizes_ = np.asarray(manifest["fitted"]["cluster_sizes"])
        return self


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
