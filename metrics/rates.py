"""Fitting an empirical rate: the exponent b in error(n) ~ a n^b, with a bootstrap CI.

Points whose error is not clearly above the estimator's noise floor measure
the metric rather than the model; they are left out of the fit and reported.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._validation import check_positive, check_positive_int, check_probability

__all__ = ["fit_rate", "RateFit"]


@dataclass(frozen=True)
class RateFit:
    """Result of :func:`fit_rate`.

    Attributes
    ----------
    slope, intercept : float
        Least squares of log(mean error) on log n over the used points:
        log e = intercept + slope * log n.
    slope_ci_low, slope_ci_high : float
        Percentile bootstrap interval of the slope at level 1 - alpha.
    ci_method : str
        "seed bootstrap" (seed runs resampled with replacement per n), or
        "residual bootstrap (one run per n)" when some used n has a single run.
    alpha : float
    used, left_out : list of int
        The n in the fit, and those left out.
    left_out_reason : dict
        n -> why it was left out.
    ns, mean_errors, floors, n_runs : list
        Per n (sorted), the mean error over runs, the floor (None if not
        given) and the number of non-missing runs.
    local_slopes : list of dict
        {"n_low", "n_high", "slope"} between neighbouring n with positive mean error.
    n_boot : int
    """

    slope: float
    intercept: float
    slope_ci_low: float
    slope_ci_high: float
    ci_method: str
    alpha: float
    used: list[int]
    left_out: list[int]
    left_out_reason: dict[int, str]
    ns: list[int]
    mean_errors: list[float]
    floors: list[float | None]
    n_runs: list[int]
    local_slopes: list[dict] = field(default_factory=list)
    n_boot: int = 0

    def to_dict(self) -> dict:
        """A JSON-serialisable dict (NaN and inf become None; keys are strings)."""

        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {str(k): clean(w) for k, w in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(w) for w in v]
            if isinstance(v, np.generic):
                return clean(v.item())
            return v

        return clean(asdict(self))


def _ols_slopes(log_n: np.ndarray, log_e: np.ndarray) -> np.ndarray:
    """Least-squares slopes of the rows of log_e (B, k) on log_n (k,)."""
    c = log_n - log_n.mean()
    return (log_e - log_e.mean(axis=-1, keepdims=True)) @ c / (c @ c)


def fit_rate(
    ns: Any,
    errors: Any,
    floors: Any = None,
    *,
    floor_factor: float = 3.0,
    n_boot: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> RateFit:
    """Fit error(n) ~ a n^slope on log-log axes, leaving out floor-dominated points.

    Parameters
    ----------
    ns : array_like, shape (k,)
        Distinct positive sample sizes.
    errors : array_like, shape (k, S) or (k,)
        Error of seed s at size n_i; NaN marks a missing run (ignored).
    floors : float or array_like of shape (k,) or (k, S), optional
        Noise floor of each measurement (averaged over runs per n).
    floor_factor : float, default 3.0
        A point is used only if its mean error exceeds floor_factor * floor
        (and is positive).
    n_boot : int, default 2000
    alpha : float, default 0.05
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    RateFit
        ``slope`` and ``intercept`` of log(mean error) = intercept + slope log n
        over the used points; ``slope_ci_low/high`` from the bootstrap: when
        every used n has >= 2 runs, the runs are resampled with replacement
        independently per n (seed bootstrap); otherwise the residuals of the
        fit are resampled (residual bootstrap), as ``ci_method`` says.

    Raises
    ------
    ValueError
        Fewer than 2 usable points, or bad input.

    Examples
    --------
    >>> import numpy as np
    >>> ns = np.array([100, 400, 1600, 6400])
    >>> fit = fit_rate(ns, 2.0 * ns**-0.5)
    >>> round(fit.slope, 12), fit.used, fit.ci_method
    (-0.5, [100, 400, 1600, 6400], 'residual bootstrap (one run per n)')
    >>> fit_rate(ns, 2.0 * ns**-0.5 + 0.02, floors=0.02).left_out   # 0.045 <= 3 x 0.02
    [6400]
    """
    floor_factor = check_positive("floor_factor", floor_factor)
    n_boot = check_positive_int("n_boot", n_boot)
    alpha = check_probability("alpha", alpha)
    n_arr = np.asarray(ns, dtype=np.float64)
    if n_arr.ndim != 1 or n_arr.size == 0:
        raise ValueError(f"ns must be a non-empty 1-D array, got shape {n_arr.shape}")
    if not np.isfinite(n_arr).all() or (n_arr <= 0).any():
        raise ValueError("ns must be finite and > 0")
    if len(np.unique(n_arr)) != len(n_arr):
        raise ValueError("ns must be distinct")
    k = len(n_arr)
    err = np.asarray(errors, dtype=np.float64)
    if err.ndim == 1:
        err = err[:, None]
    if err.ndim != 2 or err.shape[0] != k:
        raise ValueError(f"errors must have shape (k, S) or (k,) with k = len(ns) = {k}, got {np.shape(errors)}")
    if np.isinf(err).any():
        raise ValueError("errors contains inf")
    s_runs = err.shape[1]
    if floors is None:
        fl = None
    else:
        fa = np.asarray(floors, dtype=np.float64)
        if fa.ndim == 0:
            fl = np.full(k, float(fa))
        elif fa.shape == (k,):
            fl = fa.copy()
        elif fa.shape == (k, s_runs):
            fl = np.array([np.mean(r[~np.isnan(r)]) if (~np.isnan(r)).any() else np.nan for r in fa])
        else:
            raise ValueError(f"floors must be a scalar or have shape ({k},) or ({k}, {s_runs}), got {fa.shape}")
        if np.isinf(fl).any() or (np.isnan(fl).any() and fa.ndim < 2):
            raise ValueError("floors contains NaN or inf")

    order = np.argsort(n_arr)
    n_arr, err = n_arr[order], err[order]
    if fl is not None:
        fl = fl[order]
    valid = ~np.isnan(err)
    n_runs = valid.sum(axis=1)
    mean_e = np.array([err[i, valid[i]].mean() if n_runs[i] else np.nan for i in range(k)])

    used_mask = np.zeros(k, bool)
    reason: dict[int, str] = {}
    for i in range(k):
        n_i = int(n_arr[i]) if float(n_arr[i]).is_integer() else float(n_arr[i])
        if n_runs[i] == 0:
            reason[n_i] = "no runs"
        elif not mean_e[i] > 0:
            reason[n_i] = f"mean error {mean_e[i]:.3g} <= 0"
        elif fl is not None and not np.isnan(fl[i]) and not mean_e[i] > floor_factor * fl[i]:
            reason[n_i] = f"mean error {mean_e[i]:.3g} <= {floor_factor:g} x floor {fl[i]:.3g}"
        else:
            used_mask[i] = True
    n_list = [int(v) if float(v).is_integer() else float(v) for v in n_arr]
    used = [n_list[i] for i in range(k) if used_mask[i]]
    left_out = [n_list[i] for i in range(k) if not used_mask[i]]
    if len(used) < 2:
        raise ValueError(
            f"errors: fewer than 2 usable points (need mean error > 0 and > floor_factor x floor); left out: {reason}"
        )

    log_n = np.log(n_arr[used_mask])
    log_e = np.log(mean_e[used_mask])
    slope = float(_ols_slopes(log_n, log_e[None, :])[0])
    intercept = float(log_e.mean() - slope * log_n.mean())

    rng = np.random.default_rng(int(seed))
    rows = np.nonzero(used_mask)[0]
    if (n_runs[rows] >= 2).all():
        ci_method = "seed bootstrap"
        boot = np.empty((n_boot, len(rows)))
        for c, i in enumerate(rows):
            vals = err[i, valid[i]]
            idx = rng.integers(0, len(vals), size=(n_boot, len(vals)))
            boot[:, c] = vals[idx].mean(axis=1)
        ok = (boot > 0).all(axis=1)
        slopes = _ols_slopes(log_n, np.log(np.where(boot[ok] > 0, boot[ok], 1.0)))
    else:
        ci_method = "residual bootstrap (one run per n)"
        fitted = intercept + slope * log_n
        resid = log_e - fitted
        idx = rng.integers(0, len(resid), size=(n_boot, len(resid)))
        slopes = _ols_slopes(log_n, fitted[None, :] + resid[idx])
    lo, hi = (float(v) for v in np.quantile(slopes, [alpha / 2, 1 - alpha / 2]))

    local = []
    pos = [i for i in range(k) if n_runs[i] and mean_e[i] > 0]
    for i, j in zip(pos[:-1], pos[1:]):
        local.append({"n_low": n_list[i], "n_high": n_list[j],
                      "slope": float(np.log(mean_e[j] / mean_e[i]) / np.log(n_arr[j] / n_arr[i]))})

    return RateFit(
        slope=slope, intercept=intercept, slope_ci_low=lo, slope_ci_high=hi, ci_method=ci_method, alpha=alpha,
        used=used, left_out=left_out, left_out_reason=reason, ns=n_list,
        mean_errors=[float(v) for v in mean_e], floors=[None] * k if fl is None else [float(v) for v in fl],
        n_runs=[int(v) for v in n_runs], local_slopes=local, n_boot=n_boot,
    )
