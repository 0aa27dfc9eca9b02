"""What a sweep submits where, without a cluster: the grids of missing runs, the SLURM launcher's
settings, the memory a job needs.  (On a real cluster: tests/slurm.)"""

from __future__ import annotations

import itertools

import pytest
from omegaconf import OmegaConf

from genlab.sweep.memory import BASE_BYTES, BYTES_PER_PAIR, exact_transport_pairs, run_need_bytes
from genlab.sweep.slurm import is_cluster_launcher
from genlab.sweep.plan import plan_sweep
from genlab.sweep.launch import _commands, missing_grids


def _pairs(grids) -> list[tuple]:
    return sorted(p for xs, seeds in grids for p in itertools.product(xs, seeds))


@pytest.mark.parametrize("todo", [
    [(16, 0)],
    [(16, 0), (16, 1), (32, 0), (32, 1)],
    [(16, 1), (32, 0), (32, 1), (64, 1)],
    [(8, 0), (16, 2), (32, 0), (64, 2), (64, 3)],
])
def test_missing_grids_hold_exactly_the_missing_runs(todo):
    grids = missing_grids(todo)
    assert _pairs(grids) == sorted(todo)                    # every missing run once, no complete one
    assert len(grids) == len({tuple(s for x2, s in todo if x2 == x) for x, _ in todo})


def test_one_missing_run_is_one_slurm_job_and_a_local_sweep_keeps_its_grid(tmp_path):
    slurm = plan_sweep("empirical_gmm", ["eval.m=64"], [8, 16], [0, 1], tmp_path, str(tmp_path / "s"),
                       ["hydra/launcher=genlab_slurm"])
    cmds, _ = _commands(slurm, [(16, 1)])
    assert len(cmds) == 1 and "n=16" in cmds[0] and "seed=1" in cmds[0]
    cmds, _ = _commands(slurm, [(8, 1), (16, 0), (16, 1)])
    grids = sorted((next(a for a in c if a.startswith("n=")), next(a for a in c if a.startswith("seed=")))
                   for c in cmds)
    assert grids == [("n=16", "seed=0,1"), ("n=8", "seed=1")]
    local = plan_sweep("empirical_gmm", ["eval.m=64"], [8, 16], [0, 1], tmp_path, str(tmp_path / "l"))
    cmds, _ = _commands(local, [(16, 1)])
    assert len(cmds) == 1 and "n=8,16" in cmds[0] and "seed=0,1" in cmds[0]


def test_cluster_launchers_are_the_slurm_ones():
    assert is_cluster_launcher(["hydra/launcher=genlab_slurm"])
    assert is_cluster_launcher(["hydra/launcher=submitit_slurm", "hydra.launcher.partition=cpu"])
    assert not is_cluster_launcher(["hydra/launcher=submitit_local"])
    assert not is_cluster_launcher(["hydra/launcher=joblib"]) and not is_cluster_launcher([])


def _cfg(**kw):
    base = {"estimator": "diffusion", "n": 8000, "eval": {"m": 8000, "metrics": ["w1"]}}
    base.update(kw)
    return OmegaConf.create(base)


def test_memory_need_counts_the_largest_exact_transport_problem():
    # the floor, m x m, unless cached; the model's own score, m x m (n x m for the empirical measure)
    assert exact_transport_pairs(_cfg(), 3, floor_cached=False) == 8000 * 8000
    assert exact_transport_pairs(_cfg(estimator="empirical", n=128), 3, floor_cached=True) == 128 * 8000
    assert exact_transport_pairs(_cfg(estimator="empirical", n=128), 3, floor_cached=False) == 8000 * 8000
    assert exact_transport_pairs(_cfg(), 1, floor_cached=False) == 0          # 1-D: by sorting
    assert exact_transport_pairs(_cfg(eval={"m": 8000, "metrics": ["sliced_w1", "tv"]}), 3, False) == 0
    # a lower bound, close to the measurement it was calibrated on (job_memory's docstring):
    # empirical_uniform at eval.m = 8000 peaked at 2.781 GiB computing its floor, 0.376 GiB with it cached
    cold = run_need_bytes(_cfg(estimator="empirical", n=128), 3, floor_cached=False) / 2**30
    warm = run_need_bytes(_cfg(estimator="empirical", n=128), 3, floor_cached=True) / 2**30
    assert 0.95 * 2.781 < cold <= 2.781 and 0.9 * 0.376 < warm <= 0.376
    assert BASE_BYTES / 2**30 == 0.33 and BYTES_PER_PAIR == 40


def test_rates_warns_before_submitting_jobs_given_less_memory_than_a_run_needs(tmp_path):
    from genlab.sweep.memory import memory_warnings as _memory_warnings

    cache = f"eval.floor_cache={tmp_path / 'floors'}"    # empty: every run would compute its floor
    plan = plan_sweep("empirical_uniform", [cache], [16, 256], [0], tmp_path, str(tmp_path / "s"),
                      ["hydra/launcher=genlab_slurm"])
    (line,) = _memory_warnings([plan], ["hydra/launcher=genlab_slurm", "hydra.launcher.mem_gb=1"])
    assert line.startswith("empirical_uniform: a run at n = 256 needs at least 2.71 GiB (it computes its floor")
    assert "hydra.launcher.mem_gb = 1" in line
    assert _memory_warnings([plan], ["hydra/launcher=genlab_slurm"]) == []     # its default, 4 GB, suffices
    assert _memory_warnings([plan], ["hydra/launcher=genlab_slurm", "hydra.launcher.mem_gb=3"]) == []
    assert _memory_warnings([plan], ["hydra/launcher=submitit_slurm"]) == []   # no mem_gb: the cluster's
    assert _memory_warnings([plan], ["hydra.launcher.mem_gb=1"]) == []          # local: no job limit


class _FakeJob:
    """What job_problems reads of a submitit SlurmJob: its id, state (from sacct), submission, stderr."""

    def __init__(self, tmp_path, job_id, state, overrides, stderr):
        from types import SimpleNamespace

        self.job_id = job_id
        self.watcher = SimpleNamespace(get_state=lambda job_id, mode="standard": state)
        self.paths = SimpleNamespace(stderr=tmp_path / f"{job_id}_0_log.err")
        self.paths.stderr.write_text(stderr)
        self._overrides = overrides

    def submission(self):
        from types import SimpleNamespace

        return SimpleNamespace(args=(self._overrides, "hydra.sweep.dir", 0))


def test_job_problems_name_the_jobs_that_did_not_give_their_run(tmp_path):
    from genlab.sweep.slurm import job_problems

    ok = _FakeJob(tmp_path, "7_0", "COMPLETED", ["recipe=x", "n=16", "seed=0"], "")
    cancelled = _FakeJob(tmp_path, "7_1", "CANCELLED by 0", ["recipe=x", "n=16", "seed=1"],
                         "srun: got SIGCONT\nsrun: Force Terminated StepId=7.0\n")
    refused = _FakeJob(tmp_path, "7_2", "COMPLETED", ["recipe=x", "n=32", "seed=0"],
                       "some output\nerror: run directory R is in use by pid 12 on vm\n")
    timed_out_as_it_ended = _FakeJob(tmp_path, "7_3", "FAILED", ["recipe=x", "n=32", "seed=1"], "")
    complete = {("n=16", "seed=0"), ("n=32", "seed=1")}
    lines = job_problems([ok, cancelled, refused, timed_out_as_it_ended], ("n", "seed"),
                         lambda ov: ov is not None and (ov[1], ov[2]) in complete)
    assert lines == [
        f"job 7_1 (n=16 seed=1): CANCELLED by 0 (log {cancelled.paths.stderr})",
        f"job 7_2 (n=32 seed=0): COMPLETED: error: run directory R is in use by pid 12 on vm (log {refused.paths.stderr})",
    ]
