"""The amplitude law shared by the lacunary-series truths (`SmoothDensity`, `SmoothJointDensity`).

Both densities are 1 + sum_j b_j cos(pi k_j . x + phi_j) with b_j = a 2^{-js} / c_s,
c_s = sum_j 2^{-js}, so that sum_j |b_j| = a < 1 (the density is bounded below by 1 - a) and
the j-th term, of frequency |k_j| ~ 2^j, has amplitude 2^{-js}: Hölder smoothness exactly s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genlab.core.validation import check_nonnegative, check_positive, check_positive_int

__all__ = ["LacunarySeries", "lacunary_series"]


@dataclass(frozen=True)
class LacunarySeries:
    """Checked parameters and the drawn phases of one series.

    ``amplitudes`` (J,) = a 2^{-js} / c_s; ``phases`` (J,) uniform on [0, 2 pi), the first J draws
    of ``rng`` (PCG64 seeded with ``seed``), which is left positioned after them for further draws.
    """

    s: float
    amplitude: float
    n_terms: int
    seed: int
    c_s: float
    amplitudes: np.ndarray
    phases: np.ndarray
    rng: np.random.Generator


def lacunary_series(s, amplitude, n_terms, seed) -> LacunarySeries:
    """Validate (s, amplitude, n_terms, seed), one-line ValueError naming the bad one, and draw the phases."""
    s = check_positive("s", s)
    a = check_nonnegative("amplitude", amplitude)
    if not a < 1.0:
        raise ValueError(f"amplitude must be in [0, 1), got {amplitude!r}")
    n_terms = check_positive_int("n_terms", n_terms)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    decay = 2.0 ** (-np.arange(n_terms) * s)
    c_s = float(decay.sum())
    rng = np.random.Generator(np.random.PCG64(int(seed)))
    phases = rng.uniform(0.0, 2.0 * math.pi, size=n_terms)
    return LacunarySeries(s, a, n_terms, int(seed), c_s, a * decay / c_s, phases, rng)
