"""Affordability checked against outcomes: does a loan's payment against the free cash flow fthc measures before it
rank the loans that go bad, beyond the risk model?

    python benchmarks/bench_offer.py                       # 3,000 accounts, seeds 0 and 1: about 2 minutes on 2 cores
    python benchmarks/bench_offer.py --accounts 9000       # 3 times the loans: about 4.5 minutes
    python benchmarks/bench_offer.py --strategy            # the quickstart data's strategy table, judged: ~30 s

`--strategy`: the strategy table `fthc offer` prints for the quickstart's data (synthetic Berka, 4,500 accounts,
seed 0, `Segmenter(k="auto")`, the product's stated defaults), with what it shows judged on outcomes the fit never
saw: half of the loans withheld (stratified), the model fitted on the other half, every withheld loan scored from
its window before the loan (`risk_at`) and given its grade's PD as `fthc offer` gives it; per cut-off grade, the
share of the withheld loans approved, the expected bad rate the table prints with its interval, and the bad rate
those approved loans really had (Wilson 95%), inside the printed interval or not; the last row approves every
graded loan (the portfolio's rate: the baseline of no cut-off).

Data: synthetic Berka (`fthc.data.synth`, standard difficulty, risk "linear") in two settings of the same
accounts: with the affordability plant (`generate(affordability=True)`: a loan's log-odds of going bad add
AFFORDABILITY_WEIGHT x log(payment / the account's *expected* monthly surplus / BURDEN_REFERENCE), the surplus
computed from the generator's parameters, never from its transactions), and without it (the negative control:
the payment then has no bearing on the outcome beyond what behaviour already says). The loans are the outcomes
(status B or D: bad, at the loan's date). Half of the loans are withheld at random (stratified by outcome);
`fthc.Segmenter(k=4, seed=0, risk_weight=0, refits=2)` is fitted on the other half's outcomes (its nested
cross-validation inside; the segments' risk weight and refits do not touch the risk model, and cost time), and
every figure is judged on the withheld loans, each read from the 12-month window before its loan's month (the
model never saw it, nor anything from the loan's month on):

- risk model alone: `Segmenter.risk_at` on the window before the loan;
- ratio: the loan's monthly payment (loan.asc `payments`) / `free_cash_flow` of that window (money in less money out
  of a typical month, the median over its calendar months: `fthc.features.measures`); a free cash flow of 0 or
  less ranks highest (+inf);
- two naive measures, to show the benchmark tells them apart: payment / `typical_month_income` (the payment
  against income, blind to spending) and the payment alone;
- risk + ratio: a logistic regression on [log-odds of the risk, log of the ratio capped to RATIO_RANGE], fitted on
  the fitted half's loans (each with its out-of-fold risk, `outcome_model_.oof_`, and its ratio from its own
  window before its loan) and applied to the withheld half.

Per setting and data seed: the withheld AUC with its 95% bootstrap interval (`fthc.risk.intervals.auc_interval`),
and the difference from the risk model alone with a paired 95% bootstrap interval (the same resampled loans).
Only withheld loans with a risk (at least 6 months in the window) and a free cash flow are judged; the same loans
for every row. The real Berka tables (../shared/data/berka) are used where they have a transaction table;
otherwise one row says they cannot be checked (the ratio needs the transactions before the loan).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from fthc.data import write_synthetic_berka
from fthc.data.berka import find_table, read_table
from fthc.data.source import as_source
from fthc.data.synth import AFFORDABILITY_WEIGHT, BURDEN_REFERENCE
from fthc.risk.intervals import auc_interval
from fthc.segments.inputs import read_measures
from fthc.segments.segmenter import Segmenter
from fthc.segments.windows import window_of

REAL_BERKA = Path(__file__).resolve().parents[2] / "shared" / "data" / "berka"
RATIO_RANGE = (0.01, 10.0)  # the log ratio the combined model reads: capped here (free cash flow <= 0: the top)
SCORES = ["risk model alone", "payment / free cash flow", "payment / typical income", "payment alone",
          "risk + payment / free cash flow"]
K = 4


def loans_of(folder: Path) -> pd.DataFrame:
    """The loans as outcomes: customer (account) id, bad (status B or D), the loan's date and monthly payment."""
    loan = read_table(find_table(folder, "loan"), "loan")
    return pd.DataFrame({"customer_id": loan["account_id"].to_numpy(),
                         "default": loan["status"].isin(["B", "D"]).astype(int).to_numpy(),
                         "reference_date": pd.to_datetime(loan["date"]).dt.strftime("%Y-%m-%d").to_numpy(),
                         "payment": loan["payments"].to_numpy(dtype=float)})


def window_measures(folder: Path, loans: pd.DataFrame, months: int) -> pd.DataFrame:
    """Each loan's customer's behaviour measures over its window of `months` before the loan's month (the window
    `Segmenter.risk_at` reads)."""
    source = as_source(str(folder))
    engine = read_measures(source, "duckdb")[2]
    dates = pd.Series(pd.to_datetime(loans["reference_date"]).to_numpy(), index=loans["customer_id"].to_numpy())
    return window_of(source, engine, dates, months).measures


def ratios(loans: pd.DataFrame, w: pd.DataFrame) -> pd.DataFrame:
    """Per loan: payment / free cash flow (+inf where the free cash flow is 0 or less), payment / typical income
    (+inf where it is 0), the payment; NaN where the customer has no window."""
    m = w.reindex(loans["customer_id"].to_numpy())
    pay = loans["payment"].to_numpy()
    fcf = m["free_cash_flow"].to_numpy(dtype=float)
    income = m["typical_month_income"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({"ratio": np.where(fcf > 0, pay / fcf, np.where(np.isnan(fcf), np.nan, np.inf)),
                             "to_income": np.where(income > 0, pay / income, np.where(np.isnan(income), np.nan,
                                                                                        np.inf)),
                             "payment": pay}, index=loans["customer_id"].to_numpy())


def combined_inputs(risk: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    p = np.clip(risk, 1e-6, 1 - 1e-6)
    return np.column_stack([np.log(p / (1 - p)), np.log(np.clip(ratio, *RATIO_RANGE))])


def ranked(x: np.ndarray) -> np.ndarray:
    """+inf ranks above every finite value (and ties with the other +inf): a finite stand-in for the AUC."""
    finite = x[np.isfinite(x)]
    return np.where(np.isinf(x), (finite.max() if len(finite) else 0.0) + 1.0, x)


def paired_difference(y: np.ndarray, score: np.ndarray, base: np.ndarray, repeats: int = 500, seed: int = 0):
    """AUC(score) - AUC(base) on the same loans, with its 95% percentile bootstrap interval (loans resampled with
    replacement, stratified by outcome; the same resamples for both)."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    diffs = []
    for _ in range(repeats):
        i = np.r_[rng.choice(pos, len(pos)), rng.choice(neg, len(neg))]
        diffs.append(roc_auc_score(y[i], score[i]) - roc_auc_score(y[i], base[i]))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return roc_auc_score(y, score) - roc_auc_score(y, base), float(lo), float(hi)


def one(folder: Path, seed: int, refits: int) -> dict:
    """Fit on half the loans, judge every score on the other half."""
    loans = loans_of(folder)
    fit, held = train_test_split(loans, test_size=0.5, stratify=loans["default"], random_state=seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seg = Segmenter(k=K, seed=0, risk_weight=0, refits=refits)
        seg.fit(str(folder), outcomes=fit[["customer_id", "default", "reference_date"]].reset_index(drop=True))
        dates = pd.Series(pd.to_datetime(held["reference_date"]).to_numpy(), index=held["customer_id"].to_numpy())
        scored = seg.risk_at(str(folder), dates)
        both = pd.concat([fit, held])
        w = window_measures(folder, both, seg.window_)
    seconds = time.perf_counter() - t0
    r = ratios(both, w)

    # the combined model, learnt on the fitted half: out-of-fold risk and the ratio before each one's loan
    oof = seg.outcome_model_.oof_["risk"]
    train = fit.set_index("customer_id")
    train = train.assign(risk=oof.reindex(train.index), ratio=r["ratio"].reindex(train.index))
    train = train[train["risk"].notna() & train["ratio"].notna()]
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(combined_inputs(train["risk"].to_numpy(),
                                                                      train["ratio"].to_numpy()), train["default"])

    test = held.set_index("customer_id")
    test = test.assign(risk=scored["risk"].reindex(test.index), **{c: r[c].reindex(test.index) for c in r})
    test = test[test["risk"].notna() & test["ratio"].notna()]
    y = test["default"].to_numpy()
    scores = {
        SCORES[0]: test["risk"].to_numpy(),
        SCORES[1]: ranked(test["ratio"].to_numpy()),
        SCORES[2]: ranked(test["to_income"].to_numpy()),
        SCORES[3]: test["payment"].to_numpy(),
        SCORES[4]: lr.predict_proba(combined_inputs(test["risk"].to_numpy(), test["ratio"].to_numpy()))[:, 1],
    }
    out = {"withheld": len(y), "bad": int(y.sum()), "learnt": len(train), "fit_s": seconds,
           "signal": seg.outcome_model_.has_signal,
           "no_free_cash": float(np.mean(~(test["ratio"] < np.inf))), "weight": float(lr.coef_[0, 1])}
    for name, s in scores.items():
        lo, hi = auc_interval(y, s)
        d, dlo, dhi = paired_difference(y, s, scores[SCORES[0]])
        out[name] = {"auc": roc_auc_score(y, s), "low": lo, "high": hi, "diff": d, "diff_low": dlo, "diff_high": dhi}
    return out


def real_berka(folder: Path) -> str | None:
    """Whether the real Berka tables can be checked: None where they can (a transaction table beside the loans),
    else the line the table prints."""
    loan = find_table(folder, "loan") if folder.is_dir() else None
    if loan is None:
        return f"real Berka: no loan table in {folder} (skipped)"
    if find_table(folder, "trans") is None:
        return (f"real Berka: no transaction table in {folder} (n/a): its {len(read_table(loan, 'loan')):,} loans "
                f"have no history before them to measure free cash flow or risk from")
    return None


def strategy_check(accounts: int = 4500, seed: int = 0) -> None:
    """The quickstart data's strategy table (fthc offer, stated defaults) on the fitted half, and its expected
    bad rates against what the withheld half's approved loans did."""
    from fthc.offer import Product
    from fthc.offer.decisions import grade_pd
    from fthc.risk.intervals import wilson_interval

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fthc-bench-strategy-") as tmp:
        folder = Path(tmp) / "berka"
        write_synthetic_berka(folder, accounts, seed)
        loans = loans_of(folder)
        fit, held = train_test_split(loans, test_size=0.5, stratify=loans["default"], random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = Segmenter(k="auto", seed=0).fit(str(folder), outcomes=fit[["customer_id", "default",
                                                                             "reference_date"]].reset_index(drop=True))
            offer = seg.offer(str(folder), Product())
            dates = pd.Series(pd.to_datetime(held["reference_date"]).to_numpy(), index=held["customer_id"].to_numpy())
            scored = seg.risk_at(str(folder), dates)
    y = held.set_index("customer_id")["default"].reindex(scored.index)
    graded = scored[scored["risk_grade"] > 0]
    pd_ = grade_pd(graded, seg.outcome_model_.grades_)
    y = y.loc[graded.index].to_numpy()
    table = offer.strategy.table
    t = Table(title=f"the quickstart data's strategy table (synthetic Berka, {accounts:,} accounts, seed {seed}; "
                    f"{len(fit)} loans learnt, {len(graded)} withheld loans graded, {int(y.sum())} bad): what "
                    f"`fthc offer` prints, judged on the withheld loans")
    for col in ("cut-off grade", "approved, no credit history (printed)", "expected bad rate [95%] (printed)",
                "expected margin (printed)", "withheld loans approved", "their mean PD [95%]",
                "their observed bad rate [Wilson 95%]", "inside"):
        t.add_column(col, justify="right")
    grade = graded["risk_grade"].to_numpy()
    for g in sorted(table["cutoff_grade"].unique()):
        q = table[(table["group"] == "no credit history") & (table["cutoff_grade"] == g)].iloc[0]
        take = grade <= g
        if not take.any() and not q["approved"]:
            continue
        n, k = int(take.sum()), int(y[take].sum())
        lo, hi = wilson_interval(k, n)
        mean_pd = pd_["pd"].to_numpy()[take].mean() if n else np.nan
        band = (pd_["pd_low"].to_numpy()[take].mean(), pd_["pd_high"].to_numpy()[take].mean()) if n else (np.nan,) * 2
        t.add_row(str(g) + (" (cut-off)" if g == offer.strategy.cutoff else ""),
                  f"{q['approved']:,} ({q['approved_share']:.0%})",
                  "-" if pd.isna(q["bad_rate"]) else f"{q['bad_rate']:.1%} [{q['bad_rate_low']:.1%}-{q['bad_rate_high']:.1%}]",
                  f"{q['expected_margin']:,.0f}", f"{n} ({n / len(graded):.0%})",
                  "-" if not n else f"{mean_pd:.1%} [{band[0]:.1%}-{band[1]:.1%}]",
                  "-" if not n else f"{k / n:.1%} [{lo:.1%}-{hi:.1%}]",
                  "-" if not n else ("yes" if band[0] <= k / n <= band[1] else "no"))
    Console(width=230).print(t)
    print(f"total {time.perf_counter() - start:.0f} s; the last row approves every graded loan: the portfolio's "
          f"rate, the baseline of no cut-off")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--accounts", type=int, default=3000)
    ap.add_argument("--difficulty", default="standard", choices=["standard", "hard"])
    ap.add_argument("--refits", type=int, default=2, help="the Segmenter's refits (they do not touch the risk)")
    ap.add_argument("--strategy", action="store_true",
                    help="the quickstart data's strategy table, its bad rates judged on withheld loans")
    ap.add_argument("--real", type=Path, default=REAL_BERKA,
                    help="the real Berka folder (checked where it holds a transaction table; default ../shared)")
    args = ap.parse_args()
    if args.strategy:
        return strategy_check()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    print(f"bench_offer: {args.accounts:,} accounts, data seeds {args.data_seeds}, difficulty {args.difficulty}, "
          f"risk linear; Segmenter(k={K}, seed=0, risk_weight=0, refits={args.refits}); plant weight "
          f"{AFFORDABILITY_WEIGHT}, reference burden {BURDEN_REFERENCE}; {os.cpu_count()} cores, {cpu}", flush=True)
    start = time.perf_counter()
    results = []

    def run(data: str, folder: Path, seed: int) -> None:
        results.append({"data": data, "seed": seed, **one(folder, seed, args.refits)})
        print({k: (round(v, 3) if isinstance(v, float) else
                   {a: round(b, 3) for a, b in v.items()} if isinstance(v, dict) else v)
               for k, v in results[-1].items()}, flush=True)

    with tempfile.TemporaryDirectory(prefix="fthc-bench-offer-") as tmp:
        for planted in (True, False):
            for seed in args.data_seeds:
                folder = Path(tmp) / f"berka{seed}{'a' if planted else ''}"
                write_synthetic_berka(folder, args.accounts, seed, args.difficulty, affordability=planted)
                run("affordability planted" if planted else "not planted (control)", folder, seed)
    real = real_berka(args.real)
    if real is None:
        run("real Berka", args.real, 0)
    t = Table(title=f"withheld half of the loans, synthetic Berka ({args.difficulty}, {args.accounts:,} accounts), "
                    f"data seeds {args.data_seeds}: AUC of each score for a loan going bad")
    for col in ("data", "score", "AUC (mean)", "AUC per seed [95%]", "minus risk alone per seed [95%, paired]",
                "withheld / bad; free cash flow <= 0", "ratio's weight in risk + ratio"):
        t.add_column(col)
    for label in dict.fromkeys(r["data"] for r in results):
        part = [r for r in results if r["data"] == label]
        for name in SCORES:
            t.add_row(label if name == SCORES[0] else "", name, f"{np.mean([r[name]['auc'] for r in part]):.3f}",
                      "; ".join(f"{r[name]['auc']:.3f} [{r[name]['low']:.3f}-{r[name]['high']:.3f}]"
                                + (" (no signal: constant)" if name == SCORES[0] and not r["signal"] else "")
                                for r in part),
                      "" if name == SCORES[0] else
                      "; ".join(f"{r[name]['diff']:+.3f} [{r[name]['diff_low']:+.3f}, {r[name]['diff_high']:+.3f}]"
                                for r in part),
                      "; ".join(f"{r['withheld']}/{r['bad']}; {r['no_free_cash']:.0%}" for r in part)
                      if name == SCORES[0] else "",
                      "; ".join(f"{r['weight']:+.2f}" for r in part) if name == SCORES[4] else "",
                      end_section=name == SCORES[-1])
    if real is not None:
        t.add_row(real, "", "n/a", "", "", "", "")
    Console(width=230).print(t)
    print(f"total {time.perf_counter() - start:.0f} s; fit + scoring per run "
          + ", ".join(f"{r['fit_s']:.0f}" for r in results) + " s")


if __name__ == "__main__":
    main()
