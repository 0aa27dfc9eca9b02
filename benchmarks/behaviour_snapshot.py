"""Behaviour snapshot: metrics.json of a toy run of every recipe and of one toy rate sweep per family.

A refactor must not change a number.  ``record`` runs every recipe at toy size
through ``scripts/train.py`` and one two-point rate sweep per estimator family
through ``scripts/rates.py`` (the public commands, so the snapshot does not
depend on the module layout it checks), and writes every ``metrics.json`` (and
each sweep's ``rates.json``) into one JSON file, keyed by recipe and run.
``compare`` says which entries differ, bit for bit (JSON floats round-trip
exactly), between two snapshots.

    python benchmarks/behaviour_snapshot.py record /tmp/after.json
    python benchmarks/behaviour_snapshot.py compare benchmarks/behaviour_baseline.json /tmp/after.json

Exit status: 0 when the snapshots agree, 1 when any entry differs or is
missing.  CPU only: CUDA kernels are not bit-reproducible across versions.
Nor are CPUs: the BLAS kernels chosen for one processor round differently
from another's (the baseline recorded on 2026-12-03 differed from the same
commit's record on an AMD EPYC VM in the last bit of 4 of 41 files), so a
record names its machine (``_recorded_on``) and `compare` warns when the two
machines differ; compare records made on the same machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RECIPES = sorted(p.stem for p in (ROOT / "recipes" / "recipe").glob("*.yaml"))


def _recipe_test_sizes() -> tuple[dict, dict]:
    """``TINY`` (toy overrides per family) and ``TINY_RECIPE`` (per recipe) of tests/cli/test_recipes.py,
    the one definition of a toy run: a change there moves the record, and `compare` says so."""
    spec = importlib.util.spec_from_file_location("_test_recipes", ROOT / "tests" / "cli" / "test_recipes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TINY, module.TINY_RECIPE


TINY, TINY_RECIPE = _recipe_test_sizes()

#: the family of each recipe: its ``estimator:`` (a recipe's name need not start with it: ntk_lazy, lazy_alpha)
FAMILY = {r: yaml.safe_load((ROOT / "recipes" / "recipe" / f"{r}.yaml").read_text())["estimator"] for r in RECIPES}
#: one toy sweep per family: (recipe, sweep overrides); the diffusion one is replica-batched (rates.replicas=auto)
SWEEPS = {
    "empirical": ("empirical_uniform", ["rates.n=[16,32]"]),
    "kde": ("kde_smooth", ["rates.n=[32,64]"]),
    "diffusion": ("diffusion_gmm", ["rates.n=[32,64]"]),
    "gan": ("gan_gmm", ["rates.n=[32,64]"]),
    "icl": ("icl_task_diversity", ["rates.x=icl.n_tasks", "rates.x_values=[4,16]"]),
}
COMMON = ["eval.floor_cache=null", "device=cpu", "progress=false"]


#: the entry that names the machine a record was made on; not compared, only warned about
MACHINE_KEY = "_recorded_on"


def _machine() -> dict:
    """The processor model and the numeric libraries' versions: what a bit-for-bit comparison depends on."""
    import numpy
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() \
        else platform.processor()
    return {"cpu": cpu, "machine": platform.machine(), "torch": torch.__version__, "numpy": numpy.__version__}


def _run(cmd: list[str]) -> None:
    done = subprocess.run([sys.executable, *cmd], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")


def _collect(base: Path, prefix: str, snapshot: dict) -> None:
    for path in sorted(base.rglob("metrics.json")) + sorted(base.rglob("rates.json")):
        snapshot[f"{prefix}/{path.relative_to(base).as_posix()}"] = json.loads(path.read_text())


def record(out: Path) -> int:
    snapshot: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for recipe in RECIPES:
            run_dir = Path(tmp) / "train" / recipe
            _run(["scripts/train.py", f"recipe={recipe}", f"out_dir={run_dir}", *COMMON,
                  *TINY[FAMILY[recipe]], *TINY_RECIPE.get(recipe, [])])
            _collect(run_dir, f"train/{recipe}", snapshot)
            print(f"train {recipe}", flush=True)
        for family, (recipe, sweep) in SWEEPS.items():
            sweep_dir = Path(tmp) / "rates" / family
            _run(["scripts/rates.py", f"recipe={recipe}", f"rates.out_dir={sweep_dir}", "rates.seeds=2",
                  "rates.compare=[]", *sweep, *COMMON, *TINY[family]])
            _collect(sweep_dir, f"rates/{family}", snapshot)
            print(f"rates {family} ({recipe})", flush=True)
    for key, value in snapshot.items():  # rates.json names the sweep's directory, which is a temporary one
        if key.endswith("rates.json"):
            value.pop("out_dir", None)
    snapshot[MACHINE_KEY] = _machine()
    out.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    print(f"{len(snapshot)} files recorded in {out}")
    return 0


def compare(a: Path, b: Path) -> int:
    have, want = json.loads(a.read_text()), json.loads(b.read_text())
    machines = have.pop(MACHINE_KEY, None), want.pop(MACHINE_KEY, None)
    if machines[0] != machines[1]:
        print(f"warning: recorded on different machines ({machines[0]} and {machines[1]}): "
              f"the last bits of BLAS results may differ")
    bad = 0
    for key in sorted(set(have) | set(want)):
        if key not in have or key not in want:
            print(f"only in {a if key in have else b}: {key}")
            bad += 1
        elif have[key] != want[key]:
            keys = sorted(k for k in set(have[key]) | set(want[key]) if have[key].get(k) != want[key].get(k))
            print(f"differs: {key}: {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}")
            bad += 1
    print(f"{len(set(have) | set(want)) - bad} of {len(set(have) | set(want))} files bit-identical")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("record").add_argument("out", type=Path)
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    return record(args.out) if args.what == "record" else compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
