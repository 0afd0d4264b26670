"""The classes of risk model, registered in `RISK_MODELS`: what each one is, apart from the nested cross-validation
that chooses among them (`fthc.risk.model.OutcomeModel`, which only calls them).

A class is a `RiskModel`: an instance holds one candidate's hyperparameters (`params`) and, once fitted, its fitted
`state` and its Platt calibration (`platt`). The class says
- `candidates(names)`: its hyperparameter candidates for the inner cross-validation (unfitted instances; `names`:
  the inputs, for a class whose candidates depend on them);
- `inner_scores(X, y, seed, test)`: how it fits on an inner training fold and scores the inner test fold, and what
  that fit learnt for the final fit to keep (boosting: its early-stopping point); `settled` folds that into the
  hyperparameters;
- `fitted(X, y, seed)`: a fitted copy on an outer fold or a bootstrap resample;
- `raw(X)`: its raw log-odds; `raw_contributions(X)`: each input's exact share of them, the base last (they sum to
  `raw`): TreeSHAP (LightGBM's `pred_contrib`) for trees, weight x centred value for the logistic;
- `state_to_json` / `state_from_json`: its fitted state in the saved model (JSON, never pickled).

The saved format of a fitted model is {"kind", "params", "state", "platt"}; `kind` is the class's `kind` (the
monotone trees are boosted trees with constraints in their params: saved, loaded and scored as "boosted").
`auto` is not a model of its own: its candidates are those of every class registered with `in_auto=True`, and the
nested cross-validation chooses among them.

Adding a class: subclass `RiskModel`, register it (`@RISK_MODELS.register(name, doc=...)`); tests/risk/
test_risk_models.py runs the shared checks on every registered class.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..registry import Registry

RISK_MODELS: Registry = Registry("risk model", flags={
    "in_auto": False,  # one of the classes `auto` chooses among
})

LOGISTIC_CS = (0.01, 0.1, 1.0)
# trees: few leaves and a floor on leaf size (a few hundred outcomes is a small sample), rounds by early stopping
BOOSTED_GRID = ({"num_leaves": 4, "min_data_in_leaf": 20}, {"num_leaves": 8, "min_data_in_leaf": 30},
                {"num_leaves": 16, "min_data_in_leaf": 50})
LEARNING_RATE, MAX_ROUNDS, EARLY_STOP = 0.05, 600, 40
STOP_SHARE = 0.2  # of an inner training fold, set aside to stop boosting on
# behaviours whose direction a credit team would sign (+1: more of it, more risk; -1: less risk); each of the last
# months' money in and balance (in_1.., balance_1..) counts as money in and balance
MONOTONE = {"negative_month_share": 1, "balance_level": -1, "balance_low": -1, "balance_mean": -1,
            "months_with_income": -1, "salary_like": -1, "pension_like": -1, "in_": -1, "balance_": -1,
            "months_since_regular_credit": 1, "negative_change": 1}


def monotone_constraints(names: list[str]) -> tuple[int, ...]:
    """LightGBM's monotone_constraints for the inputs `names` (0 where the direction is not known)."""
    def sign(name: str) -> int:
        if name in MONOTONE:
            return MONOTONE[name]
        prefix = name.rsplit("_", 1)[0] + "_"
        return MONOTONE.get(prefix, 0) if name.rsplit("_", 1)[-1].isdigit() else 0
    return tuple(sign(n) for n in names)


class RiskModel:
    """One candidate of a class of risk model (its `params`) and, fitted, its `state` and calibration (see the
    module). Calibrated log-odds = a * raw + b, (a, b) = `platt`."""

    kind: ClassVar[str]  # the class's name in a saved model
    words: ClassVar[str]  # the class in words (`OutcomeModel.chosen_`)
    hidden: ClassVar[tuple[str, ...]] = ()  # params not shown in the choice table and `chosen_`

    def __init__(self, params: dict | None = None, state=None, platt: tuple[float, float] = (1.0, 0.0)):
        self.params, self.state, self.platt = params if params is not None else {}, state, tuple(platt)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()}{', fitted' if self.state is not None else ''})"

    # -- what each class says --------------------------------------------------------------------------------
    @classmethod
    def candidates(cls, names: list[str]) -> list["RiskModel"]:
        """The hyperparameter candidates the inner cross-validation compares (unfitted), in order: the first of
        equally good ones is chosen."""
        raise NotImplementedError

    def fitted(self, X: np.ndarray, y: np.ndarray, seed: int) -> "RiskModel":
        """A copy with these params fitted on X, y (this candidate stays as it is)."""
        raise NotImplementedError

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The raw (uncalibrated) log-odds."""
        raise NotImplementedError

    def raw_contributions(self, X: np.ndarray) -> np.ndarray:
        """[n, features + 1]: each input's share of the raw log-odds and the base last; rows sum to `raw`."""
        raise NotImplementedError

    def state_to_json(self):
        raise NotImplementedError

    @classmethod
    def state_from_json(cls, state):
        raise NotImplementedError

    def inner_scores(self, X: np.ndarray, y: np.ndarray, seed: int, test: np.ndarray) -> tuple[np.ndarray, dict]:
        """An inner fold: the raw scores of `test` by a model fitted on X, y, and what that fit learnt that the
        final fit keeps (`settled`)."""
        return self.fitted(X, y, seed).raw(test), {}

    def settled(self, learnt: list[dict]) -> "RiskModel":
        """This candidate with what its inner folds learnt (`inner_scores`, one dict per fold) in its params."""
        return self

    # -- shared ----------------------------------------------------------------------------------------------
    def logit(self, X: np.ndarray) -> np.ndarray:
        a, b = self.platt
        return a * self.raw(X) + b

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """[n, features + 1]: each feature's share of the calibrated log-odds, and the expected value last."""
        a, b = self.platt
        c = self.raw_contributions(X)
        c = c * a
        c[:, -1] += b
        return c

    def describe(self) -> str:
        """The params in words (the choice table's `params`)."""
        return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.params.items()
                         if k not in self.hidden)

    def describe_class(self) -> str:
        """The class in words, as `chosen_` says it."""
        return self.words

    def to_dict(self) -> dict:
        return {"kind": self.kind, "params": self.params, "state": self.state_to_json(), "platt": list(self.platt)}

    @classmethod
    def from_dict(cls, d: dict) -> "RiskModel":
        return cls(d["params"], cls.state_from_json(d["state"]), tuple(d["platt"]))


def fitted_from_dict(d: dict) -> RiskModel:
    """A saved fitted model, of the class registered under its `kind`."""
    return RISK_MODELS.get(d["kind"]).build.from_dict(d)


# -- boosted trees -----------------------------------------------------------------------------------------------
@RISK_MODELS.register("boosted", in_auto=True, doc="LightGBM gradient-boosted trees (the default)")
class BoostedModel(RiskModel):
    """LightGBM gradient-boosted trees: `BOOSTED_GRID` candidates, the number of trees (`rounds`) the mean of the
    inner folds' early-stopping points; the state a `lightgbm.Booster` (saved in LightGBM's text format)."""

    kind = "boosted"
    words = "boosted trees"
    hidden = ("monotone_constraints",)

    @classmethod
    def candidates(cls, names: list[str]) -> list[RiskModel]:
        return [cls(dict(g)) for g in BOOSTED_GRID]

    def booster_params(self, seed: int) -> dict:
        params = self.params
        return {"objective": "binary", "learning_rate": LEARNING_RATE, "lambda_l2": 1.0, "feature_fraction": 0.9,
                "bagging_fraction": 1.0, "verbosity": -1, "num_threads": 1, "deterministic": True,
                "force_row_wise": True, "seed": seed, "num_leaves": params["num_leaves"],
                "min_data_in_leaf": params["min_data_in_leaf"],
                **({"monotone_constraints": list(params["monotone_constraints"]),
                    "monotone_constraints_method": "advanced"} if "monotone_constraints" in params else {})}

    def fitted(self, X, y, seed) -> "BoostedModel":
        """A booster of `params["rounds"]` trees."""
        import lightgbm as lgb

        train = lgb.Dataset(X, y, params={"verbosity": -1})
        booster = lgb.train(self.booster_params(seed), train, num_boost_round=int(self.params["rounds"]))
        return type(self)(dict(self.params), booster)

    def inner_scores(self, X, y, seed, test) -> tuple[np.ndarray, dict]:
        """The raw scores of `test` and the number of trees early stopping keeps, stopped on a part of the
        training data (`STOP_SHARE`) set aside, never on `test`: the scores that choose the model and fit its
        calibration are those of a model that did not look at them (stopping on them made the risk
        over-confident)."""
        import lightgbm as lgb
        from sklearn.model_selection import train_test_split

        fit, stop = train_test_split(np.arange(len(y)), test_size=STOP_SHARE, stratify=y, random_state=seed + 11)
        train = lgb.Dataset(X[fit], y[fit], free_raw_data=False, params={"verbosity": -1})
        booster = lgb.train(self.booster_params(seed), train, num_boost_round=MAX_ROUNDS,
                            valid_sets=[lgb.Dataset(X[stop], y[stop], reference=train)],
                            callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)])
        best = max(int(booster.best_iteration or MAX_ROUNDS), 1)
        return booster.predict(test, raw_score=True, num_iteration=best, num_threads=1), {"rounds": best}

    def settled(self, learnt: list[dict]) -> "BoostedModel":
        rounds = [fold["rounds"] for fold in learnt]
        return type(self)(self.params | {"rounds": int(round(np.mean(rounds)))}) if rounds else self

    def raw(self, X):
        return self.state.predict(X, raw_score=True, num_threads=1)

    def raw_contributions(self, X):
        return self.state.predict(X, pred_contrib=True, num_threads=1)

    def describe(self) -> str:
        return super().describe() + (", monotone" if "monotone_constraints" in self.params else "")

    def describe_class(self) -> str:
        return self.words + (" (monotone where the direction is known)" if "monotone_constraints" in self.params
                             else "")

    def state_to_json(self):
        return self.state.model_to_string()

    @classmethod
    def state_from_json(cls, state):
        import lightgbm as lgb

        return lgb.Booster(model_str=state)


@RISK_MODELS.register("monotone", doc="boosted trees whose risk may only rise (or only fall) with the behaviours "
                                      "whose direction is known (MONOTONE)")
class MonotoneModel(BoostedModel):
    """Boosted trees constrained, in every candidate, to the directions of `MONOTONE` (the inputs' names say
    which): otherwise the boosted trees, saved and loaded as them (kind "boosted", the constraints in params)."""

    @classmethod
    def candidates(cls, names: list[str]) -> list[RiskModel]:
        constraints = monotone_constraints(names)
        return [cls(dict(g, monotone_constraints=constraints)) for g in BOOSTED_GRID]


# -- logistic regression -----------------------------------------------------------------------------------------
def _signed_log(X: np.ndarray) -> np.ndarray:
    """Money is heavy-tailed: the logistic reads sign(x) log(1 + |x|) of every input (monotone, so each input
    keeps its direction and its own contribution)."""
    return np.sign(X) * np.log1p(np.abs(X))


def _standardised(X: np.ndarray, centre, scale, fill) -> np.ndarray:
    X = _signed_log(X)
    missing = np.isnan(X)
    Z = (np.where(missing, fill, X) - centre) / scale
    return np.c_[Z, missing.astype(np.float64)]


@RISK_MODELS.register("logistic", in_auto=True, doc="L2-regularised logistic regression")
class LogisticModel(RiskModel):
    """An L2 logistic regression (`LOGISTIC_CS` candidates of C) on standardised signed logs of the inputs, a
    missing value read as the training median with an indicator. State: (centre, scale, fill, weights,
    intercept)."""

    kind = "logistic"
    words = "a logistic regression"

    @classmethod
    def candidates(cls, names: list[str]) -> list[RiskModel]:
        return [cls({"C": c}) for c in LOGISTIC_CS]

    def fitted(self, X, y, seed) -> "LogisticModel":
        S = _signed_log(X)
        fill = np.nanmedian(np.where(np.isnan(S).all(0), 0.0, S), axis=0) if len(S) else np.zeros(S.shape[1])
        fill = np.where(np.isnan(fill), 0.0, fill)
        filled = np.where(np.isnan(S), fill, S)
        centre, sd = filled.mean(0), filled.std(0)
        scale = np.where(sd > 1e-12, sd, 1.0)
        Z = _standardised(X, centre, scale, fill)
        m = LogisticRegression(C=self.params["C"], max_iter=5000).fit(Z, y)
        return type(self)(self.params, (centre, scale, fill, m.coef_[0], float(m.intercept_[0])))

    def raw(self, X):
        centre, scale, fill, w, b = self.state
        return _standardised(X, centre, scale, fill) @ w + b

    def raw_contributions(self, X):
        centre, scale, fill, w, intercept = self.state
        Z = _standardised(X, centre, scale, fill)
        d = Z.shape[1] // 2  # values, then missing indicators: one contribution per input
        parts = Z * w
        return np.c_[parts[:, :d] + parts[:, d:], np.full(len(X), intercept)]

    def state_to_json(self):
        return [np.asarray(s, dtype=np.float64).tolist() for s in self.state[:4]] + [float(self.state[4])]

    @classmethod
    def state_from_json(cls, state):
        return tuple(np.asarray(s, dtype=np.float64) for s in state[:4]) + (float(state[4]),)


# -- the choice among them ---------------------------------------------------------------------------------------
@RISK_MODELS.register("auto", doc="the class chosen by the nested cross-validation")
class AutoModel:
    """Not a model of its own: the candidates of every class registered with `in_auto=True`, in the order they
    were registered; the nested cross-validation chooses the class with the hyperparameters."""

    @classmethod
    def candidates(cls, names: list[str]) -> list[RiskModel]:
        return [c for component in RISK_MODELS if component.flag("in_auto")
                for c in component.build.candidates(names)]
