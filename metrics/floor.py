"""The noise floor: a metric between two independent samples of the truth.

A plug-in distance between a model's m samples and m truth samples cannot
fall below what it returns between two independent m-samples of the truth
itself; that is the floor below which the estimator cannot see (e.g. W1 in
d = 1 decays like m^{-1/2}, in d > 2 like m^{-1/d}: Fournier & Guillin 2015).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Callable

import numpy as np

from ._validation import as_points, check_callable, check_positive_int

__all__ = ["noise_floor", "NoiseFloor", "derive_seed"]


def derive_seed(seed: int, *keys: int) -> int:
    """A 63-bit seed determined by (seed, *keys) alone (numpy SeedSequence).

    >>> derive_seed(0, 1, 2) == derive_seed(0, 1, 2) != derive_seed(0, 2, 1)
    True
    """
    state = np.random.SeedSequence([int(seed) & (2**63 - 1), *[int(k) for k in keys]]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


@dataclass(frozen=True)
class NoiseFloor:
    """The metric between independent truth samples of size ``m``, over ``reps`` repetitions.

    Attributes
    ----------
    mean : float
        Mean of ``values``.
    std : float
        Sample standard deviation (ddof = 1) of ``values``; NaN when reps = 1.
    reps : int
    m : int
    values : tuple of float
    """

    mean: float
    std: float
    reps: int
    m: int
    values: tuple[float, ...]

    def to_dict(self) -> dict:
        """JSON-serialisable dict (NaN becomes None)."""
        d = asdict(self)
        d["values"] = list(self.values)
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def noise_floor(
    sampler: Callable[[int, int], Any],
    m: int,
    metric: Callable[[Any, Any], float],
    reps: int = 5,
    seed: int = 0,
) -> NoiseFloor:
    """The noise floor of ``metric`` at evaluation size ``m``, with its spread.

    Repetition r draws x = sampler(m, s_{r,0}) and y = sampler(m, s_{r,1}) with
    seeds s_{r,j} = derive_seed(seed, r, j) (distinct, and independent of m),
    and records metric(x, y).

    Parameters
    ----------
    sampler : callable
        ``sampler(n, seed) -> array (n, d)``: i.i.d. samples of the truth.
    m : int
        Evaluation size.
    metric : callable
        ``metric(x, y) -> float``.
    reps : int, default 5
    seed : int, default 0

    Returns
    -------
    NoiseFloor

    Examples
    --------
    >>> import numpy as np
    >>> from metrics import wasserstein
    >>> normal = lambda n, s: np.random.default_rng(s).normal(size=(n, 1))
    >>> f = noise_floor(normal, 1000, lambda a, b: wasserstein(a, b, method="1d"), reps=3)
    >>> f.reps, len(f.values), bool(0.01 < f.mean < 0.1)
    (3, 3, True)
    """
    check_callable("sampler", sampler)
    check_callable("metric", metric)
    m = check_positive_int("m", m)
    reps = check_positive_int("reps", reps)
    values = []
    for r in range(reps):
        x = as_points("sampler output", sampler(m, derive_seed(seed, r, 0)))
        y = as_points("sampler output", sampler(m, derive_seed(seed, r, 1)), dim=x.shape[1])
        if len(x) != m or len(y) != m:
            raise ValueError(f"sampler must return {m} points when asked for m={m}, got {len(x)}")
        v = float(metric(x, y))
        if math.isnan(v):
            raise ValueError("metric returned NaN on two truth samples")
        values.append(v)
    arr = np.asarray(values)
    std = float(np.std(arr, ddof=1)) if reps > 1 else float("nan")
    return NoiseFloor(mean=float(arr.mean()), std=std, reps=reps, m=m, values=tuple(values))
