"""The outcome model's classes compared on outcomes the fit never saw, on data able to tell them apart.

    python benchmarks/bench_risk.py                                  # seeds 0 and 1, both forms, ~6 minutes
    python benchmarks/bench_risk.py --data-seeds 0 --forms table --accounts 2000

Data: synthetic with `risk="recent"` (`fthc.data.synth.RECENT_RISK`): bad credit driven by thresholds and an
interaction of behaviour traits, and by deterioration before default (income stops 1-4 months before the outcome's
month for 55% of bad outcomes and 5% of good ones), in two forms: the generic table (outcomes.csv: loans and other
credit, a date each) and Berka (its loans as outcomes). Half of the customers with an outcome are withheld at
random (stratified); each model is fitted (`fthc.Segmenter`, its nested cross-validation inside) on the other
half's outcomes, and every figure is judged on the withheld half, each withheld customer scored from its window
before its outcome's month by `Segmenter.risk_at` (the model never saw it, nor anything after its date):

- per-customer AUC of the risk, with a 95% bootstrap interval; Brier score;
- grade AUC: the withheld customers scored by their grade on the master scale, beside five equal-count bands of
  the same risk (the simple baseline); how many grades print a rate inside the withheld customers' 95% interval;
  the calibration slope (a logistic regression of the withheld outcomes on the risk's log-odds: 1 is right, below
  1 over-confident);
- with --stability: the default model fitted with seeds 0, 1 and 2, the share of customers keeping their grade;
- rows: boosted trees (the default), monotone trees and the logistic regression, on the default 12-month window
  with its last six months in order; boosted on a 24-month window, and without a window (all history before the
  date); boosted and logistic again without the recent-change measures (`CHANGE_MEASURES`: the last 3 months
  against the months before, months since the last regular credit, the income trend), to measure what they add;
  boosted with `window="auto"` (12, 24 or 36 months, chosen out of fold).
Same run, same halves for every row; figures per data seed and their mean.
"""

from __future__ import annotations

import argparse
from contextlib import contextmanager
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from fthc.data import write_synthetic_berka
from fthc.features.measures import CHANGE_MEASURES
from fthc.risk import estimator
from fthc.data.synth import write_synthetic_table
from fthc.risk.intervals import auc_interval
from fthc.segments.segmenter import Segmenter

# (model, window, with the recent-change measures)
ROWS = [("boosted", 12, True), ("boosted", 12, False), ("monotone", 12, True), ("logistic", 12, True),
        ("logistic", 12, False), ("boosted", 24, True), ("boosted", None, True), ("boosted", "auto", True)]
CHANGE = [m for m in estimator.RISK_MEASURES if m in CHANGE_MEASURES]
SCALES = (6, 10, 14)  # grades of the geometric 1%-60% scales compared (10: the default master scale)


@contextmanager
def change_measures(used: bool):
    """The outcome model's inputs with or without the recent-change measures (the same run, the same halves)."""
    kept = estimator.RISK_MEASURES
    if not used:
        estimator.RISK_MEASURES = [m for m in kept if m not in CHANGE]
    try:
        yield
    finally:
        estimator.RISK_MEASURES = kept


def outcomes_of(folder: Path, form: str) -> pd.DataFrame:
    o = pd.read_csv(folder / "outcomes.csv")
    if form == "berka":
        o = o[o["credit"] == "loan"]
    return o[["customer_id", "default", "reference_date"]]


def one(folder: Path, form: str, outcomes: pd.DataFrame, seed: int, chosen: list) -> list[dict]:
    data = folder if form == "berka" else folder / "transactions.csv"
    fit, held = train_test_split(outcomes, test_size=0.5, stratify=outcomes["default"], random_state=seed)
    rows = []
    for kind, window, change in chosen:
        t0 = time.perf_counter()
        with warnings.catch_warnings(), change_measures(change):
            warnings.simplefilter("ignore")
            seg = Segmenter(k=6, risk_model=kind, window=window, risk_weight=0, seed=seed, refits=2)
            seg.fit(str(data), outcomes=fit.reset_index(drop=True))
            seconds = time.perf_counter() - t0
            dates = pd.Series(pd.to_datetime(held["reference_date"]).to_numpy(),
                              index=held["customer_id"].to_numpy())
            scored = seg.risk_at(str(data), dates)
        y = held.set_index("customer_id")["default"].reindex(scored.index)
        ok = scored["risk"].notna().to_numpy()
        yy, r, g = y[ok].to_numpy(), scored["risk"][ok].to_numpy(), scored["risk_grade"][ok].to_numpy()
        lo, hi = auc_interval(yy, r)
        rows.append({"form": form, "model": kind, "window": window or "all", "chosen": seg.window_,
                     "change": "with" if change else "without", "auc": roc_auc_score(yy, r),
                     "auc_low": lo, "auc_high": hi, "grade_auc": roc_auc_score(yy, g),
                     "bands_auc": roc_auc_score(yy, pd.qcut(r, 5, labels=False, duplicates="drop")),
                     "grades": len(np.unique(g)), "brier": float(np.mean((r - yy) ** 2)),
                     "slope": calibration_slope(yy, r), "inside": rates_inside(seg.outcome_model_.grades_, g, yy),
                     "withheld": int(ok.sum()), "positives": int(yy.sum()), "fit_s": seconds,
                     "grade_of": pd.Series(scored["risk_grade"].to_numpy(), index=scored.index)})
    return rows


def calibration_slope(y: np.ndarray, risk: np.ndarray) -> float:
    """The slope of a logistic regression of the withheld outcomes on the risk's log-odds: 1 where the risk is
    as spread as the outcomes say, below 1 where it is over-confident."""
    from sklearn.linear_model import LogisticRegression

    p = np.clip(risk, 1e-6, 1 - 1e-6)
    return float(LogisticRegression(C=1e6, max_iter=1000).fit(np.log(p / (1 - p))[:, None], y).coef_[0, 0])


def rates_inside(grades, g: np.ndarray, y: np.ndarray) -> str:
    """Of the grades that print a rate resting on enough outcomes, how many print one inside the 95% interval of
    the withheld customers' rate in that grade."""
    from fthc.risk.intervals import wilson_interval

    shown = grades.used[grades.used["enough"]]
    inside = 0
    for grade, row in shown.iterrows():
        held = y[g == grade]
        lo, hi = wilson_interval(int(held.sum()), len(held)) if len(held) else (0.0, 1.0)
        inside += bool(lo <= row["rate"] <= hi)
    return f"{inside}/{len(shown)}"


def stability(folder: Path, form: str, outcomes: pd.DataFrame, data_seed: int, seeds=(0, 1, 2)) -> dict:
    """The default model fitted with seeds 0, 1 and 2 on the same half: the share of withheld customers (scored
    as applicants) and of all fitted customers that keep their grade, against five equal-count bands of the
    same risk."""
    data = folder if form == "berka" else folder / "transactions.csv"
    fit, held = train_test_split(outcomes, test_size=0.5, stratify=outcomes["default"], random_state=data_seed)
    dates = pd.Series(pd.to_datetime(held["reference_date"]).to_numpy(), index=held["customer_id"].to_numpy())
    grades, bands, fitted, risks = [], [], [], []
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = Segmenter(k=6, risk_weight=0, seed=seed, refits=2).fit(str(data), outcomes=fit.reset_index(drop=True))
        scored = seg.risk_at(str(data), dates)
        risks.append(scored["risk"])
        grades.append(scored["risk_grade"])
        bands.append(pd.qcut(scored["risk"], 5, labels=False, duplicates="drop"))
        fitted.append(seg.risk_["risk_grade"])
    same = lambda cols: float((pd.concat(cols, axis=1).nunique(axis=1) == 1).mean())  # noqa: E731
    y = held.set_index("customer_id")["default"]
    scales = {}
    for n in SCALES:  # geometric scales from 1% to 60% of n grades: how fineness trades ranking for stability
        edges = np.geomspace(0.01, 0.60, n - 1)
        graded = [pd.Series(np.searchsorted(edges, r.to_numpy()) + 1, index=r.index).where(r.notna(), 0) for r in risks]
        ok = risks[0].notna()
        scales[n] = {"auc": float(np.mean([roc_auc_score(y.reindex(g.index)[ok], g[ok]) for g in graded])),
                     "keep": same(graded)}
    return {"form": form, "seed": data_seed, "withheld": same(grades), "bands": same(bands), "fitted": same(fitted),
            "continuous": float(np.mean([roc_auc_score(y.reindex(r.index)[risks[0].notna()],
                                                        r[risks[0].notna()]) for r in risks])),
            "scales": scales}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--forms", nargs="+", default=["table", "berka"], choices=["table", "berka"])
    ap.add_argument("--accounts", type=int, default=3000)
    ap.add_argument("--difficulty", default="hard", choices=["standard", "hard"])
    ap.add_argument("--rows", type=int, nargs="+", default=list(range(len(ROWS))),
                    help="which of ROWS to run (0-based; default all)")
    ap.add_argument("--stability", action="store_true",
                    help="also fit the default model with seeds 0, 1 and 2: the share keeping its grade")
    args = ap.parse_args()
    rows = [ROWS[i] for i in args.rows]
    results, stable = [], []
    with tempfile.TemporaryDirectory(prefix="fthc-bench-risk-") as tmp:
        for seed in args.data_seeds:
            for form in args.forms:
                folder = Path(tmp) / f"{form}{seed}"
                if form == "table":
                    write_synthetic_table(folder, args.accounts, seed, args.difficulty, risk="recent")
                else:
                    write_synthetic_berka(folder, args.accounts, seed, args.difficulty, risk="recent")
                for row in one(folder, form, outcomes_of(folder, form), seed, rows):
                    results.append(row | {"seed": seed})
                    print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in results[-1].items()
                           if k != "grade_of"}, flush=True)
                if args.stability:
                    stable.append(stability(folder, form, outcomes_of(folder, form), seed))
                    print(stable[-1], flush=True)
    df = pd.DataFrame(results)
    t = Table(title=f"withheld half of the outcomes, risk 'recent' synthetic data ({args.difficulty}, "
                    f"{args.accounts:,} accounts), seeds {args.data_seeds}")
    for col in ("form", "model", "window", "change measures", "AUC (mean)", "AUC per seed [95%]", "grade AUC",
                "5 equal-count bands", "grades used", "printed rates inside withheld 95%", "calibration slope",
                "Brier", "withheld / positive", "fit s"):
        t.add_column(col)
    for (form, kind, window, change), g in df.groupby(["form", "model", "window", "change"], sort=False):
        t.add_row(form, kind, f"auto ({'/'.join(map(str, g['chosen']))})" if window == "auto" else str(window), change, f"{g['auc'].mean():.3f}",
                  "; ".join(f"{r.auc:.3f} [{r.auc_low:.3f}-{r.auc_high:.3f}]" for r in g.itertuples()),
                  f"{g['grade_auc'].mean():.3f}", f"{g['bands_auc'].mean():.3f}", "/".join(map(str, g["grades"])),
                  "; ".join(g["inside"]), "; ".join(f"{v:.2f}" for v in g["slope"]), f"{g['brier'].mean():.3f}",
                  "; ".join(f"{r.withheld}/{r.positives}" for r in g.itertuples()), f"{g['fit_s'].median():.0f}")
    Console(width=220).print(t)
    if stable:
        t = Table(title="the default model fitted with seeds 0, 1 and 2 on the same half: the share keeping its grade")
        for col in ("form", "data seed", "withheld (as applicants)", "5 equal-count bands of the same risk",
                    "fitted customers"):
            t.add_column(col)
        for r in stable:
            t.add_row(r["form"], str(r["seed"]), f"{r['withheld']:.1%}", f"{r['bands']:.1%}", f"{r['fitted']:.1%}")
        Console(width=220).print(t)
        t = Table(title="geometric scales from 1% to 60%: withheld grade AUC (mean of the three seeds) and the share "
                        "of withheld customers keeping their grade over the three")
        for col in ("form", "data seed", "continuous AUC", *[f"{n} grades: AUC / keep" for n in SCALES]):
            t.add_column(col)
        for r in stable:
            t.add_row(r["form"], str(r["seed"]), f"{r['continuous']:.3f}",
                      *[f"{r['scales'][n]['auc']:.3f} / {r['scales'][n]['keep']:.1%}" for n in SCALES])
        Console(width=220).print(t)


if __name__ == "__main__":
    main()
