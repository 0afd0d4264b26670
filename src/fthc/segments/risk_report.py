"""What a segmentation says about risk where the data has outcomes (Berka's loans): per segment the customers
with an outcome, the outcome rate with its 95% interval, and how well segments separate the outcome (a
cross-validated AUC with its bootstrap interval and the counts it rests on), beside k-means on summary features."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..risk.intervals import wilson_interval
from ..risk.separation import auc_with_interval, segment_scores


def rates_by_segment(labels: pd.Series, outcome: pd.Series) -> pd.DataFrame:
    """Per segment: customers with an outcome, positives, rate and its 95% Wilson interval."""
    d = pd.DataFrame({"segment": labels, "outcome": outcome.reindex(labels.index)})
    rows = {}
    for s, g in d.groupby("segment"):
        known = g["outcome"].dropna()
        n, k = len(known), int(known.astype(bool).sum())
        lo, hi = wilson_interval(k, n)
        rows[s] = {"customers": len(g), "with_outcome": n, "positives": k, "rate": k / n if n else np.nan,
                   "rate_low": lo, "rate_high": hi}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "segment"
    return out


def summary_kmeans_labels(sums: pd.DataFrame, k: int, seed: int) -> pd.Series:
    """The baseline: k-means on standardised summary features (what an analyst would do first)."""
    from sklearn.cluster import KMeans

    from ..features import standardise, summary_features

    f = summary_features(sums)
    return pd.Series(KMeans(k, n_init=10, random_state=seed).fit_predict(standardise(f)), index=f.index)


def risk_summary(seg) -> dict | None:
    """Loan outcomes of a Berka segmentation (never used to fit it): tables, AUCs and their text, or None."""
    c = seg.context_
    if c is None or not c["has_loan"].any():
        return None
    outcome = c["loan_default"].astype(float).where(c["has_loan"])
    table = rates_by_segment(seg.labels_, outcome)
    scored = segment_scores(seg.labels_, outcome)
    auc = auc_with_interval(scored["outcome"], scored["score"])
    k = int(seg.labels_.nunique())
    base = segment_scores(summary_kmeans_labels(seg.sums_, max(k, 2), seg.seed), outcome)
    base_auc = auc_with_interval(base["outcome"], base["score"])
    overall = float(outcome.dropna().mean())
    line = (f"risk separation: cross-validated AUC {auc['auc']:.3f} (95% {auc['auc_low']:.3f}-{auc['auc_high']:.3f}; "
            f"{auc['customers']:,} loans, {auc['positives']:,} in default) from segment default rates; k-means on "
            f"summary features, same k: {base_auc['auc']:.3f} ({base_auc['auc_low']:.3f}-{base_auc['auc_high']:.3f})")
    md = ["## Loans (outcomes were not used for fitting)", "",
          "| segment | loans | in default (B/D) | rate | 95% interval |", "| --- | --- | --- | --- | --- |"]
    md += [f"| {s} | {int(r['with_outcome'])} | {int(r['positives'])} | {r['rate']:.0%} | "
           f"{r['rate_low']:.0%}-{r['rate_high']:.0%} |" for s, r in table.iterrows() if r["with_outcome"]]
    md += ["", line[0].upper() + line[1:] + "."]
    html = (f"<p>Loans and their status (B/D: in default) were <b>not</b> used to fit the segments. "
            f"{line[0].upper() + line[1:]}.</p>")
    return {"table": table, "csv": table, "auc": auc, "baseline_auc": base_auc, "overall": overall, "line": line,
            "markdown": [md], "html": html, "title": "loan default rate per segment (B/D)",
            "xlabel": "share of the segment's loans in default"}
