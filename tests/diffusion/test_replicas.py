"""Replica-batched diffusion fits equal the fits made one by one (issue 7).

Replica r draws its minibatches, times and noise from its own generator in
its own run's order, its gradient is its own loss's, its norm is clipped on
its own, and Adam and the EMA are elementwise; only the matrix products sum
in another order (one baddbmm against R addmm).  Over a few dozen steps that
leaves the weights equal to float32 rounding: |w_batched - w_alone| <= 1e-5,
about 100 ulps of weights of size 1 (observed: bit-identical on this CPU).
"""

from __future__ import annotations

import pytest
import torch

from genlab.diffusion.config import DiffusionConfig
from genlab.diffusion.estimator import fit_diffusion
from genlab.diffusion.replicas import fit_diffusion_replicas, replicable, replica_memory_bytes
from genlab.distributions import make_truth
from genlab.nn import TimeMLP
from genlab.training import OptimConfig, TrainingDiverged, clip_grad_norm_per_replica, train

TRUTH = make_truth("gmm_anisotropic")


def _data(ns, seed0=10):
    return [TRUTH.sample(n, generator=torch.Generator().manual_seed(seed0 + i)) for i, n in enumerate(ns)]


def _flat(model) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.score_model.parameters()])


@pytest.mark.parametrize("cfg", [
    # the default settings, with a clip small enough to act at every step
    DiffusionConfig(width=32, steps=40, batch_size=64, warmup_steps=5, grad_clip=0.05),
    # the EDM time law and weighting, the eps target, no clipping, no EMA
    DiffusionConfig(width=16, depth=1, steps=30, batch_size=48, time_sampling="edm", weighting="edm",
                    target="eps", grad_clip=None, ema_decay=0.0),
    # the NTK and mean-field (muP) scalings (issue 17), with the weight movement reported
    DiffusionConfig(width=32, depth=1, steps=30, batch_size=64, network_scaling="ntk", weight_movement=True),
    DiffusionConfig(width=32, depth=1, steps=30, batch_size=64, network_scaling="mean_field", weight_movement=True),
])
def test_each_replica_equals_its_fit_alone(cfg):
    xs, seeds = _data([100, 300, 64]), [3, 4, 5]     # different n, one minibatch size
    batched = fit_diffusion_replicas(cfg, xs, seeds=seeds)
    for x, s, m in zip(xs, seeds, batched):
        alone = fit_diffusion(cfg, x, seed=s)
        assert torch.allclose(_flat(m), _flat(alone), rtol=0, atol=1e-5)
        assert m.train_stats["train_loss_final"] == pytest.approx(alone.train_stats["train_loss_final"], rel=1e-5)
        assert m.train_stats["train_replicas"] == 3
        for key in ("weight_movement", "weight_movement_spectral"):
            assert (key in m.train_stats) == cfg.weight_movement
            if cfg.weight_movement:  # float32 weights equal to 1e-5 move the ratio by about 1e-5 / ||W_0||
                assert m.train_stats[key] == pytest.approx(alone.train_stats[key], rel=1e-4)
        assert torch.equal(m.shift, alone.shift) and torch.equal(m.scale, alone.scale)
        z = torch.randn(20, 2, dtype=torch.float64)
        assert torch.allclose(m.score_z(z, 0.1), alone.score_z(z, 0.1), atol=1e-4)


def test_fits_that_cannot_share_a_network_are_refused_with_the_reason():
    cfg = DiffusionConfig(width=16, steps=2, batch_size=128)
    with pytest.raises(ValueError, match="minibatch size"):
        fit_diffusion_replicas(cfg, _data([100, 300]), seeds=[0, 1])   # batches 100 and 128
    assert "trains no network" in replicable(DiffusionConfig(score="kde"))
    assert "sigma_data" in replicable(DiffusionConfig(standardize=False))
    assert "checkpoint" in replicable(DiffusionConfig(checkpoint_every=10))
    assert replicable(DiffusionConfig()) is None
    with pytest.raises(ValueError, match="cannot be replica-batched: diffusion.score=oracle"):
        fit_diffusion_replicas(DiffusionConfig(score="oracle"), _data([10]), seeds=[0])
    with pytest.raises(ValueError, match="one seed per training set"):
        fit_diffusion_replicas(cfg, _data([10, 10]), seeds=[0])


def test_per_replica_clipping_equals_torch_clipping_of_each_replica_alone():
    g = torch.Generator().manual_seed(0)
    R, shapes = 3, [(4, 5), (1, 5), (5, 2)]
    params = [torch.zeros(R, *s, requires_grad=True) for s in shapes]
    for p, k in zip(params, (1.0, 10.0, 0.1)):
        p.grad = k * torch.randn(p.shape, generator=g)
    alone = [[p.grad[r].clone().requires_grad_(True) for p in params] for r in range(R)]
    norms = clip_grad_norm_per_replica(params, 1.0, R)
    for r in range(R):
        ps = [torch.zeros_like(a, requires_grad=True) for a in alone[r]]
        for p, a in zip(ps, alone[r]):
            p.grad = a.detach().clone()
        ref = torch.nn.utils.clip_grad_norm_(ps, 1.0)
        assert norms[r] == pytest.approx(float(ref), rel=1e-6)
        for p_b, p in zip(params, ps):
            assert torch.allclose(p_b.grad[r], p.grad, rtol=1e-6, atol=0)


def test_a_non_finite_replica_is_named():
    net = TimeMLP(2, 8, 1, 4, replicas=3, generator=torch.Generator().manual_seed(0))

    def step_fn(m, step):
        out = m(torch.randn(3, 5, 2), torch.rand(3, 5)).pow(2).mean(dim=(1, 2))
        return out * torch.tensor([1.0, float("nan"), 1.0]) if step == 2 else out

    with pytest.raises(TrainingDiverged, match=r"non-finite loss at step 2 \(replica 1\)") as info:
        train(net, step_fn, OptimConfig(steps=5, warmup_steps=0), replicas=3)
    assert info.value.replica == 1 and info.value.step == 2


def test_memory_estimate_counts_weights_optimiser_and_activations():
    cfg = DiffusionConfig(width=128, depth=2, time_embed_dim=64, batch_size=1024)
    P = 65 * 128 + 129 * 128 + 3 * 128 + 2 * 129 * 128 + 129 * 2   # the network's parameters (d = 2)
    acts = 1024 * ((3 * 2 + 10) * 128 + 64 + 8)
    assert replica_memory_bytes(cfg, 2, 4000) == 4 * (5 * P + acts + 4000 * 2)
    assert sum(p.numel() for p in TimeMLP(2, 128, 2, 64).parameters()) == P
