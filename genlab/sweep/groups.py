"""The jobs of a local sweep trained as replica-batched groups (issue 7).

``scripts/rates.py`` runs a sweep this way when its family can train several
runs as one batched model (`genlab.core.family.ReplicaFit`), its runs can share
one (``replicas.replicable``) and the launcher is local: ``python -m genlab.sweep.groups <jobs.json>``, where the file holds
the recipe, the overrides and one (x, seed, run_dir) per job.  Each job's
config is composed from exactly the overrides its Hydra job would get, so
config.yaml is the same; jobs whose keys (``replicas.key``: settings and
minibatch size) agree form a group, split so that the groups fit in half the
available memory (``replicas.memory_bytes``); each group trains as one batched
model, then every run is evaluated and written by the same code as a single
run (`genlab.run.pipeline.evaluate`, `write`).  A group in which a replica
diverges is rerun job by job, so that each run ends exactly as it would alone
(a result, or its own divergence record).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

from genlab.config.compose import ConfigError, compose_config
from genlab.core.device import available_memory_bytes
from genlab.core.files import is_complete
from genlab.core.validation import error_line
from genlab.families import get_family
from genlab.run.guard import unlock_run_dir
from genlab.run.pipeline import evaluate, prepare, run, write
from genlab.run.report import RunResult
from genlab.training import TrainingDiverged

__all__ = ["run_group", "plan_groups", "main", "MEMORY_FRACTION"]

#: the share of the available memory the replicas of one group may take
MEMORY_FRACTION = 0.5


def run_group(cfgs: list, run_dirs: list[Path], *, progress: bool = False) -> list[RunResult | None]:
    """Fit the runs ``cfgs`` (one family, equal `ReplicaFit.key`) as one batched model; evaluate each.

    Returns each run's result; None for a run that failed (its one-line
    message is printed to stderr).  Each run's directory is locked from its
    `prepare` until it is written, and released however the group ends.
    """
    try:
        return _run_group(cfgs, run_dirs, progress=progress)
    finally:
        for d in run_dirs:
            unlock_run_dir(d)


def _run_group(cfgs: list, run_dirs: list[Path], *, progress: bool) -> list[RunResult | None]:
    preps = {}
    for i, (c, d) in enumerate(zip(cfgs, run_dirs)):
        try:
            preps[i] = prepare(c, d)
        except ValueError as exc:  # this run cannot start (e.g. an unfinished run's checkpoint is there)
            _error(exc)
    results: list[RunResult | None] = [None] * len(cfgs)
    if not preps:
        return results
    replicas = get_family(cfgs[0].estimator).replicas
    t_fit = time.perf_counter()
    try:
        models = replicas.fit([p.cfg for p in preps.values()], [p.x_train for p in preps.values()],
                              [p.cfg.seed for p in preps.values()], device=next(iter(preps.values())).device,
                              progress=progress)
    except TrainingDiverged as exc:
        print(f"replica {exc.replica} of a group of {len(preps)} diverged; rerunning the group run by run",
              flush=True)
        for i in preps:
            results[i] = _run_alone(cfgs[i], run_dirs[i])
        return results
    train_seconds = time.perf_counter() - t_fit
    for (i, prep), model in zip(preps.items(), models):
        t = time.perf_counter()
        fitted = replicas.fitted(prep.cfg, model, prep.truth, m=prep.cfg.eval.m, sample_generator=prep.sample_gen)
        fit_seconds = train_seconds + time.perf_counter() - t
        # wall_seconds: the group's training, then this run's evaluation
        results[i] = write(prep, fitted, evaluate(prep, fitted), fit_seconds=fit_seconds, wall_start=t - train_seconds)
        print(results[i].headline(), flush=True)
    return results


def _error(exc: BaseException) -> None:
    print(error_line(exc), file=sys.stderr, flush=True)


def _run_alone(cfg, run_dir: Path) -> RunResult | None:
    try:
        result = run(cfg, run_dir, progress=False)
    except (ValueError, TrainingDiverged) as exc:
        _error(exc)
        return None
    print(result.headline(), flush=True)
    return result


def plan_groups(cfgs: list, *, part: int = 0, parts: int = 1, memory_bytes: int | None = None) -> list[list[int]]:
    """Indices of ``cfgs`` that part ``part`` of ``parts`` trains, grouped by ``replica_key``.

    The runs, ordered by key and then by decreasing n, are dealt round-robin
    to the ``parts`` processes, so each gets a like share of every kind of run
    (and counts differ by at most one).  A group holds at most
    floor(MEMORY_FRACTION * memory / parts / per-replica bytes) runs (at least one).
    """
    memory = (available_memory_bytes() if memory_bytes is None else memory_bytes) / parts
    replicas = [get_family(c.estimator).replicas for c in cfgs]
    keys = [(c.estimator, c.device) + r.key(c) for c, r in zip(cfgs, replicas)]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}     # keys in order of first appearance
    order = sorted(range(len(cfgs)), key=lambda i: (first[keys[i]], -cfgs[i].n, cfgs[i].seed))
    by_key: dict[tuple, list[int]] = {}
    for i in order[part::parts]:
        by_key.setdefault(keys[i], []).append(i)
    groups = []
    for idx in by_key.values():
        per = max(replicas[i].memory_bytes(cfgs[i], int(cfgs[i].truth.dim or 2)) for i in idx)
        size = max(1, int(MEMORY_FRACTION * memory // per))
        groups += [idx[k:k + size] for k in range(0, len(idx), size)]
    return groups


def _compose(job: dict, spec: dict):
    overrides = [f"recipe={spec['recipe']}", *spec["overrides"], f"{spec['x_key']}={job['x']}",
                 f"seed={job['seed']}", *spec["fixed"]]
    cfg = OmegaConf.to_object(compose_config(overrides))
    cfg.out_dir = job["run_dir"]
    return cfg


def main(argv: list[str] | None = None) -> int:
    """Run part k of P (``--part=k/P``, default 0/1) of the jobs of ``argv[0]``; 1 if any failed.

    The JSON file holds recipe, overrides, x_key, fixed (overrides every job
    gets) and jobs (x, seed, run_dir each).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    part, parts = 0, 1
    for a in argv[1:]:
        if a.startswith("--part="):
            part, parts = (int(v) for v in a.split("=", 1)[1].split("/"))
    spec = json.loads(Path(argv[0]).read_text())
    cfgs, dirs, failed = [], [], 0
    for job in spec["jobs"]:
        if is_complete(Path(job["run_dir"])):
            continue
        try:
            cfgs.append(_compose(job, spec))
            dirs.append(Path(job["run_dir"]))
        except (ConfigError, ValueError) as exc:
            if part == 0:  # every part composes every job to plan its share; one reports the failure
                print(error_line(f"{spec['x_key']}={job['x']} seed={job['seed']}: {exc}"), file=sys.stderr,
                      flush=True)
                failed += 1
    for group in plan_groups(cfgs, part=part, parts=parts):
        print(f"training {len(group)} run(s) as one replica-batched network: "
              + ", ".join(f"n={cfgs[i].n} seed={cfgs[i].seed}" for i in group), flush=True)
        try:
            results = run_group([cfgs[i] for i in group], [dirs[i] for i in group])
        except (ValueError, TrainingDiverged) as exc:
            _error(exc)
            failed += len(group)
            continue
        failed += sum(r is None for r in results)
    if failed:
        print(error_line(f"{failed} run(s) of the sweep failed"), file=sys.stderr, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the sweep's parent stops its jobs with SIGINT: one line, not a traceback
        _error("interrupted (SIGINT): the runs written so far are complete; the others keep their checkpoints")
        sys.exit(130)
