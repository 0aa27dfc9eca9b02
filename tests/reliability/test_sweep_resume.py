"""An interrupted sweep reruns only its missing runs; aggregation names what is missing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RATES = ROOT / "scripts" / "rates.py"
TINY = ["recipe=empirical_gmm", "eval.m=64", "eval.reps=2", "eval.metrics=[w1]", "rates.metrics=[w1]",
        "eval.floor_cache=null",
        "rates.seeds=2", "device=cpu"]


def _rates(out: Path, ns: str, *extra: str):
    return subprocess.run([sys.executable, str(RATES), *TINY, *extra, f"rates.n={ns}", f"rates.out_dir={out}"],
                          capture_output=True, text=True, timeout=600)


def test_rerun_after_two_of_four_runs_executes_only_the_two_missing(tmp_path):
    out = tmp_path / "sweep"
    # 2 sizes x 2 seeds = 4 runs, one after another; SIGKILL the whole sweep once 2 are complete.
    proc = subprocess.Popen([sys.executable, str(RATES), *TINY, "eval.m=400", "rates.n=[8,16]",
                             f"rates.out_dir={out}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list((out / "runs").glob("*/metrics.json"))) < 2 if (out / "runs").is_dir() else True:
        assert proc.poll() is None, "the sweep ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = {d.parent.name: d.stat().st_mtime_ns for d in (out / "runs").glob("*/metrics.json")}
    assert 2 <= len(done) < 4, f"{len(done)} runs were complete at the kill"

    second = _rates(out, "[8,16]", "eval.m=400")
    assert second.returncode == 0, second.stderr
    runs = [d for d in (out / "runs").iterdir() if d.is_dir()]
    assert len(runs) == 4 and all((d / "metrics.json").is_file() for d in runs)
    log = (out / "sweep.log").read_text()
    assert log.count("complete already, skipped") == len(done)   # only the missing ones ran
    for name, mtime in done.items():
        assert (out / "runs" / name / "metrics.json").stat().st_mtime_ns == mtime
    assert json.loads((out / "rates.json").read_text())["missing_runs"] == {}


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


# One small diffusion run that checkpoints every 100 of its 400 steps (as tests/reliability/test_resume.py).
CHECKPOINTED = ["recipe=diffusion_gmm", "eval.m=100", "eval.reps=2", "eval.metrics=[w1]", "rates.metrics=[w1]",
                "eval.kde_reference=false",
                "diffusion.steps=400", "diffusion.checkpoint_every=100", "diffusion.batch_size=64",
                "diffusion.width=32", "diffusion.sampler_steps=20", "diffusion.score_error_m=100",
                "eval.floor_cache=null", "rates.seeds=1", "rates.compare=[]", "rates.replicas=off",
                "device=cpu"]


@pytest.mark.slow  # two sweeps of two 400-step diffusion runs: about 60 s on 2 cores
def test_a_run_killed_after_its_checkpoint_is_continued_by_the_rerun_bit_for_bit(tmp_path):
    def sweep(out: Path) -> list[str]:
        return [sys.executable, str(RATES), *CHECKPOINTED, "rates.n=[100,200]", f"rates.out_dir={out}"]

    whole = subprocess.run(sweep(tmp_path / "whole"), capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr

    out = tmp_path / "killed"
    proc = subprocess.Popen(sweep(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("runs/*/checkpoints/last.pt")):
        assert proc.poll() is None, "the sweep ended before a run's first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    unfinished = [d.parent.parent for d in out.glob("runs/*/checkpoints/last.pt")
                  if not (d.parent.parent / "metrics.json").exists()]
    assert unfinished, "every run had finished at the kill"

    # the same command again: the unfinished runs resume from their checkpoints instead of refusing them
    again = subprocess.run(sweep(out), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "unfinished run" not in (out / "sweep.log").read_text()
    runs = sorted(d.name for d in (out / "runs").iterdir() if d.is_dir())
    assert len(runs) == 2
    for name in runs:
        assert (out / "runs" / name / "metrics.json").read_bytes() == \
            (tmp_path / "whole" / "runs" / name / "metrics.json").read_bytes(), name
