"""The outcome model: a customer's risk from its behaviour features, for every customer.

A logistic regression on the standardised behaviour features (L2-regularised, its strength chosen by
cross-validated log-loss): simple enough to explain (a weight per behaviour, `weights_`), calibrated by its own
loss (the Brier score and a table by decile of risk are reported to check it), and saved as plain arrays. It was
chosen over gradient boosting by measurement (benchmarks/bench_risk.py: boosting reached no higher AUC on
withheld outcomes and needs pickled trees to be saved).

Cross-fitted, so that no customer's own outcome is used for its own figure: the customers with an outcome are
split into `folds` folds; each fold's model is fitted on the others and scores that fold (out of fold). A customer
without an outcome (the credit-invisible) is scored by every fold model and gets their mean: the same estimate
as everyone else's, from models none of which saw it. The interval (`risk_low`, `risk_high`) is the 5th and
95th percentile of the risk over `bootstraps` refits of each fold model on resampled customers: how much the
estimate depends on which customers the model learnt from.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

CS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # the regularisation strengths tried


def _fit(X: np.ndarray, y: np.ndarray, C: float) -> np.ndarray:
    """Weights and intercept (one vector: [w..., b])."""
    m = LogisticRegression(C=C, max_iter=5000).fit(X, y)
    return np.r_[m.coef_[0], m.intercept_[0]]


def _logit(X: np.ndarray, wb: np.ndarray) -> np.ndarray:
    return X @ wb[:-1] + wb[-1]


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -40, 40)))


def choose_c(X: np.ndarray, y: np.ndarray, seed: int) -> float:
    """The regularisation strength with the lowest cross-validated log-loss."""
    best, best_loss = CS[0], np.inf
    folds = list(StratifiedKFold(5, shuffle=True, random_state=seed + 1).split(X, y))
    for C in CS:
        loss = 0.0
        for train, test in folds:
            p = np.clip(sigmoid(_logit(X[test], _fit(X[train], y[train], C))), 1e-9, 1 - 1e-9)
            loss -= (y[test] * np.log(p) + (1 - y[test]) * np.log(1 - p)).sum()
        if loss < best_loss:
            best, best_loss = C, loss
    return best


class OutcomeModel:
    """Cross-fitted logistic regression with bootstrap intervals (see the module)."""

    def __init__(self, folds: int = 5, bootstraps: int = 20, seed: int = 0):
        self.folds, self.bootstraps, self.seed = folds, bootstraps, seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> "OutcomeModel":
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y).astype(int)
        rng = np.random.default_rng(self.seed)
        self.C_ = choose_c(X, y, self.seed)
        folds = min(self.folds, int(np.bincount(y, minlength=2).min()))
        self.fold_ = np.zeros(len(y), dtype=np.int64)
        models, boots = [], []
        for f, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=self.seed).split(X, y)):
            self.fold_[test] = f
            models.append(_fit(X[train], y[train], self.C_))
            fold_boots = []
            for _ in range(self.bootstraps):
                idx = rng.choice(train, len(train))
                if len(np.unique(y[idx])) < 2:
                    idx = train
                fold_boots.append(_fit(X[idx], y[idx], self.C_))
            boots.append(fold_boots)
        self.models_ = np.array(models)  # [folds, features + 1]
        self.boots_ = np.array(boots)  # [folds, bootstraps, features + 1]
        self.weights_ = self.models_[:, :-1].mean(0)  # a weight per standardised feature: the model, explained
        self.oof_ = self._score(X, self.fold_)
        return self

    def _score(self, X: np.ndarray, fold: np.ndarray | None):
        """(risk, low, high, logit): by the customers' own fold models, or (fold None) by all of them."""
        out = np.zeros((4, len(X)))
        if fold is None:
            probs = np.stack([sigmoid(_logit(X, m)) for m in self.models_])
            risk = probs.mean(0)
            boot = np.stack([sigmoid(_logit(X, b)) for fb in self.boots_ for b in fb])
            out[0], out[1], out[2] = risk, np.percentile(boot, 5, axis=0), np.percentile(boot, 95, axis=0)
        else:
            for f in np.unique(fold):
                rows = fold == f
                out[0, rows] = sigmoid(_logit(X[rows], self.models_[f]))
                boot = np.stack([sigmoid(_logit(X[rows], b)) for b in self.boots_[f]])
                out[1, rows], out[2, rows] = np.percentile(boot, 5, axis=0), np.percentile(boot, 95, axis=0)
        out[3] = np.log(np.clip(out[0], 1e-12, 1)) - np.log(np.clip(1 - out[0], 1e-12, 1))
        return out

    def predict(self, X: np.ndarray, fold: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """{'risk', 'risk_low', 'risk_high', 'logit'}: for customers the model never saw (`fold` None), or for the
        customers it was fitted on, each by the models of its own fold's complement (`fold`: `fold_`)."""
        r = self._score(np.asarray(X, dtype=np.float64), fold)
        return {"risk": r[0], "risk_low": np.minimum(r[1], r[0]), "risk_high": np.maximum(r[2], r[0]),
                "logit": r[3]}

    # saved as plain arrays
    def arrays(self) -> dict[str, np.ndarray]:
        return {"risk.models": self.models_, "risk.boots": self.boots_, "risk.C": np.array(self.C_)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "OutcomeModel":
        m = cls(folds=len(arrays["risk.models"]), bootstraps=arrays["risk.boots"].shape[1])
        m.models_, m.boots_, m.C_ = arrays["risk.models"], arrays["risk.boots"], float(arrays["risk.C"])
        m.weights_ = m.models_[:, :-1].mean(0)
        return m


def calibration_table(y: np.ndarray, risk: np.ndarray, bins: int = 10):
    """Customers by decile of estimated risk: how many, the mean estimate, the observed rate."""
    import pandas as pd

    d = pd.DataFrame({"y": np.asarray(y, float), "risk": np.asarray(risk, float)})
    d["decile"] = pd.qcut(d["risk"].rank(method="first"), min(bins, len(d)), labels=False) + 1
    g = d.groupby("decile")
    return pd.DataFrame({"customers": g.size(), "mean_estimate": g["risk"].mean(), "observed_rate": g["y"].mean()})
