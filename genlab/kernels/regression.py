r"""Predictions built on a kernel: kernel (ridge) regression and NTK gradient flow in the linear regime.

Loss convention, fixed for all of genlab: the mean squared error with a 1/2,

    L(theta) = (1/(2n)) sum_i (f(x_i; theta) - y_i)^2,

minimised by gradient descent theta_{k+1} = theta_k - lr grad L(theta_k).
In the linear regime (Lee et al. 2019, NeurIPS, "Wide neural networks of any
depth evolve as linear models under gradient descent"), f(x; theta) =
f(x; theta_0) + <grad f(x; theta_0), theta - theta_0>, so with K = K(X, X)
the NTK Gram matrix of the n training inputs and K_xX = K(x, X),

    f_X(k+1) = f_X(k) - (lr/n) K (f_X(k) - y),   f_x(k+1) = f_x(k) - (lr/n) K_xX (f_X(k) - y).

As lr -> 0 at fixed flow time tau = lr t (t = the number of steps), this is
the ODE d f_X / d tau = -(1/n) K (f_X - y), solved by

    f_X(tau) - y = exp(-tau K / n) (f_X(0) - y),
    f_x(tau) = f_x(0) + K_xX K^{-1} (I - exp(-tau K / n)) (y - f_X(0)),        (*)

(integrate the second update: -(1/n) int_0^tau exp(-s K/n) ds = K^{-1}(exp(-tau K/n) - I)).
With K = U diag(lambda) U^T, K^{-1}(I - exp(-tau K/n)) = U diag(g) U^T where
g(lambda) = -expm1(-tau lambda / n) / lambda, which tends to tau/n as lambda ->
0, so (*) is evaluated without dividing by small eigenvalues.  Eigenvalues at
or below the numerical-rank cutoff n eps lambda_max are treated as zero:
along their eigenvectors the flow moves nothing on the data (K u = 0), nor
anywhere else for a positive semi-definite joint kernel (K_xX u = 0), so they
get g = 0 at every tau; as tau -> oo, (*) becomes the ridgeless kernel
regression K_xX K^+ (y - f_X(0)) + f_x(0).  Gradient descent with step lr
agrees with (*) up to O(lr) at fixed tau (it is (I - lr K/n)^t in place of
exp(-tau K/n)) and diverges unless lr < 2 n / lambda_max.

The training loss along the flow is
L(tau) = (1/(2n)) sum_k exp(-2 tau lambda_k / n) <u_k, f_X(0) - y>^2
<= exp(-2 tau lambda_min / n) L(0)  (cf. Du, Zhai, Poczos & Singh 2019, ICLR).

Arrays may be numpy or torch; the computation is float64 and the result has
the kind of ``K_train``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.kernels._arrays import as_float64, check_number, is_torch, like

__all__ = ["kernel_regression", "ntk_flow_prediction", "ntk_gd_prediction", "ntk_flow_loss"]

_EPS = float(np.finfo(np.float64).eps)


def _gram_eigh(K_train, name: str = "K_train"):
    """Eigenvalues (ascending), eigenvectors and the rank cutoff n eps lambda_max of a PSD Gram matrix."""
    K = as_float64(K_train, name)
    n = K.shape[0]
    if K.shape != (n, n) or n == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {tuple(K.shape)}")
    scale = float(K.abs().max())
    # Rounding leaves an asymmetry of a few eps * scale; anything far above is not a Gram matrix.
    asym = float((K - K.T).abs().max())
    if asym > math.sqrt(_EPS) * scale:
        raise ValueError(f"{name} is not symmetric: max |K - K^T| = {asym:.3g} for max |K| = {scale:.3g}")
    lam, U = torch.linalg.eigh((K + K.T) / 2.0)
    cutoff = n * _EPS * float(lam.abs().max())
    if float(lam[0]) < -cutoff:
        raise ValueError(f"{name} is not positive semi-definite: its smallest eigenvalue is {float(lam[0]):.3g} "
                         f"< -{cutoff:.3g} (= -n eps lambda_max); a kernel Gram matrix must be PSD")
    return lam, U, cutoff


def _targets(y, n: int, name: str) -> torch.Tensor:
    t = as_float64(y, name, (1, 2))
    if t.shape[0] != n:
        raise ValueError(f"{name} must have n = {n} rows (those of K_train), got shape {tuple(t.shape)}")
    return t


def _cross(K_test_train, n: int) -> torch.Tensor:
    t = as_float64(K_test_train, "K_test_train")
    if t.shape[1] != n:
        raise ValueError(f"K_test_train must have shape (n_test, {n}), got {tuple(t.shape)}")
    return t


def kernel_regression(K_train, y, K_test_train, ridge: float = 0.0, *, pinv: bool = False):
    """Kernel ridge regression f(x) = K(x, X) (K(X, X) + ridge I)^{-1} y, by eigendecomposition.

    The minimiser over the RKHS of sum_i (f(x_i) - y_i)^2 + ridge ||f||_H^2 (representer
    theorem; note: ridge multiplies the SUM of squares, so ridge = n lambda for a mean-loss
    penalty lambda).  ridge = 0 gives the minimum-norm interpolant K_xX K^{-1} y; a singular
    K + ridge I (an eigenvalue <= n eps lambda_max) is refused with a ValueError, unless
    ``pinv=True``: then it gives the ridgeless limit K_xX K^+ y (the minimum-norm least-squares
    fit: for the linear kernel K = X X^T with n > d, the least-squares predictions).

    Parameters
    ----------
    K_train : array, shape (n, n), symmetric positive semi-definite
    y : array, shape (n,) or (n, k)
    K_test_train : array, shape (n_test, n)
    ridge : float >= 0
    pinv : bool

    Returns
    -------
    array, shape (n_test,) or (n_test, k), float64; torch if K_train is a tensor, else numpy.
    """
    ridge = check_number("ridge", ridge, positive=False)
    lam, U, cutoff = _gram_eigh(K_train)
    n = lam.shape[0]
    yt, Kx = _targets(y, n, "y"), _cross(K_test_train, n)
    mu = lam + ridge
    cut = n * _EPS * float(mu.abs().max())
    keep = mu > cut
    if not bool(keep.all()) and not pinv:
        raise ValueError(f"K_train + ridge I is singular: {int((~keep).sum())} of its {n} eigenvalues are "
                         f"<= {cut:.3g} (n eps lambda_max), so the system has no unique solution; give ridge > 0, "
                         "or pinv=True for the ridgeless-limit (minimum-norm least-squares) solution")
    inv = torch.where(keep, 1.0 / torch.where(keep, mu, 1.0), 0.0)            # (n,)
    coef = U.T @ yt                                                            # (n,) or (n, k)
    alpha = U @ (inv * coef if coef.ndim == 1 else inv[:, None] * coef)        # (K + ridge I)^{-1} y
    return like(Kx @ alpha, is_torch(K_train))


def _times(t, lr) -> tuple[torch.Tensor, bool]:
    """Flow times tau = lr t as a 1-D tensor, and whether t was a scalar."""
    lr = check_number("lr", lr, positive=True)
    ta = torch.as_tensor(np.asarray(t.detach().cpu() if is_torch(t) else t, dtype=np.float64))
    scalar = ta.ndim == 0
    ta = ta.reshape(-1)
    if ta.numel() == 0 or bool(torch.isnan(ta).any()) or bool((ta < 0).any()):
        raise ValueError(f"t must be >= 0 (inf allowed), a number or a 1-D sequence, got {t!r}")
    return lr * ta, scalar


def ntk_flow_prediction(K_train, K_test_train, y, f0_train=None, f0_test=None, t=math.inf, lr: float = 1.0):
    """NTK gradient-flow prediction f_x(tau) at flow time tau = lr t, eq. (*) of the module docstring.

    f_t = f0 + K_xX K^{-1} (I - exp(-lr t K / n)) (y - f0_X) for the loss (1/(2n)) sum (f - y)^2
    (Jacot et al. 2018; Lee et al. 2019), through the eigendecomposition of K so that small
    eigenvalues are stable ((1 - e^{-c lambda})/lambda -> c).  Only the product lr t matters:
    t steps of gradient descent with step lr approach this at O(lr).  t = 0 returns f0_test
    exactly; t = inf returns ``kernel_regression(K_train, y - f0_train, K_test_train, 0, pinv=True)
    + f0_test``.

    Parameters
    ----------
    K_train : array, shape (n, n), symmetric PSD
    K_test_train : array, shape (n_test, n); use K_train for predictions on the training inputs
    y : array, shape (n,) or (n, k)
    f0_train, f0_test : arrays shaped like y and (n_test, ...), the outputs at initialisation
        (None: zero, e.g. for an antisymmetric initialisation or the kernel alone)
    t : float >= 0 or 1-D sequence of them (inf allowed): time in steps of size lr
    lr : float > 0

    Returns
    -------
    array, shape (n_test,) or (n_test, k); with a sequence t, (len(t), n_test[, k]).
    """
    lam, U, cutoff = _gram_eigh(K_train)
    n = lam.shape[0]
    yt, Kx = _targets(y, n, "y"), _cross(K_test_train, n)
    f0X = torch.zeros_like(yt) if f0_train is None else _targets(f0_train, n, "f0_train")
    f0x = (torch.zeros((Kx.shape[0],) + tuple(yt.shape[1:]), dtype=torch.float64) if f0_test is None
           else as_float64(f0_test, "f0_test", (1, 2)))
    if f0X.shape != yt.shape or f0x.shape != (Kx.shape[0],) + tuple(yt.shape[1:]):
        raise ValueError(f"f0_train must be shaped like y {tuple(yt.shape)} and f0_test like "
                         f"({Kx.shape[0]},) + y.shape[1:], got {tuple(f0X.shape)} and {tuple(f0x.shape)}")
    tau, scalar = _times(t, lr)
    live = lam > cutoff
    lam_safe = torch.where(live, lam, 1.0)
    g = torch.where(live, -torch.expm1(-tau[:, None] * lam_safe / n) / lam_safe, 0.0)   # (T, n)
    coef = (U.T @ (yt - f0X)).reshape(n, -1)                                         # (n, k)
    out = f0x.reshape(1, Kx.shape[0], -1) + (Kx @ U) @ (g[:, :, None] * coef)          # (T, n_test, k)
    out = out.reshape((tau.shape[0],) + tuple(f0x.shape))
    return like(out[0] if scalar else out, is_torch(K_train))


def ntk_gd_prediction(K_train, K_test_train, y, f0_train=None, f0_test=None, steps: int = 1, lr: float = 1.0):
    """The linearised network after ``steps`` steps of gradient descent with step ``lr``: the discrete
    recursion of the module docstring, exactly, where `ntk_flow_prediction` is its lr -> 0 limit.

    f_x(t) = f0_x + K_xX K^{-1} (I - (I - lr K / n)^t) (y - f0_X), through the eigendecomposition of K:
    K^{-1} (I - (I - lr K/n)^t) = U diag(g) U^T, g(lambda) = (1 - (1 - lr lambda / n)^t) / lambda (->
    t lr / n as lambda -> 0; computed as -expm1(t log1p(-lr lambda / n)) / lambda where lr lambda / n < 1).
    A network trained by gradient descent with the same step differs from it only by its finite width,
    not by the O(lr) of gradient descent against gradient flow.

    Parameters
    ----------
    K_train : array, shape (n, n), symmetric PSD;  K_test_train : array, shape (n_test, n)
    y : array, shape (n,);  f0_train, f0_test : arrays, shapes (n,), (n_test,) (None: zero)
    steps : int >= 0;  lr : float > 0

    Returns
    -------
    array, shape (n_test,), of the kind of K_train.
    """
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    lr = check_number("lr", lr, positive=True)
    lam, U, cutoff = _gram_eigh(K_train)
    n = lam.shape[0]
    yt, Kx = _targets(y, n, "y"), _cross(K_test_train, n)
    if yt.ndim != 1:
        raise ValueError(f"y must have shape (n,), got {tuple(yt.shape)}")
    f0X = torch.zeros_like(yt) if f0_train is None else _targets(f0_train, n, "f0_train")
    f0x = torch.zeros(Kx.shape[0], dtype=torch.float64) if f0_test is None else as_float64(f0_test, "f0_test", (1,))
    if f0X.shape != yt.shape or f0x.shape != (Kx.shape[0],):
        raise ValueError(f"f0_train must have shape {tuple(yt.shape)} and f0_test ({Kx.shape[0]},), got "
                         f"{tuple(f0X.shape)} and {tuple(f0x.shape)}")
    live = lam > cutoff
    lam_safe = torch.where(live, lam, 1.0)
    x = lr * lam_safe / n
    t = float(steps)
    small = x < 1
    decayed = torch.where(small, -torch.expm1(t * torch.log1p(-torch.where(small, x, 0.0))),
                          1.0 - (1.0 - x) ** t)                        # 1 - (1 - x)^t
    g = torch.where(live, decayed / lam_safe, 0.0)
    out = f0x + (Kx @ U) @ (g * (U.T @ (yt - f0X)))
    return like(out, is_torch(K_train))


def ntk_flow_loss(K_train, y, f0_train=None, t=math.inf, lr: float = 1.0):
    """Training loss L = (1/(2n)) sum_i |f(x_i) - y_i|^2 along the NTK gradient flow at tau = lr t.

    L(tau) = (1/(2n)) sum_k exp(-2 tau lambda_k / n) <u_k, f0_X - y>^2, at most
    exp(-2 tau lambda_min / n) L(0): the linear convergence rate of Du, Zhai, Poczos & Singh
    2019 in this module's conventions (with `genlab.kernels.ntk_min_eigenvalue`).  Eigenvalues at
    or below n eps lambda_max count as 0 (their part of the residual never decays).

    Parameters
    ----------
    K_train : array, shape (n, n), symmetric PSD
    y, f0_train : arrays, shape (n,) or (n, k) (f0_train None: zero)
    t : float >= 0 or 1-D sequence (inf allowed), in steps of size lr;  lr : float > 0

    Returns
    -------
    float for a scalar t; otherwise an array of shape (len(t),) of the kind of K_train.
    """
    lam, U, cutoff = _gram_eigh(K_train)
    n = lam.shape[0]
    yt = _targets(y, n, "y")
    f0X = torch.zeros_like(yt) if f0_train is None else _targets(f0_train, n, "f0_train")
    if f0X.shape != yt.shape:
        raise ValueError(f"f0_train must be shaped like y {tuple(yt.shape)}, got {tuple(f0X.shape)}")
    tau, scalar = _times(t, lr)
    lam0 = torch.where(lam > cutoff, lam, 0.0)
    c2 = ((U.T @ (f0X - yt)).reshape(n, -1) ** 2).sum(dim=1)                 # (n,)
    decay = torch.exp(-2.0 * tau[:, None] * lam0 / n)                         # (T, n); 0 * inf -> nan guarded below
    decay = torch.where(lam0 == 0, 1.0, decay)
    loss = decay @ c2 / (2.0 * n)                                              # (T,)
    return float(loss[0]) if scalar else like(loss, is_torch(K_train))
