"""Fitting an empirical rate: the exponent b in D(n) ~ a n^b, with an interval that covers.

The inference (what it assumes, and why it was chosen)
------------------------------------------------------
A sweep runs S seeds at each of k sample sizes.  Seed s's runs over n form a
*seed curve*; the curves are independent replicates of the whole experiment
(they may be correlated across n within a seed -- nested training sets, one
network initialisation -- and that is allowed).  The slope is the least-squares
slope of log L(n) on log n, where L(n) is the per-n level estimated from all
seeds (below), and its interval is the delete-one-seed **jackknife** with a
Student t quantile on S - 1 degrees of freedom:

    slope +- t_{S-1, 1-alpha/2} * sqrt((S-1)/S * sum_s (slope_(-s) - mean)^2).

For a statistic linear in the seed curves (the slope of mean log error) this
is exactly the t interval over the S per-seed slopes, exact when log errors
are Gaussian whatever their correlation across n; for the smooth statistics
used here it is its first-order version.  A percentile bootstrap over 3 or 5
seeds does not have this property: it covered 82% / 86% at nominal 95% (the
coverage study, tests/metrics/test_rate_coverage.py, measures both).  With one
run per n the interval is the OLS t interval on k - 2 degrees of freedom
(independent Gaussian log errors of constant variance around a power law).

Floors are modelled, not only cut (``floor_model``)
---------------------------------------------------
- "quadrature": error^2 = D^2 + floor^2, so L = sqrt(mean e^2 - mean f^2).
  A plug-in distance between samples adds its sampling noise in quadrature:
  exact in expectation for squared L2-type norms (E|d + eps|^2 = |d|^2 +
  E|eps|^2 for centred eps), a first-order model for W1 and TV.  With a floor
  measured per run (shape (k, S)) the floor's own noise is in the jackknife.
  ``floor_share`` is the part of floor^2 the error carries: the floor is the
  two-sample distance between two independent m-samples of the truth, and a
  model that draws its m samples carries all of it (its sample noise plus the
  truth's: share 1); an estimator whose samples are its n fit points (the
  empirical measure) carries only the truth side's, W(mu_m, mu)^2 ~ floor^2/2
  (share 1/2).  In 1-D this is exact in the Brownian-bridge limit, where
  E W1(nu_n, mu_m) = c sqrt(1/n + 1/m) and the m-vs-m floor is c sqrt(2/m).
- "subtract": error = D + floor, L = mean e - mean f (a squared distance whose
  plug-in bias is the floor's mean).
- "cut": no correction; the floor is a resolution (the CI half-width of an
  unbiased Monte Carlo estimate, the null rms of MMD^2_u), and points with
  mean error <= floor_factor x floor are left out.
For the modelled floors the floor_factor rule only warns (``floor_warnings``);
a point is left out when D is not resolved from the floor (L^2 or L below
``resolve_z`` standard errors, or <= 0 in a seed-deleted replicate).

A slope needs ``min_points`` (default 3) used points; with fewer the fit
raises ValueError naming why each point was left out ("not fitted").  No
zero-width interval is reported: points exactly on a power law give NaN bounds
and say so in ``ci_method``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from ._validation import check_in, check_nonnegative, check_positive, check_positive_int, check_probability
from .rate_table import rate_table

__all__ = ["fit_rate", "RateFit", "FLOOR_MODELS"]

#: floor model -> what it assumes (see the module docstring)
FLOOR_MODELS = {
    "quadrature": "error^2 = D^2 + floor^2 (plug-in distance: sampling noise adds in quadrature)",
    "subtract": "error = D + floor (squared distance: the floor is its plug-in bias)",
    "cut": "no correction; points within floor_factor x floor left out (floor = resolution)",
}


@dataclass(frozen=True)
class RateFit:
    """Result of :func:`fit_rate`.

    Attributes
    ----------
    slope, intercept : float
        Least squares of log level on log n over the used points:
        log L = intercept + slope * log n.
    slope_ci_low, slope_ci_high : float
        The (1 - alpha) interval of the slope (NaN when not estimable).
    ci_method : str
        How the interval was made and what it assumes.
    slope_se : float
        Its standard error; ``ci_df`` the t degrees of freedom.
    alpha : float
    floor_model : str
        One of :data:`FLOOR_MODELS`, or "none" without floors.
    used, left_out : list of int
        The n in the fit, and those left out.
    left_out_reason : dict
        n -> why it was left out.
    floor_warnings : list of int
        Used n whose mean error is within floor_factor x floor (modelled floors
        only): the correction carries these points.
    ns, mean_errors, levels, floors, n_runs : list
        Per n (sorted): mean error over runs, the fitted level L (the floor-
        corrected D for modelled floors, else the mean error), the mean floor
        (None if not given) and the number of non-missing runs.
    floor_share : float
        The part of floor^2 the quadrature model removed (see ``fit_rate``).
    n_seeds : int
        Seed curves the jackknife used (0 for the OLS interval).
    local_slopes : list of dict
        {"n_low", "n_high", "slope"} of the level between neighbouring n.
    """

    slope: float
    intercept: float
    slope_ci_low: float
    slope_ci_high: float
    ci_method: str
    slope_se: float
    ci_df: int
    alpha: float
    floor_model: str
    used: list[int]
    left_out: list[int]
    left_out_reason: dict[int, str]
    floor_warnings: list[int]
    ns: list[int]
    mean_errors: list[float]
    levels: list[float]
    floors: list[float | None]
    n_runs: list[int]
    n_seeds: int
    local_slopes: list[dict] = field(default_factory=list)
    floor_share: float = 1.0

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


#: a slope standard error below this is rounding error: the points lie exactly on a power law
_EXACT = 1e-9


def _ols_slope(log_n: np.ndarray, log_l: np.ndarray) -> float:
    c = log_n - log_n.mean()
    return float((log_l - log_l.mean()) @ c / (c @ c))


def _levels(err: np.ndarray, fl: np.ndarray | None, model: str) -> np.ndarray:
    """Per-row level (k,) from errors (k, S) and floors (k, S) / (k, 1) / None; NaN where undefined."""
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(err)
        cnt = ok.sum(1)
        mean_e = np.where(cnt > 0, np.nansum(err, 1) / np.maximum(cnt, 1), np.nan)
        if fl is None or model == "cut":
            return mean_e
        fok = ~np.isnan(fl)
        fcnt = fok.sum(1)
        if model == "quadrature":
            e2 = np.where(cnt > 0, np.nansum(err**2, 1) / np.maximum(cnt, 1), np.nan)
            f2 = np.nansum(fl**2, 1) / np.maximum(fcnt, 1)
            d2 = e2 - f2
            return np.where(d2 > 0, np.sqrt(np.where(d2 > 0, d2, 1.0)), np.nan)
        d = mean_e - np.nansum(fl, 1) / np.maximum(fcnt, 1)
        return np.where(d > 0, d, np.nan)


def _corrected_runs(err: np.ndarray, fl: np.ndarray, model: str) -> np.ndarray:
    """Per-run e^2 - f^2 (quadrature) or e - f (subtract), shape (k, S): the quantity the level averages."""
    f = np.broadcast_to(fl, err.shape)
    return err**2 - f**2 if model == "quadrature" else err - f


def _seed_deleted_levels(err: np.ndarray, fl: np.ndarray | None, model: str, cols: list[int]
                         ) -> dict[int, np.ndarray]:
    """Seed column j -> the per-row levels (k,) from the columns ``cols`` without j (the jackknife's replicates)."""
    known = fl is None or fl.shape[1] == 1  # no floor, or one per n: the same in every replicate
    out = {}
    for j in cols:
        keep = [c for c in cols if c != j]
        out[j] = _levels(err[:, keep], fl if known else fl[:, keep], model)
    return out


def _n_key(v: float):
    return int(v) if float(v).is_integer() else float(v)


def fit_rate(
    ns: Any,
    errors: Any,
    floors: Any = None,
    *,
    seeds: Any = None,
    floor_model: str = "quadrature",
    floor_factor: float = 3.0,
    resolve_z: float = 2.0,
    min_points: int = 3,
    alpha: float = 0.05,
    floor_share: float = 1.0,
) -> RateFit:
    """Fit D(n) ~ a n^slope on log-log axes with a seed-jackknife t interval.

    See the module docstring for the interval, the floor models and what each
    assumes.

    Parameters
    ----------
    ns : array_like, shape (k,) or (N,)
        Distinct positive sample sizes, or one per run (long format, as a
        sweep's ``rates.csv`` holds it).
    errors : array_like, shape (k, S), (k,) or (N,)
        Error of seed s at size n_i; NaN marks a missing run.
    floors : float or array_like, optional
        Noise floor: scalar, per n (k,) (treated as known), per run (k, S), or
        per row (N,) in long format.
    seeds : array_like of shape (N,), optional
        Long format: the seed of each row (columns become seed curves).
    floor_model : {"quadrature", "subtract", "cut"}, default "quadrature"
        How a given floor enters (ignored without floors).
    floor_factor : float, default 3.0
        "cut": a point is used only if mean error > floor_factor x floor.
        Modelled floors: points within it are kept and listed in ``floor_warnings``.
    resolve_z : float, default 2.0
        Modelled floors: a point is used only if its corrected level (D^2 or D)
        exceeds resolve_z standard errors over its runs.
    min_points : int, default 3
    alpha : float, default 0.05
    floor_share : float in (0, 1], default 1
        "quadrature": error^2 = D^2 + floor_share * floor^2.  1 when the model's
        samples are m fresh draws, as the truth's are; 1/2 when they are the
        n fit points themselves (the empirical measure: only the truth side
        carries sample noise).  The reported ``floors`` and the floor_factor
        rule use the floor as given.

    Returns
    -------
    RateFit

    Raises
    ------
    ValueError
        Fewer than ``min_points`` usable points (the reasons named), or bad input.

    Examples
    --------
    >>> import numpy as np
    >>> ns = np.array([100, 400, 1600, 6400])
    >>> noise = np.exp(0.1 * np.random.default_rng(0).normal(size=(4, 5)))
    >>> fit = fit_rate(ns, 2.0 * ns[:, None] ** -0.5 * noise)
    >>> fit.used, fit.ci_df, bool(fit.slope_ci_low < -0.5 < fit.slope_ci_high)
    ([100, 400, 1600, 6400], 4, True)
    >>> D = 2.0 * ns ** -0.5                       # 0.2, 0.1, 0.05, 0.025
    >>> fit = fit_rate(ns, np.hypot(D, 0.01), floors=0.01)   # error^2 = D^2 + floor^2
    >>> round(fit.slope, 12), fit.floor_warnings, fit.ci_method.split(":")[0]
    (-0.5, [6400], 'none')
    >>> fit_rate(ns, np.hypot(D, 0.01), floors=0.01, floor_model="cut").left_out   # 0.027 <= 3 x 0.01
    [6400]
    """
    floor_model = check_in("floor_model", floor_model, tuple(FLOOR_MODELS))
    floor_factor = check_positive("floor_factor", floor_factor)
    resolve_z = check_nonnegative("resolve_z", resolve_z)
    min_points = check_positive_int("min_points", min_points, minimum=2)
    alpha = check_probability("alpha", alpha)
    floor_share = check_positive("floor_share", floor_share)
    if floor_share > 1.0:
        raise ValueError(f"floor_share must be in (0, 1]; got {floor_share!r}")
    n_arr, err, fl_given = rate_table(ns, errors, floors, seeds)
    # the floor the error carries (fl) beside the floor as measured (fl_given: reported, and the 3x rule)
    fl = fl_given if fl_given is None or floor_model != "quadrature" else fl_given * math.sqrt(floor_share)
    if fl is None:
        floor_model = "none"
    modelled = floor_model in ("quadrature", "subtract")
    k = len(n_arr)
    valid = ~np.isnan(err)
    n_runs = valid.sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean_e = np.where(n_runs > 0, np.nansum(err, 1) / np.maximum(n_runs, 1), np.nan)
        if fl_given is None:
            mean_f = None
        else:  # rate_table guarantees a floor wherever a run is, so NaN only at n without runs
            fcnt = (~np.isnan(fl_given)).sum(1)
            mean_f = np.where(fcnt > 0, np.nansum(fl_given, 1) / np.maximum(fcnt, 1), np.nan)
    level = _levels(err, fl, floor_model)

    n_list = [_n_key(v) for v in n_arr]
    used_mask = np.zeros(k, bool)
    reason: dict = {}
    warn = []
    corrected = _corrected_runs(err, fl, floor_model) if modelled else None
    for i in range(k):
        n_i = n_list[i]
        if n_runs[i] == 0:
            reason[n_i] = "no runs"
            continue
        if not mean_e[i] > 0:
            reason[n_i] = f"mean error {mean_e[i]:.3g} <= 0"
            continue
        if floor_model == "cut" and not mean_e[i] > floor_factor * mean_f[i]:
            reason[n_i] = f"mean error {mean_e[i]:.3g} <= {floor_factor:g} x floor {mean_f[i]:.3g}"
            continue
        if modelled:
            what = "mean e^2 - mean f^2" if floor_model == "quadrature" else "mean e - mean f"
            c = corrected[i][~np.isnan(corrected[i])]
            if not np.isfinite(level[i]):
                reason[n_i] = f"{what} = {c.mean():.3g} <= 0: D not resolved from the floor {mean_f[i]:.3g}"
                continue
            if len(c) >= 2:
                se = c.std(ddof=1) / math.sqrt(len(c))
                est = level[i] ** 2 if floor_model == "quadrature" else level[i]
                if not est > resolve_z * se:
                    reason[n_i] = (f"{what} = {est:.3g} within {resolve_z:g} standard errors ({se:.3g}) of 0: "
                                   f"D not resolved from the floor {mean_f[i]:.3g}")
                    continue
            if not mean_e[i] > floor_factor * mean_f[i]:
                warn.append(n_i)
        used_mask[i] = True

    # seed curves: columns with a run at some used n
    rows = np.nonzero(used_mask)[0]
    cols = [j for j in range(err.shape[1]) if valid[rows, j].any()] if len(rows) else []
    jack: dict[int, np.ndarray] = {}
    if modelled and len(cols) >= 2 and (n_runs[rows] >= 2).all():
        # a point whose corrected level is <= 0 once one seed is deleted is not resolved
        jack = _seed_deleted_levels(err, fl, floor_model, cols)
        for i in rows:
            if any(not np.isfinite(lv[i]) for lv in jack.values()):
                used_mask[i] = False
                reason[n_list[i]] = "D not resolved from the floor: <= 0 once one seed is deleted"
                if n_list[i] in warn:
                    warn.remove(n_list[i])
        rows = np.nonzero(used_mask)[0]
    used = [n_list[i] for i in rows]
    left_out = [n_list[i] for i in range(k) if not used_mask[i]]
    if len(used) < min_points:
        raise ValueError(f"errors: {len(used)} usable point(s), a slope needs {min_points} "
                         f"(floor model {floor_model}); left out: {reason}")

    log_n = np.log(n_arr[rows])
    log_l = np.log(level[rows])
    slope = _ols_slope(log_n, log_l)
    intercept = float(log_l.mean() - slope * log_n.mean())

    lo = hi = se = float("nan")
    df, n_seeds = 0, 0
    cols = [j for j in range(err.shape[1]) if valid[rows, j].any()]
    if len(cols) >= 2 and (n_runs[rows] >= 2).all():
        # the resolution pass's replicates serve here: at the used rows a column dropped from cols
        # since then has no runs, so leaving it in or out changes no level there
        if not set(cols) <= set(jack):
            jack = _seed_deleted_levels(err, fl, floor_model, cols)
        reps_a = np.array([_ols_slope(log_n, np.log(jack[j][rows])) for j in cols])
        S = len(reps_a)
        se = float(math.sqrt((S - 1) / S * np.sum((reps_a - reps_a.mean()) ** 2)))
        df, n_seeds = S - 1, S
        ci_method = (f"delete-one-seed jackknife over {S} seed curves, t interval on {df} df "
                     f"(assumes independent seed curves)")
    if not se > _EXACT:
        resid = log_l - (intercept + slope * log_n)
        dof = len(rows) - 2
        sxx = float(np.sum((log_n - log_n.mean()) ** 2))
        se = float(math.sqrt(np.sum(resid**2) / dof / sxx))
        df, n_seeds = dof, 0
        ci_method = (f"OLS t interval on {dof} df (one run per n, or no seed-to-seed variation: "
                     f"assumes independent Gaussian log errors of constant variance)")
    if se > _EXACT:
        t = float(stats.t.ppf(1 - alpha / 2, df))
        lo, hi = slope - t * se, slope + t * se
    else:
        se = float("nan")
        ci_method = "none: the points lie exactly on a power law (no noise to build an interval from)"

    local = []
    pos = [i for i in range(k) if np.isfinite(level[i]) and level[i] > 0]
    for i, j in zip(pos[:-1], pos[1:]):
        local.append({"n_low": n_list[i], "n_high": n_list[j],
                      "slope": float(np.log(level[j] / level[i]) / np.log(n_arr[j] / n_arr[i]))})

    return RateFit(
        slope=slope, intercept=intercept, slope_ci_low=float(lo), slope_ci_high=float(hi), ci_method=ci_method,
        slope_se=se, ci_df=int(df), alpha=alpha, floor_model=floor_model,
        used=used, left_out=left_out, left_out_reason=reason, floor_warnings=warn, ns=n_list,
        mean_errors=[float(v) for v in mean_e], levels=[float(v) for v in level],
        floors=[None] * k if mean_f is None else [None if not np.isfinite(v) else float(v) for v in mean_f],
        n_runs=[int(v) for v in n_runs], n_seeds=n_seeds, local_slopes=local,
        floor_share=floor_share if floor_model == "quadrature" else 1.0,
    )
