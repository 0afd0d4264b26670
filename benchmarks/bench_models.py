"""Models: training speed and memory per architecture, clustering quality and collapse rate per option,
DTC distance and initialisation speed, and representations against k-means on summary features.

    python benchmarks/bench_models.py                       # everything, paper budgets (hours on 2 cores)
    python benchmarks/bench_models.py --quick               # reduced budgets, minutes: what the notes quote
    python benchmarks/bench_models.py --parts speed kernels # pick parts: speed precision quality kernels representations
    python benchmarks/bench_models.py --parts precision --seeds 3 --batches 200 --accounts 1500  # bf16 parity

Every figure comes from this run; ratios are against baselines measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from memory import peak_mb
from rich.console import Console
from rich.table import Table

from fthc.clustering.distances import DISTANCES
from fthc.clustering.dtc import centroids_from_labels, initial_labels
from fthc.config import ClustererConfig, make_encoder, option_label, preset
from fthc.data import SeriesSpec, build_series, read_berka, read_ground_truth, to_transactions, write_synthetic_berka
from fthc.estimator import Clusterer, FrozenEstimator
from fthc.models.inputs import as_inputs
from fthc.features import standardise, summary_features
from fthc.metrics import evaluate
from fthc.models import AUTOENCODERS, PRETEXT_LOSSES
from fthc.progress import Reporter, reporting

console = Console(width=200)
def valid_pairs() -> list[tuple[str, str]]:
    out = []
    for a in AUTOENCODERS.names():
        for p in PRETEXT_LOSSES.names():
            try:
                ClustererConfig.of(autoencoder=a, pretext=p, clustering="kmeans").validate()
                out.append((a, p))
            except Exception:
                pass
    return out


OPTIONS = [("kmeans", "none", "eucl"), ("kmeans", "pca", "eucl"), ("kmeans", "umap", "eucl"),
           ("dtc", "none", "eucl"), ("dtc", "none", "cid"), ("dtc", "none", "cor")]


def option_name(clu, red, dist):
    return option_label({"clustering": clu, "reduction": red, "distance": dist})


# -- speed: one subprocess per architecture and setting, so that each peak memory is its own --------
def history_lengths(n: int, seq_len: int, rng) -> np.ndarray:
    """Berka-like history lengths: median ~220, from 25 to the longest (the series are padded to it)."""
    return np.clip(np.round(np.exp(rng.normal(np.log(220), 0.6, n))), 25, seq_len).astype(int)


class StepTimes(Reporter):
    def __init__(self):
        self.times = []

    def step(self, stage, done, total, loss=None):
        if stage in ("pretext", "contrastive"):
            self.times.append(time.perf_counter())


def speed_one(autoencoder: str, pretext: str, batches: int, seq_len: int, precision: str, buckets: bool) -> dict:
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    channels = 4 if pretext == "contrastive" else 1  # events for the contrastive encoder, amounts for the paper's
    lengths = history_lengths(512, seq_len, rng)
    mask = np.arange(seq_len)[None, :] < lengths[:, None]
    X = (rng.normal(size=(512, channels, seq_len)) * mask[:, None, :]).astype(np.float32)
    cfg = ClustererConfig.of(autoencoder=autoencoder, pretext=pretext, clustering="kmeans", pretrain_batches=batches,
                             batch_size=32, device="cpu", precision=precision,
                             **({"feature_weight": 0.0} if pretext == "contrastive" else {}))
    encoder = make_encoder(cfg).set_params(length_buckets=buckets)
    times = StepTimes()
    with reporting(times):
        encoder.fit(X, mask)
    per_batch = (times.times[-1] - times.times[0]) / (len(times.times) - 1)  # the first batch warms up
    return {"seconds_per_1000": per_batch * 1000, "peak_mb": peak_mb()}


SPEED_SETTINGS = [("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)]


def part_speed(args) -> None:
    from fthc.models.precision import cpu_has_native_bf16

    settings = [s for s in SPEED_SETTINGS if s[0] == "fp32" or cpu_has_native_bf16()]
    table = Table(title=f"pretext training: seconds per 1,000 batches of 32, padded to {args.seq_len} steps, "
                        f"Berka-like history lengths (median 220); median of {args.repeats} processes x "
                        f"{args.speed_batches} timed batches, 2 threads. 'full' = every batch at full length, "
                        "'buckets' = length-bucketed batches cropped to their longest history")
    for col in ("autoencoder", "pretext", *(f"{p} {'buckets' if b else 'full'}" for p, b in settings),
                "default", "speed-up vs fp32 full", "peak RSS MB"):
        table.add_column(col)
    for a, p in valid_pairs():
        if args.speed_pairs and f"{a}:{p}" not in args.speed_pairs:
            continue
        variable = AUTOENCODERS.get(a).flag("variable_length")
        cells, best = {}, {}
        for precision, buckets in settings:
            if buckets and not variable:
                continue  # fixed-length networks (the paper's FCNN and ResNet, DTC) always see full length
            runs = []
            for _ in range(args.repeats):
                out = subprocess.run([sys.executable, __file__, "--speed-one", a, p, str(args.speed_batches),
                                      str(args.seq_len), precision, str(int(buckets))],
                                     capture_output=True, text=True, check=True)
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            cells[precision, buckets] = statistics.median(r["seconds_per_1000"] for r in runs)
            best["peak"] = max(best.get("peak", 0), max(r["peak_mb"] for r in runs))
        native = ("bf16", False) in cells and AUTOENCODERS.get(a).flag("bf16")  # what precision='auto' takes
        default = ("bf16" if native else "fp32", variable)
        row = [f"{cells[s]:,.0f}" if s in cells else "n/a" for s in settings]
        table.add_row(a, p, *row, f"{cells[default]:,.0f} ({default[0]}{', buckets' if variable else ''})",
                      f"{cells['fp32', False] / cells[default]:.2f}x", f"{best['peak']:,.0f}")
    console.print(table)


# -- kernels: batched distances vs a per-pair loop; initialisation on 4,500 latents ------------------
def part_kernels(args) -> None:
    rng = np.random.default_rng(0)
    table = Table(title="DTC kernels (median of 5)")
    for col in ("what", "size", "fthc s", "baseline", "baseline s", "speed-up"):
        table.add_column(col)
    z = torch.tensor(rng.normal(size=(256, 10, 1)), dtype=torch.float32)
    c = torch.tensor(rng.normal(size=(6, 10, 1)), dtype=torch.float32)
    for name in ("eucl", "cid", "cor"):
        fn = DISTANCES.get(name).build
        fast = statistics.median(_time(lambda: fn(z, c)) for _ in range(5))
        slow = statistics.median(_time(lambda: torch.stack([torch.stack([fn(z[i:i + 1], c[j:j + 1])[0, 0]
                                                                       for j in range(len(c))])
                                                          for i in range(len(z))])) for _ in range(3))
        table.add_row(f"distance {name}", "256 x 6 latents of 10", f"{fast * 1e3:.2f} ms", "per-pair Python loop",
                      f"{slow * 1e3:.1f} ms", f"{slow / fast:,.0f}x")
    z = torch.tensor(rng.normal(size=(4500, 10)), dtype=torch.float32)
    for name in ("eucl", "cid", "cor"):
        t = statistics.median(_time(lambda: centroids_from_labels(
            z, initial_labels(z, 6, name, "complete", rng, 2)[0], 6)) for _ in range(3))
        table.add_row(f"init complete linkage ({name})", "4,500 latents of 10, k=6", f"{t:.2f} s", "target", "1 s",
                      "")
    console.print(table)


def _time(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# -- quality and collapse on synthetic Berka --------------------------------------------------------
def load_synthetic(args):
    folder = Path(args.data) if args.data else Path(tempfile.mkdtemp()) / "berka"
    if not (folder / "trans.asc").exists():
        write_synthetic_berka(folder, args.accounts, seed=args.data_seed)
    tx = to_transactions(read_berka(folder))
    truth = read_ground_truth(folder).set_index("account_id")["segment"]
    return tx, truth


def fit_options(series, truth, base: ClustererConfig, ks, seeds, options):
    """Pretrain once per seed, then every clustering option and k from the same pretext weights."""
    data = as_inputs(series)
    inputs = series.X.reshape(len(series), -1)
    y = truth.loc[series.ids].to_numpy()
    rows = []
    for seed in seeds:
        encoder = make_encoder(base.replace(seed=seed)).fit(data)
        pre_s = encoder.fit_seconds_
        for clu, red, dist in options:
            for k in ks:
                cfg = base.replace(seed=seed, clustering=clu, reduction=red, distance=dist, k=k)
                m = Clusterer(cfg, encoder=FrozenEstimator(encoder)).fit(data)
                met = evaluate(inputs, m.transform(series), m.labels_, k, y, seed)
                rows.append({"option": option_name(clu, red, dist), "k": k, "seed": seed,
                             "cluster_s": m.clustering_seconds_, "pretrain_s": pre_s, **met})
    return rows


def part_quality(args, tx, truth) -> None:
    seeds = list(range(args.seeds))
    for a, p in args.pairs:
        base = ClustererConfig.of(autoencoder=a, pretext=p, pretrain_batches=args.batches, dtc_batches=args.dtc_batches,
                                  device="cpu", arch=args.arch.get(a, {}))
        series = build_series(tx, SeriesSpec(args.representation))
        rows = fit_options(series, truth, base, (2, 4, 6), seeds, OPTIONS)
        table = Table(title=f"{a} + {p} on synthetic Berka ({len(series):,} accounts, {args.representation}, "
                            f"{args.batches} pretext batches, {args.dtc_batches} DTC batches; mean over "
                            f"{len(seeds)} seeds)")
        for col in ("option", "k", "SC input", "DBI input", "SC latent", "DBI latent", "ARI", "NMI",
                    "degenerate", "cluster s"):
            table.add_column(col)
        for clu, red, dist in OPTIONS:
            for k in (2, 4, 6):
                r = [x for x in rows if x["option"] == option_name(clu, red, dist) and x["k"] == k]
                mean = lambda key: np.nanmean([x[key] for x in r])
                table.add_row(option_name(clu, red, dist), str(k), f"{mean('input_silhouette'):.3f}",
                              f"{mean('input_davies_bouldin'):.2f}", f"{mean('latent_silhouette'):.3f}",
                              f"{mean('latent_davies_bouldin'):.2f}", f"{mean('ari'):.3f}", f"{mean('nmi'):.3f}",
                              f"{sum(x['degenerate'] for x in r)}/{len(r)}", f"{mean('cluster_s'):.1f}")
        console.print(table)
        console.print(f"pretext stage: {np.mean([x['pretrain_s'] for x in rows]):.1f} s per seed, shared by "
                      f"{len(OPTIONS) * 3} clustering runs")


def part_precision(args, tx, truth) -> None:
    """Quality parity of bf16: final pretext loss and ARI of k-means on the latents, fp32 against bf16, per
    architecture, same seeds and data (the speed part says how much faster bf16 is)."""
    from sklearn.metrics import adjusted_rand_score

    from fthc.models.precision import cpu_has_native_bf16

    if not cpu_has_native_bf16():
        console.print("precision: this CPU has no native bf16; nothing to compare")
        return
    seeds = list(range(args.seeds))
    table = Table(title=f"bf16 against fp32 on synthetic Berka ({args.accounts:,} accounts, {args.representation}, "
                        f"{args.batches} pretext batches, k-means k=6 on the latents; mean +- sd over seeds "
                        f"{seeds})")
    for col in ("autoencoder", "pretext", "fp32 final loss", "bf16 final loss", "fp32 ARI", "bf16 ARI",
                "fp32 s", "bf16 s"):
        table.add_column(col)
    for a, p in args.precision_pairs:
        rep = "events" if a == "resnet_pool" else args.representation
        series = build_series(tx, SeriesSpec(rep))
        y = truth.loc[series.ids].to_numpy()
        res = {}
        for precision in ("fp32", "bf16"):
            for s in seeds:
                cfg = ClustererConfig.of(autoencoder=a, pretext=p, clustering="kmeans", k=6, seed=s, device="cpu",
                                         pretrain_batches=args.batches, precision=precision, arch=args.arch.get(a, {}))
                m = Clusterer(cfg).fit(series)
                loss = float(np.mean(m.history_["pretext_loss"][-20:]))
                res.setdefault(precision, []).append((loss, adjusted_rand_score(y, m.labels_), m.fit_seconds_))
        cell = lambda pr, i, f: f"{np.mean([r[i] for r in res[pr]]):{f}} +- {np.std([r[i] for r in res[pr]]):{f}}"
        table.add_row(a, p, cell("fp32", 0, ".4f"), cell("bf16", 0, ".4f"), cell("fp32", 1, ".3f"),
                      cell("bf16", 1, ".3f"), f"{np.mean([r[2] for r in res['fp32']]):.0f}",
                      f"{np.mean([r[2] for r in res['bf16']]):.0f}")
        console.print(f"  done {a}+{p}", style="dim")
    console.print(table)


def part_representations(args, tx, truth) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    k = 6
    seeds = list(range(args.seeds))
    table = Table(title=f"ARI against the 6 planted segments (k={k}, mean over {len(seeds)} seeds)")
    for col in ("method", "representation", "ARI mean", "ARI min", "degenerate", "fit s"):
        table.add_column(col)
    feats = summary_features(tx)
    y = truth.loc[feats.index].to_numpy()
    aris = [adjusted_rand_score(y, KMeans(k, n_init=10, random_state=s).fit_predict(standardise(feats)))
            for s in seeds]
    table.add_row("k-means on summary features (baseline)", "summary", f"{np.mean(aris):.3f}", f"{min(aris):.3f}",
                  "", "")
    for name in args.presets:
        for rep in ("amounts", "events", "calendar"):
            series = build_series(tx, SeriesSpec(rep))
            yy = truth.loc[series.ids].to_numpy()
            res = []
            for s in seeds:
                cfg = preset(name, k=k, seed=s, pretrain_batches=args.batches, dtc_batches=args.dtc_batches,
                             device="cpu")
                m = Clusterer(cfg).fit(series)
                res.append((adjusted_rand_score(yy, m.labels_), m.degenerate_, m.fit_seconds_))
            table.add_row(f"preset {name}", rep, f"{np.mean([r[0] for r in res]):.3f}",
                          f"{min(r[0] for r in res):.3f}", f"{sum(r[1] for r in res)}/{len(res)}",
                          f"{np.mean([r[2] for r in res]):.0f}")
            console.print(f"  done {name} {rep}", style="dim")
    console.print(table)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--speed-one":
        a, p, batches, seq_len = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(speed_one(a, p, batches, seq_len, sys.argv[6], bool(int(sys.argv[7])))))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", nargs="+", default=["kernels", "speed", "quality", "representations"])
    ap.add_argument("--quick", action="store_true", help="reduced budgets and data (minutes, not hours)")
    ap.add_argument("--data", help="a synthetic Berka folder (generated if missing)")
    ap.add_argument("--accounts", type=int, default=4500)
    ap.add_argument("--data-seed", type=int, default=11)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batches", type=int, default=1000, help="pretext batches")
    ap.add_argument("--dtc-batches", type=int, default=100)
    ap.add_argument("--representation", default="amounts")
    ap.add_argument("--seq-len", type=int, default=675)
    ap.add_argument("--speed-batches", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pairs", nargs="+", default=None, help="autoencoder:pretext pairs for the quality part")
    ap.add_argument("--speed-pairs", nargs="+", default=None, help="autoencoder:pretext pairs for the speed part "
                                                                   "(default: every valid pair)")
    ap.add_argument("--presets", nargs="+", default=["fthc", "fcnn"])
    ap.add_argument("--precision-pairs", nargs="+", default=["resnet:mse", "resnet_pool:mse", "fcnn:mse"],
                    help="autoencoder:pretext pairs for the precision part")
    args = ap.parse_args()
    args.arch = {}
    if args.quick:
        args.accounts, args.seeds, args.batches, args.dtc_batches = 1500, 3, 150, 50
        args.speed_batches, args.repeats = 5, 1
        args.representation = "calendar"
        args.pairs = args.pairs or ["resnet:mse", "fcnn:mse", "resnet_pool:mse"]
    args.pairs = [tuple(p.split(":")) for p in args.pairs] if args.pairs else valid_pairs()
    args.precision_pairs = [tuple(p.split(":")) for p in args.precision_pairs]
    torch.set_num_threads(2)
    if "kernels" in args.parts:
        part_kernels(args)
    if "speed" in args.parts:
        part_speed(args)
    if {"quality", "representations", "precision"} & set(args.parts):
        tx, truth = load_synthetic(args)
        if "quality" in args.parts:
            part_quality(args, tx, truth)
        if "precision" in args.parts:
            part_precision(args, tx, truth)
        if "representations" in args.parts:
            part_representations(args, tx, truth)


if __name__ == "__main__":
    main()
