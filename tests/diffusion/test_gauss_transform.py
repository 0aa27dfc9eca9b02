"""The posterior moments of a smoothed empirical measure (genlab.diffusion.gauss_transform): the direct
sums against the softmax formula, the Taylor path against the direct one within its proven bound."""

import math

import pytest
import torch

from genlab.diffusion.gauss_transform import (TAYLOR_Q_MAX, TAYLOR_TOL, GaussPosterior, multi_indices,
                                              taylor_remainder_bound)

EPS = torch.finfo(torch.float64).eps


def _points(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) * torch.linspace(0.5, 1.5, d, dtype=torch.float64)


def _softmax_moments(x, z, a, v):
    """log sum_i k_i, mean and covariance straight from the definition (cdist, logsumexp, softmax)."""
    logk = -0.5 * torch.cdist(z, a * x) ** 2 / v
    w = torch.softmax(logk, 1)
    mean = w @ x
    centred = x[None] - mean[:, None]                                   # (B, n, d)
    cov = torch.einsum("bn,bni,bnj->bij", w, centred, centred)
    return torch.logsumexp(logk, 1), mean, cov


def test_multi_indices_are_every_index_once_by_degree():
    al = multi_indices(3, 5)
    assert al.shape == (math.comb(5 + 3, 3), 3)
    assert len({tuple(r) for r in al.tolist()}) == al.shape[0]
    deg = al.sum(1)
    assert int(deg.max()) == 5 and bool((deg[1:] >= deg[:-1]).all()) and bool((al >= 0).all())


@pytest.mark.parametrize("q", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("degree", [2, 6, 15])
def test_remainder_bound_bounds_the_truncated_exponential(q, degree):
    """|e^x - sum_{k<=P} x^k/k!| <= e^|x| |x|^(P+1)/(P+1)! on |x| <= q (Lagrange), and the module's
    eps(q, P) = e^(2q) q^(P+1)/(P+1)! is that over the smallest exponential term e^(-q)."""
    x = torch.linspace(-q, q, 201, dtype=torch.float64)
    partial = sum(x ** k / math.factorial(k) for k in range(degree + 1))
    err = (torch.exp(x) - partial).abs()
    assert bool((err <= torch.exp(x.abs()) * x.abs() ** (degree + 1) / math.factorial(degree + 1) * (1 + 1e-12)
                 + 32 * EPS * torch.exp(x.abs())).all())
    assert float(err.max()) / math.exp(-q) <= taylor_remainder_bound(q, degree) * (1 + 1e-12) + 32 * EPS * math.exp(2 * q)


def test_direct_sums_equal_the_softmax_formula():
    """One time per row (a, v differ by row: the direct path).  The log-kernels, as large as
    |a z . x| / v ~ 6 x 6 / 1e-2 = 4e3, are formed to a few eps of that, 1e-12 absolute, which moves the
    weights by that relative amount: tolerances 1e-10 on O(1)-sized moments."""
    x = _points(300, 2)
    g = torch.Generator().manual_seed(1)
    z = 2 * torch.randn(50, 2, generator=g, dtype=torch.float64)
    a = torch.linspace(0.3, 1.0, 50, dtype=torch.float64)[:, None]
    v = torch.linspace(1e-2, 2.0, 50, dtype=torch.float64)[:, None]
    post = GaussPosterior(x, chunk=7)
    log_norm, mean, cov = post(z, a, v)
    assert post.stats == {"direct": 50, "taylor": 0}
    for i in range(50):
        ref = _softmax_moments(x, z[i:i + 1], float(a[i]), float(v[i]))
        for got, want in zip((log_norm[i:i + 1], mean[i:i + 1], cov[i:i + 1]), ref):
            assert torch.allclose(got, want, rtol=1e-10, atol=1e-10)


def test_direct_sums_are_differentiable_to_the_score():
    """d/dz log sum_i k_i = (a mean - z) / v: the autograd path the sampler_law tests take."""
    x = _points(100, 2)
    z = torch.randn(20, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).requires_grad_(True)
    a, v = torch.tensor([[0.8]], dtype=torch.float64), torch.tensor([[0.3]], dtype=torch.float64)
    log_norm, mean, _ = GaussPosterior(x)(z, a, v)
    (grad,) = torch.autograd.grad(log_norm.sum(), z)
    assert torch.allclose(grad, (a * mean - z) / v, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("d, var_over_a2", [(2, 100.0), (2, 1000.0), (2, 1e4), (3, 3000.0)])
def test_taylor_equals_direct_within_its_bound(d, var_over_a2):
    """2000 queries (enough to pay for the moments) from the noised points at a wide kernel: every query that takes the Taylor path agrees with
    the direct sums within the proven truncation bound (2 R eps for the mean, 7 R^2 eps for the
    covariance, eps <= TAYLOR_TOL relative for the normaliser) plus rounding: the terms reach e^(2q) times
    the sum (q <= TAYLOR_Q_MAX), over K terms, so K e^(2 q_max) eps_machine relative to R, R^2 and 1."""
    n = 4000
    x = _points(n, d)
    a = 0.5
    v = var_over_a2 * a * a
    g = torch.Generator().manual_seed(3)
    z = a * x[torch.randint(0, n, (2000,), generator=g)] + math.sqrt(v) * torch.randn(2000, d, generator=g,
                                                                                       dtype=torch.float64)
    fast, slow = GaussPosterior(x), GaussPosterior(x, taylor=False)
    A, V = torch.tensor([[a]], dtype=torch.float64), torch.tensor([[v]], dtype=torch.float64)
    got, want = fast(z, A, V), slow(z, A, V)
    assert fast.stats["taylor"] > 0 and slow.stats["taylor"] == 0
    radius = float((x - x.mean(0)).norm(dim=1).max())
    terms = math.comb(fast.taylor_degree_max + d, d)
    rounding = terms * math.exp(2 * TAYLOR_Q_MAX) * EPS
    assert float((got[0] - want[0]).abs().max()) <= TAYLOR_TOL + rounding
    assert float((got[1] - want[1]).abs().max()) <= radius * (2.1 * TAYLOR_TOL + rounding)
    assert float((got[2] - want[2]).abs().max()) <= radius ** 2 * (7 * TAYLOR_TOL + 3 * rounding)


def test_queries_beyond_the_bound_go_direct():
    """One call mixes queries inside the expansion's reach with queries far out (q > TAYLOR_Q_MAX):
    the far ones take the direct path, and every row equals the direct sums."""
    x = _points(4000, 2)
    a, v = 0.3, 50.0 * 0.09
    near = a * x[:1000] + 0.1
    far = near + 40.0
    z = torch.cat([near, far[:100]])
    fast = GaussPosterior(x)
    A, V = torch.tensor([[a]], dtype=torch.float64), torch.tensor([[v]], dtype=torch.float64)
    got, want = fast(z, A, V), GaussPosterior(x, taylor=False)(z, A, V)
    assert fast.stats == {"direct": 100, "taylor": 1000}
    for g_, w_ in zip(got, want):
        assert torch.allclose(g_, w_, rtol=1e-10, atol=1e-10)


def test_too_few_points_for_an_expansion_go_direct():
    """Below 8 x C(4 + d, d) points no degree-4 expansion is cheaper than the sums: Taylor is off."""
    post = GaussPosterior(_points(100, 2))
    assert post.taylor_degree_max is None
    post(torch.zeros(5, 2, dtype=torch.float64), torch.tensor([[0.1]]), torch.tensor([[1.0]]))
    assert post.stats == {"direct": 5, "taylor": 0}
