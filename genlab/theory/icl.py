"""Risk curves of in-context linear regression, each with its formula and source.

Setting: x ~ N(0, Lambda) in R^d, w ~ N(0, tau^2 I), y = w . x + eps with
eps ~ N(0, sigma^2); an estimator sees k labelled examples and predicts the
label of a fresh query x.  Every function here returns the NORMALISED EXCESS
error

    E[(y_hat - w . x)^2] / (tau^2 tr(Lambda)),

that is, the squared error minus sigma^2, divided by the variance of the clean
label (= d for isotropic Lambda = I and tau^2 = 1, the normalisation of Garg,
Tsipras, Liang & Valiant 2022 and of the issue).  A result of 1 is the error
of predicting 0; ``inf`` marks a divergent expectation.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch

from genlab.core.seeding import make_generator
from genlab.core.validation import check_nonnegative, check_positive, check_positive_int

__all__ = [
    "least_squares_risk",
    "bayes_ridge_risk",
    "bayes_ridge_risk_mp",
    "zfb_gamma",
    "preconditioned_gd_risk",
    "lsa_risk",
    "averaging_risk",
]


def _k(k) -> int:
    if isinstance(k, bool) or int(k) != k or k < 0:
        raise ValueError(f"k must be an integer >= 0, got {k!r}")
    return int(k)


def least_squares_risk(d: int, k: int, sigma2: float = 0.0, tau2: float = 1.0) -> float:
    """Minimum-norm least squares (w_hat = X^+ y), isotropic Gaussian design.

    Formula (unnormalised excess E[||w_hat - w||^2]):

    - k < d - 1:   tau^2 (d - k) + sigma^2 k / (d - k - 1)
    - d - 1 <= k <= d + 1 with sigma^2 > 0:  inf
    - k > d + 1:   sigma^2 d / (k - d - 1)
    - sigma^2 = 0: tau^2 (d - k) for k < d, 0 for k >= d

    so the noiseless normalised error is 1 - k/d, and the noisy normalised
    excess for k > d + 1 is sigma^2 / (tau^2 (k - d - 1)).  The bias term is the
    projection of w off the row space (rank k); the variance terms are the
    means of inverse Wisharts, E tr((X^T X)^{-1}) = d / (k - d - 1) and
    E tr((X X^T)^{-1}) = k / (d - k - 1).  Source: Belkin, Hsu & Xu, "Two
    models of double descent for weak features" (SIAM J. Math. Data Sci. 2020),
    Gaussian model; Hastie, Montanari, Rosset & Tibshirani (Ann. Statist. 2022).

    >>> least_squares_risk(5, 2)
    0.6
    >>> least_squares_risk(5, 10, sigma2=0.25)
    0.0625
    """
    d, k = check_positive_int("d", d), _k(k)
    sigma2, tau2 = check_nonnegative("sigma2", sigma2), check_positive("tau2", tau2)
    if sigma2 == 0:
        return max(d - k, 0) / d
    if k < d - 1:
        return (tau2 * (d - k) + sigma2 * k / (d - k - 1)) / (tau2 * d)
    if k <= d + 1:
        return math.inf
    return sigma2 / (tau2 * (k - d - 1))


def bayes_ridge_risk(d: int, k: int, sigma2: float, tau2: float = 1.0, *, n_mc: int = 200_000,
                     seed: int = 0, return_se: bool = False):
    """Bayes risk of the posterior mean (ridge with lambda = sigma^2 / tau^2), isotropic design.

    The posterior of w given (X, y) is Gaussian with covariance
    C = (X^T X / sigma^2 + I / tau^2)^{-1}, so the exact finite-k Bayes excess is

        E[(x . w_hat - x . w)^2] = E_X tr(C) = E sum_i 1 / (mu_i / sigma^2 + 1 / tau^2),

    with mu_i the eigenvalues of the Wishart matrix X^T X ~ W_d(k, I).  This
    function evaluates that expectation by seeded Monte Carlo over the Wishart
    eigenvalues (``n_mc`` draws; deterministic for a given ``seed``); it is the
    exact expression estimated, not a closed form, and ``return_se=True`` also
    returns the Monte Carlo standard error.  For sigma^2 = 0 it returns the
    exact least-squares value 1 - k/d (the posterior mean is the minimum-norm
    interpolant).  See `bayes_ridge_risk_mp` for the closed-form large-d limit.
    Source: standard Gaussian conjugacy, e.g. Bishop (2006), Sec. 3.3; as the
    ICL benchmark in Garg et al. (2022) and Raventos et al. (2023).
    """
    d, k = check_positive_int("d", d), _k(k)
    sigma2, tau2 = check_nonnegative("sigma2", sigma2), check_positive("tau2", tau2)
    if sigma2 == 0 or k == 0:
        r = least_squares_risk(d, k) if sigma2 == 0 else 1.0
        return (r, 0.0) if return_se else r
    g = make_generator(seed)
    vals = []
    for start in range(0, n_mc, 20_000):  # chunks bound memory; the work is batched within a chunk
        b = min(20_000, n_mc - start)
        x = torch.randn(b, k, d, generator=g, dtype=torch.float64)
        mu = torch.linalg.eigvalsh(x.transpose(1, 2) @ x)  # (b, d)
        vals.append((1.0 / (mu / sigma2 + 1.0 / tau2)).sum(1) / (tau2 * d))
    v = torch.cat(vals)
    r, se = float(v.mean()), float(v.std() / math.sqrt(len(v)))
    return (r, se) if return_se else r


def bayes_ridge_risk_mp(d: int, k: int, sigma2: float, tau2: float = 1.0) -> float:
    """Closed-form proportional-limit (d, k -> inf, d/k = gamma) Bayes ridge risk.

    With m the Marchenko-Pastur Stieltjes transform at z = -lambda/k,
    lambda = sigma^2 / tau^2, the solution of gamma mu m^2 + (mu + 1 - gamma) m - 1 = 0
    (mu = lambda / k), the normalised excess is sigma^2 m / (tau^2 k).  Source:
    Dicker (Bernoulli 2016), "Ridge regression and asymptotic minimax estimation
    over spheres of growing dimension"; Dobriban & Wager (Ann. Statist. 2018), Thm 2.1.
    An approximation at finite d (a few percent at d = 5); use `bayes_ridge_risk`
    for the exact finite-k value.
    """
    d, k = check_positive_int("d", d), _k(k)
    sigma2, tau2 = check_nonnegative("sigma2", sigma2), check_positive("tau2", tau2)
    if k == 0:
        return 1.0
    if sigma2 == 0:
        return least_squares_risk(d, k)
    gamma, mu = d / k, sigma2 / tau2 / k
    b = mu + 1 - gamma
    m = (-b + math.sqrt(b * b + 4 * gamma * mu)) / (2 * gamma * mu)
    return sigma2 * m / (tau2 * k)


def zfb_gamma(eigenvalues: Sequence[float] | torch.Tensor, n_train: int, sigma2: float = 0.0,
              tau2: float = 1.0) -> torch.Tensor:
    """Eigenvalues of the Zhang-Frei-Bartlett preconditioner Gamma, shape (d,).

    Gamma = (1 + 1/N) Lambda + (tr(Lambda) + sigma^2 / tau^2) / N * I.  For
    sigma^2 = 0 this is the global minimiser of the one-layer LSA population
    loss (Zhang, Frei & Bartlett, JMLR 25(49) 2024, Theorem 4.1): the trained
    layer predicts y_hat = x_q^T Gamma^{-1} (1/N) sum_i y_i x_i.  The
    sigma^2 / tau^2 term is our extension to label noise: it is the minimiser of
    `preconditioned_gd_risk` over diagonal preconditioners with noise (same
    derivation; it reduces to ZFB at sigma^2 = 0).

    >>> zfb_gamma([1.0, 1.0], 2).tolist()
    [2.5, 2.5]
    """
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    n = check_positive_int("n_train", n_train)
    sigma2, tau2 = check_nonnegative("sigma2", sigma2), check_positive("tau2", tau2)
    return (1 + 1 / n) * lam + (lam.sum() + sigma2 / tau2) / n


def preconditioned_gd_risk(eigenvalues, b: Sequence[float] | torch.Tensor, k: int, sigma2: float = 0.0,
                           tau2: float = 1.0) -> float:
    """Risk of one preconditioned GD step from 0, w_hat = B (1/k) sum_i y_i x_i (Lambda diagonal).

    ``b`` is the diagonal of B, shape (d,), or a full matrix (d, d).

    With Gamma_k = (1 + 1/k) Lambda + tr(Lambda)/k I (the Wishart second moment
    E[L_hat A L_hat] = (1 + 1/k) L A L + tr(A L) L / k, L_hat = (1/k) sum x_i x_i^T),

        E[(x . w_hat - x . w)^2] = sum_i tau^2 (b_i^2 lambda_i^2 gamma_{k,i} - 2 b_i lambda_i^2 + lambda_i)
                                   + (sigma^2 / k) b_i^2 lambda_i^2,

    divided by tau^2 tr(Lambda).  B = Gamma_N^{-1} gives the LSA risk; B = I the
    averaging estimator.  Derived as in Zhang, Frei & Bartlett (JMLR 2024,
    proof of Theorem 4.1, Appendix A); checked against Monte Carlo in the tests.
    k = 0 gives 1 (the empty sum predicts 0).
    """
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    k = _k(k)
    sigma2, tau2 = check_nonnegative("sigma2", sigma2), check_positive("tau2", tau2)
    if k == 0:
        return 1.0
    if b.ndim == 2:
        # a full matrix B: tau^2 [tr(A ((1+1/k) L^2 + tr(L) L / k)) - 2 tr(L B L) + tr L] + sigma^2/k tr(A L),
        # A = B^T L B, from the same Wishart moment (used for a learned, not exactly diagonal, B)
        L = torch.diag(lam)
        A = b.T @ L @ b
        r = (tau2 * (torch.trace(A @ ((1 + 1 / k) * L @ L + lam.sum() / k * L)) - 2 * torch.trace(L @ b @ L)
                     + lam.sum()) + sigma2 / k * torch.trace(A @ L))
        return float(r / (tau2 * lam.sum()))
    gk = (1 + 1 / k) * lam + lam.sum() / k
    r = tau2 * (b ** 2 * lam ** 2 * gk - 2 * b * lam ** 2 + lam) + sigma2 / k * b ** 2 * lam ** 2
    return float(r.sum() / (tau2 * lam.sum()))


def lsa_risk(d: int, n_train: int, m_test: Optional[int] = None, *, sigma2: float = 0.0, tau2: float = 1.0,
             eigenvalues=None) -> float:
    """e(N, M): normalised risk of the trained one-layer LSA (ZFB global minimiser), test length M.

    Isotropic, noiseless, M = N: e = (d + 1) / (N + d + 1) (0.375 at d = 5, N = 10;
    0.524 at d = 10, N = 10).  General isotropic: with g_N = (N + d + 1) / N,
    e(N, M) = 1 - 2 / g_N + g_M / g_N^2.  Source: Zhang, Frei & Bartlett
    (JMLR 25(49) 2024), Theorem 4.1 (global minimiser; prediction error on a
    test prompt of length M); evaluated through `preconditioned_gd_risk` with
    B = Gamma_N^{-1} (`zfb_gamma`, which adds the noise term when sigma2 > 0).

    >>> round(lsa_risk(5, 10), 6), round(lsa_risk(10, 10), 6)
    (0.375, 0.52381)
    """
    d = check_positive_int("d", d)
    n = check_positive_int("n_train", n_train)
    m = n if m_test is None else _k(m_test)
    lam = torch.ones(d, dtype=torch.float64) if eigenvalues is None else torch.as_tensor(eigenvalues, dtype=torch.float64)
    gamma = zfb_gamma(lam, n, sigma2, tau2)
    return preconditioned_gd_risk(lam, 1 / gamma, m, sigma2, tau2)


def averaging_risk(d: int, k: int, sigma2: float = 0.0, tau2: float = 1.0, eigenvalues=None) -> float:
    """Averaging estimator w_hat = (1/k) sum_i y_i x_i (one GD step, unit rate).

    Isotropic: normalised excess ((d + 1) + sigma^2 / tau^2) / k.  Source: the
    B = I case of `preconditioned_gd_risk`; the estimator is the "averaging"
    baseline of Garg et al. (2022), Sec. 3.

    >>> averaging_risk(5, 12)
    0.5
    """
    d = check_positive_int("d", d)
    lam = torch.ones(d, dtype=torch.float64) if eigenvalues is None else torch.as_tensor(eigenvalues, dtype=torch.float64)
    return preconditioned_gd_risk(lam, torch.ones_like(lam), k, sigma2, tau2)
