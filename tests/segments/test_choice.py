"""How many segments: prediction strength as Tibshirani & Walther define it, with its stated rule."""

import numpy as np
import pytest

from fthc.clustering.heads import DTCHead, KMeansHead
from fthc.errors import DataError
from fthc.segments.choice import choose_k, prediction_strength


def kmeans(k, seed):
    return KMeansHead(k=k, seed=seed)


@pytest.mark.parametrize("dims, n", [(5, 600), (2, 600), (10, 2000)])
def test_gaussian_noise_has_no_reproducible_structure(dims, n):
    choice = choose_k(np.random.default_rng(dims).normal(size=(n, dims)), kmeans)
    assert choice.k == 1, choice.table
    assert "no reproducible structure" in choice.why
    assert (choice.table.loc[2:, "prediction_strength"] < 0.8).all()


def test_one_elongated_population_is_a_continuum_not_two_segments():
    """2,000 customers of one population stretched along one direction: k-means halves it stably (k = 2 scores
    about 0.97), but a structureless Gaussian of the same spread scores the same, so k = 2 is a split of a
    continuum and the answer is k = 1."""
    X = np.random.default_rng(0).normal(size=(2000, 5)) * [3, 1, 1, 1, 1]
    choice = choose_k(X, kmeans, ks=range(1, 5))
    t = choice.table
    assert t.loc[2, "prediction_strength"] >= 0.8 and t.loc[2, "verdict"] == "continuum", t
    assert choice.k == 1 and "continuum" in choice.why and "k=2 reproduces" in choice.why


@pytest.mark.parametrize("planted", [3, 4, 5, 6])
def test_well_separated_segments_give_their_number(planted):
    rng = np.random.default_rng(planted)
    centres = rng.normal(0, 6, size=(planted, 5))
    X = centres[rng.integers(0, planted, 1500)] + rng.normal(size=(1500, 5))
    choice = choose_k(X, kmeans)
    assert choice.k == planted, choice.table
    assert {"prediction_strength", "prediction_strength_sd", "reference_strength", "verdict"} <= \
        set(choice.table.columns)
    assert choice.table.loc[planted, "reference_strength"] < choice.table.loc[planted, "prediction_strength"] - 0.1
    assert choice.table.loc[planted + 1, "verdict"] == "fails"


def test_the_largest_k_that_reproduces_is_chosen_even_after_a_smaller_k_failed():
    """Tibshirani & Walther's rule: k = 6 at 0.94 is chosen although k = 5 failed at 0.62 (six segments can be
    merged into five in several ways); an unstable k is not chosen; nothing reproducing gives k = 1."""
    import pandas as pd

    from fthc.segments.choice import apply_rule

    table = pd.DataFrame({"prediction_strength": [1.0, 0.70, 0.95, 0.90, 0.62, 0.94, 0.75],
                          "prediction_strength_sd": [0.0, 0.18, 0.02, 0.05, 0.05, 0.03, 0.10]}, index=range(1, 8))
    assert apply_rule(table) == (6, 7)
    assert table["verdict"].tolist() == ["reproduces", "unstable", "reproduces", "reproduces", "fails", "reproduces",
                                         "unstable"]
    table.loc[[3, 4, 6], "prediction_strength"] = 0.5
    assert apply_rule(table) == (1, 2)


def test_six_segments_that_merge_into_four_in_several_ways_give_six():
    """Three pairs of close segments, the pairs far apart: k = 4 has several equally good answers (it fails
    or is unstable), k = 3 and k = 6 reproduce; the rule says 6."""
    rng = np.random.default_rng(5)
    pairs = np.array([[0, 0], [40, 0], [20, 35]], dtype=float)
    centres = np.vstack([pairs + [-4, 0], pairs + [4, 0]])
    X = centres[rng.integers(0, 6, 1800)] + rng.normal(size=(1800, 2))
    choice = choose_k(X, kmeans)
    assert choice.k == 6, choice.table
    assert choice.table.loc[3, "verdict"] == "reproduces"


def test_prediction_strength_catches_a_split_segment():
    a = np.repeat([0, 1, 2], 20)
    b = a.copy()
    b[:10] = 3  # segment 0 of a split in two by b
    assert prediction_strength(a, a) == 1.0
    assert prediction_strength(a, b) == pytest.approx(2 * 10 * 9 / (20 * 19))  # pairs of segment 0 kept together
    assert prediction_strength(b, a) == 1.0  # every segment of b lies inside one of a


def test_dtc_is_judged_at_the_partition_it_starts_from(monkeypatch):
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 8, size=(3, 6))
    X = np.concatenate([c + rng.normal(0, 0.3, size=(40, 6)) for c in centres])
    trained = []
    fit = DTCHead._train_layer
    monkeypatch.setattr(DTCHead, "_train_layer", lambda self, *a: trained.append(self.batches) or fit(self, *a))
    choice = choose_k(X, lambda k, s: DTCHead(k=k, seed=s).starting_point(), ks=range(1, 5))
    assert choice.k == 3, choice.table
    assert set(trained) == {0}  # every fit stops where the layer's training would start


def test_too_few_or_identical_customers_are_refused():
    with pytest.raises(DataError, match="too few"):
        choose_k(np.random.default_rng(0).normal(size=(3, 2)), kmeans)
    with pytest.raises(DataError, match="same behaviour"):
        choose_k(np.ones((20, 3)), kmeans)
    table = choose_k(np.random.default_rng(0).normal(size=(9, 2)), kmeans).table
    assert list(table.index) == [1, 2, 3, 4]  # each half must hold k customers at least


def _with_risk_axis(z, seed):
    """The space a risk-aware fit clusters: behaviour plus the log-odds axis at weight 1 (`fthc.risk.aware`),
    the log-odds driven by behaviour as an outcome model's are."""
    from fthc.risk.aware import with_axis

    logit = z @ np.linspace(1, 0.2, z.shape[1]) + np.random.default_rng(seed).normal(size=len(z))
    return with_axis(z, logit, 1.0, float(np.std(logit)))


def test_the_recheck_in_the_risk_aware_space_says_continuum_for_noise_and_reproduces_for_segments():
    """A risk axis stretches a structureless cloud so that k-means halves it stably: without the reference
    population the recheck said "k=2 reproduces" there while choose_k said continuum. Planted segments still
    reproduce, well above the reference."""
    from fthc.segments.choice import recheck_k

    noise = _with_risk_axis(np.random.default_rng(0).normal(size=(2000, 5)), 1)
    check = recheck_k(noise, kmeans, 2)
    assert check["prediction_strength"] >= 0.8 and check["verdict"] == "continuum", check
    rng = np.random.default_rng(3)
    blobs = rng.normal(0, 6, size=(3, 5))[rng.integers(0, 3, 1500)] + rng.normal(size=(1500, 5))
    check = recheck_k(_with_risk_axis(blobs, 4), kmeans, 3)
    assert check["verdict"] == "reproduces", check
    assert check["reference_strength"] < check["prediction_strength"] - 0.1
