r"""The excess risk of a regression estimate, by Monte Carlo over fresh inputs, with its CI.

For squared loss the risk of f_hat splits as E (f_hat(X) - Y)^2 = R(f_hat) + sigma^2 with

    R(f_hat) = E_X (f_hat(X) - f*(X))^2 = ||f_hat - f*||^2_{L2(P_X)},

the excess risk the rates of `genlab.theory.regression` are stated for.  The
targets of `genlab.regression.targets` know f* exactly, so R is estimated
without label noise: the mean of (f_hat(X_i) - f*(X_i))^2 over m fresh inputs,
conditional on f_hat (the training sample is fixed).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from scipy import stats

from genlab.core.validation import check_open_unit, check_positive_int
from metrics.estimate import Estimate

__all__ = ["excess_risk"]


def _squared_errors(predict, target, x: torch.Tensor) -> torch.Tensor:
    pred = torch.as_tensor(predict(x)).to(torch.float64)
    if pred.shape != (x.shape[0],):
        raise ValueError(f"predict must map ({x.shape[0]}, {x.shape[1]}) inputs to shape ({x.shape[0]},), "
                         f"got {tuple(pred.shape)}")
    return (pred.cpu() - target.f(x)) ** 2


def excess_risk(predict: Callable[[torch.Tensor], torch.Tensor], target, m: int, *,
                generator: torch.Generator | None = None, level: float = 0.95, batch: int = 65536) -> Estimate:
    r"""R(f_hat) = E (f_hat(X) - f*(X))^2 as the mean over m fresh X ~ P_X, with a t interval.

    With e_i = (f_hat(X_i) - f*(X_i))^2 for i.i.d. X_i ~ ``target.sample_x``:

    - value: the mean e_bar (unbiased for R);
    - std_error: sd(e) / sqrt(m), sd with the 1/(m - 1) normalisation;
    - CI: e_bar +- t_{m-1, (1+level)/2} std_error (Student t quantile, scipy.stats.t;
      the e_i are skewed, but for this two-sided interval the O(m^{-1/2}) Edgeworth terms
      of the two tails cancel and the coverage is level + O(1/m); Hall 1992, The Bootstrap
      and Edgeworth Expansion, Ch. 3);
    - floor: the CI half-width, the resolution of the estimate: a rate point whose value
      is not well above it (say below ~3 times) does not resolve R.

    Parameters
    ----------
    predict : callable
        f_hat: a float64 tensor of shape (k, dim) -> shape (k,); called on batches.
    target : RegressionTarget
        Gives P_X (``sample_x``) and the exact f* (``f``).
    m : int, >= 2
        Number of fresh inputs.
    generator : torch.Generator, optional
        Draws the inputs, batch after batch (the draws depend on ``batch`` only through
        the generator's stream).
    level : float in (0, 1)
        Confidence level of the interval.
    batch : int
        Inputs per call of ``predict``.

    Returns
    -------
    metrics.Estimate
        value, floor (= CI half-width), ci_low, ci_high, std_error, note.

    Examples
    --------
    >>> from genlab.regression.targets import SingleIndexTarget
    >>> t = SingleIndexTarget(3, link="he2")
    >>> r = excess_risk(t.f, t, 1000)       # f_hat = f*: risk exactly 0
    >>> r.value, r.floor
    (0.0, 0.0)
    """
    m = check_positive_int("m", m)
    if m < 2:
        raise ValueError(f"m must be >= 2 (a standard error needs two points), got {m}")
    level = check_open_unit("level", level)
    batch = check_positive_int("batch", batch)
    errors = torch.empty(m, dtype=torch.float64)
    with torch.no_grad():
        for start in range(0, m, batch):
            k = min(batch, m - start)
            errors[start:start + k] = _squared_errors(predict, target, target.sample_x(k, generator))
    if not bool(torch.isfinite(errors).all()):
        raise ValueError("predict returned non-finite values: the excess risk is undefined")
    mean = float(errors.mean())
    se = float(errors.std(correction=1)) / math.sqrt(m)
    q = float(stats.t.ppf((1.0 + level) / 2.0, m - 1))
    half = q * se
    note = (f"excess risk E(f_hat(X) - f*(X))^2: mean over m = {m} fresh inputs with the exact f* (no label "
            f"noise); {level:.0%} CI mean +- t_(m-1) x sd/sqrt(m) (t quantile {q:.4g}); floor = the CI "
            "half-width (the estimate's resolution: a value below ~3x it is unresolved)")
    return Estimate(value=mean, floor=half, ci_low=mean - half, ci_high=mean + half, std_error=se, note=note)
