"""metrics.fit_rate: the seed-jackknife interval, the floor models, long format, and 'not fitted'."""

import json
import math

import numpy as np
import pytest
from scipy import stats

from metrics import fit_rate

NS = np.array([250, 500, 1000, 2000, 4000, 8000])


def noisy(rng, ns, seeds, slope=-0.5, cv=0.2):
    sigma = math.sqrt(math.log1p(cv**2))
    return ns[:, None] ** slope * np.exp(sigma * rng.standard_normal((len(ns), seeds)))


def test_interval_is_the_delete_one_seed_jackknife_t_interval():
    # the definition written out: slope of log(mean over seeds), its 5 seed-deleted replicates,
    # SE^2 = (S-1)/S sum (rep - mean)^2, t quantile on S - 1 = 4 df
    rng = np.random.default_rng(1)
    err = noisy(rng, NS, 5)
    fit = fit_rate(NS, err)
    log_n = np.log(NS)
    reps = []
    for j in range(5):
        keep = [c for c in range(5) if c != j]
        reps.append(np.polyfit(log_n, np.log(err[:, keep].mean(1)), 1)[0])
    reps = np.asarray(reps)
    se = math.sqrt(4 / 5 * np.sum((reps - reps.mean()) ** 2))
    t = stats.t.ppf(0.975, 4)
    assert fit.slope == pytest.approx(np.polyfit(log_n, np.log(err.mean(1)), 1)[0], abs=1e-12)
    assert fit.slope_se == pytest.approx(se, rel=1e-12)
    assert (fit.slope_ci_low, fit.slope_ci_high) == pytest.approx((fit.slope - t * se, fit.slope + t * se))
    assert fit.ci_df == 4 and fit.n_seeds == 5 and fit.ci_method.startswith("delete-one-seed jackknife")
    json.dumps(fit.to_dict())


def test_long_format_gives_the_wide_fit():
    rng = np.random.default_rng(2)
    err = noisy(rng, NS, 4)
    err[2, 1] = np.nan  # a missing run
    wide = fit_rate(NS, err)
    rows = [(n, s, err[i, s]) for s in (3, 0, 2, 1) for i, n in enumerate(NS) if not np.isnan(err[i, s])]
    n_long, s_long, e_long = (np.array(c) for c in zip(*rows))
    long = fit_rate(n_long, e_long, seeds=s_long)
    assert long.to_dict() == wide.to_dict()
    assert long.n_runs[2] == 3


def test_fewer_than_three_points_is_not_fitted():
    with pytest.raises(ValueError, match="2 usable point.*needs 3"):
        fit_rate([10, 100], [0.1, 0.01])          # the zero-width fit of two points
    with pytest.raises(ValueError, match="needs 3.*floor"):
        fit_rate([10, 100, 1000], [0.3, 0.1, 0.05], floors=0.02, floor_model="cut")


def test_points_exactly_on_a_power_law_give_no_interval_not_a_zero_width_one():
    fit = fit_rate(NS, 2.0 * NS**-0.4)
    assert fit.slope == pytest.approx(-0.4, abs=1e-12)
    assert math.isnan(fit.slope_ci_low) and math.isnan(fit.slope_ci_high)
    assert fit.ci_method.startswith("none")


def test_one_run_per_n_uses_the_ols_t_interval():
    rng = np.random.default_rng(3)
    e = noisy(rng, NS, 1)[:, 0]
    fit = fit_rate(NS, e)
    res = stats.linregress(np.log(NS), np.log(e))
    t = stats.t.ppf(0.975, len(NS) - 2)
    assert fit.slope == pytest.approx(res.slope, abs=1e-12)
    assert fit.slope_ci_high - fit.slope == pytest.approx(t * res.stderr, rel=1e-10)
    assert fit.ci_df == 4 and fit.ci_method.startswith("OLS t interval")


def test_quadrature_floor_recovers_the_exponent_of_d_where_the_cut_bends_it():
    d = 3.0 * NS**-0.5
    floor = d[-1] / 1.5           # D / floor from 8.5 down to 1.5
    e = np.hypot(d, floor)
    fit = fit_rate(NS, e, floors=floor)
    assert fit.slope == pytest.approx(-0.5, abs=1e-12)
    assert fit.used == NS.tolist() and fit.floor_warnings == [4000, 8000]  # e / F = sqrt(1 + (D/F)^2) <= 3
    cut = fit_rate(NS, e, floors=floor, floor_model="cut")
    # the points kept by the 3x rule still carry the floor: log-log slope of hypot(D, F) is
    # -0.5 D^2 / (D^2 + F^2) locally (-0.49 ... -0.45 over the 4 kept points), so the fit is flatter
    # than -0.5 and its interval (curvature in the residuals) excludes -0.5
    assert cut.used == [250, 500, 1000, 2000]
    assert cut.slope == pytest.approx(np.polyfit(np.log(NS[:4]), np.log(e[:4]), 1)[0], abs=1e-12)
    assert -0.5 < cut.slope_ci_low


def test_subtract_floor_is_exact_for_an_additive_bias():
    d = 0.5 * NS**-1.0
    fit = fit_rate(NS, d + 1e-5, floors=np.full(len(NS), 1e-5), floor_model="subtract")
    assert fit.slope == pytest.approx(-1.0, abs=1e-9)


def test_unresolved_point_is_left_out_and_named():
    rng = np.random.default_rng(4)
    d = NS**-0.5
    floor = 0.05                 # D = 0.063 ... 0.011: the last points are far below the floor
    sigma = math.sqrt(math.log1p(0.1**2))
    ln = lambda: np.exp(sigma * rng.standard_normal((len(NS), 5)))  # noqa: E731
    e = np.hypot(d[:, None] * ln(), floor * ln())
    f = floor * ln()
    fit = fit_rate(NS, e, f)
    assert 8000 in fit.left_out and "not resolved" in fit.left_out_reason[8000]
    assert set(fit.used) | set(fit.left_out) == set(NS.tolist())


def test_per_run_floor_noise_widens_the_interval():
    # the floor's own uncertainty is in the interval when floors are given per run
    rng = np.random.default_rng(5)
    d = NS**-0.5
    floor = d[-1] / 2
    e = np.hypot(d[:, None] * np.exp(0.05 * rng.standard_normal((6, 5))), floor)
    known = fit_rate(NS, e, floors=np.full(6, floor))
    measured = fit_rate(NS, e, floors=floor * np.exp(0.3 * rng.standard_normal((6, 5))))
    assert measured.slope_se > 1.5 * known.slope_se


@pytest.mark.parametrize("kwargs, match", [
    (dict(floor_model="exact"), "floor_model"),
    (dict(seeds=[0, 1, 2, 3, 4, 5]), "seeds is for long format"),
    (dict(min_points=1), "min_points"),
    (dict(resolve_z=-1.0), "resolve_z"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit_rate(NS, NS**-0.5, **kwargs)


def test_long_format_rejects_a_repeated_seed():
    with pytest.raises(ValueError, match="same \\(n, seed\\)"):
        fit_rate([10, 10, 20, 30], [1.0, 1.1, 0.5, 0.3], seeds=[0, 0, 0, 0])
