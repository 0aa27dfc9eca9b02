"""KL divergence and Hellinger distance by Monte Carlo from log-densities.

Both take log p(x_i) and log q(x_i) evaluated at samples x_1..x_N of p and
return an :class:`~metrics.estimate.Estimate` whose interval is the normal
(CLT) interval mean +- z_{1-alpha/2} s / sqrt(N) of the per-sample terms,
mapped through the final monotone transform where there is one. The floor of
these estimates is left to the caller (:func:`metrics.evaluate` uses the CI
half-width, the estimator's resolution).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from ._validation import as_vector, check_probability
from .estimate import Estimate

__all__ = ["kl", "hellinger", "mc_mean"]


def mc_mean(terms: np.ndarray, alpha: float) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) of i.i.d. terms: mean +- z_{1-alpha/2} s / sqrt(N)."""
    n = terms.shape[0]
    mean = float(np.mean(terms))
    if n < 2:
        return mean, -np.inf, np.inf
    half = float(stats.norm.ppf(1 - alpha / 2) * np.std(terms, ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half


def _log_pair(log_p: Any, log_q: Any) -> tuple[np.ndarray, np.ndarray]:
    lp = as_vector("log_p", log_p)
    lq = as_vector("log_q", log_q, lp.shape[0], allow_nonfinite=True)
    if np.isnan(lq).any() or (lq == np.inf).any():
        raise ValueError("log_q contains NaN or +inf")
    return lp, lq


def kl(log_p: Any, log_q: Any, *, alpha: float = 0.05) -> Estimate:
    """KL(p || q) = E_p[log p(X) - log q(X)], the Monte Carlo mean over samples of p.

    Parameters
    ----------
    log_p, log_q : array_like, shape (N,)
        Normalised log-densities of p and q at N i.i.d. samples of p
        (log_q may be -inf where q vanishes; the estimate is then inf).
    alpha : float, default 0.05
        The interval is the (1 - alpha) CLT interval of the mean.

    Returns
    -------
    Estimate
        value (nats), ci_low, ci_high; floor None.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> x = stats.norm.rvs(size=200_000, random_state=0)
    >>> e = kl(stats.norm.logpdf(x), stats.norm.logpdf(x, loc=1.0))   # exact: 1/2
    >>> bool(e.ci_low < 0.5 < e.ci_high)
    True
    """
    alpha = check_probability("alpha", alpha)
    lp, lq = _log_pair(log_p, log_q)
    if (lq == -np.inf).any():
        return Estimate(np.inf, ci_low=np.inf, ci_high=np.inf, note="KL: q vanishes at a sample of p")
    value, lo, hi = mc_mean(lp - lq, alpha)
    return Estimate(value, ci_low=lo, ci_high=hi, note=f"KL(p||q) nats, MC mean over {len(lp)} samples of p, "
                    f"{100 * (1 - alpha):g}% CLT interval")


def hellinger(log_p: Any, log_q: Any, *, alpha: float = 0.05) -> Estimate:
    """Hellinger distance H(p, q), with H^2 = 1 - int sqrt(p q) = 1 - E_p[sqrt(q(X)/p(X))].

    Convention: H^2 = (1/2) int (sqrt p - sqrt q)^2, so H lies in [0, 1].
    The terms sqrt(q/p) have finite variance (E_p[q/p] <= 1), so the CLT
    interval for H^2 is valid; the returned value and interval are the square
    roots of the estimate and interval of H^2, clipped to [0, 1].

    Parameters
    ----------
    log_p, log_q : array_like, shape (N,)
        Normalised log-densities at N i.i.d. samples of p.
    alpha : float, default 0.05

    Returns
    -------
    Estimate
        H (not H^2), with its interval; floor None.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> x = stats.norm.rvs(size=200_000, random_state=0)
    >>> e = hellinger(stats.norm.logpdf(x), stats.norm.logpdf(x, loc=1.0))
    >>> bool(e.ci_low < np.sqrt(1 - np.exp(-1 / 8)) < e.ci_high)   # exact for a unit shift
    True
    """
    alpha = check_probability("alpha", alpha)
    lp, lq = _log_pair(log_p, log_q)
    diff = 0.5 * (lq - lp)
    if (diff > 700).any():
        raise ValueError("log_q - log_p exceeds 1400 at a sample of p: are the log-densities normalised?")
    h2, lo, hi = mc_mean(1.0 - np.exp(diff), alpha)

    def to_h(v: float) -> float:
        return float(np.sqrt(min(max(v, 0.0), 1.0)))

    return Estimate(to_h(h2), ci_low=to_h(lo), ci_high=to_h(hi),
                    note=f"Hellinger H (H^2 = 1 - E_p sqrt(q/p)), MC over {len(lp)} samples of p, "
                    f"{100 * (1 - alpha):g}% CLT interval of H^2 mapped by sqrt")
