"""The network a pretext stage trains: an autoencoder and the embedding from its features to the latent."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .autoencoders import AUTOENCODERS
from .embeddings import EMBEDDINGS


@dataclass
class Forward:
    """What one forward pass gives: the latent, the reconstruction, mirrored activations, embedding extras."""

    latent: torch.Tensor
    reconstruction: torch.Tensor
    encoder_activations: list[torch.Tensor] = field(default_factory=list)
    decoder_activations: list[torch.Tensor] = field(default_factory=list)
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def float(self) -> "Forward":
        """The same pass in float32 (after a bf16 autocast forward; losses are computed in float32)."""
        return Forward(self.latent.float(), self.reconstruction.float(),
                       [a.float() for a in self.encoder_activations], [a.float() for a in self.decoder_activations],
                       {k: v.float() for k, v in self.extras.items()})


class Network(nn.Module):
    """Autoencoder + embedding, built by name from their registries."""

    def __init__(self, autoencoder: str, embedding: str, in_channels: int, seq_len: int, latent_dim: int,
                 arch: dict | None = None):
        super().__init__()
        self.autoencoder = AUTOENCODERS.create(autoencoder, in_channels, seq_len, latent_dim, **(arch or {}))
        self.embedding = EMBEDDINGS.create(embedding, self.autoencoder.feature_shape, latent_dim)

    def embed(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h, _ = self.autoencoder.encode(x, mask)
        z, _ = self.embedding(h)
        return z

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> Forward:
        h, enc_acts = self.autoencoder.encode(x, mask)
        z, extras = self.embedding(h)
        x_hat, dec_acts = self.autoencoder.decode(z, x.shape[-1])
        return Forward(z, x_hat, enc_acts, dec_acts, extras)
