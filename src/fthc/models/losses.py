"""Pretext losses, all masked so that padding does not dominate the reconstruction."""

from __future__ import annotations

import torch

from ..registry import Registry

PRETEXT_LOSSES: Registry = Registry("pretext loss")


def masked_mse(x_hat: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the valid steps of every channel."""
    m = mask[:, None, :].to(x.dtype)
    return ((x_hat - x) ** 2 * m).sum() / (m.sum() * x.shape[1]).clamp(min=1)


@PRETEXT_LOSSES.register("mse", needs_layer_pairs=False, needs_variational=False)
def mse_loss(x, x_hat, mask, enc_acts, dec_acts, extras, beta: float = 1.0):
    """Reconstruction error."""
    return masked_mse(x_hat, x, mask)


@PRETEXT_LOSSES.register("multi_rec", needs_layer_pairs=True, needs_variational=False)
def multi_rec_loss(x, x_hat, mask, enc_acts, dec_acts, extras, beta: float = 1.0):
    """Reconstruction error plus the MSE between each encoder layer and its mirrored decoder layer."""
    loss = masked_mse(x_hat, x, mask)
    for e, d in zip(enc_acts, dec_acts):
        loss = loss + torch.mean((e - d) ** 2)
    return loss


@PRETEXT_LOSSES.register("vae", needs_layer_pairs=False, needs_variational=True)
def vae_loss(x, x_hat, mask, enc_acts, dec_acts, extras, beta: float = 1.0):
    """Reconstruction error plus beta x KL(q(z|x) || N(0, I)), averaged over the batch."""
    mu, logvar = extras["mu"], extras["logvar"]
    kl = -0.5 * torch.mean(torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1))
    return masked_mse(x_hat, x, mask) + beta * kl / (x.shape[1] * x.shape[2])  # KL per input element, like the MSE
