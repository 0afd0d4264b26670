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
from .grades import Grades, fit_grades
from .model import OutcomeModel

RISK_MEASURES = ["transactions_per_month", "income_per_month", "spending_per_month", "spending_to_income",
                 "months_with_income", "income_variation", "typical_credit", "typical_debit", "mean_amount",
                 "amount_sd", "balance_level", "balance_low", "balance_mean", "balance_volatility",
                 "negative_month_share", "balance_trend", "cash_share", "card_share", "transfer_share",
                 "loan_payment_share", "salary_like", "pension_like", "months",
                 # how the last months differ from the customer's own months before them
                 *[m for m in CHANGE_MEASURES if m != "balance_trend"]]
REASONS = 3
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


def describe_input(name: str) -> tuple[str, str]:
    """(words, unit) of an input."""
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
    if unit == "change":  # a log ratio: the relative change it stands for
        change = float(np.expm1(value))
        return "no change" if round(change * 100) == 0 else f"{change:+.0%}"
    if unit in ("per month", "months"):
        return f"{value:.1f}"
    return f"{value:.2g}"


class RiskEstimator:
    """Outcome model, grades and risk reasons on frames (see the module). kind: boosted, logistic or auto."""

    def __init__(self, kind: str = "boosted", seed: int = 0, bootstraps: int = 25, currency: str | None = None):
        self.kind, self.seed, self.bootstraps, self.currency = kind, seed, bootstraps, currency

    def fit(self, inputs: pd.DataFrame, y: pd.Series, population: pd.DataFrame | None = None) -> "RiskEstimator":
        y = y.reindex(inputs.index).astype(int)
        self.columns_ = list(inputs.columns)
        self.model_ = OutcomeModel(self.kind, bootstraps=self.bootstraps, seed=self.seed).fit(inputs, y.to_numpy())
        self.fold_ = pd.Series(self.model_.fold_, index=inputs.index)
        oof = self.model_.oof_
        self.oof_ = pd.DataFrame({"risk": oof[0], "risk_low": oof[1], "risk_high": oof[2], "logit": oof[3]},
                                 index=inputs.index)
        self.grades_ = fit_grades(oof[0], y.to_numpy(), seed=self.seed)
        self.portfolio_rate_ = float(y.mean())
        self.outcomes_ = y.astype(float)  # whose outcome each fold model learnt from, and what it was
        pop = population if population is not None else inputs
        self.medians_ = pop[self.columns_].median()
        return self

    def _split(self, inputs: pd.DataFrame):
        """The inputs as a matrix, which customers' outcomes were learnt, and their folds."""
        X = inputs[self.columns_].to_numpy(dtype=np.float64)
        fold = self.fold_.reindex(inputs.index)
        known = fold.notna().to_numpy()
        return X, known, fold[known].to_numpy().astype(int)

    def score(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """risk, risk_low, risk_high, logit and risk_grade of each customer (index: the inputs')."""
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
        X = inputs[self.columns_].to_numpy(dtype=np.float64)
        from .model import sigmoid

        return np.stack([sigmoid(m.logit(X)) for m in self.model_._boot_models()]) if len(X) else \
            np.zeros((self.bootstraps, 0))

    def importance(self, inputs: pd.DataFrame) -> pd.Series:
        """Mean absolute contribution of each input to the log-odds: what drives risk in this portfolio."""
        return self.contributions(inputs).drop(columns="expected").abs().mean().sort_values(ascending=False)

    def contributions(self, inputs: pd.DataFrame) -> pd.DataFrame:
        """Each input's contribution to each customer's log-odds, by the models `score` uses for it."""
        X, known, folds = self._split(inputs)
        out = np.empty((len(X), len(self.columns_) + 1))
        out[~known] = self.model_.contributions(X[~known]).to_numpy()
        out[known] = self.model_.contributions(X[known], folds).to_numpy()
        return pd.DataFrame(out, columns=[*self.columns_, "expected"], index=inputs.index)

    def reasons(self, inputs: pd.DataFrame, top: int = REASONS) -> pd.DataFrame:
        """Per customer, the worded `top` inputs that raise its risk most against the portfolio
        (`risk_reasons`): each with the customer's value and the portfolio's median."""
        values = self.contributions(inputs).drop(columns="expected").to_numpy()
        X = inputs[self.columns_].to_numpy(dtype=np.float64)
        order = np.argsort(-values, axis=1, kind="stable")[:, :top]
        rows = np.arange(len(X))[:, None]
        raises = values[rows, order] > 0
        said = [describe_input(c) for c in self.columns_]
        medians = [format_value(m, unit, self.currency) for m, (_, unit) in zip(self.medians_, said)]
        texts = ["; ".join(f"{said[j][0]} {format_value(X[i, j], said[j][1], self.currency)} (portfolio median "
                           f"{medians[j]})" for j, up in zip(order[i], raises[i]) if up)
                 or "nothing in its behaviour raises its risk above the portfolio's" for i in range(len(X))]
        return pd.DataFrame({"risk_reasons": texts}, index=inputs.index)

    # saved as JSON (LightGBM's text format inside), never pickled
    def to_dict(self) -> dict:
        fold = self.fold_
        ids = fold.index.to_numpy()
        return {"kind": self.kind, "seed": self.seed, "bootstraps": self.bootstraps, "currency": self.currency,
                "columns": self.columns_, "model": self.model_.to_dict(), "grades": self.grades_.to_dict(),
                "portfolio_rate": self.portfolio_rate_, "medians": self.medians_.tolist(),
                "learnt_ids": [i.item() if hasattr(i, "item") else i for i in ids],
                "learnt_folds": fold.to_numpy().astype(int).tolist(),
                "learnt_outcomes": self.outcomes_.reindex(fold.index).to_numpy().tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "RiskEstimator":
        r = cls(d["kind"], d["seed"], d["bootstraps"], d["currency"])
        r.columns_ = list(d["columns"])
        r.model_ = OutcomeModel.from_dict(d["model"])
        r.grades_ = Grades.from_dict(d["grades"])
        r.portfolio_rate_ = float(d["portfolio_rate"])
        r.medians_ = pd.Series(d["medians"], index=r.columns_, dtype=np.float64)
        ids = pd.Index(d["learnt_ids"])  # JSON keeps integers and strings apart: ids come back exactly
        r.fold_ = pd.Series(d["learnt_folds"], index=ids)
        r.outcomes_ = pd.Series(d["learnt_outcomes"], index=ids, dtype=np.float64)
        return r
