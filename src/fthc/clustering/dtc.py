"""The Deep Temporal Clustering layer: Student's t soft assignment to trainable centroids, a target
distribution held fixed between updates, and a KL(P || Q) loss (Madiraju et al. 2018, after Xie et al. DEC)."""

from __future__ import annotations

import numpy as np
import torch
from scipy.cluster.hierarchy import fcluster, linkage
from torch import nn

from .distances import DISTANCES, condensed


def soft_assignment(distances: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """q_ij proportional to (1 + d_ij^2 / alpha) ^ -((alpha + 1) / 2), rows summing to 1."""
    q = (1.0 + distances**2 / alpha) ** (-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """p_ij = (q_ij^2 / f_j) normalised per row, f_j = sum_i q_ij: sharpens confident assignments."""
    weight = q**2 / q.sum(dim=0, keepdim=True)
    return (weight / weight.sum(dim=1, keepdim=True)).detach()


def kl_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(P || Q), summed over clusters and averaged over the batch."""
    return (p * (torch.log(p + 1e-12) - torch.log(q + 1e-12))).sum(dim=1).mean()


class DTCLayer(nn.Module):
    """Trainable centroids in latent space and a distance from the DISTANCES registry."""

    def __init__(self, centroids: torch.Tensor, distance: str = "eucl", alpha: float = 1.0):
        super().__init__()
        self.distance = distance
        self.fn = DISTANCES.get(distance).build
        self.alpha = alpha
        self.centroids = nn.Parameter(centroids.clone())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return soft_assignment(self.fn(z, self.centroids), self.alpha)


LINKAGE_SAMPLE = 4000  # complete linkage keeps n^2 / 2 distances: above this many points it runs on a sample


def complete_linkage_labels(z: torch.Tensor, k: int, distance: str,
                            rng: np.random.Generator | None = None) -> np.ndarray:
    """The reference initialisation: complete-linkage agglomerative clustering on pairwise distances. Above
    LINKAGE_SAMPLE points the linkage runs on a seeded sample of that size and every point takes the nearest of
    the sample's cluster means (memory and time bounded, not growing as n^2)."""
    n = len(z)
    if n <= LINKAGE_SAMPLE:
        tree = linkage(condensed(z, distance), method="complete")
        return fcluster(tree, t=k, criterion="maxclust") - 1
    rng = rng if rng is not None else np.random.default_rng(0)
    sample = np.sort(rng.choice(n, LINKAGE_SAMPLE, replace=False))
    zs = z[torch.as_tensor(sample, device=z.device)]
    labels = fcluster(linkage(condensed(zs, distance), method="complete"), t=k, criterion="maxclust") - 1
    centres = centroids_from_labels(zs, labels, k)
    fn = DISTANCES.get(distance).build
    with torch.no_grad():
        return torch.cat([fn(z[i: i + 8192], centres).argmin(1) for i in range(0, n, 8192)]).cpu().numpy()


def centroids_from_labels(z: torch.Tensor, labels: np.ndarray, k: int) -> torch.Tensor:
    """Cluster means; an empty cluster (ties in the linkage can leave one) takes the worst-fitting point."""
    lab = torch.as_tensor(labels, device=z.device)
    sizes = torch.bincount(lab, minlength=k)
    means = [z[lab == j].mean(dim=0) if sizes[j] > 0 else None for j in range(k)]
    if any(m is None for m in means):
        own = torch.stack([means[int(j)] if means[int(j)] is not None else z[0] for j in lab])
        misfit = ((z - own) ** 2).flatten(1).sum(1).cpu().numpy()
        order = iter(np.argsort(-misfit, kind="stable"))
        means = [m if m is not None else z[int(next(order))] for m in means]
    return torch.stack(means).float()


def kmeans_pp_labels(z: torch.Tensor, k: int, distance: str, rng: np.random.Generator, iters: int = 30) -> np.ndarray:
    """k-means++ seeding and Lloyd iterations under any registered distance (centroids are means)."""
    fn = DISTANCES.get(distance).build
    n = len(z)
    with torch.no_grad():
        centres = [int(rng.integers(n))]
        d = fn(z, z[centres]).squeeze(1) ** 2
        for _ in range(1, k):
            p = (d / d.sum()).double().cpu().numpy()
            centres.append(int(rng.choice(n, p=p / p.sum())))
            d = torch.minimum(d, fn(z, z[centres[-1:]]).squeeze(1) ** 2)
        c = z[centres].clone()
        labels = None
        for _ in range(iters):
            new = fn(z, c).argmin(dim=1)
            if labels is not None and torch.equal(new, labels):
                break
            labels = new
            for j in range(k):
                members = z[labels == j]
                c[j] = members.mean(dim=0) if len(members) else z[int(rng.integers(n))]
    return labels.cpu().numpy()


def initial_labels(z: torch.Tensor, k: int, distance: str, method: str, rng: np.random.Generator,
                   min_size: int) -> tuple[np.ndarray, str]:
    """Initial partition; 'robust' falls back from complete linkage to k-means++ when it isolates outliers."""
    if method not in ("complete", "robust", "kmeans++"):
        raise ValueError(f"unknown init {method!r}; valid: complete, robust, kmeans++")
    if method in ("complete", "robust"):
        labels = complete_linkage_labels(z, k, distance, rng)
        if method == "complete" or np.bincount(labels, minlength=k).min() >= min_size:
            return labels, "complete"
    return kmeans_pp_labels(z, k, distance, rng), "kmeans++"
