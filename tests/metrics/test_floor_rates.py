"""noise_floor decays like m^{-1/2} for W1 in d = 1 (fit_rate itself: test_rates.py, test_rate_coverage.py)."""

import numpy as np
import pytest

from metrics import fit_rate, noise_floor, wasserstein


def normal(n, seed):
    return np.random.default_rng(seed).normal(size=(n, 1))


def test_w1_floor_decays_like_inverse_sqrt_m():
    # E W1(P_m, P'_m) ~ c m^{-1/2} in d = 1 (del Barrio, Gine & Matran 1999).
    ms = [100, 400, 1600, 6400, 25600]
    reps = 12
    vals = np.array([noise_floor(normal, m, lambda a, b: wasserstein(a, b, method="1d"), reps=reps).values
                     for m in ms])
    fit = fit_rate(ms, vals, alpha=0.01)
    assert fit.ci_method.startswith("delete-one-seed jackknife") and fit.n_seeds == reps
    assert fit.slope_ci_low <= -0.5 <= fit.slope_ci_high
    f1 = noise_floor(normal, 100, lambda a, b: wasserstein(a, b, method="1d"), reps=3)
    assert f1 == noise_floor(normal, 100, lambda a, b: wasserstein(a, b, method="1d"), reps=3)
    assert f1.reps == 3 and f1.std > 0
