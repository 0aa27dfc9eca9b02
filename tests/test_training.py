import math
import os

import pytest
import torch

from genlab.training import (CHECKPOINT_NAME, OptimConfig, TrainingDiverged, ema_update, load_checkpoint,
                             lr_at, train)


def _problem(seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    g = torch.Generator().manual_seed(seed + 1)
    w = torch.tensor([[1.0], [-2.0], [0.5]])

    def step_fn(m, step):
        x = torch.randn(32, 3, generator=g)
        return ((m(x) - x @ w) ** 2).mean()
    return model, step_fn, g


def test_ema_formula():
    a = torch.nn.Linear(4, 3).double()
    b = torch.nn.Linear(4, 3).double()
    before = [p.clone() for p in a.parameters()]
    ema_update(a, b, 0.9)
    for p0, pe, pm in zip(before, a.parameters(), b.parameters()):
        # lerp vs the explicit formula differ by rounding only (float64)
        assert torch.allclose(pe, 0.9 * p0 + 0.1 * pm, rtol=0, atol=1e-15)


def test_lr_schedule():
    cfg = OptimConfig(steps=100, lr=1.0, warmup_steps=10, lr_schedule="cosine")
    assert lr_at(cfg, 0) == pytest.approx(0.1) and lr_at(cfg, 9) == pytest.approx(1.0)
    assert lr_at(cfg, 10) == pytest.approx(1.0)
    assert lr_at(cfg, 55) == pytest.approx(0.5)                     # halfway through the cosine
    assert lr_at(cfg, 100) == pytest.approx(0.0, abs=1e-12)


def test_trains_and_ema_tracks():
    model, step_fn, g = _problem()
    res = train(model, step_fn, OptimConfig(steps=300, lr=1e-2, ema_decay=0.9))
    assert res.losses.shape == (300,) and res.losses[-20:].mean() < 0.2 * res.losses[:20].mean()
    assert res.steps_per_s > 0


def test_nan_guard_keeps_last_good_checkpoint(tmp_path):
    model, step_fn, g = _problem()

    def bad(m, step):
        loss = step_fn(m, step)
        return loss * float("nan") if step == 7 else loss
    cfg = OptimConfig(steps=20, lr=1e-2, checkpoint_every=5)
    with pytest.raises(TrainingDiverged, match=r"^non-finite loss at step 7; the last good checkpoint is kept at ") as e:
        train(model, bad, cfg, generators={"data": g}, checkpoint_dir=str(tmp_path))
    assert "\n" not in str(e.value)
    ck = torch.load(os.path.join(tmp_path, CHECKPOINT_NAME), weights_only=True)
    assert ck["step"] == 5 and all(torch.isfinite(v).all() for v in ck["model"].values())
    assert not [f for f in os.listdir(tmp_path) if f != CHECKPOINT_NAME]  # no temporary left


def test_resume_is_bit_identical(tmp_path):
    cfg = OptimConfig(steps=40, lr=1e-2, warmup_steps=5, checkpoint_every=10)
    model, step_fn, g = _problem()
    full = train(model, step_fn, cfg, generators={"data": g})

    model, step_fn, g = _problem()
    with pytest.raises(KeyboardInterrupt):
        def interrupted(m, step):
            if step == 23:
                raise KeyboardInterrupt
            return step_fn(m, step)
        train(model, interrupted, cfg, generators={"data": g}, checkpoint_dir=str(tmp_path))
    assert load_checkpoint(os.path.join(tmp_path, CHECKPOINT_NAME))["step"] == 20
    model, step_fn, g = _problem(seed=5)  # different init and stream: all must come from the checkpoint
    res = train(model, step_fn, cfg, generators={"data": g}, checkpoint_dir=str(tmp_path))
    assert res.resumed_from == 20
    assert torch.equal(res.losses, full.losses)
    for a, b in zip(res.ema.state_dict().values(), full.ema.state_dict().values()):
        assert torch.equal(a, b)
    for a, b in zip(res.model.state_dict().values(), full.model.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_refuses_other_config(tmp_path):
    model, step_fn, g = _problem()
    train(model, step_fn, OptimConfig(steps=5, lr=1e-2), generators={"data": g}, checkpoint_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"^checkpoint .* other settings; differing keys: ema_decay, lr$"):
        train(model, step_fn, OptimConfig(steps=5, lr=1e-3, ema_decay=0.5), generators={"data": g},
              checkpoint_dir=str(tmp_path))


def test_truncated_checkpoint(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    path.write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.raises(ValueError, match="cannot be loaded") as e:
        load_checkpoint(str(path))
    assert "\n" not in str(e.value)


def test_bad_config():
    with pytest.raises(ValueError, match="^ema_decay must be in"):
        OptimConfig(ema_decay=1.0).validate()
    with pytest.raises(ValueError, match="^lr_schedule must be one of"):
        OptimConfig(lr_schedule="step").validate()
    assert math.isfinite(OptimConfig().lr)
