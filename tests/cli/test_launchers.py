"""Sweeps through Hydra launchers: local parallel processes by default, submitit locally, SLURM composed.

A sweep is one ``train.py -m`` multirun whose jobs any launcher may spread;
aggregation reads the run directories alone, so it finds the runs whichever
launcher made them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from genlab.sweep.plan import collect, plan_sweep
from genlab.sweep.launch import launch

TINY = ["recipe=empirical_gmm", "eval.m=64", "eval.reps=2", "eval.metrics=[w1]", "eval.floor_cache=null",
        "device=cpu"]


def _two_job_sweep(tmp_path: Path, launcher: list[str]):
    plan = plan_sweep("empirical_gmm", TINY, [32], [0, 1], tmp_path, str(tmp_path / "sweep"), launcher)
    proc = launch(plan, progress=False)
    assert proc is not None and proc.returncode == 0, proc.stderr if proc else "nothing was launched"
    return plan


def _launcher_target(plan) -> str:
    """The launcher Hydra used, as recorded in the sweep's multirun.yaml."""
    return yaml.safe_load((plan.runs_dir / "multirun.yaml").read_text())["hydra"]["launcher"]["_target_"]


def _check_complete_and_collected(plan) -> None:
    records, missing = collect(plan)
    assert missing == []
    assert sorted(r.seed for r in records) == [0, 1]
    for r in records:
        assert r.config["n"] == 32 and r.config["seed"] == r.seed
        assert r.metrics["w1"] > 0 and r.metrics["w1_floor"] > 0
    for seed in (0, 1):
        d = plan.run_dir(32, seed)
        assert all((d / f).is_file() for f in ("config.yaml", "metrics.json", "samples.npz"))


def test_a_two_job_sweep_runs_as_local_parallel_processes_by_default(tmp_path):
    plan = _two_job_sweep(tmp_path, [])
    assert _launcher_target(plan).endswith("JoblibLauncher")
    _check_complete_and_collected(plan)
    # a rerun finds both runs complete and launches nothing
    assert launch(plan, progress=False) is None


def test_a_failed_job_is_one_line_the_other_finishes_and_the_run_is_named_missing(tmp_path, unfinished_run_of_other_settings):
    plan = plan_sweep("empirical_gmm", TINY, [8, 16], [0], tmp_path, str(tmp_path / "sweep"))
    # the checkpoint of an unfinished run with other settings, which the sweep's resume refuses: a
    # ValueError inside the job
    victim = plan.run_dir(16, 0)
    unfinished_run_of_other_settings(victim, TINY + ["n=16", "seed=0", "eval.reps=3"])
    proc = launch(plan, progress=False)
    # the job's one line, then the multirun's count; the failure in a worker process reaches the
    # multirun's exit status through a file in $GENLAB_SWEEP_FAILURES
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2 and errors[0].endswith("belongs to a run with other settings; differing keys: "
                                                   "eval.reps"), proc.stderr
    assert errors[1] == "error: 1 run(s) of the sweep failed"
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    records, missing = collect(plan)
    assert missing == [(16, 0)] and len(records) == 1    # the failure did not stop the other job


@pytest.mark.slow  # 12-20 s on 2 shared cores
def test_submitit_local_runs_a_sweep(tmp_path):
    plan = _two_job_sweep(tmp_path, ["hydra/launcher=submitit_local", "hydra.launcher.timeout_min=5"])
    assert _launcher_target(plan).endswith("submitit_launcher.LocalLauncher")
    _check_complete_and_collected(plan)


def test_the_readmes_slurm_command_composes_to_genlab_slurm(readme_slurm_launcher_args):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from genlab.config.compose import RECIPES_DIR
    from genlab.config import register_schema

    args = readme_slurm_launcher_args
    assert args[0] == "hydra/launcher=genlab_slurm"
    register_schema()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(RECIPES_DIR), version_base="1.3"):
            cfg = compose(config_name="config", return_hydra_config=True,
                          overrides=["recipe=diffusion_gmm", "out_dir=/sweep/runs", *args])
    finally:
        GlobalHydra.instance().clear()
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    given = dict(a.removeprefix("hydra.launcher.").split("=", 1) for a in args[1:])
    assert {k: str(launcher[k]) for k in given} == given
    # genlab_slurm's own settings: timeouts requeued, torch threads = the job's cores, jobs named by recipe
    assert launcher.max_num_timeout == 3 and launcher.cpus_per_task == 2
    assert launcher.setup == ["export OMP_NUM_THREADS=$SLURM_CPUS_PER_TASK MKL_NUM_THREADS=$SLURM_CPUS_PER_TASK"]
    assert launcher.name == "genlab-diffusion_gmm"
    # the jobs write where a local sweep writes, <out_dir>/<override_dirname>; SLURM's logs go beside them
    sweep = OmegaConf.to_container(cfg.hydra.sweep, resolve=False)
    assert sweep == {"dir": "${out_dir}", "subdir": "${hydra.job.override_dirname}"}
    assert launcher.submitit_folder == "/sweep/runs/.submitit/%j"
