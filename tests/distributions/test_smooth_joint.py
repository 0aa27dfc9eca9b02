"""SmoothJointDensity: the lacunary series over random frequency vectors -- its
coefficients, exact Fourier content and normalisation, bounds, non-separability,
score, sampler, the d = 1 reduction to SmoothDensity, and the h^s decay of a
smoothing's bias along random directions.

Tolerances (each derived where it is used):
- coefficients: exact float64 arithmetic on a few numbers, 1e-15 relative;
- Fourier content: the N-point periodic trapezoid rule per axis integrates
  e^{i pi m . x} exactly when every |m_i| < N, and the DFT at frequency m
  collects only m + N Z^d, so with every |k_{j,i}| < N/2 each coefficient
  comes out exactly up to rounding ~ N^d eps ~ 1e-12 at N^d = 2^18; 1e-12;
- mixed differences: zero for a product up to the rounding of four log-density
  values (each ~ 1e-15); the joint truth's are asserted to be >= 1e-3, 10^10
  times that rounding;
- score vs central differences: Taylor remainder eta^2 M3 / 6 plus rounding
  eps_lp / eta, with M3 bounded from the coefficients (see the test);
- Monte Carlo: chi-square and KS p-values > 1e-3 (a false alarm rate of 1e-3
  per test); the power controls must give p < 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import special, stats

from genlab.distributions import (Distribution, SmoothDensity, SmoothJointDensity, Uniform,
                                  make_truth)


def _b(a: float, s: float, J: int) -> np.ndarray:
    """The declared amplitudes b_j = a 2^{-js} / c_s, recomputed here from (a, s, J)."""
    decay = 2.0 ** (-np.arange(J) * s)
    return a * decay / decay.sum()


# -- coefficients ------------------------------------------------------------

@pytest.mark.parametrize("dim, s, a, J", [(2, 0.5, 0.5, 24), (3, 1.0, 0.9, 12), (5, 2.5, 0.3, 10),
                                          (10, 1.5, 0.5, 8), (1, 1.0, 0.5, 24)])
def test_coefficients_are_one_frequency_vector_per_dyadic_annulus(dim, s, a, J):
    law = SmoothJointDensity(dim, s, amplitude=a, n_terms=J, seed=3)
    c = law.coefficients
    torch.testing.assert_close(c["amplitudes"], torch.as_tensor(_b(a, s, J)), rtol=1e-15, atol=0)
    k = c["frequencies"]
    assert k.shape == (J, dim) and torch.equal(k, k.round())
    r2 = (k**2).sum(1)
    j = torch.arange(J, dtype=torch.float64)
    assert ((r2 >= 2.0 ** (2 * j - 0.5)) & (r2 < 2.0 ** (2 * j + 0.5))).all()
    first = k[torch.arange(J), (k != 0).int().argmax(1)]
    assert (first > 0).all()  # canonical sign; with disjoint annuli no k_i = +-k_j
    assert ((c["phases"] >= 0) & (c["phases"] < 2 * math.pi)).all()
    # the phases are SmoothDensity's (drawn first from the same generator)
    assert torch.equal(c["phases"], SmoothDensity(dim, s, n_terms=J, seed=3).coefficients["phases"])


def test_frequencies_seeded_and_mixing():
    a = SmoothJointDensity(3, 1.0, seed=5).coefficients["frequencies"]
    assert torch.equal(a, SmoothJointDensity(3, 1.0, seed=5).coefficients["frequencies"])
    assert not torch.equal(a, SmoothJointDensity(3, 1.0, seed=6).coefficients["frequencies"])
    # most scales couple coordinates: at least 20 of the 24 k_j have >= 2 nonzero entries
    assert int(((a != 0).sum(1) >= 2).sum()) >= 20


@pytest.mark.parametrize("dim, J, N", [(2, 6, 128), (3, 5, 64)])
def test_density_has_exactly_the_declared_fourier_coefficients(dim, J, N):
    # |k_{j,i}| <= |k_j| < 2^{J - 3/4} < N/2, so no frequency aliases on the N^d grid.
    # With u_n = -1 + 2n/N, ghat(m) = N^{-d} sum_n g(u_n) e^{-i pi m.u_n}
    # = (-1)^{sum m} fftn(g)[m mod N] / N^d; it is 1 at m = 0 (so p integrates
    # to exactly 1), b_j e^{+-i phi_j} / 2 at m = +-k_j, and 0 elsewhere.
    law = SmoothJointDensity(dim, 0.7, amplitude=0.8, n_terms=J, seed=4)
    c = law.coefficients
    assert float(c["frequencies"].abs().max()) < N / 2
    u = -1.0 + 2.0 * torch.arange(N, dtype=torch.float64) / N
    pts = torch.stack([m.reshape(-1) for m in torch.meshgrid(*[u] * dim, indexing="ij")], 1)
    g = (2.0**dim * law.log_prob(pts).exp()).reshape((N,) * dim).numpy()
    ghat = np.fft.fftn(g) / N**dim
    m = np.stack(np.meshgrid(*[np.fft.fftfreq(N, 1.0 / N)] * dim, indexing="ij"), 0)  # (d, N, ..)
    ghat = ghat * (-1.0) ** m.sum(0)
    expected = np.zeros_like(ghat)
    expected[(0,) * dim] = 1.0
    for kj, bj, pj in zip(c["frequencies"].long().numpy(), c["amplitudes"].numpy(), c["phases"].numpy()):
        expected[tuple(kj % N)] = bj * np.exp(1j * pj) / 2
        expected[tuple(-kj % N)] = bj * np.exp(-1j * pj) / 2
    assert abs(ghat[(0,) * dim] - 1.0) <= 1e-12  # normalisation
    assert np.abs(ghat - expected).max() <= 1e-12


@pytest.mark.parametrize("dim", [2, 4])
def test_default_series_integrates_to_one(dim, gen):
    # J = 24 is beyond any grid: int p = E_U[2^d p(U)] for U uniform on the cube,
    # estimated by the mean of g(U) over 4e5 draws, within 5 standard errors of 1
    # (the exact value, every term integrating to 0).
    law = SmoothJointDensity(dim, 0.5, amplitude=0.9, seed=0)
    u = 2.0 * torch.rand(400_000, dim, generator=gen(5), dtype=torch.float64) - 1.0
    g = 2.0**dim * law.prob(u)
    assert abs(float(g.mean()) - 1.0) <= 5 * float(g.std()) / math.sqrt(g.numel())


@pytest.mark.parametrize("dim, s, a", [(2, 0.25, 0.5), (3, 1.0, 0.95), (2, 3.0, 0.5)])
def test_bounds(dim, s, a, gen):
    law = SmoothJointDensity(dim, s, amplitude=a, n_terms=20, seed=2)
    x = 2.0 * torch.rand(400_000, dim, generator=gen(0), dtype=torch.float64) - 1.0
    g = law.g(x)
    eps = 1e-13  # rounding of a 20-term sum of numbers <= 1, plus the angle error (docstring)
    assert g.min() >= 1 - a - eps and g.max() <= 1 + a + eps
    assert (g - 1).abs().max() >= a / 2  # the series comes near its bounds for these seeds
    lp = law.log_prob(x)
    torch.testing.assert_close(lp, torch.log(g) - dim * math.log(2.0), rtol=0, atol=1e-15)
    assert torch.isneginf(law.log_prob(torch.full((1, dim), 1.01))).all()


# -- not a product -------------------------------------------------------------

def _mixed_differences(law, x, i, l, step=0.3):
    ei = torch.zeros(law.dim, dtype=torch.float64)
    el = ei.clone()
    ei[i], el[l] = step, step
    lp = law.log_prob
    return lp(x + ei + el) - lp(x + ei) - lp(x + el) + lp(x)


@pytest.mark.parametrize("dim", [2, 3])
def test_log_density_is_not_a_sum_over_coordinates(dim, gen):
    # For a product p = prod_i p_i, log p is a sum and every mixed difference is
    # 0 up to the rounding of four log-densities (~1e-15 each): the product
    # truth gives <= 1e-13.  The joint truth's are of order a (0.5): RMS >= 1e-3
    # for every pair of coordinates.
    x = torch.rand(500, dim, generator=gen(1), dtype=torch.float64) - 0.5  # steps stay in the cube
    joint = SmoothJointDensity(dim, 1.0, seed=0)
    product = SmoothDensity(dim, 1.0, seed=0)
    for i in range(dim):
        for l in range(i + 1, dim):
            assert _mixed_differences(product, x, i, l).abs().max() <= 1e-13
            assert _mixed_differences(joint, x, i, l).pow(2).mean().sqrt() >= 1e-3


# -- score ------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [2, 3])
def test_score_is_the_finite_difference_gradient_of_log_prob(dim, gen):
    # Central difference: |(f(x + eta e_i) - f(x - eta e_i)) / (2 eta) - d_i f| <=
    # eta^2 M3 / 6 + eps_lp / eta, with M3 >= |d_i^3 log g| and eps_lp the
    # rounding of log_prob.  With G_m = sum_j b_j (pi |k_ji|)^m >= |d_i^m g|
    # and g >= 1 - a: |(log g)'''| <= G3/(1-a) + 3 G1 G2/(1-a)^2 + 2 G1^3/(1-a)^3.
    # eps_lp: g is a 9-term sum (error ~ 9 eps) plus the angle error
    # pi sqrt(d) eps sum_j b_j |k_j| (< 1e-14 here); log divides by g >= 1 - a:
    # eps_lp = 1e-14 / (1 - a) covers both.  eta minimises the bound.
    a, J = 0.5, 8
    law = SmoothJointDensity(dim, 1.0, amplitude=a, n_terms=J, seed=1)
    c = law.coefficients
    x = law.sample(200, generator=gen(2)) * 0.99  # stay eta inside the cube
    sc = law.score(x)
    eps_lp = 1e-14 / (1 - a)
    for i in range(dim):
        w = math.pi * c["frequencies"][:, i].abs()
        G1, G2, G3 = (float((c["amplitudes"] * w**m).sum()) for m in (1, 2, 3))
        M3 = G3 / (1 - a) + 3 * G1 * G2 / (1 - a) ** 2 + 2 * G1**3 / (1 - a) ** 3
        eta = (3 * eps_lp / M3) ** (1 / 3)
        e = torch.zeros(dim, dtype=torch.float64)
        e[i] = eta
        fd = (law.log_prob(x + e) - law.log_prob(x - e)) / (2 * eta)
        assert (fd - sc[:, i]).abs().max() <= eta**2 * M3 / 6 + eps_lp / eta
    auto = Distribution.score(law, x)
    assert ((sc - auto).abs() / (1.0 + sc.abs())).max() <= 1e-10
    assert torch.isnan(law.score(torch.full((1, dim), 1.5))).all()


# -- sampler -----------------------------------------------------------------------

def _cell_probabilities(law, cells: int) -> np.ndarray:
    """Exact P(cell) on a cells^d grid, from the coefficients (closed-form box integrals).

    int_box cos(pi k.x + phi) dx = Re[e^{i phi} prod_i I_i],
    I_i = (e^{i pi k_i u_i} - e^{i pi k_i l_i}) / (i pi k_i), or u_i - l_i when k_i = 0.
    """
    c = law.coefficients
    edges = np.linspace(-1.0, 1.0, cells + 1)
    lo, hi = edges[:-1], edges[1:]
    d = law.dim
    total = np.full((cells,) * d, (2.0 / cells) ** d)
    for kj, bj, pj in zip(c["frequencies"].numpy(), c["amplitudes"].numpy(), c["phases"].numpy()):
        term = np.exp(1j * pj) * np.ones((cells,) * d, dtype=complex)
        for i, ki in enumerate(kj):
            if ki == 0:
                f = hi - lo
            else:
                f = (np.exp(1j * math.pi * ki * hi) - np.exp(1j * math.pi * ki * lo)) / (1j * math.pi * ki)
            shape = [1] * d
            shape[i] = cells
            term = term * f.reshape(shape)
        total = total + bj * term.real
    return total / 2.0**d


def _chi2_pvalue(x: np.ndarray, p: np.ndarray) -> float:
    cells = p.shape[0]
    idx = np.clip(((x + 1.0) / 2.0 * cells).astype(int), 0, cells - 1)
    counts = np.zeros(p.shape)
    np.add.at(counts, tuple(idx.T), 1)
    return float(stats.chisquare(counts.ravel(), x.shape[0] * p.ravel()).pvalue)


@pytest.mark.parametrize("dim, s, cells, n", [(2, 0.5, 32, 200_000), (3, 1.0, 8, 100_000)])
def test_sampler_matches_the_density(dim, s, cells, n, gen):
    # Chi-square over cells (expected counts >= 20 each: its chi^2 law is accurate) with exact cell
    # probabilities; marginal KS against marginal_cdf.  Power controls: the
    # uniform law and the product truth with the same (s, a, seed) are rejected.
    law = SmoothJointDensity(dim, s, amplitude=0.9, seed=11)
    p = _cell_probabilities(law, cells)
    assert abs(p.sum() - 1.0) <= 1e-12 and p.min() * n >= 20
    x = law.sample(n, generator=gen(3))
    assert ((x >= -1) & (x <= 1)).all()
    assert _chi2_pvalue(x.numpy(), p) > 1e-3
    for i in range(dim):
        cdf = lambda t, i=i: law.marginal_cdf(torch.as_tensor(t), axis=i).numpy()  # noqa: E731
        assert stats.kstest(x[:, i].numpy(), cdf).pvalue > 1e-3
    for other in (Uniform(dim), SmoothDensity(dim, s, amplitude=0.9, seed=11)):
        assert _chi2_pvalue(other.sample(n, generator=gen(4)).numpy(), p) < 1e-10


def test_marginal_cdf_keeps_only_the_axis_frequencies(gauss_legendre):
    # seed 5 has one axis-aligned k_j on each axis, so no marginal is uniform
    law = SmoothJointDensity(3, 0.8, amplitude=0.6, n_terms=6, seed=5)
    for axis in range(3):
        assert abs(float(law.marginal_cdf(torch.tensor(1.0), axis=axis)) - 1.0) <= 1e-15
        assert float(law.marginal_cdf(torch.tensor(-3.0), axis=axis)) == 0.0
    # Against quadrature of the density over [-1, u] x [-1, 1]^2.  The other two
    # axes: the N-point periodic trapezoid rule integrates e^{i pi k x} exactly
    # unless k is a nonzero multiple of N; |k_{j,i}| < 2^{5.25} < 40 = N.  The
    # axis itself: Gauss-Legendre of order 10 on 64 panels of width h <= 1/32,
    # error <= h^21 (38 pi)^20 (10!)^4 / (21 (20!)^3) ~ 1e-20 per panel; 1e-13 is
    # the rounding of a 10^5-point sum.
    N = 40
    v = -1.0 + 2.0 * torch.arange(N, dtype=torch.float64) / N
    for axis in range(3):
        for u in (-0.37, 0.52):
            tn, tw = gauss_legendre(-1.0, u, 64)
            nodes, weights = [v] * 3, [torch.full((N,), 2.0 / N, dtype=torch.float64)] * 3
            nodes[axis], weights[axis] = tn, tw
            pts = torch.stack([m.reshape(-1) for m in torch.meshgrid(*nodes, indexing="ij")], 1)
            wts = torch.stack([m.reshape(-1) for m in torch.meshgrid(*weights, indexing="ij")], 1).prod(1)
            quad = float((law.log_prob(pts).exp() * wts).sum())
            cdf = float(law.marginal_cdf(torch.tensor(u, dtype=torch.float64), axis=axis))
            assert abs(cdf - quad) <= 1e-13
        grid = torch.linspace(-1.0, 1.0, 201, dtype=torch.float64)
        assert (law.marginal_cdf(grid, axis=axis) - (grid + 1) / 2).abs().max() >= 1e-3


# -- d = 1 ---------------------------------------------------------------------------

@pytest.mark.parametrize("s, a, J", [(0.5, 0.5, 24), (1.0, 0.9, 12), (2.0, 0.3, 6)])
def test_one_dimension_is_smooth_density(s, a, J, gen):
    joint = SmoothJointDensity(1, s, amplitude=a, n_terms=J, seed=3)
    product = SmoothDensity(1, s, amplitude=a, n_terms=J, seed=3)
    x = joint.sample(5000, generator=gen(0))
    assert torch.equal(x, product.sample(5000, generator=gen(0)))
    torch.testing.assert_close(joint.log_prob(x), product.log_prob(x), rtol=0, atol=1e-15)
    torch.testing.assert_close(joint.score(x), product.score(x), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(joint.marginal_cdf(x[:, 0]), product.marginal_cdf(x[:, 0]),
                               rtol=0, atol=1e-15)


# -- smoothness s along random directions --------------------------------------------

def _e_exp(lam: np.ndarray, d: int) -> np.ndarray:
    """E exp(-lam c^2) for c = u . e, u uniform on S^{d-1} (d = 2: cos theta; d = 3: c ~ U[-1, 1])."""
    if d == 2:
        return special.i0e(lam / 2)  # e^{-lam/2} I_0(lam/2)
    r = np.sqrt(lam)
    return np.where(r > 0, math.sqrt(math.pi) * special.erf(r) / (2 * np.maximum(r, 1e-300)), 1.0)


def _bias_envelope(h: np.ndarray, a: float, s: float, J: int, d: int) -> np.ndarray:
    """S(h) = 4^{-d} sum_j (b_j^2 / 2) F(pi h 2^j), F(y) = E_c (1 - e^{-y^2 c^2 / 2})^2.

    Smoothing ``p = g / 2^d`` along u with N(0, h^2) multiplies term j by
    e^{-(pi h k_j.u)^2 / 2}; the terms are orthogonal on the torus, so the
    mean square bias over x uniform and u uniform is
    ``4^{-d} sum_j (b_j^2/2) F(pi h |k_j|)``.  F increases, and
    2^{j-1/4} <= |k_j| < 2^{j+1/4}, so it lies in [S(2^{-1/4} h), S(2^{1/4} h)].
    """
    b = _b(a, s, J)
    y2 = (math.pi * h[:, None] * 2.0 ** np.arange(J)[None]) ** 2
    F = 1.0 - 2.0 * _e_exp(y2 / 2, d) + _e_exp(y2, d)
    return (b**2 / 2 * F).sum(1) / 4.0**d


@pytest.mark.parametrize("dim, s", [(2, 1.0), (2, 0.5), (3, 1.5)])
def test_smoothing_bias_along_random_directions_decays_as_h_to_the_s(dim, s):
    # Measurement.  M lines x0 + t u (x0 uniform on the cube, u uniform on the
    # sphere), t in [-2, 2) on a grid of step delta = 2^{-(J+1)}; the density
    # is read by log_prob at the points wrapped into the cube (p is 2-periodic).
    # Convolution with N(0, h^2) along the line: multiply the DFT by
    # e^{-2 pi^2 h^2 xi^2}.  Every frequency of the line, |k_j . u| / 2 <
    # 2^{J - 3/2} cycles per unit, is below Nyquist 2^J, and h >= 16 delta, so
    # the discretisation errors are nil: the multiplier cut at Nyquist,
    # e^{-2 pi^2 (h / 2 delta)^2} <= e^{-1200}, and the trapezoid rule's alias
    # of kernel x line at 1/delta, the kernel's FT at 2^{J+1} - 2^{J-3/2}:
    # e^{-2 pi^2 (13 h / 16 delta)^2} <= e^{-3000}.  The circular wrap reaches
    # only t within 8 h_max = 1 of the ends (the kernel's weight beyond 8 h is
    # e^{-32}), and the mean square bias B(h)^2 is taken over t in [-1, 1].
    # Envelope.  E B^2 lies in [S(2^{-1/4} h), S(2^{1/4} h)] (_bias_envelope):
    # computed from the declared (a, s, J) only, not from the law's coefficients.
    # Exponent.  The OLS slope of log B on log h is s + sum_i w_i r_i,
    # w_i = (x_i - xbar) / Sxx, with r_i = log B_i - s log h_i; r_i in
    # [lo_i, up_i] from the envelope gives the slope interval
    # s + [sum min(w lo, w up), sum max(w lo, w up)], widened by
    # 4 sum |w_i| SE(log B_i) for the Monte Carlo error over the M i.i.d. lines.
    a, J, M = 0.5, 13, 64
    law = SmoothJointDensity(dim, s, amplitude=a, n_terms=J, seed=0)
    rng = np.random.Generator(np.random.PCG64(1))
    delta = 2.0 ** -(J + 1)
    length = 4.0
    N = int(length / delta)
    t = -2.0 + delta * np.arange(N)
    u = rng.standard_normal((M, dim))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    x0 = rng.uniform(-1.0, 1.0, (M, dim))
    pts = x0[:, None, :] + t[None, :, None] * u[:, None, :]               # (M, N, d)
    pts = np.remainder(pts + 1.0, 2.0) - 1.0
    f = law.log_prob(torch.from_numpy(pts.reshape(-1, dim))).exp().numpy().reshape(M, N)
    f_hat = np.fft.rfft(f, axis=1)
    xi = np.arange(f_hat.shape[1]) / length
    hs = 2.0 ** (-np.arange(12, 41) / 4)                                  # 2^-3 ... 2^-10
    inner = np.abs(t) <= 1.0
    msb = np.empty((hs.size, M))                                           # per-line mean square bias
    for i, h in enumerate(hs):
        smooth = np.fft.irfft(f_hat * np.exp(-2 * math.pi**2 * h**2 * xi**2), n=N, axis=1)
        msb[i] = ((smooth - f)[:, inner] ** 2).mean(1)
    b2 = msb.mean(1)
    se = msb.std(1, ddof=1) / math.sqrt(M)
    lo = _bias_envelope(hs * 2**-0.25, a, s, J, dim)
    up = _bias_envelope(hs * 2**0.25, a, s, J, dim)
    # the measured mean square bias sits in its envelope at every h
    assert (b2 >= lo - 4 * se).all() and (b2 <= up + 4 * se).all()
    x = np.log(hs)
    w = (x - x.mean()) / ((x - x.mean()) ** 2).sum()
    slope = float((w * 0.5 * np.log(b2)).sum())
    r_lo, r_up = 0.5 * np.log(lo) - s * x, 0.5 * np.log(up) - s * x
    noise = 4 * float((np.abs(w) * se / (2 * b2)).sum())
    low = s + float(np.minimum(w * r_lo, w * r_up).sum()) - noise
    high = s + float(np.maximum(w * r_lo, w * r_up).sum()) + noise
    assert low <= slope <= high, (slope, low, high)
    # the interval has power: it is narrower than 0.5, so a truth whose bias
    # decays as h^{s -+ 0.5} cannot pass (the factor-2^{1/4} annuli of the
    # envelope set most of its width, the Monte Carlo error the rest)
    assert high - low < 0.5


# -- metadata and bad input ---------------------------------------------------------------

def test_metadata_and_registry(gen):
    law = make_truth("smooth_joint", dim=3, s=1.3, amplitude=0.4, n_terms=10, seed=2)
    assert type(law) is SmoothJointDensity
    d = law.describe()
    assert (d["dim"], d["intrinsic_dim"], d["smoothness"], d["support"]) == (3, 3, 1.3, "[-1, 1]^3")
    assert (d["s"], d["amplitude"], d["n_terms"], d["seed"]) == (1.3, 0.4, 10, 2)
    assert torch.equal(law.sample(20, generator=gen(1)), law.sample(20, generator=gen(1)))
    flat = SmoothJointDensity(2, 1.0, amplitude=0.0)
    torch.testing.assert_close(flat.log_prob(flat.sample(10, generator=gen(0))),
                               torch.full((10,), -2 * math.log(2.0), dtype=torch.float64),
                               rtol=1e-15, atol=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(dim=2, s=0.0), "s"), (dict(dim=2, s=float("nan")), "s"),
    (dict(dim=2, s=1.0, amplitude=1.0), "amplitude"), (dict(dim=2, s=1.0, amplitude=-0.1), "amplitude"),
    (dict(dim=2, s=1.0, n_terms=0), "n_terms"), (dict(dim=2, s=1.0, n_terms=27), "n_terms"),
    (dict(dim=0, s=1.0), "dim"), (dict(dim=2, s=1.0, seed=1.5), "seed"),
])
def test_constructor_rejects(kwargs, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        SmoothJointDensity(**kwargs)


def test_methods_reject():
    law = SmoothJointDensity(2, 1.0)
    with pytest.raises(ValueError, match="^n"):
        law.sample(0)
    with pytest.raises(ValueError, match="^x"):
        law.log_prob(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="^axis"):
        law.marginal_cdf(torch.zeros(3), axis=2)
