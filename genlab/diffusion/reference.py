"""Reference scores that plug into the samplers: oracle, empirical-optimal, KDE-smoothed.

All are ``score_fn(x (B, d), t) -> (B, d)`` with t a float or a (B,) tensor,
computed in float64 and returned in x's dtype.  With the learned score they
split the error of a diffusion model (issue 4): oracle = discretisation +
horizon; learned vs oracle = score estimation; empirical-optimal = memorisation.
"""

from __future__ import annotations

import math

import torch

from genlab.diffusion.gauss_transform import GaussPosterior
from genlab.diffusion.processes import Process
from genlab.core.validation import check_nonnegative, check_points, check_positive, check_positive_int

__all__ = ["OracleScore", "EmpiricalOptimalScore", "KDEScore", "score_error", "has_closed_form_score"]


def has_closed_form_score(truth) -> bool:
    """Whether ``truth`` is a Gaussian mixture (weights, means, covs): its noised score is closed-form."""
    return all(hasattr(truth, a) for a in ("weights", "means", "covs"))


def _times(t, n: int) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=torch.float64).reshape(-1)
    return t.expand(n) if t.numel() == 1 else t


class OracleScore:
    r"""The exact score of the noised truth, grad log p_t with p_t = truth.noised(alpha_t, sigma_t).

    For a ``GaussianMixture`` truth the closed form is evaluated directly:
    with Sigma_k = U_k diag(l_k) U_k^T, the noised covariance is
    U_k diag(alpha_t^2 l_k + sigma_t^2) U_k^T, so every time (even one per
    point) costs one eigendecomposition made up front.  Other truths fall back
    to ``process.marginal(truth, t).score`` (a single time per call).
    """

    def __init__(self, truth, process: Process):
        self.truth, self.process = truth, process
        self._mixture = has_closed_form_score(truth)
        if self._mixture:
            lam, U = torch.linalg.eigh(truth.covs.to(torch.float64))
            self._lam, self._U = lam, U                                    # (K, d), (K, d, d)
            self._logw = torch.log(truth.weights.to(torch.float64))        # (K,)
            self._mu = truth.means.to(torch.float64)                       # (K, d)

    def __call__(self, x: torch.Tensor, t) -> torch.Tensor:
        xd = x.to(torch.float64)
        if not self._mixture:
            tt = _times(t, 1)
            if tt.numel() != 1:
                raise ValueError("OracleScore of a non-mixture truth takes one time per call")
            return self.process.marginal(self.truth, float(tt)).score(xd).to(x.dtype)
        return self.log_prob_and_score(xd, t)[1].to(x.dtype)

    def log_prob_and_score(self, x: torch.Tensor, t):
        """log p_t(x) (B,) and grad log p_t(x) (B, d), float64, for a mixture truth."""
        n, d = x.shape
        tt = _times(t, n)
        a = self.process.alpha(tt)[:, None, None]                           # (B, 1, 1)
        s = self.process.sigma(tt)[:, None, None]
        var = a ** 2 * self._lam[None] + s ** 2                             # (B, K, d)
        diff = x[:, None, :] - a * self._mu[None]                           # (B, K, d)
        z = torch.einsum("bkd,kde->bke", diff, self._U)                     # eigen-coordinates
        quad = (z ** 2 / var).sum(-1)                                       # (B, K)
        logc = self._logw - 0.5 * quad - 0.5 * torch.log(var).sum(-1) - 0.5 * d * math.log(2 * math.pi)
        lp = torch.logsumexp(logc, dim=1)                                   # (B,)
        r = torch.softmax(logc, dim=1)                                      # (B, K)
        grad_k = -torch.einsum("bke,kde->bkd", z / var, self._U)            # (B, K, d)
        return lp, (r[..., None] * grad_k).sum(1)


class _SmoothedEmpirical:
    """Score of (1/n) sum_i N(alpha_t x_i, v_t I), with an optional density floor rho.

    The sums over the n points are `gauss_transform.GaussPosterior`'s: direct in cache-sized blocks of
    ``chunk`` query rows (None: sized to the cache), or, where the kernel is wide against the data, by
    a Taylor expansion whose proven relative error is below 1e-13.
    """

    def __init__(self, x_train, process: Process, chunk: int | None = None):
        self.x_train = check_points("x_train", x_train).to(torch.float64)
        self.process = process
        self.posterior = GaussPosterior(self.x_train, chunk)

    def variance(self, a, s):
        return s ** 2

    def rho(self, t) -> float:
        return 0.0

    def __call__(self, x: torch.Tensor, t) -> torch.Tensor:
        return self._score(x, t)[0].to(device=x.device, dtype=x.dtype)

    @torch.no_grad()
    def score_and_jacobian(self, x: torch.Tensor, t) -> tuple[torch.Tensor, torch.Tensor]:
        r"""s(x, t) (B, d) and its Jacobian ds_i/dx_j (B, d, d) in closed form, float64, no backward pass.

        With w = softmax(-||x - alpha x_i||^2 / (2 v)) and s = (alpha sum_i w_i x_i - x) / v,
        ds/dx = (alpha^2 / v^2) Cov_w(x_i) - I / v (the posterior covariance of x0 given x_t,
        Tweedie's second-order formula; Efron 2011).  Under the density floor, where p < rho the
        score is (p / rho) s and its Jacobian (p / rho) (ds/dx + s s^T).  The likelihood's exact
        trace and the sampler's law ask for it (`genlab.diffusion.sampler_law.score_jacobian`) in
        place of d backward passes through the n-point softmax.
        """
        score, s0, factor, a, v, cov = self._score(x, t)
        d = x.shape[1]
        eye = torch.eye(d, dtype=torch.float64, device=self.x_train.device)
        jac = (a ** 2 / v ** 2)[:, :, None] * cov - eye / v[:, :, None]          # (B, d, d)
        if factor is not None:  # where p < rho: d[(p / rho) s] = (p / rho) (ds + s s^T)
            floored = factor[:, None, None] * (jac + s0[:, :, None] * s0[:, None, :])
            jac = torch.where((factor < 1.0)[:, None, None], floored, jac)
        return score.to(device=x.device, dtype=x.dtype), jac.to(device=x.device, dtype=x.dtype)

    def _score(self, x: torch.Tensor, t):
        """The (floored) score (B, d), the unfloored one, the floor's factor (B,) or None, alpha and v
        (B, 1) and the posterior covariance (B, d, d); float64."""
        xd = x.to(device=self.x_train.device, dtype=torch.float64)
        n, d = xd.shape
        tt = _times(t, n).to(xd.device)
        a = self.process.alpha(tt)[:, None]                                 # (B, 1)
        v = self.variance(a, self.process.sigma(tt)[:, None])               # (B, 1)
        log_norm, mean, cov = self.posterior(xd, a, v)
        s0 = (a * mean - xd) / v                                            # grad p / p
        rho = self.rho(tt)
        if not rho > 0:
            return s0, s0, None, a, v, cov
        logp = log_norm - math.log(self.x_train.shape[0]) - 0.5 * d * torch.log(2 * math.pi * v[:, 0])
        factor = torch.exp((logp - math.log(rho)).clamp(max=0.0))
        return s0 * factor[:, None], s0, factor, a, v, cov


class EmpiricalOptimalScore(_SmoothedEmpirical):
    r"""The exact minimiser of denoising score matching on n training points.

    The law of x_t when x0 is drawn from the empirical measure of x_train is
    (1/n) sum_i N(alpha_t x_i, sigma_t^2 I); its score
    (sum_i w_i(x) alpha_t x_i - x) / sigma_t^2, w = softmax(-||x - alpha_t x_i||^2 / (2 sigma_t^2)),
    minimises the DSM loss over all functions.  As t0 -> 0 its reverse flow
    returns points of the training set (Gu et al. 2023; Pidstrigach 2022).
    """


class KDEScore(_SmoothedEmpirical):
    r"""KDE-smoothed score estimator (Wibisono, Wu & Yang 2024, "Optimal score estimation via empirical Bayes smoothing").

    The score of the Gaussian KDE with bandwidth h pushed through the forward
    process, (1/n) sum_i N(alpha_t x_i, (sigma_t^2 + alpha_t^2 h^2) I), with the
    regularised ratio grad p_hat / max(p_hat, rho) of their estimator (rho = 0
    turns the floor off).  h = 0 gives the empirical-optimal score.
    """

    def __init__(self, x_train, process: Process, h: float, rho: float = 1e-4, chunk: int | None = None):
        super().__init__(x_train, process, chunk)
        self.h = check_nonnegative("h", h)
        self._rho = check_nonnegative("rho", rho)

    def variance(self, a, s):
        return s ** 2 + a ** 2 * self.h ** 2

    def rho(self, t) -> float:
        return self._rho


def score_error(score_fn, truth, process: Process, ts, m: int,
                generator: torch.Generator | None = None, dtype: torch.dtype = torch.float32):
    r"""E_{x ~ p_t} ||s(x, t) - grad log p_t(x)||^2 at each time of ``ts``, float64 (len(ts),).

    x ~ p_t = truth noised to t (exact samples, m per time); the score_fn is
    fed ``dtype``.  Monte Carlo standard error is of order value / sqrt(m).
    """
    m = check_positive_int("m", m)
    oracle = OracleScore(truth, process)
    out = []
    for t in torch.as_tensor(ts, dtype=torch.float64).reshape(-1).tolist():
        check_positive("t", t)
        x = process.marginal(truth, t).sample(m, generator)
        s_star = oracle(x, t)
        s = score_fn(x.to(dtype), t).to(torch.float64)
        out.append(((s - s_star) ** 2).sum(-1).mean())
    return torch.stack(out)
