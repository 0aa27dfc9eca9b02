"""The 1-D law adapter behind the exact `w1_law` metric, against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import metrics as M
from genlab.distributions import MarginalLaw, SmoothDensity, Uniform, has_marginal_law, make_truth


@pytest.mark.parametrize("a", [-0.9, 0.0, 0.3])
def test_w1_of_a_point_mass_to_the_uniform_law_is_closed_form(a):
    # W1(delta_a, U[-1, 1]) = E|a - U| = ((a + 1)^2 + (1 - a)^2) / 4.  The known-law
    # quadrature of metrics.wasserstein is documented exact to ~1e-9 for smooth quantiles;
    # the uniform's quantile is linear, so the bisection (60 halvings: 2 * 2^-60) dominates.
    law = MarginalLaw(Uniform(1))
    got = M.wasserstein(np.array([[a]]), law, p=1, method="1d")
    assert got == pytest.approx(((a + 1) ** 2 + (1 - a) ** 2) / 4, abs=1e-9)


def test_ppf_inverts_the_smooth_cdf():
    # 60 bisection halvings of [-1, 1] leave an interval of 2^-59 ~ 1.7e-18: the inverse
    # is exact to float64 round-off in x (the CDF is strictly increasing, density >= (1-a)/2).
    law = MarginalLaw(SmoothDensity(1, s=0.7, seed=3))
    x = np.linspace(-0.999, 0.999, 101)
    np.testing.assert_allclose(law.ppf(law.cdf(x)), x, atol=1e-12)


def test_only_one_dimensional_bounded_laws_qualify():
    assert has_marginal_law(Uniform(1)) and has_marginal_law(SmoothDensity(1, s=1.0))
    assert not has_marginal_law(Uniform(2))
    assert not has_marginal_law(make_truth("gmm_ring"))
    with pytest.raises(ValueError, match="1-D law"):
        MarginalLaw(Uniform(3))


def test_w1_law_agrees_with_sampled_w1_within_its_floor():
    # |W1(mu_n, nu_m) - W1(mu_n, mu)| <= W1(nu_m, mu) (triangle inequality), and in 1-D
    # E W1(nu_m, mu) = int E|F_m - F| <= int sqrt(F (1 - F) / m) dx = (pi / 4) / sqrt(m)
    # for U[-1, 1] (2 * int_0^1 sqrt(u (1 - u)) du = pi / 4): 0.0056 at m = 20000.
    # 0.03 is 5.4 times that mean bound.
    g = torch.Generator().manual_seed(0)
    truth = Uniform(1)
    x = truth.sample(200, generator=g).numpy()
    y = truth.sample(20000, generator=g).numpy()
    exact = M.wasserstein(x, MarginalLaw(truth), p=1, method="1d")
    sampled = M.wasserstein(x, y, p=1, method="1d")
    assert abs(exact - sampled) <= 0.03
