"""A local diffusion sweep trained as replica-batched groups equals the same sweep run as one process per run.

Same run directories, same config.yaml (but for the sweep's own out_dir),
the same metrics.json (to float tolerance: 1e-6 relative, far inside every
CI; observed bit-identical), and the same one-line failures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from omegaconf import OmegaConf

from genlab.config.compose import ConfigError, compose_config
from genlab.sweep.setup import use_replicas as _replicas
from genlab.sweep.groups import plan_groups
from genlab.sweep.plan import collect, plan_sweep
from genlab.sweep.launch import launch

TINY = ["diffusion.steps=20", "diffusion.width=16", "diffusion.batch_size=32", "diffusion.likelihood_steps=4",
        "diffusion.sampler_steps=10", "diffusion.score_error_times=[]", "eval.m=200", "eval.reps=2",
        "eval.metrics=[tv,w1]", "eval.kde_reference=false", "eval.floor_cache=null", "device=cpu"]


def _sweep(tmp_path: Path, name: str, replicas: bool, overrides=TINY, xs=(64, 128), seeds=(0, 1)):
    plan = plan_sweep("diffusion_gmm", list(overrides), list(xs), list(seeds), tmp_path, str(tmp_path / name),
                      replicas=replicas)
    return plan, launch(plan, progress=False)


@pytest.mark.slow  # two sweeps of 4 tiny runs: about 30 s on 2 cores
def test_replica_batched_sweep_equals_one_process_per_run(tmp_path):
    batched, proc = _sweep(tmp_path, "batched", True)
    assert proc.returncode == 0, proc.stderr
    assert "genlab.sweep.groups" in (batched.sweep_dir / "sweep.log").read_text()
    alone, proc = _sweep(tmp_path, "alone", False)
    assert proc.returncode == 0, proc.stderr
    records, missing = collect(batched)
    assert missing == [] and len(records) == 4
    for x, s in batched.expected():
        a, b = batched.run_dir(x, s), alone.run_dir(x, s)
        assert a.name == b.name
        ca, cb = (yaml.safe_load((d / "config.yaml").read_text()) for d in (a, b))
        assert ca.pop("out_dir") == str(a) and cb.pop("out_dir") == str(b)
        assert ca == cb
        ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (a, b))
        assert ma.keys() == mb.keys()
        for k in ma:
            assert ma[k] == pytest.approx(mb[k], rel=1e-6, abs=1e-12), k
        assert json.loads((a / "timings.json").read_text())["train_replicas"] >= 1


def test_a_run_that_cannot_start_is_one_line_and_the_others_finish(tmp_path, unfinished_run_of_other_settings):
    plan = plan_sweep("diffusion_gmm", TINY, [64], [0, 1], tmp_path, str(tmp_path / "sweep"), replicas=True)
    victim = plan.run_dir(64, 1)
    unfinished_run_of_other_settings(victim, ["recipe=diffusion_gmm", *TINY, "n=64", "seed=1", "eval.m=100"])
    proc = launch(plan, progress=False)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert len(errors) == 2 and errors[0].endswith("belongs to a run with other settings; differing keys: "
                                                   "eval.m"), proc.stderr
    assert errors[1] == "error: 1 run(s) of the sweep failed"
    records, missing = collect(plan)
    assert missing == [(64, 1)] and len(records) == 1


def test_a_diverging_group_is_rerun_run_by_run_and_each_records_its_divergence(tmp_path):
    blowup = ["diffusion.steps=5", "diffusion.batch_size=32", "diffusion.lr=1e30", "diffusion.grad_clip=null",
              "diffusion.warmup_steps=0", "eval.floor_cache=null", "device=cpu"]
    plan, proc = _sweep(tmp_path, "nan", True, blowup, xs=[64], seeds=[0, 1, 2])
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.count("non-finite") == 3, proc.stderr
    for s in (0, 1, 2):
        mx = json.loads((plan.run_dir(64, s) / "metrics.json").read_text())
        assert mx["diverged"] == 1 and "tv" not in mx


def _cfg(*overrides):
    return OmegaConf.to_object(compose_config(["recipe=diffusion_gmm", *overrides]))


def test_groups_share_a_minibatch_size_and_parts_get_like_shares():
    cfgs = [_cfg(f"n={n}", f"seed={s}") for n in (250, 500, 2000, 4000, 8000) for s in (0, 1, 2)]
    groups = plan_groups(cfgs, memory_bytes=10**12)
    assert sorted(len(g) for g in groups) == [3, 3, 9]               # batch 250, 500, and 1024 for n >= 1024
    for g in groups:
        assert len({min(cfgs[i].n, 1024) for i in g}) == 1
    parts = [plan_groups(cfgs, part=k, parts=2, memory_bytes=10**12) for k in range(2)]
    flat = [sorted(i for g in p for i in g) for p in parts]
    assert sorted(flat[0] + flat[1]) == list(range(15)) and abs(len(flat[0]) - len(flat[1])) <= 1
    # memory for 1.5 of the smallest replicas (n = 250) in a group's share: every run alone
    from genlab.diffusion.replicas import replica_memory_bytes
    small = replica_memory_bytes(cfgs[0].diffusion, 2, 250)
    assert all(len(g) == 1 for g in plan_groups(cfgs, memory_bytes=int(1.5 * small / 0.5)))
    assert len(plan_groups(cfgs, memory_bytes=int(2.5 * small / 0.5))[0]) == 2


def test_replicas_are_used_for_a_local_learned_diffusion_sweep_only():
    node = compose_config(["recipe=diffusion_gmm"])
    assert _replicas(node, []) is True
    assert _replicas(node, ["hydra/launcher=joblib"]) is True
    assert _replicas(node, ["hydra/launcher=submitit_slurm"]) is False
    assert _replicas(compose_config(["recipe=diffusion_gmm", "rates.replicas=off"]), []) is False
    assert _replicas(compose_config(["recipe=kde_gmm"]), []) is False
    assert _replicas(compose_config(["recipe=diffusion_gmm", "diffusion.score=kde"]), []) is False
    with pytest.raises(ValueError, match="rates.replicas must be one of"):
        _replicas(compose_config(["recipe=diffusion_gmm", "rates.replicas=yes"]), [])
    assert issubclass(ConfigError, ValueError)
