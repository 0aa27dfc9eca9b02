r"""Posterior moments of a smoothed empirical measure: a Gauss transform, direct or by Taylor expansion.

For training points x_1..x_n in R^d and a query z, the weights

    k_i(z) = exp(-||z - a x_i||^2 / (2 v)),        w_i = k_i / sum_j k_j,

are the posterior of x0 = x_i given x_t = z when x0 is drawn from the empirical measure and
x_t = a x0 + N(0, v I) (the empirical-optimal and KDE-smoothed scores of `reference.py`).  This
module returns, per query, the log normaliser log sum_i k_i, the posterior mean sum_i w_i x_i and
the posterior covariance sum_i w_i x_i x_i^T - mean mean^T: all a score, its Jacobian (Tweedie)
and a density floor need.

Two ways to the same numbers:

* **direct**, O(n) per query: the n log-kernels as one matrix product of augmented vectors, shifted
  by their row maximum, exponentiated and contracted with [1, x_i, x_i x_i^T] in a second product.
  Query rows go in blocks whose (rows x n) float64 weights stay within ``BLOCK_BYTES`` (L2-resident):
  at n = 10,000 this costs 3 ns a pair on one core, against 35 ns for 1024-row blocks, whose 80 MB
  temporaries streamed through memory and were allocated afresh (page faults) every block.
* **Taylor**, O(K) per query with K << n terms, where the kernel is wide against the data: with c the
  points' mean, R their largest distance to it, delta_i = (x_i - c) / R, u = z - a c and
  beta = a R u / v,

      sum_i k_i f(x_i) = exp(-||u||^2 / (2v)) sum_i gamma_i exp(beta . delta_i) f(x_i),
      gamma_i = exp(-a^2 R^2 ||delta_i||^2 / (2v)),

  and exp(beta . delta) = sum_{|alpha| <= P} beta^alpha delta^alpha / alpha! + remainder, so every
  sum is a contraction of the query monomials beta^alpha / alpha! with moments
  M_alpha = sum_i gamma_i delta_i^alpha computed once per time (the single-centre Taylor form of the
  fast Gauss transform: Greengard & Strain 1991, "The fast Gauss transform"; Yang, Duraiswami,
  Gumerov & Davis 2003, "Improved fast Gauss transform").

  **The truncation bound.**  With q = ||beta|| (so |beta . delta_i| <= q, as ||delta_i|| <= 1), the
  Lagrange remainder of exp at degree P is at most e^q q^(P+1) / (P+1)! for every i, and
  sum_i gamma_i e^(beta . delta_i) >= e^(-q) sum_i gamma_i, so the normaliser's relative error is at
  most eps(q, P) = e^(2q) q^(P+1) / (P+1)!; as ||delta_i|| <= 1 and ||delta_i delta_i^T|| <= 1 the
  same eps bounds the first and second moment sums relative to the normaliser, hence the posterior
  mean's error by 2 R eps / (1 - eps) and the covariance's by 7 R^2 eps for eps <= 0.01.  A query
  takes the Taylor path only where eps(q, P) <= ``TAYLOR_TOL`` at the P used, and only where
  q <= ``TAYLOR_Q_MAX``: the terms' sizes reach e^q sum_i gamma_i against a sum of at least
  e^(-q) sum_i gamma_i, so rounding is amplified by up to e^(2q) (403 at q = 3: about 1e-13 relative
  at the K <= 500 terms used).  Other queries, and calls whose queries have different times, go
  direct.

No library among genlab's dependencies has a Gauss transform (POT, torch and diffusers do not, nor
scipy), hence this module.  Both paths are float64.
"""

from __future__ import annotations

import math
from itertools import combinations_with_replacement

import torch

from genlab.core.validation import check_points, check_positive_int

__all__ = ["GaussPosterior", "taylor_remainder_bound", "multi_indices", "BLOCK_BYTES",
           "TAYLOR_TOL", "TAYLOR_Q_MAX"]

#: the direct path's block of query rows holds at most this many bytes of (rows x n) float64 weights
BLOCK_BYTES = 1 << 20
#: a query takes the Taylor path only where the proven relative truncation error eps(q, P) is below this
TAYLOR_TOL = 1e-13
#: and only where q = ||beta|| <= this (rounding grows like e^(2q), above)
TAYLOR_Q_MAX = 3.0
#: Taylor degrees P are at most this, and the number of query terms at most n / TAYLOR_TERMS_PER_POINT
TAYLOR_P_MAX = 40
TAYLOR_TERMS_PER_POINT = 8


def _log_remainder_bound(q: torch.Tensor, degree: int) -> torch.Tensor:
    """log eps(q, P) = 2q + (P+1) log q - log (P+1)!, elementwise (-inf at q = 0)."""
    return 2.0 * q + (degree + 1) * torch.log(q) - math.lgamma(degree + 2)


def taylor_remainder_bound(q: float, degree: int) -> float:
    """eps(q, P) = e^(2q) q^(P+1) / (P+1)!: the proven relative error of the degree-P Taylor sums at
    ||beta|| = q (module docstring)."""
    return math.exp(float(_log_remainder_bound(torch.tensor(float(q), dtype=torch.float64), degree)))


def multi_indices(d: int, degree: int) -> torch.Tensor:
    """Every alpha in N^d with |alpha| <= degree, ordered by |alpha| (so degree <= P is a prefix),
    (C(degree + d, d), d) int64."""
    rows = []
    for k in range(degree + 1):
        for combo in combinations_with_replacement(range(d), k):
            alpha = [0] * d
            for j in combo:
                alpha[j] += 1
            rows.append(alpha)
    return torch.tensor(rows, dtype=torch.int64).reshape(-1, d)


def _monomials(y: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """y^alpha for every row of y (m, d) and every alpha (K, d): (m, K), through a power table."""
    top = int(alphas.max()) if alphas.numel() else 0
    powers = torch.ones(y.shape[0], y.shape[1], top + 1, dtype=y.dtype, device=y.device)
    for k in range(1, top + 1):
        powers[:, :, k] = powers[:, :, k - 1] * y
    out = torch.ones(y.shape[0], alphas.shape[0], dtype=y.dtype, device=y.device)
    for j in range(y.shape[1]):
        out *= powers[:, j, :][:, alphas[:, j]]
    return out


class GaussPosterior:
    r"""log sum_i k_i, the posterior mean and covariance of x_i under w_i proportional to
    k_i = exp(-||z - a x_i||^2 / (2v)), for queries z (module docstring).

    Parameters
    ----------
    x : (n, d) tensor
        The training points (float64 inside).
    chunk : int or None
        Query rows per block of the direct path; None sizes blocks to ``BLOCK_BYTES``.
    taylor : bool
        Whether queries may take the Taylor path (False: always direct, for comparison).
    """

    def __init__(self, x, chunk: int | None = None, taylor: bool = True):
        self.x = check_points("x_train", x).to(torch.float64)
        n, d = self.x.shape
        self.chunk = (max(8, BLOCK_BYTES // (8 * n)) if chunk is None else check_positive_int("chunk", chunk))
        # [1, x, x x^T] per point: the second product of the direct path contracts the weights with it
        self._features = torch.cat([torch.ones(n, 1, dtype=torch.float64, device=self.x.device), self.x,
                                    (self.x[:, :, None] * self.x[:, None, :]).reshape(n, d * d)], 1)
        self._sq = (self.x ** 2).sum(1)                                       # (n,)
        self._taylor = None
        # the largest degree whose query terms stay below n / TAYLOR_TERMS_PER_POINT; none under 4: no Taylor
        p_max = -1
        while p_max < TAYLOR_P_MAX and math.comb(p_max + 1 + d, d) <= n // TAYLOR_TERMS_PER_POINT:
            p_max += 1
        self.taylor_degree_max = p_max if taylor and p_max >= 4 else None
        self.stats = {"direct": 0, "taylor": 0}   # query rows that took each path

    def __call__(self, z: torch.Tensor, a: torch.Tensor, v: torch.Tensor):
        """z (B, d), a and v (B, 1) (or (1, 1): one time for every query) ->
        log sum_i k_i (B,), mean (B, d), covariance (B, d, d); float64."""
        z = z.to(device=self.x.device, dtype=torch.float64)
        a = torch.as_tensor(a, dtype=torch.float64, device=z.device).reshape(-1, 1).expand(z.shape[0], 1)
        v = torch.as_tensor(v, dtype=torch.float64, device=z.device).reshape(-1, 1).expand(z.shape[0], 1)
        d = z.shape[1]
        log_norm = torch.empty(z.shape[0], dtype=torch.float64, device=z.device)
        mean = torch.empty_like(z)
        cov = torch.empty(z.shape[0], d, d, dtype=torch.float64, device=z.device)
        direct = torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
        one_time = bool((a == a[:1]).all() and (v == v[:1]).all()) if z.shape[0] else False
        if self.taylor_degree_max is not None and one_time and not z.requires_grad:
            direct = self._taylor_rows(z, float(a[0]), float(v[0]), log_norm, mean, cov)
        rows = direct.nonzero().reshape(-1)
        for i in range(0, rows.numel(), self.chunk):
            r = rows[i:i + self.chunk] if rows.numel() < z.shape[0] else slice(i, i + self.chunk)
            log_norm[r], mean[r], cov[r] = self._direct(z[r], a[r], v[r])
        self.stats["direct"] += int(rows.numel())
        return log_norm, mean, cov

    def _direct(self, z, a, v):
        """The O(n) sums of one block: (b,), (b, d), (b, d, d).  Differentiable in z."""
        d = z.shape[1]
        # log k_i + ||z||^2 / (2v) = (a / v) z . x_i - (a^2 / 2v) ||x_i||^2, one product of augmented vectors
        logk = torch.cat([z * (a / v), -0.5 * a * a / v], 1) @ torch.cat([self.x, self._sq[:, None]], 1).T
        top = logk.amax(1, keepdim=True).detach()
        sums = torch.exp(logk - top) @ self._features                          # (b, 1 + d + d^2)
        s0 = sums[:, :1]
        mean = sums[:, 1:1 + d] / s0
        cov = (sums[:, 1 + d:] / s0).reshape(-1, d, d) - mean[:, :, None] * mean[:, None, :]
        log_norm = top[:, 0] + torch.log(s0[:, 0]) - 0.5 * (z ** 2).sum(1) / v[:, 0]
        return log_norm, mean, cov

    def _taylor_setup(self):
        """Centre, radius, scaled points' monomials up to degree P_max + 2 and the index maps."""
        n, d = self.x.shape
        centre = self.x.mean(0)
        radius = float((self.x - centre).norm(dim=1).max())
        radius = radius if radius > 0 else 1.0
        p_max = self.taylor_degree_max
        alphas = multi_indices(d, p_max + 2)
        index = {tuple(al): k for k, al in enumerate(alphas.tolist())}
        n_terms = math.comb(p_max + d, d)
        unit = torch.eye(d, dtype=torch.int64)
        # columns: alpha, alpha + e_j, alpha + e_j + e_k: the moments that multiply beta^alpha / alpha!
        shifts = [torch.zeros(d, dtype=torch.int64)] + list(unit) + [unit[j] + unit[k] for j in range(d) for k in range(d)]
        cols = torch.tensor([[index[tuple((al + s).tolist())] for s in shifts] for al in alphas[:n_terms]])
        inv_fact = torch.exp(-torch.lgamma(alphas[:n_terms].to(torch.float64) + 1).sum(1))
        device = self.x.device
        alphas, cols, inv_fact = alphas.to(device), cols.to(device), inv_fact.to(device)
        delta = (self.x - centre) / radius
        self._taylor = dict(centre=centre, radius=radius, alphas=alphas, cols=cols, inv_fact=inv_fact,
                            delta_sq=(delta ** 2).sum(1), mono=_monomials(delta, alphas).T.contiguous())

    def _taylor_rows(self, z, a, v, log_norm, mean, cov) -> torch.Tensor:
        """Fill the rows the Taylor path may take; return the mask of the rows left to the direct path."""
        if self._taylor is None:
            self._taylor_setup()
        tay = self._taylor
        n, d = self.x.shape
        radius, centre = tay["radius"], tay["centre"]
        u = z - a * centre                                                     # (B, d)
        beta = (a * radius / v) * u
        q = beta.norm(dim=1)
        p_max = self.taylor_degree_max
        q_ok = (q <= TAYLOR_Q_MAX) & (_log_remainder_bound(q, p_max) <= math.log(TAYLOR_TOL))
        if not q_ok.any():
            return torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
        q_top = float(q[q_ok].max())
        degree = next(p for p in range(p_max + 1) if taylor_remainder_bound(q_top, p) <= TAYLOR_TOL)
        n_terms = math.comb(degree + d, d)
        n_rows = int(q_ok.sum())
        # cost in multiply-adds: the moments (terms of degree <= P + 2) x n once, then per row and term a
        # monomial (d) and the contraction (1 + d + d^2); per row and point the direct path's two
        # products (d + 1, 1 + d + d^2) and an exponential (about 10)
        features = 1 + d + d * d
        taylor_cost = math.comb(degree + 2 + d, d) * n + n_rows * n_terms * (d + features)
        if taylor_cost >= n_rows * n * (d + 11 + features):
            return torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
        gamma = torch.exp(-0.5 * a * a * radius * radius / v * tay["delta_sq"])      # (n,)
        moments = tay["mono"][:math.comb(degree + 2 + d, d)] @ gamma                  # (K2,)
        cols = tay["cols"][:n_terms]
        terms = _monomials(beta[q_ok], tay["alphas"][:n_terms]) * tay["inv_fact"][:n_terms]
        sums = terms @ moments[cols]                                                  # (rows, 1 + d + d^2)
        s0 = sums[:, :1]
        m_delta = sums[:, 1:1 + d] / s0
        c_delta = (sums[:, 1 + d:] / s0).reshape(-1, d, d) - m_delta[:, :, None] * m_delta[:, None, :]
        log_norm[q_ok] = torch.log(s0[:, 0]) - 0.5 * (u[q_ok] ** 2).sum(1) / v
        mean[q_ok] = centre + radius * m_delta
        cov[q_ok] = radius * radius * c_delta
        self.stats["taylor"] += n_rows
        return ~q_ok
