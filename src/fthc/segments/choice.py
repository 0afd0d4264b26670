"""How many segments: prediction strength as Tibshirani & Walther (2005) define it.

For one random split of the customers into halves A and B: fit the head on A and on B; for each segment of B's
own fit, the share of its pairs of customers that A's fit (predicting B) also puts together; the weakest segment
counts. Over several splits, the mean and its spread. One segment (k = 1) always reproduces (strength 1): it is
the answer when no k >= 2 does, "no reproducible structure".

The rule: a k *reproduces* when its mean prediction strength is at least 0.8 (the lower end of Tibshirani &
Walther's 0.8-0.9); it *fails* when even its mean plus one standard deviation over the splits stays below 0.8;
between the two it is *unstable* (some splits reproduce it, others do not). The choice is Tibshirani & Walther's:
the largest k that reproduces. A smaller k may fail where a larger one reproduces: six well-separated segments
can be merged into four in several ways, each as good, so four does not reproduce while six does. When no k >= 2
reproduces, the answer is k = 1, "no reproducible structure". Silhouette and Davies-Bouldin are reported beside it,
never used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..progress import announce, report

STRONG = 0.8
SPLITS = 10
HALF_CAP = 20_000  # each half holds at most this many customers (a seeded sample of larger bases)


def prediction_strength(own: np.ndarray, predicted: np.ndarray) -> float:
    """Tibshirani & Walther's ps for one split: `own` is the test half's own partition, `predicted` what the
    training half's fit assigns to the same customers. For each of `own`'s segments with at least two customers,
    the share of its pairs that `predicted` puts together; the smallest share."""
    table = pd.crosstab(own, predicted).to_numpy().astype(np.float64)
    sizes = table.sum(1)
    together = (table * (table - 1)).sum(1) / np.maximum(sizes * (sizes - 1), 1)
    return float(together[sizes > 1].min()) if (sizes > 1).any() else 1.0


@dataclass
class KChoice:
    k: int
    table: pd.DataFrame  # per k: prediction_strength (mean), prediction_strength_sd, silhouette, davies_bouldin
    why: str


def apply_rule(table: pd.DataFrame, strong: float = STRONG) -> tuple[int, int | None]:
    """The module's rule on a table of prediction strength per k (mean and sd): adds each k's verdict; returns the
    chosen k (the largest that reproduces) and the next larger k tried (None if the chosen one is the largest)."""
    mean, sd = table["prediction_strength"], table["prediction_strength_sd"]
    table["verdict"] = np.where(mean >= strong, "reproduces", np.where(mean + sd < strong, "fails", "unstable"))
    reproduces = [int(k) for k in table.index if table.loc[k, "verdict"] == "reproduces"]
    chosen = max(reproduces, default=1)
    larger = [int(k) for k in table.index if int(k) > chosen]
    return chosen, (min(larger) if larger else None)


def _split_strengths(split, make_head, ks, seed) -> dict:
    """One split's prediction strength of every k (and, on the first split, the internal indices of B's fit):
    a task of its own, so splits run side by side (`fthc.threads.parallel_map`) with the same result."""
    from ..metrics import internal

    r, za, zb = split
    out = {}
    for k in ks:
        fit_a = make_head(k, seed + r).fit(za)
        fit_b = make_head(k, seed + r).fit(zb)
        out[k] = (prediction_strength(fit_b.labels_, fit_a.predict(zb)),
                  internal(zb, fit_b.labels_, seed=seed) if r == 0 else None)
    return out


def choose_k(z: np.ndarray, make_head, ks=range(1, 9), splits: int = SPLITS, strong: float = STRONG,
             seed: int = 0) -> KChoice:
    """Prediction strength of every k in `ks` on the points `z` (the space the head clusters), and the rule's
    choice. `make_head(k)` returns an unfitted head for k segments."""
    z = np.asarray(z, dtype=np.float64)
    n = len(z)
    ks = sorted({int(k) for k in ks if 1 <= int(k) <= n // 2})
    if not ks or n < 4:
        raise DataError(f"{n} customers are too few to choose k: at least 4 are needed")
    distinct = len(np.unique(np.round(z, 6), axis=0))
    if distinct < 2:
        raise DataError(f"all {n} customers have the same behaviour (one point in the space): there is nothing "
                        "to segment")
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(splits):
        order = rng.permutation(n)
        half = min(n // 2, HALF_CAP)
        halves.append((np.sort(order[:half]), np.sort(order[half: 2 * half])))
    announce(f"choosing k among {ks}: prediction strength on {splits} random splits into halves"
             + (f" of {HALF_CAP:,} customers" if n // 2 > HALF_CAP else ""))
    from functools import partial

    from ..threads import parallel_map

    fitted = [k for k in ks if k > 1]
    per_split = parallel_map(partial(_split_strengths, make_head=make_head, ks=fitted, seed=seed),
                             [(r, z[a], z[b]) for r, (a, b) in enumerate(halves)], rows=len(halves[0][0]))
    report("choosing k", len(ks), len(ks))
    rows = []
    for k in ks:
        if k == 1:
            rows.append({"k": 1, "prediction_strength": 1.0, "prediction_strength_sd": 0.0,
                         "silhouette": np.nan, "davies_bouldin": np.nan})
            continue
        strengths = [split[k][0] for split in per_split]
        met = per_split[0][k][1]
        rows.append({"k": k, "prediction_strength": float(np.mean(strengths)),
                     "prediction_strength_sd": float(np.std(strengths, ddof=1)) if len(strengths) > 1 else 0.0,
                     "silhouette": met["silhouette"], "davies_bouldin": met["davies_bouldin"]})
    table = pd.DataFrame(rows).set_index("k")
    chosen, above = apply_rule(table, strong)
    mean, sd = table["prediction_strength"], table["prediction_strength_sd"]
    r = table.loc[chosen]
    after = (f"; k={above} {table.loc[above, 'verdict']} ({mean[above]:.2f} ± {sd[above]:.2f})"
             if above and chosen > 1 else "")
    if chosen == 1:
        why = (f"k=1: no number of segments reproduces (prediction strength >= {strong} over {splits} splits into "
               "halves): no reproducible structure; ask for a k to segment anyway")
    else:
        why = (f"k={chosen}: the largest k that reproduces (prediction strength {r['prediction_strength']:.2f} ± "
               f"{r['prediction_strength_sd']:.2f} >= {strong} over {splits} splits into halves){after}")
    return KChoice(chosen, table, why)
