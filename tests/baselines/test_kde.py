"""GaussianKDE against closed forms: normalisation, scipy, autograd, moments, reflection."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from genlab.baselines import GaussianKDE

# Quadrature: composite Gauss-Legendre with q nodes on panels of width h/2.
# The rule is exact to degree 2q - 1; the Gaussian kernel's Taylor remainder
# over a panel is ~ (w/h)^(2q) / sqrt((2q)!) <= 2^-20 / 1.5e9 < 1e-15 for
# q = 10, so the tolerance is set by float64 round-off over ~10^3 panels.
QUAD_TOL = 1e-12


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _gl_nodes(a, b, width, q=10):
    """Nodes and weights of composite Gauss-Legendre on [a, b], panels <= width."""
    k = max(1, math.ceil((b - a) / width))
    t, w = np.polynomial.legendre.leggauss(q)
    edges = np.linspace(a, b, k + 1)
    half = (edges[1:] - edges[:-1]) / 2
    mid = (edges[1:] + edges[:-1]) / 2
    nodes = (mid[:, None] + half[:, None] * t[None]).ravel()
    weights = (half[:, None] * w[None]).ravel()
    return torch.as_tensor(nodes), torch.as_tensor(weights)


def _integral_2d(kde, a, b, width):
    x, w = _gl_nodes(a, b, width)
    xx, yy = torch.meshgrid(x, x, indexing="ij")
    pts = torch.stack([xx.ravel(), yy.ravel()], 1)
    return float((kde.log_prob(pts).exp() * (w[:, None] * w[None, :]).ravel()).sum())


# -- normalisation -------------------------------------------------------------
def test_integrates_to_one_d1():
    x = torch.randn(40, 1, generator=_gen(0), dtype=torch.float64)
    h = 0.3
    kde = GaussianKDE(x, h)
    # outside +-12 h of the data the mass is below 2 * Phi(-12) ~ 4e-33
    nodes, w = _gl_nodes(float(x.min()) - 12 * h, float(x.max()) + 12 * h, h / 2)
    assert abs(float((kde.log_prob(nodes[:, None]).exp() * w).sum()) - 1) < QUAD_TOL


def test_integrates_to_one_d2():
    x = torch.randn(30, 2, generator=_gen(1), dtype=torch.float64)
    h = 0.4
    kde = GaussianKDE(x, h)
    # the box reaches 10 h beyond the data: omitted mass < 4 Phi(-10) ~ 3e-23
    total = _integral_2d(kde, float(x.min()) - 10 * h, float(x.max()) + 10 * h, h / 2)
    assert abs(total - 1) < QUAD_TOL


# -- scipy -------------------------------------------------------------------------
def test_matches_scipy_d1():
    x = np.random.default_rng(2).normal(size=50)
    h = 0.37
    # scipy's kernel variance is factor^2 * var(x, ddof=1)
    ref = scipy.stats.gaussian_kde(x, bw_method=h / x.std(ddof=1))
    q = np.concatenate([np.linspace(-4, 4, 17), [8.0, -9.0]])
    ours = GaussianKDE(x[:, None], h).log_prob(torch.as_tensor(q)[:, None]).numpy()
    expected = ref.logpdf(q)
    assert np.abs(ours - expected).max() < 1e-10 * max(1.0, np.abs(expected).max())


def test_matches_scipy_d2_after_whitening():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2)) @ np.array([[1.0, 0.0], [0.8, 0.5]])
    ref = scipy.stats.gaussian_kde(x.T, bw_method=0.45)
    # scipy: kernel covariance f^2 Sigma.  With Sigma = L L^T and z = L^-1 x,
    # p_scipy(x) = p_ours(z; bandwidth f) / det L exactly.
    sigma = ref.covariance / ref.factor ** 2
    chol = np.linalg.cholesky(sigma)
    whiten = np.linalg.inv(chol)
    q = rng.normal(size=(25, 2)) * 2
    ours = GaussianKDE(x @ whiten.T, ref.factor).log_prob(torch.as_tensor(q @ whiten.T)).numpy()
    ours -= np.log(np.diag(chol)).sum()
    expected = ref.logpdf(q.T)
    assert np.abs(ours - expected).max() < 1e-10 * max(1.0, np.abs(expected).max())


# -- score -------------------------------------------------------------------------
@pytest.mark.parametrize("boundary", ["none", "reflect"])
def test_score_equals_autograd_of_log_prob(boundary):
    g = _gen(4)
    x = torch.rand(60, 2, generator=g, dtype=torch.float64) * 2 - 1
    kde = GaussianKDE(x, 0.2, boundary=boundary, bounds=(-1, 1))
    q = (torch.rand(30, 2, generator=g, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    (auto,) = torch.autograd.grad(kde.log_prob(q).sum(), q)
    closed = kde.score(q.detach())
    assert (closed - auto).abs().max() < 1e-10 * max(1.0, float(auto.abs().max()))


def test_score_far_from_data_is_finite():
    # softmax weights keep the score finite where every kernel underflows
    kde = GaussianKDE(torch.zeros(3, 1), 0.1)
    s = kde.score(torch.tensor([[50.0]]))
    assert torch.allclose(s, torch.tensor([[-50.0 / 0.01]], dtype=torch.float64), rtol=1e-12)


# -- sampling ----------------------------------------------------------------------
def test_sample_moments_match_closed_form():
    x = torch.randn(20, 2, generator=_gen(5), dtype=torch.float64) * torch.tensor([1.0, 3.0])
    h, m = 0.5, 400_000
    y = GaussianKDE(x, h).sample(m, generator=_gen(6))
    mean = x.mean(0)
    cov = (x - mean).T @ (x - mean) / x.shape[0] + h ** 2 * torch.eye(2, dtype=torch.float64)
    # Monte Carlo: 4 standard errors per entry, the SE estimated from the samples
    se_mean = y.std(0) / math.sqrt(m)
    assert ((y.mean(0) - mean).abs() < 4 * se_mean).all()
    yc = y - y.mean(0)
    prods = yc[:, :, None] * yc[:, None, :]  # (m, 2, 2)
    se_cov = prods.std(0) / math.sqrt(m)
    assert ((prods.mean(0) - cov).abs() < 4 * se_cov).all()


def test_sample_is_deterministic_given_generator():
    kde = GaussianKDE(torch.randn(8, 3, generator=_gen(7)), 0.3)
    assert torch.equal(kde.sample(5, generator=_gen(8)), kde.sample(5, generator=_gen(8)))


# -- chunking ---------------------------------------------------------------------
def test_chunking_does_not_change_results():
    g = _gen(9)
    x, q = torch.randn(300, 2, generator=g), torch.randn(70, 2, generator=g)
    big = GaussianKDE(x, 0.3)
    small = GaussianKDE(x, 0.3, chunk_elements=1000)  # 3 query rows per block
    assert torch.allclose(big.log_prob(q), small.log_prob(q), rtol=0, atol=1e-13)
    assert torch.allclose(big.score(q), small.score(q), rtol=0, atol=1e-12)


# -- reflection -------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.3, 1.5])  # 1.5 > L/3 needs more than the first images
def test_reflect_integrates_to_one_on_cube_d1(h):
    x = torch.rand(30, 1, generator=_gen(10), dtype=torch.float64) * 2 - 1
    kde = GaussianKDE(x, h, boundary="reflect", bounds=(-1, 1))
    nodes, w = _gl_nodes(-1.0, 1.0, min(h, 2.0) / 2)
    assert abs(float((kde.log_prob(nodes[:, None]).exp() * w).sum()) - 1) < QUAD_TOL


def test_reflect_integrates_to_one_on_cube_d2():
    x = torch.rand(30, 2, generator=_gen(11), dtype=torch.float64) * 2 - 1
    h = 0.25
    kde = GaussianKDE(x, h, boundary="reflect", bounds=(-1, 1))
    assert abs(_integral_2d(kde, -1.0, 1.0, h / 2) - 1) < QUAD_TOL


def test_plain_kde_leaks_mass_reflect_does_not():
    x = torch.rand(30, 1, generator=_gen(12), dtype=torch.float64) * 2 - 1
    nodes, w = _gl_nodes(-1.0, 1.0, 0.1)
    inside = float((GaussianKDE(x, 0.3).log_prob(nodes[:, None]).exp() * w).sum())
    assert inside < 0.99  # mass within ~h of the faces spills outside


def test_reflect_is_minus_inf_outside_and_samples_inside():
    x = torch.rand(20, 2, generator=_gen(13), dtype=torch.float64)
    kde = GaussianKDE(x, 0.4, boundary="reflect", bounds=(0, 1))
    lp = kde.log_prob(torch.tensor([[1.01, 0.5], [0.5, -0.2], [0.5, 0.5]]))
    assert lp[0] == -math.inf and lp[1] == -math.inf and math.isfinite(lp[2])
    assert torch.isnan(kde.score(torch.tensor([[1.01, 0.5]]))).all()
    y = kde.sample(10_000, generator=_gen(14))
    assert ((y >= 0) & (y <= 1)).all()


def test_reflect_sample_moments_match_density():
    x = torch.rand(25, 1, generator=_gen(15), dtype=torch.float64) * 2 - 1
    kde = GaussianKDE(x, 0.4, boundary="reflect", bounds=(-1, 1))
    nodes, w = _gl_nodes(-1.0, 1.0, 0.2)
    p = kde.log_prob(nodes[:, None]).exp() * w
    m = 200_000
    y = kde.sample(m, generator=_gen(16))[:, 0]
    for k in (1, 2):  # E X and E X^2: sampler against density, 4 SE
        exact = float((p * nodes ** k).sum())
        assert abs(float((y ** k).mean()) - exact) < 4 * float((y ** k).std()) / math.sqrt(m)


# -- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize("h", [0.0, -1.0, math.nan, math.inf, "wide"])
def test_bad_bandwidth_names_bandwidth(h):
    with pytest.raises(ValueError, match="bandwidth"):
        GaussianKDE(torch.zeros(3, 1), h)


@pytest.mark.parametrize("x", [torch.zeros(0, 1), torch.tensor([[math.nan]]), torch.tensor([[math.inf, 0.0]])])
def test_bad_training_data_names_x_train(x):
    with pytest.raises(ValueError, match="x_train"):
        GaussianKDE(x, 1.0)


def test_bad_boundary_settings():
    with pytest.raises(ValueError, match="boundary"):
        GaussianKDE(torch.zeros(3, 1), 1.0, boundary="mirror")
    with pytest.raises(ValueError, match="bounds"):
        GaussianKDE(torch.zeros(3, 1), 1.0, boundary="reflect")
    with pytest.raises(ValueError, match="bounds"):
        GaussianKDE(torch.zeros(3, 1), 1.0, boundary="reflect", bounds=(1, -1))
    with pytest.raises(ValueError, match="x_train"):
        GaussianKDE(torch.full((3, 1), 2.0), 1.0, boundary="reflect", bounds=(-1, 1))


def test_query_dimension_mismatch_names_x():
    with pytest.raises(ValueError, match="^x "):
        GaussianKDE(torch.zeros(3, 2), 1.0).log_prob(torch.zeros(4, 3))
