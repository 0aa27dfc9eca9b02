"""genlab.regression.dynamics: the lazy and mean-field regimes of the two-layer net, measured.

Tolerances: exact float64 identities at ~1e-10 to 1e-13 (said where); Monte Carlo at 5 standard
errors estimated from the seeds or neurons themselves; the NTK-flow bound is an inequality
(a discrete Duhamel/Gronwall bound with measured quantities), derived in its test.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

from genlab.kernels import ntk_kernel, two_layer_relu
from genlab.regression.dynamics import (
    alignment,
    effective_lr,
    flow_gap,
    kernel_drift,
    linear_rate,
    ntk_flow_reference,
    ntk_init_error,
    relative_rms,
    twin_distance,
    weight_movement,
)
from genlab.regression.networks import PARAMETRISATIONS, TwoLayerNet
from genlab.regression.train import train_regression



def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _problem(n: int = 16, n_test: int = 8, d: int = 3):
    """n training and n_test test points in d = 3, y = sin(x_1) + x_2 / 2, and the analytic NTK of all of them."""
    g = _gen(0)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    Xs = torch.randn(n_test, d, generator=g, dtype=torch.float64)
    y = torch.sin(X[:, 0]) + 0.5 * X[:, 1]
    return X, Xs, y


def _norm(v: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(v))


def _op(A: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(A, 2))


# -- flow-time bookkeeping ----------------------------------------------------------------------------
@pytest.mark.parametrize("p", PARAMETRISATIONS)
def test_one_small_gd_step_moves_f_by_lr_eff_times_the_empirical_ntk(p):
    X, _, y = _problem()
    n, lr = len(y), 1e-6
    net = TwoLayerNet(3, 64, parametrisation=p, alpha=3.0 if p == "lazy" else 1.0, generator=_gen(1))
    with torch.no_grad():
        f0 = net(X)
    K = net.empirical_ntk(X)
    train_regression(net, X, y, lr=lr, steps=1)
    with torch.no_grad():
        df = net(X) - f0
    first_order = -effective_lr(net, lr) / n * K @ (f0 - y)
    # f(theta - lr mult grad L) - f(theta) = -(lr_eff / n) K (f - y) + O(|step|^2): the second-order term is
    # ~ lr_eff lambda_max / n ~ 1e-6 of the first (no ReLU kink is crossed by a step this small), and the
    # rounding of f ~ 1 differenced over a change ~ 1e-7 is ~ 1e-9 of it
    torch.testing.assert_close(df, first_order, rtol=1e-5,
                               atol=1e-5 * _norm(first_order) / math.sqrt(n))
    m = net.width
    assert effective_lr(net, lr) == pytest.approx(lr * (m if p == "standard" else 1.0), rel=1e-15)


# -- (c) the wide NTK network against the NTK flow --------------------------------------------------
def _linear_gd(K, Kx, f0X, f0x, y, lr, steps):
    """Gradient descent on the linear model with the fixed kernel K: f <- f - (lr/n) K (f - y), and on the test points."""
    n = len(y)
    f, g = f0X.clone(), f0x.clone()
    for _ in range(steps):
        r = f - y
        f, g = f - lr / n * K @ r, g - lr / n * Kx @ r
    return g


def test_wide_ntk_network_tracks_the_ntk_flow_within_its_duhamel_bound():
    X, Xs, y = _problem()
    n, XA = len(y), torch.cat([X, Xs])
    lam_max = float(torch.linalg.eigvalsh(ntk_kernel(X))[-1])
    lr, steps = 0.02 * n / lam_max, 200                        # flow time: the fastest mode decays by e^-4
    net = TwoLayerNet(3, 2 ** 12, generator=_gen(10))
    K0 = net.empirical_ntk(XA)                                 # (24, 24): train and test points
    assert _op(K0[:n, :n]) * lr / n < 2                        # I - (lr/n) K0 is a contraction on R^n
    with torch.no_grad():
        fA = net(XA)
    f0X, f0x = fA[:n].clone(), fA[n:].clone()
    ref = ntk_flow_reference(X, y, Xs, f0X, f0x, steps, effective_lr(net, lr))
    g_lin = _linear_gd(K0[:n, :n], K0[n:, :n], f0X, f0x, y, lr, steps)
    # The network, one GD step at a time: f_{k+1} = f_k - (lr/n) K_k r_k + R_k (r_k = f_k - y on the data,
    # K_k the empirical NTK at theta_k, R_k the exactly measured second-order remainder), and likewise
    # g_{k+1} = g_k - (lr/n) Kx_k r_k + Rx_k on the test points.  Against the linear model with K0,
    # e_k = f_k - f_lin_k obeys e_{k+1} = (I - lr K0/n) e_k - (lr/n)(K_k - K0) r_k + R_k, so
    #   |e_{k+1}| <= b_{k+1} := b_k + (lr/n) |K_k - K0| |r_k| + |R_k|,
    #   |g_T - g_lin_T| <= B := sum_k (lr/n) (|Kx_k - Kx0| |r_k| + |Kx0| b_k) + |Rx_k|      (operator norms),
    # and |g_T - ref| <= |g_lin_T - ref| + B: the kernel's fluctuation at initialisation (exact, O(m^-1/2))
    # plus the kernel's drift during training (Lee et al. 2019: O(m^-1/2)) and the remainders.
    b = B = 0.0
    for _ in range(steps):
        Kk, r = net.empirical_ntk(XA), fA[:n] - y
        train_regression(net, X, y, lr=lr, steps=1)
        with torch.no_grad():
            fA1 = net(XA)
        R = fA1 - fA + lr / n * Kk[:, :n] @ r
        B += lr / n * (_op(Kk[n:, :n] - K0[n:, :n]) * _norm(r) + _op(K0[n:, :n]) * b) + _norm(R[n:])
        b += lr / n * _op(Kk[:n, :n] - K0[:n, :n]) * _norm(r) + _norm(R[:n])
        fA = fA1
    gap = _norm(fA[n:] - ref)
    # 1e-12: rounding in the 200 steps' bookkeeping, against gaps ~ 1e-2
    assert gap <= _norm(g_lin - ref) + B + 1e-12, (gap, _norm(g_lin - ref), B)
    assert relative_rms(fA[n:], ref) == pytest.approx(gap / _norm(ref), rel=1e-14)
    # the bound is small at this width: the kernel errors it is made of are ~ m^-1/2 = 1/64
    assert (_norm(g_lin - ref) + B) / _norm(ref) < 0.1, ((_norm(g_lin - ref) + B) / _norm(ref))


def test_flow_gap_shrinks_at_least_like_width_to_the_minus_one_half():
    X, Xs, y = _problem()
    lam_max = float(torch.linalg.eigvalsh(ntk_kernel(X))[-1])
    lr, steps, seeds = 0.02 * len(y) / lam_max, 200, 12
    gaps = {}
    for m in (2 ** 8, 2 ** 12):
        g = []
        for s in range(seeds):
            net = TwoLayerNet(3, m, generator=_gen(100 + s))
            with torch.no_grad():
                f0X, f0x = net(X), net(Xs)
            train_regression(net, X, y, lr=lr, steps=steps)
            g.append(flow_gap(net, X, y, Xs, f0X, f0x, steps, lr))
        gaps[m] = np.array(g) ** 2
    # The gap's leading term is linear in the kernel error at initialisation, a mean of m i.i.d. terms
    # (E gap^2 ~ A/m); the drift and the linearisation error are O(1/m) (ahead of it: they only make the
    # gap fall faster).  So R = sqrt(mean gap^2 at 2^8 / mean gap^2 at 2^12) >= 4 up to sampling error:
    # log R has standard error (1/2) sqrt((cv_8^2 + cv_12^2) / seeds) (delta method), and we allow 5 of them.
    log_R = 0.5 * math.log(gaps[2 ** 8].mean() / gaps[2 ** 12].mean())
    se = 0.5 * math.sqrt(sum((v.std(ddof=1) / v.mean()) ** 2 for v in gaps.values()) / seeds)
    assert log_R >= math.log(4) - 5 * se, (math.exp(log_R), se)
    assert math.log(4) - 5 * se > 0                      # the test has power: the gap does fall


# -- (d) lazy with alpha = sqrt(m) is the centred NTK network ------------------------------------------
class _CentredNTK(nn.Module):
    """h_ntk(x; theta) - h_ntk(x; theta_0): the NTK network minus its frozen initial function."""

    def __init__(self, net: TwoLayerNet):
        super().__init__()
        self.net = net
        self.register_buffer("a0", net.a.detach().clone())
        self.register_buffer("W0", net.W.detach().clone())

    def forward(self, x):
        return self.net(x) - two_layer_relu(self.a0, self.W0, x)


def test_lazy_network_with_alpha_sqrt_m_follows_the_centred_ntk_network_exactly():
    X, Xs, y = _problem()
    m = 1000                                                     # sqrt(m) not a power of 2: real rounding
    lazy = TwoLayerNet(3, m, parametrisation="lazy", alpha=math.sqrt(m), generator=_gen(20))
    centred = _CentredNTK(TwoLayerNet(3, m, generator=_gen(20)))
    assert lazy.lr_multiplier * lazy.loss_scale == pytest.approx(1.0, rel=1e-15)   # m / alpha^2
    lam_max = float(torch.linalg.eigvalsh(ntk_kernel(X))[-1])
    lr = 0.05 * len(y) / lam_max
    for _ in range(10):
        train_regression(lazy, X, y, lr=lr, steps=20)
        train_regression(centred, X, y, lr=lr, steps=20)
        with torch.no_grad():
            f_lazy, f_centred = lazy(Xs), centred(Xs)
        # the same arithmetic but for where the scalings alpha/m = m^-1/2 and m/alpha^2 = 1 are applied:
        # a few eps relative per step, carried (not amplified: lr lambda_max / n < 2) over 200 steps ~ 1e-13
        torch.testing.assert_close(f_lazy, f_centred, rtol=1e-10, atol=1e-10 * _norm(f_centred))
    assert _norm(f_centred) > 0.1                                # it did move


# -- (e) weight movement: m^-1/2 under the NTK scaling, O(1) in mean field ----------------------------
def test_weight_movement_falls_like_width_to_the_minus_half_in_ntk_and_not_in_mean_field():
    X, _, y = _problem()
    lam_max = float(torch.linalg.eigvalsh(ntk_kernel(X))[-1])
    lr, steps, seeds, widths = 0.02 * len(y) / lam_max, 200, 8, (2 ** 6, 2 ** 10)
    slope, kernel_err = {}, []
    for p in ("ntk", "mean_field"):
        moves = {}
        for m in widths:
            mv = []
            for s in range(seeds):
                net = TwoLayerNet(3, m, parametrisation=p, generator=_gen(200 + s))
                if m == widths[0] and p == "ntk":
                    kernel_err.append(ntk_init_error(net, X))
                with torch.no_grad():
                    f0 = net(X)
                a0, W0 = net.initial_parameters()
                # targets y + f0(X): the same as training the centred network on y, so the residual at
                # initialisation is y at every width and seed (the NTK's f0 is an O(1) random function)
                train_regression(net, X, y + f0, lr=lr, steps=steps)
                mv.append(weight_movement(net, a0, W0))
            moves[m] = np.log(mv)
        # the exponent from each pair of seeds' widths: log(move_1024 / move_64) / log 16
        slope[p] = (moves[widths[1]] - moves[widths[0]]) / math.log(widths[1] / widths[0])
    # Predicted: -1/2 (ntk) and 0 (mean_field).  Allowed: 5 standard errors of the mean over seeds, plus
    # the finite-width corrections, relative O(m^-1/2) at m = 64, taken at the size of the kernel's own
    # relative fluctuation there (ntk_init_error at m = 64) and spread over log 16.
    finite_width = float(np.sqrt(np.mean(np.square(kernel_err)))) / math.log(widths[1] / widths[0])
    for p, want in (("ntk", -0.5), ("mean_field", 0.0)):
        se = slope[p].std(ddof=1) / math.sqrt(seeds)
        assert abs(slope[p].mean() - want) <= 5 * se + finite_width, (p, slope[p].mean(), se, finite_width)
    assert 5 * max(slope[p].std(ddof=1) / math.sqrt(seeds) for p in slope) + finite_width < 0.25   # separable


def test_weight_movement_and_kernel_drift_of_known_displacements():
    net = TwoLayerNet(2, 3, generator=_gen(30))
    a0, W0 = net.initial_parameters()
    with torch.no_grad():
        net.a.mul_(2.0)                                          # theta - theta_0 = (a0, 0)
    assert weight_movement(net, a0, W0) == pytest.approx(_norm(a0) / math.hypot(_norm(a0), _norm(W0)), rel=1e-14)
    K0 = np.eye(3)
    assert kernel_drift(K0, 1.5 * K0) == pytest.approx(0.5, rel=1e-15)
    with pytest.raises(ValueError, match="same shape"):
        kernel_drift(K0, np.eye(2))


# -- (g) alignment, twins and rates on closed forms -------------------------------------------------
def test_alignment_of_aligned_orthogonal_and_random_neurons():
    w_star = torch.tensor([1.0, 2.0, 2.0], dtype=torch.float64)
    assert alignment(torch.stack([3 * w_star, -0.5 * w_star]), w_star) == pytest.approx(1.0, rel=1e-15)
    ortho = torch.tensor([[2.0, -1.0, 0.0]], dtype=torch.float64)
    assert alignment(ortho, w_star) == 0.0
    # |a|-weighted: weights 3 and 1 on cosines 1 and 0
    W = torch.cat([w_star[None], ortho])
    assert alignment(W, w_star, a=torch.tensor([-3.0, 1.0])) == pytest.approx(0.75, rel=1e-15)
    assert alignment(W, w_star) == pytest.approx(0.5, rel=1e-15)
    # w ~ N(0, I_3): the direction is uniform on the sphere, so cos is uniform on [-1, 1] (Archimedes) and
    # E|cos| = 1/2, sd = 1/sqrt(12); the mean of 2^16 neurons within 5 standard errors
    m = 2 ** 16
    Wr = torch.randn(m, 3, generator=_gen(31), dtype=torch.float64)
    assert abs(alignment(Wr, w_star) - 0.5) <= 5 / math.sqrt(12 * m)
    with pytest.raises(ValueError, match="w_star must be non-zero"):
        alignment(W, torch.zeros(3))


def test_twin_distance_of_identical_and_doubled_functions():
    X = torch.randn(10, 3, generator=_gen(32), dtype=torch.float64)
    net = TwoLayerNet(3, 20, generator=_gen(33))
    twin = TwoLayerNet(3, 20, generator=_gen(33))
    assert twin_distance(net, twin, X) == 0.0
    assert twin_distance(lambda x: 2 * net(x), net, X) == pytest.approx(1.0, rel=1e-14)


def test_linear_rate_of_an_exact_exponential_and_its_floor():
    lam_min, n, lr_eff, rate = 0.3, 12, 0.5, 0.07
    steps = np.arange(0, 400, 10)
    losses = 2.5 * np.exp(-rate * lr_eff * steps)
    out = linear_rate(losses, steps, lam_min, n, lr_eff)
    # a least-squares line through exact points: the slope to ~1e-12 (conditioning of polyfit on 40 points)
    assert out["observed"] == pytest.approx(rate, rel=1e-10)
    assert out["predicted"] == pytest.approx(2 * lam_min / n, rel=1e-15)
    assert out["ratio"] == pytest.approx(rate / (2 * lam_min / n), rel=1e-10) and out["n_points"] == 40
    # a floor after the fall (the loss stops falling) is left out of the fit
    floored = np.concatenate([losses, np.full(10, losses[-1])])
    out2 = linear_rate(floored, np.arange(0, 500, 10), lam_min, n, lr_eff)
    assert out2["n_points"] == 40 and out2["observed"] == pytest.approx(rate, rel=1e-10)
    with pytest.raises(ValueError, match="does not fall"):
        linear_rate([1.0, 1.0], [0, 1], lam_min, n, lr_eff)

