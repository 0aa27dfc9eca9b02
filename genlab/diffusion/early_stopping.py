r"""The early-stopping offset: the truth noised to t0, and the distances on both sides of it.

A diffusion model's density is its law at the early-stopping time t0: its
exact target is the truth noised to t0,

    p_t0 = law of alpha x0 + sigma z,   x0 ~ p0, z ~ N(0, I),   (alpha, sigma) = (alpha_t0, sigma_t0),

not the clean truth p0.  Their distance, the *offset* TV(p0, p_t0), does not
depend on n; by the triangle inequality

    |TV(p0, q) - TV(p_t0, q)| <= TV(p0, p_t0)

for the model's density q.  For a density that jumps at the faces of its cube
(``SmoothDensity``, ``Uniform``) the offset is about
sigma_t0 / sqrt(2 pi) times the total jump over the faces (the mass that leaks
out), i.e. of order sqrt(t0) on the VP process: 0.009 at t0 = 1e-4.

Which distance the theory is about.  Oko, Akiyama & Suzuki (2023, "Diffusion
models are minimax optimal distribution estimators", ICML, main TV theorem)
bound E TV(p0, law of the sampler's output at t0) -- the *clean* truth
against the early-stopped model, the offset included -- with t0 polynomially
small in n, and with p0 smooth near the boundary of the cube so that the
offset is below the rate.  So the rate is fitted on ``tv`` (against p0);
``tv_t0`` and ``kl_t0`` (against p_t0) are diagnostics that split the error:
``tv_t0`` is the estimation error of the model's own target, ``tv_offset`` the
price of stopping early.  With a fixed t0 the offset is a floor under ``tv``;
``DiffusionConfig.t0_c, t0_a`` set t0 = c n^(-a), and on a jump density the
offset then falls as n^(-a/2), below the TV rate n^(-s/(2s+d)) when
a >= 2s/(2s+d).

How p_t0 is evaluated.  A Gaussian mixture has its noised law in closed form
(``truth.noised``: weights kept, means alpha mu_k, covariances
alpha^2 Sigma_k + sigma^2 I), so log p_t0 is exact.  Any other truth is
reached only through its public ``sample`` and ``log_prob``, by importance
sampling of the convolution (``noised_log_prob_mc``): unbiased for p_t0(x), with
the bias of the log and of the positive part (Jensen, O(1/K) for K inner
draws) estimated by halving K and added to the interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch

import metrics as M
from genlab.core.seeding import derive_seed, make_generator
from genlab.core.validation import check_in, check_positive, check_positive_int

__all__ = ["NoisedTruth", "noised_truth", "noised_log_prob_mc", "tv_offset", "early_stopping_metrics", "run_metrics",
           "t0_schedule", "EARLY_STOPPING_METRICS", "THEOREM_METRIC"]

#: the metrics this module adds to a diffusion run (flat names in metrics.json), and what each is
EARLY_STOPPING_METRICS = {
    "tv_t0": "TV(truth noised to t0, model density at t0): the model's own target; a diagnostic",
    "kl_t0": "KL(truth noised to t0 || model density at t0), nats: a diagnostic",
    "tv_offset": "TV(truth, truth noised to t0): the early-stopping offset, independent of n",
}
#: the TV that Oko, Akiyama & Suzuki (2023) bound, so the one a rate fit of a diffusion run uses
THEOREM_METRIC = "tv"


def t0_schedule(n: int, c: float, a: float) -> float:
    """The early-stopping time t0 = c n^(-a) (Oko et al. 2023 let t0 shrink polynomially in n).

    >>> t0_schedule(100, 0.5, 1.0)
    0.005
    """
    n = check_positive_int("n", n)
    c = check_positive("t0_c", c)
    a = float(a)
    if not (math.isfinite(a) and a >= 0):
        raise ValueError(f"t0_a must be a finite number >= 0, got {a}")
    return c * float(n) ** (-a)


@dataclass
class NoisedTruth:
    """The truth noised to t0, evaluated through the truth's public ``sample`` / ``log_prob``.

    ``sample(N, generator) -> (x (N, d), x0 (N, d))``: x ~ p_t0 with the clean
    point x0 ~ p0 it was made from.  ``log_prob(x, x0, generator)`` returns
    (log p_t0(x) (N,), log p_t0 from half the inner draws (N,) or None): exact
    (None for the half) when the truth has a closed-form ``noised`` law.
    """

    truth: object
    alpha: float
    sigma: float
    inner: int = 64

    def __post_init__(self):
        self.alpha = check_positive("alpha", self.alpha)
        self.sigma = check_positive("sigma", self.sigma)
        self.inner = check_positive_int("inner", self.inner)
        if self.inner % 8:
            raise ValueError(f"inner must be a multiple of 8 (antithetic pairs from two proposals, "
                             f"halved for the bias estimate), got {self.inner}")
        self.exact = self.truth.noised(self.alpha, self.sigma) if hasattr(self.truth, "noised") else None

    def sample(self, n: int, generator: torch.Generator):
        x0 = self.truth.sample(n, generator=generator).to(torch.float64)
        z = torch.randn(x0.shape, generator=generator, dtype=torch.float64, device=x0.device)
        return self.alpha * x0 + self.sigma * z, x0

    def log_prob(self, x: torch.Tensor, x0: torch.Tensor, generator: torch.Generator):
        if self.exact is not None:
            return self.exact.log_prob(x.to(self.exact.dtype)).to(torch.float64), None
        return noised_log_prob_mc(self.truth, x, x0, self.alpha, self.sigma, self.inner, generator)


def noised_truth(truth, process, inner: int = 64) -> NoisedTruth:
    """``NoisedTruth`` of ``truth`` at the early-stopping time ``process.t0``."""
    t0 = process.t0
    return NoisedTruth(truth, float(process.alpha(t0)), float(process.sigma(t0)), inner)


def noised_log_prob_mc(truth, x: torch.Tensor, x0: torch.Tensor, alpha: float, sigma: float, inner: int,
                       generator: torch.Generator, chunk: int = 4096):
    r"""Importance-sampling estimate of log p_t0(x), p_t0 = law of alpha X0 + sigma Z, and its half-K twin.

    p_t0(x) = int p0(y) N(x; alpha y, sigma^2 I) dy
            = alpha^{-d} E[p0(Y)],   Y ~ phi_1 = N(x / alpha, tau^2 I),  tau = sigma / alpha.

    Where p0(x / alpha) > 0 the K draws come from phi_1 in antithetic pairs
    x/alpha +- tau e (the pair cancels the linear part of p0), with weights
    alpha^{-d} p0(Y).  Where p0(x / alpha) = 0 (x off the support of a truth
    on a cube), phi_1 may miss the support altogether, so half the draws come
    from phi_2 = N(x0, tau^2 I), centred on the clean point x0 that made x,
    with the balance-heuristic weight of the mixture r = (phi_1 + phi_2) / 2
    (Veach & Guibas 1995), stratified so the estimate stays unbiased:

        w(y) = alpha^{-d} p0(y) phi_1(y) / r(y) = alpha^{-d} p0(y) 2 / (1 + phi_2(y) / phi_1(y)) <= 2 alpha^{-d} p0(y).

    The branch depends on x alone, never on the draws, so for every x the
    mean of the K weights is unbiased for p_t0(x).  (The mixture is not used
    everywhere: inside the support its weights vary with phi_2 / phi_1 and
    the variance grows tenfold; measured on the s = 1 density.)  The log of
    the mean is biased downwards by about Var(w) / (2 K p_t0^2) (delta
    method); the second output, from the first half of each proposal's pairs
    (K / 2 draws), has twice that bias, so a functional F of the log-densities
    has bias about F(half) - F(full) (Richardson).

    Parameters
    ----------
    truth : with ``log_prob(y (k, d)) -> (k,)`` (normalised; -inf off the support)
    x, x0 : Tensor, shape (N, d)
        Points of p_t0 and the clean points they were made from (x0 only
        centres the second proposal: any point of the support near x will do).
    alpha, sigma : float, > 0
    inner : int
        K, a multiple of 8.
    generator : torch.Generator

    Returns
    -------
    (log p_hat (N,), log p_hat from K/2 draws (N,)), float64; -inf where no draw met the support.
    """
    x, x0 = x.to(torch.float64), x0.to(torch.float64)
    n, d = x.shape
    tau = sigma / alpha
    full = torch.empty(n, dtype=torch.float64, device=x.device)
    half = torch.empty_like(full)
    for i in range(0, n, chunk):
        xc, x0c = x[i:i + chunk] / alpha, x0[i:i + chunk]
        on = torch.isfinite(truth.log_prob(xc).to(torch.float64))
        for mask, mixed in ((on, False), (~on, True)):
            idx = i + torch.nonzero(mask).reshape(-1)
            if idx.numel() == 0:
                continue
            f, h = _log_mean_weight(truth, xc[mask], x0c[mask], tau, alpha, inner, mixed, generator)
            full[idx], half[idx] = f, h
    return full, half


def _antithetic(centre: torch.Tensor, tau: float, pairs: int, generator) -> torch.Tensor:
    """(b, 2 pairs, d) draws centre +- tau e, pair j at positions 2j, 2j + 1."""
    b, d = centre.shape
    e = torch.randn(b, pairs, d, generator=generator, dtype=torch.float64, device=centre.device)
    return centre[:, None, :] + tau * torch.stack([e, -e], dim=2).reshape(b, 2 * pairs, d)


def _log_mean_weight(truth, c1, x0, tau, alpha, inner, mixed, generator):
    b, d = c1.shape
    shift = -d * math.log(alpha)

    def log_p0(y):
        return truth.log_prob(y.reshape(-1, d)).to(torch.float64).reshape(y.shape[:2])

    if not mixed:
        y = _antithetic(c1, tau, inner // 2, generator)                      # (b, K, d)
        logw = log_p0(y) + shift
        first = logw[:, :inner // 2]                                         # the first K/4 pairs
    else:
        y1, y2 = _antithetic(c1, tau, inner // 4, generator), _antithetic(x0, tau, inner // 4, generator)
        y = torch.cat([y1, y2], dim=1)                                       # (b, K, d)
        # log(phi_2 / phi_1) at y = (|y - x/alpha|^2 - |y - x0|^2) / (2 tau^2)
        r21 = (((y - c1[:, None]) ** 2).sum(-1) - ((y - x0[:, None]) ** 2).sum(-1)) / (2 * tau * tau)
        logw = log_p0(y) + shift + math.log(2.0) - torch.nn.functional.softplus(r21)
        k = inner // 4                                                       # the first K/8 pairs of each
        first = torch.cat([logw[:, :k], logw[:, inner // 2:inner // 2 + k]], dim=1)
    return (torch.logsumexp(logw, dim=1) - math.log(inner),
            torch.logsumexp(first, dim=1) - math.log(inner // 2))


def _check_finite_log(name: str, lp: torch.Tensor, inner: int) -> np.ndarray:
    out = lp.cpu().numpy().astype(np.float64)
    bad = int((~np.isfinite(out)).sum())
    if bad:
        raise ValueError(f"{name}: the estimate of log p_t0 is not finite at {bad} of {len(out)} points "
                         f"(no inner draw landed where the truth has density); raise diffusion.t0_inner "
                         f"(now {inner})")
    return out


def _with_bias(est: M.Estimate, half: Optional[M.Estimate], *, lower: float = -math.inf,
               upper: float = math.inf) -> tuple[M.Estimate, float]:
    """``est`` with its interval widened by |bias|, bias = F(K/2 draws) - F(K draws) (0 when exact)."""
    if half is None:
        return est, 0.0
    bias = half.value - est.value
    lo = max(est.ci_low - abs(bias), lower)
    hi = min(est.ci_high + abs(bias), upper)
    return M.Estimate(est.value, ci_low=lo, ci_high=hi,
                      note=est.note + f"; log p_t0 by importance sampling, interval widened by the "
                                      f"estimated inner-sampling bias |{bias:.2g}|"), bias


def tv_offset(noised: NoisedTruth, m: int, generator: torch.Generator, *, alpha: float = 0.05):
    """TV(p0, p_t0) = E_{p_t0}[(1 - p0(X) / p_t0(X))_+] over m points of p_t0; (Estimate, bias).

    Exact log p_t0 for a mixture (the CLT interval is the whole error);
    otherwise ``noised_log_prob_mc``, its bias estimated by halving K and
    added to both ends of the interval.  Off the support of p0 the term is
    exactly 1, whatever the estimate of p_t0.
    """
    m = check_positive_int("m", m)
    x, x0 = noised.sample(m, generator)
    lp_t0, lp_half = noised.log_prob(x, x0, generator)
    lp0 = noised.truth.log_prob(x.to(noised.truth.dtype)).cpu().numpy().astype(np.float64)
    full = M.tv_monte_carlo(_check_finite_log("tv_offset", lp_t0, noised.inner), lp0, alpha=alpha)
    half = None if lp_half is None else M.tv_monte_carlo(
        _check_finite_log("tv_offset", lp_half, noised.inner), lp0, alpha=alpha)
    est, bias = _with_bias(full, half, lower=0.0, upper=1.0)
    return M.Estimate(est.value, floor=0.0, ci_low=est.ci_low, ci_high=est.ci_high,
                      note="TV(truth, truth noised to t0): " + est.note), bias


def early_stopping_metrics(noised: NoisedTruth, model_log_prob: Callable[[np.ndarray], np.ndarray], *,
                           names, m: int, offset_m: int, seed: int, alpha: float = 0.05) -> dict:
    """The flat metrics.json entries of the early-stopping split; see the module docstring.

    Parameters
    ----------
    noised : NoisedTruth
        The truth noised to the model's t0.
    model_log_prob : callable
        ``x (k, d) float64 array -> (k,)``, the model's log-density at t0.
    names : iterable of str
        Any of ``EARLY_STOPPING_METRICS``.
    m : int
        Points of p_t0 for ``tv_t0`` and ``kl_t0`` (a run passes ``diffusion.t0_m``, by default eval.m:
        a third of its ``tv``'s points at eval.reps = 3, since each costs a likelihood solve).
    offset_m : int
        Points of p_t0 for ``tv_offset`` (no model enters: cheap; a run passes 10 eval.reps eval.m).
    seed : int
        The evaluation seed: the points depend on it alone (not on n or the training seed).

    Returns
    -------
    dict of str to float
        ``<name>``, ``<name>_floor`` (the CI half-width, as for ``tv``), ``<name>_ci_low``,
        ``<name>_ci_high``, ``<name>_inner_bias`` (0 when p_t0 is exact) and
        ``<name>_is_theorem_metric`` = 0 for each name; ``tv_is_theorem_metric`` = 1.
    """
    names = list(names)
    for name in names:
        check_in("early-stopping metric", name, list(EARLY_STOPPING_METRICS))
    out: dict = {f"{THEOREM_METRIC}_is_theorem_metric": 1}
    model_names = [k for k in names if k in ("tv_t0", "kl_t0")]
    if model_names:
        g = make_generator(derive_seed(seed, "eval_t0"))
        x, x0 = noised.sample(check_positive_int("m", m), g)
        lp_t0, lp_half = noised.log_prob(x, x0, g)
        lp = _check_finite_log("tv_t0/kl_t0", lp_t0, noised.inner)
        lph = None if lp_half is None else _check_finite_log("tv_t0/kl_t0", lp_half, noised.inner)
        lq = np.asarray(model_log_prob(x.cpu().numpy()), dtype=np.float64)
        for name in model_names:
            fn, lower, upper = ((M.tv_monte_carlo, 0.0, 1.0) if name == "tv_t0" else (M.kl, -math.inf, math.inf))
            est, bias = _with_bias(fn(lp, lq, alpha=alpha), None if lph is None else fn(lph, lq, alpha=alpha),
                                   lower=lower, upper=upper)
            half = 0.5 * (est.ci_high - est.ci_low)
            out.update(M.Estimate(est.value, floor=half if math.isfinite(half) else None, ci_low=est.ci_low,
                                  ci_high=est.ci_high).as_flat(name))
            out[f"{name}_inner_bias"] = bias
            out[f"{name}_is_theorem_metric"] = 0
    if "tv_offset" in names:
        est, bias = tv_offset(noised, offset_m, make_generator(derive_seed(seed, "eval_t0_offset")), alpha=alpha)
        out.update(est.as_flat("tv_offset"))
        out["tv_offset_inner_bias"] = bias
        out["tv_offset_is_theorem_metric"] = 0
    return out


def run_metrics(cfg, truth, model_log_prob) -> dict:
    """``early_stopping_metrics`` of a diffusion run (``cfg`` a RunConfig): tv_t0 beside tv, kl_t0
    beside kl, tv_offset whenever either is asked for; {} when ``diffusion.t0_metrics`` is false,
    the truth has no density, or neither tv nor kl is in eval.metrics."""
    dc = cfg.diffusion
    names = [f"{k}_t0" for k in ("tv", "kl") if k in cfg.eval.metrics]
    if not (dc.t0_metrics and truth.has_density and names and model_log_prob is not None):
        return {}
    noised = noised_truth(truth, dc.make_process(n=cfg.n), dc.t0_inner)
    return early_stopping_metrics(noised, model_log_prob, names=names + ["tv_offset"], m=dc.t0_m or cfg.eval.m,
                                  offset_m=dc.t0_offset_m or 10 * cfg.eval.reps * cfg.eval.m, seed=cfg.eval.seed)
