"""Behaviour over time (`fthc track`) against planted truth, in one run.

    python benchmarks/bench_time.py                       # about 3 minutes on 2 cores
    python benchmarks/bench_time.py --accounts 3000 --seeds 0 1

Two checks, each on data whose truth is known:

1. **Planted migrations** (the generator of `tests/segments/test_tracking.py`, larger): salaried savers and
   overdrawn cash users; from month 24 a stated share of the savers behave as cash users. The model is fitted on
   the months before the switch; `track` follows every customer quarterly over the whole data. Reported: the
   agreement (ARI) of each period's segments with the planted types against the single fit's; the share of the
   planted switchers the migration table moves out of the savers' segment, against the planted share; the
   segment-share PSI of the stationary quarters (before the switch) and of the last one.
2. **Early warning** on synthetic data with deterioration before default (`risk="recent"`: income stops 1-4
   months before the outcome for 55% of the bad outcomes): fitted with every outcome (each customer with an outcome
   is scored by the fold model that never saw it), tracked monthly over the last 24 months. For the customers
   whose bad outcome falls in a tracked month, the share flagged in one of the three months before it, against the share of all customers flagged in
   any three consecutive tracked months: the lift; and the tracked risk a month before each such default against
   that of the customers who never default (AUC, pooled over the months).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import fthc  # noqa: E402
from fthc.data.synth import write_synthetic_table  # noqa: E402
from tests.segments.test_tracking import SWITCH, bank  # noqa: E402

LEAD = 3  # months before a default in which a flag counts as a warning
TRACKED = 24  # months tracked, the latest


def migrations(seed: int, n: int, share: float) -> dict:
    tx, saver, switches = bank(n=n, months=42, switch_share=share, seed=seed)
    switch_date = pd.Timestamp("2020-01-01") + pd.DateOffset(months=SWITCH)
    seg = fthc.Segmenter(k=2, window=12, seed=seed).fit(tx[tx["timestamp"] < switch_date])
    truth = pd.Series(np.where(saver, 0, 1), index=np.arange(n))
    fit_ari = adjusted_rand_score(truth.loc[seg.labels_.index], seg.labels_)
    t0 = time.perf_counter()
    r = seg.track(tx, every="quarter", periods=10)
    seconds = time.perf_counter() - t0
    saver_segment = int(seg.labels_[saver].mode()[0])
    aris, moved = [], []
    for end, g in r.tracks.groupby("period_end"):
        s = g.set_index("customer_id")["segment"]
        planted = truth.copy()
        if end >= switch_date + pd.DateOffset(months=6):  # the window holds more months of the new behaviour
            planted[switches] = 1
        if end < switch_date or end >= switch_date + pd.DateOffset(months=6):
            aris.append(adjusted_rand_score(planted.loc[s.index], s))
    m = r.migration[(r.migration["kind"] == "segment") & (r.migration["from"] == saver_segment)
                    & (r.migration["to"] != saver_segment)]
    out_of_savers = m["customers"].sum() / max(int(saver.sum()), 1)
    psi = r.drift[r.drift["what"] == "segment shares"].set_index("period_end")["psi"]
    stationary = psi[psi.index < switch_date]
    return {"seed": seed, "fit_ari": fit_ari, "period_ari_min": min(aris), "planted_share": share,
            "moved_share": out_of_savers, "planted_of_savers": switches.sum() / saver.sum(),
            "psi_stationary_max": stationary.max(), "psi_last": psi.iloc[-1], "track_s": seconds}


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
    warned, judged = [], 0
    for cid, month in zip(later["customer_id"], later["month"]):
        window = [month - k for k in range(1, LEAD + 1)]
        if not all(w in tracked[1:] for w in window):
            continue
        judged += 1
        warned.append(any(cid in flagged.get(w, set()) for w in window))
    # the tracked risk itself, a month before: defaulters of month d against customers who never default
    from sklearn.metrics import roc_auc_score

    never = set(r.tracks["customer_id"]) - set(outcomes.loc[outcomes["default"] == 1, "customer_id"])
    risk_at = r.tracks.assign(month=r.tracks["period_end"].dt.to_period("M")).set_index(["month", "customer_id"])["risk"]
    scores, labels = [], []
    for cid, month in zip(later["customer_id"], later["month"]):
        prev = month - 1
        if (prev, cid) in risk_at.index:
            at = risk_at.loc[prev]
            scores += [float(at.loc[cid])] + at.loc[at.index.intersection(list(never))].tolist()
            labels += [1] + [0] * len(at.index.intersection(list(never)))
    auc = roc_auc_score(labels, scores) if len(set(labels)) == 2 else float("nan")
    customers = r.tracks["customer_id"].unique()
    base = []
    for i in range(1, len(tracked) - LEAD + 1):
        window = tracked[i:i + LEAD]
        hit = set().union(*(flagged.get(w, set()) for w in window))
        base.append(len(hit & set(customers)) / len(customers))
    share_def = float(np.mean(warned)) if warned else float("nan")
    share_all = float(np.mean(base)) if base else float("nan")
    return {"seed": seed, "defaults_judged": judged, "warned_share": share_def, "all_share": share_all,
            "lift": share_def / share_all if share_all else float("nan"), "risk_auc": auc, "periods": len(ends),
            "track_s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--customers", type=int, default=400, help="customers of the planted-migration data")
    ap.add_argument("--share", type=float, default=0.4, help="share of the savers planted to switch")
    ap.add_argument("--accounts", type=int, default=1500, help="accounts of the early-warning data")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    console = Console(width=160)
    rows = [migrations(s, args.customers, args.share) for s in args.seeds]
    t = Table(title=f"planted migrations: {args.customers} customers, {args.share:.0%} of the savers switch at "
                    f"month {SWITCH}; quarterly tracking, model fitted before the switch")
    for col in ("seed", "single fit ARI", "worst period ARI", "switchers / savers (planted)",
                "moved out of the savers' segment", "share PSI, stationary (max)", "share PSI, last", "track s"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["seed"]), f"{r['fit_ari']:.3f}", f"{r['period_ari_min']:.3f}",
                  f"{r['planted_of_savers']:.3f}", f"{r['moved_share']:.3f}", f"{r['psi_stationary_max']:.3f}",
                  f"{r['psi_last']:.3f}", f"{r['track_s']:.1f}")
    console.print(t)
    rows = [warning_lift(s, args.accounts) for s in args.seeds]
    t = Table(title=f"early warning: synthetic 'recent' risk, {args.accounts} accounts; tracked monthly over the last "
                    f"{TRACKED} months; a warning counts in the {LEAD} months before a default")
    for col in ("seed", "defaults judged", "warned before default", "all customers flagged", "lift",
                "risk AUC a month before", "periods", "track s"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["seed"]), str(r["defaults_judged"]), f"{r['warned_share']:.3f}", f"{r['all_share']:.3f}",
                  f"{r['lift']:.2f}", f"{r['risk_auc']:.3f}", str(r["periods"]), f"{r['track_s']:.1f}")
    console.print(t)


if __name__ == "__main__":
    main()
