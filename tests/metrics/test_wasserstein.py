"""wasserstein(): exact, 1-D, known-law, sliced and Sinkhorn against closed forms and POT/scipy."""

import numpy as np
import ot
import pytest
import torch
from scipy import stats

from metrics import projection_bank, wasserstein

# Exact float64 computations (sorting, the network simplex on the same cost) agree to
# rounding: ~1e-15 relative on O(1) values; 1e-10 leaves room for summation order.
EXACT = 1e-10
# Known-law quadrature: GL16 on smooth pieces and QUADPACK at epsabs 1e-13 on the tails.
QUAD = 1e-8


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("method,d", [("exact", 1), ("exact", 3), ("1d", 1)])
def test_shift_equals_shift(p, method, d):
    # W_p(mu, mu(. - c)) = |c| for p >= 1: >= by Jensen on the means, = by the translation coupling.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, d))
    c = np.linspace(0.3, 0.9, d)
    assert abs(wasserstein(x, x + c, p=p, method=method) - np.linalg.norm(c)) < EXACT


def test_exact_equals_pot_emd2():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(60, 2)), rng.normal(1.0, 2.0, size=(45, 2))
    a, b = np.full(60, 1 / 60), np.full(45, 1 / 45)
    assert abs(wasserstein(x, y, p=1) - ot.emd2(a, b, ot.dist(x, y, "euclidean"))) < EXACT
    assert abs(wasserstein(x, y, p=2) - np.sqrt(ot.emd2(a, b, ot.dist(x, y, "sqeuclidean")))) < EXACT
    wa = rng.random(60)
    wa /= wa.sum()
    assert abs(wasserstein(x, y, p=1, weights_x=wa) - ot.emd2(wa, b, ot.dist(x, y, "euclidean"))) < EXACT


def test_1d_equals_scipy_and_exact():
    rng = np.random.default_rng(2)
    u, v = rng.normal(size=37), rng.standard_t(3, size=52)
    wu, wv = rng.random(37), rng.random(52)
    wu, wv = wu / wu.sum(), wv / wv.sum()
    assert abs(wasserstein(u, v, method="1d") - stats.wasserstein_distance(u, v)) < EXACT
    assert abs(wasserstein(u, v, method="1d", weights_x=wu, weights_y=wv)
               - stats.wasserstein_distance(u, v, wu, wv)) < EXACT
    # p = 2 (scipy has none): the LP on the same weighted measures is exact too.
    assert abs(wasserstein(u, v, p=2, method="1d", weights_x=wu, weights_y=wv)
               - wasserstein(u, v, p=2, method="exact", weights_x=wu, weights_y=wv)) < EXACT


def test_torch_and_numpy_alike():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(30, 2)), rng.normal(size=(40, 2))
    assert wasserstein(torch.from_numpy(x), torch.from_numpy(y)) == wasserstein(x, y)


@pytest.mark.parametrize("mu", [0.0, 0.7, -1.5])
def test_known_law_single_point_closed_forms(mu):
    # W_p(delta_0, N(mu, 1))^p = E|Z + mu|^p: folded-normal mean for p = 1, 1 + mu^2 for p = 2.
    w1 = np.sqrt(2 / np.pi) * np.exp(-mu**2 / 2) + mu * (1 - 2 * stats.norm.cdf(-mu))
    assert abs(wasserstein([0.0], stats.norm(mu), method="1d") - w1) < QUAD
    assert abs(wasserstein([0.0], stats.norm(mu, 1), p=2, method="1d") - np.sqrt(1 + mu**2)) < QUAD
    # A bare quantile function gives the same value (sign changes found by bisection).
    assert abs(wasserstein([0.0], stats.norm(mu).ppf, p=2, method="1d") - np.sqrt(1 + mu**2)) < QUAD


def test_known_law_analytic_gaussian_distances():
    # x is the N(0,1) quantile grid; by the triangle inequality
    # |W(x, Q) - W(N(0,1), Q)| <= W(x, N(0,1)), which the same function computes.
    n = 20_000
    x = stats.norm.ppf((np.arange(n) + 0.5) / n)
    mu, s = 0.8, 1.7
    r1 = wasserstein(x, stats.norm(), method="1d")
    assert abs(wasserstein(x, stats.norm(mu), method="1d") - abs(mu)) <= r1 + QUAD
    r2 = wasserstein(x, stats.norm(), p=2, method="1d")
    assert abs(wasserstein(x, stats.norm(0, s), p=2, method="1d") - abs(1 - s)) <= r2 + QUAD
    # Exact identity for p = 2: W2^2(x, N(0, s^2)) = mean(x^2) - 2 s B + s^2 with B = int F^-1 Phi^-1,
    # B read off the s = 1 value; checks the quadrature at scale s to QUAD.
    b = (np.mean(x**2) + 1 - r2**2) / 2
    assert abs(wasserstein(x, stats.norm(0, s), p=2, method="1d") ** 2 - (np.mean(x**2) - 2 * s * b + s**2)) < QUAD


# ----------------------------------------------------------------------------- sliced


def test_sliced_equals_pot_with_same_projections():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(300, 3)), rng.normal(0.5, 1.0, size=(300, 3))
    bank = projection_bank(3, 40, seed=7)
    for p in (1, 2):
        ours = wasserstein(x, y, p=p, method="sliced", n_projections=40, seed=7)
        pot = ot.sliced_wasserstein_distance(x, y, p=p, projections=bank.T)
        assert abs(ours - pot) < EXACT


def test_sliced_unequal_sizes_equal_1d_per_projection():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(130, 2)), rng.normal(size=(77, 2))
    bank = projection_bank(2, 25, seed=3)
    per = [wasserstein(x @ t, y @ t, p=2, method="1d") ** 2 for t in bank]
    assert abs(wasserstein(x, y, p=2, method="sliced", n_projections=25, seed=3) - np.sqrt(np.mean(per))) < EXACT


def test_projection_bank_fixed_by_seed_and_dimension():
    assert np.array_equal(projection_bank(5, 10, 1), projection_bank(5, 10, 1))
    assert not np.array_equal(projection_bank(5, 10, 1), projection_bank(5, 10, 2))


def _sliced_w2_closed_form(bank, dm, s1, s2):
    # Projected laws are N(<t, m_i>, t' S_i t): W2^2 = <t, dm>^2 + (sqrt(t'S1t) - sqrt(t'S2t))^2.
    v1 = np.einsum("kd,de,ke->k", bank, s1, bank)
    v2 = np.einsum("kd,de,ke->k", bank, s2, bank)
    return (bank @ dm) ** 2 + (np.sqrt(v1) - np.sqrt(v2)) ** 2


def test_sliced_w2_between_gaussians_matches_closed_form():
    d, k, n, reps = 3, 50, 20_000, 8
    dm = np.array([1.0, -0.5, 0.25])
    s2 = np.diag([1.0, 2.25, 0.49])
    bank = projection_bank(d, k, seed=0)
    exact_bank = np.sqrt(np.mean(_sliced_w2_closed_form(bank, dm, np.eye(d), s2)))
    vals = []
    for r in range(reps):
        rng = np.random.default_rng(100 + r)
        x = rng.normal(size=(n, d))
        y = dm + rng.normal(size=(n, d)) * np.sqrt(np.diag(s2))
        vals.append(wasserstein(x, y, p=2, method="sliced", n_projections=k))
    # Sampling CI over independent replicates, 99.9% two-sided t; the O(log n / n) bias of the
    # empirical W2 (~1e-4 here) is far below the standard error (~5e-3).
    se = np.std(vals, ddof=1) / np.sqrt(reps)
    assert abs(np.mean(vals) - exact_bank) < stats.t.ppf(0.9995, reps - 1) * se
    # Bank average vs the sphere average: for S1 = I, S2 = diag(s^2), E_theta over the sphere of
    # the closed form is |dm|^2/d + E(1 - sqrt(t'S2t))^2; compare the bank's mean of W2^2 against
    # a 2*10^5-direction estimate (its own MC error is sqrt(50/2e5) ~ 2% of the bank's) within the bank's own Monte Carlo CI (99.9%).
    per = _sliced_w2_closed_form(bank, dm, np.eye(d), s2)
    sphere = np.mean(_sliced_w2_closed_form(projection_bank(d, 200_000, seed=99), dm, np.eye(d), s2))
    assert abs(per.mean() - sphere) < stats.norm.ppf(0.9995) * per.std(ddof=1) / np.sqrt(k)


# ----------------------------------------------------------------------------- sinkhorn


def test_sinkhorn_shift_is_exact_for_quadratic_cost():
    # For C = |x - y|^2, OT_eps(a, a(. - c)) = OT_eps(a, a) + |c|^2 (the cross term integrates to 0),
    # so S_eps = |c|^2 for every eps. Error: marginals within tol = 1e-7 in L2 move the value by
    # <= sqrt(n) tol max C ~ 1e-5 on W2^2; 1e-5 on W2 = 1.12.
    rng = np.random.default_rng(6)
    x = rng.normal(size=(60, 2))
    c = np.array([1.0, 0.5])
    assert abs(wasserstein(x, x + c, p=2, method="sinkhorn") - np.linalg.norm(c)) < 1e-5


def test_sinkhorn_close_to_exact_within_entropic_bound():
    # OT <= OT_eps <= OT + eps log(n) (KL(P | a b) <= log n for a coupling), and OT(x, x) = 0,
    # so |S_eps - W_p^p| <= eps log n (+ the 1e-5 convergence slack above).
    rng = np.random.default_rng(7)
    n, eps = 60, 0.1
    x, y = rng.normal(size=(n, 2)), rng.normal(0.3, 1.0, size=(n, 2))
    s = wasserstein(x, y, p=2, method="sinkhorn", reg=eps) ** 2
    w = wasserstein(x, y, p=2) ** 2
    assert abs(s - w) <= eps * np.log(n) + 1e-5


def test_exact_raises_when_pot_stops_early():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(100, 2)), rng.normal(size=(100, 2))
    with pytest.raises(RuntimeError, match="optimality"):
        wasserstein(x, y, num_iter_max=10)


def test_max_points_guard():
    x = np.zeros((101, 1))
    with pytest.raises(ValueError, match="max_points"):
        wasserstein(x, x, max_points=100)
