"""A run killed with SIGKILL and resumed ends with the metrics of an uninterrupted run, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "scripts" / "train.py"
# A small diffusion run that checkpoints every 100 of its 400 steps.
ARGS = ["recipe=diffusion_gmm", "n=200", "eval.m=100", "eval.reps=2", "eval.kde_reference=false",
        "eval.metrics=[tv,w1]", "diffusion.steps=400", "diffusion.checkpoint_every=100",
        "diffusion.batch_size=64", "diffusion.width=32", "diffusion.sampler_steps=20",
        "diffusion.likelihood_steps=8", "diffusion.score_error_m=100", "progress=false",
        "eval.floor_cache=null", "device=cpu"]


def _train(out: Path, *extra: str, **kw):
    return subprocess.run([sys.executable, str(TRAIN), *ARGS, f"out_dir={out}", *extra],
                          capture_output=True, text=True, timeout=600, **kw)


def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path):
    whole = _train(tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr

    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(TRAIN), *ARGS, f"out_dir={killed}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (killed / "checkpoints" / "last.pt").exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (killed / "metrics.json").exists()          # a killed run leaves no metrics

    again = _train(killed)                                  # without resume=true: refused, nothing lost
    assert again.returncode != 0 and "resume=true" in again.stderr
    assert (killed / "checkpoints" / "last.pt").exists()

    resumed = _train(killed, "resume=true")
    assert resumed.returncode == 0, resumed.stderr
    assert (killed / "metrics.json").read_bytes() == (tmp_path / "whole" / "metrics.json").read_bytes()


def test_resume_under_other_settings_is_refused_naming_the_keys(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(TRAIN), *ARGS, f"out_dir={out}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "checkpoints" / "last.pt").exists():
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = (out / "checkpoints" / "last.pt").read_bytes()
    res = _train(out, "resume=true", "diffusion.lr=0.01", "seed=3")
    assert res.returncode != 0
    assert res.stderr.strip().splitlines() == [res.stderr.strip()]
    assert "differing keys: diffusion.lr, seed" in res.stderr
    assert (out / "checkpoints" / "last.pt").read_bytes() == before


def test_icl_runs_checkpoint_and_resume_through_the_shared_loop(tmp_path):
    # The ICL family trains through genlab.training too: its checkpoints resume, and a run
    # continued from its checkpoint ends with the same metrics.json (the prompt generator's
    # state is in the checkpoint).
    from omegaconf import OmegaConf

    from genlab.config.compose import compose_config
    from genlab.run.pipeline import run

    args = ["recipe=icl_lsa", "icl.steps=6", "icl.checkpoint_every=3", "icl.eval_prompts=1280",
            "icl.n_boot=50", "icl.bayes_mc=2000", "device=cpu"]
    whole, again = tmp_path / "whole", tmp_path / "again"
    run(OmegaConf.to_object(compose_config(args)), whole, progress=False)
    assert (whole / "checkpoints" / "last.pt").is_file()
    run(OmegaConf.to_object(compose_config(args)), again, progress=False)
    (again / "metrics.json").unlink()                   # as a kill after the last checkpoint leaves it
    run(OmegaConf.to_object(compose_config(args + ["resume=true"])), again, progress=False)
    assert (again / "metrics.json").read_bytes() == (whole / "metrics.json").read_bytes()


def test_a_slurm_requeue_resumes_without_being_asked(tmp_path, monkeypatch):
    # SLURM sets SLURM_RESTART_COUNT > 0 when it requeues a job; the run then continues
    # from its checkpoint as if resume=true had been given, and refuses other settings.
    import pytest
    from omegaconf import OmegaConf

    from genlab.config.compose import compose_config
    from genlab.run.guard import guard_run_dir

    cfg = OmegaConf.to_object(compose_config(["recipe=diffusion_gmm"]))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"x")
    (tmp_path / "config.yaml").write_text(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    with pytest.raises(ValueError, match="resume=true"):
        guard_run_dir(cfg, tmp_path)
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert guard_run_dir(cfg, tmp_path) is True
    cfg.seed = 5
    with pytest.raises(ValueError, match="differing keys: seed"):
        guard_run_dir(cfg, tmp_path)


def test_a_run_made_before_a_key_existed_resumes_at_its_default(tmp_path, monkeypatch):
    """config.yaml of a run made before diffusion.beta1 (and the other optimiser keys) existed: resuming it
    at the new keys' defaults (what that run computed) is allowed; away from them, refused naming the key."""
    import pytest
    import yaml
    from omegaconf import OmegaConf

    from genlab.config.compose import compose_config
    from genlab.run.guard import guard_run_dir

    cfg = OmegaConf.to_object(compose_config(["recipe=diffusion_gmm", "resume=true"]))
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"x")
    old = yaml.safe_load(OmegaConf.to_yaml(OmegaConf.structured(cfg)))
    for key in ("beta1", "beta2", "weight_decay", "min_lr_ratio"):
        del old["diffusion"][key]
    del old["truth"]["low"]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old))
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    assert guard_run_dir(cfg, tmp_path) is True
    cfg.diffusion.beta1 = 0.5
    with pytest.raises(ValueError, match="differing keys: diffusion.beta1$"):
        guard_run_dir(cfg, tmp_path)
