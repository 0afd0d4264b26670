"""Segments that carry risk, judged on outcomes the fit never saw.

    python benchmarks/bench_risk.py                            # hard synthetic data, seeds 0-2, both forms, k = 6
    python benchmarks/bench_risk.py --data-seeds 0 --forms table --weights 0.25 0.5 1 2

For each data seed, the hard synthetic data in two forms: Berka (its loans as outcomes) and the generic table
(outcomes.csv: loans and other credit, a date each). Half of the customers with an outcome are withheld at random;
every method is fitted with the other half's outcomes, and every figure is judged on the withheld half, each
withheld customer placed and scored from its history before its outcome's date (what its outcome caused cannot
help):

- segment-only AUC: a withheld customer scored by its segment's outcome rate among the fit half's customers;
- per-customer AUC and Brier score: the estimated risk (the outcome model; for segments, the segment's rate);
- ARI against the planted segments and the silhouette of the segments in their space (all customers);
- fit seconds and the fit's peak memory above what was in use before it.

Rows: the unsupervised default, risk-aware segments (the rule's choice and other weights), the continuous outcome
model, k bands of its score (what k groups could carry at best along the model's score), the segments split
into three risk bands each, the planted segments themselves (what the true segments carry), and k-means on
summary features. Mean over data seeds.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from fthc.data import read_ground_truth, write_synthetic_berka
from fthc.data.source import as_source
from fthc.data.synth import write_synthetic_table
from fthc.features import measures, summary_features
from fthc.metrics import internal
from fthc.risk.outcomes import Outcomes, berka_outcomes, read_outcomes
from fthc.segments.segmenter import Segmenter

from memory import rss_mb

K = 6


def peak_during(fn):
    """fn(), its seconds, and the peak resident memory above the start (sampled every 20 ms)."""
    start, peak, done = rss_mb(), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    try:
        out = fn()
    finally:
        done.set()
        t.join()
    return out, time.perf_counter() - t0, max(peak[0] - start, 0.0)


def rates_auc(labels_fit, y_fit, labels_held, y_held):
    rates = pd.Series(y_fit).groupby(np.asarray(labels_fit)).mean()
    score = pd.Series(np.asarray(labels_held)).map(rates).fillna(float(np.mean(y_fit))).to_numpy()
    return roc_auc_score(y_held, score), float(np.mean((score - y_held) ** 2))


def dataset(seed: int, form: str, accounts: int):
    """(source path, all outcomes, truth by customer, the outcomes' kind)."""
    folder = Path(tempfile.mkdtemp(prefix="fthc-risk-")) / form
    if form == "berka":
        write_synthetic_berka(folder, accounts, seed, "hard")
        source = as_source(folder)
        from fthc.segments.profile import berka_context

        ids = source.transactions["customer_id"].unique()
        known = berka_outcomes(berka_context(source.berka, np.sort(ids)))
        path = folder
    else:
        write_synthetic_table(folder, accounts, seed, "hard")
        path = folder / "transactions.csv"
        source = as_source(path)
        known = read_outcomes(folder / "outcomes.csv", pd.Index(np.sort(source.transactions["customer_id"].unique())))
    truth = read_ground_truth(folder).set_index("account_id")["segment"]
    return source, known, truth


def withhold(known: Outcomes, seed: int) -> tuple[Outcomes, np.ndarray]:
    rng = np.random.default_rng(seed + 101)
    ids = known.y.index.to_numpy()
    held = np.sort(rng.choice(ids, len(ids) // 2, replace=False))
    keep = ~known.y.index.isin(held)
    fit = Outcomes(known.y[keep], known.date[keep] if known.date is not None else None, known.source, known.column)
    return fit, held


def as_of_sums(source, known: Outcomes, ids) -> pd.DataFrame:
    """The behaviour sums of customers `ids`, each from its history before its outcome's date."""
    from fthc.engines import ENGINES

    sums = source.sums(ENGINES.create("duckdb"), as_of=known.date.loc[ids] if known.date is not None else None)
    return sums.loc[sums.index.intersection(ids)]


def as_of_measures(source, known: Outcomes, ids) -> pd.DataFrame:
    sums = as_of_sums(source, known, ids)
    m = measures(sums)
    m["transactions_count"] = sums["transactions"].astype(np.int64)
    return m


def signed_log(frame: pd.DataFrame) -> np.ndarray:
    X = frame.to_numpy(dtype=np.float64)
    return np.copysign(np.log1p(np.abs(X)), X)


def evaluate(args) -> list[dict]:
    rows = []
    for seed in args.data_seeds:
        for form in args.forms:
            source, known, truth = dataset(seed, form, args.accounts)
            fit_outcomes, held = withhold(known, seed)
            y_all = known.y
            base = None
            for w in ["0", "auto", *[str(x) for x in args.weights]]:
                weight = "auto" if w == "auto" else float(w)
                seg, seconds, peak = peak_during(lambda: Segmenter(k=K, risk_weight=weight, refits=5)
                                                 .fit(source, outcomes=fit_outcomes))
                held_m = as_of_measures(source, known, held)
                fit_m = as_of_measures(source, known, fit_outcomes.y.index)
                place = lambda m: seg.model_.head_.predict(seg._space(m, seg.model_.transform(m)))  # noqa: E731
                lab_held, lab_fit = place(held_m), place(fit_m)
                y_h, y_f = y_all.loc[held_m.index].to_numpy(), y_all.loc[fit_m.index].to_numpy()
                seg_auc, seg_brier = rates_auc(lab_fit, y_f, lab_held, y_h)
                z = seg.model_.transform(seg.measures_)
                sil = internal(z, seg.labels_.to_numpy(), seed=seed)["silhouette"]
                ari = adjusted_rand_score(truth.reindex(seg.labels_.index), seg.labels_)
                name = ("unsupervised default (risk weight 0)" if w == "0" else
                        f"risk-aware, the rule's choice (auto: {seg.risk_weight_:g})" if w == "auto" else
                        f"risk-aware, weight {w}")
                risk_h = seg._risk_of(held_m)["risk"]
                rows.append({"data": f"{form} {seed}", "method": name, "segment_auc": seg_auc,
                             "customer_auc": roc_auc_score(y_h, risk_h) if w == "0" else np.nan,
                             "brier": seg_brier, "ari": ari, "silhouette": sil, "fit_s": seconds, "peak_mb": peak,
                             "weight": seg.risk_weight_})
                if w == "0":
                    base = seg
                    rows.append({"data": f"{form} {seed}", "method": "the continuous outcome model",
                                 "segment_auc": np.nan, "customer_auc": roc_auc_score(y_h, risk_h),
                                 "brier": float(np.mean((risk_h - y_h) ** 2)), "ari": np.nan, "silhouette": np.nan,
                                 "fit_s": seconds, "peak_mb": peak})
                    risk_f = seg._risk_of(fit_m)["risk"]
                    edges = np.quantile(risk_f, np.linspace(0, 1, K + 1)[1:-1])
                    auc_b, brier_b = rates_auc(np.digitize(risk_f, edges), y_f, np.digitize(risk_h, edges), y_h)
                    rows.append({"data": f"{form} {seed}", "method": f"{K} bands of the model's score",
                                 "segment_auc": auc_b, "customer_auc": np.nan, "brier": brier_b, "ari": np.nan,
                                 "silhouette": np.nan, "fit_s": seconds, "peak_mb": peak})
                    e3 = np.quantile(risk_f, [1 / 3, 2 / 3])
                    auc_sb, brier_sb = rates_auc(lab_fit * 3 + np.digitize(risk_f, e3), y_f,
                                                 lab_held * 3 + np.digitize(risk_h, e3), y_h)
                    rows.append({"data": f"{form} {seed}", "method": f"the {K} segments x 3 risk bands",
                                 "segment_auc": auc_sb, "customer_auc": np.nan, "brier": brier_sb, "ari": ari,
                                 "silhouette": np.nan, "fit_s": seconds, "peak_mb": peak})
                    planted_f = truth.reindex(fit_m.index).to_numpy()
                    planted_h = truth.reindex(held_m.index).to_numpy()
                    auc_p, brier_p = rates_auc(planted_f, y_f, planted_h, y_h)
                    rows.append({"data": f"{form} {seed}", "method": "the planted segments themselves",
                                 "segment_auc": auc_p, "customer_auc": np.nan, "brier": brier_p, "ari": 1.0,
                                 "silhouette": np.nan, "fit_s": 0.0, "peak_mb": 0.0})
                    full = summary_features(seg.sums_)
                    X = signed_log(full)
                    mu, sd = X.mean(0), np.where(X.std(0) > 0, X.std(0), 1)
                    km = KMeans(K, n_init=10, random_state=seed).fit((X - mu) / sd)
                    placed = {part: km.predict((signed_log(summary_features(as_of_sums(source, known, m.index)))
                                                - mu) / sd) for part, m in (("fit", fit_m), ("held", held_m))}
                    auc_s, brier_s = rates_auc(placed["fit"], y_f, placed["held"], y_h)
                    rows.append({"data": f"{form} {seed}", "method": "k-means on summary features",
                                 "segment_auc": auc_s, "customer_auc": np.nan, "brier": brier_s,
                                 "ari": adjusted_rand_score(truth.reindex(full.index), km.labels_),
                                 "silhouette": internal((X - mu) / sd, km.labels_, seed=seed)["silhouette"],
                                 "fit_s": 0.0, "peak_mb": 0.0})
            print(f"done: {form} seed {seed}", flush=True)
    return rows


def main() -> None:
    warnings.simplefilter("ignore")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--forms", nargs="+", default=["berka", "table"], choices=["berka", "table"])
    ap.add_argument("--weights", type=float, nargs="+", default=[0.5, 1.0])
    ap.add_argument("--accounts", type=int, default=4500)
    args = ap.parse_args()
    rows = pd.DataFrame(evaluate(args))
    console = Console(width=160)
    for form in args.forms:
        part = rows[rows["data"].str.startswith(form)]
        order = list(dict.fromkeys(part["method"].str.replace(r"auto: [0-9.]+", "auto", regex=True)))
        part = part.assign(method=part["method"].str.replace(r"auto: [0-9.]+", "auto", regex=True))
        mean = part.groupby("method", sort=False).mean(numeric_only=True).reindex(order)
        table = Table(title=f"risk on withheld outcomes, hard synthetic {form} (k = {K}, seeds {args.data_seeds}; "
                            "half the outcomes withheld, judged on them)")
        for col in ("method", "segment-only AUC", "per-customer AUC", "Brier", "ARI planted", "silhouette", "fit s",
                    "peak MB"):
            table.add_column(col)
        fmt = lambda v, f="{:.3f}": "" if pd.isna(v) else f.format(v)  # noqa: E731
        for name, r in mean.iterrows():
            table.add_row(name, fmt(r["segment_auc"]), fmt(r["customer_auc"]), fmt(r["brier"]), fmt(r["ari"]),
                          fmt(r["silhouette"]), fmt(r["fit_s"], "{:.1f}"), fmt(r["peak_mb"], "{:.0f}"))
        console.print(table)
        auto = part[part["method"].str.startswith("risk-aware, the rule")]
        console.print(f"the rule chose weights {auto['weight'].tolist()} over the seeds")
        cont = mean.loc["the continuous outcome model", "customer_auc"]
        chosen = mean.loc[[m for m in mean.index if m.startswith("risk-aware, the rule")][0]]
        unsup = mean.loc["unsupervised default (risk weight 0)"]
        console.print(f"targets: risk-aware segments carry {chosen['segment_auc'] / cont:.0%} of the continuous "
                      f"model's AUC (target 95%); ARI {chosen['ari'] - unsup['ari']:+.3f} against the unsupervised "
                      "default (target at most 0.03 below)")


if __name__ == "__main__":
    main()
