"""How often the interval of `metrics.fit_rate` covers a known exponent: the coverage study.

Synthetic sweeps with the structure of genlab's rate sweeps: k sample sizes,
S seeds, a true distance D(n) = A n^b, and the seed-to-seed noise measured in
the real sweeps (coefficient of variation 0.05-0.3 of a run's error).

Model of one synthetic sweep (``floor=False``)::

    e_{i,s} = D(n_i) * L_{i,s},      L = exp(sigma Z - sigma^2 / 2), sigma^2 = log(1 + cv^2)

(a mean-one lognormal with coefficient of variation ``cv``, independent over
i and s).  With a floor (``floor=True``), a plug-in metric whose own sampling
noise adds in quadrature and whose floor is measured in every run::

    e_{i,s} = sqrt((D(n_i) L_{i,s})^2 + (F L'_{i,s})^2),    f_{i,s} = F L''_{i,s}

with L', L'' independent copies of L: f is the floor measured between two
truth samples, a draw independent of the run's own noise.  F is set so that
D / F falls from ``ratio_high`` at the smallest n to ``ratio_low`` at the
largest (the issue's range: 8 down to 1.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .rates import fit_rate

__all__ = ["CoverageResult", "synthetic_sweep", "coverage", "coverage_tolerance"]


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of the nominal (1 - alpha) slope interval over ``reps`` synthetic sweeps.

    ``fitted`` counts the sweeps that gave a slope (>= 3 used points); coverage
    is over those.  ``median_width`` is the median interval width.
    """

    seeds: int
    cv: float
    floor: bool
    reps: int
    fitted: int
    covered: int
    median_width: float
    alpha: float

    @property
    def coverage(self) -> float:
        return self.covered / self.fitted if self.fitted else float("nan")


def synthetic_sweep(rng: np.random.Generator, ns: np.ndarray, seeds: int, cv: float, *, slope: float = -0.5,
                    amplitude: float = 1.0, floor: bool = False, ratio_high: float = 8.0,
                    ratio_low: float = 1.5) -> tuple[np.ndarray, np.ndarray | None]:
    """One sweep's errors (k, S) and, with ``floor``, its per-run floors (k, S); see the module docstring."""
    sigma = math.sqrt(math.log1p(cv**2))

    def mean_one_lognormal():
        return np.exp(sigma * rng.standard_normal((len(ns), seeds)) - sigma**2 / 2)

    d = amplitude * ns[:, None] ** slope * mean_one_lognormal()
    if not floor:
        return d, None
    big_f = amplitude * ns[0] ** slope / ratio_high
    return np.hypot(d, big_f * mean_one_lognormal()), big_f * mean_one_lognormal()


def floor_sweep_ns(k: int = 6, *, n_min: float = 250.0, slope: float = -0.5, ratio_high: float = 8.0,
                   ratio_low: float = 1.5) -> np.ndarray:
    """k geometric sample sizes over which D / F falls from ratio_high to ratio_low when D ~ n^slope."""
    n_max = n_min * (ratio_high / ratio_low) ** (1 / -slope)
    return np.geomspace(n_min, n_max, k)


def coverage(seeds: int, cv: float, *, floor: bool = False, reps: int = 1000, k: int = 6, slope: float = -0.5,
             alpha: float = 0.05, floor_model: str = "quadrature", seed: int = 0) -> CoverageResult:
    """Coverage of `fit_rate`'s default interval on ``reps`` synthetic sweeps.

    Without a floor the sweep's n are 250 ... 8000 (k geometric points, the
    grid of genlab's default sweeps); with one, the k points over which D / F
    falls from 8 to 1.5 (`floor_sweep_ns`), fitted with ``floor_model``.
    """
    rng = np.random.default_rng(seed)
    ns = floor_sweep_ns(k, slope=slope) if floor else np.geomspace(250, 8000, k)
    fitted = covered = 0
    widths = []
    for _ in range(reps):
        err, fl = synthetic_sweep(rng, ns, seeds, cv, slope=slope, floor=floor)
        try:
            fit = fit_rate(ns, err, fl, alpha=alpha, floor_model=floor_model)
        except ValueError:
            continue
        fitted += 1
        covered += bool(fit.slope_ci_low <= slope <= fit.slope_ci_high)
        widths.append(fit.slope_ci_high - fit.slope_ci_low)
    return CoverageResult(seeds=seeds, cv=cv, floor=floor, reps=reps, fitted=fitted, covered=covered,
                          median_width=float(np.median(widths)) if widths else float("nan"), alpha=alpha)


def coverage_tolerance(reps: int, alpha: float = 0.05, z: float = 3.0) -> float:
    """z binomial standard errors of an estimated coverage at nominal 1 - alpha over ``reps`` sweeps."""
    return z * math.sqrt(alpha * (1 - alpha) / reps)


def coverage_table(seed_counts=(3, 5, 8), cvs=(0.05, 0.1, 0.2, 0.3), *, reps: int = 2000, alpha: float = 0.05,
                   seed: int = 0) -> str:
    """The coverage study as a markdown table: coverage and median CI width, without and with a floor.

    Rows are (seeds, cv); the binomial standard error of each coverage is
    sqrt(alpha (1 - alpha) / reps) (0.005 at reps = 2000).
    """
    lines = ["| seeds | CV | coverage, no floor | median width | coverage, floor in quadrature (D/F 8 -> 1.5) "
             "| median width |", "|---|---|---|---|---|---|"]
    for s in seed_counts:
        for cv in cvs:
            a = coverage(s, cv, reps=reps, alpha=alpha, seed=seed)
            b = coverage(s, cv, floor=True, reps=reps, alpha=alpha, seed=seed + 1)
            lines.append(f"| {s} | {cv:g} | {a.coverage:.3f} | {a.median_width:.3f} | {b.coverage:.3f} "
                         f"| {b.median_width:.3f} |")
    return "\n".join(lines) + "\n"
