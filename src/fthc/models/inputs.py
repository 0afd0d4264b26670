"""Model inputs: a SeriesSet or an array [n, channels, seq_len], checked once, as tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data.series import SeriesSet, SeriesSpec
from ..errors import DataError


@dataclass
class Inputs:
    X: torch.Tensor
    mask: torch.Tensor
    spec: SeriesSpec | None = None
    scaling: dict | None = None
    channels: list[str] | None = None

    def __len__(self) -> int:
        return len(self.X)

    def extent(self) -> torch.Tensor:
        """Per series, one past its last valid step: the length a batch can be cropped to without losing data."""
        steps = torch.arange(1, self.mask.shape[1] + 1)
        return (self.mask * steps).amax(1) if self.mask.shape[1] else torch.zeros(len(self.mask), dtype=torch.long)

    def subset(self, index) -> "Inputs":
        index = torch.as_tensor(index)
        return Inputs(self.X[index], self.mask[index], self.spec, self.scaling, self.channels)


def as_inputs(X, mask=None) -> Inputs:
    """Accept a SeriesSet or an array [n, channels, seq_len] (or [n, seq_len]); reject what cannot be clustered."""
    if isinstance(X, Inputs):
        return X
    spec = scaling = channels = None
    if isinstance(X, SeriesSet):
        X, mask, spec, scaling, channels = X.X, X.mask, X.spec, X.scaling, X.channels
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise DataError(f"input must be numeric, got dtype {X.dtype}", expected="float32 [n, channels, seq_len]")
    if X.ndim == 2:
        X = X[:, None, :]
    if X.ndim != 3:
        raise DataError(f"input must have 3 dimensions [n, channels, seq_len], got shape {X.shape}")
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise DataError(f"input has NaN or infinite values (first at series {bad[0]}, channel {bad[1]}, "
                        f"step {bad[2]})", expected="finite values")
    if mask is None:
        mask = np.ones((X.shape[0], X.shape[2]), dtype=bool)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (X.shape[0], X.shape[2]):
        raise DataError(f"mask shape {mask.shape} does not match input {X.shape}", expected="[n, seq_len]")
    return Inputs(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(mask), spec,
                  scaling, channels)


def shuffled_batches(n: int, count: int, size: int, gen: torch.Generator):
    """`count` batches of indices drawn as successive shuffled epochs (each series once per epoch)."""
    size = min(size, n)
    perm, pos = torch.randperm(n, generator=gen), 0
    for _ in range(count):
        if pos + size > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        yield perm[pos: pos + size]
        pos += size


def length_bucketed_batches(lengths: torch.Tensor, count: int, size: int, gen: torch.Generator):
    """Like `shuffled_batches` (each series once per epoch, a random remainder left out), but each epoch's
    series are sorted by length before they are cut into batches, and the batches are visited in random order:
    a batch holds histories of similar length, so cropping it to its longest wastes little on padding."""
    n = len(lengths)
    size = min(size, n)
    per_epoch = n // size
    done = 0
    while done < count:
        perm = torch.randperm(n, generator=gen)[: per_epoch * size]
        perm = perm[torch.argsort(lengths[perm], stable=True)]  # ties stay in random order
        for b in torch.randperm(per_epoch, generator=gen)[: count - done].tolist():
            yield perm[b * size: (b + 1) * size]
            done += 1


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)
