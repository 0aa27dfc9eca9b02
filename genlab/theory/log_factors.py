"""Log factors of predicted rates, machine-usable: the theory line is C n^a (log n)^q.

A `LogFactor` holds the power q of log n that multiplies a power law n^a,
where it comes from, and whether it is sharp (a matching lower bound under
the stated assumptions) or only an upper bound.  ``power=None`` marks a
factor a source states only as "polylog(n)" (or as n^delta), with no power
that could be drawn; a line is then drawn without it and says so.

`theory_curve` evaluates the line over given n, anchored at one point, the
way `genlab.plots.rates` draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from genlab.core.validation import check_in, check_positive

__all__ = ["LogFactor", "theory_curve", "LOG_KINDS"]

#: "sharp": upper and lower bound of this order; "upper bound": only an upper bound is known here.
LOG_KINDS = ("sharp", "upper bound")


@dataclass(frozen=True)
class LogFactor:
    """The factor (log n)^power of a rate, with its source.

    Attributes
    ----------
    power : float or None
        q in n^a (log n)^q; None where the source gives no power (polylog(n), n^delta).
    source : str
        Authors, year, venue.
    kind : {"sharp", "upper bound"}
    assumptions : str
        When this factor holds (may be narrower than the row's assumptions).
    description : str
        The factor as the source states it, e.g. "polylog(n)"; default from ``power``.

    Examples
    --------
    >>> LogFactor(0.5, "AKT 1984", "sharp").label
    '(log n)^0.5'
    >>> LogFactor(None, "Oko et al. 2023", "upper bound", description="polylog(n)").label
    'polylog(n)'
    """

    power: float | None
    source: str
    kind: str
    assumptions: str = ""
    description: str = ""

    def __post_init__(self):
        check_in("kind", self.kind, LOG_KINDS)
        if self.power is not None and not (isinstance(self.power, (int, float)) and math.isfinite(self.power)):
            raise ValueError(f"power must be a finite number or None, got {self.power!r}")

    @property
    def label(self) -> str:
        """Short text for a legend: ``(log n)^q``, or the source's own words where q is unknown."""
        if self.power is None:
            return self.description or "polylog(n)"
        return f"(log n)^{self.power:g}"

    def __call__(self, ns) -> np.ndarray:
        """(log n)^power at each n > 1, shape of ``ns``; ones where the power is unknown."""
        ns = _check_ns(ns)
        return np.ones_like(ns) if self.power is None else np.log(ns) ** self.power


def _check_ns(ns, name: str = "ns") -> np.ndarray:
    try:
        arr = np.asarray(ns, dtype=float)
    except (TypeError, ValueError):
        arr = np.array([np.nan])
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 1):
        raise ValueError(f"{name} must be finite sample sizes > 1 (log n > 0), got {ns!r}")
    return arr


def _exponent_and_power(pred: Any) -> tuple[float, float]:
    """(a, q) from a `Prediction` or a mapping with ``exponent`` and optional ``log_power``."""
    if isinstance(pred, Mapping):
        if "exponent" not in pred:
            raise ValueError("pred must have an 'exponent' (a Prediction or a dict from theory_for)")
        exponent, power = pred["exponent"], pred.get("log_power", 0.0)
    else:
        exponent, power = pred.exponent, pred.log_power
    return float(exponent), 0.0 if power is None else float(power)


def theory_curve(pred: Any, ns, anchor_n: float, anchor_value: float) -> np.ndarray:
    """The theory line v(n) = anchor_value (n / anchor_n)^a (log n / log anchor_n)^q, shape of ``ns``.

    Parameters
    ----------
    pred : Prediction or mapping
        A `genlab.theory.Prediction` (its ``exponent`` a and ``log_power`` q), or
        a dict with ``exponent`` and optional ``log_power`` (missing or None: q = 0).
    ns : array_like
        Sample sizes > 1 at which to evaluate the line.
    anchor_n : float
        The n > 1 at which the line passes through ``anchor_value``.
    anchor_value : float
        Positive value of the line at ``anchor_n`` (e.g. the measured mean there).

    Returns
    -------
    ndarray, same shape as ``ns``

    Examples
    --------
    >>> v = theory_curve({"exponent": -0.5, "log_power": 0.5}, [400.0], 100.0, 1.0)
    >>> round(float(v[0]), 12)  # (400/100)^(-1/2) (log 400 / log 100)^(1/2)
    0.570313509323
    """
    exponent, power = _exponent_and_power(pred)
    ns = _check_ns(ns)
    anchor_n = float(_check_ns(anchor_n, "anchor_n"))
    anchor_value = check_positive("anchor_value", anchor_value)
    return anchor_value * (ns / anchor_n) ** exponent * (np.log(ns) / math.log(anchor_n)) ** power
