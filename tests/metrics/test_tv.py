"""Total variation estimators against TV(N(0,1), N(1,1)) = 2 Phi(1/2) - 1."""

import numpy as np
import pytest
from scipy import stats

from metrics import (
    total_variation,
    tv_classifier_lower_bound,
    tv_density_samples,
    tv_histogram,
    tv_monte_carlo,
    tv_quadrature,
)

TV_SHIFT1 = 2 * stats.norm.cdf(0.5) - 1


def log_n(mu, d=1):
    return lambda x: stats.norm.logpdf(x, loc=np.r_[mu, np.zeros(d - 1)]).sum(axis=1)


def test_quadrature_1d():
    # Pieces split at the root x = 1/2, GL16 on smooth pieces: ~1e-15; the mass outside
    # [-15, 16] is ~1e-50. Tolerance 1e-8 as specified.
    e = tv_quadrature(log_n(0.0), log_n(1.0), (-15, 16))
    assert abs(e.value - TV_SHIFT1) < 1e-8
    assert e.ci_low <= TV_SHIFT1 <= e.ci_high + 1e-12


def test_quadrature_2d():
    # A shift along one axis: TV is the 1-D value. The tensor rule's kink error is O(h^2)
    # with h = 16/128 on a curve of length ~16: 1e-4 is a bound on that order, not a fit.
    e = tv_quadrature(log_n(0.0, 2), log_n(1.0, 2), [(-7.5, 8.5), (-8, 8)])
    assert abs(e.value - TV_SHIFT1) < 1e-4


def test_monte_carlo_within_its_ci():
    x = np.random.default_rng(0).normal(size=(200_000, 1))
    e = tv_monte_carlo(log_n(0.0)(x), log_n(1.0)(x), alpha=0.001)
    assert e.ci_low <= TV_SHIFT1 <= e.ci_high
    assert e.ci_high - e.ci_low < 0.01
    d = total_variation(log_p=log_n(0.0), log_q=log_n(1.0), x=x, alpha=0.001)
    assert d.value == e.value


@pytest.mark.parametrize("d", [1, 5])
def test_classifier_bound_never_exceeds_true_tv(d):
    # TV of a unit shift along one axis is the 1-D value in any d. The raw bound estimates
    # TPR + TNR - 1 <= TV; at 99.9% the lower CI end exceeds TV with probability <= 5e-4 per seed.
    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(2000, d))
        y = rng.normal(size=(2000, d))
        y[:, 0] += 1.0
        e = tv_classifier_lower_bound(x, y, alpha=0.001, seed=seed)
        assert e.lower_bound
        assert e.ci_low <= TV_SHIFT1
        assert e.value > 0.15  # and it does detect the shift
        assert "LOWER BOUND" in e.note


def test_classifier_bound_near_zero_on_identical_laws():
    for seed in range(4):
        rng = np.random.default_rng(10 + seed)
        e = tv_classifier_lower_bound(rng.normal(size=(1000, 3)), rng.normal(size=(1000, 3)), alpha=0.001, seed=seed)
        assert e.ci_low == 0.0  # the 99.9% interval reaches 0 (clipped)


def test_histogram_exact_on_bin_constant_densities():
    # p = U(0,1), q = U(1/2, 3/2) are constant on the bins {[0,.5),[.5,1),[1,1.5]}: binned TV = TV = 1/2.
    # Sampling error: E|P_n(b) - P(b)| <= sqrt(P(b)(1-P(b))/n); sum over the 3 bins and both
    # samples, halved, is <= 0.5 * 4 * 0.5/sqrt(n); 4x that is a few standard errors.
    rng = np.random.default_rng(1)
    n = 20_000
    x, y = rng.uniform(0, 1, size=n), rng.uniform(0.5, 1.5, size=n)
    e = tv_histogram(x, y, bins=[0.0, 0.5, 1.0, 1.5])
    assert abs(e.value - 0.5) < 4 * 0.5 * 4 * 0.5 / np.sqrt(n)


def test_histogram_default_bins_near_truth():
    rng = np.random.default_rng(2)
    n = 50_000
    e = tv_histogram(rng.normal(size=n), rng.normal(1.0, 1.0, size=n))
    # Freedman-Diaconis bins (~50): binning bias O(h) and noise O(sqrt(bins/n)) are both < 0.03.
    assert abs(e.value - TV_SHIFT1) < 0.03
    p = tv_density_samples(log_n(0.0), rng.normal(1.0, 1.0, size=n))
    assert abs(p.value - TV_SHIFT1) < 0.03


def test_classifier_bound_is_translation_invariant():
    # The k-NN ranks neighbours by squared distances; taken directly (each difference formed
    # before squaring) they are bit-identical under a shift c of points on the grid 2^-20 Z,
    # where x + c is exact for c = 1e8 < 2^27 (see tests/metrics/test_mmd.py). The expansion
    # |a|^2 + |b|^2 - 2 a.b loses c^2 eps ~ 1 per entry at c = 1e8 and reorders the neighbours.
    rng = np.random.default_rng(6)
    x = np.round(rng.normal(size=(400, 2)) * 2**20) / 2**20
    y = np.round(rng.normal(0.5, 1.0, size=(400, 2)) * 2**20) / 2**20
    c = 1e8
    assert np.array_equal((x + c) - c, x) and np.array_equal((y + c) - c, y)
    ref = tv_classifier_lower_bound(x, y, seed=1)
    shifted = tv_classifier_lower_bound(x + c, y + c, seed=1)
    assert ref.value > 0.1 and shifted.value == ref.value
