"""Dimension reductions applied to latents before a k-means head, each saved as plain arrays (no pickling)."""

from __future__ import annotations

import numpy as np

from ..registry import Registry

REDUCTIONS: Registry = Registry("dimension reduction")


class Identity:
    """The latent space as it is."""

    def __init__(self, dim: int = 0, seed: int = 0):
        pass

    def fit(self, z: np.ndarray) -> "Identity":
        return self

    def transform(self, z: np.ndarray) -> np.ndarray:
        return z

    def arrays(self) -> dict[str, np.ndarray]:
        return {}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> "Identity":
        return self


class PCAReduction(Identity):
    """PCA to `dim` components (seeded)."""

    def __init__(self, dim: int = 5, seed: int = 0):
        self.dim, self.seed = dim, seed

    def fit(self, z):
        from sklearn.decomposition import PCA

        pca = PCA(n_components=min(self.dim, *z.shape), random_state=self.seed).fit(z)
        self.components, self.mean = pca.components_, pca.mean_
        return self

    def transform(self, z):
        return (z - self.mean) @ self.components.T

    def arrays(self):
        return {"components": self.components, "mean": self.mean}

    def load_arrays(self, arrays):
        self.components, self.mean = arrays["components"], arrays["mean"]
        return self


class UMAPReduction(Identity):
    """Seeded UMAP to `dim` components. Restored without pickling: a training point maps onto its own
    embedding, a new one onto the distance-weighted mean of its 15 nearest training latents' embeddings."""

    def __init__(self, dim: int = 5, seed: int = 0):
        self.dim, self.seed = dim, seed

    def fit(self, z):
        import umap

        reducer = umap.UMAP(n_components=self.dim, n_neighbors=min(15, len(z) - 1), random_state=self.seed,
                            n_jobs=1, n_epochs=200)
        self.train_embedding = reducer.fit_transform(z).astype(np.float64)
        self.train_latents = z
        return self

    def transform(self, z):
        train, emb = self.train_latents, self.train_embedding
        k = min(15, len(train))
        d2 = (z**2).sum(1)[:, None] + (train**2).sum(1)[None, :] - 2 * z @ train.T
        d = np.sqrt(np.maximum(d2, 0))
        nn_idx = np.argsort(d, axis=1, kind="stable")[:, :k]
        nn_d = np.take_along_axis(d, nn_idx, axis=1)
        w = 1.0 / (nn_d + 1e-9)
        exact = nn_d[:, 0] < 1e-9 * (1 + np.abs(z).max())
        w[exact] = 0
        w[exact, 0] = 1
        return (w[..., None] * emb[nn_idx]).sum(1) / w.sum(1, keepdims=True)

    def arrays(self):
        return {"train_latents": self.train_latents, "train_embedding": self.train_embedding}

    def load_arrays(self, arrays):
        self.train_latents, self.train_embedding = arrays["train_latents"], arrays["train_embedding"]
        return self


REDUCTIONS.register("none", Identity)
REDUCTIONS.register("pca", PCAReduction, doc="PCA to reduced_dim components")
REDUCTIONS.register("umap", UMAPReduction, doc="UMAP to reduced_dim components (seeded)")
