"""Projected wall time of the full default grid on this machine at Berka scale, from measured stage times,
with and without reuse of the pretext stage.

    python benchmarks/bench_grid.py [--timed-batches 10]

Stages are timed on 2,250 training series of length 669 (a 50/50 split of 4,500 synthetic Berka accounts):
one pretext batch per autoencoder + pretext loss, one latent pass over the training customers, k-means with
each reduction, complete-linkage initialisation, and evaluation. A run's time is then
    pretext (1,000 batches; skipped when reused) + clustering + metrics on train and test customers,
where k-means needs the train and test latents (computed once per pretext stage when it is reused) and DTC
clustering = initialisation + 100 batches + a latent pass per target refresh + passes for labels and test.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from fthc.clustering.dtc import initial_labels
from fthc.config import ClustererConfig, make_encoder
from fthc.clustering.heads import KMeansHead
from fthc.estimator import FrozenEstimator, Pipeline, as_inputs
from fthc.experiments.grid import Grid, expand
from fthc.metrics import evaluate


def timed(fn, repeats=3):
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timed-batches", type=int, default=10)
    ap.add_argument("--n", type=int, default=2250, help="training customers per run")
    ap.add_argument("--seq-len", type=int, default=669)
    args = ap.parse_args()
    torch.set_num_threads(2)
    grid = Grid()
    entries = [e for e in expand(grid) if e.skipped is None]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n, 1, args.seq_len)).astype(np.float32)
    data = as_inputs(X)

    batch_s, pass_s, models = {}, {}, {}
    for ae, pre in sorted({(e.config.autoencoder, e.config.pretext) for e in entries}):
        cfg = ClustererConfig(autoencoder=ae, pretext=pre, clustering="kmeans", pretrain_batches=3, device="cpu")
        make_encoder(cfg).fit(data)  # warm-up
        m2 = make_encoder(cfg.replace(pretrain_batches=args.timed_batches)).fit(data)
        batch_s[(ae, pre)] = m2.fit_seconds_ / args.timed_batches
        if ae not in pass_s:
            pass_s[ae] = timed(lambda: m2.embed(data), repeats=1)
            models[ae] = m2
    z = models["fcnn"].embed(data).flatten(1)
    zn = z.numpy().astype(np.float64)
    km = {red: timed(lambda: Pipeline(FrozenEstimator(models["fcnn"]), KMeansHead(k=6, reduction=red)).fit(data),
                     repeats=1) - pass_s["fcnn"] for red in ("none", "pca", "umap")}
    init = {d: timed(lambda: initial_labels(z, 6, d, "robust", rng, 22), repeats=1) for d in ("eucl", "cid")}
    eval_s = timed(lambda: evaluate(X.reshape(len(X), -1), zn, rng.integers(0, 4, len(X)), 4), repeats=1)

    def run_seconds(cfg: ClustererConfig, reuse: bool, first: bool) -> float:
        """first: the first run of its pretext stage (same autoencoder, pretext loss and run index)."""
        pre = 0.0 if (reuse and not first) else 1000 * batch_s[(cfg.autoencoder, cfg.pretext)]
        p = pass_s[cfg.autoencoder]  # one latent pass over the training (or test) customers
        if cfg.clustering == "kmeans":  # latents of train and test customers, cached per pretext stage
            clu = max(km[cfg.reduction], 0) + (0.0 if (reuse and not first) else 2 * p)
        else:  # initialisation pass, refreshes of the target every 50 of 100 batches, final labels, then
            updates = -(-cfg.dtc_batches // cfg.dtc_update_interval)  # transform train + test and predict test
            clu = init[cfg.distance] + cfg.dtc_batches * batch_s[(cfg.autoencoder, cfg.pretext)] * 1.1 \
                + (2 + updates) * p + 3 * p
        return pre + clu + 2 * eval_s

    totals = {}
    per_ae = defaultdict(lambda: [0.0, 0.0])
    for reuse in (False, True):
        total, seen = 0.0, set()
        for e in entries:
            key = (e.config.autoencoder, e.config.pretext)
            for run in range(grid.runs):
                first = (key, run) not in seen
                seen.add((key, run))
                s = run_seconds(e.config, reuse, first)
                total += s
                per_ae[e.config.autoencoder][int(reuse)] += s
        totals[reuse] = total

    console = Console(width=140)
    t = Table(title="measured stage times (2 threads)")
    for col in ("stage", "seconds"):
        t.add_column(col)
    for (ae, pre), s in batch_s.items():
        t.add_row(f"pretext {ae}+{pre}: 1,000 batches of 32", f"{1000 * s:,.0f}")
    for ae, s in pass_s.items():
        t.add_row(f"latent pass over {args.n:,} series ({ae})", f"{s:.1f}")
    for red, s in km.items():
        t.add_row(f"k-means k=6 after {red}", f"{max(s, 0):.1f}")
    for d, s in init.items():
        t.add_row(f"DTC initialisation ({d}) on {args.n:,} latents", f"{s:.2f}")
    t.add_row("metrics (input + latent space)", f"{eval_s:.1f}")
    console.print(t)
    t = Table(title=f"projected wall time of the default grid: {len(entries)} valid configurations x {grid.runs} "
                    f"runs = {len(entries) * grid.runs} runs, one 2-core machine")
    for col in ("autoencoder", "without reuse (h)", "with pretext reuse (h)"):
        t.add_column(col)
    for ae, (no, yes) in per_ae.items():
        t.add_row(ae, f"{no / 3600:,.1f}", f"{yes / 3600:,.1f}")
    t.add_row("total", f"{totals[False] / 3600:,.1f}", f"{totals[True] / 3600:,.1f}")
    console.print(t)
    console.print(f"reuse saves {1 - totals[True] / totals[False]:.0%}; target: under 12 hours")
    console.print("assumed, not measured: a DTC batch costs 1.1 x a pretext batch of the same network (the soft "
                  "assignment and KL term on top); UMAP's time includes numba's one-off compilation")


if __name__ == "__main__":
    main()
