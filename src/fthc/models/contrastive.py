"""A contrastive behaviour encoder (CoLES, Babaev et al. SIGMOD 2022) with a hybrid view.

Training: for each customer in a batch, two random contiguous sub-histories (CoLES's slices) with light
augmentations (amount jitter, event dropout) are embedded by a GRU; NT-Xent pulls the two views of a
customer together and pushes other customers away, so the embedding keeps what is stable in a customer's
behaviour (timing, regularity, the rhythm of kinds), whatever window is seen.

Contrastive learning alone separates *customers*, not segments, and misses levels that any window shares
(issue 9 measured CoLES alone at a quarter of summary features' ARI). So with `feature_weight` > 0 `transform`
returns a hybrid view: the behaviour features of the same customers (`fthc.models.feature_encoder`: levels, mix,
balance, regularity) and the standardised embedding, each block scaled to a stated share of the total variance.
The hybrid reads both the series and the behaviour measures (`CustomerInputs`).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..errors import ArtefactError, TrainingError
from ..progress import report
from ..threads import torch_budget
from .encoders import ENCODERS, PretextEncoder
from ..errors import DataError
from .feature_encoder import FeatureEncoder
from .inputs import Inputs, as_inputs, shuffled_batches
from .losses import PRETEXT_LOSSES
from .precision import autocast
from .registries import CustomerInputs


def right_aligned(data: Inputs) -> tuple[torch.Tensor, torch.Tensor]:
    """Each customer's valid steps first, in order (left padding or gaps in the mask become right padding)."""
    order = torch.argsort((~data.mask).to(torch.int8), dim=1, stable=True)
    X = torch.gather(data.X, 2, order[:, None, :].expand_as(data.X))
    return X, data.mask.sum(1)


@ENCODERS.register("contrastive")
class ContrastiveEncoder(PretextEncoder):
    """GRU (or another variable-length encoder) trained with NT-Xent on random sub-histories; embeds the
    whole history, joined with behaviour features (`feature_weight` of the variance; 0: embedding only)."""

    def __init__(self, autoencoder: str = "gru", pretext: str = "contrastive", embedding: str = "vector",
                 latent_dim: int = 32, batches: int = 300, batch_size: int = 64, lr: float = 2e-3,
                 temperature: float = 0.1, min_slice: int = 8, max_slice: int = 120, jitter: float = 0.05,
                 dropout: float = 0.1, feature_weight: float = 0.5, arch: dict | None = None, seed: int = 0,
                 device: str = "auto", precision: str = "auto", length_buckets: bool = True):
        self.autoencoder = autoencoder
        self.pretext = pretext
        self.embedding = embedding
        self.latent_dim = latent_dim
        self.batches = batches
        self.batch_size = batch_size
        self.lr = lr
        self.temperature = temperature
        self.min_slice = min_slice
        self.max_slice = max_slice
        self.jitter = jitter
        self.dropout = dropout
        self.feature_weight = feature_weight
        self.arch = arch
        self.seed = seed
        self.device = device
        self.precision = precision
        self.length_buckets = length_buckets

    def as_input(self, X, mask=None):
        """Series alone (embedding only), or `CustomerInputs` with the behaviour measures (the hybrid view)."""
        if isinstance(X, CustomerInputs):
            return CustomerInputs(as_inputs(X.series, mask), X.behaviour)
        if self.feature_weight > 0:
            raise DataError("the hybrid view (feature_weight > 0) reads the behaviour measures beside the series",
                            expected="CustomerInputs(series, behaviour measures): fthc.Segmenter builds them")
        return as_inputs(X, mask)

    def _views(self, X: torch.Tensor, lengths: torch.Tensor, gen: torch.Generator):
        """One random slice per customer: start and length drawn per customer, then augmented."""
        n = len(X)
        hi = torch.clamp(lengths, max=self.max_slice)
        lo = torch.minimum(torch.full_like(hi, self.min_slice), hi)
        span = lo + (torch.rand(n, generator=gen) * (hi - lo + 1).float()).long().clamp(max=hi - lo)
        start = (torch.rand(n, generator=gen) * (lengths - span + 1).float()).long()
        width = int(span.max())
        steps = torch.arange(width)
        index = (start[:, None] + steps[None, :]).clamp(max=X.shape[2] - 1)
        x = torch.gather(X, 2, index[:, None, :].expand(-1, X.shape[1], -1)).clone()
        mask = steps[None, :] < span[:, None]
        if self.dropout > 0:  # drop events, keeping at least the first, then close the gaps
            keep = (torch.rand(mask.shape, generator=gen) >= self.dropout) | (steps[None, :] == 0)
            mask = mask & keep
            order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
            x = torch.gather(x, 2, order[:, None, :].expand_as(x))
            mask = steps[None, :] < mask.sum(1, keepdim=True)
        if self.jitter > 0:  # amounts and balances move a little
            x[:, :2] += self.jitter * torch.randn(x[:, :2].shape, generator=gen)
        return x * mask[:, None, :], mask

    def fit(self, X, mask=None) -> "ContrastiveEncoder":
        given = self.as_input(X, mask)
        data = given.series if isinstance(given, CustomerInputs) else given
        self._reset()
        torch_budget()
        t0 = time.perf_counter()
        Xr, lengths = right_aligned(data)
        lengths = lengths.clamp(min=1)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            gen = torch.Generator().manual_seed(self.seed)
            _, self.n_channels_, self.seq_len_ = data.X.shape
            network = self.build_network(self.n_channels_, self.seq_len_).to(self.device_)
            opt = torch.optim.Adam(network.parameters(), lr=self.lr)
            self.history_ = {"pretext_loss": []}
            network.train()
            for idx in shuffled_batches(len(data), self.batches, self.batch_size, gen):
                if len(idx) < 2:
                    break  # one customer has no negatives to contrast with
                (x1, m1), (x2, m2) = (self._views(Xr[idx], lengths[idx], gen) for _ in range(2))
                with autocast(self.device_, self.precision_):
                    z1 = network.embed(x1.to(self.device_), m1.to(self.device_)).float()
                    z2 = network.embed(x2.to(self.device_), m2.to(self.device_)).float()
                loss = PRETEXT_LOSSES.create(self.pretext, z1, z2, temperature=self.temperature)
                if not torch.isfinite(loss):
                    raise TrainingError(f"contrastive loss became {float(loss)}; lower lr (now {self.lr})")
                opt.zero_grad()
                loss.backward()
                opt.step()
                self.history_["pretext_loss"].append(float(loss.detach()))
                report("contrastive", len(self.history_["pretext_loss"]), self.batches,
                       self.history_["pretext_loss"][-1])
        self.network_ = network.eval()
        self._fit_scales(given)
        self.fit_seconds_ = time.perf_counter() - t0
        return self

    def _fit_scales(self, given) -> None:
        """Standardisation of both blocks, fitted on the training customers and stored with the model."""
        data = given.series if isinstance(given, CustomerInputs) else given
        self.channels_, self.scaling_ = data.channels, data.scaling
        if self.feature_weight < 1:  # the embedding is part of the view
            z = self._embedding(data)
            self.embedding_mean_, self.embedding_scale_ = z.mean(0), max(float(np.sqrt(z.var(0).sum())), 1e-12)
        if self.feature_weight > 0:
            self.features_ = FeatureEncoder().fit(given.behaviour)

    def _embedding(self, data: Inputs) -> np.ndarray:
        X, _ = right_aligned(data)
        m = torch.arange(X.shape[2])[None, :] < data.mask.sum(1, keepdim=True)
        return self.embed(Inputs(X, m)).cpu().numpy().astype(np.float64)

    def transform(self, X, mask=None) -> np.ndarray:
        """[embedding * sqrt(1 - w) | features * sqrt(w)], each block standardised to unit total variance."""
        given = self.as_input(X, mask)
        data = self._check_shape(given.series if isinstance(given, CustomerInputs) else given)
        blocks = []
        if self.feature_weight < 1:
            z = (self._embedding(data) - self.embedding_mean_) / self.embedding_scale_
            blocks.append(np.sqrt(1 - self.feature_weight) * z)
        if self.feature_weight > 0:
            F = self.features_.transform(given.behaviour)
            blocks.append(np.sqrt(self.feature_weight / F.shape[1]) * F)
        return np.hstack(blocks).astype(np.float32)

    def arrays(self) -> dict[str, np.ndarray]:
        out = {}
        if self.feature_weight < 1:
            out |= {"embedding_mean": self.embedding_mean_, "embedding_scale": np.array(self.embedding_scale_)}
        if self.feature_weight > 0:
            out |= {f"features.{k}": v for k, v in self.features_.arrays().items()}
        return out

    def load_arrays(self, arrays: dict[str, np.ndarray], channels=None, scaling=None) -> "ContrastiveEncoder":
        if self.feature_weight < 1:
            self.embedding_mean_, self.embedding_scale_ = arrays["embedding_mean"], float(arrays["embedding_scale"])
        if self.feature_weight > 0:
            if "feature_mean" in arrays:  # fthc 0.1 read its features off the series, which this one does not
                raise ArtefactError("this model's behaviour features were read off its series by fthc 0.1; this "
                                    "fthc defines them from the transactions: refit it with `fthc segment`")
            self.features_ = FeatureEncoder().load_arrays(
                {k[len("features."):]: v for k, v in arrays.items() if k.startswith("features.")})
        self.channels_, self.scaling_ = channels, scaling
        return self

