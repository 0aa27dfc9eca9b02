"""Differentiable losses (issue 18, item 7): sliced W_p, MMD^2_u and the Sinkhorn divergence on torch
tensors equal the detached metrics and POT on the same inputs, pass gradcheck in float64, agree with
finite differences of the detached metrics, and one descent step moves samples toward the target."""

import numpy as np
import ot
import pytest
import torch

from metrics import (
    mmd2_loss,
    mmd2_unbiased,
    projection_bank,
    sinkhorn_loss,
    sliced_wasserstein_loss,
    wasserstein,
)

# Same float64 computation in another order (torch vs numpy sums and sorts): ~1e-15 relative on O(1).
EXACT = 1e-10
# Central differences with step H of a smooth function: truncation H^2 |f'''| / 6 ~ 1e-12 and
# rounding eps |f| / H ~ 2e-10 on O(1) values; FD_TOL is 100x the larger.
H, FD_TOL = 1e-6, 2e-8


def _pair(seed, n=60, m=50, d=2, shift=0.7):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(m, d, generator=g, dtype=torch.float64) * 1.3 + shift
    return x, y


def _directional_fd(f_numpy, x, v):
    """(f(x + H v) - f(x - H v)) / (2 H) for a detached metric f of a numpy array."""
    x, v = x.detach().numpy(), v.numpy()
    return (f_numpy(x + H * v) - f_numpy(x - H * v)) / (2 * H)


def _grad(loss_fn, x):
    x = x.detach().clone().requires_grad_(True)
    value = loss_fn(x)
    (g,) = torch.autograd.grad(value, x)
    return value, g


# ----------------------------------------------------------------------------- sliced W


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_loss_equals_detached_metric_and_pot(p):
    x, y = _pair(0, n=200, m=200, d=3)
    x.requires_grad_(True)
    loss = sliced_wasserstein_loss(x, y, p=p, n_projections=30, seed=2)
    assert loss.requires_grad and loss.shape == () and loss.dtype == torch.float64
    assert abs(loss.item() - wasserstein(x, y, p=p, method="sliced", n_projections=30, seed=2)) < EXACT
    # unequal sizes, unnormalised weights, user directions: POT's numpy result on the same inputs
    x2, y2 = x.detach()[:130], y[:77]
    wa = torch.rand(130, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 4
    wb = torch.rand(77, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    theta = torch.randn(11, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    ours = sliced_wasserstein_loss(x2, y2, p=p, weights_x=wa, weights_y=wb, projections=theta)
    pot = ot.sliced_wasserstein_distance(x2.numpy(), y2.numpy(), (wa / wa.sum()).numpy(), (wb / wb.sum()).numpy(),
                                         p=p, projections=theta.numpy().T)
    assert abs(ours.item() - pot) < EXACT
    assert abs(ours.item() - wasserstein(x2, y2, p=p, method="sliced", projections=theta, weights_x=wa,
                                         weights_y=wb)) < EXACT


@pytest.mark.parametrize("p", [1, 2, 3])
def test_sliced_sorting_path_equals_pots_torch_path_value_and_gradient(p):
    # Equal sizes and no weights take the sorting path; explicit uniform weights send the same
    # inputs through POT's torch backend (merged quantiles): value and gradient must agree.
    x, y = _pair(13, n=90, m=90, d=3)
    u = torch.full((90,), 1.0, dtype=torch.float64)
    fast, g_fast = _grad(lambda x: sliced_wasserstein_loss(x, y, p=p, n_projections=25), x)
    pot, g_pot = _grad(lambda x: sliced_wasserstein_loss(x, y, p=p, n_projections=25, weights_x=u, weights_y=u), x)
    assert abs(fast.item() - pot.item()) < EXACT
    assert float((g_fast - g_pot).abs().max()) < EXACT


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_loss_gradcheck_sorting_path(p):
    x, y = _pair(14, n=6, m=6, d=2)
    bank = torch.from_numpy(projection_bank(2, 4, seed=1))
    f = lambda x, y: sliced_wasserstein_loss(x, y, p=p, projections=bank)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x.requires_grad_(), y.requires_grad_()))


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_loss_gradcheck(p):
    # Generic points: no ties within gradcheck's step 1e-6 on any projection, so the 1-D
    # couplings are fixed and the loss is smooth there.
    x, y = _pair(1, n=7, m=5, d=2)
    w = torch.rand(5, generator=torch.Generator().manual_seed(4), dtype=torch.float64) + 0.5
    bank = torch.from_numpy(projection_bank(2, 4, seed=1))
    f = lambda x, y, w: sliced_wasserstein_loss(x, y, p=p, weights_y=w, projections=bank)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x.requires_grad_(), y.requires_grad_(), w.requires_grad_()))


def test_sliced_loss_gradient_equals_finite_differences_of_the_metric():
    x, y = _pair(2, n=40, m=40, d=3)
    value, g = _grad(lambda x: sliced_wasserstein_loss(x, y, p=2, n_projections=20), x)
    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    fd = _directional_fd(lambda a: wasserstein(a, y, p=2, method="sliced", n_projections=20), x, v)
    assert abs(float((g * v).sum()) - fd) < FD_TOL


# ----------------------------------------------------------------------------- MMD


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
@pytest.mark.parametrize("bandwidth", ["median", 0.8])
def test_mmd2_loss_equals_mmd2_unbiased(kernel, bandwidth):
    x, y = _pair(3, n=70, m=45, d=3)
    x.requires_grad_(True)
    loss = mmd2_loss(x, y, kernel=kernel, bandwidth=bandwidth)
    assert loss.requires_grad and loss.shape == ()
    assert abs(loss.item() - mmd2_unbiased(x, y, kernel=kernel, bandwidth=bandwidth)) < 1e-12


@pytest.mark.parametrize("kernel", ["gaussian", "laplacian"])
def test_mmd2_loss_gradcheck(kernel):
    x, y = _pair(4, n=6, m=5, d=2)
    f = lambda x, y: mmd2_loss(x, y, kernel=kernel, bandwidth=0.9)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x.requires_grad_(), y.requires_grad_()))


def test_mmd2_loss_gradient_equals_finite_differences_of_the_metric():
    x, y = _pair(5, n=50, m=40, d=2)
    _, g = _grad(lambda x: mmd2_loss(x, y, bandwidth=1.1), x)
    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    fd = _directional_fd(lambda a: mmd2_unbiased(a, y.numpy(), bandwidth=1.1), x, v)
    assert abs(float((g * v).sum()) - fd) < FD_TOL


# ----------------------------------------------------------------------------- Sinkhorn


def _pot_entropic_ot(a, b, cost, eps):
    """OT_eps = <P, C> + eps KL(P | a b^T) at POT's log-domain Sinkhorn plan, run to 1e-12."""
    plan = ot.sinkhorn(a, b, cost, eps, method="sinkhorn_log", stopThr=1e-12, numItermax=200_000)
    kl = np.sum(plan * (np.log(plan) - np.log(a)[:, None] - np.log(b)[None, :]))
    return float(np.sum(plan * cost) + eps * kl)


def test_sinkhorn_loss_equals_pot_and_the_detached_metric():
    # Both sides stop at an L2 marginal error <= 1e-12: the value then errs by about
    # sqrt(n) * 1e-12 * max C ~ 1e-10; 1e-9 on O(1) values.
    x, y = _pair(6, n=30, m=25, d=2)
    a = np.full(30, 1 / 30)
    wb = np.random.default_rng(7).random(25) + 0.2
    b = wb / wb.sum()
    eps = 0.5
    xn, yn = x.numpy(), y.numpy()
    pot = (_pot_entropic_ot(a, b, ot.dist(xn, yn), eps)
           - 0.5 * (_pot_entropic_ot(a, a, ot.dist(xn, xn), eps) + _pot_entropic_ot(b, b, ot.dist(yn, yn), eps)))
    loss = sinkhorn_loss(x.requires_grad_(), y, p=2, reg=eps, weights_y=torch.from_numpy(wb), tol=1e-12)
    assert loss.requires_grad and loss.shape == ()
    assert abs(loss.item() - pot) < 1e-9
    metric = wasserstein(x, y, p=2, method="sinkhorn", reg=eps, weights_y=wb, tol=1e-12) ** 2
    assert abs(loss.item() - metric) < 1e-9


def test_sinkhorn_loss_default_reg_is_the_metrics():
    x, y = _pair(7, n=40, m=40, d=2)
    metric = wasserstein(x, y, p=1, method="sinkhorn")
    assert abs(sinkhorn_loss(x, y, p=1).item() - metric) < 1e-5   # tol 1e-7: sqrt(n) tol max C


@pytest.mark.parametrize("p", [1, 2])
def test_sinkhorn_loss_gradcheck(p):
    # Potentials to 1e-12: the dual value errs by O(err^2), so finite differences at step 1e-6
    # see the exact function; the envelope gradient is exact at the fixed point.
    x, y = _pair(8, n=6, m=5, d=2)
    w = torch.rand(5, generator=torch.Generator().manual_seed(9), dtype=torch.float64) + 0.5
    f = lambda x, y, w: sinkhorn_loss(x, y, p=p, reg=0.7, weights_y=w, tol=1e-12)  # noqa: E731
    assert torch.autograd.gradcheck(f, (x.requires_grad_(), y.requires_grad_(), w.requires_grad_()))


def test_sinkhorn_loss_gradient_equals_finite_differences_of_the_metric():
    # The metric's value errs by up to sqrt(n) * tol * max C ~ 5.5 * 1e-12 * 20 ~ 1e-10 (marginals
    # to 1e-12), so the step is h = 1e-4: that error over 2h is 5e-7, truncation h^2 |f'''| / 6 ~ 2e-8.
    x, y = _pair(9, n=30, m=30, d=2)
    _, g = _grad(lambda x: sinkhorn_loss(x, y, p=2, reg=0.5, tol=1e-12), x)
    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    h = 1e-4
    f = lambda a: wasserstein(a, y, p=2, method="sinkhorn", reg=0.5, tol=1e-12) ** 2  # noqa: E731
    fd = (f(x.numpy() + h * v.numpy()) - f(x.numpy() - h * v.numpy())) / (2 * h)
    assert abs(float((g * v).sum()) - fd) < 1e-5


# ----------------------------------------------------------------------------- as a training loss

LOSSES = {
    "sliced": lambda x, y: sliced_wasserstein_loss(x, y, p=2, n_projections=50),
    "mmd2": lambda x, y: mmd2_loss(x, y, bandwidth=1.0),
    "sinkhorn": lambda x, y: sinkhorn_loss(x, y, p=2),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_one_descent_step_moves_samples_toward_the_target(name):
    # One normalised gradient step on the samples (every coordinate moves <= 0.05): the loss must
    # drop by at least half its first-order prediction (Armijo, c = 1/2), which a wrong sign or a
    # wrong scale of the gradient fails, and the sample mean must move toward the target's.
    loss_fn = LOSSES[name]
    x, y = _pair(11, n=200, m=200, d=2, shift=2.0)
    value, g = _grad(lambda x: loss_fn(x, y), x)
    alpha = 0.05 / float(g.abs().max())
    x1 = x - alpha * g
    with torch.no_grad():
        new = loss_fn(x1, y)
    assert new.item() <= value.item() - 0.5 * alpha * float((g * g).sum())
    target = y.mean(0)
    assert float((x1.mean(0) - target).norm()) < float((x.mean(0) - target).norm())


@pytest.mark.parametrize("name", list(LOSSES))
def test_float32_in_float32_out_close_to_float64(name):
    x, y = _pair(12, n=100, m=80, d=2)
    x32 = x.float().requires_grad_(True)
    loss = LOSSES[name](x32, y.float())
    loss.backward()
    assert loss.dtype == torch.float32 and x32.grad.dtype == torch.float32
    # float32 rounding of O(1) sums over ~10^4 terms: ~1e-5 relative (sqrt(10^4) * 6e-8 * 10 margin)
    ref = LOSSES[name](x, y).item()
    assert abs(loss.item() - ref) <= 1e-5 * max(abs(ref), 1e-2)


BAD = [
    ("x", lambda: sliced_wasserstein_loss(torch.tensor([[np.nan, 0.0]]), torch.zeros(3, 2))),
    ("y", lambda: sliced_wasserstein_loss(torch.zeros(3, 2), torch.zeros(3, 3))),
    ("weights_x", lambda: sliced_wasserstein_loss(torch.zeros(3, 2), torch.ones(3, 2),
                                                  weights_x=torch.tensor([1.0, -1.0, 1.0]))),
    ("weights_y", lambda: sinkhorn_loss(torch.zeros(3, 2), torch.ones(3, 2), weights_y=torch.zeros(3))),
    ("projections", lambda: sliced_wasserstein_loss(torch.zeros(3, 2), torch.ones(3, 2), projections=torch.ones(2, 5))),
    ("p", lambda: sliced_wasserstein_loss(torch.zeros(3, 2), torch.ones(3, 2), p=0.5)),
    ("bandwidth", lambda: mmd2_loss(torch.zeros(3, 2), torch.ones(3, 2), bandwidth=0.0)),
    ("kernel", lambda: mmd2_loss(torch.zeros(3, 2), torch.ones(3, 2), kernel="cosine")),
    ("x", lambda: mmd2_loss(torch.zeros(1, 2), torch.ones(3, 2))),
    ("reg", lambda: sinkhorn_loss(torch.zeros(3, 2), torch.ones(3, 2), reg=-1.0)),
]


@pytest.mark.parametrize("name,call", BAD, ids=[f"{i}-{c[0]}" for i, c in enumerate(BAD)])
def test_bad_input_raises_one_line_naming_the_argument(name, call):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert msg.startswith(name) and "\n" not in msg, msg
