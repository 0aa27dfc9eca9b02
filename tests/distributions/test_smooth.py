"""SmoothDensity: the lacunary construction at the coefficient level, exact
normalisation, bounds, score, CDF and samples.

Tolerances:
- coefficients: exact float64 arithmetic on a few numbers, 1e-15 relative;
- Fourier check: the N-point periodic trapezoid rule on [-1, 1) integrates
  e^{i pi m u} exactly for |m| < N, so the DFT returns the coefficient of
  frequency k exactly when the degree 2^{J-1} of g is < N - k; with
  N = 2^{J+1} every coefficient up to k = N/2 comes out exactly, up to
  rounding ~ N eps ~ 1e-13; tolerance 1e-12;
- normalisation: the same periodic trapezoid rule, exact for the density
  (a product of trig polynomials of degree < N per axis), tolerance 1e-12;
- CDF vs Gauss-Legendre (order 10, panel h): the rule's error on
  cos(omega u) is <= h^{21} omega^{20} (10!)^4 / (21 (20!)^3) per panel;
  with omega_max = 2^7 pi and h = 1/256 that is 5e-20 per panel, so 1e-12
  is rounding-dominated;
- score vs autograd: 1e-10 relative to (1 + |score|);
- Monte Carlo: KS p > 1e-3, and 5 standard errors for a correlation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from genlab.distributions import Distribution, SmoothDensity


@pytest.mark.parametrize("s, a, J", [(0.5, 0.5, 24), (1.0, 0.9, 12), (2.5, 0.0, 8), (1.5, 0.3, 1)])
def test_coefficients_are_the_lacunary_series(s, a, J):
    law = SmoothDensity(2, s, amplitude=a, n_terms=J, seed=3)
    c = law.coefficients
    j = torch.arange(J, dtype=torch.float64)
    c_s = (2.0 ** (-j * s)).sum()
    torch.testing.assert_close(c["amplitudes"], a * 2.0 ** (-j * s) / c_s, rtol=1e-15, atol=0)
    assert torch.equal(c["frequencies"], 2.0 ** j)
    assert ((c["phases"] >= 0) & (c["phases"] < 2 * math.pi)).all()
    assert abs(float(c["amplitudes"].sum()) - a) <= 1e-15
    # amplitude ratio between consecutive dyadic scales is exactly 2^{-s}
    if J > 1 and a > 0:
        ratio = c["amplitudes"][1:] / c["amplitudes"][:-1]
        torch.testing.assert_close(ratio, torch.full_like(ratio, 2.0 ** -s), rtol=1e-14, atol=0)


def test_phases_seeded():
    a = SmoothDensity(1, 1.0, seed=5).coefficients["phases"]
    b = SmoothDensity(1, 1.0, seed=5).coefficients["phases"]
    c = SmoothDensity(1, 1.0, seed=6).coefficients["phases"]
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("s", [0.3, 1.0, 2.0])
def test_log_prob_has_exactly_the_declared_fourier_coefficients(s):
    # g(u) = 1 + sum_j b_j cos(2^j pi u + phi_j): on the grid u_n = -1 + 2n/N the
    # DFT gives hat g_k = (1/N) sum_n g(u_n) e^{-i pi k u_n}, which equals
    # b_j e^{i phi_j} / 2 at k = 2^j, 1 at k = 0, and 0 at every other k <= N/2.
    J = 10
    law = SmoothDensity(1, s, amplitude=0.7, n_terms=J, seed=1)
    N = 2 ** (J + 1)
    u = -1.0 + 2.0 * torch.arange(N, dtype=torch.float64) / N
    g = 2.0 * law.log_prob(u).exp()
    k = torch.arange(N // 2 + 1, dtype=torch.float64)
    phase = torch.exp(-1j * math.pi * k[:, None] * u[None, :])     # (K, N)
    ghat = (phase * g.to(torch.complex128)).mean(1)
    c = law.coefficients
    expected = torch.zeros_like(ghat)
    expected[0] = 1.0
    expected[(2 ** torch.arange(J)).long()] = c["amplitudes"] * torch.exp(1j * c["phases"]) / 2
    assert (ghat - expected).abs().max() <= 1e-12


@pytest.mark.parametrize("s, a", [(0.25, 0.5), (1.0, 0.95), (3.0, 0.5)])
def test_bounds_on_fine_grid(s, a):
    law = SmoothDensity(1, s, amplitude=a, n_terms=20, seed=2)
    u = torch.linspace(-1.0, 1.0, 400_001, dtype=torch.float64)
    g = law.g(u)
    eps = 1e-14  # rounding of a 20-term sum of numbers <= 1
    assert g.min() >= 1 - a - eps and g.max() <= 1 + a + eps
    # the series is close to its bounds somewhere: max |g - 1| >= a / 2 for these seeds
    assert (g - 1).abs().max() >= a / 2


@pytest.mark.parametrize("dim, J", [(1, 16), (2, 9)])
def test_normalisation_exact(dim, J):
    law = SmoothDensity(dim, 0.7, amplitude=0.8, n_terms=J, seed=4)
    N = 2**J
    u = -1.0 + 2.0 * torch.arange(N, dtype=torch.float64) / N
    pts = torch.stack([m.reshape(-1) for m in torch.meshgrid(*[u] * dim, indexing="ij")], 1)
    total = float(law.prob(pts).sum()) * (2.0 / N) ** dim
    assert abs(total - 1.0) <= 1e-12


def test_marginal_cdf_exact(gauss_legendre):
    law = SmoothDensity(1, 0.8, amplitude=0.6, n_terms=8, seed=7)
    assert abs(float(law.marginal_cdf(torch.tensor(1.0))) - 1.0) <= 1e-15
    assert abs(float(law.marginal_cdf(torch.tensor(-1.0)))) <= 1e-15
    assert float(law.marginal_cdf(torch.tensor(-3.0))) == 0.0
    assert float(law.marginal_cdf(torch.tensor(3.0))) == 1.0
    for upper in [-0.73, -0.1, 0.0, 0.4142, 0.99]:
        nodes, w = gauss_legendre(-1.0, upper, 512)  # h <= 2/512 = 1/256
        quad = float((law.g(nodes) / 2 * w).sum())
        assert abs(float(law.marginal_cdf(torch.tensor(upper, dtype=torch.float64))) - quad) <= 1e-12
    # the default J = 24 CDF also closes exactly
    big = SmoothDensity(1, 0.5, seed=1)
    assert abs(float(big.marginal_cdf(torch.tensor(1.0))) - 1.0) <= 1e-15


@pytest.mark.parametrize("dim, s, J", [(1, 0.5, 24), (3, 1.5, 24), (2, 3.0, 12)])
def test_score_matches_autograd(dim, s, J, gen):
    law = SmoothDensity(dim, s, amplitude=0.7, n_terms=J, seed=0)
    x = law.sample(300, generator=gen(0))
    closed = law.score(x)
    auto = Distribution.score(law, x)
    assert ((closed - auto).abs() / (1.0 + closed.abs())).max() <= 1e-10
    assert torch.isnan(law.score(torch.full((1, dim), 1.5))).all()


def test_log_prob_outside_and_uniform_limit(gen):
    law = SmoothDensity(2, 1.0)
    assert torch.isneginf(law.log_prob(torch.tensor([[0.0, 1.01]]))).all()
    flat = SmoothDensity(3, 1.0, amplitude=0.0)
    x = flat.sample(10, generator=gen(0))
    torch.testing.assert_close(flat.log_prob(x), torch.full((10,), -3 * math.log(2.0),
                                                            dtype=torch.float64), rtol=1e-15, atol=0)


def test_samples_follow_marginal_cdf(gen):
    law = SmoothDensity(2, 0.5, amplitude=0.9, seed=11)
    n = 20_000
    x = law.sample(n, generator=gen(3))
    assert ((x >= -1) & (x <= 1)).all()
    cdf = lambda t: law.marginal_cdf(torch.as_tensor(t)).numpy()
    for i in range(2):
        assert stats.kstest(x[:, i].numpy(), cdf).pvalue > 1e-3
    # independence of the coordinates: F(X_1), F(X_2) are independent U(0,1)
    # under the law, so their sample correlation has SE 1/sqrt(n).
    f = law.marginal_cdf(x).numpy()
    assert abs(np.corrcoef(f[:, 0], f[:, 1])[0, 1]) <= 5 / math.sqrt(n)


def test_sampler_sees_high_frequency_terms(gen):
    # A rough (s = 0.2) density whose amplitude sits in fine scales: the
    # proportion of samples in small intervals matches the CDF within 5 SE.
    law = SmoothDensity(1, 0.2, amplitude=0.9, n_terms=12, seed=2)
    n = 200_000
    x = law.sample(n, generator=gen(4)).reshape(-1)
    edges = torch.linspace(-1, 1, 2**9 + 1, dtype=torch.float64)
    p = law.marginal_cdf(edges).diff()
    counts = torch.histc(x, bins=2**9, min=-1, max=1)
    se = (n * p * (1 - p)).sqrt()
    assert (((counts - n * p).abs() / se).max()) <= 5.0


def test_reproducible_and_metadata(gen):
    law = SmoothDensity(2, 1.3)
    assert torch.equal(law.sample(20, generator=gen(1)), law.sample(20, generator=gen(1)))
    assert law.smoothness == 1.3 and law.support == "[-1, 1]^2" and law.has_density


@pytest.mark.parametrize("kwargs, match", [
    (dict(dim=1, s=0.0), "s"), (dict(dim=1, s=-1.0), "s"), (dict(dim=1, s=float("nan")), "s"),
    (dict(dim=1, s=1.0, amplitude=1.0), "amplitude"), (dict(dim=1, s=1.0, amplitude=-0.1), "amplitude"),
    (dict(dim=1, s=1.0, n_terms=0), "n_terms"), (dict(dim=0, s=1.0), "dim"),
    (dict(dim=1, s=1.0, seed=1.5), "seed"),
])
def test_constructor_rejects(kwargs, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        SmoothDensity(**kwargs)


def test_methods_reject():
    law = SmoothDensity(2, 1.0)
    with pytest.raises(ValueError, match="^n"):
        law.sample(-1)
    with pytest.raises(ValueError, match="^x"):
        law.log_prob(torch.zeros(2, 3))
