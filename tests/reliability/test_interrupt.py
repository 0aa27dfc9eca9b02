"""SIGINT (Ctrl-C) mid-run and mid-sweep ends with one line and exit 130, keeping what was written
(issue 18, item 2: it printed a 60-line traceback)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import OmegaConf

from genlab.run.guard import lock_run_dir, unlock_run_dir

ROOT = Path(__file__).resolve().parents[2]
# a diffusion run that checkpoints early and would train for a minute or more (each test kills what it
# started, however it ends, so a failure leaves no job running)
LONG = ["recipe=diffusion_gmm", "n=64", "eval.m=48", "eval.reps=2", "eval.kde_reference=false", "eval.metrics=[tv]",
        "diffusion.steps=30000", "diffusion.checkpoint_every=20", "diffusion.batch_size=32", "diffusion.width=16",
        "diffusion.warmup_steps=1", "eval.floor_cache=null", "progress=false", "device=cpu"]


def _wait_for(path_glob, root: Path, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not list(root.glob(path_glob)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"no {path_glob} under {root} after {timeout} s"
        time.sleep(0.2)


def _default_sigint() -> None:
    """In the child before exec: SIGINT as a terminal's foreground job has it.  A process inherits an
    ignored SIGINT (a shell's background job, or a test runner that ignores it), and Python then
    keeps ignoring it, as it should; the test wants the Ctrl-C case."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the test's process and everything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _stderr_lines(err: str) -> list[str]:
    """stderr's lines, without tqdm's carriage-return progress updates."""
    return [line for line in err.replace("\r", "\n").splitlines() if line.strip() and "run/s" not in line]


def test_sigint_mid_run_prints_one_line_and_keeps_config_and_checkpoint(tmp_path):
    d = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "train.py"), *LONG, f"out_dir={d}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            start_new_session=True, preexec_fn=_default_sigint)
    try:
        _wait_for("checkpoints/last.pt", d, proc)
        config = (d / "config.yaml").read_bytes()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        _kill_group(proc)
    assert proc.returncode == 130, err
    lines = _stderr_lines(err)
    assert len(lines) == 1 and lines[0].startswith("error: interrupted (SIGINT)") and "resume=true" in lines[0], err
    assert "Traceback" not in err
    assert (d / "config.yaml").read_bytes() == config and (d / "checkpoints" / "last.pt").is_file()
    assert not (d / "metrics.json").exists()
    assert OmegaConf.load(d / "config.yaml").diffusion.steps == 30000
    lock_run_dir(d)  # the interrupted run let go of its directory
    unlock_run_dir(d)


def test_sigint_mid_sweep_stops_every_job_and_prints_one_line(tmp_path):
    """Ctrl-C reaches the whole foreground process group: rates.py and its jobs."""
    out = tmp_path / "sweep"
    argv = [*LONG, "rates.n=[64,96]", "rates.seeds=1", "rates.compare=[]", "rates.metrics=[tv]",
            "rates.replicas=off", f"rates.out_dir={out}", "hydra/launcher=basic"]
    proc = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "rates.py"), *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path, start_new_session=True,
                            preexec_fn=_default_sigint)
    try:
        _wait_for("runs/*/checkpoints/last.pt", out, proc)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        time.sleep(0.5)
        alive = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    finally:
        _kill_group(proc)
    assert proc.returncode == 130, err
    lines = _stderr_lines(err)
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: interrupted (SIGINT)"), err
    assert "keeps its 0 complete run(s)" in lines[0] and "rerun the same command" in lines[0]
    assert alive == [], f"jobs of the sweep still running: {alive}"
    assert list(out.glob("runs/*/checkpoints/last.pt"))
