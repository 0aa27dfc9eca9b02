"""The regression family through the shared run and sweep machinery: its checks, its seeds, its theory lines,
and its compare recipes, which take the main recipe's target."""

from __future__ import annotations

import json

import pytest
import torch
from omegaconf import OmegaConf

from genlab.config.compose import compose_config
from genlab.core.seeding import derive_seed, make_generator
from genlab.regression.family import axis_theory
from genlab.regression.fit import network_inputs
from genlab.regression.run import build_target
from genlab.run.pipeline import run
from genlab.sweep.setup import compare_overrides

TOY = ["regression.steps=5", "regression.eval_every=1", "regression.test_points=300",
       "regression.kernel_points=8", "progress=false", "device=cpu"]



def _run(tmp_path, *overrides):
    cfg = OmegaConf.to_object(compose_config([*overrides, *TOY]))
    return run(cfg, tmp_path, progress=False), cfg


def test_a_run_is_reproducible_from_its_seed(tmp_path):
    a, _ = _run(tmp_path / "a", "recipe=regression_smooth_knn", "n=60")
    b, _ = _run(tmp_path / "b", "recipe=regression_smooth_knn", "n=60")
    c, _ = _run(tmp_path / "c", "recipe=regression_smooth_knn", "n=60", "seed=1")
    assert a.metrics == b.metrics and a.metrics["excess_risk"] != c.metrics["excess_risk"]


def test_the_excess_risk_of_the_constant_estimator_is_its_closed_form(tmp_path):
    # knn with k = n predicts the label mean ybar everywhere: R = E (ybar - f*(X))^2 over fresh X, known in
    # closed form from the target's exact mean (0 for the smooth target: its cosines integrate to 0 over
    # the cube) and second moment: R = ybar^2 + E f*^2; the run's CI must hold it (95%: a 1-in-20 miss
    # would be a real failure of the interval, and this is one fixed seed)
    n = 50
    res, cfg = _run(tmp_path, "recipe=regression_smooth_knn", f"n={n}", f"regression.knn_k={n}",
                    "regression.test_points=20000")
    target = build_target(cfg.regression)
    _, y = target.sample(n, generator=make_generator(derive_seed(cfg.seed, "data")))
    closed = float(y.mean()) ** 2 + target.second_moment()
    m = res.metrics
    assert m["excess_risk_ci_low"] <= closed <= m["excess_risk_ci_high"], (closed, m)


def test_two_layer_run_reports_its_regime_measurements_with_zero_floors(tmp_path):
    res, _ = _run(tmp_path, "recipe=ntk_lazy", "n=12", "regression.width=32")
    m = json.loads((tmp_path / "metrics.json").read_text())
    for key in ("ntk_init_error", "weight_movement", "kernel_drift", "flow_gap", "twin_distance",
                "loss_rate_ratio", "excess_risk"):
        assert key in m and m[f"{key}_floor"] >= 0.0, key
    assert 0 < m["weight_movement"] < 1 and m["ntk_init_error"] > 0
    assert (tmp_path / "regression.png").is_file()


def test_the_constant_input_coordinate_is_a_bias_of_the_hidden_units():
    cfg = OmegaConf.to_object(compose_config(["recipe=ntk_lazy"])).regression
    x = torch.randn(5, 4, dtype=torch.float64)
    z = network_inputs(cfg, x)
    assert z.shape == (5, 5) and torch.equal(z[:, :4], x) and torch.all(z[:, 4] == 1)
    cfg.input_bias = False
    assert network_inputs(cfg, x) is x


def test_single_index_alignment_starts_near_its_random_value(tmp_path):
    # a w_j ~ N(0, I_d) has E |cos(w_j, w*)| = E|z| / sqrt(d) (1 + O(1/d)) = sqrt(2 / (pi d)) (1 + O(1/d));
    # with |a_j| weights over m = 512 neurons the mean has sd ~ 0.6 / sqrt(d m) ~ 0.007 at d = 16
    _run(tmp_path, "recipe=meanfield_single_index", "n=64", "regression.width=512")
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert abs(m["alignment_init"] - (2 / (torch.pi * 16)) ** 0.5) < 0.03
    assert "alignment" in m


def test_axis_theory_gives_the_minimax_exponent_in_n_and_the_width_exponents_in_m():
    sec = OmegaConf.to_container(compose_config(["recipe=regression_smooth", "regression.d=2"]).regression)
    assert axis_theory("n", "excess_risk", sec)["exponent"] == pytest.approx(-2 / 4)
    sub = OmegaConf.to_container(compose_config(["recipe=regression_subspace"]).regression)
    assert sub["ambient_dim"] == 8 and axis_theory("n", "excess_risk", sub)["exponent"] == pytest.approx(-0.5)
    lazy = OmegaConf.to_container(compose_config(["recipe=ntk_lazy"]).regression)
    th = axis_theory("regression.width", "flow_gap", lazy)
    assert th["exponent"] == -0.5 and th["symbol"] == "m"
    assert axis_theory("regression.width", "excess_risk", lazy) is None
    alpha = OmegaConf.to_container(compose_config(["recipe=lazy_alpha"]).regression)
    assert axis_theory("regression.alpha", "weight_movement", alpha)["exponent"] == -1.0
    si = OmegaConf.to_container(compose_config(["recipe=meanfield_single_index"]).regression)
    assert axis_theory("n", "excess_risk", si) is None     # no smoothness-rate theory for a single index


def test_compare_recipes_take_the_main_recipes_target_and_drop_metrics_they_cannot_give():
    cfg = compose_config(["recipe=regression_smooth", "regression.d=3", "regression.sigma=0.25"])
    extra = compare_overrides(cfg, "regression_smooth_krr", ["excess_risk"])
    assert "regression.d=3" in extra and "regression.sigma=0.25" in extra
    assert not any(e.startswith("regression.s=") for e in extra)   # the same in both: not repeated
    krr = compare_overrides(compose_config(["recipe=meanfield_single_index"]), "meanfield_single_index_krr",
                            ["excess_risk", "alignment"])
    assert "eval.metrics=[excess_risk]" in krr


def test_the_theory_floor_names_the_same_parametrisations_as_the_networks():
    # genlab.theory (floor 2) may not import genlab.regression (floor 3): its copy is held equal here
    from genlab.regression.networks import PARAMETRISATIONS
    from genlab.theory.regression import PARAMETRISATIONS as THEORY_PARAMETRISATIONS

    assert THEORY_PARAMETRISATIONS == PARAMETRISATIONS
