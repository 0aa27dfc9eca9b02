r"""The expected TV of a Gaussian KDE at finite n, from the exact bias and the pointwise variance.

For the KDE p_hat(x) = (1/n) sum_i K_h(x, X_i) of `genlab.baselines.GaussianKDE`
(isotropic Gaussian kernel of standard deviation h, optionally reflected into
the cube [low, high]^d) and a truth f on that cube,

    E p_hat(x) = (K_h f)(x) = int K_h(x, y) f(y) dy,            bias b(x) = (K_h f)(x) - f(x),
    Var p_hat(x) = sigma(x)^2 = ((K_h^2 f)(x) - (K_h f)(x)^2) / n,

both exact (Tsybakov 2009, "Introduction to Nonparametric Estimation", Sec. 1.2).
p_hat(x) is a mean of n i.i.d. terms, so by the CLT p_hat(x) ~ b(x) + f(x) + sigma(x) Z, and

    E|p_hat(x) - f(x)| ~ psi(b, sigma) = sigma sqrt(2/pi) exp(-b^2 / (2 sigma^2)) + b (1 - 2 Phi(-b / sigma)),

the mean of a folded normal.  The TV the runs report is int (f - p_hat)_+ over
R^d (`metrics.tv_monte_carlo`), i.e. (1/2) int_cube |p_hat - f| plus, for the
plain kernel, half the mass leaked out of the cube; its expectation is

    E TV = (1/2) int_cube psi(b, sigma) dx + (1/2) (1 - int f(y) P(y + h Z in cube) dy).

Quadrature.  f is read only through ``truth.log_prob`` on a midpoint grid of
``grid`` nodes per axis; the kernel is a product over axes, so K_h f and K_h^2 f
are one matrix product per axis (exact in the kernel, no FFT wrap-around).  The
node count is odd on purpose: the smooth truths are series in cos(2^j pi x), and
on a dyadic grid every frequency above the grid's resolution would alias to a
constant, while on an odd grid it spreads over the resolved band.

The normal approximation's first error term (Edgeworth) is -(gamma / 3) b phi(b / sigma)
per point, gamma(x) the skewness of p_hat(x), of order (n h^d)^(-1/2); `kde_moments`
returns the third moment (K_h^3 f) that gives it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import ndtr

from genlab.core.validation import check_in, check_positive, check_positive_int

__all__ = ["kde_expected_tv", "kde_moments", "folded_normal_mean", "theory_bandwidth", "cube_of",
           "DEFAULT_GRID"]

#: nodes per axis by dimension (odd, see the module docstring)
DEFAULT_GRID = {1: 3001, 2: 301}


def folded_normal_mean(b, sigma) -> np.ndarray:
    """E|b + sigma Z| for Z ~ N(0, 1), elementwise; |b| where sigma = 0.

    >>> round(float(folded_normal_mean(0.0, 1.0)), 12) == round(math.sqrt(2 / math.pi), 12)
    True
    """
    b = np.asarray(b, float)
    sigma = np.asarray(sigma, float)
    safe = np.where(sigma > 0, sigma, 1.0)
    t = b / safe
    out = safe * math.sqrt(2.0 / math.pi) * np.exp(-0.5 * t * t) + b * (1.0 - 2.0 * ndtr(-t))
    return np.where(sigma > 0, out, np.abs(b))


def theory_bandwidth(n: int, d: int, s: float, c: float = 1.0) -> float:
    """h = c n^(-1/(2s+d)), the ``"theory"`` rule of `genlab.baselines.bandwidth.theory`."""
    return c * n ** (-1.0 / (2.0 * s + d))


def cube_of(truth) -> tuple[float, float] | None:
    """(low, high) of a truth on a cube [low, high]^d with a density there, else None."""
    low, high = getattr(truth, "low", None), getattr(truth, "high", None)
    if not getattr(truth, "has_density", True) or getattr(truth, "intrinsic_dim", truth.dim) != truth.dim:
        return None
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        return None
    return (low, high) if math.isfinite(low) and math.isfinite(high) and low < high else None


def _density_on_grid(truth, x1: np.ndarray) -> np.ndarray:
    """f at the tensor grid x1^d, shape (G,)*d, from ``truth.log_prob``."""
    d = truth.dim
    mesh = np.stack(np.meshgrid(*([x1] * d), indexing="ij"), axis=-1).reshape(-1, d)  # (G^d, d)
    dtype = getattr(truth, "dtype", torch.float64)
    out = []
    for i in range(0, mesh.shape[0], 1 << 16):
        x = torch.as_tensor(mesh[i:i + (1 << 16)], dtype=dtype)
        out.append(torch.exp(truth.log_prob(x)).detach().cpu().double().numpy())
    return np.concatenate(out).reshape((x1.size,) * d)


def _kernel_1d(x1: np.ndarray, h: float, low: float, high: float, boundary: str) -> np.ndarray:
    """K_h(x_i, y_j) in one coordinate, shape (G, G): phi_h(x - y), or its sum over the reflection images."""
    if boundary == "none":
        return np.exp(-0.5 * ((x1[:, None] - x1[None, :]) / h) ** 2) / (h * math.sqrt(2 * math.pi))
    width = high - low
    # the images y + 2kL and 2 low - y + 2kL, with |k| <= K as in GaussianKDE (dropped terms < e^-42)
    k_max = 1
    while k_max * (k_max + 1) < 21.0 * h ** 2 / width ** 2:
        k_max += 1
    images = [x1 + 2 * width * k for k in range(-k_max, k_max + 1)]
    images += [2 * low - x1 + 2 * width * k for k in range(-k_max, k_max + 2)]
    out = np.zeros((x1.size, x1.size))
    for img in images:
        # an image more than 12 h from the cube adds < e^-72 of the direct term: skip the work
        if max(low - img.max(), img.min() - high) > 12.0 * h:
            continue
        out += np.exp(-0.5 * ((x1[:, None] - img[None, :]) / h) ** 2)
    return out / (h * math.sqrt(2 * math.pi))


def _apply_per_axis(mat: np.ndarray, f: np.ndarray) -> np.ndarray:
    """sum_y prod_k mat[x_k, y_k] f[y], the product kernel applied along every axis."""
    out = f
    for axis in range(f.ndim):
        out = np.moveaxis(np.tensordot(mat, out, axes=([1], [axis])), 0, axis)
    return out


def kde_moments(truth, h: float, *, boundary: str = "none", grid: int | None = None) -> dict:
    """f, K_h f, K_h^2 f, K_h^3 f on the midpoint grid of the truth's cube, and the leaked mass.

    Returns
    -------
    dict with ``x1`` (G,) the nodes per axis, ``cell`` the cell volume (L / G)^d,
    ``f``, ``m1``, ``m2``, ``m3`` of shape (G,)*d (E K, E K^2, E K^3 for one
    sample point), and ``leak`` = 1 - int_cube K_h f (0 when reflecting).
    """
    cube = cube_of(truth)
    if cube is None:
        raise ValueError("truth must have a density on a cube [low, high]^d (attributes low, high)")
    boundary = check_in("boundary", boundary, ("none", "reflect"))
    h = check_positive("h", h)
    grid = check_positive_int("grid", DEFAULT_GRID.get(truth.dim, 101) if grid is None else grid)
    low, high = cube
    width = high - low
    x1 = low + (np.arange(grid) + 0.5) * (width / grid)
    dx = width / grid
    f = _density_on_grid(truth, x1)
    k1 = _kernel_1d(x1, h, low, high, boundary)
    m1 = _apply_per_axis(k1 * dx, f)
    m2 = _apply_per_axis(k1 ** 2 * dx, f)
    m3 = _apply_per_axis(k1 ** 3 * dx, f)
    if boundary == "reflect":
        leak = 0.0
    else:
        # P(y + h Z in cube) is a product over axes; integrate it against f on the same grid
        stay = ndtr((high - x1) / h) - ndtr((low - x1) / h)
        inside = f
        for axis in range(f.ndim):
            shape = [1] * f.ndim
            shape[axis] = grid
            inside = inside * stay.reshape(shape)
        leak = max(0.0, 1.0 - float(inside.sum()) * dx ** truth.dim)
    return dict(x1=x1, cell=dx ** truth.dim, f=f, m1=m1, m2=m2, m3=m3, leak=leak)


def kde_expected_tv(truth, ns, *, bandwidth="theory", c: float = 1.0, boundary: str = "none",
                    grid: int | None = None) -> np.ndarray:
    """E TV(p_hat_n, truth) at each n, shape (len(ns),): exact bias, exact variance, normal approximation.

    Parameters
    ----------
    truth : Distribution
        A law with a density on the cube [low, high]^d (its ``low``, ``high``), read via ``log_prob``.
    ns : sequence of int
        Training sizes.
    bandwidth : "theory" or float
        ``"theory"``: h = c n^(-1/(2s+d)) with s = ``truth.smoothness``; a number: that h for every n.
    c : float
        Constant of the theory rule.
    boundary : {"none", "reflect"}
        As in `genlab.baselines.GaussianKDE`.
    grid : int, optional
        Quadrature nodes per axis (default `DEFAULT_GRID`).

    Examples
    --------
    >>> from genlab.distributions import make_truth
    >>> tv = kde_expected_tv(make_truth("uniform", dim=1), [100], bandwidth=0.1, boundary="reflect", grid=401)
    >>> 0.0 < float(tv[0]) < 0.1
    True
    """
    ns = [check_positive_int("ns", n) for n in ns]
    d = truth.dim
    if bandwidth == "theory":
        s = float(getattr(truth, "smoothness", math.inf))
        if not math.isfinite(s):
            raise ValueError("bandwidth 'theory' needs a finite truth.smoothness; give a number instead")
        hs = [theory_bandwidth(n, d, s, check_positive("c", c)) for n in ns]
    elif isinstance(bandwidth, str):
        raise ValueError(f"bandwidth must be 'theory' or a number (a data-driven rule has no fixed h), "
                         f"got {bandwidth!r}")
    else:
        hs = [check_positive("bandwidth", bandwidth)] * len(ns)
    out = []
    for n, h in zip(ns, hs):
        mom = kde_moments(truth, h, boundary=boundary, grid=grid)
        bias = mom["m1"] - mom["f"]
        sigma = np.sqrt(np.maximum(mom["m2"] - mom["m1"] ** 2, 0.0) / n)
        out.append(0.5 * float(folded_normal_mean(bias, sigma).sum()) * mom["cell"] + 0.5 * mom["leak"])
    return np.asarray(out)
