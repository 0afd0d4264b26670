"""Shared checks over every registered risk model (as tests/models/test_heads.py checks every clustering head): a
class is checked the moment it is registered in `RISK_MODELS`, each of its candidates alone and the nested,
cross-fitted `OutcomeModel` that chooses among them."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fthc.risk.model import RISK_MODELS, OutcomeModel, RiskModel, choose_model
from fthc.risk.model_classes import fitted_from_dict

NAMES = RISK_MODELS.names()
SEED = 4


@pytest.fixture(scope="module")
def planted():
    """Outcomes planted on two behaviours of known direction, one free nonlinear input and recent months with
    missing values (months before the account opened); a noise input."""
    rng = np.random.default_rng(0)
    n = 500
    X = pd.DataFrame({"negative_month_share": rng.random(n), "balance_low": rng.normal(0, 1, n),
                      "x": rng.normal(0, 1, n), "in_1": rng.lognormal(6, 1, n), "noise": rng.normal(0, 1, n)})
    X.loc[rng.random(n) < 0.2, "in_1"] = np.nan
    logit = -2 + 4 * X["negative_month_share"] - 1.5 * X["balance_low"] + np.sin(2 * X["x"]) + \
        np.where(X["in_1"].isna(), 0.8, 0.0)  # the true log-odds rank customers with an AUC of about 0.88
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).to_numpy().astype(int)
    return X, y


def _split(y):
    rng = np.random.default_rng(1)
    test = rng.random(len(y)) < 0.3
    return np.flatnonzero(~test), np.flatnonzero(test)


def test_every_risk_model_proposes_unfitted_candidates_that_load_back_as_their_class(planted):
    X, _ = planted
    for name in NAMES:
        proposed = RISK_MODELS.get(name).build.candidates(list(X.columns))
        assert proposed and all(isinstance(c, RiskModel) and c.state is None for c in proposed), name
    for component in RISK_MODELS:
        cls = component.build
        if isinstance(cls, type) and issubclass(cls, RiskModel):  # a saved model is read by the class of its kind
            assert issubclass(cls, RISK_MODELS.get(cls.kind).build), (component.name, cls.kind)


def test_auto_chooses_among_every_class_flagged_in_auto(planted):
    names = list(planted[0].columns)
    flagged = [c for c in RISK_MODELS if c.flag("in_auto")]
    assert {c.name for c in flagged} >= {"boosted", "logistic"} and "auto" not in {c.name for c in flagged}
    expected = [(type(c), c.params) for f in flagged for c in f.build.candidates(names)]
    assert [(type(c), c.params) for c in RISK_MODELS.get("auto").build.candidates(names)] == expected


@pytest.mark.parametrize("name", NAMES)
def test_each_candidate_fits_ranks_explains_saves_and_repeats(planted, name):
    """Every candidate of the class alone: scores held-out customers above chance, contributions that add up to
    its raw log-odds (and, calibrated, to its log-odds), a JSON round trip that scores identically, and the
    same seed giving the same model."""
    X, y = planted
    Xa = X.to_numpy(dtype=np.float64)
    train, test = _split(y)
    for candidate in RISK_MODELS.get(name).build.candidates(list(X.columns)):
        raw, kept = candidate.inner_scores(Xa[train], y[train], SEED, Xa[test])
        assert roc_auc_score(y[test], raw) > 0.7, candidate
        again, kept_again = candidate.inner_scores(Xa[train], y[train], SEED, Xa[test])
        assert np.array_equal(raw, again) and kept == kept_again
        settled = candidate.settled([kept])
        model = settled.fitted(Xa[train], y[train], SEED)
        assert model is not settled and settled.state is None  # a fitted copy: the candidate is refitted per fold
        assert roc_auc_score(y[test], model.raw(Xa[test])) > 0.7, candidate

        c = model.raw_contributions(Xa)
        assert c.shape == (len(Xa), Xa.shape[1] + 1)
        np.testing.assert_allclose(c.sum(axis=1), model.raw(Xa), rtol=0, atol=1e-9)
        model.platt = (0.7, -0.4)
        np.testing.assert_allclose(model.contributions(Xa).sum(axis=1), model.logit(Xa), rtol=0, atol=1e-9)

        back = fitted_from_dict(json.loads(json.dumps(model.to_dict())))
        assert back.kind == model.kind and back.platt == model.platt
        assert np.array_equal(back.logit(Xa), model.logit(Xa))
        assert np.array_equal(back.contributions(Xa), model.contributions(Xa))
        assert back.to_dict() == json.loads(json.dumps(model.to_dict()))

        twin = settled.fitted(Xa[train], y[train], SEED)
        twin.platt = model.platt
        assert twin.to_dict() == model.to_dict() and np.array_equal(twin.raw(Xa), model.raw(Xa))


@pytest.mark.parametrize("name", NAMES)
def test_the_outcome_model_of_each_class_ranks_adds_up_saves_and_repeats(planted, name):
    """The nested, cross-fitted OutcomeModel of the class: out-of-fold risk above chance, contributions that add up
    to the log-odds it gives (own folds and never-seen customers), a JSON round trip that scores identically, and
    a seeded refit that gives the same figures."""
    X, y = planted
    model = OutcomeModel(name, folds=3, bootstraps=4, seed=SEED, repeats=2).fit(X, y)
    assert roc_auc_score(y, model.oof_[0]) > 0.7
    assert len(model.choice_) == len(model.models_) * len(RISK_MODELS.get(name).build.candidates(list(X.columns)))
    assert isinstance(model.chosen_, str) and model.chosen_
    Xa, new = X.to_numpy(dtype=np.float64), X.to_numpy(dtype=np.float64)[:60] * 1.1
    for rows, fold in ((Xa, model.folds_), (new, None)):
        np.testing.assert_allclose(model.contributions(rows, fold).sum(axis=1), model.predict(rows, fold)["logit"],
                                   rtol=0, atol=1e-9)
    np.testing.assert_allclose(model.predict(Xa, model.folds_)["logit"], model.oof_[3], rtol=0, atol=1e-12)

    back = OutcomeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert back.chosen_ == model.chosen_
    for rows, fold in ((Xa, model.folds_), (new, None)):
        for key, values in model.predict(rows, fold).items():
            assert np.array_equal(back.predict(rows, fold)[key], values), key
        pd.testing.assert_frame_equal(back.contributions(rows, fold), model.contributions(rows, fold),
                                      check_exact=True)

    twin = OutcomeModel(name, folds=3, bootstraps=4, seed=SEED, repeats=2).fit(X, y)
    assert np.array_equal(twin.oof_, model.oof_) and twin.to_dict() == model.to_dict()


class _MeanGap(RiskModel):
    """A toy class, to show that a new model is one class and its registration: raw log-odds the inputs (missing
    as 0) weighted by the difference of the classes' means."""

    kind = "mean-gap"
    words = "the mean gap"

    @classmethod
    def candidates(cls, names):
        return [cls({"shrink": s}) for s in (0.5, 1.0)]

    def fitted(self, X, y, seed):
        X = np.nan_to_num(X)
        sd = X.std(0) + 1e-9
        w = self.params["shrink"] * (X[y == 1].mean(0) - X[y == 0].mean(0)) / sd ** 2
        return type(self)(self.params, (w, float(-(X.mean(0) @ w))))

    def raw(self, X):
        return np.nan_to_num(X) @ self.state[0] + self.state[1]

    def raw_contributions(self, X):
        return np.c_[np.nan_to_num(X) * self.state[0], np.full(len(X), self.state[1])]

    def state_to_json(self):
        return [self.state[0].tolist(), self.state[1]]

    @classmethod
    def state_from_json(cls, state):
        return np.asarray(state[0], dtype=np.float64), float(state[1])


def test_a_new_class_is_one_class_and_its_registration(planted, monkeypatch):
    X, y = planted
    monkeypatch.setattr(RISK_MODELS, "_items", dict(RISK_MODELS._items))  # registered for this test only
    RISK_MODELS.register("mean-gap", _MeanGap, in_auto=True, doc="a toy")
    model = OutcomeModel("mean-gap", folds=3, bootstraps=2, seed=SEED, repeats=1).fit(X, y)
    assert roc_auc_score(y, model.oof_[0]) > 0.7 and model.chosen_.startswith("the mean gap (shrink")
    back = OutcomeModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert np.array_equal(back.predict(X.to_numpy(dtype=np.float64))["risk"], model.predict(X.to_numpy())["risk"])
    auto = OutcomeModel("auto", folds=3, bootstraps=2, seed=SEED, repeats=1).fit(X, y)
    assert set(auto.choice_["model"]) == {"boosted", "logistic", "mean-gap"}
    chosen, _, table = choose_model(RISK_MODELS.get("mean-gap").build.candidates(list(X.columns)),
                                    X.to_numpy(dtype=np.float64), y, SEED)
    assert isinstance(chosen, _MeanGap) and len(table) == 2
