"""The width scalings of TimeMLP (issue 17): standard, ntk, mean_field (genlab/nn/scaling.py).

Closed forms used below, for a ReLU network at any width n.  A pre-activation h = sum_j W_j a_j + b
with W, b symmetric and independent of the inputs a is symmetric, so E[relu(h)^2] = E[h^2] / 2
exactly; with E[W_j^2] = c / f (f the fan-in) and E[b^2] = beta^2, E[h^2] = c E[relu(h_prev)^2] + beta^2.
This gives E[out^2] layer by layer with no large-width limit: ntk and mean_field have c = 1, beta = 0
(the readout of mean_field c = 1 / n); standard has c = 1/3, beta^2 = 1 / (3 f) (U(-1/sqrt(f), 1/sqrt(f))).
"""

from __future__ import annotations

import math

import pytest
import torch

from genlab.nn import SinusoidalEmbedding, TimeMLP
from genlab.nn.linear import ReplicaLinear
from genlab.nn.scaling import ScaledLinear, layer_scale, weight_movement

D, E = 2, 16


def _second_moment(scaling: str, x: torch.Tensor, e: torch.Tensor, width: int, depth: int) -> torch.Tensor:
    """E[out_k^2] over the initialisation for input x (B, d) and time embedding e (E,), (B,)."""
    x2, e2 = (x ** 2).sum(-1), float((e ** 2).sum())
    if scaling == "standard":
        q_time = (e2 + 1) / (3 * E) / 2                                  # E relu(time_in)^2
        v = (x2 + 1) / (3 * D) + q_time / 3 + 1 / (3 * width)            # E h_0^2
        for _ in range(depth):
            v = v / 2 / 3 + 1 / (3 * width)
        return v / 2 / 3 + 1 / (3 * width)
    v = x2 / D + e2 / E / 2
    for _ in range(depth):
        v = v / 2
    return v / 2 / (width if scaling == "mean_field" else 1)


@pytest.mark.parametrize("scaling", ["standard", "ntk", "mean_field"])
@pytest.mark.parametrize("width", [16, 128])
def test_output_variance_at_init_is_the_closed_form_at_every_width(scaling, width):
    """E[out^2] over R = 4000 independent inits (replicas) against the closed form, within 4.5 of its
    Monte Carlo standard errors (6 comparisons per case).  The closed form does not depend on the
    width beyond 1/(3n) bias terms: O(1) for standard and ntk; mean_field's readout 1/n makes it
    n times smaller (its output starts at the zero function as n grows), so n E[out^2] is O(1)."""
    depth, R, chunk = 2, 4000, 500
    x = torch.tensor([[0.0, 0.0], [1.0, -2.0], [3.0, 0.5]], dtype=torch.float64)
    tau = torch.tensor(0.4, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    out2 = []
    for _ in range(R // chunk):
        net = TimeMLP(D, width, depth, E, "relu", replicas=chunk, generator=g, scaling=scaling).double()
        out2.append(net(x.expand(chunk, 3, D), tau).pow(2).detach())  # (chunk, B, d)
    out2 = torch.cat(out2)                                             # (R, B, d)
    mean, se = out2.mean(0), out2.std(0) / math.sqrt(R)
    e = SinusoidalEmbedding(E)(tau).to(torch.float64)
    want = _second_moment(scaling, x, e, width, depth)[:, None].expand_as(mean)
    assert ((mean - want).abs() <= 4.5 * se).all(), (mean, want, se)
    if scaling == "mean_field":  # the same law as ntk's output divided by sqrt(n)
        assert torch.allclose(width * want, _second_moment("ntk", x, e, width, depth)[:, None].expand_as(mean))


def _as_standard(net: TimeMLP) -> TimeMLP:
    """A standard TimeMLP whose layers hold ``net``'s effective weights multiplier x w and biases."""
    std = TimeMLP(D, net.x_in.out_features, len(net.hidden), E, "silu").double()
    layers = dict(net.named_modules())
    with torch.no_grad():
        for name, layer in std.named_modules():
            if isinstance(layer, ReplicaLinear):
                layer.weight.copy_(layers[name].multiplier * layers[name].weight)
                layer.bias.copy_(layers[name].bias)
    return std


@pytest.mark.parametrize("scaling", ["ntk", "mean_field"])
def test_scaled_network_is_the_standard_module_with_rescaled_weights(scaling):
    """Forward: y = m x w + b is nn.Linear with weight m w, to float64 rounding (1e-12 on outputs of
    size 1).  Gradient: dL/dw = m dL/dW (chain rule), the identity behind the learning-rate rule."""
    g = torch.Generator().manual_seed(1)
    net = TimeMLP(D, 64, 1, E, "silu", generator=g, scaling=scaling).double()
    with torch.no_grad():  # non-zero biases, so the identity covers them
        for p in net.parameters():
            if p.ndim == 1:
                p.normal_(generator=g)
    std = _as_standard(net)
    x = torch.randn(50, D, dtype=torch.float64, generator=g)
    tau = torch.rand(50, dtype=torch.float64, generator=g)
    assert torch.allclose(net(x, tau), std(x, tau), rtol=0, atol=1e-12)
    net(x, tau).pow(2).sum().backward()
    std(x, tau).pow(2).sum().backward()
    for (name, layer), (_, ref) in zip(net.named_modules(), std.named_modules()):
        if isinstance(layer, ScaledLinear):
            assert torch.allclose(layer.weight.grad, layer.multiplier * ref.weight.grad, rtol=1e-10, atol=1e-14)
            assert torch.allclose(layer.bias.grad, ref.bias.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("scaling, rates", [
    # effective Adam rate per layer as a multiple of lr, for width n = 256, d = 2, E = 16
    ("ntk", {"x_in": 1 / math.sqrt(2), "time_in": 1 / 4, "time_out": 1 / 256, "hidden.0": 1 / 256, "out": 1 / 16}),
    ("mean_field", {"x_in": 1 / math.sqrt(2), "time_in": 1 / 4, "time_out": 1 / 256, "hidden.0": 1 / 256,
                    "out": 1 / 256}),
])
def test_one_adam_step_moves_each_effective_weight_by_the_scalings_rate(scaling, rates):
    """Adam's first step (eps = 0) is lr sign(g) on every stored weight, so the effective weight m w
    moves by exactly m lr: mean_field gives muP's Adam rule (hidden and readout lr / n); ntk differs
    only at the readout, lr / sqrt(n)."""
    net = TimeMLP(D, 256, 1, E, "silu", generator=torch.Generator().manual_seed(2), scaling=scaling).double()
    before = {k: v.detach().clone() for k, v in net.named_parameters()}
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=0.0)
    x = torch.randn(64, D, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    (net(x, torch.rand(64, dtype=torch.float64)) - 1.0).pow(2).mean().backward()
    opt.step()
    layers = dict(net.named_modules())
    for name, rate in rates.items():
        step = (layers[name].multiplier * (layers[name].weight - before[f"{name}.weight"])).abs()
        assert torch.allclose(step, torch.full_like(step, 1e-3 * rate), rtol=1e-9, atol=0), name


def test_replicas_of_a_scaled_network_equal_single_networks_drawn_from_the_same_state():
    R = 3
    for scaling in ("ntk", "mean_field"):
        g = torch.Generator().manual_seed(4)
        batched = TimeMLP(D, 16, 1, 8, replicas=R, generator=g, scaling=scaling)
        x, tau = torch.randn(R, 10, D), torch.rand(R, 10)
        out = batched(x, tau)
        for r in range(R):
            single = TimeMLP(D, 16, 1, 8, scaling=scaling)
            with torch.no_grad():
                for (_, p), (_, pb) in zip(single.named_parameters(), batched.named_parameters()):
                    p.copy_(pb[r].reshape(p.shape))
            assert torch.allclose(single(x[r], tau[r]), out[r], atol=1e-5)
    a = ScaledLinear(5, 4, 0.5, 2.0, replicas=2, generator=torch.Generator().manual_seed(5))
    b = ScaledLinear(5, 4, 0.5, 2.0, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.weight[0], b.weight) and not a.bias.any()


def test_layer_scales():
    assert layer_scale("ntk", "input", 4) == (0.5, 1.0)
    assert layer_scale("ntk", "hidden", 256) == (1 / 256, 16.0)
    assert layer_scale("ntk", "output", 256) == (1 / 16, 1.0)
    assert layer_scale("mean_field", "input", 4) == (0.5, 1.0)
    assert layer_scale("mean_field", "hidden", 256) == (1 / 256, 16.0)
    assert layer_scale("mean_field", "output", 256) == (1 / 256, 1.0)


def test_standard_is_the_plain_module():
    net = TimeMLP(D, 16, 2, 8)
    assert all(type(m) is ReplicaLinear for m in net.modules() if isinstance(m, ReplicaLinear))


def test_weight_movement_closed_form():
    """Scaling one layer's effective weights by 1 + c moves it by c ||W_l||_F, so the pooled ratio is
    c ||W_l||_F / ||W||_F and the spectral one c (exact up to float64 rounding)."""
    net0 = TimeMLP(D, 32, 1, 8, generator=torch.Generator().manual_seed(6), scaling="ntk").double()
    net = TimeMLP(D, 32, 1, 8, generator=torch.Generator().manual_seed(6), scaling="ntk").double()
    c = 0.25
    with torch.no_grad():
        net.hidden[0].weight.mul_(1 + c)
    eff = lambda lay: lay.multiplier * lay.weight.detach()  # noqa: E731
    total = math.sqrt(sum(float(eff(m).pow(2).sum()) for m in net0.modules() if isinstance(m, ScaledLinear)))
    got = weight_movement(net, net0)
    assert got["weight_movement"] == pytest.approx(c * float(eff(net0.hidden[0]).norm()) / total, rel=1e-12)
    assert got["weight_movement_spectral"] == pytest.approx(c, rel=1e-12)
    # per layer: the scaled one moved by c, every other not at all
    layers = ("time_in", "time_out", "x_in", "hidden_0", "out")
    assert {k: v for k, v in got.items() if k.startswith("weight_movement_spectral_")} == pytest.approx(
        {f"weight_movement_spectral_{name}": (c if name == "hidden_0" else 0.0) for name in layers}, rel=1e-12)
    still = weight_movement(net0, net0)
    assert still["weight_movement"] == still["weight_movement_spectral"] == 0.0
    assert all(still[f"weight_movement_spectral_{name}"] == 0.0 for name in layers)


def test_an_unknown_scaling_is_refused_naming_the_key():
    with pytest.raises(ValueError, match="^scaling must be one of standard, ntk, mean_field; got 'mup'$"):
        TimeMLP(D, scaling="mup")


@pytest.mark.parametrize("scaling", ["ntk", "mean_field"])
def test_time_out_takes_its_fan_in_from_time_width(scaling):
    """time_out is a hidden layer of fan-in time_width (not width): m = 1/f on N(0, f) stored weights,
    so its effective weights are N(0, 1/f); time_in keeps the embedding's fan-in."""
    net = TimeMLP(D, 256, 0, E, generator=torch.Generator().manual_seed(8), scaling=scaling, time_width=64)
    assert (net.time_out.multiplier, net.time_out.init_std) == layer_scale(scaling, "hidden", 64)
    assert (net.time_in.multiplier, net.time_in.init_std) == layer_scale(scaling, "input", E)
    eff = net.time_out.multiplier * net.time_out.weight.detach().double()   # (64, 256)
    assert float(eff.var()) == pytest.approx(1 / 64, rel=0.05)              # 16k draws: sd of the ratio ~1%
