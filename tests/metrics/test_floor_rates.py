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


def test_empirical_measure_error_carries_half_the_two_sample_floor():
    # In 1-D, sqrt(nm/(n+m)) W1(nu_n, mu_m) and sqrt(n) W1(nu_n, mu) tend to the same law (the
    # integral of |Brownian bridge|), so E W1(nu_n, mu_m)^2 - E W1(nu_n, mu)^2 = E W1(mu_m, mu'_m)^2 / 2
    # in the limit: the share is 1/2, not 1.  Asserted within 3 delta-method standard errors.
    from scipy import stats

    rng = np.random.default_rng(0)
    n = m = 1000
    reps = 1000
    num, f2 = np.empty(reps), np.empty(reps)
    for r in range(reps):
        x, y, z = rng.random((n, 1)), rng.random((m, 1)), rng.random((m, 1))
        num[r] = wasserstein(x, y, method="1d") ** 2 - wasserstein(x, stats.uniform(), method="1d") ** 2
        f2[r] = wasserstein(y, z, method="1d") ** 2
    share = num.mean() / f2.mean()
    grad = np.array([1 / f2.mean(), -num.mean() / f2.mean() ** 2])
    se = float(np.sqrt(grad @ np.cov(np.vstack([num, f2])) @ grad / reps))
    assert abs(share - 0.5) <= 3 * se
    assert share + 3 * se < 1.0


def test_floor_share_removes_the_part_of_the_floor_the_error_carries():
    ns = np.array([16, 64, 256, 1024, 4096])
    D = ns ** -0.5
    F = np.full(len(ns), 0.02)                      # D / F from 12.5 to 0.8
    err = np.sqrt(D**2 + 0.5 * F**2)                # an error that carries half the floor
    half = fit_rate(ns, err, floors=F, floor_share=0.5)
    assert half.slope == pytest.approx(-0.5, abs=1e-12) and half.floor_share == 0.5
    assert half.floors == pytest.approx(list(F))    # the floor is reported as measured
    full = fit_rate(ns, err, floors=F)              # removing all of it over-corrects
    assert full.slope < -0.6                      # -0.63: D(4096) read as 0.0066, not 0.0156
    with pytest.raises(ValueError, match="floor_share"):
        fit_rate(ns, err, floors=F, floor_share=1.5)
