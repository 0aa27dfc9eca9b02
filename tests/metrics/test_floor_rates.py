"""noise_floor decays like m^{-1/2} for W1 in d = 1; fit_rate recovers known exponents."""

import json

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
    assert fit.ci_method == "seed bootstrap"
    assert fit.slope_ci_low <= -0.5 <= fit.slope_ci_high
    f1 = noise_floor(normal, 100, lambda a, b: wasserstein(a, b, method="1d"), reps=3)
    assert f1 == noise_floor(normal, 100, lambda a, b: wasserstein(a, b, method="1d"), reps=3)
    assert f1.reps == 3 and f1.std > 0


def test_fit_rate_recovers_slope_within_ci():
    rng = np.random.default_rng(0)
    ns = np.array([100, 200, 400, 800, 1600, 3200])
    errors = 3.0 * ns[:, None] ** -0.4 * np.exp(0.1 * rng.normal(size=(6, 10)))
    errors[2, 3] = np.nan  # a missing run is ignored
    fit = fit_rate(ns, errors, n_boot=4000, alpha=0.01)
    assert fit.slope_ci_low <= -0.4 <= fit.slope_ci_high
    assert fit.slope_ci_high - fit.slope_ci_low < 0.1
    assert fit.n_runs[2] == 9 and len(fit.local_slopes) == 5
    json.dumps(fit.to_dict())


def test_fit_rate_leaves_out_floor_dominated_points():
    ns = np.array([10, 100, 1000, 10_000, 100_000])
    floor = 0.01
    errors = ns**-0.5 + floor  # 0.33, 0.11, 0.042, 0.02, 0.013
    fit = fit_rate(ns, errors, floors=np.full(5, floor))
    assert fit.used == [10, 100, 1000] and fit.left_out == [10_000, 100_000]
    assert "floor" in fit.left_out_reason[10_000]
    assert fit.ci_method.startswith("residual bootstrap")


def test_fit_rate_needs_two_points():
    with pytest.raises(ValueError, match="fewer than 2"):
        fit_rate([10, 100], [0.1, 0.01], floors=[0.05, 0.05])
