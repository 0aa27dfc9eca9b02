"""A sweep over (n, seed) as a Hydra multirun of scripts/train.py, and its aggregation.

The sweep is launched as ``train.py -m ... n=a,b,c seed=0,1,2`` so that every
point is a run made by the same code path as a single run, and any Hydra
launcher (local processes, SLURM) can spread it.  Each job writes to
``<sweep_dir>/runs/<overrides>`` -- a name fixed by its overrides, so a rerun
finds the complete runs (those with ``metrics.json``) and skips them.
Aggregation reads the run directories alone, so a sweep spread over a
cluster aggregates exactly like a local one, and it names the runs that are
missing instead of fitting around them silently.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from tqdm import tqdm

from genlab.runs import CONFIG_FILE, METRICS_FILE

__all__ = ["SweepPlan", "plan_sweep", "launch", "collect", "RunRecord", "write_rates_csv"]

TRAIN_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "train.py"


@dataclass
class SweepPlan:
    """What to run: one recipe, its overrides, the grid of n and seeds, and where."""

    recipe: str
    overrides: list[str]
    ns: list[int]
    seeds: list[int]
    sweep_dir: Path
    launcher_overrides: list[str] = field(default_factory=list)

    @property
    def runs_dir(self) -> Path:
        return self.sweep_dir / "runs"

    def run_dir(self, n: int, seed: int) -> Path:
        """The directory Hydra gives job (n, seed): its sorted overrides, as override_dirname."""
        items = sorted(self._dirname_overrides() + [f"n={n}", f"seed={seed}"])
        return self.runs_dir / ",".join(items)

    def _dirname_overrides(self) -> list[str]:
        skip = ("out_dir=", "progress=", "device=", "skip_complete=")
        return [o for o in self.overrides if not o.startswith(skip)]

    def expected(self) -> list[tuple[int, int]]:
        return [(n, s) for n in self.ns for s in self.seeds]


def plan_sweep(recipe: str, overrides: list[str], ns: list[int], seeds: list[int],
               root: Path, out_dir: str | None = None, launcher_overrides=()) -> SweepPlan:
    """A plan whose directory is ``out_dir`` or ``<root>/runs/<recipe>/rates-<hash>``.

    The hash covers the recipe and the overrides that change a run (not n or
    seeds), so rerunning a command resumes its own sweep and a changed
    setting starts a new one.
    """
    # recipe= is added by launch; rates.* configure this sweep, hydra* go to the launcher
    run_overrides = [o for o in overrides if not o.startswith(("rates.", "hydra", "recipe="))]
    # a key given twice: the last value wins, as in Hydra (and only it names the job's directory)
    run_overrides = list({o.split("=", 1)[0]: o for o in run_overrides}.values())
    key = json.dumps([recipe, sorted(run_overrides)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    sweep_dir = Path(out_dir) if out_dir else root / "runs" / recipe / f"rates-{digest}"
    return SweepPlan(recipe=recipe, overrides=run_overrides, ns=list(ns), seeds=list(seeds),
                     sweep_dir=sweep_dir.absolute(), launcher_overrides=list(launcher_overrides))


def launch(plan: SweepPlan, *, progress: bool = True) -> subprocess.CompletedProcess | None:
    """Run the jobs of ``plan`` that are not complete yet; return None if all were."""
    todo = [(n, s) for n, s in plan.expected() if not (plan.run_dir(n, s) / METRICS_FILE).is_file()]
    if not todo:
        return None
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(TRAIN_SCRIPT), "-m", f"recipe={plan.recipe}", *plan.overrides,
           f"n={','.join(map(str, plan.ns))}", f"seed={','.join(map(str, plan.seeds))}",
           f"out_dir={plan.runs_dir}", "progress=false", "skip_complete=true",
           *plan.launcher_overrides]
    log_path = plan.sweep_dir / "sweep.log"
    total = len(plan.expected())
    with open(log_path, "a") as log, tqdm(total=total, desc=f"sweep {plan.recipe}", unit="run",
                                          disable=not progress, initial=total - len(todo)) as bar:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.PIPE, text=True)
        done = total - len(todo)
        while proc.poll() is None:
            time.sleep(0.5)
            now = sum((plan.run_dir(n, s) / METRICS_FILE).is_file() for n, s in plan.expected())
            if now > done:
                bar.update(now - done)
                done = now
        stderr = proc.stderr.read()
        now = sum((plan.run_dir(n, s) / METRICS_FILE).is_file() for n, s in plan.expected())
        if now > done:
            bar.update(now - done)
        log.write(stderr)
    return subprocess.CompletedProcess(cmd, proc.returncode, "", stderr)


@dataclass
class RunRecord:
    recipe: str
    n: int
    seed: int
    metrics: dict
    config: dict


def collect(plan: SweepPlan) -> tuple[list[RunRecord], list[tuple[int, int]]]:
    """The complete runs of ``plan`` and the (n, seed) pairs that are missing."""
    records, missing = [], []
    for n, s in plan.expected():
        d = plan.run_dir(n, s)
        if not (d / METRICS_FILE).is_file():
            missing.append((n, s))
            continue
        records.append(RunRecord(recipe=plan.recipe, n=n, seed=s,
                                 metrics=json.loads((d / METRICS_FILE).read_text()),
                                 config=yaml.safe_load((d / CONFIG_FILE).read_text())))
    return records, missing


def metric_table(records: list[RunRecord], metric: str, ns: list[int], seeds: list[int]):
    """Arrays (k, S) of values and floors of ``metric`` (NaN where a run or a floor is missing)."""
    values = np.full((len(ns), len(seeds)), np.nan)
    floors = np.full((len(ns), len(seeds)), np.nan)
    index_n = {n: i for i, n in enumerate(ns)}
    index_s = {s: j for j, s in enumerate(seeds)}
    for r in records:
        mx = r.metrics
        if mx.get(metric) is None:
            continue
        i, j = index_n[r.n], index_s[r.seed]
        values[i, j] = mx[metric]
        floor = mx.get(f"{metric}_floor")
        floors[i, j] = np.nan if floor is None else floor
    return values, floors


def write_rates_csv(path: Path, records: list[RunRecord], metrics: list[str]) -> None:
    """One row per run and metric: recipe, n, seed, metric, value, floor, ci_low, ci_high."""
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["recipe", "n", "seed", "metric", "value", "floor", "ci_low", "ci_high"])
        for r in sorted(records, key=lambda r: (r.recipe, r.n, r.seed)):
            for m in metrics:
                if r.metrics.get(m) is None:
                    continue
                w.writerow([r.recipe, r.n, r.seed, m, r.metrics[m], r.metrics.get(f"{m}_floor", ""),
                            r.metrics.get(f"{m}_ci_low", ""), r.metrics.get(f"{m}_ci_high", "")])
    tmp.replace(path)
