"""A diffusion run whose loss turns non-finite: one line, exit 2, the last good checkpoint kept and loadable."""

import json
import sys

import pytest
import torch

from genlab.cli.train import main_entry
from genlab.training import load_checkpoint

# Adam moves every weight by about lr per step: at lr = 1e30, with no gradient clipping, the
# first steps push the float32 activations past 3.4e38, so the loss becomes inf or NaN within a
# few steps, after at least the first checkpoint (one is written every step).
ARGV = ["recipe=diffusion_gmm", "n=64", "eval.m=48", "eval.reps=2", "eval.kde_reference=false", "eval.metrics=[tv]",
        "diffusion.steps=30", "diffusion.batch_size=32", "diffusion.width=16", "diffusion.warmup_steps=0",
        "diffusion.lr_schedule=constant", "diffusion.lr=1e30", "diffusion.grad_clip=null",
        "diffusion.checkpoint_every=1", "eval.floor_cache=null", "progress=false", "device=cpu"]


def test_a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["train.py", *ARGV, f"out_dir={out}"])
    with pytest.raises(SystemExit) as info:
        main_entry("train")
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "non-finite" in err[0] and "the last good checkpoint is kept at" in err[0], err
    ck = load_checkpoint(str(out / "checkpoints" / "last.pt"))
    assert 1 <= ck["step"] < 30
    assert all(torch.isfinite(v).all() for v in ck["model"].values() if v.is_floating_point())
    written = json.loads((out / "metrics.json").read_text())
    assert written["diverged"] == 1 and "tv" not in written      # what happened, and no distance
