"""The slope a sweep should see at its own n: OLS of log E[error] on log n, where E[error] is computable.

Asymptotic exponents hold as n -> infinity; a sweep over n = 250 ... 16000
sees lower-order terms too (the KDE's bias and variance are not yet pure
powers of h).  `expected_slope` computes the expected error at each n of the
sweep and fits the same OLS line the data get, so a measured slope can be
compared with both numbers.  Computable here:

- ``("kde", "tv")``: `genlab.theory.kde_risk.kde_expected_tv` (exact bias and
  variance by quadrature, normal approximation per point), d <= 2, truths with
  a density on a cube, bandwidth ``"theory"`` or a fixed number;
- ``("empirical", "wasserstein")``, p = 1, d = 1:
  `genlab.theory.empirical_risk.empirical_expected_w1` (exact binomial sums),
  W1 against the truth's law (the runs' ``w1_law``).

Everything else returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genlab.theory.empirical_risk import empirical_expected_w1
from genlab.theory.kde_risk import DEFAULT_GRID, cube_of, kde_expected_tv
from genlab.core.validation import check_positive_int

__all__ = ["ExpectedSlope", "expected_slope", "ols_slope"]

_KDE_METHOD = ("E TV = (1/2) int E|p_hat - f| (+ leaked mass / 2): exact bias K_h f - f and variance "
               "(K_h^2 f - (K_h f)^2) / n by grid quadrature ({grid} nodes per axis), normal approximation "
               "E|b + sigma Z| per point; OLS of log E TV on log n")
_KDE_SOURCE = ("Tsybakov 2009, Introduction to Nonparametric Estimation, Sec. 1.2 (bias and variance of the "
               "kernel estimator); the folded-normal mean for E|b + sigma Z|")
_EMP_METHOD = ("E W1 = int E|F_n - F| dx with E|Bin(n, F)/n - F| in closed form (de Moivre), Gauss-Legendre "
               "between the kinks F = k/n; OLS of log E W1 on log n")
_EMP_SOURCE = ("Vallender 1973 (W1 = int |F_n - F| in 1-D); de Moivre's binomial mean absolute deviation "
               "(Diaconis & Zabell 1991, Statist. Sci.)")
_KDE_PARAMS = ("bandwidth", "c", "boundary", "grid")


@dataclass(frozen=True)
class ExpectedSlope:
    """The expected error over a sweep's n and the OLS slope through it.

    Attributes
    ----------
    slope : float
        OLS slope of log expected_errors on log ns.
    ns : list of int
    expected_errors : list of float
        E[error] at each n.
    method : str
        How E[error] was computed (and what it approximates).
    source : str
        The results it rests on.
    """

    slope: float
    ns: list
    expected_errors: list
    method: str
    source: str


def ols_slope(ns, errors) -> float:
    """Least-squares slope of log errors on log ns (the fit `metrics.fit_rate` makes on means).

    >>> round(ols_slope([10, 100, 1000], [1.0, 0.1, 0.01]), 12)
    -1.0
    """
    x, y = np.log(np.asarray(ns, float)), np.log(np.asarray(errors, float))
    x = x - x.mean()
    return float(np.sum(x * (y - y.mean())) / np.sum(x * x))


def _check_ns(ns) -> list[int]:
    try:
        ns = [check_positive_int("ns", n) for n in ns]
    except TypeError:
        raise ValueError(f"ns must be a sequence of positive integers, got {ns!r}") from None
    if len(set(ns)) < 2:
        raise ValueError(f"ns must hold at least 2 distinct sample sizes for a slope, got {ns!r}")
    return sorted(ns)


def _unknown(params: dict, known) -> None:
    for key in params:
        if key not in known:
            raise ValueError(f"{key}: unknown parameter for this estimator; known: {', '.join(known) or 'none'}")


def expected_slope(estimator: str, metric: str, truth, ns, **estimator_params) -> ExpectedSlope | None:
    """The finite-n slope the sweep over ``ns`` should measure, or None where it is not computable here.

    Parameters
    ----------
    estimator : str
        ``"kde"`` or ``"empirical"`` (others: None).
    metric : str
        The theory metric name of `genlab.theory.METRICS`: ``"tv"`` for the KDE, ``"wasserstein"``
        for the empirical measure (others: None).
    truth : Distribution
        The truth, read through ``dim``, ``smoothness``, ``low``/``high`` and ``log_prob``.
    ns : sequence of int
        The sweep's training sizes (at least 2 distinct).
    **estimator_params
        KDE: ``bandwidth`` ("theory" or a number; other rules are data-driven: None), ``c``,
        ``boundary`` ("none" or "reflect"), ``grid`` (nodes per axis).  Empirical: ``p`` (1 only:
        other p give None).

    Returns
    -------
    ExpectedSlope or None

    Examples
    --------
    >>> from genlab.distributions import make_truth
    >>> e = expected_slope("empirical", "wasserstein", make_truth("uniform", dim=1), [16, 64, 256])
    >>> round(e.slope, 3)
    -0.502
    >>> expected_slope("gan", "wasserstein", make_truth("uniform", dim=1), [16, 64]) is None
    True
    """
    ns = _check_ns(ns)
    if (estimator, metric) == ("kde", "tv"):
        _unknown(estimator_params, _KDE_PARAMS)
        bandwidth = estimator_params.get("bandwidth", "theory")
        if isinstance(bandwidth, str) and bandwidth != "theory":
            try:
                bandwidth = float(bandwidth)
            except ValueError:
                return None  # scott, silverman, held_out: h depends on the sample
        s = getattr(truth, "smoothness", float("inf"))
        if truth.dim > 2 or cube_of(truth) is None or (bandwidth == "theory" and not np.isfinite(s)):
            return None
        grid = estimator_params.get("grid")
        errors = kde_expected_tv(truth, ns, bandwidth=bandwidth, c=estimator_params.get("c", 1.0),
                                 boundary=estimator_params.get("boundary", "none"), grid=grid)
        method = _KDE_METHOD.format(grid=grid or DEFAULT_GRID[truth.dim])
        return ExpectedSlope(ols_slope(ns, errors), ns, [float(e) for e in errors], method, _KDE_SOURCE)
    if (estimator, metric) == ("empirical", "wasserstein"):
        _unknown(estimator_params, ("p",))
        if estimator_params.get("p", 1) != 1 or truth.dim != 1 or cube_of(truth) is None:
            return None
        errors = empirical_expected_w1(truth, ns)
        return ExpectedSlope(ols_slope(ns, errors), ns, [float(e) for e in errors], _EMP_METHOD, _EMP_SOURCE)
    return None
