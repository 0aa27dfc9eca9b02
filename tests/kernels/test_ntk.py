"""genlab.kernels: the two-layer ReLU kernels against Monte Carlo and quadrature, and the NTK flow predictions.

Tolerances: exact float64 identities at ~1e-12 (times a condition number where a solve is
involved); Monte Carlo at 5 standard errors estimated from the terms themselves.
"""

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from genlab.kernels import (
    DEFAULT_MAX_BYTES,
    PARTS,
    TwoLayerReLU,
    arccos_kernel,
    empirical_ntk,
    kernel_regression,
    nngp_kernel,
    ntk_flow_loss,
    ntk_flow_prediction,
    ntk_kernel,
    ntk_min_eigenvalue,
    two_layer_relu,
)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _points() -> torch.Tensor:
    """Ten points in d = 3: seven Gaussian, one parallel to the first (theta = 0), one antiparallel to
    the second (theta = pi) and the origin."""
    X = torch.randn(7, 3, generator=_gen(0), dtype=torch.float64)
    return torch.cat([X, 2.0 * X[:1], -X[1:2], torch.zeros(1, 3, dtype=torch.float64)])   # (10, 3)


def _neuron_terms(net: TwoLayerReLU, X: torch.Tensor) -> torch.Tensor:
    """(n, n, m): neuron j's term relu(u_j) relu(v_j) + a_j^2 relu'(u_j) relu'(v_j) <x,y>/d of the NTK
    (the gradient products of the two layers, ntk.py docstring); the empirical NTK is their mean over j."""
    a, W = net.a.detach(), net.W.detach()
    d = X.shape[1]
    U = X @ W.T / math.sqrt(d)                       # (n, m)
    phi, step = torch.relu(U), (U > 0).to(torch.float64)
    return (phi[:, None, :] * phi[None, :, :]
            + (X @ X.T / d)[:, :, None] * a ** 2 * step[:, None, :] * step[None, :, :])


# -- analytic NTK against the finite-width one ------------------------------------------------------
def test_analytic_ntk_is_within_five_standard_errors_of_the_empirical_ntk_at_width_2_16():
    X, m = _points(), 2 ** 16
    net = TwoLayerReLU(3, m, generator=_gen(1))
    terms = _neuron_terms(net, X)                                        # (10, 10, m)
    emp, se = terms.mean(dim=2), terms.std(dim=2) / math.sqrt(m)
    # the closed-form empirical NTK is the same mean summed in another order: rounding ~ log2(m) eps
    torch.testing.assert_close(empirical_ntk(net, X), emp, rtol=1e-12, atol=1e-14)
    K = ntk_kernel(X)
    # Each entry of emp is a mean of m i.i.d. terms with mean K (law of large numbers; finite third
    # moments, so the CLT applies at m = 65536): |emp - K| > 5 se has probability 5.7e-7 per entry,
    # 3e-5 over the 55 distinct entries.  Entries whose terms are all zero (x = 0; theta = pi) have
    # se = 0 and K exactly 0 there; the 1e-14 floor is float64 rounding of O(1) values.
    assert bool(((emp - K).abs() <= 5 * se + 1e-14).all()), ((emp - K).abs() / se).max()
    assert float(K[9].abs().max()) == 0.0 and float(K[1, 8]) == 0.0


def test_empirical_ntk_error_falls_as_width_to_the_minus_one_half():
    X = _points()
    K = ntk_kernel(X)
    widths = np.array([2 ** 10, 2 ** 12, 2 ** 14])
    slopes = []
    for seed in range(64):
        errors = [float(torch.linalg.matrix_norm(empirical_ntk(TwoLayerReLU(3, int(m), generator=_gen(100 + seed)),
                                                               X) - K)) for m in widths]
        slopes.append(np.polyfit(np.log(widths), np.log(errors), 1)[0])
    slopes = np.array(slopes)
    # E ||Theta_m - Theta||_F^2 = V / m exactly (a mean of m i.i.d. centred terms), and the law of
    # ||Theta_m - Theta||_F sqrt(m / V) depends on m only at O(1/m) (the O(m^-1/2) Edgeworth term is odd
    # and the norm even), so E slope = -1/2 + O(1e-3).  The mean of 64 seeds' slopes is t(63)-distributed
    # about it: |mean + 1/2| > 5 se has probability ~1e-5.
    se = slopes.std(ddof=1) / math.sqrt(len(slopes))
    assert abs(slopes.mean() + 0.5) <= 5 * se, (slopes.mean(), se)
    assert se < 0.05   # the test has power: it separates -1/2 from -1/4 and -1


def test_closed_form_empirical_ntk_equals_autograd_for_each_part():
    X = torch.randn(6, 3, generator=_gen(2), dtype=torch.float64)
    Y = torch.randn(4, 3, generator=_gen(3), dtype=torch.float64)
    net = TwoLayerReLU(3, 50, generator=_gen(4))
    for part in PARTS:
        # the same O(m) float64 sums in two orders: rounding <= m eps max|term| ~ 1e-14
        for Z in (None, Y):
            torch.testing.assert_close(empirical_ntk(net, X, Z, part=part),
                                       empirical_ntk(net, X, Z, part=part, method="autograd"),
                                       rtol=1e-12, atol=1e-13)
    both = empirical_ntk(net, X)
    torch.testing.assert_close(both, empirical_ntk(net, X, part="output") + empirical_ntk(net, X, part="hidden"),
                               rtol=1e-14, atol=1e-15)
    # an (a, W) pair and numpy inputs give the same numbers, as numpy
    K_np = empirical_ntk((net.a.detach().numpy(), net.W.detach().numpy()), X.numpy(), method="autograd")
    assert isinstance(K_np, np.ndarray)
    np.testing.assert_allclose(K_np, both.numpy(), rtol=1e-12, atol=1e-13)


def test_autograd_ntk_of_a_linear_module_is_x_dot_y_plus_one():
    X = torch.randn(5, 4, generator=_gen(5), dtype=torch.float64)
    lin = torch.nn.Linear(4, 1)                          # float32 module, used in float64
    K = empirical_ntk(lin, X, method="autograd")
    # grad_w f = x, grad_b f = 1: Theta(x, y) = <x, y> + 1, exact up to rounding
    torch.testing.assert_close(K, X @ X.T + 1.0, rtol=1e-14, atol=1e-14)
    assert lin.weight.dtype == torch.float32
    with pytest.raises(ValueError, match="closed_form"):
        empirical_ntk(lin, X)


def test_kernels_are_zero_at_the_origin_and_nngp_is_the_output_part():
    X = _points()
    net = TwoLayerReLU(3, 30, generator=_gen(6))
    for K in (arccos_kernel(X, order=0), arccos_kernel(X, order=1), ntk_kernel(X), nngp_kernel(X),
              empirical_ntk(net, X), empirical_ntk(net, X, method="autograd")):
        assert bool(torch.isfinite(K).all()) and float(K[9].abs().max()) == 0.0 and float(K[:, 9].abs().max()) == 0.0
    torch.testing.assert_close(nngp_kernel(X), arccos_kernel(X, order=1) / 6.0, rtol=1e-15, atol=0.0)
    # diagonal: Theta(x, x) = |x|^2 / d, half from each layer; exact symmetry for Y = None
    torch.testing.assert_close(torch.diagonal(ntk_kernel(X)), (X ** 2).sum(1) / 3, rtol=1e-15, atol=0.0)
    assert bool((ntk_kernel(X) == ntk_kernel(X).T).all())


# -- arc-cosine closed forms against quadrature and Monte Carlo -------------------------------------
def _quadrature(theta: float, order: int) -> tuple[float, float]:
    """2 E[g(z1) g(cos(theta) z1 + sin(theta) z2)] for iid N(0, 1) z1, z2, with g = relu (order 1) or the
    step (order 0): k_order of two unit vectors at angle theta.  Returns (value, quadrature error estimate)."""
    c, s = math.cos(theta), math.sin(theta)
    def phi(z):
        return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    if s < 1e-12:      # theta = 0 or pi: (w.x, w.y) = (z1, +-z1)
        f = (lambda z: z * max(c * z, 0.0) * phi(z)) if order == 1 else (lambda z: float(c * z > 0) * phi(z))
        value, err = integrate.quad(f, 0.0, np.inf, epsabs=1e-13, epsrel=1e-13)
        return 2 * value, 2 * err
    # z1 > 0 and c z1 + s z2 > 0: on this wedge the integrand is smooth
    f = ((lambda z2, z1: z1 * (c * z1 + s * z2) * phi(z1) * phi(z2)) if order == 1
         else (lambda z2, z1: phi(z1) * phi(z2)))
    value, err = integrate.dblquad(f, 0.0, np.inf, lambda z1: -c * z1 / s, np.inf, epsabs=1e-13, epsrel=1e-13)
    return 2 * value, 2 * err


@pytest.mark.parametrize("theta", [0.0, math.pi / 6, math.pi / 2, 2 * math.pi / 3, math.pi - 1e-3, math.pi])
@pytest.mark.parametrize("order", [0, 1])
def test_arccos_kernel_equals_quadrature(theta, order):
    r1, r2 = 0.7, 2.5
    Q = torch.linalg.qr(torch.randn(3, 3, generator=_gen(7), dtype=torch.float64))[0]
    x = Q @ torch.tensor([r1, 0.0, 0.0], dtype=torch.float64)          # rotated: generic coordinates
    y = Q @ torch.tensor([r2 * math.cos(theta), r2 * math.sin(theta), 0.0], dtype=torch.float64)
    value, err = _quadrature(theta, order)
    assert err < 1e-11
    scale = r1 * r2 if order == 1 else 1.0
    # quadrature error < 1e-11; closed form and rotation: a few eps times the condition of
    # J_n in theta (<= pi), ~1e-15.  arccos(cos) alone would be off by ~1e-8 at theta = 0.
    K = arccos_kernel(torch.stack([x, y]), order=order)
    assert abs(float(K[0, 1]) - scale * value) <= 1e-10 * scale, (float(K[0, 1]), scale * value)


def test_arccos_kernel_equals_monte_carlo_in_d_5():
    g = torch.Generator().manual_seed(8)
    XY = torch.randn(4, 5, generator=g, dtype=torch.float64) * torch.tensor([[0.5], [1.0], [2.0], [3.0]])
    w = torch.randn(2 ** 20, 5, generator=g, dtype=torch.float64)       # w ~ N(0, I_5)
    Z = w @ XY.T                                                         # (N, 4)
    for order, feat in ((0, (Z > 0).to(torch.float64)), (1, torch.relu(Z))):
        terms = 2 * feat[:, :, None] * feat[:, None, :]                  # (N, 4, 4): k_n = 2 E[...]
        mc, se = terms.mean(0), terms.std(0) / math.sqrt(len(w))
        K = arccos_kernel(XY, order=order)
        # a mean of 2^20 i.i.d. terms: 5 se, probability 5.7e-7 per entry (10 distinct entries)
        assert bool(((mc - K).abs() <= 5 * se).all()), ((mc - K).abs() / se).max()


def test_arccos_kernel_keeps_full_relative_accuracy_near_theta_0_and_pi():
    r, delta = 1.7, 1e-9
    phi = math.atan2(delta, r)                              # 5.9e-10, to the last bit
    for sign in (1.0, -1.0):
        X = torch.tensor([[r, 0.0, 0.0], [sign * r, delta, 0.0]], dtype=torch.float64)
        # theta = phi (sign +1) or pi - phi (sign -1); psi = pi - theta without cancellation
        psi = math.pi - phi if sign > 0 else phi
        k0 = float(arccos_kernel(X, order=0)[0, 1])
        # Kahan's formula gives theta to a few ulps, so k0 = psi/pi to a few eps relative.  Naive
        # arccos(cos) gives theta = 0 or pi here: k0 = 1 (relative error 1.9e-10) or 0 (relative error 1).
        assert k0 == pytest.approx(psi / math.pi, rel=1e-14, abs=0.0)
        k1 = float(arccos_kernel(X, order=1)[0, 1])
        norm_y = math.hypot(r, delta)
        # J_1 = sin(theta) + psi cos(theta), cos(theta) = sign cos(phi); near pi it is ~ psi^3/3 ~ 7e-29
        # and both forms cancel: agreement to eps-level absolute error in units of |x||y|/pi, no better.
        want = r * norm_y / math.pi * (math.sin(phi) + psi * sign * math.cos(phi))
        assert abs(k1 - want) <= 4e-16 * r * norm_y


# -- kernel regression and the NTK flow -------------------------------------------------------------
def _well_conditioned_problem(n=20, n_test=6, d=5):
    g = torch.Generator().manual_seed(9)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    Xs = torch.randn(n_test, d, generator=g, dtype=torch.float64)
    y = torch.sin(X.sum(1))
    f0X, f0x = 0.1 * torch.randn(n, generator=g, dtype=torch.float64), 0.1 * torch.randn(n_test, generator=g,
                                                                                            dtype=torch.float64)
    return ntk_kernel(X), ntk_kernel(Xs, X), y, f0X, f0x


def test_flow_prediction_is_f0_at_t_0_and_kernel_regression_at_t_infinity():
    K, Kx, y, f0X, f0x = _well_conditioned_problem()
    lam = torch.linalg.eigvalsh(K)
    cond = float(lam[-1] / lam[0])
    assert cond < 1e3                                   # well conditioned: solves are exact to ~cond * n eps
    assert bool((ntk_flow_prediction(K, Kx, y, f0X, f0x, t=0.0, lr=0.3) == f0x).all())
    ridgeless = kernel_regression(K, y - f0X, Kx, 0.0) + f0x
    torch.testing.assert_close(ntk_flow_prediction(K, Kx, y, f0X, f0x, t=math.inf, lr=0.3), ridgeless,
                               rtol=1e-10, atol=1e-12)
    # finite t with exp(-lr t lambda_min / n) = e^-40 ~ 4e-18: (*) equals the limit to rounding
    t = 40 * 20 / (0.3 * float(lam[0]))
    torch.testing.assert_close(ntk_flow_prediction(K, Kx, y, f0X, f0x, t=t, lr=0.3), ridgeless,
                               rtol=1e-10, atol=1e-12)
    # a sequence of times stacks the scalar results
    out = ntk_flow_prediction(K, Kx, y, f0X, f0x, t=[0.0, 5.0, math.inf], lr=0.3)
    assert out.shape == (3, 6)
    torch.testing.assert_close(out[1], ntk_flow_prediction(K, Kx, y, f0X, f0x, t=5.0, lr=0.3), rtol=1e-15, atol=0.0)
    # the ridgeless solve agrees with a direct one, and so does ridge > 0 (both to ~cond * n eps)
    for ridge in (0.0, 0.05):
        want = Kx @ torch.linalg.solve(K + ridge * torch.eye(20, dtype=torch.float64), y)
        torch.testing.assert_close(kernel_regression(K, y, Kx, ridge), want, rtol=1e-10, atol=1e-12)


def test_ridgeless_linear_kernel_regression_is_least_squares():
    rng = np.random.default_rng(10)
    X, Xs = rng.standard_normal((30, 4)), rng.standard_normal((7, 4))
    y = rng.standard_normal((30, 2))                                     # two outputs at once
    want = Xs @ np.linalg.lstsq(X, y, rcond=None)[0]
    got = kernel_regression(X @ X.T, y, Xs @ X.T, 0.0, pinv=True)
    assert isinstance(got, np.ndarray) and got.shape == (7, 2)
    # K = X X^T has condition cond(X)^2 (~10 here) on its range; the cutoff n eps lambda_max drops the
    # 26 null eigenvalues (|lambda| ~ eps lambda_max): agreement to ~cond(X)^2 n eps ~ 1e-13
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"singular: 26 of its 30 eigenvalues"):
        kernel_regression(X @ X.T, y, Xs @ X.T, 0.0)


def test_kernel_regression_refuses_bad_gram_matrices():
    K = np.array([[1.0, 2.0], [2.0, 1.0]])                               # eigenvalues 3, -1
    with pytest.raises(ValueError, match="not positive semi-definite"):
        kernel_regression(K, np.ones(2), K, 0.1)
    with pytest.raises(ValueError, match="not symmetric"):
        kernel_regression(np.array([[1.0, 0.5], [0.0, 1.0]]), np.ones(2), np.eye(2), 0.0)
    with pytest.raises(ValueError, match="ridge"):
        kernel_regression(np.eye(2), np.ones(2), np.eye(2), -1.0)


def _linearised_gd(J, Jx, f0X, f0x, y, lr, steps):
    """Full-batch gradient descent on (1/(2n)) sum (f_lin - y)^2 for f_lin = f0 + J (theta - theta0)."""
    n = J.shape[0]
    delta = torch.zeros(J.shape[1], dtype=torch.float64)
    for _ in range(steps):
        delta -= lr * J.T @ (f0X + J @ delta - y) / n
    return f0X + J @ delta, f0x + Jx @ delta


def _linearised_problem():
    n, d, m = 8, 3, 64
    g = torch.Generator().manual_seed(11)
    X, Xs = torch.randn(n, d, generator=g, dtype=torch.float64), torch.randn(5, d, generator=g, dtype=torch.float64)
    y = torch.cos(2 * X[:, 0]) + X[:, 1]
    net = TwoLayerReLU(d, m, generator=g)
    a, W = net.a.detach(), net.W.detach()
    jac = torch.func.jacrev(two_layer_relu, argnums=(0, 1))
    J = torch.cat([j.reshape(n, -1) for j in jac(a, W, X)], 1)           # (n, P), P = m (d + 1)
    Jx = torch.cat([j.reshape(len(Xs), -1) for j in jac(a, W, Xs)], 1)
    K, Kx = empirical_ntk(net, X), empirical_ntk(net, Xs, X)
    torch.testing.assert_close(K, J @ J.T, rtol=1e-12, atol=1e-13)      # the NTK is the Jacobian's Gram matrix
    torch.testing.assert_close(Kx, Jx @ J.T, rtol=1e-12, atol=1e-13)
    return J, Jx, net(X).detach(), net(Xs).detach(), y, K, Kx


def test_linearised_gradient_descent_is_the_discrete_ntk_recursion():
    J, Jx, f0X, f0x, y, K, Kx = _linearised_problem()
    n, lam = len(y), torch.linalg.eigvalsh(K)
    lr, steps = 0.5 * n / float(lam[-1]), 200
    fX, fx = _linearised_gd(J, Jx, f0X, f0x, y, lr, steps)
    # f_X(k) - y = (I - lr K/n)^k (f0 - y) and f_x(k) = f0_x + K_xX K^{-1} (I - (I - lr K/n)^k)(y - f0), exactly
    A = torch.linalg.matrix_power(torch.eye(n, dtype=torch.float64) - lr * K / n, steps)
    torch.testing.assert_close(fX, y + A @ (f0X - y), rtol=1e-10, atol=1e-12)
    want_x = f0x + Kx @ torch.linalg.solve(K, (torch.eye(n, dtype=torch.float64) - A) @ (y - f0X))
    # K's condition (~1e2 here) times 200 steps of eps rounding: ~1e-11
    assert float(lam[-1] / lam[0]) < 1e3
    torch.testing.assert_close(fx, want_x, rtol=1e-10, atol=1e-10)


def test_ntk_gd_prediction_is_the_linearised_gradient_descent_exactly():
    from genlab.kernels import ntk_gd_prediction

    J, Jx, f0X, f0x, y, K, Kx = _linearised_problem()
    n, lam = len(y), torch.linalg.eigvalsh(K)
    for lr in (0.5 * n / float(lam[-1]), 1.5 * n / float(lam[-1])):   # monotone and oscillating (x > 1) modes
        steps = 200
        _, fx = _linearised_gd(J, Jx, f0X, f0x, y, lr, steps)
        # the same float64 recursion, summed in another order: K's condition (< 1e3) x 200 steps x eps
        torch.testing.assert_close(ntk_gd_prediction(K, Kx, y, f0X, f0x, steps, lr), fx, rtol=1e-10, atol=1e-10)
    assert torch.equal(ntk_gd_prediction(K, Kx, y, f0X, f0x, 0, 1.0), f0x)
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        ntk_gd_prediction(K, Kx, y, steps=-1)


def test_linearised_gradient_descent_approaches_the_ntk_flow_at_order_lr():
    J, Jx, f0X, f0x, y, K, Kx = _linearised_problem()
    n = len(y)
    lam, U = torch.linalg.eigh(K)
    lam_np = lam.numpy()
    tau = 4.0 * n / lam_np[-1]                            # flow time: the fastest mode decays by e^-4
    lr = 0.005 * n / lam_np[-1]                           # x_k = lr lambda_k / n <= 0.005
    steps = int(round(tau / lr))                          # 800
    flow_X = ntk_flow_prediction(K, K, y, f0X, f0X, t=steps, lr=lr)
    flow_x = ntk_flow_prediction(K, Kx, y, f0X, f0x, t=steps, lr=lr)
    gaps, gaps_x = [], []
    for h, k in ((lr, steps), (lr / 2, 2 * steps)):
        fX, fx = _linearised_gd(J, Jx, f0X, f0x, y, h, k)
        gaps.append(fX - flow_X)
        gaps_x.append(fx - flow_x)

    # Along eigenvector u_k of K, gradient descent has (1 - x_k)^(tau/h) where the flow has exp(-tau'_k),
    # x_k = h lambda_k / n, tau'_k = tau lambda_k / n.  Their difference e_k(h) is of one sign and
    # |e_k(h)| <= exp(-tau'_k) tau'_k x_k / (2 (1 - x_k))   (1 - e^-u <= u; -log(1-x) - x <= x^2/(2(1-x))),
    # which is O(h).  On the data, the gap is sum_k c_k e_k(h) u_k with c_k = <u_k, f0 - y>.
    def e(h):
        return (1 - h * lam_np / n) ** (tau / h) - np.exp(-tau * lam_np / n)
    c = (U.T @ (f0X - y)).numpy()
    x, tau_k = lr * lam_np / n, tau * lam_np / n
    first_order = np.exp(-tau_k) * tau_k * x / (2 * (1 - x))
    assert float(torch.linalg.vector_norm(gaps[0])) <= np.linalg.norm(c * first_order) * (1 + 1e-6)
    # ||gap(lr)|| / ||gap(lr/2)|| lies between the smallest and largest r_k = e_k(lr) / e_k(lr/2), each
    # 2 (1 + x_k (2/3 - tau'_k/4) / 2 + O(x^2)): within 0.5% of 2 here.  1e-6: rounding of the 1600 GD
    # steps (~1e-13) against gaps of ~1e-4.
    r = e(lr) / e(lr / 2)
    assert 1.99 < r.min() and r.max() < 2.01
    ratio = float(torch.linalg.vector_norm(gaps[0]) / torch.linalg.vector_norm(gaps[1]))
    assert r.min() * (1 - 1e-6) <= ratio <= r.max() * (1 + 1e-6), (ratio, r.min(), r.max())
    # Off the data the gap is sum_k e_k(h) w_k with w_k = c_k K_xX u_k / lambda_k (not orthogonal), so
    # | ||gap(lr)|| - 2 ||gap(lr/2)|| | <= ||gap(lr) - 2 gap(lr/2)|| <= max_k |r_k - 2| sum_k |e_k(lr/2)| |w_k|.
    w = np.linalg.norm((Kx @ U).numpy() * c / lam_np, axis=0)
    slack = np.max(np.abs(r - 2)) * np.sum(np.abs(e(lr / 2)) * w)
    gap_x = [float(torch.linalg.vector_norm(g)) for g in gaps_x]
    assert abs(gap_x[0] - 2 * gap_x[1]) <= slack * (1 + 1e-6) + 1e-6 * gap_x[1], (gap_x, slack)


def test_flow_loss_is_the_loss_of_the_flow_prediction_and_obeys_the_lambda_min_bound():
    K, _, y, f0X, _ = _well_conditioned_problem()
    n, lr = len(y), 0.3
    ts = np.array([0.0, 1.0, 10.0, 100.0, 1000.0])
    loss = ntk_flow_loss(K, y, f0X, t=ts, lr=lr)
    pred = ntk_flow_prediction(K, K, y, f0X, f0X, t=ts, lr=lr)          # (T, n): the flow on the data
    torch.testing.assert_close(loss, ((pred - y) ** 2).sum(1) / (2 * n), rtol=1e-10, atol=1e-15)
    assert ntk_flow_loss(K, y, f0X, t=0.0, lr=lr) == pytest.approx(float(((f0X - y) ** 2).sum()) / (2 * n),
                                                                   rel=1e-13)
    assert ntk_flow_loss(K, y, f0X, t=math.inf, lr=lr) == 0.0              # full rank: the flow interpolates
    lam_min = torch.linalg.eigvalsh(K)[0]
    bound = torch.exp(-2 * lr * torch.as_tensor(ts) * lam_min / n) * loss[0]
    assert bool((loss <= bound * (1 + 1e-12)).all()) and bool((torch.diff(loss) < 0).all())


def test_ntk_min_eigenvalue_of_orthonormal_inputs_and_du_et_al_lambda_0():
    d = 4
    # orthonormal x_i: Theta = (1/d) I off-diagonals 1/(2 pi d) (theta = pi/2: k_1 = 1/pi, <x,y> = 0),
    # so lambda_min = (1 - 1/(2 pi)) / d; the hidden part is diag(1/(2d))
    assert ntk_min_eigenvalue(np.eye(d)) == pytest.approx((1 - 1 / (2 * math.pi)) / d, rel=1e-13)
    assert ntk_min_eigenvalue(np.eye(d), part="hidden") == pytest.approx(1 / (2 * d), rel=1e-13)
    # Du et al.'s H^oo_ij = <x_i,x_j> (pi - arccos <x_i,x_j>) / (2 pi) for unit x: d times the hidden part
    rng = np.random.default_rng(12)
    X = rng.standard_normal((9, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    G = np.clip(X @ X.T, -1, 1)
    H = G * (np.pi - np.arccos(G)) / (2 * np.pi)
    np.fill_diagonal(H, 0.5)                                              # theta = 0 exactly on the diagonal
    # off the diagonal no pair is near-parallel: arccos is good to ~1e-14 there
    assert d * ntk_min_eigenvalue(X, part="hidden") == pytest.approx(np.linalg.eigvalsh(H)[0], rel=1e-10)


# -- memory guard ------------------------------------------------------------------------------------
def test_memory_guard_refuses_before_allocating():
    # 2^20 copies of one row, stored once (a stride-0 view): the Gram matrix would be 8 TiB, which this
    # machine cannot allocate, so a ValueError (not an out-of-memory error) shows the refusal came first.
    X = torch.zeros(1, 3, dtype=torch.float64).expand(2 ** 20, 3)
    for fn in (ntk_kernel, nngp_kernel, arccos_kernel, ntk_min_eigenvalue):
        with pytest.raises(ValueError, match=rf"1048576 x 1048576 float64 .* max_bytes = {DEFAULT_MAX_BYTES} ") as info:
            fn(X)
        assert "\n" not in str(info.value)
    net = TwoLayerReLU(3, 10, generator=_gen(13))
    with pytest.raises(ValueError, match="1048576 x 1048576"):
        empirical_ntk(net, X)
    # the width-sized feature matrix is guarded too: 10 x 4096 floats = 320 KiB > 100 KiB
    wide = TwoLayerReLU(3, 4096, generator=_gen(14))
    with pytest.raises(ValueError, match=r"feature matrix of X of 10 x 4096 .* max_bytes = 102400 "):
        empirical_ntk(wide, torch.zeros(10, 3, dtype=torch.float64), max_bytes=100 * 1024)
    with pytest.raises(ValueError, match=r"Jacobian of 10 x 16384"):
        empirical_ntk(wide, torch.zeros(10, 3, dtype=torch.float64), method="autograd", max_bytes=100 * 1024)
