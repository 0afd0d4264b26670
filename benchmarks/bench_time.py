"""Behaviour over time (`fthc track`) against planted truth, in one run.

    python benchmarks/bench_time.py                       # about 6 minutes on 2 cores
    python benchmarks/bench_time.py --accounts 3000 --seeds 0 1

Three checks, each on data whose truth is known:

1. **Planted migrations** of the generator (`fthc.data.synth.Migration`): six planted segments; a stated share of
   the accounts take another segment's habits from 1997-01. The model is fitted on the data before it; `track`
   follows every customer quarterly over 1996-1998. Reported, for the quarters whose 12-month window lies wholly
   before or wholly after the switch: the agreement (ARI) with the planted types of a single fit on that window's
   transactions and of the tracked segments (means, and the worst gap single - tracked); the share of customers whose planted type changed against the share whose
   tracked segment changed (overall and per type), the transition matrix over types against the planted one; the
   PSI of the segment shares and of the features before and after.
2. **Early warning** on synthetic data with deterioration before default (`risk="recent"`: income stops or falls to
   30-60% 1-4 months before the outcome for 55% of the bad outcomes): fitted with every outcome (each customer with an outcome
   is scored by the fold model that never saw it), tracked monthly over the last 24 months. For the customers
   whose bad outcome falls in a tracked month, the share flagged in one of the three months before it, against the
   share of all customers flagged in any three consecutive tracked months: the lift; and the tracked risk a month before each such default against
   that of the customers who never default (AUC, pooled over the months).
3. **The segmentation space**: k-means on the default features and on them with the recent-change measures, ARI
   against the planted types before the switch and a year after it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.metrics import adjusted_rand_score

import fthc  # noqa: E402
from fthc.data.synth import Migration, read_ground_truth, write_synthetic_table  # noqa: E402

MIGRATION = "1997-01"  # the planted month
LEAD = 3  # months before a default in which a flag counts as a warning
TRACKED = 24  # months tracked, the latest


def migrations(seed: int, accounts: int, share: float) -> dict:
    """Planted migrations of the generator: fitted before MIGRATION, tracked quarterly over 1996-1998."""
    switch = pd.Timestamp(MIGRATION + "-01")
    with tempfile.TemporaryDirectory(prefix="fthc-bench-time-") as tmp:
        write_synthetic_table(tmp, accounts, seed, "standard", migration=Migration(share, MIGRATION))
        tx = pd.read_csv(Path(tmp) / "transactions.csv", parse_dates=["timestamp"])
        truth = read_ground_truth(tmp).set_index("account_id")
    before = truth["segment"]
    after = truth["switched_to"].where(truth["switch_month"] == MIGRATION, truth["segment"])
    seg = fthc.Segmenter(k=6, window=12, seed=seed).fit(tx[tx["timestamp"] < switch])
    fit_ari = adjusted_rand_score(before.loc[seg.labels_.index], seg.labels_)
    t0 = time.perf_counter()
    r = seg.track(tx, every="quarter", start="1996-01", end="1998-12")
    seconds = time.perf_counter() - t0
    # each model segment read as the planted type most of its customers had at the fit
    named = pd.crosstab(seg.labels_, before.loc[seg.labels_.index]).idxmax(axis=1)
    # per period whose window is all before or all after the switch: the tracked segments' ARI with the planted
    # types against that of a single fit on the same window's transactions (the bar)
    gaps, segment_at = {"before": [], "after": []}, {}
    for end, g in r.tracks.groupby("period_end"):
        end = pd.Timestamp(end)
        s = g.set_index("customer_id")["segment"]
        segment_at[end] = s
        part = "before" if end < switch else \
            "after" if end >= switch + pd.DateOffset(months=12) - pd.Timedelta(days=1) else None
        if part is None:
            continue
        planted_now = before if part == "before" else after
        window = tx[(tx["timestamp"] > end - pd.DateOffset(months=12)) & (tx["timestamp"] <= end)]
        single = fthc.Segmenter(k=6, seed=seed, refits=0).fit(window).labels_
        gaps[part].append((adjusted_rand_score(planted_now.loc[single.index], single),
                           adjusted_rand_score(planted_now.loc[s.index], s)))
    p0 = max(e for e in segment_at if e < switch)
    p1 = min(e for e in segment_at if e >= switch + pd.DateOffset(months=12) - pd.Timedelta(days=1))
    both = segment_at[p0].index.intersection(segment_at[p1].index)
    a, b = segment_at[p0].loc[both], segment_at[p1].loc[both]
    types = before.loc[both]
    planted_moved = (after.loc[both] != types).groupby(types).mean()
    seen_moved = (a != b).groupby(types).mean()
    # the transition matrix over the planted types: the planted one against the model's (segments read as types)
    planted = pd.crosstab(types, after.loc[both], normalize="index")
    seen = pd.crosstab(types, b.map(named), normalize="index").reindex(index=planted.index,
                                                                        columns=planted.columns, fill_value=0)
    psi = r.drift[r.drift["what"] == "segment shares"].set_index("period_end")["psi"]
    feature_psi = r.drift[r.drift["what"] == "feature"].groupby("period_end")["psi"].max() \
        if "feature" in set(r.drift["what"]) else pd.Series(dtype=float)
    stationary = psi[psi.index < switch]
    ari = {f"{part}_{what}": float(np.mean([p[i] for p in pairs])) for part, pairs in gaps.items()
           for i, what in enumerate(("single", "tracked"))}
    ari |= {f"{part}_gap": float(max(p[0] - p[1] for p in pairs)) for part, pairs in gaps.items()}
    return {"seed": seed, "fit_ari": fit_ari, **ari, "planted_moved": float((after.loc[both] !=
            types).mean()), "moved": float((a != b).mean()),
            "moved_error": float((seen_moved - planted_moved).abs().max()),
            "cell_error": float((seen - planted).abs().to_numpy().max()),
            "psi_stationary_max": stationary.max(), "psi_after": psi[psi.index >= p1].max(),
            "feature_psi_stationary": feature_psi[feature_psi.index < switch].max(),
            "feature_psi_after": feature_psi[feature_psi.index >= p1].max(), "track_s": seconds}


def segmentation_space(seed: int, accounts: int, share: float) -> dict:
    """Whether the recent-change measures belong in the space the segments are made in: k-means (k=6) on the
    default features and on them with the change measures, against the planted types, on the histories before
    the planted month (behaviour types, stationary) and up to a year after it (a third of them moved)."""
    from sklearn.cluster import KMeans

    from fthc.features.measures import CHANGE_MEASURES
    from fthc.features.model_features import model_features, standardise

    switch = pd.Timestamp(MIGRATION + "-01")
    with tempfile.TemporaryDirectory(prefix="fthc-bench-time-") as tmp:
        write_synthetic_table(tmp, accounts, seed, "standard", migration=Migration(share, MIGRATION))
        tx = pd.read_csv(Path(tmp) / "transactions.csv", parse_dates=["timestamp"])
        truth = read_ground_truth(tmp).set_index("account_id")
    after = truth["switched_to"].where(truth["switch_month"] == MIGRATION, truth["segment"])
    out = {"seed": seed}
    for label, until, planted in (("before", switch, truth["segment"]),
                                  ("after", switch + pd.DateOffset(months=12), after)):
        seg = fthc.Segmenter(k=6, seed=seed, refits=0).fit(tx[tx["timestamp"] < until])
        m = seg.measures_
        base = model_features(m, seg.feature_space_.feature_names_)
        change = m[CHANGE_MEASURES].fillna(0.0)
        for name, X in (("default", base), ("with change", base.join(change))):
            z = standardise(X)
            labels = KMeans(6, n_init=10, random_state=seed).fit_predict(z)
            out[f"{label} {name}"] = adjusted_rand_score(planted.loc[m.index], labels)
    return out


def caught(flagged: dict, later: pd.DataFrame, tracked: list, customers) -> dict:
    """Of the defaults in tracked months, the share flagged in one of the LEAD months before; the share of all
    customers flagged in any LEAD consecutive tracked months; their ratio (the lift)."""
    from fthc.risk.intervals import wilson_interval

    warned = []
    for cid, month in zip(later["customer_id"], later["month"]):
        window = [month - k for k in range(1, LEAD + 1)]
        if all(w in tracked[1:] for w in window):
            warned.append(any(cid in flagged.get(w, set()) for w in window))
    base = []
    for i in range(1, len(tracked) - LEAD + 1):
        hit = set().union(*(flagged.get(w, set()) for w in tracked[i:i + LEAD]))
        base.append(len(hit & set(customers)) / len(customers))
    share_def, share_all = float(np.mean(warned)), float(np.mean(base))
    lo, hi = wilson_interval(int(np.sum(warned)), len(warned))
    return {"judged": len(warned), "warned_share": share_def, "warned_low": lo, "warned_high": hi,
            "all_share": share_all, "all_max": float(np.max(base)), "lift": share_def / share_all,
            "lift_low": lo / share_all, "lift_high": hi / share_all}


def warning_lift(seed: int, accounts: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="fthc-bench-time-") as tmp:
        folder = Path(tmp)
        write_synthetic_table(folder, accounts, seed, "standard", risk="recent")
        tx = pd.read_csv(folder / "transactions.csv", parse_dates=["timestamp"])
        outcomes = pd.read_csv(folder / "outcomes.csv", parse_dates=["reference_date"])
    seg = fthc.Segmenter(k=6, window=12, seed=seed, risk_weight=0).fit(
        tx, outcomes=outcomes[["customer_id", "default", "reference_date"]])
    t0 = time.perf_counter()
    r = seg.track(tx, every="month", periods=TRACKED)
    seconds = time.perf_counter() - t0
    fit_end = pd.Timestamp(r.tracks["period_end"].min()) + pd.Timedelta(days=1)
    ends = sorted(r.tracks["period_end"].unique())
    flags = r.early_warning.assign(month=r.early_warning["period_end"].dt.to_period("M"))
    flagged = {m: set(g["customer_id"]) for m, g in flags.groupby("month")}
    tracked = [pd.Timestamp(e).to_period("M") for e in ends]
    later = outcomes[(outcomes["default"] == 1) & (outcomes["reference_date"] >= fit_end)].copy()
    later["month"] = later["reference_date"].dt.to_period("M")
    # the baseline at the same volume: each month, as many customers as fthc alerted, ranked by risk
    t = r.tracks.dropna(subset=["risk"]).assign(month=r.tracks["period_end"].dt.to_period("M"))
    ranked = {m: set(g.nlargest(len(flagged.get(m, ())), "risk")["customer_id"]) for m, g in t.groupby("month")}
    # the tracked risk itself, a month before: defaulters of month d against customers who never default
    from sklearn.metrics import roc_auc_score

    never = set(r.tracks["customer_id"]) - set(outcomes.loc[outcomes["default"] == 1, "customer_id"])
    risk_at = r.tracks.assign(month=r.tracks["period_end"].dt.to_period("M")).set_index(["month", "customer_id"])["risk"]
    scores, labels = [], []
    for cid, month in zip(later["customer_id"], later["month"]):
        prev = month - 1
        if (prev, cid) in risk_at.index:
            at = risk_at.loc[prev].dropna()
            if cid in at.index:
                scores += [float(at.loc[cid])] + at.loc[at.index.intersection(list(never))].tolist()
                labels += [1] + [0] * len(at.index.intersection(list(never)))
    auc = roc_auc_score(labels, scores) if len(set(labels)) == 2 else float("nan")
    customers = r.tracks["customer_id"].unique()
    rules = r.early_warning["rule"].value_counts(normalize=True)
    return {"seed": seed, "fthc": caught(flagged, later, tracked, customers),
            "ranked": caught(ranked, later, tracked, customers), "risk_auc": auc, "periods": len(ends),
            "rules": ", ".join(f"{k} {v:.0%}" for k, v in rules.items()), "track_s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--customers", type=int, default=1500, help="accounts of the planted-migration data")
    ap.add_argument("--share", type=float, default=0.3, help="share of the accounts planted to switch")
    ap.add_argument("--accounts", type=int, default=1500, help="accounts of the early-warning data")
    ap.add_argument("--only", choices=["migrations", "space", "warning"], help="run one of the three checks")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    console = Console(width=160)
    if args.only in (None, "migrations"):
        rows = [migrations(s, args.customers, args.share) for s in args.seeds]
        t = Table(title=f"planted migrations: {args.customers:,} accounts, {args.share:.0%} take another segment's "
                        f"habits from {MIGRATION}; fitted before, tracked quarterly 1996-1998 (k=6, 12-month window)")
        for col in ("seed", "ARI before: single fit / tracked (worst gap)", "ARI after: single fit / tracked (worst gap)",
                    "moved: planted / seen", "moved error (worst type)",
                    "transition cell error (max)", "share PSI stationary / after", "feature PSI stationary / after",
                    "track s"):
            t.add_column(col)
        for r in rows:
            t.add_row(str(r["seed"]), f"{r['before_single']:.3f} / {r['before_tracked']:.3f} ({r['before_gap']:+.3f})",
                      f"{r['after_single']:.3f} / {r['after_tracked']:.3f} ({r['after_gap']:+.3f})",
                      f"{r['planted_moved']:.3f} / {r['moved']:.3f}", f"{r['moved_error']:.3f}",
                      f"{r['cell_error']:.3f}", f"{r['psi_stationary_max']:.3f} / {r['psi_after']:.3f}",
                      f"{r['feature_psi_stationary']:.3f} / {r['feature_psi_after']:.3f}", f"{r['track_s']:.1f}")
        console.print(t)
    if args.only in (None, "space"):
        rows = [segmentation_space(s, args.customers, args.share) for s in args.seeds]
        t = Table(title="the segmentation space: k-means (k=6) on the default features, and with the recent-change "
                        "measures; ARI against the planted types")
        for col in ("seed", "before the switch: default", "with change", "a year after: default", "with change"):
            t.add_column(col)
        for r in rows:
            t.add_row(str(r["seed"]), *(f"{r[k]:.3f}" for k in ("before default", "before with change", "after default",
                                                                 "after with change")))
        console.print(t)
    if args.only in (None, "warning"):
        rows = [warning_lift(s, args.accounts) for s in args.seeds]
        t = Table(title=f"early warning: synthetic 'recent' risk, {args.accounts} accounts; tracked monthly over the last "
                        f"{TRACKED} months, alerts at the default budget (5% a month); a warning counts in the {LEAD} "
                        "months before a default; the baseline: as many customers each month, ranked by risk")
        for col in ("seed", "list", "defaults judged", "warned before default [95%]", "all flagged in 3 months (max)",
                    "lift [95%]", "alerts by rule", "risk AUC a month before", "track s"):
            t.add_column(col)
        for r in rows:
            for name, key in (("fthc alerts", "fthc"), ("ranking by risk", "ranked")):
                c = r[key]
                t.add_row(str(r["seed"]), name, str(c["judged"]),
                          f"{c['warned_share']:.3f} [{c['warned_low']:.3f}-{c['warned_high']:.3f}]",
                          f"{c['all_share']:.3f} ({c['all_max']:.3f})",
                          f"{c['lift']:.2f} [{c['lift_low']:.2f}-{c['lift_high']:.2f}]",
                          r["rules"] if key == "fthc" else "", f"{r['risk_auc']:.3f}" if key == "fthc" else "",
                          f"{r['track_s']:.1f}" if key == "fthc" else "")
        console.print(t)


if __name__ == "__main__":
    main()
