"""Projected wall time of the full default grid on this machine at Berka scale, from measured stage times,
with and without reuse of the pretext stage.

    python benchmarks/bench_grid.py [--timed-batches 20] [--variants fp32-full@1x2 auto@1x2 auto@2x1]

A variant is a setting (precision and length buckets) and a layout of workers x threads per worker: with
2x1 two single-thread processes measure their stages at the same time (each slows the other, as workers of
`fthc run` do), and the grid's runs are shared between them (workers claim different pretext stages, so each
encoder is trained once).

Stages are timed on 2,250 training series of length 669 (a 50/50 split of 4,500 synthetic Berka accounts):
one pretext batch per autoencoder + pretext loss, one latent pass over the training customers, k-means with
each reduction, complete-linkage initialisation, and evaluation. A run's time is then
    pretext (1,000 batches; skipped when reused) + clustering + metrics on train and test customers,
where k-means needs the train and test latents (computed once per pretext stage when it is reused) and DTC
clustering = initialisation + 100 batches + a latent pass per target refresh + passes for labels and test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from fthc.clustering.dtc import initial_labels
from fthc.config import ClustererConfig, make_encoder
from fthc.clustering.heads import KMeansHead
from fthc.estimator import FrozenEstimator, Pipeline
from fthc.models.inputs import as_inputs
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
    for ae, pre in sorted({(e.config.encoder.autoencoder, e.config.encoder.pretext) for e in entries}):
        cfg = ClustererConfig.of(autoencoder=ae, pretext=pre, clustering="kmeans", pretrain_batches=3, device="cpu",
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
    def kmeans_fit(red):
        return Pipeline(FrozenEstimator(models["fcnn"]), KMeansHead(k=6, reduction=red)).fit(data)

    kmeans_fit("umap")  # numba compiles UMAP once per worker process, not once per run
    km = {red: timed(lambda: kmeans_fit(red), repeats=1) - pass_s["fcnn"] for red in ("none", "pca", "umap")}
    init = {d: timed(lambda: initial_labels(z, 6, d, "robust", rng, 22), repeats=1) for d in ("eucl", "cid")}
    eval_s = timed(lambda: evaluate(X.reshape(len(X), -1), zn, rng.integers(0, 4, len(X)), 4), repeats=1)
    return {"batch": batch_s, "pass": pass_s, "km": km, "init": init, "eval": eval_s}


def measure_layout(args, setting: str, layout: str) -> dict:
    """Stage times of each worker of `layout` ("WxT": W processes of T threads) measured side by side, averaged
    over the workers."""
    workers, threads = (int(v) for v in layout.split("x"))
    cmd = [sys.executable, __file__, "--measure-one", setting, str(threads), str(args.n), str(args.seq_len),
           str(args.timed_batches)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"measuring {setting}@{layout} failed")
    times = [json.loads(o.strip().splitlines()[-1]) for o in outs]
    mean = {part: {k: statistics.mean(t[part][k] for t in times) for k in times[0][part]}
            for part in ("batch", "pass", "km", "init")}
    mean["batch"] = {tuple(k.split("+")): v for k, v in mean["batch"].items()}
    mean["eval"] = statistics.mean(t["eval"] for t in times)
    mean["workers"] = workers
    return mean


def project(entries, runs: int, t: dict) -> tuple[dict, dict]:
    """Seconds of the whole grid (without and with pretext reuse), in all and per autoencoder."""
    batch_s, pass_s, km, init, eval_s = t["batch"], t["pass"], t["km"], t["init"], t["eval"]

    def run_seconds(cfg: ClustererConfig, reuse: bool, first: bool) -> float:
        """first: the first run of its pretext stage (same autoencoder, pretext loss and run index)."""
        e, h = cfg.encoder, cfg.head
        batch = batch_s[(e.autoencoder, e.pretext)]
        pre = 0.0 if (reuse and not first) else 1000 * batch
        p = pass_s[e.autoencoder]  # one latent pass over the training (or test) customers
        if h.clustering == "kmeans":  # latents of train and test customers, cached per pretext stage
            clu = max(km[h.reduction], 0) + (0.0 if (reuse and not first) else 2 * p)
        else:  # initialisation pass, refreshes of the target every 50 of 100 batches, final labels, then
            updates = -(-h.dtc_batches // h.dtc_update_interval)  # transform train + test and predict test
            clu = init[h.distance] + h.dtc_batches * batch * 1.1 + (2 + updates) * p + 3 * p
        return pre + clu + 2 * eval_s

    totals = {}
    per_ae = defaultdict(lambda: [0.0, 0.0])
    for reuse in (False, True):
        total, seen = 0.0, set()
        for e in entries:
            key = (e.config.encoder.autoencoder, e.config.encoder.pretext)
            for run in range(runs):
                first = (key, run) not in seen
                seen.add((key, run))
                s = run_seconds(e.config, reuse, first)
                total += s
                per_ae[e.config.encoder.autoencoder][int(reuse)] += s
        totals[reuse] = total
    workers = t.get("workers", 1)  # the runs are shared between the workers
    return {r: v / workers for r, v in totals.items()}, {ae: [v / workers for v in vs] for ae, vs in per_ae.items()}


def main() -> None:
    from fthc.models.precision import cpu_has_native_bf16

    if len(sys.argv) > 1 and sys.argv[1] == "--measure-one":  # one worker of a layout, in its own process
        setting, threads, n, seq_len, timed_batches = sys.argv[2], *map(int, sys.argv[3:7])
        torch.set_num_threads(threads)
        one = argparse.Namespace(n=n, seq_len=seq_len, timed_batches=timed_batches)
        t = measure(one, [e for e in expand(Grid()) if e.skipped is None], setting)
        t["batch"] = {"+".join(k): v for k, v in t["batch"].items()}
        print(json.dumps(t))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--timed-batches", type=int, default=20)
    ap.add_argument("--n", type=int, default=2250, help="training customers per run")
    ap.add_argument("--seq-len", type=int, default=669)
    ap.add_argument("--variants", nargs="+", default=["fp32-full@1x2", "auto@1x2", "auto@2x1"],
                    help="setting@layout. Settings: fp32-full: float32, every batch at full length (before issue "
                         "12); fp32 / bf16: with length buckets; auto: the default (bf16 where native and faster, "
                         "length buckets). Layouts: workers x threads (fthc run's default on 2 cores: 2x1)")
    args = ap.parse_args()
    for v in args.variants:
        setting, _, layout = v.partition("@")
        if setting not in SETTINGS or not layout or not all(x.isdigit() for x in layout.split("x")):
            ap.error(f"variant {v!r}: expected setting@WxT with a setting among {', '.join(SETTINGS)}")
    grid = Grid()
    entries = [e for e in expand(grid) if e.skipped is None]
    if not cpu_has_native_bf16():
        console.print("this CPU has no native bf16: auto means fp32 here")
    times = {}
    for v in args.variants:
        setting, _, layout = v.partition("@")
        times[v] = measure_layout(args, setting, layout)
        console.print(f"  measured {v}", style="dim")

    names = args.variants
    t = Table(title="measured stage times per worker (Berka-like history lengths, median 220 of "
                    f"{args.seq_len} steps; a 2x1 worker's while the other runs beside it)")
    t.add_column("stage")
    for p in names:
        t.add_column(f"{p} s")
    first = times[names[0]]
    for key in first["batch"]:
        t.add_row(f"pretext {key[0]}+{key[1]}: 1,000 batches of 32",
                  *(f"{1000 * times[p]['batch'][key]:,.0f}" for p in names))
    for ae in first["pass"]:
        t.add_row(f"latent pass over {args.n:,} series ({ae})", *(f"{times[p]['pass'][ae]:.1f}" for p in names))
    for red in first["km"]:
        t.add_row(f"k-means k=6 after {red}", *(f"{max(times[p]['km'][red], 0):.1f}" for p in names))
    for d in first["init"]:
        t.add_row(f"DTC initialisation ({d}) on {args.n:,} latents", *(f"{times[p]['init'][d]:.2f}" for p in names))
    t.add_row("metrics (input + latent space)", *(f"{times[p]['eval']:.1f}" for p in names))
    console.print(t)

    projections = {p: project(entries, grid.runs, times[p]) for p in names}
    t = Table(title=f"projected wall time of the default grid: {len(entries)} valid configurations x {grid.runs} "
                    f"runs = {len(entries) * grid.runs} runs, one 2-core machine, hours")
    t.add_column("autoencoder")
    for p in names:
        t.add_column(f"{p} without reuse")
        t.add_column(f"{p} with pretext reuse")
    for ae in projections[names[0]][1]:
        t.add_row(ae, *(f"{projections[p][1][ae][i] / 3600:,.1f}" for p in names for i in (0, 1)))
    t.add_row("total", *(f"{projections[p][0][reuse] / 3600:,.1f}" for p in names for reuse in (False, True)))
    console.print(t)
    base = projections[names[0]][0][True]
    for p in names[1:]:
        console.print(f"with reuse: {p} {projections[p][0][True] / 3600:.1f} h against {names[0]} "
                      f"{base / 3600:.1f} h ({base / projections[p][0][True]:.2f}x); target: under 5 hours")
    console.print("assumed, not measured: a DTC batch costs 1.1 x a pretext batch of the same network (the soft "
                  "assignment and KL term on top); with several workers the runs divide evenly between them. "
                  "UMAP is timed after one warm-up fit (numba compiles it once per worker process)")


console = Console(width=160)


if __name__ == "__main__":
    main()
