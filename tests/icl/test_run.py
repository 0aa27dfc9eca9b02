"""ICLConfig checks and a few-step run end to end (fast)."""

import math

import pytest
import torch

from genlab.icl import ICLConfig, run_icl
from genlab.icl.models import LinearSelfAttention
from genlab.icl.prompts import PromptSampler
from genlab.icl.train import ICLLoss, train_icl
from genlab.training import OptimConfig


@pytest.mark.parametrize("field, value", [("d", 0), ("k", 0), ("sigma2", -1.0), ("family", "cubic"),
                                          ("model", "rnn"), ("eval_prompts", 100), ("n_tasks", -1)])
def test_config_rejects(field, value):
    cfg = ICLConfig(**{field: value})
    with pytest.raises(ValueError, match=f"^icl\\.{field}"):
        cfg.validate()


def test_structured_config():
    omegaconf = pytest.importorskip("omegaconf")
    c = omegaconf.OmegaConf.structured(ICLConfig)
    with pytest.raises(Exception):
        omegaconf.OmegaConf.merge(c, {"no_such_key": 1})
    assert omegaconf.OmegaConf.to_object(c) == ICLConfig()


@pytest.mark.parametrize("model", ["transformer", "lsa"])
def test_smoke_run(tmp_path, model):
    torch.set_num_threads(1)
    cfg = ICLConfig(model=model, d=3, k=4, width=16, depth=1, heads=2, steps=3, batch_size=16,
                    warmup_steps=1, eval_prompts=1280, n_boot=50, bayes_mc=2000, n_tasks=4 if model == "lsa" else 0)
    m = run_icl(cfg, tmp_path, seed=0, device="cpu")
    assert (tmp_path / "icl.png").exists()
    assert all(isinstance(v, float) and math.isfinite(v) for v in m.values())
    assert m["err_k2_ci_low"] <= m["err_k2"] <= m["err_k2_ci_high"]
    if model == "lsa":
        assert "lsa_gamma_cosine" in m and "dist_dmmse" in m and "err_pool_k3" in m
    else:
        assert "excess_ratio_k4" in m and "bayes_k4" in m


def test_lsa_learns_the_zfb_risk_quickly():
    # d = 3, N = 6: e = (d+1)/(N+d+1) = 0.4; 300 Adam steps get within a few percent
    torch.set_num_threads(1)
    s = PromptSampler("linear", 3, 6)
    g = torch.Generator().manual_seed(0)
    m = LinearSelfAttention(3, generator=g)
    train_icl(m, s, OptimConfig(steps=300, lr=0.03, warmup_steps=20, min_lr_ratio=0.02, ema_decay=0.0),
              batch_size=512, generator=g, loss_positions="last")
    xs, ys, _ = s.sample(40_000, torch.Generator().manual_seed(1))
    with torch.no_grad():
        e = ((m(xs, ys)[:, -1] - ys[:, -1]) ** 2 / 3)
    se = float(e.std()) / 200
    assert abs(float(e.mean()) - 0.4) < 4 * se + 0.01


def test_icl_loss_positions_and_weightings():
    # noise sigma^2 = 0.5, tau^2 tr(Sigma) = 3: the label variance that normalises the loss is 3.5
    s = PromptSampler("noisy_linear", 3, 4, sigma2=0.5, dtype=torch.float64)
    ys = torch.arange(10.0, dtype=torch.float64).reshape(2, 5)
    preds = torch.zeros_like(ys)
    err = ys ** 2
    assert float(ICLLoss(s, "last")(preds, ys)) == pytest.approx(float(err[:, -1].mean()) / 3.5, rel=1e-12)
    assert float(ICLLoss(s, "all")(preds, ys)) == pytest.approx(float(err.mean()) / 3.5, rel=1e-12)
    rel = ICLLoss(s, "all", "relative")
    # first call: the running mean is this batch's per-prefix error, so every prefix contributes 1
    assert float(rel(preds, ys)) == pytest.approx(1.0, rel=1e-12)
    # second call on errors twice as large: running = 0.99 r + 0.01 (2 r) = 1.01 r, loss = 2 / 1.01
    assert float(rel(preds, ys * 2 ** 0.5)) == pytest.approx(2 / 1.01, rel=1e-12)
    with pytest.raises(ValueError, match="^loss_weighting"):
        ICLLoss(s, "all", "inverse")
