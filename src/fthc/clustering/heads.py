"""Clustering heads: what turns latents into segments. Each owns fit, predict, predict_proba and its saved
arrays, and is created by name from `HEADS` (like aeon's deep clusterers take `estimator=`).

Every head is a scikit-learn clusterer (`check_estimator` passes for each registered one: tests/models/
test_heads.py): `fit(X, y=None)` on an array of latents, `labels_`, `predict`, `predict_proba`, inputs checked
by scikit-learn's `validate_data`. A head flagged `refines_encoder` (DTC) also takes `encoder=` and `data=`: it
then fine-tunes a copy of the encoder on the data and keeps it as `encoder_`, leaving the given encoder
untouched, so one fitted encoder can serve every head and k of a grid; on plain arrays it trains its layer alone.
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import ClusterMixin, clone
from sklearn.utils.validation import validate_data

from ..base import FthcEstimator
from ..progress import report
from ..registry import Registry
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


class Head(ClusterMixin, FthcEstimator):
    """Shared behaviour: input checks, fitted-state checks, sizes, and the degenerate flag (an empty cluster)."""

    fitted_attribute = "labels_"

    def _checked(self, X, reset: bool) -> np.ndarray:
        """X as a finite float64 matrix (scikit-learn's checks: no sparse, complex, NaN or inf input; on predict,
        the number of features seen in fit)."""
        if not reset:
            self.check_fitted()
        return validate_data(self, X, reset=reset, dtype=np.float64, ensure_min_samples=1 if not reset else
                             max(2, getattr(self, "k", 2)))

    def _finish(self, labels: np.ndarray) -> None:
        self.labels_ = np.asarray(labels, dtype=np.int64)
        self.cluster_sizes_ = np.bincount(self.labels_, minlength=self.k)
        self.degenerate_ = bool((self.cluster_sizes_ == 0).any())

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X).argmax(1)

    def resample_fit(self, X, seed: int | None = None) -> "Head":
        """A copy fitted on other customers in the same space (the segments' stability,
        `fthc.segments.stability`, refits on resampled customers this way); `seed`: its own fresh starts where
        the head has random starts, else it starts where this head ended."""
        return clone(self).fit(X)

    def starting_point(self) -> "Head":
        """An unfitted copy that stops where fitting this head starts: the head itself, unless it fine-tunes the
        encoder (then the partition it would refine, without the fine-tuning). `--k auto` judges k with it."""
        return clone(self)


INIT_SAMPLE = 50_000  # k-means starts are compared on at most this many customers, the best then runs on all


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

    def fit(self, X, y=None, encoder=None, data=None, init=None) -> "KMeansHead":
        """k-means (the best of `n_init` k-means++ starts; or one run from `init` centres). Above INIT_SAMPLE
        customers the starts are compared on a seeded sample of that size and the best one is run on all."""
        from sklearn.cluster import KMeans

        z = self._checked(X, reset=True)
        self._reset()
        self.n_features_in_ = z.shape[1]
        self.reducer_ = REDUCTIONS.create(self.reduction, self.reduced_dim, self.seed).fit(z)
        r = self.reducer_.transform(z)
        if init is None and len(r) > INIT_SAMPLE:
            rows = np.random.default_rng(self.seed).choice(len(r), INIT_SAMPLE, replace=False)
            init = KMeans(self.k, n_init=self.n_init, random_state=self.seed).fit(r[rows]).cluster_centers_
        km = KMeans(self.k, n_init=self.n_init if init is None else 1, random_state=self.seed,
                    init="k-means++" if init is None else np.asarray(init, dtype=np.float64))
        self.cluster_centers_ = km.fit(r).cluster_centers_
        self._finish(self._sq_dist(r).argmin(1))
        return self

    def resample_fit(self, X, seed: int | None = None) -> "KMeansHead":
        """k-means on other customers in this head's reduced space (its reducer): from fresh k-means++ starts of
        its own (`seed`), as a new fit on those customers would start, so that `confidence` says how reproducible
        an assignment is, not how far one solution jitters; from this head's centres without a seed."""
        from sklearn.cluster import KMeans

        z = self._checked(X, reset=False)
        twin = clone(self)
        twin.reducer_, twin.n_features_in_ = self.reducer_, self.n_features_in_
        r = self.reducer_.transform(z)
        km = KMeans(self.k, n_init=self.n_init, random_state=seed) if seed is not None else \
            KMeans(self.k, n_init=1, init=self.cluster_centers_, random_state=self.seed)
        twin.cluster_centers_ = km.fit(r).cluster_centers_
        twin._finish(twin._sq_dist(r).argmin(1))
        return twin

    def _sq_dist(self, r: np.ndarray) -> np.ndarray:
        """Squared distances to the centres, [n, k] (as |r|^2 - 2 r.c + |c|^2: no [n, k, d] array)."""
        c = self.cluster_centers_
        d2 = (r * r).sum(1)[:, None] - 2 * r @ c.T + (c * c).sum(1)[None, :]
        return np.maximum(d2, 0.0)

    def predict(self, X) -> np.ndarray:
        z = self._checked(X, reset=False)
        return self._sq_dist(self.reducer_.transform(z)).argmin(1)

    def predict_proba(self, X) -> np.ndarray:
        """Soft membership: a Student's t kernel on the distances to the centroids (not a probability of being
        right: `fthc.segments.stability` gives that)."""
        z = self._checked(X, reset=False)
        return student_t(self._sq_dist(self.reducer_.transform(z)), self.alpha)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"cluster_centers": self.cluster_centers_,
                **{f"reducer.{k}": v for k, v in self.reducer_.arrays().items()}}

    def load_arrays(self, arrays: dict[str, np.ndarray], encoder=None) -> "KMeansHead":
        self.cluster_centers_ = arrays["cluster_centers"]
        self.reducer_ = REDUCTIONS.create(self.reduction, self.reduced_dim, self.seed).load_arrays(
            {k[len("reducer."):]: v for k, v in arrays.items() if k.startswith("reducer.")})
        self._finish(arrays["labels"])
        if "n_features_in" in arrays:  # formats 1-3 did not record it: the input is then not checked for it
            self.n_features_in_ = int(arrays["n_features_in"])
        elif self.reduction == "none":
            self.n_features_in_ = self.cluster_centers_.shape[1]
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

    def fit(self, X, y=None, encoder=None, data=None) -> "DTCHead":
        """With `encoder` and `data`: DTC as the paper trains it (a copy of the encoder fine-tuned with the layer).
        On latents alone: the layer's centroids trained on KL(P||Q) with the latents held fixed."""
        import torch

        from ..threads import torch_budget
        from .dtc import DTCLayer, centroids_from_labels, initial_labels

        if (encoder is None) != (data is None):
            raise TypeError("the dtc head fine-tunes an encoder on its data: give both encoder= and data=, or neither")
        z = self._checked(X, reset=True)
        self._reset()
        torch_budget()
        self.n_features_in_ = z.shape[1]
        if encoder is not None:
            encoder = copy.deepcopy(encoder)  # the caller's encoder stays as it was
            network, device, shape = encoder.network_, encoder.device_, encoder.network_.embedding.latent_shape
            start = copy.deepcopy(network.state_dict())
        else:
            network, device, shape, start = None, torch.device("cpu"), (z.shape[1],), None
        rng = np.random.default_rng(self.seed)
        # the latents of the starting encoder, as the given z: every attempt starts from them
        zt = torch.as_tensor(z.astype(np.float32), device=device).view(len(z), *shape)
        min_size = max(2, int(0.01 * len(z)))
        self.history_ = {"dtc_loss": [], "dtc_diverged": False}
        attempts = []
        for attempt in range(self.max_restarts + 1):
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed + 1000 * (attempt + 1))
                gen = torch.Generator().manual_seed(self.seed + 1000 * (attempt + 1))
                if network is not None:
                    network.load_state_dict(start)
                labels, how = initial_labels(zt, self.k, self.distance, self.init if attempt == 0 else "kmeans++",
                                             rng, min_size)
                layer = DTCLayer(centroids_from_labels(zt, labels, self.k), self.distance, self.alpha).to(device)
                losses = self._train(encoder, layer, data, gen) if encoder is not None else \
                    self._train_layer(layer, zt, gen)
                with torch.no_grad():  # no step taken (0 batches): the network is unchanged, its latents are z
                    latents = encoder.embed(data) if losses and encoder is not None else zt
                    finite = bool(torch.isfinite(layer(latents)).all())
                if not finite:  # the last step produced non-finite weights: back to the start
                    self.history_["dtc_diverged"] = True
                    if network is not None:
                        network.load_state_dict(start)
                    layer = DTCLayer(centroids_from_labels(zt, labels, self.k), self.distance, self.alpha).to(device)
                    latents = zt
            labels = _soft_assignment_f64(latents, layer).argmax(1)  # as predict computes them
            filled = int((np.bincount(labels, minlength=self.k) > 0).sum())
            state = copy.deepcopy(network.state_dict()) if network is not None else None
            attempts.append((filled, attempt, state, layer, labels, how, losses))
            if filled == self.k:
                break
        filled, attempt, state, layer, labels, how, losses = max(attempts, key=lambda a: (a[0], -a[1]))
        if network is not None:
            network.load_state_dict(state)
            network.eval()
        self.encoder_, self.layer_ = encoder, layer
        self.init_method_, self.restarts_ = how, len(attempts) - 1
        self.history_["dtc_loss"] = losses
        self._finish(labels)
        return self

    def _train(self, encoder, layer, data, gen) -> list[float]:
        import torch

        from .dtc import kl_divergence, target_distribution

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
            if not self._step(opt, loss, losses):
                break
            report("dtc", len(losses), self.batches, losses[-1])
        return losses

    def _train_layer(self, layer, zt, gen) -> list[float]:
        """The centroids alone trained on KL(P||Q), the latents held fixed (no encoder to fine-tune)."""
        import torch

        from ..models.inputs import shuffled_batches
        from .dtc import kl_divergence, target_distribution

        if self.batches == 0:
            return []
        opt = torch.optim.Adam(layer.parameters(), lr=self.lr)
        losses, p_all = [], None
        for b, idx in enumerate(shuffled_batches(len(zt), self.batches, self.batch_size, gen)):
            if b % self.update_interval == 0:
                with torch.no_grad():
                    p_all = target_distribution(layer(zt))
            loss = kl_divergence(p_all[idx], layer(zt[idx]))
            if not self._step(opt, loss, losses):
                break
        return losses

    def _step(self, opt, loss, losses: list[float]) -> bool:
        """One optimiser step on `loss`, its value appended to `losses`; False where the loss is not finite
        (diverged: training stops at the last finite state, and `history_` says so)."""
        import torch

        if not torch.isfinite(loss):
            self.history_["dtc_diverged"] = True
            return False
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        return True

    def predict_proba(self, X) -> np.ndarray:
        """The DTC layer's soft assignments q (the latents must come from `encoder_` where there is one).

        Computed in float64 on the CPU: a customer's q then does not depend on which other customers share its
        batch (float32 matrix products are blocked differently for different batch sizes on some CPUs, AMX
        among them, and moved 7 of 80 values in scikit-learn's subset-invariance check)."""
        return _soft_assignment_f64(self._checked(X, reset=False), self.layer_)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"centroids": self.layer_.centroids.detach().cpu().numpy()}

    def load_arrays(self, arrays: dict[str, np.ndarray], encoder=None) -> "DTCHead":
        import torch

        from .dtc import DTCLayer

        self.layer_ = DTCLayer(torch.as_tensor(arrays["centroids"]), self.distance, self.alpha)
        self.encoder_ = encoder
        self._finish(arrays["labels"])
        self.n_features_in_ = int(np.prod(arrays["centroids"].shape[1:]))
        return self


def _soft_assignment_f64(z, layer) -> np.ndarray:
    """A DTC layer's soft assignments of latents `z` in float64 on the CPU (fit's labels and predict alike)."""
    import torch

    from .dtc import soft_assignment

    with torch.no_grad():
        centroids = layer.centroids.detach().cpu().double()
        zt = torch.as_tensor(np.asarray(z.cpu() if hasattr(z, "cpu") else z), dtype=torch.float64)
        return soft_assignment(layer.fn(zt.view(len(zt), *centroids.shape[1:]), centroids), layer.alpha).numpy()


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

    def fit(self, X, y=None, encoder=None, data=None, init=None) -> "GMMHead":
        """`init`: means to start one run from (a refit on resampled customers), instead of k-means starts."""
        from sklearn.cluster import KMeans
        from sklearn.mixture import GaussianMixture

        z = self._checked(X, reset=True)
        self._reset()
        self.n_features_in_ = z.shape[1]
        best = None
        for start in range(self.n_init if init is None else 1):
            km = KMeans(self.k, n_init=1, random_state=self.seed + start,
                        init="k-means++" if init is None else np.asarray(init)).fit(z)
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

    def resample_fit(self, X, seed: int | None = None) -> "GMMHead":
        if seed is not None:  # fresh starts of its own, as a new fit on these customers would start
            return clone(self).set_params(seed=seed).fit(X)
        return clone(self).fit(X, init=self.centers_ if self.fallback_ else self.mixture_.means_)

    def predict_proba(self, X) -> np.ndarray:
        """The mixture's posterior probability of each component."""
        z = self._checked(X, reset=False)
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
        self.n_features_in_ = gm.means_.shape[1]
        return self
