"""Clustering on the latent space: k-means after optional PCA/UMAP, or the DTC layer with a distance."""

from ..registry import Registry

CLUSTERINGS: Registry = Registry("clustering")
CLUSTERINGS.register("kmeans", lambda: None, uses_reduction=True, uses_distance=False,
                     doc="k-means on the latent space, optionally after PCA or UMAP")
CLUSTERINGS.register("dtc", lambda: None, uses_reduction=False, uses_distance=True,
                     doc="Deep Temporal Clustering layer trained with KL(P||Q) + reconstruction")

REDUCTIONS: Registry = Registry("dimension reduction")
REDUCTIONS.register("none", lambda: None, doc="the latent space as it is")
REDUCTIONS.register("pca", lambda: None, doc="PCA to reduced_dim components")
REDUCTIONS.register("umap", lambda: None, doc="UMAP to reduced_dim components (seeded)")
