"""Distances, soft assignment, target distribution and losses against straightforward reference formulas."""

import math

import numpy as np
import pytest
import torch

from fthc.models.network import Forward

from fthc.clustering.distances import DISTANCES, complexity, pairwise
from fthc.clustering.dtc import (centroids_from_labels, complete_linkage_labels, kl_divergence, soft_assignment,
                                 target_distribution)
from fthc.models.losses import masked_mse, multi_rec_loss, vae_loss

rng = np.random.default_rng(0)
A = torch.tensor(rng.normal(size=(5, 7, 2)), dtype=torch.float64)
B = torch.tensor(rng.normal(size=(3, 7, 2)), dtype=torch.float64)


def ref_eucl(a, b):
    return math.sqrt(((a - b) ** 2).sum())


def ref_ce(a):
    return math.sqrt(((a[1:] - a[:-1]) ** 2).sum())


def ref_cid(a, b):
    ca, cb = ref_ce(a), ref_ce(b)
    return ref_eucl(a, b) * max(ca, cb) / min(ca, cb)


def ref_cor(a, b):
    out = []
    for c in range(a.shape[1]):
        r = np.corrcoef(a[:, c], b[:, c])[0, 1]
        out.append(r)
    return math.sqrt(2 * (1 - np.mean(out)))


@pytest.mark.parametrize("name,ref", [("eucl", ref_eucl), ("cid", ref_cid), ("cor", ref_cor)])
def test_distances_match_reference(name, ref):
    d = DISTANCES.get(name).build(A, B).numpy()
    expected = np.array([[ref(a, b) for b in B.numpy()] for a in A.numpy()])
    np.testing.assert_allclose(d, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["eucl", "cid", "cor"])
def test_distances_are_differentiable_and_pairwise_is_symmetric(name):
    a = A.clone().requires_grad_(True)
    DISTANCES.get(name).build(a, B).sum().backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
    d = pairwise(A.float(), name, chunk=2)
    assert torch.allclose(d, d.T) and torch.all(d.diagonal() == 0)


def test_cid_gradient_flows_through_the_complexity_estimate():
    a = A[:1].clone().requires_grad_(True)
    complexity(a).sum().backward()
    assert a.grad.abs().sum() > 0


def test_vector_latents_are_series_of_one_channel():
    a, b = torch.randn(4, 10), torch.randn(2, 10)
    np.testing.assert_allclose(DISTANCES.get("cid").build(a, b), DISTANCES.get("cid").build(a[..., None], b[..., None]))


def test_soft_assignment_and_target_distribution():
    d = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, 4.0]])
    for alpha in (1.0, 2.5):
        q = soft_assignment(d, alpha).numpy()
        raw = (1 + d.numpy() ** 2 / alpha) ** (-(alpha + 1) / 2)
        np.testing.assert_allclose(q, raw / raw.sum(1, keepdims=True), rtol=1e-6)
    q = soft_assignment(d)
    p = target_distribution(q).numpy()
    qn = q.numpy()
    f = qn.sum(0)
    w = qn**2 / f
    np.testing.assert_allclose(p, w / w.sum(1, keepdims=True), rtol=1e-6)
    kl = kl_divergence(torch.tensor(p), q)
    assert np.isclose(float(kl), np.mean((p * np.log(p / qn)).sum(1)), rtol=1e-5)
    assert not target_distribution(q.requires_grad_(True)).requires_grad  # held fixed between updates


def test_masked_losses():
    x = torch.zeros(2, 1, 4)
    x_hat = torch.tensor([[[1.0, 1.0, 9.0, 9.0]], [[2.0, 0.0, 0.0, 0.0]]])
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    assert float(masked_mse(x_hat, x, mask)) == pytest.approx((1 + 1 + 4) / 6)  # padding is ignored
    enc, dec = [torch.ones(2, 3)], [torch.zeros(2, 3)]
    assert float(multi_rec_loss(x, mask, Forward(None, x_hat, enc, dec))) == pytest.approx(1 + 1)
    mu, logvar = torch.zeros(2, 3), torch.zeros(2, 3)
    out = Forward(mu, x_hat, extras={"mu": mu, "logvar": logvar})
    assert float(vae_loss(x, mask, out)) == pytest.approx(1.0)
    mu = torch.ones(2, 3)
    kl = 0.5 * 3  # per sample: -0.5 * sum(1 + 0 - 1 - 1)
    out = Forward(mu, x_hat, extras={"mu": mu, "logvar": logvar})
    assert float(vae_loss(x, mask, out)) == pytest.approx(1 + kl / 4)


def test_complete_linkage_finds_separated_groups_and_means():
    z = torch.tensor(np.r_[rng.normal(0, 0.1, (10, 3)), rng.normal(5, 0.1, (12, 3))], dtype=torch.float32)
    labels = complete_linkage_labels(z, 2, "eucl")
    assert sorted(np.bincount(labels)) == [10, 12]
    c = centroids_from_labels(z, labels, 2)
    assert sorted(c.mean(1).round().tolist()) == [0.0, 5.0]
    c3 = centroids_from_labels(z, np.zeros(22, dtype=int), 2)  # an empty cluster takes the worst-fitting point
    assert torch.isfinite(c3).all()


@pytest.mark.parametrize("name", ["eucl", "cid", "cor"])
def test_condensed_distances_match_the_full_matrix(name):
    from scipy.spatial.distance import squareform

    from fthc.clustering.distances import condensed

    z = torch.tensor(rng.normal(size=(9, 6, 2)), dtype=torch.float32)
    np.testing.assert_allclose(condensed(z, name), squareform(pairwise(z, name).double().numpy(), checks=False),
                               rtol=1e-4, atol=1e-4)
