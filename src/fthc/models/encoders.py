"""Pretext encoders: a network trained with a pretext loss, then used to embed customers.

Each follows scikit-learn's conventions: the constructor only stores parameters, `fit` returns self, fitted
attributes end in `_`, `clone` works. `transform` gives latents [n, d]; `state` / `from_state` carry a fitted
encoder between processes (the grid's pretext reuse). Encoders are created by name from `ENCODERS`.
"""

from __future__ import annotations

import functools

import time
from typing import Any

import numpy as np
import torch

from ..base import FthcEstimator
from ..errors import DataError, TrainingError
from ..progress import report
from ..threads import torch_budget
from .autoencoders import AUTOENCODERS
from .inputs import Inputs, as_inputs, length_bucketed_batches, resolve_device, shuffled_batches
from .losses import PRETEXT_LOSSES
from .network import Forward, Network
from .precision import autocast, resolve_precision
from .registries import ENCODERS



class PretextEncoder(FthcEstimator):
    """Shared behaviour of the pretext encoders: fitted-state checks, input checks, batched embedding."""

    fitted_attribute = "network_"

    @staticmethod
    def as_input(X, mask=None) -> Inputs:
        """What `fit` and `transform` read: a SeriesSet or an array of series, as checked tensors."""
        return as_inputs(X, mask)

    @property
    def device_(self) -> torch.device:
        return resolve_device(self.device)

    @property
    def precision_(self) -> str:
        """The precision the network runs in here ('fp32' or 'bf16'; `precision='auto'` decides per device and
        per architecture: an autoencoder flagged `bf16=False` is not faster in bf16 and stays float32)."""
        if not AUTOENCODERS.get(self.autoencoder).flag("bf16"):
            return "fp32" if self.precision in ("auto", "fp32") else resolve_precision(self.precision, self.device_)
        return resolve_precision(self.precision, self.device_, bf16_calibration)

    @property
    def variable_length_(self) -> bool:
        """Whether batches are cropped to their longest history: the network gives the same latent whatever
        follows a history (its `variable_length` flag) and `length_buckets` is on."""
        return self.length_buckets and AUTOENCODERS.get(self.autoencoder).flag("variable_length")

    def build_network(self, n_channels: int, seq_len: int) -> Network:
        """The untrained network of this encoder's autoencoder, embedding and width."""
        return Network(self.autoencoder, self.embedding, n_channels, seq_len, self.latent_dim, self.arch)

    def forward(self, network: torch.nn.Module, x: torch.Tensor, mask: torch.Tensor) -> Forward:
        """One training forward pass in the encoder's precision; what comes back is float32."""
        with autocast(self.device_, self.precision_):
            out = network(x, mask)
        return out.float()

    def training_batches(self, data: Inputs, count: int, size: int, gen: torch.Generator):
        """(index, x, mask) for `count` training batches on the device. Variable-length networks get batches of
        similar lengths, each cropped to its longest history; fixed-length ones (the paper's FCNN and ResNet,
        DTC's temporal latent) see every series at full length."""
        if not self.variable_length_:
            for idx in shuffled_batches(len(data.X), count, size, gen):
                yield idx, data.X[idx].to(self.device_), data.mask[idx].to(self.device_)
            return
        extent = data.extent()
        for idx in length_bucketed_batches(extent, count, size, gen):
            width = max(int(extent[idx].max()), 1)
            yield idx, data.X[idx, :, :width].to(self.device_), data.mask[idx, :width].to(self.device_)

    def _check_shape(self, data: Inputs) -> Inputs:
        self.check_fitted()
        if tuple(data.X.shape[1:]) != (self.n_channels_, self.seq_len_):
            raise DataError(f"input has {data.X.shape[1]} channels x {data.X.shape[2]} steps; the model was fitted "
                            f"on {self.n_channels_} x {self.seq_len_}",
                            expected="series built with the model's series spec")
        return data

    def embed(self, data: Inputs, network: torch.nn.Module | None = None, batch: int = 256) -> torch.Tensor:
        """Float32 latents as one tensor (eval mode, no gradient), in input order. Variable-length networks read
        customers in order of length, each batch cropped to its longest history."""
        network = network or self.network_
        network.eval()
        n = len(data.X)
        extent = data.extent() if self.variable_length_ else None
        order = torch.argsort(extent, stable=True) if extent is not None else torch.arange(n)
        out = []
        with torch.no_grad(), autocast(self.device_, self.precision_):
            for i in range(0, n, batch):
                idx = order[i: i + batch]
                width = max(int(extent[idx].max()), 1) if extent is not None else data.X.shape[2]
                x, m = data.X[idx, :, :width].to(self.device_), data.mask[idx, :width].to(self.device_)
                out.append(network.embed(x, m).float())
                report("embedding", i // batch + 1, -(-n // batch))
        if not out:
            return torch.zeros((0, 0))
        latents = torch.cat(out)
        return latents[torch.argsort(order)]

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
                 vae_beta: float = 1.0, arch: dict | None = None, seed: int = 0, device: str = "auto",
                 precision: str = "auto", length_buckets: bool = True):
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
        self.precision = precision
        self.length_buckets = length_buckets

    def pretext_loss(self, x: torch.Tensor, mask: torch.Tensor, out: Forward) -> torch.Tensor:
        return PRETEXT_LOSSES.create(self.pretext, x, mask, out, beta=self.vae_beta)

    def fit(self, X, mask=None) -> "AutoencoderEncoder":
        data = as_inputs(X, mask)
        min_len = AUTOENCODERS.get(self.autoencoder).flag("min_seq_len")
        if data.X.shape[2] < min_len:
            raise DataError(f"seq_len {data.X.shape[2]} is too short for the {self.autoencoder!r} autoencoder",
                            expected=f"seq_len >= {min_len}")
        self._reset()
        torch_budget()
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's global RNG
            torch.manual_seed(self.seed)
            gen = torch.Generator().manual_seed(self.seed)
            _, self.n_channels_, self.seq_len_ = data.X.shape
            network = self.build_network(self.n_channels_, self.seq_len_).to(self.device_)
            self.history_ = {"pretext_loss": []}
            opt = torch.optim.Adam(network.parameters(), lr=self.lr)
            network.train()
            for _, x, m in self.training_batches(data, self.batches, self.batch_size, gen):
                loss = self.pretext_loss(x, m, self.forward(network, x, m))
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


@functools.cache
def bf16_calibration(device_type: str = "cpu") -> float:
    """How far bf16 training lands from float32 on this machine (`fthc.models.precision`): the relative difference
    of the pretext losses of the paper's ResNet (8 filters) after 20 batches on seeded sinusoids with some shorter
    histories, same start, same batches: the training `tests/models/test_every_component.py` checks `auto` on."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 4 * np.pi, 30)
    group = np.arange(36) % 3
    X = np.stack([np.sin(t * (1 + g)) + 0.3 * rng.normal(size=30) for g in group])[:, None, :]
    X = np.concatenate([X, rng.normal(size=X.shape)], axis=1).astype(np.float32)
    mask = np.ones((36, 30), dtype=bool)
    mask[::4, 25:] = False  # some shorter histories
    X[~np.broadcast_to(mask[:, None, :], X.shape)] = 0
    losses = {}
    # a calibration first asked for at scoring time runs inside the caller's no-grad block: it trains, so grad on
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        for p in ("fp32", "bf16"):
            enc = AutoencoderEncoder("resnet", latent_dim=4, batches=20, batch_size=8, arch={"filters": 8},
                                     device=device_type, precision=p).fit(X, mask)
            losses[p] = enc.history_["pretext_loss"][-1]
    return abs(losses["bf16"] - losses["fp32"]) / max(abs(losses["fp32"]), 1e-12)
