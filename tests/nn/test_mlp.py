import math

import pytest
import torch

from genlab.nn import ReplicaLinear, SinusoidalEmbedding, TimeMLP


def test_embedding_formula():
    e = SinusoidalEmbedding(8, max_period=10000.0, scale=1.0)
    tau = torch.tensor([0.0, 1.5])
    out = e(tau)
    k = torch.arange(4)
    w = torch.exp(-math.log(10000.0) * k / 4)
    assert torch.allclose(out[1], torch.cat([torch.cos(1.5 * w), torch.sin(1.5 * w)]), atol=1e-6)
    assert torch.equal(out[0], torch.cat([torch.ones(4), torch.zeros(4)]))


def test_mlp_shapes():
    net = TimeMLP(3, width=32, depth=2, time_embed_dim=16)
    assert net(torch.randn(5, 3), torch.rand(5)).shape == (5, 3)
    assert net(torch.randn(5, 3), torch.tensor(0.3)).shape == (5, 3)
    with pytest.raises(ValueError, match="^activation must be one of"):
        TimeMLP(3, activation="swish")


def test_replicas_equal_separate_models():
    """R replicas in one baddbmm give, per replica, what the plain layers with the same weights give."""
    g = torch.Generator().manual_seed(0)
    R = 4
    batched = TimeMLP(2, 16, 2, 8, replicas=R, generator=g)
    x, tau = torch.randn(R, 10, 2), torch.rand(R, 10)
    out = batched(x, tau)
    assert out.shape == (R, 10, 2)
    for r in range(R):
        single = TimeMLP(2, 16, 2, 8)
        with torch.no_grad():
            for (name, p), (_, pb) in zip(single.named_parameters(), batched.named_parameters()):
                p.copy_(pb[r].reshape(p.shape))
        assert torch.allclose(single(x[r], tau[r]), out[r], atol=1e-5)


def test_replica_linear_init_matches_nn_linear():
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    lin = ReplicaLinear(5, 4, generator=g1)
    ref = torch.nn.Linear(5, 4)
    bound = 1 / math.sqrt(5)
    with torch.no_grad():
        ref.weight.uniform_(-bound, bound, generator=g2)
        ref.bias.uniform_(-bound, bound, generator=g2)
    x = torch.randn(3, 5)
    assert torch.allclose(lin(x), ref(x), atol=1e-6)
