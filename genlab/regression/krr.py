r"""Kernel ridge regression with the infinite-width two-layer ReLU NTK, and the NTK gradient-flow predictor.

The kernel is `genlab.kernels.ntk_kernel`, Theta(x, y) = [k_1(x, y) + <x, y> k_0(x, y)] / (2 d),
the NTK of f(x) = m^{-1/2} sum_j a_j relu(<w_j, x> / sqrt d) as m -> oo (Jacot, Gabriel &
Hongler 2018).  Kernel ridge regression is

    f_hat(x) = K(x, X) alpha,    alpha = (K(X, X) + ridge I)^{-1} y,

the minimiser of sum_i (f(x_i) - y_i)^2 + ridge ||f||^2_H (`genlab.kernels.kernel_regression`).
Convention: ``ridge`` multiplies the identity, i.e. it penalises the SUM of squares; the
per-sample penalty of (1/n) sum_i (f(x_i) - y_i)^2 + lambda ||f||^2_H is lambda = ridge / n.
The held-out search runs over lambda (``lambdas``), so that the same grid means the same
regularisation on the 80% split and on all n points.

The bias coordinate.  The kernel has no bias: every function of its RKHS (and every
bias-free ReLU network) is positively 1-homogeneous, f(c x) = c f(x) for c >= 0, so f(0)
= 0 and KRR tends to the L2(P_X) projection of f* onto the closure of such functions, not
to f*: a generic f* (a constant, (z^2 - 1)/sqrt 2, f* of `SmoothTarget`) leaves an excess
risk that does not vanish as n grows.  ``bias=True`` appends a constant coordinate, x ->
(x, 1) (the kernels module's recipe for a bias, d -> d + 1): the RKHS is then that of
the NTK on the hemisphere of S^d that (x, 1)/|(x, 1)| maps R^d onto, a Sobolev space of
order (d + 1)/2 there (Bietti & Mairal 2019; Chen & Xu 2021), and KRR is consistent.
`NTKRidge` uses it by default; `ntk_flow_regressor`, which predicts the bias-free network
of `genlab.kernels.TwoLayerReLU`, does not.

Memory: the n x n Gram matrix is refused before allocation when 8 n^2 bytes exceed
``max_bytes`` (`genlab.kernels` guard: the message names max_bytes and the limit); the
fit holds a few matrices of that size at once (Gram, eigenvectors, identity), and
predictions are computed in blocks of test points.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

from genlab.core.validation import check_nonnegative, check_points
from genlab.kernels import DEFAULT_MAX_BYTES, kernel_regression, ntk_flow_prediction, ntk_kernel
from genlab.kernels._arrays import check_matrix_bytes
from genlab.regression.held_out import held_out_split, select_by_held_out

__all__ = ["NTKRidge", "NTKPredictor", "ntk_flow_regressor", "LAMBDAS"]

#: the default grid of per-sample penalties lambda = ridge / n searched by held-out error
#: (half-decade steps from 1e-8 to 10: at sigma = 0.1 and n ~ 2000 the choice already reaches 3e-6)
LAMBDAS = tuple(float(v) for v in np.logspace(-8, 1, 19))

# a block of test points against the n training points stays near 128 MiB (ntk_kernel peaks at ~8 such)
_BLOCK_BYTES = 1 << 27


def _inputs(x, bias: bool) -> torch.Tensor:
    """(n, d) float64 inputs, with a column of ones appended when ``bias``."""
    x = check_points("x", x).to(torch.float64)
    return torch.cat([x, torch.ones(x.shape[0], 1, dtype=torch.float64)], dim=1) if bias else x


def _labels(y, n: int) -> torch.Tensor:
    y = torch.as_tensor(y).to(torch.float64)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match x, got {tuple(y.shape)}")
    if not bool(torch.isfinite(y).all()):
        raise ValueError("y contains NaN or inf")
    return y


class NTKPredictor:
    """f_hat(x) = offset(x) + K(x, X) alpha with K the (bias-augmented) infinite-width NTK.

    Parameters
    ----------
    x_train : Tensor, shape (n, d)
        The training inputs X (without the bias column).
    alpha : Tensor, shape (n,)
        The coefficients.
    bias : bool
        Whether K is the NTK of the inputs with a constant coordinate appended.
    offset : callable, optional
        (k, d) -> (k,), added to the kernel part (the network at initialisation, f_0).
    max_bytes : int
        The Gram guard; test points are processed in blocks.
    """

    def __init__(self, x_train, alpha, *, bias: bool, offset: Callable | None = None,
                 max_bytes: int = DEFAULT_MAX_BYTES):
        self.x_train = check_points("x_train", x_train).to(torch.float64)
        self.alpha = _labels(alpha, self.x_train.shape[0])
        self.bias, self.offset, self.max_bytes = bool(bias), offset, max_bytes

    def predict(self, x) -> torch.Tensor:
        """f_hat at each row of x; (k, d) -> (k,) float64."""
        x = check_points("x", x, self.x_train.shape[1]).to(torch.float64)
        xt, Xt = _inputs(x, self.bias), _inputs(self.x_train, self.bias)
        rows = max(1, min(self.max_bytes, _BLOCK_BYTES) // (8 * Xt.shape[0]))
        out = torch.cat([ntk_kernel(c, Xt, max_bytes=self.max_bytes) @ self.alpha for c in xt.split(rows)])
        if self.offset is not None:
            out = out + torch.as_tensor(self.offset(x)).to(torch.float64).reshape(-1)
        return out

    __call__ = predict


def _coefficients(K: torch.Tensor, y: torch.Tensor, ridge: float) -> torch.Tensor:
    """alpha = (K + ridge I)^{-1} y, K (n, n), y (n,): by Cholesky when ridge > 0 (K + ridge I is then positive
    definite; a tenth of an eigendecomposition's time at n = 4000), else through `kernel_regression`, whose
    eigendecomposition refuses a numerically singular K (K_test_train = I returns alpha itself)."""
    n = K.shape[0]
    if ridge > 0:
        L, info = torch.linalg.cholesky_ex(K + ridge * torch.eye(n, dtype=K.dtype))
        if int(info) == 0:
            return torch.cholesky_solve(y[:, None], L)[:, 0]
    return kernel_regression(K, y, torch.eye(n, dtype=torch.float64), ridge)


class NTKRidge:
    r"""Kernel ridge regression with the two-layer ReLU NTK, its ridge tuned by held-out error.

    Parameters
    ----------
    bias : bool
        Append a constant coordinate to the inputs (module docstring: without it the
        estimator only reaches 1-homogeneous functions and is not consistent for a generic f*).

    Attributes (after ``fit``)
    --------------------------
    ridge : float
        The ridge of the final fit on all n points (it multiplies I in (K + ridge I)).
    lam : float or None
        The chosen per-sample penalty ridge / n (None when ``ridge`` was given).
    scores : list of float or None
        Held-out mean squared error for each lambda of the grid.
    predictor : NTKPredictor

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(40, 2, generator=g, dtype=torch.float64)
    >>> model = NTKRidge().fit(x, x[:, 0] ** 2, generator=g)
    >>> model.lam in LAMBDAS, model.ridge == 40 * model.lam
    (True, True)
    """

    def __init__(self, *, bias: bool = True):
        if not isinstance(bias, bool):
            raise ValueError(f"bias must be True or False, got {bias!r}")
        self.bias = bias
        self.ridge = self.lam = self.scores = self.predictor = None
        self.lambdas: tuple = ()

    def fit(self, x, y, *, ridge: float | None = None, generator: torch.Generator | None = None,
            lambdas: Sequence[float] = LAMBDAS, fraction: float = 0.2,
            max_bytes: int = DEFAULT_MAX_BYTES) -> "NTKRidge":
        """Fit on x (n, d), y (n,); returns self.

        ridge None: hold out ``fraction`` of the points (`held_out_split` with ``generator``),
        fit on the rest with ridge = n_fit lambda for each lambda of ``lambdas``, keep the
        lambda of least held-out mean squared error (ties: the first), then refit on all n
        points with ridge = n lambda.  A given ``ridge`` (>= 0, the sum-of-squares convention)
        is used on all n points directly; ridge = 0 interpolates and is refused (ValueError)
        when the Gram matrix is numerically singular.
        """
        x = check_points("x", x).to(torch.float64)
        n = x.shape[0]
        y = _labels(y, n)
        check_matrix_bytes(n, n, max_bytes, "NTK Gram matrix")
        if ridge is None:
            self.lambdas = tuple(float(v) for v in lambdas)
            if not self.lambdas or not all(math.isfinite(v) and v > 0 for v in self.lambdas):
                raise ValueError(f"lambdas must be a non-empty sequence of finite numbers > 0, got {lambdas!r}")
            self.lam, self.scores = self._search(x, y, generator, fraction, max_bytes)
            self.ridge = n * self.lam
        else:
            self.lam, self.scores = None, None
            self.ridge = check_nonnegative("ridge", ridge)
        xt = _inputs(x, self.bias)
        K = ntk_kernel(xt, max_bytes=max_bytes)                                          # (n, n)
        alpha = _coefficients(K, y, self.ridge)
        self.predictor = NTKPredictor(x, alpha, bias=self.bias, max_bytes=max_bytes)
        return self

    def _search(self, x, y, generator, fraction, max_bytes) -> tuple[float, list]:
        train, val = held_out_split(x.shape[0], fraction=fraction, generator=generator)
        xt = _inputs(x, self.bias)
        K = ntk_kernel(xt[train], max_bytes=max_bytes)                                    # (n_fit, n_fit)
        Kv = ntk_kernel(xt[val], xt[train], max_bytes=max_bytes)                          # (n_val, n_fit)
        # one eigendecomposition serves the whole grid: (K + r I)^{-1} = U diag(1/(mu + r)) U^T;
        # kernel_regression would redo it per ridge.  mu >= 0 up to rounding (K is PSD).
        mu, U = torch.linalg.eigh(K)
        mu = mu.clamp(min=0.0)
        coef, KvU = U.T @ y[train], Kv @ U                                                 # (n_fit,), (n_val, n_fit)
        n_fit = len(train)

        def held_out_mse(lam: float) -> float:
            pred = KvU @ (coef / (mu + n_fit * lam))
            return float(((pred - y[val]) ** 2).mean())
        return select_by_held_out(self.lambdas, held_out_mse)

    def predict(self, x) -> torch.Tensor:
        """f_hat(x) = K(x, X) alpha; (k, d) -> (k,) float64."""
        if self.predictor is None:
            raise ValueError("NTKRidge is not fitted: call fit(x, y) first")
        return self.predictor.predict(x)


def ntk_flow_regressor(x, y, t: float, *, lr: float = 1.0, f0: Callable | None = None, bias: bool = False,
                       max_bytes: int = DEFAULT_MAX_BYTES) -> NTKPredictor:
    r"""The NTK gradient-flow prediction at time t as a predictor: the infinitely wide network after t steps.

    f_t(x) = f0(x) + K(x, X) K^{-1} (I - exp(-lr t K / n)) (y - f0(X)) for the loss
    (1/(2n)) sum_i (f(x_i) - y_i)^2 (`genlab.kernels.ntk_flow_prediction`; Jacot et al. 2018,
    Lee et al. 2019); t = inf is the minimum-norm interpolant (ridgeless KRR) plus f0.

    Parameters
    ----------
    x : Tensor, shape (n, d);  y : Tensor, shape (n,)
    t : float >= 0 or inf
        Steps of gradient descent of size lr (only lr t matters).
    lr : float > 0
    f0 : callable, optional
        The network at initialisation, (k, d) -> (k,) (None: zero, e.g. a centred initialisation).
    bias : bool
        Append a constant coordinate (False: the bias-free `genlab.kernels.TwoLayerReLU`).
    max_bytes : int

    Returns
    -------
    NTKPredictor
    """
    x = check_points("x", x).to(torch.float64)
    n = x.shape[0]
    y = _labels(y, n)
    check_matrix_bytes(n, n, max_bytes, "NTK Gram matrix")
    f0_train = None if f0 is None else torch.as_tensor(f0(x)).to(torch.float64).reshape(-1)
    K = ntk_kernel(_inputs(x, bias), max_bytes=max_bytes)                                 # (n, n)
    # K_test_train = I returns K^{-1}(I - exp(-lr t K/n)) (y - f0(X)), the coefficients of K(x, X)
    alpha = ntk_flow_prediction(K, torch.eye(n, dtype=torch.float64), y, f0_train=f0_train, t=t, lr=lr)
    return NTKPredictor(x, alpha, bias=bias, offset=f0, max_bytes=max_bytes)
