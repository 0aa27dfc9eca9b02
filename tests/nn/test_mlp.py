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


def test_one_noise_level_for_the_batch_equals_the_per_row_evaluation():
    """A scalar or (1,) tau runs the time branch once and broadcasts it: the same output as tau
    repeated on every row, up to the order of a float64 sum over at most 128 terms (rows of a
    one-row and a many-row product are summed in different orders: |error| <= 128 eps sum|w x|,
    about 1e-13 here), so 1e-12 tells a broadcasting slip (O(1)) from rounding."""
    net = TimeMLP(2, 128, 2, 64, generator=torch.Generator().manual_seed(1)).double()
    x = torch.randn(300, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    per_row = net(x, torch.full((300,), 0.7, dtype=torch.float64))
    for tau in (0.7, torch.tensor(0.7, dtype=torch.float64), torch.tensor([0.7], dtype=torch.float64)):
        assert torch.allclose(net(x, tau), per_row, rtol=0, atol=1e-12)
    assert not torch.allclose(net(x, 0.71), per_row, rtol=0, atol=1e-6)  # tau does reach every row


def test_replicas_broadcast_one_noise_level_per_replica():
    R = 3
    net = TimeMLP(2, 16, 1, 8, replicas=R, generator=torch.Generator().manual_seed(0)).double()
    x = torch.randn(R, 7, 2, dtype=torch.float64)
    levels = torch.tensor([[0.1], [0.5], [0.9]], dtype=torch.float64)        # (R, 1)
    assert torch.allclose(net(x, levels), net(x, levels.expand(R, 7)), rtol=0, atol=1e-12)
    assert torch.allclose(net(x, 0.5), net(x, torch.full((R, 7), 0.5, dtype=torch.float64)),
                          rtol=0, atol=1e-12)


def test_a_noise_level_of_another_batch_shape_is_refused():
    net = TimeMLP(2, 16, 1, 8)
    with pytest.raises(RuntimeError):
        net(torch.randn(5, 2), torch.rand(4))


@pytest.mark.parametrize("scaling", ["standard", "ntk"])
def test_time_width_none_is_the_network_without_it(scaling):
    """time_width=None builds the layers in the old order and shapes, so one seed gives the same weights."""
    old = TimeMLP(2, 32, 1, 16, generator=torch.Generator().manual_seed(7), scaling=scaling)
    new = TimeMLP(2, 32, 1, 16, generator=torch.Generator().manual_seed(7), scaling=scaling, time_width=None)
    assert [n for n, _ in old.named_parameters()] == [n for n, _ in new.named_parameters()]
    for (name, p), (_, q) in zip(old.named_parameters(), new.named_parameters()):
        assert torch.equal(p, q), name
    assert new.time_in.weight.shape == (16, 32) and new.time_out.weight.shape == (32, 32)  # (in, out)


def test_time_width_sets_the_time_branch_alone():
    net = TimeMLP(3, width=32, depth=2, time_embed_dim=16, time_width=8)
    assert (net.time_in.in_features, net.time_in.out_features) == (16, 8)       # embedding -> time_width
    assert (net.time_out.in_features, net.time_out.out_features) == (8, 32)     # time_width -> width
    assert (net.x_in.out_features, net.hidden[0].in_features) == (32, 32)
    assert net(torch.randn(5, 3), torch.rand(5)).shape == (5, 3)
    assert net(torch.randn(5, 3), torch.tensor(0.3)).shape == (5, 3)
    batched = TimeMLP(3, 32, 1, 16, replicas=2, time_width=8)
    assert batched(torch.randn(2, 5, 3), torch.rand(2, 5)).shape == (2, 5, 3)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8"])
def test_a_bad_time_width_is_refused_naming_it(bad):
    with pytest.raises(ValueError, match="^time_width must be a positive integer"):
        TimeMLP(2, 32, 1, 16, time_width=bad)
