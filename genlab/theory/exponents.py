"""Predicted rate exponents: E[distance(estimate_n, truth)] ~ n^exponent, each with its source.

One function, `predicted_exponent(estimator, metric, ...)`, returns a
`Prediction` (exponent, source, assumptions, log factors) or None where no
theory in this table applies.  Log factors are `LogFactor` objects: the power
q of log n in C n^a (log n)^q with its source, sharp or an upper bound, so a
theory line can carry them (`genlab.theory.theory_curve`).  `table()` lists every row symbolically, for the
README.  The rows follow the survey of Suh & Cheng, "A Survey on Statistical
Theory of Deep Learning: Approximation, Training Dynamics, and Generative
Models" (arXiv 2401.07187).  Theorem numbers are given only where they were
checked; otherwise the paper is cited without one.

Symbols: n training points; d ambient dimension; d' = ``intrinsic_dim`` (the
dimension of the support, d' = d when None); s smoothness of the density;
p the order of W_p; beta the smoothness of the discriminator class of an IPM.
Exponents are for the distance itself (W_p, not W_p^p; TV, not TV^2), except
``score_mse``, whose loss is already squared.

This module is self-contained on purpose: risk curves for in-context
learning live beside it (`genlab.theory.icl`), not in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from genlab.theory.log_factors import LogFactor
from genlab.core.validation import check_in, check_positive, check_positive_int

__all__ = ["Prediction", "predicted_exponent", "table", "ESTIMATORS", "METRICS"]

ESTIMATORS = ("empirical", "kde", "diffusion", "gan", "score")
#: wasserstein = W_p (uses p); tv = total variation (= L1 / 2, same exponent);
#: ipm = the IPM over a beta-smooth discriminator ball (uses beta);
#: score_mse = ||s_hat - s||^2 in L2(P), the score-matching loss;
#: sliced_wasserstein = SW_p, W_p of the 1-D projections averaged over directions (uses p).
METRICS = ("wasserstein", "tv", "ipm", "score_mse", "sliced_wasserstein")


@dataclass(frozen=True)
class Prediction:
    """A predicted exponent and the conditions under which it holds.

    Attributes
    ----------
    exponent : float
        a in E[distance] ~ n^a (negative).
    source : str
        Authors, year, venue, theorem where checked.
    assumptions : str
        Conditions on the truth and the estimator for the rate to hold.
    log_factor : bool or str
        False for a clean power; otherwise the extra factor in words
        (e.g. "(log n)^0.5 (sharp); (log n)^1 (upper bound)"), for tables.
    estimator, metric, formula : str
        The row of the table this came from; ``formula`` is symbolic.
    log_factors : tuple of LogFactor
        The factors machine-usable: the first is the one the theory line
        carries (`log_power`); later ones hold under other assumptions (e.g.
        a weaker upper bound), each labelled with its source and kind.
    """

    exponent: float
    source: str
    assumptions: str
    log_factor: bool | str = False
    estimator: str = ""
    metric: str = ""
    formula: str = ""
    log_factors: tuple = ()

    @property
    def log_power(self) -> float | None:
        """q of the line C n^a (log n)^q: 0.0 for a clean power, None for a polylog of unstated power."""
        return self.log_factors[0].power if self.log_factors else 0.0


# -- sources, written once ------------------------------------------------------
_FG = "Fournier & Guillin 2015 (Probab. Theory Relat. Fields), Thm 1"
_WB = "Weed & Bach 2019 (Bernoulli), Thm 1 (upper Wasserstein dimension)"
_TSY = ("Tsybakov 2009, Introduction to Nonparametric Estimation, Sec. 1.2 (bias h^s, "
        "variance (n h^d)^-1); Devroye & Gyorfi 1985, Nonparametric Density Estimation: the L1 View")
_OKO = ("Oko, Akiyama & Suzuki 2023 (ICML), 'Diffusion models are minimax optimal distribution "
        "estimators', as cited in Suh & Cheng 2024 (arXiv 2401.07187); theorem numbers not checked here")
_LIANG = "Liang 2021 (JMLR), 'How well generative adversarial networks learn distributions'"
_TANG = ("Tang & Yang 2022, 'Minimax rate of distribution estimation on unknown submanifolds "
         "under adversarial losses'")
_CLZZ = ("Chen, Liao, Zha & Zhao 2020, 'Distribution approximation and statistical estimation "
         "guarantees of generative adversarial networks' (arXiv 2002.03938)")
_AKT = ("Ajtai, Komlos & Tusnady 1984 (Combinatorica 4), 'On optimal matchings' (uniform law on the square); "
        "Bobkov & Ledoux (arXiv 1909.06193), 'A simple Fourier analytic proof of the AKT optimal "
        "matching theorem' (upper bound, and the lower bound after Ambrosio, Stra & Trevisan 2019); "
        "Talagrand, as cited there: the upper bound sqrt(log n / n) for every law on the square")
_WWY = "Wibisono, Wu & Yang 2024 (COLT), 'Optimal score estimation via empirical Bayes smoothing'"
_SLICED = ("Nadjahi, Durmus, Chizat, Kolouri, Shahrampour & Simsekli 2020 (NeurIPS), 'Statistical and "
           "topological properties of sliced probability divergences'; Manole, Balakrishnan & Wasserman "
           "2022 (Ann. Statist.), 'Minimax confidence intervals for the sliced Wasserstein distance'; "
           "Bobkov & Ledoux 2019 (Mem. AMS), 'One-dimensional empirical measures, order statistics, and "
           "Kantorovich transport distances'")


def _row(estimator, metric, exponent, source, assumptions, formula, log_factors=()) -> Prediction:
    text = "; ".join(f"{f.label} ({f.kind})" for f in log_factors) if log_factors else False
    return Prediction(float(exponent), source, assumptions, text, estimator, metric, formula, tuple(log_factors))


def _polylog(source: str, description: str = "polylog(n)") -> LogFactor:
    return LogFactor(None, source, "upper bound", "as for the row", description)


def _require_s(s, who: str) -> float:
    if s is None:
        raise ValueError(f"s is required for {who}: give the smoothness of the true density")
    return check_positive("s", s)


# -- one function per row -------------------------------------------------------
def _empirical_log_factors(p, dd) -> tuple:
    """Log factors of E W_p(mu_n, mu) at d' = 2p; none elsewhere."""
    if dd != 2 * p:
        return ()
    # Fournier & Guillin, Thm 1 at p = d/2: E W_p^p <= C (n^-1/2 log(1 + n) + moment term), so by
    # Jensen E W_p <= (E W_p^p)^(1/p) ~ n^(-1/(2p)) (log n)^(1/p): an upper bound.
    fg = LogFactor(1.0 / p, _FG, "upper bound",
                   f"any law with a finite moment of order q > 2p (d' = 2p = {dd:g}); for W_p via "
                   "Jensen from the bound on W_p^p")
    if dd == 2:  # p = 1
        akt = LogFactor(0.5, _AKT, "sharp",
                        "W1 on a bounded 2-D domain (the square): E W1 ~ sqrt(log n / n) for the uniform law "
                        "and a density bounded above and below (AKT); sqrt(log n) is also an upper bound for "
                        "every law on the square (Talagrand)")
        return (akt, fg)
    # d' = 2p >= 3: a density bounded below converges at n^(-1/d') with no log; F&G's log is the worst case.
    return (fg,)


def _empirical_wasserstein(d, s, p, dd, beta):
    # W_p^p ~ n^(-p/d') for d' > 2p, n^(-1/2) for d' < 2p, n^(-1/2) log n at
    # d' = 2p (Fournier & Guillin); for W_p itself take the p-th root.
    exponent = -1.0 / dd if dd > 2 * p else -1.0 / (2 * p)
    return _row(
        "empirical", "wasserstein", exponent, f"{_FG}; {_WB}",
        "i.i.d. sample; compact support (Weed & Bach, d' = the upper Wasserstein dimension, e.g. the "
        "dimension of a compact d'-dimensional manifold or set of positive d'-volume) or enough finite "
        "moments (Fournier & Guillin: q > 2p suffices when d <= 2p). For d' < 2p the exponent -1/(2p) "
        "is the worst case (sharp for laws with disconnected support); a law with a density bounded "
        "below on a connected set converges faster for p > 1 (n^-1/2 in d = 1, n^-1/d' for d' >= 3). "
        "Log factor at d' = 2p: for W1 in d' = 2, sqrt(log n) (Ajtai, Komlos & Tusnady; sharp for a "
        "density bounded above and below on the square), log n (Fournier & Guillin) an upper bound only; "
        "for d' = 2p >= 3, F&G's (log n)^(1/p) is an upper bound (no log for a density bounded below).",
        "-1/d' if d' > 2p;  -1/(2p) (x log) if d' = 2p;  -1/(2p) if d' < 2p", _empirical_log_factors(p, dd))


def _kde_tv(d, s, p, dd, beta):
    s = _require_s(s, "the KDE's TV rate")
    if dd < d:
        return None  # a singular truth: TV(KDE, truth) = 1 for every n
    s_eff = min(s, 2.0)
    return _row(
        "kde", "tv", -s_eff / (2 * s_eff + d), _TSY,
        "density of smoothness s (Hölder/Sobolev) on R^d with enough decay for L1, or on a cube; "
        "Gaussian kernel of order 2, so s is capped at 2 (bias O(h^min(s,2))); bandwidth "
        "h ~ n^(-1/(2s+d)). On a bounded support where the density does not vanish at the boundary, "
        "the plain KDE has an O(h) boundary layer in L1, so the rate needs s <= 1 there, or the "
        "reflection KDE (boundary='reflect') for s <= 2.",
        "-min(s,2) / (2 min(s,2) + d)")


def _diffusion_tv(d, s, p, dd, beta):
    s = _require_s(s, "the diffusion TV rate")
    if dd < d:
        return None  # no density on R^d: TV is vacuous; use W1 with d -> d'
    return _row(
        "diffusion", "tv", -s / (2 * s + d), _OKO,
        "density in the Besov space B^s_{p',q} on [-1, 1]^d, bounded above and below, smooth near the "
        "boundary of the cube; score network trained to the empirical minimiser of denoising score "
        "matching, with early stopping; nearly minimax.",
        "-s / (2s + d)", (_polylog(_OKO),))


def _diffusion_wasserstein(d, s, p, dd, beta):
    if p != 1:
        return None
    s = _require_s(s, "the diffusion W1 rate")
    # No estimator beats n^-1/2 in W1 (the mean alone is estimated at that
    # rate); the cap only binds when d' = 1.
    exponent = max(-(s + 1) / (2 * s + dd), -0.5)
    return _row(
        "diffusion", "wasserstein", exponent, _OKO,
        "as for TV (Besov density on [-1, 1]^d, bounded below), or a density of smoothness s on a "
        "d'-dimensional linear subspace of R^d (the low-dimensional extension: d -> d'); W1 only; "
        "capped at the parametric -1/2 for d' = 1.",
        "max(-(s+1) / (2s + d'), -1/2)",
        (_polylog(_OKO, "n^delta for any delta > 0, and polylog(n)"),))


def _gan_ipm(d, s, p, dd, beta):
    if beta is None:
        raise ValueError("beta is required for the ipm metric: give the smoothness of the discriminator class")
    beta = check_positive("beta", beta)
    s = _require_s(s, "the GAN minimax IPM rate")
    return _row(
        "gan", "ipm", max(-(s + beta) / (2 * s + dd), -0.5), f"{_LIANG}; {_TANG}",
        "minimax rate over densities of smoothness s (Sobolev/Hölder) when the loss is the IPM of a "
        "beta-smooth discriminator ball; attained by a suitably regularised GAN estimator; on an "
        "unknown d'-dimensional submanifold d -> d' (Tang & Yang). beta = 1 gives W1 on a compact set.",
        "max(-(s+beta) / (2s + d'), -1/2)")


def _gan_wasserstein(d, s, p, dd, beta):
    if p != 1:
        return None
    return _row(
        "gan", "wasserstein", max(-1.0 / dd, -0.5), _CLZZ,
        "ReLU generator and Lipschitz discriminator networks sized with n; data on a compact set, "
        "with d -> the intrinsic dimension d' for data on a low-dimensional set; does not use the "
        "density's smoothness (for that use metric='ipm' with beta=1); capped at the parametric -1/2.",
        "max(-1/d', -1/2)", (_polylog(_CLZZ),))


def _empirical_sliced(d, s, p, dd, beta):
    if p != 1:
        return None
    # SW_1(mu_n, mu) = E_theta W1(theta#mu_n, theta#mu), and in 1-D
    # E W1(nu_n, nu) <= n^(-1/2) * int sqrt(F (1 - F)) (Bobkov & Ledoux): the
    # rate of one projection, whatever d is.
    return _row(
        "empirical", "sliced_wasserstein", -0.5, _SLICED,
        "i.i.d. sample; every projection has int sqrt(F_theta (1 - F_theta)) < infinity (a finite "
        "moment of order 2 + epsilon suffices); SW_1 with directions uniform on the sphere; the "
        "exponent does not depend on d or d'.",
        "-1/2")


def _gan_sliced(d, s, p, dd, beta):
    # Each projection x -> <theta, x> is 1-Lipschitz, so SW_1 <= W1 and the
    # GAN's W1 bound carries over; no sharper sliced bound for GANs is known here.
    w1 = _gan_wasserstein(d, s, p, dd, beta)
    return None if w1 is None else replace(
        w1, metric="sliced_wasserstein", formula=f"{w1.formula} (upper bound via SW_1 <= W1)",
        assumptions="an upper bound only: SW_1 <= W1 because every projection is 1-Lipschitz, so the GAN's "
                    "W1 rate bounds SW_1 (the sliced error may fall faster); the W1 rate assumes: "
                    + w1.assumptions)


def _score_mse(d, s, p, dd, beta):
    if dd < d:
        return None  # no density, no score on R^d
    if beta is None:
        exponent, formula = -2.0 / (d + 4), "-2 / (d + 4)"
    else:
        beta = check_positive("beta", beta)
        if beta > 1:
            raise ValueError(f"beta must be in (0, 1] for the score rate (Hölder score), got {beta!r}")
        exponent, formula = -2.0 * beta / (d + 2 * beta + 2), "-2 beta / (d + 2 beta + 2)"
    return _row(
        "score", "score_mse", exponent, _WWY,
        "sub-Gaussian law on R^d with a Lipschitz score (beta = 1; beta-Hölder score for beta <= 1); "
        "the loss is the squared L2(P) error ||s_hat - s||^2, attained by the regularised Gaussian-KDE "
        "score (empirical Bayes smoothing) with h ~ n^(-1/(d+4)); minimax.",
        formula, (_polylog(_WWY),))


_ROWS = {
    ("empirical", "wasserstein"): _empirical_wasserstein,
    ("kde", "tv"): _kde_tv,
    ("diffusion", "tv"): _diffusion_tv,
    ("diffusion", "wasserstein"): _diffusion_wasserstein,
    ("gan", "ipm"): _gan_ipm,
    ("gan", "wasserstein"): _gan_wasserstein,
    ("score", "score_mse"): _score_mse,
    ("empirical", "sliced_wasserstein"): _empirical_sliced,
    ("gan", "sliced_wasserstein"): _gan_sliced,
}


def predicted_exponent(estimator: str, metric: str, *, d: int, s: float | None = None, p: float = 1,
                       intrinsic_dim: int | None = None, beta: float | None = None) -> Prediction | None:
    """The exponent a with E[metric(estimate_n, truth)] ~ n^a, or None where no theory here applies.

    Parameters
    ----------
    estimator : {"empirical", "kde", "diffusion", "gan", "score"}
    metric : {"wasserstein", "tv", "ipm", "score_mse", "sliced_wasserstein"}
    d : int
        Ambient dimension.
    s : float, optional
        Smoothness of the true density; required by the kde, diffusion and GAN-ipm rows.
    p : float
        Order of W_p (and of SW_p), p >= 1.
    intrinsic_dim : int, optional
        d' <= d, the dimension of the support; replaces d where the theory allows.
    beta : float, optional
        Discriminator smoothness for ``metric="ipm"``; Hölder exponent (<= 1) of the score for
        ``"score_mse"``.

    Returns
    -------
    Prediction or None
        None for pairs outside the table (e.g. the empirical measure in TV,
        which is 1 for every n) and for TV of a law with no density on R^d.

    Examples
    --------
    >>> predicted_exponent("empirical", "wasserstein", d=3).exponent
    -0.3333333333333333
    >>> predicted_exponent("diffusion", "wasserstein", d=10, s=1, intrinsic_dim=2).exponent
    -0.5
    >>> predicted_exponent("empirical", "tv", d=2) is None
    True
    """
    check_in("estimator", estimator, ESTIMATORS)
    check_in("metric", metric, METRICS)
    d = check_positive_int("d", d)
    p = check_positive("p", p)
    if p < 1:
        raise ValueError(f"p must be >= 1, got {p!r}")
    dd = d if intrinsic_dim is None else check_positive_int("intrinsic_dim", intrinsic_dim)
    if dd > d:
        raise ValueError(f"intrinsic_dim must be <= d = {d}, got {intrinsic_dim!r}")
    fn = _ROWS.get((estimator, metric))
    return None if fn is None else fn(d, s, p, dd, beta)


def table() -> list[dict]:
    """Every row of the table, symbolically: estimator, metric, formula, source, assumptions, log_factor.

    >>> [(r["estimator"], r["metric"]) for r in table()][:2]
    [('empirical', 'wasserstein'), ('kde', 'tv')]
    """
    # Evaluate each row at a generic point only to read its text fields.
    generic = dict(d=5, s=1.0, p=1, dd=5, beta=1.0)
    rows = []
    for (estimator, metric), fn in _ROWS.items():
        pred = fn(generic["d"], generic["s"], generic["p"], generic["dd"],
                  None if metric == "score_mse" else generic["beta"])
        log = ("(log n)^(1/2) at d' = 2, p = 1 (sharp, AKT; log n: F&G upper bound); (log n)^(1/p) at d' = 2p "
               "(upper bound)") if (estimator, metric) == ("empirical", "wasserstein") else pred.log_factor
        rows.append(dict(estimator=estimator, metric=metric, formula=pred.formula, source=pred.source,
                         assumptions=pred.assumptions, log_factor=log))
    return rows
