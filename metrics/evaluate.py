"""One entry point: every requested metric between a truth and a model, with floor and CI.

How each number is obtained (``reps`` = R, evaluation size m, level 1 - alpha)
-----------------------------------------------------------------------------
Sample metrics ("w1", "w2", "sliced_w1", "sliced_w2", "sinkhorn_w2", "mmd2",
"tv_hist", "tv_classifier"):

- value: v = the mean over r = 1..R of f_r = metric(X, T_r), where X are the
  m' model samples and T_r a fresh truth sample of size m drawn with seed
  derive_seed(seed, 1, r).
- CI: v +- t_{nu, 1-alpha/2} se, with both samples' noise in se. Over
  independent redraws of X and of every T_r,
  Var v = Var_X E[f | X] + E Var(f | X) / R: the model's part does not shrink
  with R, since one X serves every r. The truth's part is estimated by
  s_T^2 / R (s_T the sd of the f_r). The model's part by a paired bootstrap:
  X*_r resamples X with replacement (seed derive_seed(seed, 4, r)) and
  d_r = metric(X*_r, T_r) - f_r; pairing with the same T_r cancels the truth's
  noise (to first order) and any constant bootstrap bias (ties among resampled
  points), so s_d^2, the variance of the d_r, estimates Var_X E[f | X].
  se^2 = s_T^2 / R + s_d^2, and nu is Satterthwaite's df of that sum (between
  R - 1 and 2 (R - 1)). Assumed: the model samples are i.i.d. draws of the
  fitted model (the interval is conditional on the fit: training noise is the
  seeds' spread, not this interval's), and the metric is asymptotically linear
  in each empirical measure, so that the bootstrap mimics a fresh model sample
  and the two parts add; this holds for a distance well above its floor and is
  rough near it (where a plug-in distance is not asymptotically normal).
  ``model_noise=False`` gives the truth-only interval t_{R-1} s_T / sqrt(R).
  With R = 1 no interval is given. The standard error is ``std_error``.
- floor: :func:`metrics.noise_floor` of the same metric at the same m with
  ``reps`` repetitions and seed derive_seed(seed, 2); floor_std its spread.
  For "mmd2", an unbiased estimator whose null mean is 0, the floor is the
  root mean square of the null values (its resolution), not their mean.
  For "tv_classifier" the value is a LOWER BOUND of TV (``lower_bound`` True).

Density metrics ("tv", "kl", "hellinger"; need ``truth_log_prob`` and
``model_log_prob``), with p = truth and q = model:

- value and CI: the Monte Carlo estimators of :func:`metrics.tv_monte_carlo`,
  :func:`metrics.kl`, :func:`metrics.hellinger` over N = R * m truth samples
  (seed derive_seed(seed, 3)), with their (1 - alpha) CLT interval.
- floor: the CI half-width (ci_high - ci_low) / 2, the estimator's resolution,
  since the metric between the truth and itself is exactly 0.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np
from scipy import stats

from ._validation import as_points, check_callable, check_positive_int, check_probability, \
    log_density_values
from .divergences import hellinger, kl
from .estimate import Estimate
from .floor import NoiseFloor, derive_seed, noise_floor
from .mmd import mmd2_unbiased
from .tv import tv_classifier_lower_bound, tv_histogram, tv_monte_carlo
from .wasserstein import wasserstein

__all__ = ["evaluate", "metric_floor", "SAMPLE_METRICS", "DENSITY_METRICS", "METRIC_NAMES"]

def _exact_method(x) -> str:
    return "1d" if np.ndim(x) == 1 or np.shape(x)[1] == 1 else "exact"


SAMPLE_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    # exact W_p: in 1-D by the quantile formula (the same value, in O(m log m) instead of an
    # m x m transport problem), else by POT's network simplex
    "w1": lambda x, y: wasserstein(x, y, p=1, method=_exact_method(x)),
    "w2": lambda x, y: wasserstein(x, y, p=2, method=_exact_method(x)),
    "sliced_w1": lambda x, y: wasserstein(x, y, p=1, method="sliced"),
    "sliced_w2": lambda x, y: wasserstein(x, y, p=2, method="sliced"),
    "sinkhorn_w2": lambda x, y: wasserstein(x, y, p=2, method="sinkhorn"),
    "mmd2": lambda x, y: mmd2_unbiased(x, y),
    "tv_hist": lambda x, y: tv_histogram(x, y).value,
    "tv_classifier": lambda x, y: tv_classifier_lower_bound(x, y).value,
}
DENSITY_METRICS = ("tv", "kl", "hellinger")
METRIC_NAMES = tuple(SAMPLE_METRICS) + DENSITY_METRICS
# every sample metric but MMD^2_u, an unbiased estimator that is negative at times
_NONNEGATIVE = tuple(k for k in SAMPLE_METRICS if k != "mmd2")


def _resample(n: int, seed: int) -> np.ndarray:
    """n indices drawn uniformly with replacement from range(n): a bootstrap resample."""
    return np.random.default_rng(seed).integers(0, n, size=n)


def _standard_error(vals: np.ndarray, boot: np.ndarray | None) -> tuple[float, float]:
    """se of the mean of ``vals`` (R,) with the model's part from the paired bootstrap ``boot`` (R,).

    se^2 = a + b with a = s^2(vals) / R and b = s^2(boot - vals), each on R - 1 df;
    Satterthwaite's df (a + b)^2 / ((a^2 + b^2) / (R - 1)) (Satterthwaite 1946).
    ``boot`` None: b = 0 and df = R - 1.
    """
    r = len(vals)
    a = float(vals.var(ddof=1)) / r
    b = 0.0 if boot is None else float((boot - vals).var(ddof=1))
    if a + b == 0.0:
        return 0.0, float(r - 1)
    return math.sqrt(a + b), (a + b) ** 2 * (r - 1) / (a * a + b * b)


def _log_prob(name: str, f: Callable, x: np.ndarray) -> np.ndarray:
    return log_density_values(name, f(x), x.shape[0])


def metric_floor(truth_sampler: Callable[[int, int], Any], name: str, m: int, *, reps: int = 5,
                 seed: int = 0) -> NoiseFloor:
    """The noise floor `evaluate` reports for sample metric ``name`` at size ``m``.

    The metric between two independent truth samples of size ``m``, over
    ``reps`` pairs drawn with seed ``derive_seed(seed, 2)``: exactly what
    ``evaluate(..., seed=seed)`` computes, so a caller may compute it once and
    pass it back through ``evaluate(floors=...)`` for many models.

    >>> import numpy as np
    >>> fl = metric_floor(lambda n, s: np.random.default_rng(s).normal(size=(n, 1)), "w1", 200, reps=3)
    >>> fl.reps, bool(fl.mean > 0)
    (3, True)
    """
    if name not in SAMPLE_METRICS:
        raise ValueError(f"name: {name!r} has no sampling floor; sample metrics: {', '.join(SAMPLE_METRICS)}")
    return noise_floor(truth_sampler, check_positive_int("m", m), SAMPLE_METRICS[name],
                       reps=check_positive_int("reps", reps), seed=derive_seed(seed, 2))


def evaluate(
    truth_sampler: Callable[[int, int], Any],
    model_samples: Any,
    names,
    *,
    m: int | None = None,
    reps: int = 5,
    seed: int = 0,
    truth_log_prob: Callable | None = None,
    model_log_prob: Callable | None = None,
    alpha: float = 0.05,
    floors: Mapping[str, NoiseFloor] | None = None,
    model_noise: bool = True,
) -> dict[str, Estimate]:
    """Evaluate the metrics ``names`` between the truth and a model; see the module docstring.

    Parameters
    ----------
    truth_sampler : callable
        ``truth_sampler(n, seed) -> array (n, d)``.
    model_samples : array_like or torch.Tensor, shape (m', d)
    names : iterable of str
        From ``METRIC_NAMES``: "w1", "w2" (exact), "sliced_w1", "sliced_w2",
        "sinkhorn_w2", "mmd2", "tv_hist" (d <= 2), "tv_classifier" (lower bound),
        "tv", "kl", "hellinger" (these three need both log-probs).
    m : int, optional
        Evaluation size of each truth sample; default m' = len(model_samples),
        so that value and floor are at the same size.
    floors : mapping of str to NoiseFloor, optional
        Floors computed beforehand with `metric_floor` (same m, reps, seed), used
        instead of recomputing them: a sweep scores many models against the same
        truth samples, so their floors are one computation.
    reps : int, default 5
    seed : int, default 0
        Evaluation seed; truth samples depend on (seed, m) only, not on the model.
    truth_log_prob, model_log_prob : callable, optional
        ``(n, d) -> (n,)`` normalised log-densities.
    alpha : float, default 0.05
    model_noise : bool, default True
        Whether the CI of a sample metric includes the model samples' own noise
        (the paired bootstrap of the module docstring; R more metric calls).

    Returns
    -------
    dict of str to Estimate, in the order of ``names``.

    Examples
    --------
    >>> import numpy as np
    >>> normal = lambda n, s: np.random.default_rng(s).normal(size=(n, 1))
    >>> model = np.random.default_rng(123).normal(0.5, 1.0, size=(400, 1))
    >>> out = evaluate(normal, model, ["w1"], reps=3)
    >>> sorted(out["w1"].as_flat("w1"))
    ['w1', 'w1_ci_high', 'w1_ci_low', 'w1_floor']
    >>> bool(out["w1"].value > 3 * out["w1"].floor)
    True
    """
    check_callable("truth_sampler", truth_sampler)
    x_model = as_points("model_samples", model_samples)
    names = list([names] if isinstance(names, str) else names)
    for name in names:
        if name not in METRIC_NAMES:
            raise ValueError(f"names: unknown metric {name!r}; valid: {', '.join(METRIC_NAMES)}")
    m = len(x_model) if m is None else check_positive_int("m", m)
    reps = check_positive_int("reps", reps)
    alpha = check_probability("alpha", alpha)
    d = x_model.shape[1]
    if any(n in DENSITY_METRICS for n in names):
        if truth_log_prob is None or model_log_prob is None:
            raise ValueError("truth_log_prob and model_log_prob are required for 'tv', 'kl', 'hellinger'")
        check_callable("truth_log_prob", truth_log_prob)
        check_callable("model_log_prob", model_log_prob)
    if "tv_hist" in names and d > 2:
        raise ValueError(f"names: 'tv_hist' needs d <= 2, the model samples have d = {d}")

    truth = [None] * reps

    def truth_sample(r: int) -> np.ndarray:
        if truth[r] is None:
            t = as_points("truth_sampler output", truth_sampler(m, derive_seed(seed, 1, r)), dim=d)
            if len(t) != m:
                raise ValueError(f"truth_sampler must return {m} points, got {len(t)}")
            truth[r] = t
        return truth[r]

    density = None
    out: dict[str, Estimate] = {}
    for name in names:
        if name in SAMPLE_METRICS:
            metric = SAMPLE_METRICS[name]
            vals = np.array([metric(x_model, truth_sample(r)) for r in range(reps)])
            value = float(vals.mean())
            se = None
            if reps > 1:
                boot = None
                if model_noise:
                    boot = np.array([metric(x_model[_resample(len(x_model), derive_seed(seed, 4, r))],
                                            truth_sample(r)) for r in range(reps)])
                se, df = _standard_error(vals, boot)
                half = float(stats.t.ppf(1 - alpha / 2, df)) * se
                lo, hi = value - half, value + half
            else:
                lo = hi = None
            fl = (floors or {}).get(name) or metric_floor(truth_sampler, name, m, reps=reps, seed=seed)
            if fl.m != m:
                raise ValueError(f"floors: the floor given for {name!r} is at m = {fl.m}, not {m}")
            floor = float(np.sqrt(np.mean(np.square(fl.values)))) if name == "mmd2" else fl.mean
            if name in _NONNEGATIVE and lo is not None:
                # a distance is >= 0: the t interval's part below 0 holds no possible value
                lo = max(lo, 0.0)
            if name == "tv_classifier" and hi is not None:
                hi = min(hi, 1.0)
            noise = "truth and model sample noise (paired bootstrap)" if model_noise else "truth sample noise only"
            note = (f"mean over {reps} truth samples of size {m} vs {len(x_model)} model samples; "
                    f"{100 * (1 - alpha):g}% t interval on {noise}; floor: same metric between truth samples "
                    f"({'rms' if name == 'mmd2' else 'mean'} over {reps})")
            if name == "tv_classifier":
                note = "LOWER BOUND on TV (classifier two-sample test); " + note
            out[name] = Estimate(value, floor=floor, ci_low=lo, ci_high=hi,
                                 floor_std=None if math.isnan(fl.std) else fl.std,
                                 lower_bound=name == "tv_classifier", std_error=se, note=note)
        else:
            if density is None:
                xs = as_points("truth_sampler output", truth_sampler(reps * m, derive_seed(seed, 3)), dim=d)
                density = (_log_prob("truth_log_prob", truth_log_prob, xs),
                           _log_prob("model_log_prob", model_log_prob, xs))
            lp, lq = density
            fn = {"tv": tv_monte_carlo, "kl": kl, "hellinger": hellinger}[name]
            e = fn(lp, lq, alpha=alpha)
            half = 0.5 * (e.ci_high - e.ci_low) if math.isfinite(e.ci_high - e.ci_low) else None
            out[name] = Estimate(e.value, floor=half, ci_low=e.ci_low, ci_high=e.ci_high, floor_std=0.0,
                                 note=e.note + "; floor: CI half-width (the metric of the truth with itself is 0)")
    return out
