"""Embeddings: from encoder features to the latent the clustering sees."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..registry import Registry

EMBEDDINGS: Registry = Registry("embedding", flags={"requires_native_latent": False, "variational": False})


@EMBEDDINGS.register("identity", requires_native_latent=True, variational=False)
class Identity(nn.Module):
    """The encoder's own output is the latent (LSTM final states, DTC latent series)."""

    def __init__(self, feature_shape: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.latent_shape = tuple(feature_shape)

    def forward(self, h):
        return h, {}


@EMBEDDINGS.register("vector", requires_native_latent=False, variational=False)
class Vector(nn.Module):
    """A linear map from the encoder's features to a latent vector (no ReLU: latents may be negative)."""

    def __init__(self, feature_shape: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.linear = nn.Linear(math.prod(feature_shape), latent_dim)
        self.latent_shape = (latent_dim,)

    def forward(self, h):
        return self.linear(h.flatten(1)), {}


@EMBEDDINGS.register("vae", requires_native_latent=False, variational=True)
class Variational(nn.Module):
    """Mean and log-variance; samples while training, embeds with the mean otherwise."""

    def __init__(self, feature_shape: tuple[int, ...], latent_dim: int):
        super().__init__()
        self.mu = nn.Linear(math.prod(feature_shape), latent_dim)
        self.logvar = nn.Linear(math.prod(feature_shape), latent_dim)
        self.latent_shape = (latent_dim,)

    def forward(self, h):
        h = h.flatten(1)
        mu, logvar = self.mu(h), self.logvar(h).clamp(-20, 20)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return z, {"mu": mu, "logvar": logvar}
