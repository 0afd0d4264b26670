"""Pretext encoders: a network trained with a pretext loss, then used to embed customers.

Each follows scikit-learn's conventions: the constructor only stores parameters, `fit` returns self, fitted
attributes end in `_`, `clone` works. `transform` gives latents [n, d]; `state` / `from_state` carry a fitted
encoder between processes (the grid's pretext reuse). Encoders are created by name from `ENCODERS`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..base import FthcEstimator
from ..errors import DataError, TrainingError
from ..registry import Registry
from ..progress import report
from .autoencoders import AUTOENCODERS
from .inputs import Inputs, as_inputs, resolve_device, shuffled_batches
from .losses import PRETEXT_LOSSES
from .network import Forward, Network

ENCODERS: Registry = Registry("pretext encoder")


class PretextEncoder(FthcEstimator):
    """Shared behaviour of the pretext encoders: fitted-state checks, input checks, batched embedding."""

    fitted_attribute = "network_"

    @property
    def device_(self) -> torch.device:
        return resolve_device(self.device)

    def _check_shape(self, data: Inputs) -> Inputs:
        self.check_fitted()
        if tuple(data.X.shape[1:]) != (self.n_channels_, self.seq_len_):
            raise DataError(f"input has {data.X.shape[1]} channels x {data.X.shape[2]} steps; the model was fitted "
                            f"on {self.n_channels_} x {self.seq_len_}",
                            expected="series built with the model's series spec")
        return data

    def embed(self, data: Inputs, network: torch.nn.Module | None = None, batch: int = 256) -> torch.Tensor:
        """Latents as one tensor (eval mode, no gradient), in input order."""
        network = network or self.network_
        network.eval()
        out = []
        with torch.no_grad():
            for i in range(0, len(data.X), batch):
                x, m = data.X[i: i + batch].to(self.device_), data.mask[i: i + batch].to(self.device_)
                out.append(network.embed(x, m))
        return torch.cat(out) if out else torch.zeros((0, 0))

    def transform(self, X, mask=None) -> np.ndarray:
        """Latent vectors [n, d] (the VAE's mean; DTC latent series flattened)."""
        data = self._check_shape(as_inputs(X, mask))
        return self.embed(data).flatten(1).cpu().numpy()

    def arrays(self) -> dict[str, np.ndarray]:
        """Fitted arrays besides the network weights (saved in the model folder's clustering.npz)."""
        return {}

    def load_arrays(self, arrays: dict[str, np.ndarray], channels=None, scaling=None) -> "PretextEncoder":
        return self

    def state(self) -> dict[str, Any]:
        """The fitted weights and input shape, to rebuild this encoder without training (weights-only safe)."""
        self.check_fitted()
        return {"weights": {k: v.detach().cpu().clone() for k, v in self.network_.state_dict().items()},
                "input_shape": torch.tensor([self.n_channels_, self.seq_len_]),
                "arrays": {k: torch.as_tensor(np.asarray(v)) for k, v in self.arrays().items()},
                "channels": getattr(self, "channels_", None), "scaling": getattr(self, "scaling_", None)}

    def from_state(self, state: dict[str, Any]) -> "PretextEncoder":
        """Become the fitted encoder that `state()` described (no training)."""
        self._reset()
        self.n_channels_, self.seq_len_ = (int(v) for v in state["input_shape"])
        self.network_ = self.build_network(self.n_channels_, self.seq_len_).to(self.device_)
        self.network_.load_state_dict(state["weights"])
        self.network_.eval()
        self.history_ = {"pretext_loss": []}
        self.fit_seconds_ = 0.0
        self.load_arrays({k: np.asarray(v) for k, v in state.get("arrays", {}).items()}, state.get("channels"),
                         state.get("scaling"))
        return self


@ENCODERS.register("autoencoder")
class AutoencoderEncoder(PretextEncoder):
    """The paper's pretext stage: an autoencoder (fcnn, resnet, lstm, dtc, resnet_pool) trained to reconstruct
    the series with a pretext loss (mse, multi_rec, vae); the latent is its bottleneck."""

    def __init__(self, autoencoder: str = "resnet", pretext: str = "mse", embedding: str = "vector",
                 latent_dim: int = 10, batches: int = 1000, batch_size: int = 32, lr: float = 1e-3,
                 vae_beta: float = 1.0, arch: dict | None = None, seed: int = 0, device: str = "auto"):
        self.autoencoder = autoencoder
        self.pretext = pretext
        self.embedding = embedding
        self.latent_dim = latent_dim
        self.batches = batches
        self.batch_size = batch_size
        self.lr = lr
        self.vae_beta = vae_beta
        self.arch = arch
        self.seed = seed
        self.device = device

    def build_network(self, n_channels: int, seq_len: int) -> Network:
        return Network(self.autoencoder, self.embedding, n_channels, seq_len, self.latent_dim, self.arch)

    def pretext_loss(self, x: torch.Tensor, mask: torch.Tensor, out: Forward) -> torch.Tensor:
        return PRETEXT_LOSSES.create(self.pretext, x, mask, out, beta=self.vae_beta)

    def fit(self, X, mask=None) -> "AutoencoderEncoder":
        data = as_inputs(X, mask)
        min_len = AUTOENCODERS.get(self.autoencoder).flag("min_seq_len")
        if data.X.shape[2] < min_len:
            raise DataError(f"seq_len {data.X.shape[2]} is too short for the {self.autoencoder!r} autoencoder",
                            expected=f"seq_len >= {min_len}")
        self._reset()
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's global RNG
            torch.manual_seed(self.seed)
            gen = torch.Generator().manual_seed(self.seed)
            _, self.n_channels_, self.seq_len_ = data.X.shape
            network = self.build_network(self.n_channels_, self.seq_len_).to(self.device_)
            self.history_ = {"pretext_loss": []}
            opt = torch.optim.Adam(network.parameters(), lr=self.lr)
            network.train()
            for idx in shuffled_batches(len(data.X), self.batches, self.batch_size, gen):
                x, m = data.X[idx].to(self.device_), data.mask[idx].to(self.device_)
                loss = self.pretext_loss(x, m, network(x, m))
                if not torch.isfinite(loss):
                    raise TrainingError(f"pretext loss became {float(loss)} at batch "
                                        f"{len(self.history_['pretext_loss'])}; lower lr (now {self.lr})")
                opt.zero_grad()
                loss.backward()
                opt.step()
                self.history_["pretext_loss"].append(float(loss.detach()))
                report("pretext", len(self.history_["pretext_loss"]), self.batches, self.history_["pretext_loss"][-1])
        self.network_ = network.eval()
        self.fit_seconds_ = time.perf_counter() - t0
        return self
