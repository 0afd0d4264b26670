"""`confidence`: how reproducible a customer's segment is.

The segmentation is refitted on random halves of the customers (at most HALF_CAP each), in the same space, each
refit from fresh starts of its own (as a new fit on those customers would start; a head without random starts
begins where the final fit ended); every customer is then assigned by every refit, the refits' segments
matched to the final ones (the assignment of segments that share the most customers, Hungarian method). A
customer's `confidence` is the share of refits that put it in its segment, and `predict_proba` the share that put
it in each: a frequency over refits, comparable between heads and between runs (unlike a kernel on latent
distances, whose scale depends on the space's units). It is not the probability that a segment is "true": it
says how much a customer's assignment depends on which customers the segmentation was fitted on.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..progress import announce
from ..threads import parallel_map

REFITS = 20
HALF_CAP = 50_000


def match(labels: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """`labels`' segment -> the reference segment it shares the most customers with (a one-to-one matching)."""
    table = np.zeros((k, k))
    np.add.at(table, (labels, reference), 1)
    rows, cols = linear_sum_assignment(-table)
    mapping = np.arange(k)
    mapping[rows] = cols
    return mapping


def _refit(head, task):
    """One refit on a half of the customers, from its own fresh starts (a task of its own, so refits run side
    by side with the same result)."""
    seed, half = task
    return head.resample_fit(half, seed=seed)


class Stability:
    """The refitted heads and how each one's segments map onto the final ones."""

    def __init__(self, heads: list, mappings: list[np.ndarray], k: int):
        self.heads, self.mappings, self.k = heads, mappings, k

    @classmethod
    def fit(cls, head, z: np.ndarray, refits: int = REFITS, seed: int = 0) -> "Stability":
        rng = np.random.default_rng(seed + 7919)
        n, k = len(z), head.k
        half = max(min(n // 2, HALF_CAP), k)
        if refits:
            announce(f"confidence: {refits} refits on halves of {half:,} customers")
        halves = [np.sort(rng.choice(n, half, replace=False)) for _ in range(refits)]
        heads = parallel_map(partial(_refit, head), [(seed + 1 + i, z[idx]) for i, idx in enumerate(halves)],
                             rows=half)
        mappings = [match(refit.predict(z), head.labels_, k) for refit in heads]
        return cls(heads, mappings, k)

    def proba(self, z: np.ndarray) -> np.ndarray:
        """[n, k]: the share of refits that assign each customer to each (final) segment."""
        votes = np.zeros((len(z), self.k))
        rows = np.arange(len(z))
        for head, mapping in zip(self.heads, self.mappings):
            np.add.at(votes, (rows, mapping[head.predict(z)]), 1)
        return votes / max(len(self.heads), 1)

    # saved as plain arrays (segmenter.npz): each refit's head arrays, prefixed, and the mappings
    def arrays(self) -> dict[str, np.ndarray]:
        out = {"stability.mappings": np.array(self.mappings, dtype=np.int64).reshape(len(self.mappings), self.k)}
        for i, h in enumerate(self.heads):
            out |= {f"stability.{i}.{key}": v for key, v in h.arrays().items()}
            out[f"stability.{i}.labels"] = np.zeros(0, dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], make_head, k: int) -> "Stability":
        mappings = list(arrays["stability.mappings"])
        heads = []
        for i in range(len(mappings)):
            prefix = f"stability.{i}."
            own = {key[len(prefix):]: v for key, v in arrays.items() if key.startswith(prefix)}
            heads.append(make_head().load_arrays(own))
        return cls(heads, mappings, k)
