"""The GAN loop: bit-identical resume, the divergence guard, and the last good checkpoint."""

import dataclasses
import json
import sys

import pytest
import torch

import genlab.gan.training as gan_training
from genlab.cli.train import main_entry
from genlab.gan import GAN_CHECKPOINT_FORMAT, Discriminator, GANConfig, Generator, fit_gan, train_gan
from genlab.training import TrainingDiverged, load_checkpoint

TINY = dict(latent_dim=2, g_width=16, g_depth=2, d_width=16, d_depth=2, batch_size=16, monitor_m=32)


def _nets(cfg, seed=0):
    init = torch.Generator().manual_seed(seed)
    return (Generator(cfg.latent_dim, 2, cfg.g_width, cfg.g_depth, cfg.activation, generator=init),
            Discriminator(2, cfg.pack, cfg.d_width, cfg.d_depth, cfg.d_activation, cfg.spectral_norm,
                          generator=init))


class _Stop(Exception):
    pass


@pytest.mark.parametrize("loss", ["non_saturating", "wgan_gp"])
def test_an_interrupted_run_resumes_bit_identically(loss, tmp_path):
    cfg = GANConfig(**TINY, loss=loss, critic_steps=2, pack=2, steps=30, checkpoint_every=10, monitor_every=5)
    x = torch.randn(200, 2, generator=torch.Generator().manual_seed(1))
    monitor = lambda ema: {"mean": float(ema(torch.zeros(1, 2)).sum())}  # noqa: E731

    G, D = _nets(cfg)
    whole = train_gan(G, D, x, cfg, g=torch.Generator().manual_seed(2), monitor=monitor)

    calls = iter(range(1000))

    def stopping(ema):
        if next(calls) == 5:   # the 6th call, at step 25: the checkpoint of step 20 is on disk
            raise _Stop
        return monitor(ema)

    G, D = _nets(cfg)
    with pytest.raises(_Stop):
        train_gan(G, D, x, cfg, g=torch.Generator().manual_seed(2), checkpoint_dir=str(tmp_path), monitor=stopping)
    assert load_checkpoint(str(tmp_path / "last.pt"), fmt=GAN_CHECKPOINT_FORMAT)["step"] == 20
    G, D = _nets(cfg, seed=99)   # resumed weights come from the checkpoint, not the init
    resumed = train_gan(G, D, x, cfg, g=torch.Generator().manual_seed(77), checkpoint_dir=str(tmp_path),
                        monitor=monitor)
    assert resumed.resumed_from == 20
    for a, b in [(whole.ema, resumed.ema), (whole.generator, resumed.generator),
                 (whole.discriminator, resumed.discriminator)]:
        for p, q in zip(a.state_dict().values(), b.state_dict().values()):
            assert torch.equal(p, q)
    assert torch.equal(whole.losses, resumed.losses)
    assert {k: v.tolist() for k, v in whole.history.items()} == {k: v.tolist() for k, v in resumed.history.items()}


def test_resume_refuses_other_settings(tmp_path):
    cfg = GANConfig(**TINY, steps=4, checkpoint_every=2, monitor_every=0)
    x = torch.randn(50, 2)
    train_gan(*_nets(cfg), x, cfg, g=torch.Generator().manual_seed(0), checkpoint_dir=str(tmp_path))
    other = dataclasses.replace(cfg, lr=1e-4)
    with pytest.raises(ValueError, match="differing keys: lr"):
        train_gan(*_nets(other), x, other, g=torch.Generator().manual_seed(0), checkpoint_dir=str(tmp_path))


def test_a_huge_learning_rate_diverges_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = GANConfig(**TINY, lr=100.0, steps=200, checkpoint_every=1, monitor_every=0)  # 5e4 x the default
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    with pytest.raises(TrainingDiverged) as info:
        fit_gan(cfg, x, seed=0, checkpoint_dir=str(tmp_path))
    text = str(info.value)
    assert "\n" not in text and text.startswith("gan.") is False and "GAN training diverged" in text
    assert "the last good checkpoint is kept at" in text and 0 < info.value.step < 200
    ck = load_checkpoint(str(tmp_path / "last.pt"), fmt=GAN_CHECKPOINT_FORMAT)
    assert ck["step"] == info.value.step
    G = Generator(2, 2, 16, 2)
    G.load_state_dict(ck["ema"])
    assert all(torch.isfinite(p).all() for p in G.parameters())


def test_a_diverging_run_exits_non_zero_with_one_line_and_records_it(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    argv = ["recipe=gan_ring", "n=64", "eval.m=64", "eval.reps=2", "eval.floor_cache=null", "progress=false",
            "device=cpu", "gan.lr=100", "gan.steps=200", "gan.checkpoint_every=1", "gan.g_width=16",
            "gan.d_width=16", "gan.batch_size=16", "gan.monitor_m=32", f"out_dir={out}"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["train.py", *argv])
    with pytest.raises(SystemExit) as info:
        main_entry("train")
    assert info.value.code not in (0, None)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GAN training diverged" in err[0] and "last good checkpoint" in err[0]
    mx = json.loads((out / "metrics.json").read_text())
    assert mx["diverged"] == 1 and mx["diverged_step"] > 0 and "GAN training diverged" in mx["diverged_reason"]
    assert not any(k in mx for k in ("w1", "sliced_w1", "mmd2", "modes_captured"))
    assert not (out / "samples.npz").exists()
    ck = load_checkpoint(str(out / "checkpoints" / "last.pt"), fmt=GAN_CHECKPOINT_FORMAT)
    assert ck["step"] == mx["diverged_step"]


def test_a_runaway_discriminator_stops_the_run_before_the_step():
    cfg = GANConfig(**TINY, steps=5, monitor_every=0, checkpoint_every=0, max_critic=1e-9)
    with pytest.raises(TrainingDiverged, match=r"the discriminator ran away at step 0: mean \|D\| = .* > "
                                               r"gan.max_critic = 1e-09; no checkpoint was written"):
        fit_gan(cfg, torch.randn(40, 2), seed=0)


@pytest.mark.parametrize("key, value", [("r1_gamma", -0.1), ("r1_gamma", float("nan")), ("r1_gamma", float("inf")),
                                        ("r1_every", 0), ("r1_every", 1.5)])
def test_a_bad_r1_setting_is_a_one_line_error_naming_the_key(key, value):
    with pytest.raises(ValueError, match=rf"^gan\.{key} ") as info:
        GANConfig(**{key: value}).validate()
    assert "\n" not in str(info.value)


def test_lazy_r1_is_the_penalty_times_r1_every_on_every_r1_every_th_step(monkeypatch):
    # Step 0 of a lazy run (gamma, every k) is the same step as one of (k gamma, every step).
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))

    def run(steps, **kw):
        cfg = GANConfig(**TINY, steps=steps, monitor_every=0, checkpoint_every=0, **kw)
        return train_gan(*_nets(cfg), x, cfg, g=torch.Generator().manual_seed(1))

    lazy, eager = run(1, r1_gamma=2.0, r1_every=3), run(1, r1_gamma=6.0)
    assert torch.equal(lazy.losses, eager.losses)
    for a, b in zip(lazy.discriminator.state_dict().values(), eager.discriminator.state_dict().values()):
        assert torch.equal(a, b)
    # over 7 generator steps of 2 critic steps (14 discriminator steps), the penalty is taken on
    # discriminator steps 0, 3, 6, 9, 12, each with weight 3 gamma
    calls = []
    real = gan_training.r1_penalty
    monkeypatch.setattr(gan_training, "r1_penalty", lambda D, xr, gamma: calls.append(gamma) or real(D, xr, gamma))
    run(7, r1_gamma=2.0, r1_every=3, critic_steps=2)
    assert calls == [6.0] * 5
