"""genlab.regression.networks: the four two-layer parametrisations, their tangent kernels, the deep ReLU net.

Tolerances: exact float64 identities at ~1e-12 (sums of m terms in another order: m eps);
Monte Carlo at 5 standard errors estimated from the per-neuron terms themselves.
"""

import math

import numpy as np
import pytest
import torch

from genlab.kernels import TwoLayerReLU, empirical_ntk, ntk_kernel
from genlab.regression.dynamics import ntk_init_error
from genlab.regression.networks import PARAMETRISATIONS, DeepReLUNet, TwoLayerNet, deep_size



def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _net(p: str, m: int, seed: int, d: int = 3) -> TwoLayerNet:
    return TwoLayerNet(d, m, parametrisation=p, alpha=2.5 if p == "lazy" else 1.0, generator=_gen(seed))


def _points() -> torch.Tensor:
    return torch.randn(8, 3, generator=_gen(0), dtype=torch.float64)          # (8, 3)


def test_ntk_parametrisation_is_the_kernels_two_layer_relu():
    X = torch.randn(6, 4, generator=_gen(1), dtype=torch.float64)
    ref, net = TwoLayerReLU(4, 37, generator=_gen(2)), TwoLayerNet(4, 37, generator=_gen(2))
    assert bool((ref.a == net.a).all()) and bool((ref.W == net.W).all())     # the same draws, same order
    assert bool((ref(X) == net(X)).all())                                    # the same arithmetic
    # standard: a / sqrt(m) with no explicit scale, the same function at initialisation up to rounding
    std = TwoLayerNet(4, 37, parametrisation="standard", generator=_gen(2))
    torch.testing.assert_close(std(X), net(X), rtol=1e-13, atol=1e-14)
    # lazy is centred: f = 0 at initialisation, exactly
    assert bool((TwoLayerNet(4, 37, parametrisation="lazy", alpha=3.0, generator=_gen(2))(X) == 0).all())


@pytest.mark.parametrize("p", PARAMETRISATIONS)
def test_empirical_ntk_is_lr_multiplier_times_gradient_gram_over_the_scale(p):
    X = torch.randn(5, 3, generator=_gen(3), dtype=torch.float64)
    net = _net(p, 40, 4)
    with torch.no_grad():                       # away from initialisation, so the lazy centring is exercised
        net.a.add_(0.1)
        net.W.add_(0.05)
    raw = empirical_ntk(net, X, method="autograd")                          # <grad f(x), grad f(y)> by autograd
    # the closed form and autograd sum the same O(m) terms in two orders: ~ m eps
    torch.testing.assert_close(net.empirical_ntk(X), net.lr_multiplier * raw / net.tangent_kernel_scale,
                               rtol=1e-12, atol=1e-13)
    m = net.width
    # (s, lr_multiplier, loss_scale, tangent_kernel_scale): the table of networks.py
    want = {"ntk": (m ** -0.5, 1, 1, 1), "mean_field": (1 / m, m, 1, 1), "standard": (1, 1, 1, m),
            "lazy": (2.5 / m, m, 2.5 ** -2, 2.5 ** 2)}[p]
    got = (net.scale, net.lr_multiplier, net.loss_scale, net.tangent_kernel_scale)
    assert got == pytest.approx(want, rel=1e-15)


def _neuron_terms(net: TwoLayerNet, X: torch.Tensor) -> torch.Tensor:
    """(n, n, m): neuron j's term phi_j(x) phi_j(y) + a_j^2 phi'_j(x) phi'_j(y) <x,y>/d; the model's
    empirical_ntk is their mean over j (networks.py docstring), written out here independently."""
    a, W = net.a.detach(), net.W.detach()
    U = X @ W.T / math.sqrt(X.shape[1])                                      # (n, m)
    phi, step = torch.relu(U), (U > 0).to(torch.float64)
    return (phi[:, None, :] * phi[None, :, :]
            + (X @ X.T / X.shape[1])[:, :, None] * a ** 2 * step[:, None, :] * step[None, :, :])


def _mean_kernel(p: str, X: torch.Tensor, m: int) -> torch.Tensor:
    """E[empirical_ntk] at initialisation: Theta for a ~ N(0, 1); Theta_out + Theta_hid / m for the
    standard parametrisation (a ~ N(0, 1/m), E a^2 = 1/m)."""
    if p == "standard":
        return ntk_kernel(X, part="output") + ntk_kernel(X, part="hidden") / m
    return ntk_kernel(X)


@pytest.mark.parametrize("p", PARAMETRISATIONS)
def test_empirical_ntk_at_initialisation_is_within_five_standard_errors_of_its_limit(p):
    X, m = _points(), 2 ** 14
    net = _net(p, m, 5)
    terms = _neuron_terms(net, X)                                            # (8, 8, m)
    emp, se = terms.mean(dim=2), terms.std(dim=2) / math.sqrt(m)
    torch.testing.assert_close(net.empirical_ntk(X), emp, rtol=1e-12, atol=1e-14)
    # each entry is a mean of m i.i.d. terms (a_j, w_j independent across j): |emp - E emp| > 5 se has
    # probability 5.7e-7 per entry (CLT; finite third moments), 2e-5 over the 36 distinct entries
    assert bool(((emp - _mean_kernel(p, X, m)).abs() <= 5 * se).all())
    # the limit: ntk_kernel itself (ntk, mean_field, lazy) or its output part (standard), whose bias
    # Theta_hid / m (<= max|Theta_hid| / 2^14 ~ 6e-5 here) is a fraction of one se (~ 1e-2)
    assert net.kernel_part == ("output" if p == "standard" else "both")
    K_lim = ntk_kernel(X, part=net.kernel_part)
    assert bool(((emp - K_lim).abs() <= 5 * se + ntk_kernel(X, part="hidden").abs() / m).all())


def test_ntk_mean_field_and_lazy_have_the_same_kernel_at_initialisation():
    # the same draws of (a, W) ~ N(0, 1), and empirical_ntk = Theta_m(a, W) in all three (networks.py
    # docstring): the finite-width law below, checked on "ntk", holds for the other two as it stands
    X = _points()
    K = _net("ntk", 64, 9).empirical_ntk(X)
    for p in ("mean_field", "lazy"):
        assert bool((_net(p, 64, 9).empirical_ntk(X) == K).all())


@pytest.mark.parametrize("p", ["ntk", "standard"])
def test_relative_ntk_error_falls_fourfold_from_width_2_8_to_2_12(p):
    X, seeds = _points(), 100
    e2 = {}
    for m in (2 ** 8, 2 ** 12):
        K = _mean_kernel(p, X, m)
        e2[m] = np.array([float(torch.linalg.matrix_norm(_net(p, m, 1000 + s).empirical_ntk(X) - K)) ** 2
                          for s in range(seeds)]) / float(torch.linalg.matrix_norm(K)) ** 2
    # E ||K_m - E K_m||_F^2 = V_m / m exactly (a mean of m i.i.d. terms): V_m = V for a ~ N(0, 1), and
    # V (1 + O(1/m)) for the standard a ~ N(0, 1/m) (its hidden-layer terms are 1/m smaller), so the
    # ratio of the root mean squares R = sqrt(mean e2[2^8] / mean e2[2^12]) estimates 4 (within 0.4%).
    # log R is a difference of logs of two independent means of `seeds` terms: by the delta method its
    # standard error is (1/2) sqrt((cv_8^2 + cv_12^2) / seeds), cv the terms' coefficients of variation
    log_R = 0.5 * math.log(e2[2 ** 8].mean() / e2[2 ** 12].mean())
    cv2 = [(v.std(ddof=1) / v.mean()) ** 2 for v in e2.values()]
    se = 0.5 * math.sqrt(sum(cv2) / seeds)
    assert abs(log_R - math.log(4)) <= 5 * se, (math.exp(log_R), se)
    assert 5 * se < math.log(2)          # the test has power: it separates 4 from 2 and 8
    # the library's measure for the ntk-scaled nets: the same relative Frobenius error, ~ m^-1/2
    if p == "ntk":
        assert ntk_init_error(_net(p, 2 ** 8, 1000), X) == pytest.approx(math.sqrt(e2[2 ** 8][0]), rel=1e-12)


def test_bad_arguments_give_one_line_messages():
    with pytest.raises(ValueError, match=r"^width must be an integer >= 1, got 0$"):
        TwoLayerNet(3, 0)
    with pytest.raises(ValueError, match=r"^alpha must be > 0, got 0$"):
        TwoLayerNet(3, 8, parametrisation="lazy", alpha=0)
    with pytest.raises(ValueError, match=r"^parametrisation must be one of ntk, mean_field, standard, lazy; "
                                         r"got 'nt'$"):
        TwoLayerNet(3, 8, parametrisation="nt")
    with pytest.raises(ValueError, match=r"^alpha applies to parametrisation 'lazy' only"):
        TwoLayerNet(3, 8, alpha=2.0)
    with pytest.raises(ValueError, match=r"^width must be an integer >= 1, got 2.5$"):
        DeepReLUNet(3, 2.5, 2)
    with pytest.raises(ValueError, match=r"^rule must be one of fixed, schmidt_hieber; got 'deep'$"):
        deep_size(100, 2, 1.0, rule="deep")


def test_initial_parameters_are_clones_of_the_first_draw():
    net = _net("mean_field", 16, 6)
    a0, W0 = net.initial_parameters()
    with torch.no_grad():
        net.a.add_(1.0)
    assert bool((a0 == net.a0).all()) and bool((W0 == net.W).all()) and not bool((a0 == net.a).any())
    a0.add_(1.0)                                              # a clone: the model's copy is untouched
    assert bool((net.a0 + 1.0 == a0).all())


def test_deep_relu_net_shapes_and_he_initialisation():
    d, width, depth = 5, 256, 3
    net = DeepReLUNet(d, width, depth, generator=_gen(7))
    x = torch.randn(11, d, generator=_gen(8), dtype=torch.float64)
    assert net(x).shape == (11,) and net(x).dtype == torch.float64
    linears = [mod for mod in net.layers if isinstance(mod, torch.nn.Linear)]
    assert len(linears) == depth + 1 and all(bool((lin.bias == 0).all()) for lin in linears)
    for i, lin in enumerate(linears):
        w = lin.weight.detach().reshape(-1)
        var = (1.0 if i == depth else 2.0) / lin.in_features
        # the sample variance of N i.i.d. N(0, var) draws has sd var sqrt(2 / (N - 1)): 5 of those
        assert abs(float(w.var()) - var) <= 5 * var * math.sqrt(2 / (w.numel() - 1))
    # same generator state, same network
    torch.testing.assert_close(DeepReLUNet(d, width, depth, generator=_gen(7))(x), net(x), rtol=0, atol=0)


def test_deep_size_rules():
    assert deep_size(1000, 2, 1.0) == (64, 3)                                # "fixed": the defaults
    assert deep_size(1000, 2, 1.0, rule="fixed", width=8, depth=2) == (8, 2)
    # width = ceil(4 n^{d/(2s+d)}), depth = max(2, ceil(log2(n)/4)): n = 1024, d = 2, s = 1: 4 * 1024^(1/2)
    assert deep_size(1024, 2, 1.0, rule="schmidt_hieber", width=512) == (128, 3)
    assert deep_size(2 ** 20, 4, 1.0, rule="schmidt_hieber", width=512) == (512, 5)    # the width cap
    assert deep_size(1024, 2, 1.0, rule="schmidt_hieber", width=100) == (100, 3)
    assert deep_size(16, 1, 2.0, rule="schmidt_hieber", width=512) == (7, 2)            # 4 * 16^(1/5) = 6.96; log2(16)/4 = 1
