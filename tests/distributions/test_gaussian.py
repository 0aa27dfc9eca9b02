"""GaussianMixture against closed forms, scipy, quadrature and Monte Carlo.

Tolerances:
- exact float64 identities: 1e-10 relative (the computations are a few dozen
  flops deep, so rounding is ~1e-14; 1e-10 leaves room for conditioning of
  the covariances, which have condition numbers <= 16 here);
- quadrature: composite Gauss-Legendre of order m = 20 on panels of width
  h <= 6 sigma_min.  Its error on one panel is
  h^{2m+1} (m!)^4 / ((2m+1) ((2m)!)^3) * max|f^{(2m)}|, and a Gaussian density
  of std sigma has |f^{(2m)}| <= 1.09 sqrt((2m)!) sigma^{-2m-1} / sqrt(2 pi)
  (Cramér's bound on Hermite functions), so each panel errs by at most
  1.09 (h/sigma)^{2m+1} (m!)^4 sqrt((2m)!) / (sqrt(2 pi) (2m+1) ((2m)!)^3)
  = 5e-17 (h = 6 sigma).  Along any axis line a (rotated) component has
  conditional std >= sigma_min, so the same bound holds per axis of the
  tensor-product rule; summed over <= 100 panels per axis it stays < 1e-14.
  The mass outside boxes of +-10 std is below 4 Phi(-10) ~ 3e-23.  So 1e-10
  is rounding-dominated;
- Monte Carlo: 5 standard errors, the standard errors computed from the
  known law (second and fourth moments of the mixture, in closed form);
- KS tests: reject at p < 1e-3 (seeded, so the outcome is deterministic).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from genlab.distributions import Distribution, GaussianMixture

RTOL = 1e-10


def _laws():
    return {
        "ring": GaussianMixture.ring(),
        "grid": GaussianMixture.grid(),
        "anisotropic_2d": GaussianMixture.anisotropic_2d(),
        "random_1d": GaussianMixture.random_mixture(1, 4, seed=2),
        "random_5d": GaussianMixture.random_mixture(5, 6, seed=3),
        "noised": GaussianMixture.anisotropic_2d().noised(0.6, 0.8),
        "noised_alpha0": GaussianMixture.ring().noised(0.0, 0.5),
        "noised_sigma0": GaussianMixture.random_mixture(3, 3, seed=4).noised(2.0, 0.0),
    }


LAWS = _laws()


def _scipy_log_prob(law: GaussianMixture, x: torch.Tensor) -> np.ndarray:
    comps = np.stack([stats.multivariate_normal(mean=m, cov=c).logpdf(x.numpy()).reshape(-1)
                      for m, c in zip(law.means.numpy(), law.covs.numpy())], axis=1)
    with np.errstate(divide="ignore"):
        return np.logaddexp.reduce(comps + np.log(law.weights.numpy()), axis=1), comps


def _test_points(law, gen, n=400):
    x = law.sample(n, generator=gen(1))
    # also points between and beyond the modes
    spread = 1.5 * x + torch.randn(x.shape, generator=gen(2), dtype=x.dtype)
    return torch.cat([x, spread])


# -- density and score ---------------------------------------------------------
@pytest.mark.parametrize("name", LAWS)
def test_log_prob_matches_scipy(name, gen):
    law = LAWS[name]
    x = _test_points(law, gen)
    ref, comps = _scipy_log_prob(law, x)
    np.testing.assert_allclose(law.log_prob(x).numpy(), ref, rtol=RTOL)
    np.testing.assert_allclose(law.component_log_probs(x).numpy(), comps, rtol=RTOL)


@pytest.mark.parametrize("name", LAWS)
def test_score_matches_autograd(name, gen):
    law = LAWS[name]
    x = _test_points(law, gen)
    closed = law.score(x)
    auto = Distribution.score(law, x)  # the base class's autograd of log_prob
    scale = 1.0 + closed.abs()
    assert ((closed - auto).abs() / scale).max() <= RTOL


@pytest.mark.parametrize("name", ["anisotropic_2d", "random_5d"])
def test_responsibilities_are_posteriors(name, gen):
    law = LAWS[name]
    x = _test_points(law, gen)
    r = law.responsibilities(x)
    _, comps = _scipy_log_prob(law, x)
    joint = comps + np.log(law.weights.numpy())
    post = np.exp(joint - np.logaddexp.reduce(joint, axis=1, keepdims=True))
    np.testing.assert_allclose(r.numpy(), post, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(r.sum(1).numpy(), 1.0, rtol=1e-14)


def test_normalisation_1d(integrate_box):
    law = LAWS["random_1d"]
    sd = law.covs.reshape(-1).sqrt()
    lo = float((law.means.reshape(-1) - 12 * sd).min())
    hi = float((law.means.reshape(-1) + 12 * sd).max())
    panels = math.ceil((hi - lo) / (6 * float(sd.min())))  # h <= 6 sigma_min
    total = integrate_box(law.prob, [lo], [hi], panels, order=20)
    assert abs(total - 1.0) <= RTOL


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_normalisation_2d_around_modes(name, integrate_box):
    # Disjoint +-10 sigma boxes around each mode: sum_k w_k P_k(union of boxes)
    # is within 4 Phi(-10) ~ 3e-23 of 1.
    law = LAWS[name]
    sigma = float(law.covs[0, 0, 0].sqrt())
    spacing = float((torch.cdist(law.means, law.means) + 1e9 * torch.eye(law.n_components)).min())
    assert spacing > 20 * sigma  # boxes are disjoint
    total = sum(integrate_box(law.prob, (m - 10 * sigma).tolist(), (m + 10 * sigma).tolist(), 4, order=20)
                for m in law.means)
    assert abs(total - 1.0) <= RTOL


def test_normalisation_2d_anisotropic(integrate_box):
    law = LAWS["anisotropic_2d"]
    # [-6.6, 6.6]^2 is > 10 sigma_max from every mean; panels 0.6 = 6 sigma_min.
    total = integrate_box(law.prob, [-6.6, -6.6], [6.6, 6.6], 22, order=20)
    assert abs(total - 1.0) <= RTOL


# -- moments -------------------------------------------------------------------
def _assert_moments(law: GaussianMixture, x: torch.Tensor, n_se: float = 5.0):
    """Sample mean and covariance within n_se standard errors of the law's.

    SE of the mean: sqrt(C_ii / n).  The covariance is estimated with the
    known mean m, as (1/n) sum Y_i Y_j (Y = X - m, unbiased); its SE is
    sqrt(Var(Y_i Y_j) / n) with, per component (a = nu_i, b = nu_j,
    nu = mu_k - m, S = Sigma_k),
    E[Y_i^2 Y_j^2] = a^2 b^2 + a^2 S_jj + b^2 S_ii + 4 a b S_ij + S_ii S_jj + 2 S_ij^2.
    """
    n = x.shape[0]
    m, c = law.mean(), law.covariance()
    se_mean = (torch.diagonal(c) / n).sqrt()
    assert ((x.mean(0) - m).abs() <= n_se * se_mean).all()
    nu = law.means - m                                              # (k, d)
    s = law.covs
    a, b = nu[:, :, None], nu[:, None, :]
    sii = torch.diagonal(s, dim1=1, dim2=2)[:, :, None]
    sjj = torch.diagonal(s, dim1=1, dim2=2)[:, None, :]
    fourth = (a**2 * b**2 + a**2 * sjj + b**2 * sii + 4 * a * b * s + sii * sjj + 2 * s**2)
    var = torch.einsum("k,kij->ij", law.weights, fourth) - c**2
    y = x - m
    c_hat = y.T @ y / n
    assert ((c_hat - c).abs() <= n_se * (var / n).sqrt()).all()


@pytest.mark.parametrize("name", ["anisotropic_2d", "random_5d", "grid"])
def test_sample_moments(name, gen):
    law = LAWS[name]
    _assert_moments(law, law.sample(100_000, generator=gen(10)))


def test_mean_covariance_closed_form():
    law = GaussianMixture([0.25, 0.75], [[0.0, 0.0], [4.0, 0.0]],
                          np.stack([np.eye(2), np.diag([2.0, 0.5])]))
    torch.testing.assert_close(law.mean(), torch.tensor([3.0, 0.0], dtype=torch.float64),
                               rtol=RTOL, atol=1e-15)
    # E[XX^T] = .25 I + .75 (diag(2, .5) + [16, 0; 0, 0]); minus m m^T
    expected = torch.tensor([[0.25 + 0.75 * 18.0 - 9.0, 0.0], [0.0, 0.25 + 0.75 * 0.5]],
                            dtype=torch.float64)
    torch.testing.assert_close(law.covariance(), expected, rtol=RTOL, atol=1e-15)


# -- noised --------------------------------------------------------------------
@pytest.mark.parametrize("alpha, sigma", [(0.8, 0.6), (1.0, 0.1), (0.05, 1.0), (2.0, 0.0), (0.0, 0.7)])
def test_noised_matches_monte_carlo(alpha, sigma, gen):
    law = LAWS["random_5d"]
    n = 100_000
    x0 = law.sample(n, generator=gen(20))
    z = torch.randn(n, law.dim, generator=gen(21), dtype=torch.float64)
    xt = alpha * x0 + sigma * z
    noised = law.noised(alpha, sigma)
    _assert_moments(noised, xt)
    # and the moments of the noised law are the exact transforms
    torch.testing.assert_close(noised.mean(), alpha * law.mean(), rtol=RTOL, atol=1e-14)
    torch.testing.assert_close(noised.covariance(),
                               alpha**2 * law.covariance() + sigma**2 * torch.eye(law.dim,
                                                                                  dtype=torch.float64),
                               rtol=RTOL, atol=1e-14)


def test_noised_log_prob_is_convolution_1d(gauss_legendre):
    # q(y) = int p(x) N(y; alpha x, sigma^2) dx; the integrand's narrowest
    # width in x is min(sigma_k, sigma / alpha) = 0.43 here, panels 0.2.
    law = LAWS["random_1d"]
    alpha, sigma = 0.7, 0.3
    sd = law.covs.reshape(-1).sqrt()
    lo = float((law.means.reshape(-1) - 12 * sd).min())
    hi = float((law.means.reshape(-1) + 12 * sd).max())
    nodes, weights = gauss_legendre(lo, hi, math.ceil((hi - lo) / 0.2))
    px = law.prob(nodes)                                            # (q,)
    y = torch.linspace(alpha * lo, alpha * hi, 41, dtype=torch.float64)
    kern = torch.exp(-0.5 * ((y[:, None] - alpha * nodes[None, :]) / sigma) ** 2) / (
        sigma * math.sqrt(2 * math.pi))
    q = (kern * px * weights).sum(1)
    got = law.noised(alpha, sigma).prob(y)
    np.testing.assert_allclose(got.numpy(), q.numpy(), rtol=RTOL)


def test_noised_edge_cases(gen):
    law = LAWS["random_1d"]
    y = torch.linspace(-5, 5, 21, dtype=torch.float64)
    # alpha = 0: exactly N(0, sigma^2)
    np.testing.assert_allclose(law.noised(0.0, 0.5).log_prob(y).numpy(),
                               stats.norm(scale=0.5).logpdf(y.numpy()), rtol=RTOL)
    # sigma = 0: density of alpha X is p(y / alpha) / alpha
    np.testing.assert_allclose(law.noised(2.0, 0.0).log_prob(y).numpy(),
                               (law.log_prob(y / 2.0) - math.log(2.0)).numpy(), rtol=RTOL)
    # 0-dim tensors are accepted and agree with floats
    a = law.noised(torch.tensor(0.3, dtype=torch.float64), torch.tensor(0.4, dtype=torch.float32))
    b = law.noised(0.3, float(torch.tensor(0.4, dtype=torch.float32)))
    torch.testing.assert_close(a.covs, b.covs, rtol=0, atol=0)
    # alpha = 1, sigma = 0 is the law itself
    torch.testing.assert_close(law.noised(1.0, 0.0).log_prob(y), law.log_prob(y), rtol=0, atol=0)


# -- samples vs density: KS ------------------------------------------------------
def _projection_cdf(law: GaussianMixture, u: np.ndarray):
    """CDF of <u, X>: a 1-D mixture of N(<u, mu_k>, u^T Sigma_k u)."""
    mu = law.means.numpy() @ u
    sd = np.sqrt(np.einsum("i,kij,j->k", u, law.covs.numpy(), u))
    w = law.weights.numpy()
    return lambda t: (w * stats.norm.cdf((np.asarray(t)[:, None] - mu) / sd)).sum(1)


@pytest.mark.parametrize("name", ["ring", "grid", "anisotropic_2d", "random_5d", "noised"])
def test_samples_ks_on_projections(name, gen):
    law = LAWS[name]
    x = law.sample(20_000, generator=gen(30)).numpy()
    rng = np.random.Generator(np.random.PCG64(31))
    dirs = [np.eye(law.dim)[i] for i in range(law.dim)] + [rng.standard_normal(law.dim) for _ in range(2)]
    for u in dirs:
        u = u / np.linalg.norm(u)
        assert stats.kstest(x @ u, _projection_cdf(law, u)).pvalue > 1e-3


def test_sample_reproducible_and_typed(gen):
    law = LAWS["anisotropic_2d"]
    a = law.sample(50, generator=gen(5))
    b = law.sample(50, generator=gen(5))
    assert torch.equal(a, b) and a.shape == (50, 2) and a.dtype == torch.float64
    assert not torch.equal(a, law.sample(50, generator=gen(6)))


# -- presets ---------------------------------------------------------------------
def test_ring_preset():
    law = GaussianMixture.ring()
    assert law.n_components == 8
    torch.testing.assert_close(law.means.norm(dim=1), torch.ones(8, dtype=torch.float64),
                               rtol=1e-15, atol=1e-15)
    angles = torch.atan2(law.means[:, 1], law.means[:, 0]).remainder(2 * math.pi)
    torch.testing.assert_close(angles, 2 * math.pi * torch.arange(8, dtype=torch.float64) / 8,
                               rtol=0, atol=1e-14)
    torch.testing.assert_close(law.covs, 1e-4 * torch.eye(2, dtype=torch.float64).expand(8, 2, 2),
                               rtol=1e-15, atol=0)
    assert torch.equal(law.weights, torch.full((8,), 0.125, dtype=torch.float64))


def test_grid_preset():
    law = GaussianMixture.grid()
    got = {tuple(m) for m in law.means.tolist()}
    ticks = [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert got == {(a, b) for a in ticks for b in ticks}
    torch.testing.assert_close(law.covs, 0.0025 * torch.eye(2, dtype=torch.float64).expand(25, 2, 2),
                               rtol=1e-15, atol=0)


def test_anisotropic_preset_properties():
    law = GaussianMixture.anisotropic_2d()
    assert law.n_components >= 6
    assert law.means.abs().max() <= 3.0
    stds = torch.linalg.eigvalsh(law.covs).sqrt()
    assert stds.min() >= 0.1 - 1e-12 and stds.max() <= 0.4 + 1e-12
    assert (law.covs[:, 0, 1].abs() > 1e-3).sum() >= 5          # rotated, not diagonal
    assert (stds[:, 1] / stds[:, 0]).min() >= 1.5 - 1e-12       # anisotropic
    assert len(set(law.weights.tolist())) == law.n_components    # unequal
    dist = torch.cdist(law.means, law.means) + 1e9 * torch.eye(law.n_components)
    assert dist.min() >= 5 * stds.max()                          # separated


@pytest.mark.parametrize("dim, n_modes, separation, seed",
                         [(1, 5, 6.0, 0), (2, 12, 4.0, 1), (8, 10, 6.0, 2), (30, 20, 10.0, 3)])
def test_random_mixture_separation_guarantee(dim, n_modes, separation, seed):
    law = GaussianMixture.random_mixture(dim, n_modes, separation=separation, seed=seed)
    sigma_max = torch.linalg.eigvalsh(law.covs).max().sqrt()
    dist = torch.cdist(law.means, law.means) + 1e9 * torch.eye(n_modes)
    assert dist.min() >= separation * sigma_max * (1 - 1e-12)
    assert sigma_max <= 1.0


def test_random_mixture_reproducible_and_options():
    a = GaussianMixture.random_mixture(4, 5, seed=7)
    b = GaussianMixture.random_mixture(4, 5, seed=7)
    c = GaussianMixture.random_mixture(4, 5, seed=8)
    assert torch.equal(a.means, b.means) and torch.equal(a.covs, b.covs)
    assert torch.equal(a.weights, b.weights)
    assert not torch.equal(a.means, c.means)
    assert a.weights.std() > 0
    iso = GaussianMixture.random_mixture(4, 5, seed=7, anisotropic=False, unequal_weights=False)
    ev = torch.linalg.eigvalsh(iso.covs)
    torch.testing.assert_close(ev, ev[:, :1].expand_as(ev), rtol=1e-12, atol=0)
    assert torch.equal(iso.weights, torch.full((5,), 0.2, dtype=torch.float64))


# -- validation ------------------------------------------------------------------
EYE = np.eye(2)
GOOD = dict(weights=[0.5, 0.5], means=[[0.0, 0.0], [1.0, 1.0]], covs=[EYE, EYE])


@pytest.mark.parametrize("change, match", [
    (dict(weights=[0.6, 0.6]), "weights"),
    (dict(weights=[1.5, -0.5]), "weights"),
    (dict(weights=[float("nan"), 1.0]), "weights"),
    (dict(weights=[[0.5, 0.5]]), "weights"),
    (dict(weights=[0.5, 0.5 + 1e-7]), "weights"),
    (dict(means=[[0.0, 0.0]]), "means"),
    (dict(means=[[0.0, float("inf")], [1.0, 1.0]]), "means"),
    (dict(means=[0.0, 1.0]), "means"),
    (dict(covs=[EYE]), "covs"),
    (dict(covs=np.ones((2, 3, 3))), "covs"),
    (dict(covs=[EYE, [[1.0, 0.5], [0.0, 1.0]]]), r"covs\[1\].*symmetric"),
    (dict(covs=[EYE, [[1.0, 2.0], [2.0, 1.0]]]), r"covs\[1\].*positive definite"),
    (dict(covs=[-EYE, EYE]), r"covs\[0\].*positive definite"),
    (dict(covs=[EYE, [[1.0, float("nan")], [float("nan"), 1.0]]]), "covs"),
])
def test_constructor_rejects(change, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        GaussianMixture(**{**GOOD, **change})


def test_weights_within_tolerance_are_renormalised():
    law = GaussianMixture(**{**GOOD, "weights": [0.5, 0.5 + 5e-9]})
    assert abs(float(law.weights.sum()) - 1.0) <= 1e-15


@pytest.mark.parametrize("alpha, sigma, match", [
    (-0.1, 1.0, "alpha"), (1.0, -1e-3, "sigma"), (float("nan"), 1.0, "alpha"),
    (1.0, float("inf"), "sigma"), (0.0, 0.0, "alpha and sigma"),
    (torch.tensor([0.5, 0.5]), 1.0, "alpha"), ("a", 1.0, "alpha"),
])
def test_noised_rejects(alpha, sigma, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        LAWS["anisotropic_2d"].noised(alpha, sigma)


@pytest.mark.parametrize("call, match", [
    (lambda law: law.sample(0), "n"),
    (lambda law: law.sample(-3), "n"),
    (lambda law: law.sample(2.5), "n"),
    (lambda law: law.log_prob(torch.zeros(4, 3)), "x"),
    (lambda law: law.score(torch.full((2, 2), float("nan"))), "x"),
    (lambda law: GaussianMixture.ring(n_modes=0), "n_modes"),
    (lambda law: GaussianMixture.ring(sigma=-1.0), "sigma"),
    (lambda law: GaussianMixture.ring(radius=float("inf")), "radius"),
    (lambda law: GaussianMixture.grid(sigma=0.0), "sigma"),
    (lambda law: GaussianMixture.random_mixture(0, 3), "dim"),
    (lambda law: GaussianMixture.random_mixture(2, 0), "n_modes"),
    (lambda law: GaussianMixture.random_mixture(2, 3, separation=0.0), "separation"),
    (lambda law: GaussianMixture.random_mixture(2, 3, seed="x"), "seed"),
])
def test_methods_reject(call, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        call(LAWS["anisotropic_2d"])
