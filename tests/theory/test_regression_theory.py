"""Theory rows of nonparametric regression and of the width sweeps: exponents equal their formulas."""

from __future__ import annotations

import math

import pytest

from genlab.theory.exponents import Prediction
from genlab.theory.regression import (
    PARAMETRISATIONS,
    REGRESSION_ESTIMATORS,
    WIDTH_METRICS,
    regression_exponent,
    width_exponent,
)

# exact rationals in float64: 1e-15 absolute is a few ulps
TOL = 1e-15


@pytest.mark.parametrize("d,s,want", [(1, 1.0, -2 / 3), (2, 1.0, -1 / 2), (3, 0.5, -1 / 4), (5, 2.5, -1 / 2),
                                      (10, 1.0, -1 / 6), (2, math.inf, -1.0)])
def test_deep_is_the_minimax_exponent_with_the_schmidt_hieber_log_cube(d, s, want):
    p = regression_exponent("deep", d=d, s=s)
    assert isinstance(p, Prediction)
    assert p.exponent == pytest.approx(want, abs=TOL)
    assert p.log_power == 3.0 and p.log_factors[0].kind == "upper bound"
    assert "Schmidt-Hieber" in p.source and "Stone" in p.source
    assert (p.estimator, p.metric) == ("deep", "excess_risk")


def test_intrinsic_dim_replaces_d():
    p = regression_exponent("deep", d=10, s=1.0, intrinsic_dim=2)
    assert p.exponent == pytest.approx(-1 / 2, abs=TOL) and "Nakada & Imaizumi" in p.source
    assert regression_exponent("knn", d=10, s=1.0, intrinsic_dim=3).exponent == pytest.approx(-2 / 5, abs=TOL)
    assert regression_exponent("ntk_krr", d=10, s=1.0, intrinsic_dim=1).exponent == pytest.approx(-2 / 3, abs=TOL)
    assert regression_exponent("deep", d=4, s=1.0, intrinsic_dim=4).exponent == \
        regression_exponent("deep", d=4, s=1.0).exponent


@pytest.mark.parametrize("d,s,want", [(1, 1.0, -2 / 3), (3, 0.5, -1 / 4), (2, 3.0, -1 / 2), (4, math.inf, -1 / 3)])
def test_knn_caps_the_smoothness_at_one(d, s, want):
    p = regression_exponent("knn", d=d, s=s)
    assert p.exponent == pytest.approx(want, abs=TOL)
    assert "Gyorfi" in p.source and p.log_power == 0.0
    assert "s > 1" in p.assumptions and "d >= 3" in p.assumptions


@pytest.mark.parametrize("estimator", ["ntk_krr", "two_layer"])
@pytest.mark.parametrize("d,s,want", [(1, 1.0, -2 / 3), (1, 2.0, -4 / 5), (1, 3.0, -4 / 5), (2, 3.0, -3 / 4),
                                      (3, math.inf, -8 / 11)])
def test_kernel_rows_saturate_at_twice_the_rkhs_order(estimator, d, s, want):
    # s' = min(s, d + 1) (2r with r = (d+1)/2), exponent -2s'/(2s'+d)
    p = regression_exponent(estimator, d=d, s=s)
    assert p.exponent == pytest.approx(want, abs=TOL)
    assert "bias" in p.assumptions and "1-homogeneous" in p.assumptions
    assert "Fischer & Steinwart" in p.source


@pytest.mark.parametrize("kwargs,match", [
    (dict(estimator="gp", d=2, s=1.0), "estimator must be one of"),
    (dict(estimator="deep", d=0, s=1.0), "d must be a positive integer"),
    (dict(estimator="deep", d=2, s=0.0), "s must be a number > 0"),
    (dict(estimator="deep", d=2, s=math.nan), "s must be a number > 0"),
    (dict(estimator="deep", d=2, s=1.0, intrinsic_dim=3), "intrinsic_dim must be <= d = 2"),
])
def test_regression_exponent_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        regression_exponent(kwargs.pop("estimator"), **kwargs)


def test_every_regression_row_has_a_source_and_assumptions():
    for estimator in REGRESSION_ESTIMATORS:
        p = regression_exponent(estimator, d=3, s=1.0)
        assert p.source and len(p.assumptions) > 100 and p.formula


# -- width rows ---------------------------------------------------------------------------
WIDTH = {
    ("ntk_init_error", "ntk"): -0.5, ("ntk_init_error", "mean_field"): -0.5,
    ("ntk_init_error", "standard"): -0.5, ("ntk_init_error", "lazy"): -0.5,
    ("weight_movement", "ntk"): -0.5, ("weight_movement", "mean_field"): 0.0,
    ("weight_movement", "standard"): None, ("weight_movement", "lazy"): None,
    ("kernel_drift", "ntk"): -0.5, ("kernel_drift", "mean_field"): 0.0,
    ("kernel_drift", "standard"): None, ("kernel_drift", "lazy"): None,
    ("flow_gap", "ntk"): -0.5, ("flow_gap", "mean_field"): None,
    ("flow_gap", "standard"): None, ("flow_gap", "lazy"): None,
    ("twin_distance", "ntk"): -0.5, ("twin_distance", "mean_field"): -0.5,
    ("twin_distance", "standard"): None, ("twin_distance", "lazy"): -0.5,
}


def test_the_width_table_covers_every_pair():
    assert set(WIDTH) == {(m, p) for m in WIDTH_METRICS for p in PARAMETRISATIONS}


@pytest.mark.parametrize("metric,parametrisation", sorted(WIDTH))
def test_width_exponents(metric, parametrisation):
    p = width_exponent(metric, parametrisation)
    want = WIDTH[(metric, parametrisation)]
    if want is None:
        assert p is None
        return
    assert p.exponent == want and (p.estimator, p.metric) == (parametrisation, metric)
    assert p.source and p.assumptions and p.formula.startswith("m^")


def test_twin_distance_in_ntk_scaling_says_it_needs_centred_initial_outputs():
    assert "centred initial outputs" in width_exponent("twin_distance", "ntk").assumptions
    assert "propagation of chaos" in width_exponent("twin_distance", "mean_field").assumptions
    assert "own f_0" in width_exponent("flow_gap", "ntk").assumptions


def test_width_exponent_refuses_unknown_names():
    with pytest.raises(ValueError, match="metric must be one of"):
        width_exponent("loss", "ntk")
    with pytest.raises(ValueError, match="parametrisation must be one of"):
        width_exponent("kernel_drift", "muP")
