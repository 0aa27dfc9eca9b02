"""GAN objectives against their definitions; the WGAN-GP penalty on a linear critic, where it is exact."""

import math

import pytest
import torch

from genlab.gan import LOSSES, Discriminator, gradient_penalty, pack_samples, r1_penalty


def test_losses_at_an_undecided_discriminator():
    # D = 0 everywhere: sigma(D) = 1/2, so L_D = 2 log 2 and L_G = log 2 (Goodfellow et al. 2014);
    # hinge: L_D = 1 + 1, L_G = 0; Wasserstein: 0 and 0.
    zero = torch.zeros(5, dtype=torch.float64)
    expect = {"non_saturating": (2 * math.log(2.0), math.log(2.0)), "hinge": (2.0, 0.0), "wgan_gp": (0.0, 0.0)}
    for name, (d_loss, g_loss) in LOSSES.items():
        assert abs(float(d_loss(zero, zero)) - expect[name][0]) < 1e-15
        assert abs(float(g_loss(zero)) - expect[name][1]) < 1e-15


def test_losses_against_their_formulas():
    d_real = torch.tensor([2.0, -0.5, 0.25], dtype=torch.float64)
    d_fake = torch.tensor([-1.5, 3.0], dtype=torch.float64)
    sig = torch.sigmoid
    ns_d, ns_g = LOSSES["non_saturating"]
    want = -torch.log(sig(d_real)).mean() - torch.log(1 - sig(d_fake)).mean()
    assert abs(float(ns_d(d_real, d_fake) - want)) < 1e-14
    assert abs(float(ns_g(d_fake) + torch.log(sig(d_fake)).mean())) < 1e-14
    h_d, h_g = LOSSES["hinge"]
    # relu(1 - (2, -0.5, 0.25)) = (0, 1.5, 0.75); relu(1 + (-1.5, 3)) = (0, 4)
    assert abs(float(h_d(d_real, d_fake)) - (2.25 / 3 + 4.0 / 2)) < 1e-15
    assert abs(float(h_g(d_fake)) - (-0.75)) < 1e-15
    w_d, w_g = LOSSES["wgan_gp"]
    assert abs(float(w_d(d_real, d_fake)) - (0.75 - 1.75 / 3)) < 1e-15


def _linear_critic():
    """A generator, the critic D(x) = w.x + b with its parameters (w, b), and 64 real points in R^3."""
    g = torch.Generator().manual_seed(0)
    w = torch.tensor([0.3, -2.0, 1.2], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    critic = lambda x: x @ w + b  # noqa: E731
    return g, w, b, critic, torch.randn(64, 3, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("lam", [1.0, 10.0])
def test_gradient_penalty_of_a_linear_critic_is_lambda_times_norm_minus_one_squared(lam):
    # D(x) = w.x + b has grad_x D = w at every x_hat, so the penalty is lambda (||w|| - 1)^2 exactly,
    # whatever the interpolates; its gradient in w is 2 lambda (||w|| - 1) w / ||w||.
    g, w, b, critic, x_real = _linear_critic()
    x_fake = torch.randn(64, 3, generator=g, dtype=torch.float64) + 5.0
    pen = gradient_penalty(critic, x_real, x_fake, lam, generator=g)
    norm = float(w.detach().norm())
    assert abs(float(pen.detach()) - lam * (norm - 1.0) ** 2) < 1e-12
    pen.backward()
    want = 2 * lam * (norm - 1.0) * w.detach() / norm
    assert torch.allclose(w.grad, want, rtol=0, atol=1e-12)
    assert b.grad is None  # the penalty does not depend on the bias


def test_gradient_penalty_on_packed_inputs_of_a_linear_discriminator():
    # A discriminator with no hidden layer is the affine map of the packed vector (pack d -> 1).
    torch.manual_seed(0)
    disc = Discriminator(dim=2, pack=3, depth=0).double()
    w = disc.net[0].weight.detach().reshape(-1)                            # (pack d,)
    x_real = pack_samples(torch.randn(12, 2, dtype=torch.float64), 3)
    x_fake = pack_samples(torch.randn(12, 2, dtype=torch.float64), 3)
    pen = gradient_penalty(disc, x_real, x_fake, 10.0)
    assert abs(float(pen.detach()) - 10.0 * (float(w.norm()) - 1.0) ** 2) < 1e-12


@pytest.mark.parametrize("gamma", [0.5, 10.0])
def test_r1_penalty_of_a_linear_critic_is_half_gamma_times_norm_squared(gamma):
    # D(x) = w.x + b has grad_x D = w at every data point, so R1 = (gamma / 2) ||w||^2 exactly
    # (Mescheder et al. 2018, eq. 9); its gradient in w is gamma w, and it does not depend on b.
    _, w, b, critic, x_real = _linear_critic()
    pen = r1_penalty(critic, x_real, gamma)
    assert abs(float(pen.detach()) - 0.5 * gamma * float(w.detach().pow(2).sum())) < 1e-12
    pen.backward()
    assert torch.allclose(w.grad, gamma * w.detach(), rtol=0, atol=1e-12)
    assert b.grad is None
    assert x_real.grad is None   # the data are not made to require gradients


def test_r1_penalty_of_a_quadratic_critic_against_its_gradient():
    # D(x) = 1/2 x^T A x (A symmetric) has grad_x D = A x, so R1 = (gamma / 2) mean_i ||A x_i||^2.
    g = torch.Generator().manual_seed(1)
    a = torch.randn(3, 3, generator=g, dtype=torch.float64)
    a = a + a.T
    critic = lambda x: 0.5 * ((x @ a) * x).sum(dim=1)  # noqa: E731
    x_real = torch.randn(50, 3, generator=g, dtype=torch.float64)
    want = 0.5 * 2.0 * (x_real @ a).pow(2).sum(dim=1).mean()
    assert abs(float(r1_penalty(critic, x_real, 2.0).detach()) - float(want)) < 1e-12


def test_r1_penalty_on_packed_inputs_of_a_linear_discriminator():
    torch.manual_seed(0)
    disc = Discriminator(dim=2, pack=4, depth=0).double()
    w = disc.net[0].weight.detach().reshape(-1)                            # (pack d,)
    x_real = pack_samples(torch.randn(16, 2, dtype=torch.float64), 4)
    assert abs(float(r1_penalty(disc, x_real, 3.0).detach()) - 1.5 * float(w.pow(2).sum())) < 1e-12
