"""Sweeps over a key other than n (rates.x), and compare recipes run on the main recipe's truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from genlab.config.compose import compose_config
from genlab.sweep.report import theory_for_axis
from genlab.sweep.setup import compare_overrides as _compare_overrides
from genlab.sweep.plan import format_value, plan_sweep

ROOT = Path(__file__).resolve().parents[2]


def test_format_value_writes_integers_as_integers():
    assert [format_value(v) for v in (64, 64.0, 0.5, 1e-4)] == ["64", "64", "0.5", "0.0001"]


def test_a_steps_plan_names_its_runs_by_the_swept_key(tmp_path):
    plan = plan_sweep("diffusion_oracle", ["n=50", "diffusion.sampler_steps=7"], [64.0, 128.0], [0, 1],
                      tmp_path, x_key="diffusion.sampler_steps")
    # the swept key given as an override is dropped (the sweep sets it), n is kept
    assert plan.overrides == ["n=50"]
    assert plan.run_dir(64.0, 1).name == "diffusion.sampler_steps=64,n=50,seed=1"
    other = plan_sweep("diffusion_oracle", ["n=50"], [64, 128], [0], tmp_path)
    assert other.sweep_dir != plan.sweep_dir   # a different swept key is a different sweep


def test_run_dirs_spell_values_as_hydra_does(tmp_path):
    """Hydra's sweeper re-spells each value (false -> False, 1e-3 -> 0.001); the plan must agree."""
    plan = plan_sweep("diffusion_gmm", ["eval.kde_reference=false", "diffusion.t0=1e-3"], [64], [0], tmp_path)
    assert plan.run_dir(64, 0).name == "diffusion.t0=0.001,eval.kde_reference=False,n=64,seed=0"


def test_a_sweep_whose_run_dir_names_pass_the_file_name_limit_is_refused(tmp_path):
    many = [f"truth.{k}=0.123456789" for k in ("sigma", "radius", "separation", "amplitude")]
    with pytest.raises(ValueError, match="bytes"):
        plan_sweep("kde_gmm", many + [f"eval.metrics=[{','.join(['sliced_w1'] * 20)}]"], [64], [0], tmp_path)


def test_theory_for_a_steps_sweep_is_the_solvers_order():
    cfg = {"estimator": "diffusion", "diffusion": {"score": "oracle", "sampler": "ode_heun"}}
    assert theory_for_axis("diffusion.sampler_steps", "tv_sampler", cfg)["exponent"] == -2.0
    cfg["diffusion"]["sampler"] = "ode_euler"
    assert theory_for_axis("diffusion.sampler_steps", "tv_sampler_t0", cfg)["exponent"] == -1.0
    cfg["diffusion"]["score"] = "learned"   # a learned score adds its own error: no prediction
    assert theory_for_axis("diffusion.sampler_steps", "tv_sampler", cfg) is None


def test_compare_recipes_inherit_the_truth_and_drop_metrics_they_cannot_give():
    cfg = compose_config(["recipe=diffusion_smooth", "truth.dim=2", "truth.s=2"])
    extra = _compare_overrides(cfg, "empirical_uniform", ["tv", "w1"])
    assert {"truth.name=smooth_joint", "truth.dim=2", "truth.s=2.0"} <= set(extra)
    assert not any(e.startswith("truth.radius") for e in extra)   # unset in both: not named
    sub = _compare_overrides(compose_config(["recipe=diffusion_subspace"]), "empirical_uniform", ["w1"])
    assert "truth.dim=null" in sub                                # set only by the compare recipe
    assert "eval.metrics=[w1]" in extra                       # the empirical measure has no density
    assert "eval.metrics=[tv,w1]" in _compare_overrides(cfg, "kde_smooth", ["tv", "w1"])
    # w1_grid reads the model's density per grid cell: the empirical measure cannot give it, the KDE can
    assert "eval.metrics=[w1]" in _compare_overrides(cfg, "empirical_uniform", ["tv", "w1_grid", "w1"])
    assert "eval.metrics=[tv,w1_grid,w1]" in _compare_overrides(cfg, "kde_smooth", ["tv", "w1_grid", "w1"])
    composed = compose_config(["recipe=empirical_uniform", *extra])
    assert (composed.truth.name, composed.truth.dim, composed.truth.s) == ("smooth_joint", 2, 2.0)


@pytest.mark.slow
def test_a_steps_sweep_end_to_end_fits_against_the_solver_order(tmp_path):
    """6 oracle runs on a 1-D two-mode mixture (3 step counts: a slope needs 3 points); rates.json names
    the key and the order-2 theory."""
    out = tmp_path / "sweep"
    res = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "rates.py"), "recipe=diffusion_oracle",
         "truth.name=gmm_random", "truth.dim=1", "truth.n_modes=2", "eval.m=1000", "eval.floor_cache=null",
         "rates.x_values=[32,48,64]", "rates.seeds=2", f"rates.out_dir={out}", "device=cpu"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads((out / "rates.json").read_text())
    rate = next(r for r in doc["rates"] if r["metric"] == "tv_sampler_t0")
    assert rate["x"] == "diffusion.sampler_steps" and rate["diffusion.sampler_steps"] == [32, 48, 64]
    assert rate["theory"]["exponent"] == -2.0
    assert rate["fit"]["slope"] < 0                  # more steps, smaller TV
    assert rate["fit"]["ci_df"] == 1                 # jackknife over 2 seeds: honest, and wide
    names = sorted(d.name for d in (out / "runs").iterdir() if d.is_dir())
    assert names[0].startswith("diffusion.sampler_steps=32,") and len(names) == 6
    assert (out / "rates.png").is_file()
    header = (out / "rates.csv").read_text().splitlines()[0]
    assert header.startswith("recipe,diffusion.sampler_steps,seed,metric")


def test_path_keys_name_neither_the_sweep_nor_its_run_directories(tmp_path):
    """eval.floor_cache says where floors are kept, not what a run computes (issue 18, item 6)."""
    from genlab.sweep.plan import plan_sweep

    base = ["recipe=kde_gmm", "eval.m=64"]
    a = plan_sweep("kde_gmm", base, [16, 32], [0], tmp_path)
    b = plan_sweep("kde_gmm", [*base, "eval.floor_cache=/elsewhere/floors"], [16, 32], [0], tmp_path)
    assert a.sweep_dir == b.sweep_dir and a.identity() == b.identity()
    assert a.run_dir(16, 0) == b.run_dir(16, 0)
    assert "eval.floor_cache=/elsewhere/floors" in b.overrides  # the jobs still get it


def test_hydra_excludes_from_directory_names_the_keys_the_sweep_plan_does():
    """SweepPlan.run_dir must be the directory Hydra's override_dirname gives each job."""
    from pathlib import Path

    import yaml

    from genlab.config.identity import DIRNAME_FREE_KEYS

    cfg = yaml.safe_load((Path(__file__).resolve().parents[2] / "recipes" / "config.yaml").read_text())
    exclude = cfg["hydra"]["job"]["config"]["override_dirname"]["exclude_keys"]
    assert sorted(exclude) == sorted(DIRNAME_FREE_KEYS)
