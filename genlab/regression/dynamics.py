r"""Measurements of the lazy (NTK) and mean-field regimes of a two-layer network: pure functions.

What each should show (m the width, for the networks of `genlab.regression.networks`):

* ``ntk_init_error``: the empirical NTK at initialisation is within O(m^{-1/2}) of the analytic one
  (a mean of m i.i.d. neuron terms; Jacot, Gabriel & Hongler 2018).
* ``weight_movement``: ||theta_T - theta_0|| / ||theta_0|| is O(m^{-1/2}) in the NTK
  parametrisation (each of the m neurons moves O(m^{-1/2}), ||theta_0|| ~ sqrt(m (d+1))), O(1) in
  the mean-field one (each neuron moves O(1); Mei, Montanari & Nguyen 2018; Chizat & Bach 2018),
  O(1/alpha) for the lazy alpha-scaling (Chizat, Oyallon & Bach 2019).
* ``kernel_drift``: ||K_T - K_0||_F / ||K_0||_F of the empirical NTK over training: O(m^{-1/2})
  in the NTK parametrisation (Jacot et al. 2018; Lee et al. 2019), O(1) in mean field.
* ``flow_gap``: the relative rms distance between the trained network's predictions and the NTK
  gradient flow (`genlab.kernels.ntk_flow_prediction` with the analytic kernel) at the same flow
  time: O(m^{-1/2}) + O(lr) in the NTK parametrisation (Lee et al. 2019).
* ``alignment``: how far the first-layer weights turned towards a single-index teacher's direction
  w* (feature learning: Ba, Erdogdu, Suzuki, Wang, Wu & Yang 2022; the NTK's weights stay at their
  random O(d^{-1/2}) overlap: Ghorbani, Mei, Misiakiewicz & Montanari 2019).
* ``twin_distance``: two independently initialised networks trained identically.  In the NTK
  parametrisation their functions stay O(1) apart (each keeps its own Gaussian-process f_0 along
  the directions the flow has not fitted: Lee et al. 2019), O(m^{-1/2}) apart once f_0 is removed
  (centred or lazy networks follow the same kernel flow); in mean field O(m^{-1/2}) apart (both
  follow the same mean-field PDE: Mei, Montanari & Nguyen 2018).
* ``linear_rate``: the loss decay against the rate 2 lambda_min / n of Du, Zhai, Poczos & Singh 2019.

Flow-time bookkeeping: gradient descent with step lr on a `TwoLayerNet` moves the function like the
NTK flow with step lr_eff = ``effective_lr(model, lr)`` = lr * tangent_kernel_scale * loss_scale
against ``model.empirical_ntk`` (derivation in `genlab.regression.networks`): lr for the ntk,
mean-field and lazy parametrisations, m lr for the standard one (whose limit kernel is the
output part only).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.core.validation import check_positive
from genlab.kernels import ntk_flow_prediction, ntk_gd_prediction, ntk_kernel

__all__ = ["effective_lr", "ntk_init_error", "weight_movement", "kernel_drift", "relative_rms",
           "ntk_flow_reference", "flow_gap", "alignment", "twin_distance", "linear_rate"]


def _t(x) -> torch.Tensor:
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float64))
    return t.to(torch.float64)


def _fro(t: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(t.reshape(-1)))


def effective_lr(model, lr: float) -> float:
    """lr_eff = lr * tangent_kernel_scale * loss_scale: the NTK-flow step that gradient descent with step
    lr (times the model's lr_multiplier) takes in function space (`genlab.regression.networks`)."""
    return check_positive("lr", lr) * float(model.tangent_kernel_scale) * float(model.loss_scale)


def ntk_init_error(model, X) -> float:
    """||K_emp - K_inf||_F / ||K_inf||_F on the points X, shape (n_k, d): at initialisation ~ m^{-1/2}.

    K_emp = ``model.empirical_ntk(X)`` (lr_multiplier <grad f, grad f> / tangent_kernel_scale) and
    K_inf = ``genlab.kernels.ntk_kernel(X, part=model.kernel_part)``.  E ||K_emp - K_inf||_F^2 = V / m
    exactly for a, W ~ N(0, 1) (a mean of m i.i.d. centred neuron terms of total variance V); the
    standard parametrisation adds the bias Theta_hid / m.
    """
    X = _t(X)
    K_inf = ntk_kernel(X, part=model.kernel_part)
    return _fro(model.empirical_ntk(X) - K_inf) / _fro(K_inf)


def weight_movement(model, a0, W0) -> float:
    """||theta_T - theta_0|| / ||theta_0|| over (a, W), theta_0 = (a0, W0), shapes (m,) and (m, d).

    Expected O(m^{-1/2}) in the NTK parametrisation, O(1) in mean field (module docstring).
    """
    a, W = model.a.detach().to(torch.float64), model.W.detach().to(torch.float64)
    a0, W0 = _t(a0), _t(W0)
    if a0.shape != a.shape or W0.shape != W.shape:
        raise ValueError(f"a0 and W0 must have shapes {tuple(a.shape)} and {tuple(W.shape)}, got "
                         f"{tuple(a0.shape)} and {tuple(W0.shape)}")
    return math.hypot(_fro(a - a0), _fro(W - W0)) / math.hypot(_fro(a0), _fro(W0))


def kernel_drift(K0, KT) -> float:
    """||K_T - K_0||_F / ||K_0||_F of two Gram matrices of the same shape (n, n)."""
    K0, KT = _t(K0), _t(KT)
    if K0.shape != KT.shape:
        raise ValueError(f"K0 and KT must have the same shape, got {tuple(K0.shape)} and {tuple(KT.shape)}")
    return _fro(KT - K0) / _fro(K0)


def relative_rms(a, b) -> float:
    """||a - b|| / ||b|| (Euclidean norm over all entries; equal shapes)."""
    a, b = _t(a), _t(b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return _fro(a - b) / _fro(b)


def ntk_flow_reference(x_train, y_train, x_test, f0_train, f0_test, t_steps, lr_eff, *, part: str = "both",
                       discrete: bool = False):
    """The NTK gradient-flow prediction on x_test after t_steps steps of size lr_eff, with the analytic kernel.

    ``genlab.kernels.ntk_flow_prediction(K, K_xX, y, f0_train, f0_test, t_steps, lr_eff)`` with
    K = ntk_kernel(x_train, part=part), K_xX = ntk_kernel(x_test, x_train, part=part): the m -> oo,
    lr -> 0 limit of the trained network (Jacot et al. 2018; Lee et al. 2019).  For a `TwoLayerNet`
    trained by `train_regression` with step lr, lr_eff = ``effective_lr(model, lr)`` and part =
    ``model.kernel_part``.

    Parameters
    ----------
    x_train : array, shape (n, d);  y_train, f0_train : arrays, shape (n,)
    x_test : array, shape (n_test, d);  f0_test : array, shape (n_test,)
    t_steps : float >= 0 or 1-D sequence;  lr_eff : float > 0
    discrete : bool
        True: the infinite-width network after exactly t_steps steps of gradient descent of step lr_eff
        (`genlab.kernels.ntk_gd_prediction`, an integer t_steps), in place of the flow at time
        t_steps lr_eff: what a network trained by gradient descent tends to as m grows, without the
        O(lr_eff) between gradient descent and gradient flow.

    Returns
    -------
    tensor, shape (n_test,) (or (len(t_steps), n_test)), float64.
    """
    Xtr, Xte = _t(x_train), _t(x_test)
    K, Kx = ntk_kernel(Xtr, part=part), ntk_kernel(Xte, Xtr, part=part)
    if discrete:
        return ntk_gd_prediction(K, Kx, _t(y_train), _t(f0_train), _t(f0_test), steps=int(t_steps), lr=lr_eff)
    return ntk_flow_prediction(K, Kx, _t(y_train), _t(f0_train), _t(f0_test),
                               t=t_steps, lr=lr_eff)


def flow_gap(model, x_train, y_train, x_test, f0_train, f0_test, steps: int, lr: float) -> float:
    """relative_rms(model(x_test), the infinite-width NTK network after the same steps): ~ m^{-1/2} for ntk.

    ``model`` is a `TwoLayerNet` after ``steps`` steps of gradient descent with step ``lr`` from the
    initial outputs f0_train (n,), f0_test (n_test,); the reference is `ntk_flow_reference` with
    lr_eff = ``effective_lr(model, lr)``, the model's kernel part and ``discrete=True``: the analytic
    kernel's gradient-descent recursion, step for step, so that the gap is the finite width's alone
    (against the flow at time steps x lr_eff an O(lr_eff) gap would remain at every width).
    """
    with torch.no_grad():
        f_test = model(_t(x_test))
    ref = ntk_flow_reference(x_train, y_train, x_test, f0_train, f0_test, steps, effective_lr(model, lr),
                             part=model.kernel_part, discrete=True)
    return relative_rms(f_test, ref)


def alignment(W, w_star, a=None) -> float:
    """Mean over neurons of |cos(w_j, w*)| = |<w_j, w*>| / (||w_j|| ||w*||); W (m, d), w* (d,), a (m,).

    With ``a`` the mean is weighted by |a_j| (the neurons that carry the output count in proportion
    to it).  A neuron with w_j = 0 contributes 0.  1 when every neuron lies along +-w*; ~ sqrt(2/(pi d))
    for w_j ~ N(0, I_d) (E|z| / sqrt(d) for a standard normal z, d large).  For single-index
    teachers y = g(<w*, x>) (Ba et al. 2022; Ghorbani et al. 2019).
    """
    W, w_star = _t(W), _t(w_star)
    if W.ndim != 2 or w_star.shape != (W.shape[1],):
        raise ValueError(f"W and w_star must have shapes (m, d) and (d,), got {tuple(W.shape)} and "
                         f"{tuple(w_star.shape)}")
    ns = float(torch.linalg.vector_norm(w_star))
    if ns == 0:
        raise ValueError("w_star must be non-zero")
    nw = torch.linalg.vector_norm(W, dim=1)                                  # (m,)
    cos = torch.where(nw > 0, (W @ w_star).abs() / (torch.where(nw > 0, nw, 1.0) * ns), 0.0)
    if a is None:
        return float(cos.mean())
    weight = _t(a).abs()
    if weight.shape != (W.shape[0],):
        raise ValueError(f"a must have shape ({W.shape[0]},), got {tuple(weight.shape)}")
    total = float(weight.sum())
    if total == 0:
        raise ValueError("a must have a non-zero entry for the |a|-weighted alignment")
    return float((weight * cos).sum()) / total


def twin_distance(f1, f2, X) -> float:
    """rms over X of f1 - f2 divided by the rms of f2: f1, f2 callables mapping X (n, d) to (n,)."""
    with torch.no_grad():
        y1, y2 = _t(f1(X)), _t(f2(X))
    return relative_rms(y1, y2)


def linear_rate(losses, steps, lam_min: float, n: int, lr_eff: float, *, floor: float | None = None) -> dict:
    """Observed exponential decay rate of the training loss against Du et al.'s 2 lambda_min / n.

    In genlab's conventions (loss (1/(2n)) sum (f - y)^2, flow time tau = lr_eff * step) the NTK flow
    has L(tau) <= exp(-2 tau lambda_min / n) L(0) (Du, Zhai, Poczos & Singh 2019;
    `genlab.kernels.ntk_flow_loss`).  The observed rate is minus the least-squares slope of log L
    against tau over the recorded curve, cut at the first point where the loss stops falling (it
    does not decrease, or is at or below ``floor``, default 1e-20 L(0): float64 rounding of the
    residual leaves a floor near eps^2 L(0)).  The whole-curve rate is at least the bound's when the
    dynamics is linear, because the fast modes decay first: expect ratio >= 1, tending to 1 as the
    slowest mode dominates.

    Parameters
    ----------
    losses : array, shape (T,);  steps : array, shape (T,) (increasing)
    lam_min : float > 0 (e.g. `genlab.kernels.ntk_min_eigenvalue` of the training inputs)
    n : int (number of training points);  lr_eff : float > 0

    Returns
    -------
    dict with "observed", "predicted" (= 2 lam_min / n), "ratio" (observed / predicted) and
    "n_points" (the points fitted).
    """
    L = np.asarray(losses, dtype=np.float64).reshape(-1)
    k = np.asarray(steps, dtype=np.float64).reshape(-1)
    if L.shape != k.shape or L.size < 2:
        raise ValueError(f"losses and steps must be 1-D of the same length >= 2, got {L.shape} and {k.shape}")
    if not np.all(np.isfinite(L)) or np.any(L <= 0):
        raise ValueError("losses must be finite and > 0")
    if np.any(np.diff(k) <= 0):
        raise ValueError("steps must be increasing")
    lam_min, lr_eff = check_positive("lam_min", lam_min), check_positive("lr_eff", lr_eff)
    n = check_positive("n", n)
    floor = 1e-20 * L[0] if floor is None else float(floor)
    stop = np.flatnonzero((np.diff(L) >= 0) | (L[1:] <= floor))
    end = int(stop[0]) + 1 if stop.size else L.size          # points [0, end) are fitted
    if end < 2:
        raise ValueError("the loss does not fall between its first two recorded steps: no rate to fit")
    tau = lr_eff * k[:end]
    observed = -float(np.polyfit(tau, np.log(L[:end]), 1)[0])
    predicted = 2.0 * lam_min / n
    return {"observed": observed, "predicted": predicted, "ratio": observed / predicted, "n_points": end}
