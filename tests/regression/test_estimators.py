"""k-NN, NTK kernel ridge regression and held-out tuning against exact identities and the kernels module."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.kernels import kernel_regression, ntk_flow_prediction, ntk_kernel
from genlab.regression.held_out import held_out_split, select_by_held_out
from genlab.regression.knn import KNNRegressor, knn_theory_k
from genlab.regression.krr import LAMBDAS, NTKRidge, ntk_flow_regressor

EPS = float(np.finfo(np.float64).eps)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _data(n: int, d: int, seed: int = 0):
    g = _gen(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, torch.sin(2 * x[:, 0]) + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)


# -- held-out split and selection -------------------------------------------------------
@pytest.mark.parametrize("n,fraction,n_val", [(10, 0.2, 2), (2, 0.2, 1), (7, 0.5, 4), (100, 0.01, 1), (3, 0.99, 2)])
def test_held_out_split_sizes_partition_and_seeding(n, fraction, n_val):
    train, val = held_out_split(n, fraction=fraction, generator=_gen(0))
    assert len(val) == n_val and len(train) == n - n_val
    assert sorted(train.tolist() + val.tolist()) == list(range(n))
    again = held_out_split(n, fraction=fraction, generator=_gen(0))
    assert torch.equal(train, again[0]) and torch.equal(val, again[1])


def test_held_out_split_moves_with_the_seed_and_refuses_bad_arguments():
    assert not torch.equal(held_out_split(50, generator=_gen(0))[1], held_out_split(50, generator=_gen(1))[1])
    with pytest.raises(ValueError, match="n must be >= 2"):
        held_out_split(1)
    for bad in (0.0, 1.0, -0.1, True):
        with pytest.raises(ValueError, match="fraction must be a number in"):
            held_out_split(10, fraction=bad)


def test_select_by_held_out_takes_the_least_score_the_first_of_ties_and_skips_failures():
    assert select_by_held_out([3, 1, 2], lambda c: float(c)) == (1, [3.0, 1.0, 2.0])
    assert select_by_held_out(["a", "b", "c"], lambda c: {"a": 2.0, "b": 1.0, "c": 1.0}[c])[0] == "b"
    assert select_by_held_out([1, 2], lambda c: math.nan if c == 1 else 5.0)[0] == 2
    with pytest.raises(ValueError, match="candidates must not be empty"):
        select_by_held_out([], float)
    with pytest.raises(ValueError, match="non-finite"):
        select_by_held_out([1, 2], lambda c: math.inf)


# -- k-NN -------------------------------------------------------------------------------
def test_knn_theory_k_is_the_balancing_power_clipped_and_capped_at_s_1():
    assert knn_theory_k(1000, 1, 1.0) == 100                        # 1000^(2/3)
    assert knn_theory_k(10_000, 2, 1.0) == 100                      # 10^4^(1/2)
    assert knn_theory_k(10_000, 2, 0.5) == math.ceil(10_000 ** (1 / 3))
    assert knn_theory_k(10_000, 2, 4.0) == knn_theory_k(10_000, 2, 1.0)
    assert knn_theory_k(1, 3, 1.0) == 1
    with pytest.raises(ValueError, match="s must be > 0"):
        knn_theory_k(10, 1, 0.0)


def test_one_nearest_neighbour_interpolates_the_training_points():
    x, y = _data(300, 3)
    assert torch.equal(KNNRegressor(x, y, 1).predict(x), y)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_knn_is_exact_on_a_constant_target_and_k_n_is_the_global_mean(k):
    x, _ = _data(40, 2)
    c = torch.full((40,), 0.7, dtype=torch.float64)
    z = torch.randn(25, 2, generator=_gen(3), dtype=torch.float64)
    # the mean of k copies of 0.7: exact up to the rounding of the sum (k eps)
    assert torch.allclose(KNNRegressor(x, c, k).predict(z), c[:25], rtol=0, atol=k * EPS)
    y = torch.arange(40, dtype=torch.float64)
    assert torch.allclose(KNNRegressor(x, y, 40).predict(z), torch.full((25,), 19.5, dtype=torch.float64))


def test_knn_averages_the_k_nearest_labels_on_a_grid():
    x = torch.arange(10, dtype=torch.float64)[:, None]
    y = x[:, 0] ** 2
    # neighbours of 4.4: 4 (0.4), 5 (0.6), 3 (1.4)
    pred = KNNRegressor(x, y, 3).predict(torch.tensor([[4.4]], dtype=torch.float64))
    assert float(pred[0]) == pytest.approx((16 + 25 + 9) / 3, rel=1e-15)


def test_knn_predicts_in_blocks_like_in_one(monkeypatch):
    import genlab.regression.knn as knn
    x, y = _data(50, 2)
    z = torch.randn(33, 2, generator=_gen(1), dtype=torch.float64)
    whole = KNNRegressor(x, y, 4).predict(z)
    monkeypatch.setattr(knn, "_BLOCK_ENTRIES", 50 * 7)              # blocks of 7 test points
    assert torch.equal(KNNRegressor(x, y, 4).predict(z), whole)


@pytest.mark.parametrize("k,y_len,match", [(0, 5, "k must be a positive integer"), (6, 5, "k must be <= n = 5"),
                                           (1, 4, r"y must have shape \(5,\)")])
def test_knn_refuses_bad_arguments(k, y_len, match):
    with pytest.raises(ValueError, match=match):
        KNNRegressor(torch.zeros(5, 2), torch.zeros(y_len), k)


# -- NTK kernel ridge regression --------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_ntk_ridge_with_ridge_zero_interpolates(bias):
    x, y = _data(15, 3)
    model = NTKRidge(bias=bias).fit(x, y, ridge=0.0)
    xt = torch.cat([x, torch.ones(15, 1, dtype=torch.float64)], 1) if bias else x
    cond = float(torch.linalg.cond(ntk_kernel(xt)))
    # solving K alpha = y and multiplying back: a residual ~ n eps cond(K) |y|_max (10x margin)
    tol = 10 * 15 * EPS * cond * float(y.abs().max())
    assert float((model.predict(x) - y).abs().max()) <= tol
    assert model.ridge == 0.0 and model.lam is None and model.scores is None


def test_ntk_ridge_without_bias_is_positively_homogeneous_and_with_bias_is_not():
    x, y = _data(30, 2)
    z = torch.randn(10, 2, generator=_gen(4), dtype=torch.float64)
    plain = NTKRidge(bias=False).fit(x, y, ridge=1e-3)
    # every function of the bias-free NTK's RKHS satisfies f(c x) = c f(x), c >= 0 (rounding ~1e-15)
    assert torch.allclose(plain.predict(3 * z), 3 * plain.predict(z), rtol=1e-12, atol=1e-14)
    assert float(plain.predict(torch.zeros(1, 2, dtype=torch.float64)).abs()) == 0.0
    biased = NTKRidge(bias=True).fit(x, y, ridge=1e-3)
    assert not torch.allclose(biased.predict(3 * z), 3 * biased.predict(z), rtol=1e-3)


def test_ntk_ridge_final_fit_is_kernel_regression_on_the_augmented_inputs():
    x, y = _data(60, 3)
    z = torch.randn(20, 3, generator=_gen(5), dtype=torch.float64)
    model = NTKRidge().fit(x, y, ridge=0.37)
    aug = lambda v: torch.cat([v, torch.ones(len(v), 1, dtype=torch.float64)], 1)   # noqa: E731
    want = kernel_regression(ntk_kernel(aug(x)), y, ntk_kernel(aug(z), aug(x)), 0.37)
    # two eigendecomposition solves of a well-conditioned system (ridge 0.37): agree to ~1e-13
    assert torch.allclose(model.predict(z), want, rtol=0, atol=1e-11)


def test_ntk_ridge_held_out_choice_is_the_argmin_of_true_held_out_errors_and_reproducible():
    x, y = _data(80, 2)
    model = NTKRidge().fit(x, y, generator=_gen(7))
    assert model.lam in LAMBDAS and len(model.scores) == len(LAMBDAS)
    assert model.ridge == pytest.approx(80 * model.lam, rel=1e-15)
    assert model.scores[LAMBDAS.index(model.lam)] == min(model.scores)
    again = NTKRidge().fit(x, y, generator=_gen(7))
    assert again.lam == model.lam and again.scores == model.scores
    # each score is the held-out MSE of kernel_regression fitted on the same split with ridge = n_fit lambda
    train, val = held_out_split(80, generator=_gen(7))
    aug = torch.cat([x, torch.ones(80, 1, dtype=torch.float64)], 1)
    K, Kv = ntk_kernel(aug[train]), ntk_kernel(aug[val], aug[train])
    for i in (0, 9, len(LAMBDAS) - 1):
        pred = kernel_regression(K, y[train], Kv, len(train) * LAMBDAS[i])
        mse = float(((pred - y[val]) ** 2).mean())
        # cond(K + ridge I) <= lambda_max / ridge <= tr K / (64 lambda) ~ 64 / 6.4e-7 = 1e8 at the smallest
        # lambda: the two solves agree to ~ eps 1e8 = 2e-8 relative; rel = 1e-6 leaves a 50x margin
        assert model.scores[i] == pytest.approx(mse, rel=1e-6)


def test_ntk_ridge_refuses_a_gram_matrix_over_max_bytes_naming_the_limit():
    x, y = _data(100, 2)
    with pytest.raises(ValueError, match=r"NTK Gram matrix of 100 x 100 float64 needs .* > max_bytes = 1000"):
        NTKRidge().fit(x, y, max_bytes=1000)
    with pytest.raises(ValueError, match="ridge must be >= 0"):
        NTKRidge().fit(x, y, ridge=-1.0)
    with pytest.raises(ValueError, match="lambdas must be a non-empty sequence"):
        NTKRidge().fit(x, y, lambdas=[1e-3, 0.0])
    with pytest.raises(ValueError, match="not fitted"):
        NTKRidge().predict(x)


def test_ntk_ridge_predicts_in_blocks_like_in_one(monkeypatch):
    import genlab.regression.krr as krr
    x, y = _data(40, 2)
    z = torch.randn(30, 2, generator=_gen(2), dtype=torch.float64)
    model = NTKRidge().fit(x, y, ridge=0.1)
    whole = model.predict(z)
    monkeypatch.setattr(krr, "_BLOCK_BYTES", 8 * 40 * 7)              # blocks of 7 test points
    # the same sums K(z, X) alpha, accumulated in another order: |error| <= n eps sum_j |K_ij alpha_j|
    aug = lambda v: torch.cat([v, torch.ones(len(v), 1, dtype=torch.float64)], 1)   # noqa: E731
    bound = 40 * EPS * (ntk_kernel(aug(z), aug(x)).abs() @ model.predictor.alpha.abs())
    assert bool(((model.predict(z) - whole).abs() <= bound).all())


# -- NTK gradient-flow predictor --------------------------------------------------------
def test_flow_regressor_matches_ntk_flow_prediction_and_its_limits():
    x, y = _data(25, 3)
    z = torch.randn(12, 3, generator=_gen(6), dtype=torch.float64)
    K, Kz = ntk_kernel(x), ntk_kernel(z, x)
    for t in (0.0, 3.0, 50.0):
        want = ntk_flow_prediction(K, Kz, y, t=t, lr=0.5)
        # both are U g U^T y through one eigendecomposition: ~1e-13
        assert torch.allclose(ntk_flow_regressor(x, y, t, lr=0.5).predict(z), want, rtol=0, atol=1e-11)
    assert torch.equal(ntk_flow_regressor(x, y, 0.0).predict(z), torch.zeros(12, dtype=torch.float64))
    ridgeless = NTKRidge(bias=False).fit(x, y, ridge=0.0).predict(z)
    # t = inf is the minimum-norm interpolant; the two solves differ by ~ cond(K) eps
    tol = 10 * 25 * EPS * float(torch.linalg.cond(K)) * float(y.abs().max())
    assert torch.allclose(ntk_flow_regressor(x, y, math.inf).predict(z), ridgeless, rtol=0, atol=tol)


def test_flow_regressor_starts_from_f0():
    x, y = _data(20, 2)
    z = torch.randn(9, 2, generator=_gen(8), dtype=torch.float64)
    f0 = lambda v: v[:, 1] ** 3                                          # noqa: E731
    assert torch.equal(ntk_flow_regressor(x, y, 0.0, f0=f0).predict(z), f0(z))
    K, Kz = ntk_kernel(x), ntk_kernel(z, x)
    want = ntk_flow_prediction(K, Kz, y, f0_train=f0(x), f0_test=f0(z), t=7.0)
    assert torch.allclose(ntk_flow_regressor(x, y, 7.0, f0=f0).predict(z), want, rtol=0, atol=1e-11)
