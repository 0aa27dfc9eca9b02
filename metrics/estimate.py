"""The value every estimator returns: a number with its noise floor and interval.

A distance between a model and the truth is only meaningful next to the
floor below which the estimator cannot see (the same metric between two
independent samples of the truth), and next to its sampling uncertainty.
:class:`Estimate` carries both, and knows whether the value is only a lower
bound (the classifier two-sample bound on total variation), so that every
printout says so.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

__all__ = ["Estimate", "LOWER_BOUND_SUFFIX"]

#: ``<name>_is_lower_bound: 1`` in the flat form marks a value that is only a lower bound
LOWER_BOUND_SUFFIX = "is_lower_bound"


@dataclass(frozen=True)
class Estimate:
    """A metric value with its noise floor and confidence interval.

    Attributes
    ----------
    value : float
        The estimate.
    floor : float or None
        The noise floor: what the estimator returns when there is nothing to
        find (see :func:`metrics.evaluate` for how each metric defines it).
        0 for a value the truth knows exactly.
    ci_low, ci_high : float or None
        A confidence interval for ``value`` (its level is given in ``note``).
    floor_std : float or None
        The spread (standard deviation over repetitions) of the floor.
    std_error : float or None
        The standard error of ``value`` the interval is built on, where there
        is one (not written to the flat form).
    lower_bound : bool
        True when ``value`` estimates a lower bound of the metric rather than
        the metric itself; ``str()`` then says "lower bound".
    note : str
        How the value, the interval and the floor were obtained.

    Examples
    --------
    >>> e = Estimate(0.31, floor=0.05, ci_low=0.29, ci_high=0.33)
    >>> e.as_flat("w1")
    {'w1': 0.31, 'w1_floor': 0.05, 'w1_ci_low': 0.29, 'w1_ci_high': 0.33}
    >>> Estimate.exact(0.5).as_flat("w2")
    {'w2': 0.5, 'w2_floor': 0.0, 'w2_ci_low': 0.5, 'w2_ci_high': 0.5}
    >>> str(Estimate(0.2, lower_bound=True))
    'lower bound 0.2'
    """

    value: float
    floor: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    floor_std: float | None = None
    lower_bound: bool = False
    std_error: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        # Plain python floats, so that printing and JSON never see numpy scalars.
        for name in ("value", "floor", "ci_low", "ci_high", "floor_std", "std_error"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, float(v))
        object.__setattr__(self, "lower_bound", bool(self.lower_bound))

    @classmethod
    def exact(cls, value: float, note: str = "exact (closed form); floor 0") -> "Estimate":
        """An :class:`Estimate` for a value the truth knows exactly: floor 0, zero-width CI."""
        v = float(value)
        return cls(value=v, floor=0.0, ci_low=v, ci_high=v, floor_std=0.0, note=note)

    def as_flat(self, name: str) -> dict[str, float]:
        """``{name: value, name_floor: floor, name_ci_low: ..., name_ci_high: ...}``.

        Entries that are None are skipped; a lower bound adds
        ``name_is_lower_bound: 1``. This is the flat form written to
        ``metrics.json``.

        >>> Estimate(0.79, ci_low=0.78, ci_high=0.8, lower_bound=True).as_flat("tv_classifier")
        {'tv_classifier': 0.79, 'tv_classifier_ci_low': 0.78, 'tv_classifier_ci_high': 0.8, 'tv_classifier_is_lower_bound': 1}
        """
        out = {name: self.value}
        for suffix, v in (("floor", self.floor), ("ci_low", self.ci_low), ("ci_high", self.ci_high)):
            if v is not None:
                out[f"{name}_{suffix}"] = v
        if self.lower_bound:
            out[f"{name}_{LOWER_BOUND_SUFFIX}"] = 1
        return out

    def to_dict(self) -> dict:
        """All fields as a JSON-serialisable dict (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(self).items()}

    def __str__(self) -> str:
        head = ("lower bound " if self.lower_bound else "") + f"{self.value:.6g}"
        if self.ci_low is not None and self.ci_high is not None:
            head += f" [{self.ci_low:.6g}, {self.ci_high:.6g}]"
        if self.floor is not None:
            head += f" (floor {self.floor:.6g})"
        return head
