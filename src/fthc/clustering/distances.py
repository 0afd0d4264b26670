"""Distances between latent series, batched: [n, T, d] x [k, T, d] -> [n, k] in one tensor operation.

Vector latents are series of length latent_dim with one channel. All are differentiable and run on the
tensors' device; `pairwise` chunks the rows so that n x n matrices fit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.spatial.distance import pdist

from ..registry import Registry

DISTANCES: Registry = Registry("distance")
EPS = 1e-8


@dataclass(frozen=True)
class Distance:
    """One distance in its two forms: batched and differentiable (training) and condensed (the linkage)."""

    batch: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # [n, ...] x [k, ...] -> [n, k]
    condensed: Callable[[torch.Tensor], np.ndarray]  # all pairs i < j in scipy's order, float64

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.batch(a, b)


def as_series(z: torch.Tensor) -> torch.Tensor:
    """[n, D] -> [n, D, 1]; [n, T, d] unchanged."""
    return z[..., None] if z.dim() == 2 else z


def _sq_euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a, b = a.flatten(1), b.flatten(1)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return d2.clamp(min=0)


def euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance."""
    return torch.sqrt(_sq_euclidean(as_series(a), as_series(b)) + EPS)


def complexity(z: torch.Tensor) -> torch.Tensor:
    """Complexity estimate of each series: length of its line along the time axis (Batista et al. 2014)."""
    z = as_series(z)
    return torch.sqrt(((z[:, 1:] - z[:, :-1]) ** 2).sum(dim=(1, 2)) + EPS)


def complexity_invariant(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Complexity-invariant distance: Euclidean x max(CE_a, CE_b) / min(CE_a, CE_b) (not detached)."""
    ca, cb = complexity(a)[:, None], complexity(b)[None, :]
    factor = torch.maximum(ca, cb) / torch.minimum(ca, cb)
    return euclidean(a, b) * factor


def correlation(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """sqrt(2 (1 - Pearson correlation along time)), averaged over channels."""
    a, b = as_series(a), as_series(b)

    def standardise(z):
        z = z - z.mean(dim=1, keepdim=True)
        return z / torch.sqrt((z * z).mean(dim=1, keepdim=True) + 1e-6)  # a flat series correlates with nothing

    sa, sb = standardise(a), standardise(b)
    corr = torch.einsum("ntd,ktd->nk", sa, sb) / (a.shape[1] * a.shape[2])
    return torch.sqrt((2 * (1 - corr)).clamp(min=0) + EPS)


def pairwise(z: torch.Tensor, name: str, chunk: int = 2048) -> torch.Tensor:
    """The full [n, n] distance matrix, computed in row chunks (no gradient)."""
    fn = DISTANCES.get(name).build
    with torch.no_grad():
        rows = [fn(z[i: i + chunk], z) for i in range(0, len(z), chunk)]
    d = torch.cat(rows)
    d.fill_diagonal_(0)
    return 0.5 * (d + d.T)  # exact symmetry for the linkage


def _rows(n: int):
    return [(i, slice(i + 1, n)) for i in range(n - 1)]


def _as_double(z: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return as_series(z).double().cpu()


def _condensed_euclidean(z: torch.Tensor) -> np.ndarray:
    """scipy's pdist (the EPS of the differentiable version only matters for gradients)."""
    return pdist(_as_double(z).flatten(1).numpy())


def _condensed_cid(z: torch.Tensor) -> np.ndarray:
    """Euclidean times the complexity factor, one row of pairs at a time (no n x n matrix)."""
    s = _as_double(z)
    ce = complexity(s).numpy()
    factor = np.concatenate([np.maximum(ce[i], ce[r]) / np.minimum(ce[i], ce[r]) for i, r in _rows(len(s))])
    return pdist(s.flatten(1).numpy()) * factor


def _condensed_correlation(z: torch.Tensor) -> np.ndarray:
    """Correlations of one row of pairs at a time from standardised series."""
    s = _as_double(z)
    centred = s - s.mean(dim=1, keepdim=True)
    std = (centred / torch.sqrt((centred * centred).mean(dim=1, keepdim=True) + 1e-6)).flatten(1).numpy()
    scale = s.shape[1] * s.shape[2]
    corr = np.concatenate([std[r] @ std[i] / scale for i, r in _rows(len(s))])
    return np.sqrt(np.clip(2 * (1 - corr), 0, None) + EPS)


DISTANCES.register("eucl", Distance(euclidean, _condensed_euclidean), doc="Euclidean distance")
DISTANCES.register("cid", Distance(complexity_invariant, _condensed_cid),
                   doc="complexity-invariant distance (Batista et al.)")
DISTANCES.register("cor", Distance(correlation, _condensed_correlation), doc="correlation-based distance")


def condensed(z: torch.Tensor, name: str) -> np.ndarray:
    """Distances of all pairs i < j in scipy's condensed order (float64), for the linkage."""
    return DISTANCES.get(name).build.condensed(z)
