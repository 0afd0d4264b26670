"""The outcome model: a customer's risk from its behaviour, for every customer, chosen on the bank's own outcomes.

The classes of model are registered in `RISK_MODELS` (`fthc.risk.model_classes`: each one's hyperparameter
candidates, fit, raw log-odds, contributions and saved state); this module only orchestrates them:
- `boosted` (the default): LightGBM gradient-boosted trees. Trees take thresholds and interactions (a balance
  negative *and* income stopping) and recent months in their order, which a linear model cannot; its text model
  format needs no pickle and its `pred_contrib` gives exact per-feature contributions (TreeSHAP), the risk
  reasons. LightGBM rather than scikit-learn's HistGradientBoosting for those two (HistGradientBoosting has
  neither) and for native missing values in the recent months.
- `monotone`: the boosted trees, with risk only rising (or only falling) with the behaviours whose direction a
  credit team would sign (`MONOTONE`).
- `logistic`: an L2 logistic regression on standardised inputs (missing values as the training median with an
  indicator), a weight per behaviour.
`auto` lets the nested cross-validation choose the class too, among those registered with `in_auto`.

Cross-fitted and nested, so that no figure reads a customer's own outcome: the customers with an outcome are
split into `folds` outer folds. For each, on the other folds only: an inner cross-validation chooses the
hyperparameters (and, where `auto`, the class) by log-loss, with boosting's number of trees by early stopping on a
fifth of the inner training fold set aside (never on the scores that choose and calibrate);
the chosen model's inner out-of-fold scores fit the calibration (Platt scaling: a logistic regression of the
outcome on the raw log-odds, two parameters, stable with a few hundred outcomes where isotonic regression is
not); then the chosen model is fitted on all of the other folds and scores the outer fold. A customer with an
outcome is scored by its own fold's model (out of fold); a customer without one by the mean of all fold models.

The interval (`risk_low`, `risk_high`: 5th and 95th percentiles) comes from `bootstraps` refits of each fold's
chosen model on resampled customers of its training folds: a customer with an outcome reads its fold's
refits, a customer without one the same number drawn evenly from every fold's, so that every interval rests on
the same count of refits.
"""

from __future__ import annotations

import os
from functools import partial

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from ..threads import parallel_map
from .model_classes import (BOOSTED_GRID, LOGISTIC_CS, MONOTONE, RISK_MODELS, RiskModel, fitted_from_dict,
                            monotone_constraints)

__all__ = ["BOOSTED_GRID", "LOGISTIC_CS", "MONOTONE", "RISK_MODELS", "OutcomeModel", "RiskModel",
           "calibration_table", "choose_model", "monotone_constraints", "platt", "sigmoid"]

INNER_FOLDS = 3
# cross-fits averaged, each with its own split into folds (docs/methods.md); FTHC_RISK_REPEATS sets another
# number for a quick look (the test suite runs with 1, and tests the averaging with 3 explicitly)
REPEATS = int(os.environ.get("FTHC_RISK_REPEATS", "3"))


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -40, 40)))


def _logloss(y: np.ndarray, logit: np.ndarray) -> float:
    p = np.clip(sigmoid(logit), 1e-9, 1 - 1e-9)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def candidates(kind: str, names: list[str]) -> list[RiskModel]:
    """The candidates the inner cross-validation of the risk model `kind` compares (`names`: the inputs)."""
    return RISK_MODELS.get(kind).build.candidates(names)


def choose_model(candidates: list[RiskModel], X: np.ndarray, y: np.ndarray,
                 seed: int) -> tuple[RiskModel, tuple, pd.DataFrame]:
    """The inner cross-validation: each candidate's out-of-fold log-loss; the best one (with what its folds
    learnt, boosting's rounds the mean of its folds' early-stopping points), unfitted, and the Platt calibration
    fitted on its out-of-fold raw scores."""
    folds = min(INNER_FOLDS, int(np.bincount(y, minlength=2).min()))
    splits = list(StratifiedKFold(max(folds, 2), shuffle=True, random_state=seed + 7).split(X, y))
    rows, settled = [], []
    for candidate in candidates:
        raw = np.zeros(len(y))
        learnt = []
        for train, test in splits:
            raw[test], kept = candidate.inner_scores(X[train], y[train], seed, X[test])
            learnt.append(kept)
        candidate = candidate.settled(learnt)
        a, b = platt(raw, y)
        rows.append({"model": candidate.kind, "params": candidate.describe(),
                     "inner_logloss": _logloss(y, a * raw + b)})
        settled.append((candidate, (a, b)))
    table = pd.DataFrame(rows)
    best = int(table["inner_logloss"].idxmin())
    chosen, calibration = settled[best]
    return chosen, calibration, table


def platt(raw: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: log-odds = a * raw + b, fitted by (lightly regularised) logistic regression."""
    m = LogisticRegression(C=100.0, max_iter=1000).fit(raw[:, None], y)
    return float(m.coef_[0, 0]), float(m.intercept_[0])


def _fit_fold(X, y, seed: int, candidates: list[RiskModel], task) -> tuple:
    """One outer fold: the inner choice, the fold's model and its bootstrap refits (a task of its own, so the
    folds run side by side with the same result)."""
    f, train, draws = task
    chosen, calibration, table = choose_model(candidates, X[train], y[train], seed + f)
    table = table.assign(fold=f, chosen=table.index == table["inner_logloss"].idxmin())
    model = chosen.fitted(X[train], y[train], seed + f)
    model.platt = calibration
    boots = []
    for idx in draws:
        boot = chosen.fitted(X[idx], y[idx], seed + f)
        boot.platt = calibration
        boots.append(boot)
    return model, boots, table


class OutcomeModel:
    """The cross-fitted, nested, calibrated outcome model with bootstrap intervals (see the module).

    kind: a name in `RISK_MODELS` ("boosted", the default, "monotone", "logistic", "auto"); `repeats`: cross-fits,
    each with its own split into folds, whose log-odds are averaged (a customer's risk then rests less on which
    customers shared its fold: grades hold across seeds). Fitted attributes: `folds_` ([customers, repeats]: each
    training customer's outer fold in each repeat), `fold_` (the first repeat's), `oof_` (risk, low, high and
    log-odds of each training customer, out of fold in every repeat), `models_` (one fitted `RiskModel` per repeat
    and fold, repeat-major), `boots_`, `choice_` (the inner cross-validation of every fold), `feature_names_`."""

    def __init__(self, kind: str = "boosted", folds: int = 5, bootstraps: int = 25, seed: int = 0,
                 repeats: int = REPEATS):
        self.kind, self.folds, self.bootstraps, self.seed, self.repeats = kind, folds, bootstraps, seed, repeats

    def fit(self, X, y) -> "OutcomeModel":
        RISK_MODELS.get(self.kind)
        self.feature_names_ = list(X.columns) if isinstance(X, pd.DataFrame) else [f"x{i}" for i in
                                                                                   range(np.shape(X)[1])]
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y).astype(int)
        rng = np.random.default_rng(self.seed)
        folds = max(2, min(self.folds, int(np.bincount(y, minlength=2).min())))
        self.n_folds_ = folds
        self.folds_ = np.zeros((len(y), self.repeats), dtype=np.int64)
        per_fold = -(-self.bootstraps // self.repeats)  # every customer's interval rests on >= `bootstraps` refits
        tasks = []
        for r in range(self.repeats):
            outer = StratifiedKFold(folds, shuffle=True, random_state=self.seed + 1009 * r).split(X, y)
            for f, (train, test) in enumerate(outer):  # every resample drawn here, in order: any budget, one result
                self.folds_[test, r] = f
                draws = []
                for _ in range(per_fold):
                    idx = rng.choice(train, len(train))
                    draws.append(idx if len(np.unique(y[idx])) >= 2 else train)
                tasks.append((r * folds + f, train, draws))
        self.fold_ = self.folds_[:, 0].copy()
        proposed = candidates(self.kind, self.feature_names_)
        done = parallel_map(partial(_fit_fold, X, y, self.seed, proposed), tasks,
                            rows=len(y) * (INNER_FOLDS * len(proposed) + per_fold))
        self.models_ = [model for model, _, _ in done]
        self.boots_ = [boots for _, boots, _ in done]
        choices = [table for _, _, table in done]
        self.choice_ = pd.concat(choices, ignore_index=True)
        # the ensemble's own calibration, on its out-of-fold log-odds: each repeat's model that never saw a customer
        each = np.zeros((len(X), self.repeats))
        for r in range(self.repeats):
            for f in range(self.n_folds_):
                rows = self.folds_[:, r] == f
                each[rows, r] = self.models_[r * self.n_folds_ + f].logit(X[rows])
        raw, first = each.mean(axis=1), self.folds_[:, 0]
        self.stack_ = {int(f): platt(raw[first != f], y[first != f]) for f in np.unique(first)}
        self.stack_[-1] = self._for_new(each, platt(raw, y))
        self.oof_ = self._score(X, self.folds_)
        return self

    def _for_new(self, each: np.ndarray, calibration: tuple[float, float]) -> tuple[float, float]:
        """The calibration of a customer never seen, scored by every model's mean: less noisy than the mean of its
        repeats' one model each (`each`: [customers, repeats] out-of-fold log-odds) that the calibration was
        fitted on, so its slope is raised by the ratio of the two variances (regression dilution), turned about the
        mean log-odds. The noise of one model is the spread of a customer's out-of-fold log-odds between repeats."""
        a, b = calibration
        raw = each.mean(axis=1)
        if self.repeats < 2 or len(raw) < 3:
            return a, b
        noise = float(np.mean(np.var(each, axis=1, ddof=1)))
        total = float(np.var(raw))
        signal = max(total - noise / self.repeats, 1e-9)
        k = self.n_folds_ * self.repeats
        factor = total / (signal + noise / k)
        m = float(np.mean(raw))
        return a * factor, b + a * m - a * factor * m

    def _stacked(self, logit: np.ndarray, fold: int) -> np.ndarray:
        """The averaged log-odds recalibrated (Platt) on the other folds' averaged out-of-fold log-odds (`fold`:
        the customer's fold in the first repeat; -1, a customer the model never saw: on all of them). Each model's
        own calibration allows for its own noise, which averaging removes: alone, the average is under-confident
        (measured: a withheld calibration slope of 1.2-1.4)."""
        a, b = getattr(self, "stack_", {}).get(fold, (1.0, 0.0))
        return a * logit + b

    def _groups(self, fold: np.ndarray) -> list[tuple[np.ndarray, list[int]]]:
        """The customers that share their folds in every repeat, and the models (by index) that never saw them."""
        fold = np.asarray(fold).reshape(len(fold), -1)
        keys, inverse = np.unique(fold, axis=0, return_inverse=True)
        k = getattr(self, "n_folds_", None) or len(self.models_) // fold.shape[1]
        return [(np.asarray(inverse).ravel() == i, [r * k + int(f) for r, f in enumerate(key)])
                for i, key in enumerate(keys)]

    @property
    def chosen_(self) -> str:
        """What the nested cross-validation chose, fold by fold, in words."""
        kinds = sorted({m.kind for m in self.models_})
        parts = []
        for kind in kinds:
            models = [m for m in self.models_ if m.kind == kind]
            chosen, words = [m.params for m in models], models[0].describe_class()
            ranges = []
            for key in (k for k in chosen[0] if k not in models[0].hidden):
                vals = sorted({p[key] for p in chosen})
                ranges.append(f"{key} {vals[0]:g}" if len(vals) == 1 else f"{key} {vals[0]:g}-{vals[-1]:g}")
            parts.append(f"{words} ({', '.join(ranges)}; {len(chosen)} of {len(self.models_)} folds)"
                         if len(kinds) > 1 else f"{words} ({', '.join(ranges)})")
        return " and ".join(parts)

    def _boot_models(self) -> list:
        """The refits a customer without an outcome reads: as many as a customer with one reads (its own fold's in
        every repeat), drawn evenly from every fold."""
        every = [b for fold in zip(*self.boots_) for b in fold]  # fold-interleaved
        return every[: len(self.boots_[0]) * self.repeats] if self.boots_ else []

    def _score(self, X: np.ndarray, fold: np.ndarray | None):
        """(risk, low, high, logit): by the models of every repeat that never saw the customer (`fold`: its fold
        in each repeat), their log-odds averaged; or (fold None) by all of them."""
        out = np.zeros((4, len(X)))
        if len(X) == 0:
            return out
        if fold is None:
            logit = self._stacked(np.mean([m.logit(X) for m in self.models_], axis=0), -1)
            groups = [(np.ones(len(X), dtype=bool), self._boot_models(), logit, -1)]
        else:
            groups = []
            for rows, models in self._groups(fold):
                first = models[0] % (getattr(self, "n_folds_", None) or len(self.models_))
                logit = self._stacked(np.mean([self.models_[i].logit(X[rows]) for i in models], axis=0), first)
                groups.append((rows, [b for i in models for b in self.boots_[i]], logit, first))
        for rows, boots, logit, f in groups:
            out[0, rows], out[3, rows] = sigmoid(logit), logit
            if boots:
                b = np.stack([sigmoid(self._stacked(m.logit(X[rows]), f)) for m in boots])
                out[1, rows], out[2, rows] = np.percentile(b, 5, axis=0), np.percentile(b, 95, axis=0)
            else:
                out[1, rows] = out[2, rows] = out[0, rows]
        return out

    def predict(self, X, fold: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """{'risk', 'risk_low', 'risk_high', 'logit'}: for customers the model never saw (`fold` None), or for the
        customers it was fitted on, each by the models that never saw it (`fold`: their rows of `folds_`)."""
        r = self._score(np.asarray(X, dtype=np.float64), fold)
        return {"risk": r[0], "risk_low": np.minimum(r[1], r[0]), "risk_high": np.maximum(r[2], r[0]),
                "logit": r[3]}

    def contributions(self, X, fold: np.ndarray | None = None) -> pd.DataFrame:
        """Each input's contribution to each customer's log-odds (exact: TreeSHAP for trees, weight x centred
        value for the logistic), by the same models as `predict`; the column `expected` holds the rest."""
        X = np.asarray(X, dtype=np.float64)
        out = np.zeros((len(X), len(self.feature_names_) + 1))
        def stacked(c: np.ndarray, f: int) -> np.ndarray:  # the ensemble's calibration, as in `_score`
            a, b = getattr(self, "stack_", {}).get(f, (1.0, 0.0))
            c = c * a
            c[:, -1] += b
            return c

        if fold is None:
            out = stacked(np.mean([m.contributions(X) for m in self.models_], axis=0), -1) if len(X) else out
        elif len(X):
            k = getattr(self, "n_folds_", None) or len(self.models_)
            for rows, models in self._groups(fold):
                out[rows] = stacked(np.mean([self.models_[i].contributions(X[rows]) for i in models], axis=0),
                                    models[0] % k)
        return pd.DataFrame(out, columns=[*self.feature_names_, "expected"])

    # saved as JSON text (LightGBM's own text format inside), never pickled
    def to_dict(self) -> dict:
        return {"kind": self.kind, "folds": self.folds, "bootstraps": self.bootstraps, "seed": self.seed,
                "repeats": self.repeats, "n_folds": self.n_folds_,
                "stack": {str(k): list(v) for k, v in getattr(self, "stack_", {}).items()},
                "feature_names": self.feature_names_, "models": [m.to_dict() for m in self.models_],
                "boots": [[b.to_dict() for b in fold] for fold in self.boots_]}

    @classmethod
    def from_dict(cls, d: dict) -> "OutcomeModel":
        m = cls(d["kind"], d["folds"], d["bootstraps"], d["seed"], d.get("repeats", 1))
        m.n_folds_ = d.get("n_folds", len(d["models"]) // m.repeats)
        m.stack_ = {int(k): tuple(v) for k, v in d.get("stack", {}).items()}
        m.feature_names_ = list(d["feature_names"])
        m.models_ = [fitted_from_dict(x) for x in d["models"]]
        m.boots_ = [[fitted_from_dict(x) for x in fold] for fold in d["boots"]]
        return m


def calibration_table(y: np.ndarray, risk: np.ndarray, bins: int = 10):
    """Customers by decile of estimated risk: how many, the mean estimate, the observed rate."""
    d = pd.DataFrame({"y": np.asarray(y, float), "risk": np.asarray(risk, float)})
    d["decile"] = pd.qcut(d["risk"].rank(method="first"), min(bins, len(d)), labels=False) + 1
    g = d.groupby("decile")
    return pd.DataFrame({"customers": g.size(), "mean_estimate": g["risk"].mean(), "observed_rate": g["y"].mean()})
