"""Clustering heads on the latent space (k-means after optional PCA/UMAP, the DTC layer with a distance),
each family a registry."""

from .distances import DISTANCES
from .heads import HEADS
from .reductions import REDUCTIONS

__all__ = ["DISTANCES", "HEADS", "REDUCTIONS"]  # a config's `clustering` field names a head
