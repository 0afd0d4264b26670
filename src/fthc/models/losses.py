"""Pretext losses of the autoencoders, all masked so that padding does not dominate the reconstruction.

Each takes the input, its mask and the network's `Forward` output."""

from __future__ import annotations

import torch

from ..registry import Registry

PRETEXT_LOSSES: Registry = Registry("pretext loss", flags={
    "needs_layer_pairs": False,  # compares mirrored encoder/decoder layers
    "needs_variational": False,  # needs the vae embedding's mean and log-variance
    "encoder": "autoencoder",  # the ENCODERS entry that trains with this pretext
    "needs_decoder": True,  # a reconstruction loss
    "needs_variable_length": False,  # trains on sub-histories of any length
})


def masked_mse(x_hat: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the valid steps of every channel."""
    m = mask[:, None, :].to(x.dtype)
    return ((x_hat - x) ** 2 * m).sum() / (m.sum() * x.shape[1]).clamp(min=1)


@PRETEXT_LOSSES.register("mse", needs_layer_pairs=False, needs_variational=False)
def mse_loss(x, mask, out, beta: float = 1.0):
    """Reconstruction error."""
    return masked_mse(out.reconstruction, x, mask)


@PRETEXT_LOSSES.register("multi_rec", needs_layer_pairs=True, needs_variational=False)
def multi_rec_loss(x, mask, out, beta: float = 1.0):
    """Reconstruction error plus the MSE between each encoder layer and its mirrored decoder layer."""
    loss = masked_mse(out.reconstruction, x, mask)
    for e, d in zip(out.encoder_activations, out.decoder_activations):
        loss = loss + torch.mean((e - d) ** 2)
    return loss


@PRETEXT_LOSSES.register("vae", needs_layer_pairs=False, needs_variational=True)
def vae_loss(x, mask, out, beta: float = 1.0):
    """Reconstruction error plus beta x KL(q(z|x) || N(0, I)), averaged over the batch."""
    mu, logvar = out.extras["mu"], out.extras["logvar"]
    kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1))
    return masked_mse(out.reconstruction, x, mask) + beta * kl / (x.shape[1] * x.shape[2])  # KL per input element, like the MSE


@PRETEXT_LOSSES.register("contrastive", encoder="contrastive", needs_decoder=False, needs_variable_length=True)
def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """InfoNCE / NT-Xent: two views of the same customer are positives, every other customer in the batch a
    negative (cosine similarity over `temperature`)."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    n = len(z1)
    sim.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return torch.nn.functional.cross_entropy(sim, target)
