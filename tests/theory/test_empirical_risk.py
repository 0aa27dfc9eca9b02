"""The 1-D empirical measure's exact E W1: de Moivre's sum, the uniform law's Beta-integral form, a rough truth."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import betainc

from genlab.distributions import make_truth
from genlab.theory import binomial_mad, empirical_expected_w1, ols_slope


@pytest.mark.parametrize("n", [1, 2, 7, 50, 400])
def test_binomial_mad_is_de_moivres_closed_form(n):
    p = np.array([0.0, 1e-3, 0.13, 0.5, 0.77, 0.999, 1.0])
    k = np.arange(n + 1)
    direct = np.array([np.sum(np.abs(k - n * q) * stats.binom.pmf(k, n, q)) for q in p])
    np.testing.assert_allclose(binomial_mad(n, p), direct, rtol=1e-11, atol=1e-14)


def _uniform01_expected_w1(n: int) -> float:
    # E W1 = (2/n) int_0^1 E(X_u - n u)_+ du, X_u ~ Bin(n, u); for each k the u-integral is an incomplete
    # Beta: C(n,k) B(k+1, n-k+1) = 1/(n+1) and C(n,k) B(k+2, n-k+1) = (k+1)/((n+1)(n+2)), so
    # E W1 = (2/n) sum_k [k/(n+1) I_{k/n}(k+1, n-k+1) - n(k+1)/((n+1)(n+2)) I_{k/n}(k+2, n-k+1)].
    k = np.arange(n + 1)
    u = k / n
    return 2 / n * float(np.sum(k / (n + 1) * betainc(k + 1, n - k + 1, u)
                                - n * (k + 1) / ((n + 1) * (n + 2)) * betainc(k + 2, n - k + 1, u)))


@pytest.mark.parametrize("n", [1, 2, 3, 16, 100, 1000, 16000])
def test_uniform_law_against_the_beta_integral_form(n):
    # F is linear, so the piecewise Gauss-Legendre rule integrates a smooth function between kinks: exact
    # to rounding (the sum over k has n terms of size 1/n: 1e-13 relative)
    got = empirical_expected_w1(make_truth("uniform", dim=1, low=0.0, high=1.0), [n])[0]
    assert got == pytest.approx(_uniform01_expected_w1(n), rel=1e-12)


def test_small_n_by_hand_and_scale_equivariance():
    # n = 1: int_0^1 E|1{X <= u} - u| du = int 2u(1-u) du = 1/3; n = 2: 11/48 (the Beta form above)
    unit = make_truth("uniform", dim=1, low=0.0, high=1.0)
    np.testing.assert_allclose(empirical_expected_w1(unit, [1, 2]), [1 / 3, 11 / 48], rtol=1e-14)
    # W1 scales with the support: [-1, 1] doubles it
    wide = empirical_expected_w1(make_truth("uniform", dim=1), [10, 300])
    np.testing.assert_allclose(wide, 2 * empirical_expected_w1(unit, [10, 300]), rtol=1e-12)


def test_a_rough_truth_against_a_brute_force_sum():
    # s = 0.5 truth, n = 12: E|F_n - F| = sum_k |k/n - F| pmf(k) at 400001 midpoints of a fine mesh,
    # F by the trapezoid rule on the same mesh.  The midpoint rule's error at the n - 1 kinks is
    # O(n dx^2 max|slope jump|) ~ 12 * (5e-6)^2 * 24 ~ 1e-8, and F's own trapezoid error is the same
    # for both; hence 1e-6 relative.
    truth = make_truth("smooth", dim=1, s=0.5)
    n = 12
    x = np.linspace(-1, 1, 400002)
    f = torch.exp(truth.log_prob(torch.as_tensor(x[:, None]))).numpy()
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])
    cdf /= cdf[-1]
    mid = 0.5 * (cdf[1:] + cdf[:-1])
    k = np.arange(n + 1)
    brute = np.sum(np.abs(k[None, :] / n - mid[:, None]) * stats.binom.pmf(k[None, :], n, mid[:, None]),
                   axis=1).sum() * (x[1] - x[0])
    assert empirical_expected_w1(truth, [n])[0] == pytest.approx(brute, rel=1e-6)


def test_finite_n_slope_is_close_to_minus_one_half():
    # n^(1/2) E W1 -> sqrt(2/pi) int sqrt(F(1 - F)) = sqrt(pi/32) on [0, 1] (Bobkov & Ledoux 2019);
    # the correction is O(1/n), so over n = 16 ... 256 the OLS slope is -1/2 to about 1/(16 log 16) ~ 0.02
    ns = [16, 32, 64, 128, 256]
    e = empirical_expected_w1(make_truth("uniform", dim=1), ns)
    slope = ols_slope(ns, e)
    assert -0.52 < slope < -0.5
    assert slope == pytest.approx(-0.50157, abs=1e-5)   # the value, exact to rounding
    big = empirical_expected_w1(make_truth("uniform", dim=1, low=0.0, high=1.0), [16000])[0]
    assert big * math.sqrt(16000) == pytest.approx(math.sqrt(math.pi / 32), rel=1e-4)


def test_bad_input():
    with pytest.raises(ValueError, match="^truth must be a 1-D law"):
        empirical_expected_w1(make_truth("uniform", dim=2), [10])
    with pytest.raises(ValueError, match="^ns "):
        empirical_expected_w1(make_truth("uniform", dim=1), [0])
