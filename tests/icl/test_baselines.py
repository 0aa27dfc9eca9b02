"""Baselines against their closed-form risks (Monte Carlo, a few standard errors) and exact identities."""

import math

import pytest
import torch

from genlab.icl import baselines as bl
from genlab.icl.prompts import PromptSampler
from genlab.theory import icl as th

D = 5


def prompts(sigma2, k, B=20_000, seed=0, family=None):
    s = PromptSampler(family or ("noisy_linear" if sigma2 else "linear"), D, k, sigma2=sigma2, dtype=torch.float64)
    xs, ys, ws = s.sample(B, torch.Generator().manual_seed(seed))
    return s, xs, ys, s.clean(xs, ws)


def mc(preds, f, k):
    e = (preds - f)[:, k] ** 2 / D
    return float(e.mean()), float(e.std()) / math.sqrt(len(e))


def test_least_squares_noiseless_is_one_minus_k_over_d():
    _, xs, ys, f = prompts(0.0, 8)
    p = bl.least_squares(xs, ys)
    for k in range(9):
        m, se = mc(p, f, k)
        target = th.least_squares_risk(D, k)
        assert abs(m - target) < 4 * se + 1e-9, (k, m, target)


def test_least_squares_noisy_excess():
    # excess sigma^2 d/(k - d - 1) at k = 10, 14; heavy-tailed, so 20k prompts and 4 se
    _, xs, ys, f = prompts(0.5, 14)
    p = bl.least_squares(xs, ys)
    for k in (10, 14):
        m, se = mc(p, f, k)
        assert abs(m - th.least_squares_risk(D, k, 0.5)) < 4 * se


def test_bayes_ridge_matches_risk_formula():
    _, xs, ys, f = prompts(0.25, 10)
    p = bl.bayes_ridge(xs, ys, 0.25)
    for k in (2, 5, 10):
        m, se = mc(p, f, k)
        r, se_th = th.bayes_ridge_risk(D, k, 0.25, n_mc=40_000, seed=k, return_se=True)
        assert abs(m - r) < 4 * math.hypot(se, se_th)


def test_averaging_matches_formula():
    _, xs, ys, f = prompts(0.25, 12)
    p = bl.averaging(xs, ys)
    for k in (3, 12):
        m, se = mc(p, f, k)
        assert abs(m - th.averaging_risk(D, k, 0.25)) < 4 * se


def test_prefix_statistics_are_exclusive():
    _, xs, ys, _ = prompts(0.1, 6, B=3)
    g, b = bl.prefix_stats(xs, ys)
    assert torch.all(g[:, 0] == 0)
    torch.testing.assert_close(g[:, 4], xs[:, :4].transpose(1, 2) @ xs[:, :4], rtol=1e-12, atol=1e-12)
    # a prediction at prefix j never reads y_j
    ys2 = ys.clone()
    ys2[:, 3] += 100
    for f in (bl.least_squares, bl.averaging, bl.knn, lambda x, y: bl.ridge(x, y, 0.3)):
        torch.testing.assert_close(f(xs, ys)[:, :4], f(xs, ys2)[:, :4], rtol=0, atol=1e-9)


def test_ridge_equals_closed_form_per_prompt():
    _, xs, ys, _ = prompts(0.1, 6, B=4)
    p = bl.ridge(xs, ys, 0.7)
    X, y = xs[2, :5], ys[2, :5]
    w = torch.linalg.solve(X.T @ X + 0.7 * torch.eye(D, dtype=X.dtype), X.T @ y)
    assert abs(float(p[2, 5] - xs[2, 5] @ w)) < 1e-10


def test_discrete_mmse_two_tasks_by_hand():
    # pool {w_a, w_b} in d = 1; after one example (x, y) the posterior weight of w_a is
    # 1 / (1 + exp(-((y - b x)^2 - (y - a x)^2) / (2 s2)))
    a, b, s2, x, y, xq = 1.0, -2.0, 0.5, 0.7, 0.4, 1.3
    pool = torch.tensor([[a], [b]], dtype=torch.float64)
    xs = torch.tensor([[[x], [xq]]], dtype=torch.float64)
    ys = torch.tensor([[y, 0.0]], dtype=torch.float64)
    pa = 1 / (1 + math.exp(-((y - b * x) ** 2 - (y - a * x) ** 2) / (2 * s2)))
    expected = (pa * a + (1 - pa) * b) * xq
    p = bl.discrete_mmse(xs, ys, pool, s2)
    assert abs(float(p[0, 1]) - expected) < 1e-12
    assert abs(float(p[0, 0]) - (a + b) / 2 * x) < 1e-12  # prior mean before any example


def test_discrete_mmse_in_chunks_is_the_same_estimator():
    # prompts are independent: one prompt at a time, a few, or all at once give the same predictions
    s = PromptSampler("noisy_linear", 3, 5, sigma2=0.25, n_tasks=64, dtype=torch.float64)
    xs, ys, _ = s.sample(40, torch.Generator().manual_seed(0))
    whole = bl.discrete_mmse(xs, ys, s.pool, 0.25, chunk_elements=10 ** 9)
    for chunk in (1, 6 * 64 * 7, 6 * 64 * 40 - 1):
        assert torch.allclose(bl.discrete_mmse(xs, ys, s.pool, 0.25, chunk_elements=chunk), whole, rtol=0, atol=1e-12)


def test_knn_one_neighbour_is_nearest_label():
    xs = torch.tensor([[[0.0], [10.0], [9.0], [0.2]]], dtype=torch.float64)
    ys = torch.tensor([[1.0, 2.0, 3.0, 4.0]], dtype=torch.float64)
    p = bl.knn(xs, ys, 1)
    assert p[0].tolist() == [0.0, 1.0, 2.0, 1.0]


def test_lasso_recovers_sparse_noiseless():
    # k = 6 < d = 8 examples: least squares cannot interpolate, the Lasso finds the 1-sparse w
    s = PromptSampler("sparse_linear", 8, 6, sparsity=1, dtype=torch.float64)
    xs, ys, ws = s.sample(32, torch.Generator().manual_seed(0))
    p = bl.lasso(xs, ys, alpha=1e-3, n_iter=1000)
    err = (p - s.clean(xs, ws))[:, 6] ** 2
    assert err.median() < 1e-4 * s.signal_variance
    assert err.mean() < 0.1 * ((bl.least_squares(xs, ys) - s.clean(xs, ws))[:, 6] ** 2).mean()


def test_bad_arguments():
    xs, ys = torch.zeros(2, 3, 2), torch.zeros(2, 3)
    with pytest.raises(ValueError, match="^lam"):
        bl.ridge(xs, ys, -1.0)
    with pytest.raises(ValueError, match="^sigma2"):
        bl.bayes_ridge(xs, ys, -1.0)
    with pytest.raises(ValueError, match="^ys"):
        bl.least_squares(xs, torch.zeros(2, 4))
