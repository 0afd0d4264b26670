"""Clustering heads on the latent space (k-means after optional PCA/UMAP, the DTC layer with a distance),
each family a registry."""

from .distances import DISTANCES
from .heads import HEADS
from .reductions import REDUCTIONS

CLUSTERINGS = HEADS  # the config's `clustering` field names a head

__all__ = ["CLUSTERINGS", "DISTANCES", "HEADS", "REDUCTIONS"]
