"""Uniform on a cube: exact density, score, normalisation and samples.

Tolerances: exact float64 1e-12 (one log and a product); quadrature: panels are
aligned with the faces, so the integrand is constant on each panel and the
Gauss-Legendre rule is exact up to rounding (1e-12); KS: reject at p < 1e-3.
"""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from genlab.distributions import Distribution, Uniform


@pytest.mark.parametrize("dim, low, high", [(1, -1.0, 1.0), (3, 0.0, 2.5), (2, -3.0, -1.0)])
def test_log_prob_values(dim, low, high, gen):
    law = Uniform(dim, low, high)
    x = law.sample(100, generator=gen(0))
    torch.testing.assert_close(law.log_prob(x), torch.full((100,), -dim * math.log(high - low),
                                                           dtype=torch.float64), rtol=1e-12, atol=0)
    outside = x.clone()
    outside[:, 0] = high + 0.1
    assert torch.isneginf(law.log_prob(outside)).all()
    # the closed cube counts as inside
    corner = torch.full((1, dim), high, dtype=torch.float64)
    assert torch.isfinite(law.log_prob(corner)).all()


@pytest.mark.parametrize("dim", [1, 2])
def test_integrates_to_one(dim, integrate_box):
    law = Uniform(dim, -1.0, 1.0)
    # [-2, 2] in 4 panels: panel edges at -1 and 1, the jump points.
    total = integrate_box(law.prob, [-2.0] * dim, [2.0] * dim, 4)
    assert abs(total - 1.0) <= 1e-12


def test_score_zero_inside_nan_outside(gen):
    law = Uniform(2)
    x = law.sample(50, generator=gen(1))
    assert torch.equal(law.score(x), torch.zeros_like(x))
    assert torch.equal(Distribution.score(law, x), torch.zeros_like(x))  # autograd agrees
    assert torch.isnan(law.score(torch.tensor([[1.5, 0.0]]))).all()


def test_samples_ks_and_support(gen):
    law = Uniform(3, -2.0, 5.0)
    x = law.sample(20_000, generator=gen(2))
    assert ((x >= -2.0) & (x < 5.0)).all()
    for i in range(3):
        assert stats.kstest(x[:, i].numpy(), lambda t: law.marginal_cdf(torch.as_tensor(t)).numpy()).pvalue > 1e-3


def test_metadata():
    law = Uniform(2)
    assert law.smoothness == math.inf and law.support == "[-1, 1]^2" and law.intrinsic_dim == 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(dim=0), "dim"), (dict(dim=1.5), "dim"), (dict(dim=2, low=1.0, high=1.0), "high"),
    (dict(dim=2, low=float("nan")), "low"), (dict(dim=2, high=float("inf")), "high"),
    (dict(dim=2, low="a"), "low"),
])
def test_constructor_rejects(kwargs, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        Uniform(**kwargs)


def test_methods_reject():
    law = Uniform(2)
    with pytest.raises(ValueError, match="^n"):
        law.sample(0)
    with pytest.raises(ValueError, match="^x"):
        law.log_prob(torch.zeros(3, 1))
