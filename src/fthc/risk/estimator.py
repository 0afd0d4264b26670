"""`RiskEstimator`: what a lender reads beside the segments, from frames alone (no `Segmenter`): each customer's
estimated risk with its interval, its risk grade and the principal reasons for its risk.

Its inputs are one row per customer, described over the observation window (`fthc.features.window`): the behaviour
measures of the window (`RISK_MEASURES`, with the recent-change measures: the last 3 months against the months
before them, months since the last regular credit, the trends of balance and income) and its last months in
order (`in_1`, `out_1`, `balance_1`, ... lag 1 the most recent). `fit(inputs, y, population)` learns from the customers with an outcome (`fthc.risk.model`, nested
and cross-fitted), grades on their out-of-fold risk (`fthc.risk.grades`), and keeps the portfolio's medians of
`population` (every customer) for the reasons. `score(inputs)` scores customers: one whose outcome was learnt
by its own fold's model, never by a model that saw it.

Risk reasons (ECOA / Regulation B's "principal reasons"): the inputs with the largest positive contributions to
the customer's log-odds (exact TreeSHAP for the trees), worded with the customer's value and the portfolio's
median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features.measures import CHANGE_MEASURES, MEASURES
from ..progress import counted
from .grades import MASTER_SCALE, Grades, fit_grades
from .model import OutcomeModel

RISK_MEASURES = ["transactions_per_month", "income_per_month", "spending_per_month", "spending_to_income",
                 "months_with_income", "income_variation", "typical_credit", "typical_debit", "mean_amount",
                 "amount_sd", "balance_level", "balance_low", "balance_mean", "balance_volatility",
                 "negative_month_share", "balance_trend", "cash_share", "card_share", "transfer_share",
                 "loan_payment_share", "salary_like", "pension_like", "months",
                 # how the last months differ from the customer's own months before them
                 *[m for m in CHANGE_MEASURES if m != "balance_trend"]]
REASONS = 3
LOWER = "lower risk than most: "  # how the reasons of a customer below the portfolio's risk open
# months of history in the window below which a customer gets no risk or grade: the recent-change measures compare
# the last 3 months with at least 3 before them, and a history of 1-3 months carries little evidence (measured in
# docs/benchmarks.md: the outcome model separates those customers barely better than chance)
MIN_HISTORY = 6
RECENT_WORDS = {"in": "money in", "out": "money out", "balance": "month-end balance"}


def risk_inputs(measures: pd.DataFrame, recent: pd.DataFrame | None) -> pd.DataFrame:
    """The outcome model's inputs: the window's measures the data has (a measure missing for every customer is
    left out) and its recent months."""
    cols = [c for c in RISK_MEASURES if c in measures.columns and measures[c].notna().any()]
    out = measures[cols].astype(np.float64)
    if recent is not None:
        recent = recent.reindex(out.index)
        keep = [c for c in recent.columns if recent[c].notna().any()]
        out = out.join(recent[keep])
    return out


def concept(name: str) -> str:
    """What a reason is about: the lagged months of one measure (in_1, in_2, ...) are one concept."""
    kind, _, lag = name.rpartition("_")
    return kind if lag.isdigit() and kind in RECENT_WORDS else name


def directions(names: list[str], X: np.ndarray, contributions: np.ndarray) -> np.ndarray:
    """Per input, the side of the portfolio's median that raises risk: +1 above, -1 below. Where a credit team
    knows the direction (`fthc.risk.model.MONOTONE`), that; else the sign of the rank correlation between the
    input and its contribution over the customers learnt from (0: no direction, never a reason)."""
    from scipy.stats import spearmanr

    from .model import monotone_constraints

    known = monotone_constraints(names)
    out = np.zeros(len(names))
    for j, sign in enumerate(known):
        if sign:
            out[j] = sign
            continue
        ok = ~np.isnan(X[:, j])
        if ok.sum() > 10 and np.ptp(X[ok, j]) > 0 and np.ptp(contributions[ok, j]) > 0:
            rho = spearmanr(X[ok, j], contributions[ok, j]).statistic
            out[j] = np.sign(rho) if abs(rho) >= 0.3 else 0.0
    return out


def reason_texts(values: np.ndarray, X: np.ndarray, names: list[str], medians: np.ndarray, sides: np.ndarray,
                 below: np.ndarray, currency: str | None, top: int = REASONS) -> list[str]:
    """Reasons fit to give a customer (adverse-action reasons): for one above the portfolio's rate, the inputs
    that raise its risk most, each on the risk-raising side of the portfolio's median (`sides`), one per concept;
    for one below it, "lower risk than most: " and the inputs that lower it most, on the other side. A value the
    customer does not have (a month before the account opened) is never a reason."""
    said = [describe_input(c) for c in names]
    concepts = [concept(c) for c in names]
    shown_medians = [format_value(m, unit, currency) for m, (_, unit) in zip(medians, said)]
    side = np.sign(X - medians) * sides  # +1: the customer's value is on the risk-raising side
    texts = []
    for i in range(len(X)):
        sign = -1.0 if below[i] else 1.0
        ok = (sign * values[i] > 0) & (side[i] == sign) & ~np.isnan(X[i])
        picked, seen = [], set()
        for j in np.argsort(-sign * values[i], kind="stable"):
            if not ok[j] or concepts[j] in seen:
                continue
            seen.add(concepts[j])
            if names[j] == "months":
                picked.append(f"short history: {counted(X[i, j], 'month')} in the window (portfolio median "
                              f"{medians[j]:.0f})" if sign > 0 else
                              f"a long history: {counted(X[i, j], 'month')} in the window (portfolio median "
                              f"{medians[j]:.0f})")
            else:
                picked.append(f"{said[j][0]} {format_value(X[i, j], said[j][1], currency)} (portfolio median "
                              f"{shown_medians[j]})")
            if len(picked) == top:
                break
        if below[i]:
            texts.append(LOWER + ("; ".join(picked) if picked else
                                                      "no single behaviour stands out"))
        else:
            texts.append("; ".join(picked) or "above the portfolio's rate through many small effects, none of them "
                         "on its own")
    return texts


def signal_check(y: np.ndarray, risk: np.ndarray, fold: np.ndarray) -> dict:
    """Whether the out-of-fold `risk` beats the portfolio's rate: a lower log-loss than each fold's training rate
    (the model a bank with no model has) and an AUC whose 95% interval lies above 0.5. A small book, or outcomes
    with no pattern in behaviour, fail it: fthc then says so and gives everyone the portfolio's rate."""
    from sklearn.metrics import roc_auc_score

    from .intervals import auc_interval

    y, risk = np.asarray(y).astype(int), np.clip(np.asarray(risk, dtype=np.float64), 1e-6, 1 - 1e-6)
    base = np.empty(len(y))
    for f in np.unique(fold):
        base[fold == f] = y[fold != f].mean() if (fold != f).any() else y.mean()
    base = np.clip(base, 1e-6, 1 - 1e-6)

    def logloss(p):
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    auc = float(roc_auc_score(y, risk))
    lo, hi = auc_interval(y, risk, seed=0)
    model, rate = logloss(risk), logloss(base)
    return {"auc": auc, "auc_low": lo, "auc_high": hi, "logloss": model, "logloss_base": rate,
            "beats": bool(model < rate and lo > 0.5)}


def describe_input(name: str) -> tuple[str, str]:
    """(words, unit) of an input."""
    if name == "spending_to_income":  # a log ratio, read as the share of money in that goes out
        return "money out as a share of money in:", "out/in"
    if name in MEASURES:
        m = MEASURES[name]
        return (m.doc + ":" if m.unit == "change" else m.doc), m.unit
    kind, _, lag = name.rpartition("_")
    return f"{RECENT_WORDS.get(kind, kind)} {'last month' if lag == '1' else f'{lag} months back'}", "money"


def format_value(value: float, unit: str, currency: str | None) -> str:
    if value is None or pd.isna(value):
        return "none"
    if unit == "money":
        return f"{value:,.0f}" + (f" {currency}" if currency else "")
    if unit == "share":
        return f"{value:.0%}"
    if unit == "out/in":
        return f"{float(np.exp(value)):.0%}"
    if unit == "change":  # a log ratio: the relative change it stands for
        change = float(np.expm1(value))
        return "no change" if round(change * 100) == 0 else f"{change:+.0%}"
    if unit in ("per month", "months"):
        return f"{value:.1f}"
    return f"{value:.2g}"


def thin_history(months, min_months: int) -> np.ndarray:
    """Which customers have fewer than `min_months` calendar months of history (`--min-history`; NaN: no history
    to judge): the one rule for who gets no risk (`RiskEstimator.thin`), is left out of the outcome model
    (`segments.windows.enough_history`), is flagged short_history and is not named for behaviour."""
    return np.asarray(months, dtype=np.float64) < min_months


class RiskEstimator:
    """Outcome model, grades and risk reasons on frames (see the module). kind: a name of `RISK_MODELS` (boosted, monotone, logistic, auto)."""

    def __init__(self, kind: str = "boosted", seed: int = 0, bootstraps: int = 25, currency: str | None = None,
                 grade_edges=MASTER_SCALE, min_history: int = MIN_HISTORY):
        self.kind, self.seed, self.bootstraps, self.currency = kind, seed, bootstraps, currency
        self.grade_edges, self.min_history = grade_edges, min_history

    def fit(self, inputs: pd.DataFrame, y: pd.Series, population: pd.DataFrame | None = None) -> "RiskEstimator":
        y = y.reindex(inputs.index).astype(int)
        self.columns_ = list(inputs.columns)
        self.model_ = OutcomeModel(self.kind, bootstraps=self.bootstraps, seed=self.seed).fit(inputs, y.to_numpy())
        self.fold_ = pd.Series(self.model_.fold_, index=inputs.index)
        self.folds_ = pd.DataFrame(self.model_.folds_, index=inputs.index)  # each repeat's fold
        oof = self.model_.oof_
        self.oof_ = pd.DataFrame({"risk": oof[0], "risk_low": oof[1], "risk_high": oof[2], "logit": oof[3]},
                                 index=inputs.index)
        self.portfolio_rate_ = float(y.mean())
        self.signal_ = signal_check(y.to_numpy(), oof[0], self.model_.fold_)
        if not self.signal_["beats"]:  # no pattern beyond the portfolio's rate: that rate for everyone
            self.oof_ = self._constant(inputs.index)
        self.grades_ = fit_grades(self.oof_["risk"].to_numpy(), y.to_numpy(), self.grade_edges)
        self.outcomes_ = y.astype(float)  # whose outcome each fold model learnt from, and what it was
        pop = population if population is not None else inputs
        self.medians_ = pop[self.columns_].median()
        self.directions_ = pd.Series(directions(self.columns_, inputs.reindex(columns=self.columns_).to_numpy(dtype=np.float64),
                                                self.contributions(inputs).drop(columns="expected").to_numpy()),
                                     index=self.columns_)
        return self

    @property
    def has_signal(self) -> bool:
        """Whether the outcome model beat the portfolio's rate out of fold (else everyone gets that rate)."""
        return bool(getattr(self, "signal_", {}).get("beats", True))

    def _constant(self, index: pd.Index) -> pd.DataFrame:
        """The portfolio's rate for every customer, with the Wilson interval of that rate."""
        from .intervals import wilson_interval

        n = len(self.fold_)  # the customers learnt from
        lo, hi = wilson_interval(round(self.portfolio_rate_ * n), n, z=1.645)  # 90%, as the model's risk_low/high
        rate = self.portfolio_rate_
        return pd.DataFrame({"risk": rate, "risk_low": lo, "risk_high": hi,
                             "logit": float(np.log(rate / (1 - rate)))}, index=index)

    def _split(self, inputs: pd.DataFrame):
        """The inputs as a matrix, which customers' outcomes were learnt, and their folds."""
        X = inputs.reindex(columns=self.columns_).to_numpy(dtype=np.float64)
        known = inputs.index.isin(self.folds_.index)
        return X, known, self.folds_.reindex(inputs.index[known]).to_numpy().astype(int)

    def thin(self, inputs: pd.DataFrame) -> np.ndarray:
        """Which customers have fewer than `min_history` months of history in their window (no risk, no grade)."""
        if "months" not in inputs:
            return np.zeros(len(inputs), dtype=bool)
        return thin_history(inputs["months"], self.min_history)

    def score(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """risk, risk_low, risk_high, logit and risk_grade of each customer (index: the inputs'); a customer with
        too short a history in its window has none (grade 0)."""
        thin = self.thin(inputs)
        if thin.any():
            return self.score(inputs[~thin]).reindex(inputs.index).fillna({"risk_grade": 0}).astype(
                {"risk_grade": np.int64})
        if not self.has_signal:
            out = self._constant(inputs.index)
            out["risk_grade"] = self.grades_.grade(out["risk"])
            return out
        X, known, folds = self._split(inputs)
        new, own = self.model_.predict(X[~known]), self.model_.predict(X[known], folds)
        out = pd.DataFrame(index=inputs.index)
        for key in new:
            values = np.empty(len(X))
            values[~known], values[known] = new[key], own[key]
            out[key] = values
        out["risk_grade"] = self.grades_.grade(out["risk"])
        return out

    def boot_risks(self, inputs: pd.DataFrame) -> np.ndarray:
        """[refits, customers]: the risk of customers whose outcome was not learnt under each bootstrap refit
        (the spread of a group's mean over them is the interval of that mean)."""
        X = inputs.reindex(columns=self.columns_).to_numpy(dtype=np.float64)
        from .model import sigmoid

        if not self.has_signal:
            return np.full((self.bootstraps, len(X)), self.portfolio_rate_)
        stacked = self.model_._stacked  # the ensemble's calibration, as `score` gives a customer never seen
        return np.stack([sigmoid(stacked(m.logit(X), -1)) for m in self.model_._boot_models()]) if len(X) else \
            np.zeros((self.bootstraps, 0))

    def importance(self, inputs: pd.DataFrame) -> pd.Series:
        """Mean absolute contribution of each input to the log-odds: what drives risk in this portfolio (nothing
        where the model found no pattern beyond the portfolio's rate)."""
        if not self.has_signal:
            return pd.Series(dtype=np.float64)
        return self.contributions(inputs).drop(columns="expected").abs().mean().sort_values(ascending=False)

    def contributions(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Each input's contribution to each customer's log-odds, by the models `score` uses for it."""
        X, known, folds = self._split(inputs)
        out = np.empty((len(X), len(self.columns_) + 1))
        out[~known] = self.model_.contributions(X[~known]).to_numpy()
        out[known] = self.model_.contributions(X[known], folds).to_numpy()
        return pd.DataFrame(out, columns=[*self.columns_, "expected"], index=inputs.index)

    def reasons(self, inputs: pd.DataFrame, top: int = REASONS) -> pd.DataFrame:
        """Per customer, the worded `top` principal reasons for its risk (`risk_reasons`), each with the
        customer's value and the portfolio's median (`reason_texts`); the portfolio's rate for everyone where the
        model found no pattern beyond it."""
        if not self.has_signal:
            s = self.signal_
            return pd.DataFrame({"risk_reasons": f"no risk pattern found: the outcome model did no better than the "
                                 f"portfolio's rate {self.portfolio_rate_:.1%} (AUC {s['auc']:.2f}, 95% "
                                 f"{s['auc_low']:.2f}-{s['auc_high']:.2f}), which every customer is given"},
                                index=inputs.index)
        contributions = self.contributions(inputs)
        logit = contributions.sum(axis=1).to_numpy()
        below = logit < np.log(self.portfolio_rate_ / (1 - self.portfolio_rate_))
        texts = reason_texts(contributions.drop(columns="expected").to_numpy(),
                             inputs.reindex(columns=self.columns_).to_numpy(dtype=np.float64), self.columns_,
                             self.medians_.to_numpy(), self.directions_.to_numpy(), below, self.currency, top)
        return pd.DataFrame({"risk_reasons": texts}, index=inputs.index)

    # saved as JSON (LightGBM's text format inside), never pickled
    def to_dict(self) -> dict:
        fold = self.fold_
        ids = fold.index.to_numpy()
        return {"kind": self.kind, "seed": self.seed, "bootstraps": self.bootstraps, "currency": self.currency,
                "columns": self.columns_, "model": self.model_.to_dict(), "grades": self.grades_.to_dict(),
                "portfolio_rate": self.portfolio_rate_, "min_history": self.min_history, "signal": self.signal_,
                "directions": self.directions_.tolist(), "medians": self.medians_.tolist(),
                "learnt_ids": [i.item() if hasattr(i, "item") else i for i in ids],
                "learnt_folds": self.folds_.loc[fold.index].to_numpy().astype(int).tolist(),
                "learnt_outcomes": self.outcomes_.reindex(fold.index).to_numpy().tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "RiskEstimator":
        r = cls(d["kind"], d["seed"], d["bootstraps"], d["currency"])
        r.columns_ = list(d["columns"])
        r.grade_edges = tuple(d["grades"].get("edges", d["grades"].get("cuts")))
        r.min_history = int(d.get("min_history", 0))  # models saved before the rule scored every window
        r.model_ = OutcomeModel.from_dict(d["model"])
        r.grades_ = Grades.from_dict(d["grades"])
        r.portfolio_rate_ = float(d["portfolio_rate"])
        r.signal_ = d.get("signal", {"beats": True})
        r.directions_ = pd.Series(d.get("directions", [0.0] * len(r.columns_)), index=r.columns_, dtype=np.float64)
        r.medians_ = pd.Series(d["medians"], index=r.columns_, dtype=np.float64)
        ids = pd.Index(d["learnt_ids"])  # JSON keeps integers and strings apart: ids come back exactly
        folds = np.asarray(d["learnt_folds"], dtype=np.int64).reshape(len(ids), -1)  # one column per repeat
        r.folds_ = pd.DataFrame(folds, index=ids)
        r.fold_ = pd.Series(folds[:, 0], index=ids)
        r.outcomes_ = pd.Series(d["learnt_outcomes"], index=ids, dtype=np.float64)
        return r
