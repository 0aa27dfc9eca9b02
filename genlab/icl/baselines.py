"""In-context estimators, batched over prompts and prefix lengths.

Every baseline has one signature, ``f(xs, ys, ...) -> preds`` with xs (B, K, d),
ys (B, K) and preds (B, K), where ``preds[:, j]`` predicts ys[:, j] from the
first j pairs (x_i, y_i), i < j, and the query x_j -- the read-out of the
causal transformer (Garg, Tsipras, Liang & Valiant 2022).  Prefix statistics
are exclusive cumulative sums, G_j = sum_{i<j} x_i x_i^T (B, K, d, d) and
b_j = sum_{i<j} y_i x_i (B, K, d), so one batched solve covers every (prompt,
prefix) pair.  Work is in float64: pinv of a rank-deficient G_j needs it.
"""

from __future__ import annotations

import torch

from genlab.core.validation import check_nonnegative, check_positive, check_positive_int

__all__ = [
    "prefix_stats",
    "least_squares",
    "ridge",
    "bayes_ridge",
    "preconditioned_gd",
    "averaging",
    "knn",
    "lasso",
    "discrete_mmse",
    "zero",
]


def _check(xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if xs.ndim != 3:
        raise ValueError(f"xs must have shape (B, K, d), got {tuple(xs.shape)}")
    if ys.shape != xs.shape[:2]:
        raise ValueError(f"ys must have shape {tuple(xs.shape[:2])}, got {tuple(ys.shape)}")
    return xs.double(), ys.double()


def prefix_stats(xs: torch.Tensor, ys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exclusive prefix sums G (B, K, d, d) = sum_{i<j} x_i x_i^T and b (B, K, d) = sum_{i<j} y_i x_i."""
    xs, ys = _check(xs, ys)
    outer = xs[..., :, None] * xs[..., None, :]  # (B, K, d, d)
    g = outer.cumsum(1) - outer
    yx = ys[..., None] * xs  # (B, K, d)
    b = yx.cumsum(1) - yx
    return g, b


def _predict(xs: torch.Tensor, w_hat: torch.Tensor) -> torch.Tensor:
    return torch.einsum("bkd,bkd->bk", xs.double(), w_hat)


def least_squares(xs: torch.Tensor, ys: torch.Tensor, rtol: float = 1e-10) -> torch.Tensor:
    """Minimum-norm least squares w_hat = X^+ y = G^+ b at every prefix; preds (B, K).

    Eigenvalues of G_j below ``rtol`` times the largest count as zero, which in
    float64 separates the k < d null space (~1e-16) from signal.
    """
    g, b = prefix_stats(xs, ys)
    w_hat = (torch.linalg.pinv(g, rtol=rtol, hermitian=True) @ b[..., None])[..., 0]  # (B, K, d)
    return _predict(xs, w_hat)


def ridge(xs: torch.Tensor, ys: torch.Tensor, lam: float) -> torch.Tensor:
    """Ridge w_hat = (G + lam I)^{-1} b at every prefix (lam > 0); preds (B, K)."""
    lam = check_positive("lam", lam)
    g, b = prefix_stats(xs, ys)
    eye = torch.eye(g.shape[-1], dtype=g.dtype)
    return _predict(xs, torch.linalg.solve(g + lam * eye, b))


def bayes_ridge(xs: torch.Tensor, ys: torch.Tensor, sigma2: float, tau2: float = 1.0) -> torch.Tensor:
    """Posterior mean under w ~ N(0, tau^2 I), noise sigma^2: ridge with lambda = sigma^2/tau^2.

    At sigma^2 = 0 the posterior mean is the minimum-norm interpolant (the
    lambda -> 0 limit), so `least_squares` is returned.
    """
    sigma2, tau2 = check_nonnegative("sigma2", sigma2), check_positive("tau2", tau2)
    if sigma2 == 0:
        return least_squares(xs, ys)
    return ridge(xs, ys, sigma2 / tau2)


def preconditioned_gd(xs: torch.Tensor, ys: torch.Tensor, gamma_inv: torch.Tensor) -> torch.Tensor:
    """One preconditioned GD step from w = 0: w_hat = Gamma^{-1} (1/j) sum_{i<j} y_i x_i; preds (B, K).

    With ``gamma_inv`` the inverse of `genlab.theory.icl.zfb_gamma` this is the
    prediction of the trained LSA layer (Zhang, Frei & Bartlett, JMLR 2024,
    Theorem 4.1).  Prefix j = 0 predicts 0.

    Parameters
    ----------
    gamma_inv : Tensor, shape (d, d) or (d,) for a diagonal
    """
    xs_, ys_ = _check(xs, ys)
    _, b = prefix_stats(xs_, ys_)
    j = torch.arange(xs_.shape[1], dtype=torch.float64).clamp(min=1)[None, :, None]
    h = b / j  # (B, K, d)
    gi = torch.as_tensor(gamma_inv, dtype=torch.float64)
    w_hat = h * gi if gi.ndim == 1 else h @ gi.T
    return _predict(xs_, w_hat)


def averaging(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """w_hat = (1/j) sum_{i<j} y_i x_i (Garg et al. 2022, "averaging"); preds (B, K)."""
    return preconditioned_gd(xs, ys, torch.ones(xs.shape[-1], dtype=torch.float64))


def zero(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Predict 0 everywhere (normalised error 1)."""
    return torch.zeros(ys.shape, dtype=torch.float64)


def knn(xs: torch.Tensor, ys: torch.Tensor, n_neighbors: int = 3) -> torch.Tensor:
    """Mean label of the ``n_neighbors`` nearest earlier x_i (all of them while j < n_neighbors); preds (B, K)."""
    n_neighbors = check_positive_int("n_neighbors", n_neighbors)
    xs_, ys_ = _check(xs, ys)
    K = xs_.shape[1]
    dist = torch.cdist(xs_, xs_)  # (B, K, K): query j, example i
    future = torch.ones(K, K, dtype=torch.bool).triu()  # i >= j are not yet seen
    dist = dist.masked_fill(future, float("inf"))
    m = min(n_neighbors, max(K - 1, 1))
    near, idx = dist.topk(m, dim=2, largest=False)  # (B, K, m)
    valid = torch.isfinite(near)
    y_near = torch.gather(ys_[:, None, :].expand(-1, K, -1), 2, idx)
    count = valid.sum(2).clamp(min=1)
    return (y_near * valid).sum(2) / count


def lasso(xs: torch.Tensor, ys: torch.Tensor, alpha: float, n_iter: int = 500) -> torch.Tensor:
    """Lasso min_w (1/2)||y - X w||^2 + alpha ||w||_1 at every prefix, by batched FISTA; preds (B, K).

    FISTA (Beck & Teboulle 2009, SIAM J. Imaging Sci.) with step 1/L, L the largest eigenvalue of
    G_j, runs on all (prompt, prefix) pairs at once; ``n_iter`` fixed steps.
    """
    alpha = check_nonnegative("alpha", alpha)
    n_iter = check_positive_int("n_iter", n_iter)
    g, b = prefix_stats(xs, ys)
    step = 1.0 / torch.linalg.eigvalsh(g)[..., -1:].clamp(min=1e-12)  # (B, K, 1)
    w = v = torch.zeros_like(b)
    t = 1.0
    for _ in range(n_iter):  # iterations, not prompts: every prompt and prefix moves together
        z = v - step * ((g @ v[..., None])[..., 0] - b)
        w_next = torch.sign(z) * (z.abs() - step * alpha).clamp(min=0)
        t_next = (1 + (1 + 4 * t * t) ** 0.5) / 2
        v = w_next + (t - 1) / t_next * (w_next - w)  # FISTA momentum: O(1/n^2) instead of O(1/n)
        w, t = w_next, t_next
    return _predict(xs, w)


def discrete_mmse(xs: torch.Tensor, ys: torch.Tensor, pool: torch.Tensor, sigma2: float, *,
                  chunk_elements: int = 2 ** 22) -> torch.Tensor:
    """Posterior mean of w over a finite pool of M equally likely tasks; preds (B, K).

    p(w_m | prefix j) ~ exp(-sum_{i<j} (y_i - w_m . x_i)^2 / (2 sigma^2)), and
    w_hat_j = sum_m p(w_m | prefix j) w_m (Raventos, Paul, Chen & Ganguli 2023,
    "dMMSE").  sigma^2 must be > 0 (the noiseless posterior is degenerate).

    Prompts are taken ``chunk_elements // (K M)`` at a time (at least one), so memory stays near
    ``4 chunk_elements`` doubles whatever B and M: a pool of 2^15 tasks on 6400 prompts of 11 pairs
    would otherwise hold (B, K, M) arrays of 18 GB.  Each prompt's prediction is computed alone, so
    the chunking does not change the values beyond float64 rounding.

    Parameters
    ----------
    pool : Tensor, shape (M, d)
    chunk_elements : int
        Largest B_chunk K M held at once.
    """
    sigma2 = check_positive("sigma2", sigma2)
    xs_, ys_ = _check(xs, ys)
    pool = torch.as_tensor(pool, dtype=torch.float64)
    rows = max(1, min(check_positive_int("chunk_elements", chunk_elements) // (xs_.shape[1] * len(pool)),
                      xs_.shape[0]))
    # two (rows, K, M) buffers reused by every chunk: chunks allocated afresh were not given back by the
    # allocator below its mmap threshold, and a pool of 2^15 tasks ended at the full (B, K, M) array's
    # 18 GB (benchmarks/README.md, the ICL task-diversity study)
    resid2 = torch.empty(rows, xs_.shape[1], len(pool), dtype=torch.float64)
    sse = torch.empty_like(resid2)
    w_hat = torch.cat([_dmmse_w(xc, yc, pool, sigma2, resid2[:len(xc)], sse[:len(xc)])
                       for xc, yc in zip(xs_.split(rows), ys_.split(rows))])
    return _predict(xs_, w_hat)


def _dmmse_w(xs: torch.Tensor, ys: torch.Tensor, pool: torch.Tensor, sigma2: float,
             resid2: torch.Tensor, sse: torch.Tensor) -> torch.Tensor:
    """dMMSE's posterior-mean task (B, K, d) at every prefix, float64 xs (B, K, d), ys (B, K); resid2 and sse
    are (B, K, M) float64 buffers, overwritten."""
    torch.matmul(xs, pool.T, out=resid2)
    resid2.sub_(ys[..., None]).square_()  # (y_i - w_m . x_i)^2
    torch.cumsum(resid2, 1, out=sse)
    sse.sub_(resid2).mul_(-0.5 / sigma2)  # exclusive: prefix j uses i < j; the log-posterior up to a constant
    sse.sub_(sse.amax(2, keepdim=True)).exp_()
    sse.div_(sse.sum(2, keepdim=True))  # the posterior over the pool, (B, K, M)
    return sse @ pool  # (B, K, d)
