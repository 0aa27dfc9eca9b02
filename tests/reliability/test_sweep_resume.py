"""An interrupted sweep reruns only its missing runs; aggregation names what is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RATES = ROOT / "scripts" / "rates.py"
TINY = ["recipe=empirical_gmm", "eval.m=64", "eval.reps=2", "eval.metrics=[w1]", "rates.metrics=[w1]",
        "eval.floor_cache=null",
        "rates.seeds=2", "device=cpu"]


def _rates(out: Path, ns: str):
    return subprocess.run([sys.executable, str(RATES), *TINY, f"rates.n={ns}", f"rates.out_dir={out}"],
                          capture_output=True, text=True, timeout=600)


def test_rerun_after_two_of_four_runs_executes_only_the_two_missing(tmp_path):
    out = tmp_path / "sweep"
    first = _rates(out, "[8,16]")                # 2 sizes x 2 seeds = 4 runs; stop it after 2:
    assert first.returncode == 0, first.stderr
    runs = sorted(d for d in (out / "runs").iterdir() if d.is_dir())
    assert len(runs) == 4
    for d in runs[2:]:                           # what a kill after two runs leaves: no metrics.json
        (d / "metrics.json").unlink()
    kept = {d.name: (d / "metrics.json").stat().st_mtime_ns for d in runs[:2]}

    report = json.loads((out / "rates.json").read_text())
    assert report["missing_runs"] == {}
    second = _rates(out, "[8,16]")
    assert second.returncode == 0, second.stderr
    log = (out / "sweep.log").read_text()
    assert log.count("complete already, skipped") == 2
    for name, mtime in kept.items():             # the complete runs were not run again
        assert (out / "runs" / name / "metrics.json").stat().st_mtime_ns == mtime
    assert all((d / "metrics.json").is_file() for d in runs)


def test_aggregation_names_missing_runs_and_fails(tmp_path):
    out = tmp_path / "sweep"
    assert _rates(out, "[8,16]").returncode == 0
    victim = sorted(d for d in (out / "runs").iterdir() if d.is_dir() and ",n=16," in f",{d.name},")[0]
    # a run that cannot finish: its directory is a file's place now, so it stays missing
    shutil.rmtree(victim)
    victim.write_text("not a directory")
    res = _rates(out, "[8,16]")
    assert res.returncode != 0
    report = json.loads((out / "rates.json").read_text())
    seed = int(victim.name.split("seed=")[1].split(",")[0])
    assert report["missing_runs"]["empirical_gmm"] == [{"n": 16, "seed": seed}]
    assert "1 run(s) missing" in res.stdout
