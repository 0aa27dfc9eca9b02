"""A diffusion fit under the NTK and mean-field scalings of its MLP (issue 17): the network it
trains is the scaled one, and the weight movement it reports is measured against its own init."""

from __future__ import annotations

import pytest
import torch

from genlab.diffusion import DiffusionConfig, fit_diffusion
from genlab.diffusion.estimator import score_network
from genlab.nn.scaling import ScaledLinear, weight_movement

TINY = dict(width=32, depth=1, time_embed_dim=16, steps=20, batch_size=64, warmup_steps=2, ema_decay=0.0)


@pytest.mark.parametrize("scaling", ["standard", "ntk", "mean_field"])
def test_fit_reports_the_movement_of_the_scored_network_from_its_init(mixture, scaling):
    x = mixture.sample(200, torch.Generator().manual_seed(0))
    cfg = DiffusionConfig(**TINY, network_scaling=scaling, weight_movement=True)
    model = fit_diffusion(cfg, x, seed=3)
    net = model.score_model.net
    assert net.scaling == scaling
    assert any(isinstance(m, ScaledLinear) for m in net.modules()) == (scaling != "standard")
    init = score_network(cfg, 2, seed=3)
    for key, value in weight_movement(net, init).items():  # the same computation on the same weights
        assert model.train_stats[key] == value > 0
    assert "weight_movement" not in fit_diffusion(DiffusionConfig(**TINY), x, seed=3).train_stats


def test_a_fit_builds_and_measures_the_network_with_its_time_width(mixture):
    x = mixture.sample(200, torch.Generator().manual_seed(0))
    cfg = DiffusionConfig(**TINY, network_scaling="ntk", weight_movement=True, time_width=8)
    model = fit_diffusion(cfg, x, seed=3)
    net, init = model.score_model.net, score_network(cfg, 2, seed=3)
    assert (net.time_out.in_features, net.time_out.out_features, init.time_in.out_features) == (8, 32, 8)
    assert net.time_out.multiplier == 1 / 8                    # a hidden layer of fan-in time_width
    assert model.train_stats["weight_movement"] == weight_movement(net, init)["weight_movement"] > 0
    for bad in (0, -3):
        with pytest.raises(ValueError, match="^diffusion.time_width must be a positive integer"):
            DiffusionConfig(time_width=bad).validate()
