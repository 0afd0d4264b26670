"""Clustering heads on the latent space (k-means after optional PCA/UMAP, a Gaussian mixture, the DTC layer with a
distance), each family a registry. The distances (PyTorch) are imported when first used."""

from .heads import HEADS
from .reductions import REDUCTIONS

__all__ = ["DISTANCES", "HEADS", "REDUCTIONS"]  # a config's `clustering` field names a head


def __getattr__(name: str):
    if name == "DISTANCES":
        from .distances import DISTANCES

        return DISTANCES
    raise AttributeError(f"module 'fthc.clustering' has no attribute {name!r}")
