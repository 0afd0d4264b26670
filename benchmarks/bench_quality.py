"""Segment quality against planted segments: summary-feature k-means, the paper's FTHC, `pooled`, CoLES through
pytorch-lifestream, and the contrastive behaviour encoder with its ablations (embedding only, features only,
hybrid with k-means or a Gaussian mixture), on `--difficulty hard` (and `standard`) synthetic Berka at k = 6.

    pip install -e ".[bench]"   # pytorch-lifestream, for the CoLES row (left out, with a message, without it)
    python benchmarks/bench_quality.py --data-seeds 0 1 2 --model-seeds 0 1 --accounts 4500

Prints one table: ARI and NMI against the planted segments, the silhouette of the segments in the space each
method clusters (its latent space: standardised summary features, embeddings, the behaviour features), the
cross-validated AUC of scoring loan default by segment, degenerate fits, fit seconds and peak memory, per method
(mean over data x model seeds), with the supervised accuracy of a classifier on the summary features (are the
segments learnable?) as the ceiling; with --k-auto, the k that `fthc segment --k auto` chooses and its criterion table.
The paper's FTHC at its full budget takes ~10 min per fit here: `--fthc-batches`. CoLES (GRU of 64, 12 epochs)
takes about 3.5 min per fit (median 197 s on hard data, 2 cores, in the latest run).
"""

from __future__ import annotations

import argparse
import threading
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.table import Table
from sklearn.cluster import KMeans
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.model_selection import cross_val_score

from fthc.config import DEFAULT_PRESET, make_head, preset
from fthc.data import SeriesSpec, build_series, load_source, read_ground_truth, write_synthetic_berka
from fthc.estimator import Clusterer
from fthc.features import measures as behaviour_measures, standardise, summary_features
from fthc.features.reference import behaviour_sums
from fthc.metrics import internal
from fthc.models.registries import CustomerInputs
from fthc.risk.separation import segment_auc
from fthc.segments.choice import choose_k
from fthc.segments.profile import berka_context

import ptls_coles
from memory import rss_mb


PTLS_ROW = "CoLES through pytorch-lifestream (GRU 64, k-means)"
DEFAULT_ROW = "features (the default: measures standardised, k-means; no network)"


def methods(args):
    """name -> (input: 'behaviour', 'events+behaviour' or a representation, function(input, seed) -> fitted
    Clusterer)."""
    k = 6

    def deep(name, **over):
        return lambda s, seed: Clusterer(preset(name, k=k, seed=seed, device="cpu", **over)).fit(s)

    def behaviour(weight, head):
        return lambda s, seed: Clusterer(preset("behaviour", k=k, seed=seed, device="cpu", clustering=head,
                                                feature_weight=weight,
                                                pretrain_batches=args.behaviour_batches)).fit(s)

    return {
        "behaviour (features 0.8 + contrastive embedding 0.2, k-means)": ("events+behaviour", behaviour(0.8, "kmeans")),
        DEFAULT_ROW: ("behaviour", lambda m, seed: Clusterer(preset("features", k=k, seed=seed)).fit(m)),
        "  ablation: contrastive embedding only (CoLES-style GRU)": ("events", behaviour(0.0, "kmeans")),
        "  ablation: equal weights (0.5)": ("events+behaviour", behaviour(0.5, "kmeans")),
        "  ablation: Gaussian-mixture head": ("events+behaviour", behaviour(0.8, "gmm")),
        f"pooled ({args.pooled_batches} batches)": ("events", deep("pooled", pretrain_batches=args.pooled_batches)),
        f"paper FTHC ({args.fthc_batches} batches)": ("amounts", deep("fthc", pretrain_batches=args.fthc_batches)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--difficulty", default="hard", choices=["hard", "standard"])
    ap.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--model-seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--accounts", type=int, default=4500)
    ap.add_argument("--behaviour-batches", type=int, default=300)
    ap.add_argument("--pooled-batches", type=int, default=100)
    ap.add_argument("--fthc-batches", type=int, default=100)
    ap.add_argument("--ptls-epochs", type=int, default=12, help="CoLES (pytorch-lifestream) training epochs")
    ap.add_argument("--skip", nargs="*", default=[], help="substrings of method names to leave out")
    ap.add_argument("--k-auto", action="store_true", help="also run the default preset's choice of k (2-10) on "
                                                          "each data seed")
    args = ap.parse_args()
    torch.set_num_threads(2)
    rows: dict[str, list[dict]] = {}
    ceiling, ceilings, k_auto = [], [], []
    for ds in args.data_seeds:
        with tempfile.TemporaryDirectory() as d:
            write_synthetic_berka(Path(d), args.accounts, ds, args.difficulty)
            source = load_source(d)
            tx = source.transactions
            planted = read_ground_truth(d).set_index("account_id")
            truth = planted["segment"]
        context = berka_context(source.berka, truth.index)
        default = context["loan_default"]  # B/D loan outcomes, never used for fitting
        sums = behaviour_sums(tx)
        f = summary_features(sums)
        X, y = standardise(f), truth.reindex(f.index).to_numpy()
        ceiling.append(cross_val_score(HistGradientBoostingClassifier(random_state=0), X, y, cv=5).mean())
        series = {rep: build_series(tx, SeriesSpec(rep), customers=sums.index.to_numpy())
                  for rep in ("events", "amounts")}
        series["behaviour"] = behaviour_measures(sums)
        series["events+behaviour"] = CustomerInputs(series["events"], series["behaviour"])
        if args.k_auto:
            t = time.perf_counter()
            z = Clusterer(preset(DEFAULT_PRESET)).fit(series["behaviour"]).transform(series["behaviour"])
            choice = choose_k(z, lambda kk, s: make_head(preset(DEFAULT_PRESET, seed=s), kk), ks=range(1, 11))
            k_auto.append((ds, choice.k, time.perf_counter() - t, choice.table))
        fitted_default = None
        for ms in args.model_seeds:
            lab, seconds, peak = measured(lambda: KMeans(6, n_init=10, random_state=ms).fit_predict(X))
            rows.setdefault("k-means on summary features (baseline)", []).append(
                score(y, lab, X, seconds, peak, pd.Series(lab, index=f.index), default))
            if ptls_coles.available() and not any(s in PTLS_ROW for s in args.skip):
                def coles():  # pytorch-lifestream's CoLES on the transactions, k-means on its embeddings
                    ids, z = ptls_coles.coles_embeddings(tx, ms, hidden=64, epochs=args.ptls_epochs)
                    return ids, z, KMeans(6, n_init=10, random_state=ms).fit_predict(z)
                (ids, z, lab), seconds, peak = measured(coles)
                rows.setdefault(PTLS_ROW, []).append(
                    score(truth.reindex(ids).to_numpy(), lab, z, seconds, peak, pd.Series(lab, index=ids), default))
            elif ds == args.data_seeds[0] and ms == args.model_seeds[0]:
                Console().log(f"{PTLS_ROW}: left out (pip install -e '.[bench]' installs pytorch-lifestream)",
                              markup=False)
            for name, (rep, fit) in methods(args).items():
                if any(s in name for s in args.skip):
                    continue
                s = series[rep]
                ids = sums.index.to_numpy()
                y_s = truth.reindex(ids).to_numpy()
                model, seconds, peak = measured(lambda: fit(s, ms))
                lab, latent = model.labels_, model.transform(s)
                if name == DEFAULT_ROW and ms == args.model_seeds[0]:
                    fitted_default = (latent, lab)  # the label bounds read the default's features from this fit
                rows.setdefault(name, []).append(
                    score(y_s, lab, latent, seconds, peak, pd.Series(lab, index=ids), default))
                Console().log(f"data seed {ds}, model seed {ms}: {name} ARI {rows[name][-1]['ari']:.3f}")
        ceilings.append(label_ceilings(planted, series["behaviour"], fitted_default))
    table = Table(title=f"{args.difficulty} synthetic Berka, {args.accounts} accounts, k=6, data seeds "
                        f"{args.data_seeds} x model seeds {args.model_seeds} (supervised accuracy on summary "
                        f"features: {np.mean(ceiling):.3f})")
    for col in ("method", "ARI", "ARI min-max", "NMI", "latent silhouette", "default AUC", "degenerate", "fit s",
                "peak MB"):
        table.add_column(col, justify="left" if col == "method" else "right")
    for name, rs in rows.items():
        a = [r["ari"] for r in rs]
        table.add_row(name, f"{np.mean(a):.3f}", f"{min(a):.3f}-{max(a):.3f}", f"{np.mean([r['nmi'] for r in rs]):.3f}",
                      f"{np.mean([r['silhouette'] for r in rs]):.3f}", f"{np.nanmean([r['auc'] for r in rs]):.3f}",
                      f"{sum(r['degenerate'] for r in rs)}/{len(rs)}",
                      f"{np.median([r['s'] for r in rs]):.1f}", f"{np.median([r['peak'] for r in rs]):,.0f}")
    Console(width=160).print(table)
    c = pd.DataFrame(ceilings).mean()
    Console(width=160).print(
        f"What the labels allow (ARI; mean over data seeds): every customer labelled by its dominant habits (the "
        f"second segment where it blends in more than half) {c['dominant']:.3f}; k-means after a projection chosen "
        f"with the labels (LDA of the default's behaviour features) {c['lda']:.3f}; the default itself "
        f"{c['default']:.3f}, and each customer given the nearest centroid of the pure customers of each planted "
        f"segment in the default's own space {c['centroids']:.3f}.")
    for ds, best, seconds, kt in k_auto:
        Console(width=160).print(f"data seed {ds}: --k auto chose k={best} ({seconds:.0f} s)\n{kt.round(3).to_string()}")


def label_ceilings(planted: pd.DataFrame, measures, fitted_default=None) -> dict[str, float]:
    """Bounds that use the planted labels, so the table can be read against what the data allows: a customer
    that blends in more than half of a second segment's habits is still labelled with its first.
    `fitted_default`: (features, labels) of the default's fit on these customers (fitted here when its row is
    skipped)."""
    dominant = np.where(planted["blend"] > 0.5, planted["second_segment"], planted["segment"])
    p = planted.reindex(measures.index)
    y = p["segment"].to_numpy()
    if fitted_default is None:
        z = Clusterer(preset(DEFAULT_PRESET, k=6)).fit(measures)
        fitted_default = (z.transform(measures), z.labels_)
    features, labels = fitted_default
    lda = LinearDiscriminantAnalysis(n_components=5).fit(features, y).transform(features)
    pure = ((p["blend"] == 0) & (p["switched_to"] == "")).to_numpy()
    segments = np.unique(y)
    centres = np.stack([features[pure & (y == s)].mean(0) for s in segments])
    nearest = ((features[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
    return {"dominant": adjusted_rand_score(planted["segment"], dominant),
            "lda": adjusted_rand_score(y, KMeans(6, n_init=10, random_state=0).fit_predict(lda)),
            "centroids": adjusted_rand_score(y, nearest),
            "default": adjusted_rand_score(y, labels)}


def measured(fit):
    """`fit()`'s result, seconds, and peak resident memory above the level before it (sampled every 5 ms by a
    thread, so each method's memory is its own and not the process's history)."""
    base, peak, stop = rss_mb(), [0.0], threading.Event()

    def sample():
        while not stop.wait(0.005):
            peak[0] = max(peak[0], rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t = time.perf_counter()
    out = fit()
    seconds = time.perf_counter() - t
    stop.set()
    sampler.join()
    return out, seconds, max(peak[0], rss_mb()) - base


def score(y, labels, latent, seconds, peak, segments, default) -> dict:
    """Agreement with the planted segments, the segments' silhouette in the space the method clusters, and the
    cross-validated AUC of scoring loan default by segment."""
    return {"ari": adjusted_rand_score(y, labels), "nmi": normalized_mutual_info_score(y, labels),
            "silhouette": internal(latent, labels)["silhouette"],
            "auc": segment_auc(segments, default.reindex(segments.index)),
            "degenerate": int(len(np.unique(labels)) < 6), "s": seconds, "peak": peak}


if __name__ == "__main__":
    main()
