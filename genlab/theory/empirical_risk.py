r"""The exact expected W1 of the 1-D empirical measure at finite n.

In one dimension W1(mu_n, mu) = int |F_n(x) - F(x)| dx (Vallender 1973), and
n F_n(x) ~ Bin(n, F(x)), so

    E W1(mu_n, mu) = int MAD_n(F(x)) / n dx,   MAD_n(p) = E|Bin(n, p) - n p| = 2 k C(n, k) p^k (1 - p)^(n - k + 1),

k = floor(n p) + 1: de Moivre's closed form of the binomial mean absolute
deviation (Diaconis & Zabell 1991, Statist. Sci. 6, "Closed form summation for
classical distributions: variations on a theme of de Moivre", eq. (1.1)).
Nothing is approximated but the integral over x.  Asymptotically
E W1 ~ n^(-1/2) sqrt(2/pi) int sqrt(F (1 - F)) dx (Bobkov & Ledoux 2019,
Mem. AMS, Sec. 3), so the finite-n slope is -1/2 up to O(1/n) terms.

Quadrature.  MAD_n(F(x)) has a kink wherever F(x) = k/n, so x is split at
those n - 1 points (and on a uniform mesh) and each piece is integrated by
Gauss-Legendre; F comes from ``truth.log_prob`` by the cumulative trapezoid
rule on a fine mesh, normalised to F(high) = 1.  For the uniform law F is
linear and the result is exact to rounding.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.special import gammaln

from genlab.theory.kde_risk import cube_of
from genlab.core.validation import check_positive_int

__all__ = ["binomial_mad", "empirical_expected_w1"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)


def binomial_mad(n: int, p) -> np.ndarray:
    """E|Bin(n, p) - n p| for each p in [0, 1] (de Moivre), elementwise.

    >>> round(float(binomial_mad(1, 0.3)), 12)  # 2 p (1 - p)
    0.42
    """
    p = np.clip(np.asarray(p, float), 0.0, 1.0)
    k = np.floor(n * p) + 1.0
    inner = (p > 0) & (p < 1) & (k <= n)
    pp = np.where(inner, p, 0.5)
    kk = np.where(inner, k, 1.0)
    log_mad = (math.log(2.0) + np.log(kk) + gammaln(n + 1.0) - gammaln(kk + 1.0) - gammaln(n - kk + 1.0)
               + kk * np.log(pp) + (n - kk + 1.0) * np.log1p(-pp))
    return np.where(inner, np.exp(log_mad), 0.0)


def _cdf_table(truth, low: float, high: float, mesh: int):
    x = np.linspace(low, high, mesh + 1)
    dtype = getattr(truth, "dtype", torch.float64)
    f = torch.exp(truth.log_prob(torch.as_tensor(x[:, None], dtype=dtype))).detach().cpu().double().numpy()
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))])
    return x, cdf / cdf[-1]


def empirical_expected_w1(truth, ns, *, mesh: int = 20000) -> np.ndarray:
    """E W1(mu_n, truth) for the empirical measure of n i.i.d. points, at each n; shape (len(ns),).

    Parameters
    ----------
    truth : Distribution
        A 1-D law with a density on an interval [low, high] (its ``low``, ``high``), read via ``log_prob``.
    ns : sequence of int
    mesh : int
        Cells of the mesh on which F is tabulated and which every piece is split on.

    Examples
    --------
    >>> from genlab.distributions import make_truth
    >>> round(float(empirical_expected_w1(make_truth("uniform", dim=1, low=0.0, high=1.0), [1])[0]), 12)
    0.333333333333
    """
    cube = cube_of(truth)
    if truth.dim != 1 or cube is None:
        raise ValueError("truth must be a 1-D law with a density on an interval [low, high] (attributes low, high)")
    mesh = check_positive_int("mesh", mesh)
    low, high = cube
    x_tab, f_tab = _cdf_table(truth, low, high, mesh)
    out = []
    for n in ns:
        n = check_positive_int("ns", n)
        kinks = np.interp(np.arange(1, n) / n, f_tab, x_tab)
        edges = np.unique(np.concatenate([x_tab, kinks]))
        a, b = edges[:-1], edges[1:]
        nodes = 0.5 * (a + b)[:, None] + 0.5 * (b - a)[:, None] * _GL_NODES[None, :]  # (pieces, 8)
        weights = 0.5 * (b - a)[:, None] * _GL_WEIGHTS[None, :]
        cdf = np.interp(nodes, x_tab, f_tab)
        out.append(float(np.sum(weights * binomial_mad(n, cdf))) / n)
    return np.asarray(out)
