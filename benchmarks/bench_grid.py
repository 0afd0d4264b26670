"""Projected wall time of the full default grid on this machine at Berka scale, from measured stage times,
with and without reuse of the pretext stage.

    python benchmarks/bench_grid.py [--timed-batches 20] [--settings fp32-full auto]

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


SETTINGS = {"fp32-full": ("fp32", False), "fp32": ("fp32", True), "bf16": ("bf16", True), "auto": ("auto", True)}


def measure(args, entries, setting: str) -> dict:
    """Stage times in one setting (precision, and whether variable-length networks crop length-bucketed
    batches), on Berka-like history lengths."""
    precision, buckets = SETTINGS[setting]
    rng = np.random.default_rng(0)
    lengths = np.clip(np.round(np.exp(rng.normal(np.log(220), 0.6, args.n))), 25, args.seq_len).astype(int)
    mask = np.arange(args.seq_len)[None, :] < lengths[:, None]
    X = (rng.normal(size=(args.n, 1, args.seq_len)) * mask[:, None, :]).astype(np.float32)
    data = as_inputs(X, mask)
    batch_s, pass_s, models = {}, {}, {}
    for ae, pre in sorted({(e.config.autoencoder, e.config.pretext) for e in entries}):
        cfg = ClustererConfig(autoencoder=ae, pretext=pre, clustering="kmeans", pretrain_batches=3, device="cpu",
                              precision=precision)
        make_encoder(cfg).set_params(length_buckets=buckets).fit(data)  # warm-up
        m2 = make_encoder(cfg.replace(pretrain_batches=args.timed_batches)).set_params(length_buckets=buckets)
        m2.fit(data)
        batch_s[(ae, pre)] = m2.fit_seconds_ / args.timed_batches
        if ae not in pass_s:
            pass_s[ae] = timed(lambda: m2.embed(data), repeats=1)
            models[ae] = m2
        console.print(f"  {setting} {ae}+{pre}: {1000 * batch_s[(ae, pre)]:,.0f} s / 1,000 batches", style="dim")
    z = models["fcnn"].embed(data).flatten(1)
    zn = z.numpy().astype(np.float64)
    km = {red: timed(lambda: Pipeline(FrozenEstimator(models["fcnn"]), KMeansHead(k=6, reduction=red)).fit(data),
                     repeats=1) - pass_s["fcnn"] for red in ("none", "pca", "umap")}
    init = {d: timed(lambda: initial_labels(z, 6, d, "robust", rng, 22), repeats=1) for d in ("eucl", "cid")}
    eval_s = timed(lambda: evaluate(X.reshape(len(X), -1), zn, rng.integers(0, 4, len(X)), 4), repeats=1)
    return {"batch": batch_s, "pass": pass_s, "km": km, "init": init, "eval": eval_s}


def project(entries, runs: int, t: dict) -> tuple[dict, dict]:
    """Seconds of the whole grid (without and with pretext reuse), in all and per autoencoder."""
    batch_s, pass_s, km, init, eval_s = t["batch"], t["pass"], t["km"], t["init"], t["eval"]

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
            for run in range(runs):
                first = (key, run) not in seen
                seen.add((key, run))
                s = run_seconds(e.config, reuse, first)
                total += s
                per_ae[e.config.autoencoder][int(reuse)] += s
        totals[reuse] = total
    return totals, per_ae


def main() -> None:
    from fthc.models.precision import cpu_has_native_bf16

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timed-batches", type=int, default=20)
    ap.add_argument("--n", type=int, default=2250, help="training customers per run")
    ap.add_argument("--seq-len", type=int, default=669)
    ap.add_argument("--settings", nargs="+", default=["fp32-full", "auto"], choices=list(SETTINGS),
                    help="fp32-full: float32, every batch at full length (before issue 12); fp32 / bf16: with "
                         "length buckets; auto: the default (bf16 where native and faster, length buckets)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    grid = Grid()
    entries = [e for e in expand(grid) if e.skipped is None]
    if not cpu_has_native_bf16():
        console.print("this CPU has no native bf16: auto means fp32 here")
    times = {p: measure(args, entries, p) for p in args.settings}

    t = Table(title="measured stage times (2 threads; Berka-like history lengths, median 220 of "
                    f"{args.seq_len} steps)")
    t.add_column("stage")
    for p in args.settings:
        t.add_column(f"{p} s")
    first = times[args.settings[0]]
    for key in first["batch"]:
        t.add_row(f"pretext {key[0]}+{key[1]}: 1,000 batches of 32",
                  *(f"{1000 * times[p]['batch'][key]:,.0f}" for p in args.settings))
    for ae in first["pass"]:
        t.add_row(f"latent pass over {args.n:,} series ({ae})", *(f"{times[p]['pass'][ae]:.1f}"
                                                                   for p in args.settings))
    for red in first["km"]:
        t.add_row(f"k-means k=6 after {red}", *(f"{max(times[p]['km'][red], 0):.1f}" for p in args.settings))
    for d in first["init"]:
        t.add_row(f"DTC initialisation ({d}) on {args.n:,} latents", *(f"{times[p]['init'][d]:.2f}"
                                                                        for p in args.settings))
    t.add_row("metrics (input + latent space)", *(f"{times[p]['eval']:.1f}" for p in args.settings))
    console.print(t)

    projections = {p: project(entries, grid.runs, times[p]) for p in args.settings}
    t = Table(title=f"projected wall time of the default grid: {len(entries)} valid configurations x {grid.runs} "
                    f"runs = {len(entries) * grid.runs} runs, one 2-core machine, hours")
    t.add_column("autoencoder")
    for p in args.settings:
        t.add_column(f"{p} without reuse")
        t.add_column(f"{p} with pretext reuse")
    for ae in projections[args.settings[0]][1]:
        t.add_row(ae, *(f"{projections[p][1][ae][i] / 3600:,.1f}" for p in args.settings for i in (0, 1)))
    t.add_row("total", *(f"{projections[p][0][reuse] / 3600:,.1f}" for p in args.settings
                         for reuse in (False, True)))
    console.print(t)
    base, best = projections[args.settings[0]][0][True], projections[args.settings[-1]][0][True]
    console.print(f"with reuse: {args.settings[-1]} {best / 3600:.1f} h against {args.settings[0]} "
                  f"{base / 3600:.1f} h ({base / best:.2f}x); target: under 5 hours")
    console.print("assumed, not measured: a DTC batch costs 1.1 x a pretext batch of the same network (the soft "
                  "assignment and KL term on top); UMAP's time includes numba's one-off compilation")


console = Console(width=160)


if __name__ == "__main__":
    main()
