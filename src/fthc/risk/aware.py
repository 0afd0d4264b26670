"""Risk-aware segments: still behaviour segments (profiled and described as any), found in a space where what
predicts the outcome weighs more.

The space is the behaviour space with one more axis, the outcome model's log-odds of each customer (cross-fitted:
a customer with an outcome is placed by the models that did not learn from it), scaled so that at weight w the
axis holds w times the variance of the whole behaviour space. At w = 0 the segments are the unsupervised ones,
exactly. Scaling the features by their weight in the outcome model was measured too and separated risk less at
every weight (benchmarks/bench_risk.py).

`auto`, the rule: among the weights 0, 0.25, 0.5, 1 and 2, the smallest whose segments carry at least 95% of the
continuous model's cross-validated AUC, provided they keep an adjusted Rand index of at least 0.5 with the
unsupervised segments (they stay behaviour segments); if none carries that much, the weight that carries the
most among those that keep it. Each weight is judged on the customers with an outcome, each placed from its
history before its outcome's date, its segment's rate learnt on the other folds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score, roc_auc_score

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0)
SHARE_OF_CONTINUOUS = 0.95
MIN_AGREEMENT = 0.5


def risk_axis(logit: np.ndarray, weight: float, scale: float, dims: int) -> np.ndarray:
    """The extra axis: the log-odds, standardised by `scale` (their spread over all customers), times
    sqrt(weight x dims) so that its variance is `weight` times that of `dims` unit-variance features."""
    return (np.sqrt(weight * dims) * np.asarray(logit) / scale)[:, None]


def with_axis(z: np.ndarray, logit: np.ndarray, weight: float, scale: float) -> np.ndarray:
    return z if weight == 0 else np.hstack([z, risk_axis(logit, weight, scale, z.shape[1])])


def cross_validated_auc(labels: np.ndarray, y: np.ndarray, fold: np.ndarray) -> float:
    """AUC of scoring each customer with its segment's outcome rate learnt on the other folds."""
    from .separation import out_of_fold_rates

    return float(roc_auc_score(y, out_of_fold_rates(labels, y, fold))) if len(np.unique(y)) > 1 else float("nan")


def choose_weight(make_head, z: np.ndarray, logit: np.ndarray, scale: float, z_outcome: np.ndarray,
                  logit_outcome: np.ndarray, y: np.ndarray, fold: np.ndarray, continuous_auc: float,
                  requested: float | str = "auto") -> tuple[float, pd.DataFrame, str]:
    """The weight (the rule above, or the one requested) and the table of every weight tried: segment AUC,
    its share of the continuous model's, agreement with the unsupervised segments."""
    rows, base = [], None
    weights = WEIGHTS if requested == "auto" else (0.0, float(requested)) if float(requested) else (0.0,)
    for w in weights:
        head = make_head().fit(with_axis(z, logit, w, scale))
        labels = head.predict(with_axis(z_outcome, logit_outcome, w, scale))
        base = head.labels_ if w == 0 else base
        auc = cross_validated_auc(labels, y, fold)
        rows.append({"weight": w, "segment_auc": auc, "share_of_continuous": auc / continuous_auc,
                     "agreement_with_unsupervised": adjusted_rand_score(base, head.labels_)})
    table = pd.DataFrame(rows).set_index("weight")
    if requested != "auto":
        w = float(requested)
        return w, table, f"risk weight {w:g}, as asked"
    kept = table[table["agreement_with_unsupervised"] >= MIN_AGREEMENT]
    enough = kept[kept["share_of_continuous"] >= SHARE_OF_CONTINUOUS]
    if len(enough):
        w = float(enough.index.min())
        why = (f"risk weight {w:g}: the smallest whose segments carry {SHARE_OF_CONTINUOUS:.0%} of the continuous "
               f"model's AUC ({table.loc[w, 'segment_auc']:.3f} of {continuous_auc:.3f}) while keeping their "
               f"agreement with the behaviour segments (ARI {table.loc[w, 'agreement_with_unsupervised']:.2f})")
    else:
        w = float(kept["segment_auc"].idxmax())
        why = (f"risk weight {w:g}: no weight carries {SHARE_OF_CONTINUOUS:.0%} of the continuous model's AUC "
               f"({continuous_auc:.3f}) while staying behaviour segments (ARI >= {MIN_AGREEMENT} with them); this "
               f"one carries the most that does ({table.loc[w, 'segment_auc']:.3f})")
    return w, table, why
