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

k-means halves a continuum stably once there are enough customers: 2,000 customers of one population (one
Gaussian cloud) reproduce k = 2 at about 0.8. So each k is also judged against what it scores on a reference
population without structure, as the gap statistic is: one Gaussian with the data's mean and covariance, as many
points, the same splits. A k whose strength does not exceed the reference's by more than their combined spread
(sqrt(sd^2 + sd_ref^2)) reproduces only as a split of a continuum: verdict "continuum", not chosen.
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
    verdict = np.where(mean >= strong, "reproduces", np.where(mean + sd < strong, "fails", "unstable"))
    if "reference_strength" in table:  # no better than a population without structure: a split of a continuum
        excess = mean - table["reference_strength"]
        spread = np.sqrt(sd ** 2 + table["reference_strength_sd"] ** 2)
        verdict = np.where((verdict == "reproduces") & (table.index > 1) & (excess <= spread), "continuum", verdict)
    table["verdict"] = verdict
    reproduces = [int(k) for k in table.index if table.loc[k, "verdict"] == "reproduces"]
    chosen = max(reproduces, default=1)
    larger = [int(k) for k in table.index if int(k) > chosen]
    return chosen, (min(larger) if larger else None)


def _split_strengths(split, make_head, ks, seed) -> dict:
    """One split's prediction strength of every k (and, on the first split, the internal indices of B's fit):
    a task of its own, so splits run side by side (`fthc.threads.parallel_map`) with the same result."""
    from ..metrics import internal

    r, za, zb, internals = split
    out = {}
    for k in ks:
        fit_a = make_head(k, seed + r).fit(za)
        fit_b = make_head(k, seed + r).fit(zb)
        out[k] = (prediction_strength(fit_b.labels_, fit_a.predict(zb)),
                  internal(zb, fit_b.labels_, seed=seed) if internals and r == 0 else None)
    return out


def random_halves(n: int, splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """`splits` seeded random splits of n customers into two halves (each at most HALF_CAP), sorted."""
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(splits):
        order = rng.permutation(n)
        half = min(n // 2, HALF_CAP)
        halves.append((np.sort(order[:half]), np.sort(order[half: 2 * half])))
    return halves


def reference_population(z: np.ndarray, seed: int) -> np.ndarray:
    """As many points as `z` from one Gaussian with its mean and covariance: the same spread, no structure."""
    rng = np.random.default_rng([seed, 1])
    return rng.multivariate_normal(z.mean(0), np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]), size=len(z),
                                   method="svd")


def choose_k(z: np.ndarray, make_head, ks=range(1, 9), splits: int = SPLITS, strong: float = STRONG,
             seed: int = 0) -> KChoice:
    """Prediction strength of every k in `ks` on the points `z` (the space the head clusters), and the rule's
    choice. `make_head(k)` returns an unfitted head for k segments. `reference_strength` is what a k scores on a
    population without structure (`reference_population`), measured only where the data's strength reproduces
    (missing elsewhere)."""
    z = np.asarray(z, dtype=np.float64)
    n = len(z)
    ks = sorted({int(k) for k in ks if 1 <= int(k) <= n // 2})
    if not ks or n < 4:
        raise DataError(f"{n} customers are too few to choose k: at least 4 are needed")
    distinct = len(np.unique(np.round(z, 6), axis=0))
    if distinct < 2:
        raise DataError(f"all {n} customers have the same behaviour (one point in the space): there is nothing "
                        "to segment")
    halves = random_halves(n, splits, seed)
    announce(f"choosing k among {ks}: prediction strength on {splits} random splits into halves"
             + (f" of {HALF_CAP:,} customers" if n // 2 > HALF_CAP else ""))
    per_split, per_ref, judged = _strengths(z, make_head, [k for k in ks if k > 1], halves, strong, seed, True)
    report("choosing k", len(ks), len(ks))
    rows = []
    for k in ks:
        if k == 1:
            rows.append({"k": 1, "prediction_strength": 1.0, "prediction_strength_sd": 0.0,
                         "reference_strength": 1.0, "reference_strength_sd": 0.0,
                         "silhouette": np.nan, "davies_bouldin": np.nan})
            continue
        met = per_split[0][k][1]
        rows.append({"k": k, **_strength_row(k, per_split, per_ref, judged),
                     "silhouette": met["silhouette"], "davies_bouldin": met["davies_bouldin"]})
    table = pd.DataFrame(rows).set_index("k")
    chosen, above = apply_rule(table, strong)
    mean, sd = table["prediction_strength"], table["prediction_strength_sd"]
    r = table.loc[chosen]
    after = (f"; k={above} {table.loc[above, 'verdict']} ({mean[above]:.2f} ± {sd[above]:.2f})"
             if above and chosen > 1 else "")
    continuum = [int(k) for k in table.index if table.loc[k, "verdict"] == "continuum"]
    if chosen == 1 and continuum:
        c = continuum[0]
        why = (f"k=1: no reproducible structure beyond a continuum: k={c} reproduces ({mean[c]:.2f} ± {sd[c]:.2f}) "
               f"but so does one population without structure of the same spread "
               f"({table.loc[c, 'reference_strength']:.2f}): the segments would cut one cloud of customers; ask "
               "for a k to segment anyway")
    elif chosen == 1:
        why = (f"k=1: no number of segments reproduces (prediction strength >= {strong} over {splits} splits into "
               "halves): no reproducible structure; ask for a k to segment anyway")
    else:
        why = (f"k={chosen}: the largest k that reproduces (prediction strength {r['prediction_strength']:.2f} ± "
               f"{r['prediction_strength_sd']:.2f} >= {strong} over {splits} splits into halves){after}")
    return KChoice(chosen, table, why)


def _sd(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _strengths(z: np.ndarray, make_head, ks: list[int], halves, strong: float, seed: int, internals: bool):
    """Each split's prediction strength of every k >= 2 in `ks` on `z`, and on the reference population
    (`reference_population`) with the same splits for the k that reproduce on `z` (the reference only matters
    where the data reproduces): one measurement for choosing k and for re-checking it in another space."""
    from functools import partial

    from ..threads import parallel_map

    rows = len(halves[0][0])
    per_split = parallel_map(partial(_split_strengths, make_head=make_head, ks=ks, seed=seed),
                             [(r, z[a], z[b], internals) for r, (a, b) in enumerate(halves)], rows=rows)
    judged = [k for k in ks if np.mean([split[k][0] for split in per_split]) >= strong]
    ref = reference_population(z, seed) if judged else None
    per_ref = parallel_map(partial(_split_strengths, make_head=make_head, ks=judged, seed=seed),
                           [(r, ref[a], ref[b], False) for r, (a, b) in enumerate(halves)], rows=rows) \
        if judged else []
    return per_split, per_ref, judged


def _strength_row(k: int, per_split, per_ref, judged) -> dict:
    """A k's mean prediction strength and sd over the splits, on the data and on the reference (nan where the
    reference was not measured): the columns `apply_rule` judges."""
    strengths = [split[k][0] for split in per_split]
    reference = [split[k][0] for split in per_ref] if k in judged else [np.nan]
    return {"prediction_strength": float(np.mean(strengths)), "prediction_strength_sd": _sd(strengths),
            "reference_strength": float(np.mean(reference)), "reference_strength_sd": _sd(reference)}


def recheck_k(z: np.ndarray, make_head, k: int, splits: int = SPLITS, strong: float = STRONG,
              seed: int = 0) -> dict:
    """Prediction strength of one k on the points `z` and its verdict by the module's rule (reproduces /
    unstable / fails / continuum): the check of the space actually clustered where it is not the space k was
    chosen in (the behaviour space with the risk axis). The continuum test is choose_k's: an axis added to a
    structureless cloud stretches it, and k-means halves a stretched cloud stably."""
    z = np.asarray(z, dtype=np.float64)
    halves = random_halves(len(z), splits, seed)
    per_split, per_ref, judged = _strengths(z, make_head, [k], halves, strong, seed, False)
    table = pd.DataFrame([_strength_row(k, per_split, per_ref, judged)], index=[k])
    apply_rule(table, strong)
    return {"k": k, **table.iloc[0].to_dict()}
