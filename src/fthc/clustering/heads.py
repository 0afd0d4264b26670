"""Clustering heads: what turns latents into segments. Each owns fit, predict, predict_proba and its saved
arrays, and is created by name from `HEADS` (like aeon's deep clusterers take `estimator=`).

A head's `fit(z, encoder=None, data=None)` sees the latents; a head flagged `refines_encoder` (DTC) also
fine-tunes a copy of the encoder on the data and keeps it as `encoder_`, leaving the given encoder untouched,
so one fitted encoder can serve every head and k of a grid.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from sklearn.base import clone

from ..base import FthcEstimator
from ..progress import report
from ..registry import Registry
from .dtc import DTCLayer, centroids_from_labels, initial_labels, kl_divergence, target_distribution
from .reductions import REDUCTIONS

HEADS: Registry = Registry("clustering", flags={
    "uses_reduction": False,  # takes a dimension reduction (PCA/UMAP) before clustering
    "uses_distance": False,  # takes a distance from DISTANCES
    "refines_encoder": False,  # trains the encoder further (needs the encoder and the data in fit)
})


def student_t(d2: np.ndarray, alpha: float) -> np.ndarray:
    """Soft assignments from squared distances: a Student's t kernel, rows summing to 1."""
    q = (1 + d2 / alpha) ** (-(alpha + 1) / 2)
    return q / q.sum(1, keepdims=True)


class Head(FthcEstimator):
    """Shared behaviour: fitted-state checks, sizes, and the degenerate flag (an empty cluster)."""

    fitted_attribute = "labels_"

    def _finish(self, labels: np.ndarray) -> None:
        self.labels_ = np.asarray(labels)
        self.cluster_sizes_ = np.bincount(self.labels_, minlength=self.k)
        self.degenerate_ = bool((self.cluster_sizes_ == 0).any())

    def predict(self, z: np.ndarray) -> np.ndarray:
        return self.predict_proba(z).argmax(1)

    def starting_point(self) -> "Head":
        """An unfitted copy that stops where fitting this head starts: the head itself, unless it fine-tunes the
        encoder (then the partition it would refine, without the fine-tuning). `--k auto` judges k with it."""
        return clone(self)


@HEADS.register("kmeans", uses_reduction=True, doc="k-means on the latent space, optionally after PCA or UMAP")
class KMeansHead(Head):
    def __init__(self, k: int = 4, reduction: str = "none", reduced_dim: int = 5, alpha: float = 1.0,
                 n_init: int = 10, seed: int = 0):
        self.k = k
        self.reduction = reduction
        self.reduced_dim = reduced_dim
        self.alpha = alpha
        self.n_init = n_init
        self.seed = seed

    def fit(self, z: np.ndarray, encoder=None, data=None) -> "KMeansHead":
        from sklearn.cluster import KMeans

        self._reset()
        z = np.asarray(z, dtype=np.float64)
        self.reducer_ = REDUCTIONS.create(self.reduction, self.reduced_dim, self.seed).fit(z)
        r = self.reducer_.transform(z)
        self.cluster_centers_ = KMeans(self.k, n_init=self.n_init, random_state=self.seed).fit(r).cluster_centers_
        self._finish(self._sq_dist(r).argmin(1))
        return self

    def _sq_dist(self, r: np.ndarray) -> np.ndarray:
        return ((r[:, None, :] - self.cluster_centers_[None, :, :]) ** 2).sum(-1)

    def predict(self, z: np.ndarray) -> np.ndarray:
        self.check_fitted()
        return self._sq_dist(self.reducer_.transform(np.asarray(z, dtype=np.float64))).argmin(1)

    def predict_proba(self, z: np.ndarray) -> np.ndarray:
        """A Student's t kernel on the distances to the centroids."""
        self.check_fitted()
        return student_t(self._sq_dist(self.reducer_.transform(np.asarray(z, dtype=np.float64))), self.alpha)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"cluster_centers": self.cluster_centers_,
                **{f"reducer.{k}": v for k, v in self.reducer_.arrays().items()}}

    def load_arrays(self, arrays: dict[str, np.ndarray], encoder=None) -> "KMeansHead":
        self.cluster_centers_ = arrays["cluster_centers"]
        self.reducer_ = REDUCTIONS.create(self.reduction, self.reduced_dim, self.seed).load_arrays(
            {k[len("reducer."):]: v for k, v in arrays.items() if k.startswith("reducer.")})
        self._finish(arrays["labels"])
        return self


@HEADS.register("dtc", uses_distance=True, refines_encoder=True,
                doc="Deep Temporal Clustering layer trained with KL(P||Q) + reconstruction")
class DTCHead(Head):
    """Madiraju et al.'s DTC layer: centroids initialised by complete linkage (k-means++ when that isolates
    outliers), then encoder and centroids trained on KL(P||Q) + reconstruction; restarted from a new
    initialisation when a cluster ends empty (the best attempt is kept and reported)."""

    def __init__(self, k: int = 4, distance: str = "eucl", alpha: float = 1.0, init: str = "robust",
                 max_restarts: int = 2, batches: int = 100, lr: float = 1e-5, update_interval: int = 50,
                 recon_weight: float = 1.0, batch_size: int = 32, seed: int = 0):
        self.k = k
        self.distance = distance
        self.alpha = alpha
        self.init = init
        self.max_restarts = max_restarts
        self.batches = batches
        self.lr = lr
        self.update_interval = update_interval
        self.recon_weight = recon_weight
        self.batch_size = batch_size
        self.seed = seed

    def starting_point(self) -> "DTCHead":
        """Fitted for 0 batches: the initial partition of the latents, with the encoder unchanged."""
        return clone(self).set_params(batches=0)

    def fit(self, z, encoder=None, data=None) -> "DTCHead":
        if encoder is None or data is None:
            raise TypeError("the dtc head fine-tunes the encoder: fit(z, encoder=..., data=...)")
        self._reset()
        encoder = copy.deepcopy(encoder)  # the caller's encoder stays as it was
        network, device = encoder.network_, encoder.device_
        rng = np.random.default_rng(self.seed)
        start = copy.deepcopy(network.state_dict())
        # the latents of the starting encoder, as the given z: every attempt starts from them
        zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=device).view(
            len(z), *network.embedding.latent_shape)
        min_size = max(2, int(0.01 * len(data.X)))
        self.history_ = {"dtc_loss": [], "dtc_diverged": False}
        attempts = []
        for attempt in range(self.max_restarts + 1):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed + 1000 * (attempt + 1))
                gen = torch.Generator().manual_seed(self.seed + 1000 * (attempt + 1))
                network.load_state_dict(start)
                labels, how = initial_labels(zt, self.k, self.distance, self.init if attempt == 0 else "kmeans++",
                                             rng, min_size)
                layer = DTCLayer(centroids_from_labels(zt, labels, self.k), self.distance, self.alpha).to(device)
                losses = self._train(encoder, layer, data, gen)
                with torch.no_grad():  # no step taken (0 batches): the network is unchanged, its latents are z
                    q = layer(encoder.embed(data) if losses else zt)
                if not torch.isfinite(q).all():  # the last step produced non-finite weights: back to the start
                    self.history_["dtc_diverged"] = True
                    network.load_state_dict(start)
                    layer = DTCLayer(centroids_from_labels(zt, labels, self.k), self.distance, self.alpha).to(device)
                    with torch.no_grad():
                        q = layer(zt)
            labels = q.argmax(1).cpu().numpy()
            filled = int((np.bincount(labels, minlength=self.k) > 0).sum())
            attempts.append((filled, attempt, copy.deepcopy(network.state_dict()), layer, labels, how, losses))
            if filled == self.k:
                break
        filled, attempt, state, layer, labels, how, losses = max(attempts, key=lambda a: (a[0], -a[1]))
        network.load_state_dict(state)
        network.eval()
        self.encoder_, self.layer_ = encoder, layer
        self.init_method_, self.restarts_ = how, len(attempts) - 1
        self.history_["dtc_loss"] = losses
        self._finish(labels)
        return self

    def _train(self, encoder, layer: DTCLayer, data, gen: torch.Generator) -> list[float]:
        if self.batches == 0:
            return []
        network = encoder.network_
        opt = torch.optim.Adam(list(network.parameters()) + list(layer.parameters()), lr=self.lr)
        losses, p_all = [], None
        for b, (idx, x, m) in enumerate(encoder.training_batches(data, self.batches, self.batch_size, gen)):
            if b % self.update_interval == 0:  # the target distribution is held fixed between updates
                with torch.no_grad():
                    p_all = target_distribution(layer(encoder.embed(data, network)))
            network.train()
            out = encoder.forward(network, x, m)
            loss = kl_divergence(p_all[idx.to(p_all.device)], layer(out.latent)) + \
                self.recon_weight * encoder.pretext_loss(x, m, out)
            if not torch.isfinite(loss):  # diverged: keep the last finite state and say so
                self.history_["dtc_diverged"] = True
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            report("dtc", len(losses), self.batches, losses[-1])
        return losses

    def predict_proba(self, z: np.ndarray) -> np.ndarray:
        """The DTC layer's soft assignments q (the latents must come from `encoder_`)."""
        self.check_fitted()
        with torch.no_grad():
            zt = torch.as_tensor(np.asarray(z, dtype=np.float32), device=self.layer_.centroids.device)
            zt = zt.view(len(zt), *self.layer_.centroids.shape[1:])
            return self.layer_(zt).cpu().numpy().astype(np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"centroids": self.layer_.centroids.detach().cpu().numpy()}

    def load_arrays(self, arrays: dict[str, np.ndarray], encoder=None) -> "DTCHead":
        self.layer_ = DTCLayer(torch.as_tensor(arrays["centroids"]), self.distance, self.alpha)
        self.encoder_ = encoder
        self._finish(arrays["labels"])
        return self


@HEADS.register("gmm", doc="Gaussian mixture on the latent space (k-means initialised, several starts)")
class GMMHead(Head):
    """A Gaussian mixture: soft assignments that are the model's posterior probabilities. Initialised from
    k-means; a start that leaves a component without customers is dropped in favour of the best full one, and
    if none is full the k-means partition is kept (never a silent collapse)."""

    def __init__(self, k: int = 4, covariance: str = "diag", n_init: int = 4, seed: int = 0):
        self.k = k
        self.covariance = covariance
        self.n_init = n_init
        self.seed = seed

    def fit(self, z: np.ndarray, encoder=None, data=None) -> "GMMHead":
        from sklearn.cluster import KMeans
        from sklearn.mixture import GaussianMixture

        self._reset()
        z = np.asarray(z, dtype=np.float64)
        best = None
        for start in range(self.n_init):
            km = KMeans(self.k, n_init=1, random_state=self.seed + start).fit(z)
            weights = np.maximum(np.bincount(km.labels_, minlength=self.k), 1e-6)
            gm = GaussianMixture(self.k, covariance_type=self.covariance, random_state=self.seed + start,
                                 weights_init=weights / weights.sum(), means_init=km.cluster_centers_,
                                 reg_covar=1e-4, max_iter=200).fit(z)
            filled = (np.bincount(gm.predict(z), minlength=self.k) > 0).all()
            score = (filled, gm.score(z))
            if best is None or score > best[0]:
                best = (score, gm, km)
        (filled, _), gm, km = best
        self.mixture_ = gm
        self.fallback_ = not filled
        self._finish(gm.predict(z) if filled else km.labels_)
        if not filled:  # centroid distances instead of the collapsed mixture
            self.centers_ = km.cluster_centers_
        return self

    def predict_proba(self, z: np.ndarray) -> np.ndarray:
        self.check_fitted()
        z = np.asarray(z, dtype=np.float64)
        if self.fallback_:
            return student_t(((z[:, None, :] - self.centers_[None]) ** 2).sum(-1), 1.0)
        return self.mixture_.predict_proba(z)

    def arrays(self) -> dict[str, np.ndarray]:
        gm = self.mixture_
        out = {"weights": gm.weights_, "means": gm.means_, "precisions_cholesky": gm.precisions_cholesky_,
               "covariances": gm.covariances_, "fallback": np.array(self.fallback_)}
        return out | ({"centers": self.centers_} if self.fallback_ else {})

    def load_arrays(self, arrays: dict[str, np.ndarray], encoder=None) -> "GMMHead":
        from sklearn.mixture import GaussianMixture

        gm = GaussianMixture(self.k, covariance_type=self.covariance)
        gm.weights_, gm.means_ = arrays["weights"], arrays["means"]
        gm.precisions_cholesky_, gm.covariances_ = arrays["precisions_cholesky"], arrays["covariances"]
        self.mixture_, self.fallback_ = gm, bool(arrays["fallback"])
        if self.fallback_:
            self.centers_ = arrays["centers"]
        self._finish(arrays["labels"])
        return self
