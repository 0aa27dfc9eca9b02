"""The KDE's expected TV: its moments against closed forms, the normal approximation, and the sweep slopes."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from genlab.baselines import GaussianKDE
from genlab.baselines.bandwidth import theory as theory_rule
from genlab.distributions import make_truth
from genlab.theory import folded_normal_mean, kde_expected_tv, ols_slope
from genlab.theory.kde_risk import kde_moments, theory_bandwidth

SWEEP = [250, 500, 1000, 2000, 4000, 8000]   # the issue's n = 250 ... 8000


# -- the pieces ------------------------------------------------------------------------
@pytest.mark.parametrize("b,sigma", [(0.0, 1.0), (0.3, 1.0), (-2.0, 0.5), (1e-3, 2.0), (5.0, 0.1)])
def test_folded_normal_mean_against_quadrature(b, sigma):
    want, err = integrate.quad(lambda z: abs(b + sigma * z) * stats.norm.pdf(z), -40, 40, points=[-b / sigma],
                               epsabs=1e-13, epsrel=1e-13)
    assert float(folded_normal_mean(b, sigma)) == pytest.approx(want, abs=1e-12 + 10 * err)


def test_folded_normal_mean_without_noise_is_abs():
    np.testing.assert_array_equal(folded_normal_mean([-0.5, 0.0, 2.0], 0.0), [0.5, 0.0, 2.0])


def test_bandwidth_is_the_runs_theory_rule():
    for n, d, s in [(250, 1, 1.0), (8000, 2, 0.5), (16000, 1, 2.0)]:
        assert theory_bandwidth(n, d, s) == theory_rule(n, d, s=s)


@pytest.mark.parametrize("dim,grid", [(1, 401), (2, 101)])
def test_reflection_of_the_uniform_law_has_no_bias(dim, grid):
    # Reflection maps midpoints to midpoints, so sum_j K_refl(x_i, y_j) dx is a Gaussian summed over a
    # lattice of step dx: 1 up to Poisson-summation terms exp(-2 pi^2 h^2 / dx^2) (here < e^-2000)
    # and the dropped images (< e^-42): E p_hat = f = 2^-d exactly in float64 (1e-12 for rounding).
    truth = make_truth("uniform", dim=dim)
    h = 0.15
    mom = kde_moments(truth, h, boundary="reflect", grid=grid)
    np.testing.assert_allclose(mom["m1"], 2.0 ** -dim, rtol=1e-12)
    assert mom["leak"] == 0.0
    # Far (> 8h) from every face the folded kernel is one Gaussian: K_h^2 f = 2^-d (4 pi h^2)^(-d/2),
    # the cross terms with the images being below e^-64.
    inner = np.abs(mom["x1"]) < 1.0 - 8 * h
    sel = np.ix_(*([inner] * dim))
    np.testing.assert_allclose(mom["m2"][sel], 2.0 ** -dim * (4 * math.pi * h * h) ** (-dim / 2), rtol=1e-12)


def test_plain_kernel_on_the_uniform_law_against_closed_forms():
    # f = 1/L on [0, L] (L = 2 here): E p_hat(x) = (Phi((high - x)/h) - Phi((low - x)/h)) / L, and the leaked
    # mass is 1 - int E p_hat = 2 (1 - Phi(A)) + (2h/L)(phi(0) - phi(A)), A = L / h.
    truth = make_truth("uniform", dim=1)
    h, grid, L = 0.2, 1001, 2.0
    mom = kde_moments(truth, h, boundary="none", grid=grid)
    x = mom["x1"]
    want = (stats.norm.cdf((1 - x) / h) - stats.norm.cdf((-1 - x) / h)) / L
    dx = L / grid
    # midpoint rule on [low, high] for the cut-off Gaussian: |error| <= L dx^2 / 24 max|g''| with
    # g = phi_h / L, max|phi_h''| = phi(0) / h^3, i.e. dx^2 / (24 sqrt(2 pi) h^3)
    np.testing.assert_allclose(mom["m1"], want, atol=dx ** 2 / (24 * math.sqrt(2 * math.pi) * h ** 3), rtol=0)
    a = L / h
    leak = 2 * stats.norm.sf(a) + 2 * h / L * (stats.norm.pdf(0) - stats.norm.pdf(a))
    # same rule for int f(y) P(y + hZ in cube): the integrand's second derivative is <= 2 phi'(1) / h^2 / L
    # (max |phi'| = phi(1)), so |error| <= L dx^2 / 24 * 2 phi(1) / (h^2 L)
    assert mom["leak"] == pytest.approx(leak, abs=dx ** 2 / 12 * stats.norm.pdf(1) / h ** 2)


def test_plain_kernel_tv_counts_half_the_leaked_mass():
    # the uniform law's plain KDE at a huge n: variance ~0, so E TV = (1/2) int |b| + leak / 2, and
    # int_cube b = -leak with b < 0 everywhere (the mean is below 1/L near the faces, equal inside):
    # E TV = leak, to the O(sigma) terms that vanish as n -> infinity (here sigma / f ~ 1e-5)
    truth = make_truth("uniform", dim=1)
    h = 0.1
    tv = kde_expected_tv(truth, [10 ** 12], bandwidth=h, boundary="none", grid=1001)[0]
    leak = kde_moments(truth, h, boundary="none", grid=1001)["leak"]
    assert tv == pytest.approx(leak, rel=1e-4)


# -- the sweep slopes ---------------------------------------------------------------------
@pytest.mark.parametrize("s,slope", [(1.0, -0.31754), (0.5, -0.2436)])
def test_expected_kde_slope_over_the_issue_sweep(s, slope):
    """Reflection KDE, theory bandwidth (c = 1), on the s-smooth 1-D truth, n = 250 ... 8000.

    The values were computed with 801, 1001, 3001 and 6001 nodes; they agree to 3e-4 at s = 0.5
    (a rough truth: the grid moves the quadrature by that much) and to 1e-5 at s = 1, hence the
    tolerance 5e-4 at 801 nodes.  Issue 14 quotes -0.304 and -0.237; these are not reproduced
    (-0.3175 and -0.2436 here; the Monte Carlo check below agrees with these values at n = 250).
    The asymptotic exponents are -1/3 and -1/4.
    """
    truth = make_truth("smooth", dim=1, s=s)
    tv = kde_expected_tv(truth, SWEEP, boundary="reflect", grid=801)
    assert ols_slope(SWEEP, tv) == pytest.approx(slope, abs=5e-4)
    assert np.all(np.diff(tv) < 0)


def test_expected_kde_slope_in_2d_on_the_product_truth():
    # kde_smooth's grid at d = 2, s = 1 (the product truth of today): grid 101, 301 and 601 agree to 1e-4
    ns = [250, 500, 1000, 2000, 4000, 8000, 16000]
    tv = kde_expected_tv(make_truth("smooth", dim=2, s=1.0), ns, boundary="reflect", grid=101)
    assert ols_slope(ns, tv) == pytest.approx(-0.2366, abs=2e-4)


def test_normal_approximation_error_is_small_over_the_sweep():
    # First Edgeworth term of E|b + sigma Y| for Y of skewness gamma: -(gamma / 3) b phi(b / sigma)
    # (E g(Y) ~ E g(Z) + gamma/6 E g'''(Z)); its integral bounds the approximation's first-order error.
    truth = make_truth("smooth", dim=1, s=1.0)
    for n in (SWEEP[0], SWEEP[-1]):
        mom = kde_moments(truth, theory_bandwidth(n, 1, 1.0), boundary="reflect", grid=801)
        b = mom["m1"] - mom["f"]
        var1 = np.maximum(mom["m2"] - mom["m1"] ** 2, 1e-300)
        k3 = mom["m3"] - 3 * mom["m1"] * mom["m2"] + 2 * mom["m1"] ** 3
        gamma = k3 / (var1 ** 1.5 * math.sqrt(n))
        sigma = np.sqrt(var1 / n)
        edge = 0.5 * np.sum(np.abs(gamma / 3 * b * stats.norm.pdf(b / sigma))) * mom["cell"]
        tv = kde_expected_tv(truth, [n], boundary="reflect", grid=801)[0]
        assert edge / tv < 0.01   # measured 0.5% at n = 250, 0.2% at n = 8000


@pytest.mark.slow
def test_expected_tv_matches_the_real_kde_by_monte_carlo():
    # 200 reflection KDEs (genlab.baselines.GaussianKDE) at n = 250; TV of each by midpoint quadrature
    # on 601 nodes.  The mean must lie within 4 standard errors of the prediction (normal approximation
    # error < 1% by the test above, quadrature < 1e-4).
    truth = make_truth("smooth", dim=1, s=1.0)
    n, reps, grid = 250, 200, 601
    x = torch.as_tensor((-1 + (np.arange(grid) + 0.5) * 2 / grid)[:, None])
    f = torch.exp(truth.log_prob(x)).numpy()
    gen = torch.Generator().manual_seed(7)
    tvs = []
    for _ in range(reps):
        kde = GaussianKDE(truth.sample(n, generator=gen), theory_rule(n, 1, s=1.0), boundary="reflect",
                          bounds=(-1.0, 1.0))
        tvs.append(0.5 * np.abs(torch.exp(kde.log_prob(x)).numpy() - f).sum() * 2 / grid)
    tvs = np.asarray(tvs)
    want = kde_expected_tv(truth, [n], boundary="reflect", grid=801)[0]
    assert abs(tvs.mean() - want) < 4 * tvs.std(ddof=1) / math.sqrt(reps)


@pytest.mark.parametrize("kw,name", [
    (dict(bandwidth="scott"), "bandwidth"), (dict(bandwidth=-1.0), "bandwidth"), (dict(c=0.0), "c"),
    (dict(boundary="periodic"), "boundary"), (dict(grid=0), "grid"),
])
def test_bad_input_names_the_argument(kw, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        kde_expected_tv(make_truth("smooth", dim=1, s=1.0), [100], **kw)


def test_a_truth_off_the_cube_is_refused():
    with pytest.raises(ValueError, match="^truth must have a density on a cube"):
        kde_expected_tv(make_truth("gmm_anisotropic"), [100], bandwidth=0.1)


def test_any_truth_with_log_prob_on_the_cube_the_non_separable_one():
    # SmoothJointDensity (issue 14, item 4) read only through log_prob, low, high, smoothness; over
    # n = 250, 1000, 4000, 16000 the slope is -0.25193 at 301 nodes and -0.25195 at 101: tolerance 1e-4
    truth = make_truth("smooth_joint", dim=2, s=1.0)
    ns = [250, 1000, 4000, 16000]
    tv = kde_expected_tv(truth, ns, boundary="reflect", grid=101)
    assert ols_slope(ns, tv) == pytest.approx(-0.2519, abs=1e-4)
