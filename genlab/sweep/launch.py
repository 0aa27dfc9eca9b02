"""Launching a sweep's missing runs: a Hydra multirun of scripts/train.py, replica groups, or SLURM jobs.

A sweep's runs are started as ``train.py -m ... n=a,b,c seed=0,1,2`` so that
every point is a run made by the same code path as a single run, and any Hydra
launcher can spread it.  Every job runs with ``skip_complete=true`` and
``resume=true``: a complete run is skipped, and a run killed after a checkpoint
continues from it.

- **On this machine** (joblib, basic): one multirun over the whole grid (a
  complete run costs a reused worker a few ms to skip); a local sweep
  whose family can may instead train its runs as replica-batched groups in one process
  per core (``plan.replicas``, ``genlab.sweep.groups``).  Several sweeps (a
  recipe and its comparisons) run one after another, each on every core.
- **On SLURM** (``hydra/launcher=genlab_slurm`` or ``submitit_slurm``): only
  the missing runs are submitted, as the fewest grids that hold them and
  nothing else, every sweep's at once so that they queue together, and the
  launch waits for every job it submitted, also after one failed
  (`genlab.sweep.slurm`), naming each job that did not give its run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from genlab.core.files import METRICS_FILE, is_complete
from genlab.sweep.slurm import is_cluster_launcher, job_folders, job_problems, submitted_jobs, wait_for
from genlab.sweep.plan import SweepPlan, claim_sweep_dir, format_value

__all__ = ["LaunchResult", "launch", "launch_all", "missing_grids", "usable_cores"]

TRAIN_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train.py"


@dataclass
class LaunchResult:
    """How a sweep's launch ended: the worst exit status of its processes and their stderr, and one
    line per SLURM job that did not give its run (id, state, run, log)."""

    args: list
    returncode: int
    stderr: str
    job_problems: list[str] = field(default_factory=list)


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, which respects cgroup pinning)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def missing_grids(todo: list[tuple]) -> list[tuple[list, list[int]]]:
    """The (x, seed) pairs of ``todo`` as grids (xs, seeds) whose products hold exactly those pairs.

    A multirun sweeps a product of values; the x values missing the same seeds
    share one grid, so a sweep with one run missing submits one job, not the
    whole product.  Grids are in the order of their first pair in ``todo``.
    """
    seeds_of: dict = {}
    for x, s in todo:
        seeds_of.setdefault(x, []).append(s)
    grids: dict[tuple, list] = {}
    for x, seeds in seeds_of.items():
        grids.setdefault(tuple(seeds), []).append(x)
    return [(xs, list(seeds)) for seeds, xs in grids.items()]


def _fixed(plan: SweepPlan) -> list[str]:
    """What every job of a sweep gets besides the plan's overrides: no progress bars, a complete run
    is skipped, and a job killed after a checkpoint continues from it when the sweep is rerun (a
    checkpoint of other settings is still refused, naming the keys), as a single run does."""
    return [f"out_dir={plan.runs_dir}", "progress=false", "skip_complete=true", "resume=true"]


def _multirun(plan: SweepPlan, xs: list, seeds: list[int]) -> list[str]:
    return [sys.executable, str(TRAIN_SCRIPT), "-m", f"recipe={plan.recipe}", *plan.overrides,
            f"{plan.x_key}={','.join(map(format_value, xs))}", f"seed={','.join(map(str, seeds))}",
            *_fixed(plan), *plan.launcher_overrides]


def _commands(plan: SweepPlan, todo: list[tuple]) -> tuple[list[list[str]], dict | None]:
    """The processes that run ``todo``, and their environment (None: this one's).

    On SLURM one multirun per grid of `missing_grids`; on this machine one
    multirun over the whole grid, or, for ``plan.replicas``, P = min(cores, jobs)
    ``genlab.sweep.groups`` processes, part k of P each, on cores // P threads:
    like the joblib launcher's one process per core, with each process training
    its share of the runs as replica-batched groups.
    """
    if is_cluster_launcher(plan.launcher_overrides):
        return [_multirun(plan, xs, seeds) for xs, seeds in missing_grids(todo)], None
    if not plan.replicas:
        return [_multirun(plan, plan.xs, plan.seeds)], None
    import json

    # the same overrides as each Hydra job gets, so config.yaml is the same either way
    jobs = {"recipe": plan.recipe, "overrides": plan.overrides, "x_key": plan.x_key, "fixed": _fixed(plan),
            "jobs": [{"x": format_value(x), "seed": s, "run_dir": str(plan.run_dir(x, s))} for x, s in todo]}
    spec = plan.sweep_dir / "replica_jobs.json"
    spec.write_text(json.dumps(jobs, indent=1))
    cores = usable_cores()
    parts = max(1, min(cores, len(todo)))
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, cores // parts)),
           "MKL_NUM_THREADS": str(max(1, cores // parts))}
    return [[sys.executable, "-m", "genlab.sweep.groups", str(spec), f"--part={k}/{parts}"]
            for k in range(parts)], env


def _todo(plan: SweepPlan) -> list[tuple]:
    return [(x, s) for x, s in plan.expected() if not is_complete(plan.run_dir(x, s))]


def launch(plan: SweepPlan, *, progress: bool = True) -> LaunchResult | None:
    """Run the jobs of ``plan`` that are not complete yet; return None if all were."""
    return launch_all([plan], progress=progress)[0]


def launch_all(plans: list[SweepPlan], *, progress: bool = True) -> list[LaunchResult | None]:
    """`launch` for each plan: one after another on this machine, all at once on SLURM.

    On SLURM the launch then waits for every job it submitted (a multirun ends
    at its first failed job while the others still run) and lists, in each
    plan's result, the jobs that did not give their run.
    """
    if all(is_cluster_launcher(p.launcher_overrides) for p in plans):
        return _launch_together(plans, progress)
    return [_launch_together([p], progress)[0] for p in plans]


def _complete_count(plans: list[SweepPlan]) -> int:
    """For the progress bar only: the presence of metrics.json, cheap to poll."""
    return sum((p.run_dir(x, s) / METRICS_FILE).is_file() for p in plans for x, s in p.expected())


@dataclass
class _Started:
    """One plan's processes while they run: commands, processes with their stderr files, the sweep
    log they write to, and the SLURM job folders there were before (the new ones are theirs)."""

    plan: SweepPlan
    cmds: list
    procs: list
    log: object
    jobs_before: set


def _start(plan: SweepPlan, todo: list[tuple]) -> _Started:
    claim_sweep_dir(plan)
    cmds, env = _commands(plan, todo)
    before = job_folders(plan.runs_dir)
    log = open(plan.sweep_dir / "sweep.log", "a")
    procs = []
    for cmd in cmds:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        err = tempfile.TemporaryFile("w+")  # a file, not a pipe: a chatty job cannot block on it
        procs.append((subprocess.Popen(cmd, stdout=log, stderr=err, text=True, env=env), err))
    return _Started(plan, cmds, procs, log, before)


def _finish(run: _Started, jobs: list) -> LaunchResult:
    """Close ``run``'s files, append the stderr of its processes to its sweep log, and name its failed jobs."""
    stderr = ""
    for _, err in run.procs:
        err.seek(0)
        stderr += err.read()
        err.close()
    run.log.write(stderr)
    run.log.close()
    problems = job_problems(jobs, (run.plan.x_key, "seed"), _run_complete(run.plan)) if jobs else []
    return LaunchResult(run.cmds, max(proc.returncode for proc, _ in run.procs), stderr, problems)


def _launch_together(plans: list[SweepPlan], progress: bool) -> list[LaunchResult | None]:
    todos = [_todo(p) for p in plans]
    if not any(todos):
        return [None] * len(plans)
    total = sum(len(p.expected()) for p in plans)
    done = [total - sum(len(t) for t in todos)]
    desc = "sweep " + " + ".join(p.recipe for p in plans)
    with tqdm(total=total, desc=desc, unit="run", disable=not progress, initial=done[0]) as bar:
        def poll() -> None:
            now = _complete_count(plans)
            if now > done[0]:
                bar.update(now - done[0])
                done[0] = now

        runs = [_start(p, todo) for p, todo in zip(plans, todos) if todo]
        procs = [entry for r in runs for entry in r.procs]
        try:
            while any(proc.poll() is None for proc, _ in procs):
                time.sleep(0.5)
                poll()
            jobs = [submitted_jobs(r.plan.runs_dir, r.jobs_before)
                    if is_cluster_launcher(r.plan.launcher_overrides) else [] for r in runs]
            wait_for([j for js in jobs for j in js], on_poll=poll)
        except KeyboardInterrupt:  # stop every process (each job keeps its checkpoint) before passing it on
            _stop(procs)
            for r in runs:
                r.log.close()
            raise
        poll()
    finished = iter([_finish(r, js) for r, js in zip(runs, jobs)])
    return [next(finished) if todo else None for todo in todos]


def _run_complete(plan: SweepPlan):
    """``run_complete(overrides)`` for `genlab.sweep.slurm.job_problems`: is the run those overrides name
    complete (None, unknown overrides: no)."""
    def run_complete(overrides: list[str] | None) -> bool:
        if overrides is None:
            return False
        values = dict(o.split("=", 1) for o in overrides if "=" in o)
        try:
            return is_complete(plan.run_dir(float(values[plan.x_key]), int(values["seed"])))
        except (KeyError, ValueError):
            return False
    return run_complete


def _stop(procs, grace: float = 10.0) -> None:
    """SIGINT to the processes still running (a terminal's Ctrl-C has sent it already), then SIGKILL after
    ``grace`` s.  (SLURM jobs already submitted keep running: ``scancel`` them, or rerun the sweep.)"""
    import signal

    for p, _ in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    for p, err in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        err.close()
