"""Cluster quality: internal metrics on the input series (as the paper computes them) and on the latent space,
external agreement with ground truth where it exists, and cluster sizes."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

SILHOUETTE_SAMPLE = 5000  # above this many points the silhouette is computed on a seeded sample


def internal(points: np.ndarray, labels: np.ndarray, seed: int = 0,
             sample_size: int = SILHOUETTE_SAMPLE) -> dict[str, float]:
    """Silhouette (higher is better), Davies-Bouldin (lower), Calinski-Harabasz (higher); NaN if < 2 clusters."""
    points = np.asarray(points, dtype=np.float64).reshape(len(points), -1)
    labels = np.asarray(labels)
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(labels):
        return {"silhouette": float("nan"), "davies_bouldin": float("nan"), "calinski_harabasz": float("nan")}
    sample = sample_size if len(points) > sample_size else None
    return {
        "silhouette": float(skm.silhouette_score(points, labels, sample_size=sample, random_state=seed)),
        "davies_bouldin": float(skm.davies_bouldin_score(points, labels)),
        "calinski_harabasz": float(skm.calinski_harabasz_score(points, labels)),
    }


def external(labels: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Agreement with known segments: adjusted Rand index and normalised mutual information."""
    return {"ari": float(skm.adjusted_rand_score(truth, labels)),
            "nmi": float(skm.normalized_mutual_info_score(truth, labels))}


def cluster_sizes(labels: np.ndarray, k: int) -> dict[str, object]:
    sizes = np.bincount(np.asarray(labels), minlength=k)
    return {"sizes": sizes.tolist(), "non_empty": int((sizes > 0).sum()), "degenerate": bool((sizes == 0).any()),
            "smallest_share": float(sizes.min() / max(sizes.sum(), 1))}


def evaluate(inputs: np.ndarray, latents: np.ndarray, labels: np.ndarray, k: int, truth: np.ndarray | None = None,
             seed: int = 0) -> dict[str, object]:
    """All metrics of one clustering: `input_*` on the padded series (Euclidean, like the paper), `latent_*`."""
    out: dict[str, object] = {}
    for prefix, points in (("input", inputs), ("latent", latents)):
        for name, value in internal(points, labels, seed).items():
            out[f"{prefix}_{name}"] = value
    if truth is not None:
        out.update(external(labels, truth))
    out.update(cluster_sizes(labels, k))
    return out
