"""A sweep over (x, seed) as a Hydra multirun of scripts/train.py: its plan, directory and aggregation.

x is the training size n unless the sweep names another key (``rates.x``, e.g.
a sampler's number of steps for a discretisation study).  Every point is a
run made by the same code path as a single run (``genlab.sweep.launch``
starts them, through any Hydra launcher).  Each job writes to
``<sweep_dir>/runs/<overrides>`` -- a name fixed by its overrides, so a rerun
finds the complete runs and skips them, and continues a killed run from its
checkpoint.  Aggregation reads the run directories alone, so a sweep spread
over a cluster aggregates exactly like a local one, and it names the runs
that are missing instead of fitting around them silently.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from genlab.config.identity import DIRNAME_FREE_KEYS, PATH_KEYS
from genlab.core.files import CONFIG_FILE, atomic_write_text, ensure_writable_dir, is_complete, read_metrics

__all__ = ["SweepPlan", "plan_sweep", "check_sweep_dir", "claim_sweep_dir", "SWEEP_FILE", "collect", "RunRecord",
           "write_rates_csv", "format_value", "hydra_spelling", "metric_table"]

def _identity_overrides(overrides: list[str]) -> list[str]:
    return sorted(o for o in overrides if o.split("=", 1)[0].lstrip("+") not in PATH_KEYS)


#: the longest file name most file systems take (ext4, xfs, NFS)
MAX_NAME_BYTES = 255


def hydra_spelling(overrides: list[str]) -> list[str]:
    """``key=value`` as Hydra's basic sweeper writes each job's overrides (and so its directory)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    return [f"{o.get_key_element()}={o.get_value_element_as_str()}" for o in parsed]


def format_value(v) -> str:
    """A swept value as it is written on the command line: 64, not 64.0 (an int key refuses 64.0)."""
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


@dataclass
class SweepPlan:
    """What to run: one recipe, its overrides, the grid of x values (n by default) and seeds, and where."""

    recipe: str
    overrides: list[str]
    xs: list
    seeds: list[int]
    sweep_dir: Path
    launcher_overrides: list[str] = field(default_factory=list)
    x_key: str = "n"
    #: train the jobs as replica-batched groups in one local process (``genlab.sweep.groups``)
    replicas: bool = False

    @property
    def runs_dir(self) -> Path:
        return self.sweep_dir / "runs"

    def run_dir(self, x, seed: int) -> Path:
        """The directory Hydra gives job (x, seed): its sorted overrides, as override_dirname.

        Hydra's sweeper writes each value back in its own spelling (``false`` becomes
        ``False``, ``1e-3`` becomes ``0.001``), so the overrides are parsed and
        re-spelled the same way before they are joined.
        """
        items = sorted(hydra_spelling(self._dirname_overrides()
                                      + [f"{self.x_key}={format_value(x)}", f"seed={seed}"]))
        return self.runs_dir / ",".join(items)

    def _dirname_overrides(self) -> list[str]:
        skip = tuple(f"{k}=" for k in DIRNAME_FREE_KEYS)
        return [o for o in self.overrides if not o.startswith(skip)]

    def expected(self) -> list[tuple]:
        return [(x, s) for x in self.xs for s in self.seeds]

    def identity(self) -> dict:
        """What makes this sweep this one: the recipe, the run overrides and the swept key (not its
        values or the seeds, which a rerun may extend), as in the default directory's hash."""
        return {"recipe": self.recipe, "overrides": _identity_overrides(self.overrides), "x_key": self.x_key}


#: the file in a sweep directory that names the sweep it holds (`SweepPlan.identity`)
SWEEP_FILE = "sweep.json"


def check_sweep_dir(plan: SweepPlan) -> None:
    """Refuse (ValueError, one line) a sweep directory that is not a writable directory or holds another sweep.

    Another sweep's rates.json, rates.csv, tables and figures would be
    overwritten by this one's.  The sweep a directory holds is read from its
    sweep.json, or, for a directory written before sweep.json existed, from
    the recipe named in its runs' config.yaml.
    """
    d = plan.sweep_dir
    if not d.exists():
        return
    if not d.is_dir():
        raise ValueError(f"rates.out_dir {d} is a file, not a directory; choose another rates.out_dir")
    ensure_writable_dir(d, "rates.out_dir")
    mine = plan.identity()
    try:
        theirs = json.loads((d / SWEEP_FILE).read_text())
    except FileNotFoundError:
        names = {(yaml.safe_load(c.read_text()) or {}).get("name") for c in d.glob(f"runs/*/{CONFIG_FILE}")}
        other = sorted(str(n) for n in names - {plan.recipe})
        if other:
            raise ValueError(f"rates.out_dir {d} holds runs of recipe {other[0]}, not {plan.recipe}; "
                             f"choose another rates.out_dir") from None
        return
    except (OSError, ValueError) as exc:
        raise ValueError(f"rates.out_dir {d}: cannot read its {SWEEP_FILE}: {' '.join(str(exc).split())}") from None
    if theirs != mine:
        diff = [f"{k} {theirs.get(k)!r} there, {mine[k]!r} here" for k in mine if theirs.get(k) != mine[k]]
        raise ValueError(f"rates.out_dir {d} holds another sweep ({'; '.join(diff)}); "
                         f"choose another rates.out_dir")


def claim_sweep_dir(plan: SweepPlan) -> None:
    """Create the sweep directory and write its sweep.json (after `check_sweep_dir` passed)."""
    plan.sweep_dir.mkdir(parents=True, exist_ok=True)
    if not (plan.sweep_dir / SWEEP_FILE).is_file():
        atomic_write_text(plan.sweep_dir / SWEEP_FILE, json.dumps(plan.identity(), indent=1) + "\n")


def plan_sweep(recipe: str, overrides: list[str], xs: list, seeds: list[int],
               root: Path, out_dir: str | None = None, launcher_overrides=(), x_key: str = "n",
               replicas: bool = False) -> SweepPlan:
    """A plan whose directory is ``out_dir`` or ``<root>/runs/<recipe>/rates-<hash>``.

    The hash covers the recipe, the swept key (unless it is n) and the
    overrides that change a run (not x or seeds), so rerunning a command
    resumes its own sweep and a changed setting starts a new one.
    """
    # recipe= is added by launch; rates.* configure this sweep, hydra* go to the launcher; every
    # job resumes (resume=true is the sweep's own), so a resume= given here does not name a new sweep
    run_overrides = [o for o in overrides if not o.startswith(("rates.", "hydra", "recipe=", "resume="))]
    # a key given twice: the last value wins, as in Hydra (and only it names the job's directory)
    run_overrides = list({o.split("=", 1)[0]: o for o in run_overrides
                          if o.split("=", 1)[0] != x_key}.values())
    key = json.dumps([recipe, _identity_overrides(run_overrides)] + ([] if x_key == "n" else [x_key]))
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    sweep_dir = Path(out_dir) if out_dir else root / "runs" / recipe / f"rates-{digest}"
    plan = SweepPlan(recipe=recipe, overrides=run_overrides, xs=list(xs), seeds=list(seeds),
                     sweep_dir=sweep_dir.absolute(), launcher_overrides=list(launcher_overrides),
                     x_key=x_key, replicas=replicas)
    longest = max((plan.run_dir(x, s).name for x, s in plan.expected()), key=len, default="")
    if len(longest.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"sweep of {recipe}: its run directories would be named by their overrides, "
                         f"{len(longest.encode())} bytes (the limit is {MAX_NAME_BYTES}): give fewer "
                         f"overrides on the command line, or put them in a recipe")
    return plan


@dataclass
class RunRecord:
    """One complete run of a sweep: its swept value x (the n of a sample-size sweep), seed, files."""

    recipe: str
    x: float
    seed: int
    metrics: dict
    config: dict


def collect(plan: SweepPlan) -> tuple[list[RunRecord], list[tuple[int, int]]]:
    """The complete runs of ``plan`` and the (x, seed) pairs that are missing."""
    records, missing = [], []
    for x, s in plan.expected():
        d = plan.run_dir(x, s)
        if not is_complete(d):  # absent, or damaged from outside (runs.metrics_problem)
            missing.append((x, s))
            continue
        records.append(RunRecord(recipe=plan.recipe, x=x, seed=s, metrics=read_metrics(d),
                                 config=yaml.safe_load((d / CONFIG_FILE).read_text())))
    return records, missing


def metric_table(records: list[RunRecord], metric: str, xs: list, seeds: list[int]):
    """Arrays (k, S) of values and floors of ``metric`` (NaN where a run or a floor is missing)."""
    values = np.full((len(xs), len(seeds)), np.nan)
    floors = np.full((len(xs), len(seeds)), np.nan)
    index_x = {x: i for i, x in enumerate(xs)}
    index_s = {s: j for j, s in enumerate(seeds)}
    for r in records:
        mx = r.metrics
        if mx.get(metric) is None:
            continue
        i, j = index_x[r.x], index_s[r.seed]
        values[i, j] = mx[metric]
        floor = mx.get(f"{metric}_floor")
        floors[i, j] = np.nan if floor is None else floor
    return values, floors


def write_rates_csv(path: Path, records: list[RunRecord], metrics: list[str], x_key: str = "n") -> None:
    """One row per run and metric: recipe, x (column named ``x_key``), seed, metric, value, floor, CI,
    and ``lower_bound`` (1 where the value is only a lower bound of the metric, e.g. tv_classifier)."""
    fh = io.StringIO(newline="")  # the csv module's own line endings; written at once, atomically
    w = csv.writer(fh)
    w.writerow(["recipe", x_key, "seed", "metric", "value", "floor", "ci_low", "ci_high", "lower_bound"])
    for r in sorted(records, key=lambda r: (r.recipe, r.x, r.seed)):
        for m in metrics:
            if r.metrics.get(m) is None:
                continue
            w.writerow([r.recipe, format_value(r.x), r.seed, m, r.metrics[m], r.metrics.get(f"{m}_floor", ""),
                        r.metrics.get(f"{m}_ci_low", ""), r.metrics.get(f"{m}_ci_high", ""),
                        int(bool(r.metrics.get(f"{m}_is_lower_bound")))])
    atomic_write_text(path, fh.getvalue())
