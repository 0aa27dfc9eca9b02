"""Differentiable distances on torch tensors, for use as training losses.

Each function takes torch tensors (``requires_grad`` welcome; numpy arrays are
converted) and returns a 0-dim tensor with the autograd graph attached, so that
``loss.backward()`` reaches the points and the weights. Minimising one of them over a
generator's output is the sliced-Wasserstein generator (Deshpande, Zhang & Schwing,
CVPR 2018), the MMD generator (Li, Swersky & Zemel, ICML 2015; Dziugaite, Roy &
Ghahramani, UAI 2015) or the Sinkhorn generative model (Genevay, Peyre & Cuturi,
AISTATS 2018)::

    x = generator(z)                                        # (n, d), requires_grad
    loss = sliced_wasserstein_loss(x, y, p=2, seed=step)   # fresh directions each step
    loss.backward()
    optimiser.step()

They compute in the inputs' floating dtype (promoted; float32 stays float32 for
speed) on the inputs' device. In float64 each equals the detached metric on the same
inputs to rounding:

- :func:`sliced_wasserstein_loss` = ``wasserstein(x, y, p, method="sliced", ...)`` (SW_p);
- :func:`mmd2_loss` = ``mmd2_unbiased(x, y, kernel, bandwidth)`` (MMD^2_u);
- :func:`sinkhorn_loss` = S_eps, the debiased Sinkhorn divergence, with
  ``wasserstein(x, y, p, method="sinkhorn", ...) == max(S_eps, 0) ** (1 / p)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import ot
import torch

from ._validation import check_in, check_p, check_positive, check_positive_int
from .mmd import KERNELS, median_bandwidth
from .wasserstein import projection_bank

__all__ = ["sliced_wasserstein_loss", "mmd2_loss", "sinkhorn_loss"]


# ----------------------------------------------------------------------------- inputs


def _as_tensor(x: Any) -> torch.Tensor:
    return x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))


def _as_points_pair(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """x (n, d) and y (m, d) as tensors of one floating dtype on x's device; ValueError naming the argument."""
    tx, ty = _as_tensor(x), _as_tensor(y)
    dtype = torch.promote_types(tx.dtype, ty.dtype)
    if not dtype.is_floating_point:
        dtype = torch.float64
    if ty.device != tx.device:
        raise ValueError(f"y is on {ty.device}, x on {tx.device}; move both to one device")
    out = []
    for name, t in (("x", tx), ("y", ty)):
        t = t.to(dtype)
        if t.ndim == 1:
            t = t[:, None]
        if t.ndim != 2:
            raise ValueError(f"{name} must have shape (n, d) or (n,), got shape {tuple(t.shape)}")
        if t.shape[0] == 0:
            raise ValueError(f"{name} is empty (0 points)")
        if not bool(torch.isfinite(t.detach()).all()):
            raise ValueError(f"{name} contains NaN or inf")
        out.append(t)
    if out[1].shape[1] != out[0].shape[1]:
        raise ValueError(f"y has dimension {out[1].shape[1]}, expected {out[0].shape[1]} (mismatched dimensions)")
    return out[0], out[1]


def _as_weight_tensor(name: str, w: Any, n: int, like: torch.Tensor) -> torch.Tensor:
    """Weights (n,) normalised to sum 1 (uniform for ``None``), differentiably; ValueError naming ``name``."""
    if w is None:
        return torch.full((n,), 1.0 / n, dtype=like.dtype, device=like.device)
    t = _as_tensor(w).to(dtype=like.dtype, device=like.device)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), got shape {tuple(t.shape)}")
    td = t.detach()
    if not bool(torch.isfinite(td).all()):
        raise ValueError(f"{name} contains NaN or inf")
    if bool((td < 0).any()):
        raise ValueError(f"{name} has negative entries")
    if not float(td.sum()) > 0:
        raise ValueError(f"{name} sums to 0 (all weights zero); weights need a positive total")
    return t / t.sum()


def _pairwise_cost(a: torch.Tensor, b: torch.Tensor, p: float) -> torch.Tensor:
    """||a_i - b_j||^p, shape (n, m), from differences taken directly (as scipy's cdist).

    torch.cdist's default expands |a|^2 + |b|^2 - 2ab beyond 25 rows, which loses
    |a|^2 eps to cancellation; the direct mode does not, and is 0 exactly on the
    diagonal of a self-cost, where its backward gives 0.
    """
    dist = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")
    if p == 1:
        return dist
    return dist.square() if p == 2 else dist.pow(p)


# ----------------------------------------------------------------------------- sliced W


def sliced_wasserstein_loss(
    x: Any,
    y: Any,
    p: float = 2,
    *,
    weights_x: Any = None,
    weights_y: Any = None,
    n_projections: int = 100,
    seed: int = 0,
    projections: Any = None,
) -> torch.Tensor:
    """SW_p(x, y) = ( mean_k W_p^p(<theta_k, x>, <theta_k, y>) )^{1/p}, differentiable.

    Bonneel, Rabin, Peyre & Pfister, "Sliced and Radon Wasserstein barycenters of
    measures", J. Math. Imaging Vision 51 (2015); Kolouri, Nadjahi, Simsekli, Badeau &
    Rohde, "Generalized sliced Wasserstein distances", NeurIPS 2019. Each 1-D term is the exact quantile formula
    (sorting; unequal sizes and weights by merged cumulative weights), whose
    gradient is that of the optimal 1-D coupling.

    Over the same bank as ``wasserstein(..., method="sliced")``. Unequal sizes or given
    weights go to POT's ``ot.sliced_wasserstein_distance`` on torch tensors (its backend
    sorts with torch, so the graph is kept); equal sizes with uniform weights, the
    minibatch case, sort the (k, n) projections directly (the same numbers, 3-7x
    faster). Memory O(k (n + m)).

    Parameters
    ----------
    x : torch.Tensor, shape (n, d) or (n,)
        Typically a generator's output, ``requires_grad=True``.
    y : torch.Tensor, shape (m, d) or (m,)
    p : float, default 2
        Order, p >= 1 (POT's default; ``wasserstein`` defaults to 1).
    weights_x, weights_y : torch.Tensor, shape (n,) / (m,), optional
        Non-negative with a positive sum; normalised inside (the gradient flows
        through the normalisation); uniform by default.
    n_projections, seed : int
        The bank ``projection_bank(d, n_projections, seed)``: fixed by (d,
        n_projections, seed), so pass e.g. ``seed=step`` for fresh directions at
        each training step.
    projections : array_like or torch.Tensor, shape (k, d), optional
        Directions, one per row, used as given (POT's layout is the transpose).

    Returns
    -------
    torch.Tensor, shape ()
        SW_p, in the inputs' dtype. Its gradient is undefined where SW_p = 0
        (x and y equal on every projection) for p > 1, as d/ds s^{1/p} is there.
    """
    p = check_p(p)
    x, y = _as_points_pair(x, y)
    d = x.shape[1]
    if projections is None:
        theta = torch.from_numpy(projection_bank(d, check_positive_int("n_projections", n_projections), seed))
    else:
        theta = _as_tensor(projections).detach()
        if theta.ndim != 2 or theta.shape[1] != d or theta.shape[0] == 0:
            raise ValueError(f"projections must have shape (k, {d}), one direction per row as from "
                             f"projection_bank (POT's projections= is the transpose); got shape {tuple(theta.shape)}")
        if not bool(torch.isfinite(theta).all()):
            raise ValueError("projections contains NaN or inf")
    theta = theta.to(dtype=x.dtype, device=x.device)  # (k, d)
    if weights_x is None and weights_y is None and x.shape[0] == y.shape[0]:
        # Equal sizes, uniform weights (a minibatch against a minibatch): each 1-D optimal plan
        # matches sorted to sorted, so sorting the projections is the whole computation; forward
        # + backward is 3-7x faster than POT's general merged-quantile path (benchmarks/README.md).
        px = torch.sort(theta @ x.T, dim=1).values  # (k, n)
        py = torch.sort(theta @ y.T, dim=1).values  # (k, n)
        diff = (px - py).abs()
        pp = diff if p == 1 else (diff.square() if p == 2 else diff.pow(p))
        return pp.mean() ** (1.0 / p)
    a = None if weights_x is None else _as_weight_tensor("weights_x", weights_x, x.shape[0], x)
    b = None if weights_y is None else _as_weight_tensor("weights_y", weights_y, y.shape[0], x)
    return ot.sliced_wasserstein_distance(x, y, a, b, p=p, projections=theta.T)


# ----------------------------------------------------------------------------- MMD


def mmd2_loss(x: Any, y: Any, kernel: str = "gaussian", bandwidth: float | str = "median") -> torch.Tensor:
    """MMD^2_u, the unbiased estimate of the squared MMD (Gretton et al., JMLR 13 (2012), Lemma 6), differentiable.

    MMD^2_u = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
              - 2/(nm) sum_{i, j} k(x_i, y_j),

    with k(x, y) = exp(-||x - y||^2 / (2 h^2)) ("gaussian") or exp(-||x - y|| / h)
    ("laplacian"), from distances taken directly, as :func:`metrics.mmd2_unbiased`
    (no POT counterpart; written in torch so the graph is kept). Memory O(n^2 + m^2 + nm):
    the three kernel matrices are held for the backward pass.

    Parameters
    ----------
    x : torch.Tensor, shape (n, d), n >= 2
    y : torch.Tensor, shape (m, d), m >= 2
    kernel : {"gaussian", "laplacian"}
    bandwidth : float or "median"
        h > 0, or :func:`metrics.median_bandwidth` of the detached pooled sample;
        either way h is a constant of the loss (no gradient flows through the median,
        as in the MMD generators above).

    Returns
    -------
    torch.Tensor, shape ()
        MMD^2_u (unbiased, so it can be negative), in the inputs' dtype.
    """
    x, y = _as_points_pair(x, y)
    n, m = x.shape[0], y.shape[0]
    if n < 2:
        raise ValueError("x needs at least 2 points for MMD^2_u")
    if m < 2:
        raise ValueError("y needs at least 2 points for MMD^2_u")
    check_in("kernel", kernel, KERNELS)
    if isinstance(bandwidth, str):
        check_in("bandwidth", bandwidth, ["median"])
        h = median_bandwidth(x.detach(), y.detach())
    else:
        h = check_positive("bandwidth", bandwidth)

    def k(a, b):
        dist = torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")  # (len(a), len(b))
        return torch.exp(dist.square() / (-2.0 * h * h)) if kernel == "gaussian" else torch.exp(dist / -h)

    # k(z, z) = 1 exactly (distance 0 taken directly): subtracting n removes the diagonal.
    kxx = (k(x, x).sum() - n) / (n * (n - 1))
    kyy = (k(y, y).sum() - m) / (m * (m - 1))
    kxy = k(x, y).sum() / (n * m)
    return kxx + kyy - 2.0 * kxy


# ----------------------------------------------------------------------------- Sinkhorn
# Written by hand, not POT's ot.sinkhorn2 / empirical_sinkhorn_divergence: those return the
# linear part <P, C> without the entropy term, so they are not the OT_eps of
# wasserstein(method="sinkhorn"), and their alternating iteration needs ~10^5 steps on the
# self terms OT_eps(a, a) (89,060 for 300 points, metrics/wasserstein.py), each of which
# autograd would store. Here the potentials are found without a graph and the value is the
# dual at those potentials, whose gradient is the envelope-theorem gradient (one step kept).


def _c_transform(log_w: torch.Tensor, pot: torch.Tensor, cost: torch.Tensor, eps: float) -> torch.Tensor:
    """T(pot)_i = -eps log sum_j w_j exp((pot_j - C_ij) / eps), row-wise over ``cost`` (n, m)."""
    return -eps * torch.logsumexp(log_w[None, :] + (pot[None, :] - cost) / eps, dim=1)


def _marginal_error(w: torch.Tensor, pot: torch.Tensor, t_pot: torch.Tensor, eps: float) -> float:
    # The plan's marginal on this side is w * exp((pot - T(other)) / eps); L2 violation as POT.
    return float(torch.linalg.vector_norm(w * torch.expm1(torch.clamp((pot - t_pot) / eps, -700, 700))))


def _cross_potential(a, b, cost, eps, num_iter_max, tol) -> torch.Tensor:
    """g of the Sinkhorn fixed point for OT_eps(a, b), by the alternating log-domain iteration (float64)."""
    log_a, log_b = torch.log(a), torch.log(b)
    g = torch.zeros_like(b)
    err = np.inf
    for _ in range(num_iter_max):
        f = _c_transform(log_b, g, cost, eps)
        t_g = _c_transform(log_a, f, cost.T, eps)
        err = _marginal_error(b, g, t_g, eps)
        if err <= tol:
            return g
        g = t_g
    raise RuntimeError(f"Sinkhorn (eps={eps:.3g}) did not converge within num_iter_max={num_iter_max}: "
                       f"marginal error {err:.3g} > {tol}; increase reg or num_iter_max")


def _self_potential(a, cost, eps, num_iter_max, tol) -> torch.Tensor:
    """f = T(f) for OT_eps(a, a), by the averaged symmetric update (Feydy et al. 2019, Sec. 3.1; float64)."""
    log_a = torch.log(a)
    f = torch.zeros_like(a)
    err = np.inf
    for _ in range(num_iter_max):
        t_f = _c_transform(log_a, f, cost, eps)
        err = _marginal_error(a, f, t_f, eps)
        if err <= tol:
            return f
        f = 0.5 * (f + t_f)
    raise RuntimeError(f"symmetric Sinkhorn (eps={eps:.3g}) did not converge within num_iter_max={num_iter_max}: "
                       f"marginal error {err:.3g} > {tol}; increase reg or num_iter_max")


def _dual_value(a, b, cost, g, eps) -> torch.Tensor:
    """<a, T_b(g)> + <b, g>: OT_eps(a, b) at the fixed point, with the graph through ``cost`` and weights.

    The semi-dual is maximal at the fixed point g*, so its value errs by O(|g - g*|^2) and its
    gradient at fixed g (the envelope theorem) is sum_ij P_ij dC_ij, P the plan: no
    differentiation through the iterations is needed.
    """
    return a @ _c_transform(torch.log(b), g, cost, eps) + b @ g


def sinkhorn_loss(
    x: Any,
    y: Any,
    p: float = 2,
    *,
    reg: float | None = None,
    weights_x: Any = None,
    weights_y: Any = None,
    num_iter_max: int = 100_000,
    tol: float = 1e-7,
) -> torch.Tensor:
    """S_eps = OT_eps(x, y) - (OT_eps(x, x) + OT_eps(y, y)) / 2, the debiased Sinkhorn divergence, differentiable.

    OT_eps(a, b) = min_P <P, C> + eps KL(P | a x b) with C_ij = ||x_i - y_j||^p, its
    entropy term included (Cuturi, NeurIPS 2013; Peyre & Cuturi, *Computational Optimal
    Transport* (2019), Sec. 4.2, and Sec. 4.4 for the log domain); debiased as in
    Feydy et al., AISTATS 2019, eq. (3). The same number as
    ``wasserstein(x, y, p, method="sinkhorn", ...) ** p`` (before its clipping at 0).

    The dual potentials are computed without a graph in float64 (log domain: the
    alternating iteration for the cross term, the averaged symmetric one for the two self
    terms), stopping at an L2 marginal error <= ``tol`` as POT does; the returned value is
    the dual <a, f> + <b, g> at them, one c-transform kept in the graph, so the gradient is
    the envelope-theorem gradient sum_ij P_ij dC_ij/dx, exact at the fixed point.

    Parameters
    ----------
    x : torch.Tensor, shape (n, d) or (n,)
    y : torch.Tensor, shape (m, d) or (m,)
    p : float, default 2
        Cost ||x - y||^p, p >= 1.
    reg : float, optional
        eps in units of the cost; default 0.05 times the median of C(x, y) (a constant of
        the loss: no gradient through the median).
    weights_x, weights_y : torch.Tensor, shape (n,) / (m,), optional
        Non-negative with a positive sum, normalised inside; uniform by default.
    num_iter_max : int, default 100000
    tol : float, default 1e-7
        ``RuntimeError`` when the marginal error is not reached within num_iter_max.

    Returns
    -------
    torch.Tensor, shape ()
        S_eps on the W_p^p scale, in the inputs' dtype; >= 0 up to the convergence error.
    """
    p = check_p(p)
    x, y = _as_points_pair(x, y)
    a = _as_weight_tensor("weights_x", weights_x, x.shape[0], x)
    b = _as_weight_tensor("weights_y", weights_y, y.shape[0], x)
    num_iter_max = check_positive_int("num_iter_max", num_iter_max)
    tol = check_positive("tol", tol)
    c_xy, c_xx, c_yy = _pairwise_cost(x, y, p), _pairwise_cost(x, x, p), _pairwise_cost(y, y, p)
    with torch.no_grad():
        c64 = c_xy.detach().double()
        if reg is None:
            eps = 0.05 * float(np.median(c64.cpu().numpy()))
            if not eps > 0:
                raise ValueError("reg: the median cost is 0 (x and y coincide); pass reg explicitly")
        else:
            eps = check_positive("reg", reg)
        a64, b64 = a.detach().double(), b.detach().double()
        g = _cross_potential(a64, b64, c64, eps, num_iter_max, tol)
        f_x = _self_potential(a64, c_xx.detach().double(), eps, num_iter_max, tol)
        f_y = _self_potential(b64, c_yy.detach().double(), eps, num_iter_max, tol)
    ot_xy = _dual_value(a, b, c_xy, g.to(x.dtype), eps)
    ot_xx = _dual_value(a, a, c_xx, f_x.to(x.dtype), eps)
    ot_yy = _dual_value(b, b, c_yy, f_y.to(x.dtype), eps)
    return ot_xy - 0.5 * (ot_xx + ot_yy)
