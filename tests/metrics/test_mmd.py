"""MMD^2_u: unbiased (mean 0 on identical laws), positive on shifted laws, the Gaussian closed form."""

import numpy as np
from scipy import stats

from metrics import mmd2_unbiased


def _naive(x, y, h):
    k = lambda a, b: np.exp(-((a[:, None, :] - b[None, :, :]) ** 2).sum(-1) / (2 * h * h))
    n, m = len(x), len(y)
    kxx, kyy = k(x, x), k(y, y)
    return ((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * k(x, y).mean())


def test_matches_naive_formula_and_chunking():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(70, 3)), rng.normal(size=(50, 3))
    v = mmd2_unbiased(x, y, bandwidth=1.3)
    assert abs(v - _naive(x, y, 1.3)) < 1e-12
    assert abs(v - mmd2_unbiased(x, y, bandwidth=1.3, chunk_size=7)) < 1e-12


def _gauss_mmd2(delta2, d, h, sigma=1.0):
    # E k(X, X') for X, X' ~ N(., sigma^2 I) with the Gaussian kernel of width h:
    # (h^2/(h^2 + 2 sigma^2))^{d/2} exp(-|dm|^2 / (2 (h^2 + 2 sigma^2))).
    c = (h * h / (h * h + 2 * sigma**2)) ** (d / 2)
    return 2 * c * (1 - np.exp(-delta2 / (2 * (h * h + 2 * sigma**2))))


def test_mean_zero_on_identical_laws_and_closed_form_when_shifted():
    d, n, reps, h = 2, 300, 30, 1.0
    same, shifted = [], []
    for r in range(reps):
        rng = np.random.default_rng(r)
        x, y, z = rng.normal(size=(n, d)), rng.normal(size=(n, d)), rng.normal(size=(n, d)) + [0.5, 0.0]
        same.append(mmd2_unbiased(x, y, bandwidth=h))
        shifted.append(mmd2_unbiased(x, z, bandwidth=h))
    q = stats.t.ppf(0.9995, reps - 1)  # 99.9% two-sided
    se0 = np.std(same, ddof=1) / np.sqrt(reps)
    assert abs(np.mean(same)) < q * se0
    se1 = np.std(shifted, ddof=1) / np.sqrt(reps)
    assert abs(np.mean(shifted) - _gauss_mmd2(0.25, d, h)) < q * se1
    assert np.mean(shifted) > q * se1 and min(shifted) > 0


def test_median_bandwidth_default_runs_on_torch():
    import torch

    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    assert isinstance(mmd2_unbiased(x, x + 1.0), float)
