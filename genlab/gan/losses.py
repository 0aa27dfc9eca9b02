"""GAN objectives as functions of the discriminator's outputs, and the WGAN-GP gradient penalty.

Each loss is a pair ``(d_loss(d_real, d_fake), g_loss(d_fake))`` of means over
a batch of discriminator outputs, d_real = D(x) on data and d_fake = D(G(z)):

- ``non_saturating`` (Goodfellow et al. 2014, Sec. 3; D outputs a logit, sigma the sigmoid):
  L_D = E[-log sigma(D(x))] + E[-log(1 - sigma(D(G z)))] = E softplus(-D(x)) + E softplus(D(G z)),
  L_G = E[-log sigma(D(G z))] = E softplus(-D(G z))  (the "-log D" generator loss).
- ``hinge`` (Lim & Ye 2017; Miyato et al. 2018, eq. 16-17):
  L_D = E relu(1 - D(x)) + E relu(1 + D(G z)),  L_G = -E D(G z).
- ``wgan_gp`` (Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, Algorithm 1):
  L_D = E D(G z) - E D(x) + lambda E (||grad D(x_hat)|| - 1)^2,  L_G = -E D(G z),
  with x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per (packed) sample;
  the penalty is `gradient_penalty`, added by the training step.

Any of them may add the zero-centred R1 penalty on real data, (gamma / 2) E ||grad_x D(x)||^2
(Mescheder, Geiger & Nowozin 2018, "Which training methods for GANs actually converge?", eq. 9),
`r1_penalty`, to the discriminator loss (``gan.r1_gamma`` > 0).

Shapes: d_real (B,), d_fake (B,) -> 0-d tensors.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.nn.functional import relu, softplus

__all__ = ["LOSSES", "gradient_penalty", "r1_penalty", "non_saturating_d", "non_saturating_g", "hinge_d", "hinge_g",
           "wasserstein_d", "wasserstein_g", "uses_gradient_penalty"]


def non_saturating_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return softplus(-d_real).mean() + softplus(d_fake).mean()


def non_saturating_g(d_fake: torch.Tensor) -> torch.Tensor:
    return softplus(-d_fake).mean()


def hinge_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    return relu(1.0 - d_real).mean() + relu(1.0 + d_fake).mean()


def hinge_g(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


def wasserstein_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """The critic's side of the Kantorovich-Rubinstein dual, E D(G z) - E D(x) (minimised)."""
    return d_fake.mean() - d_real.mean()


def wasserstein_g(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


#: name -> (discriminator loss, generator loss)
LOSSES: dict[str, tuple[Callable, Callable]] = {
    "non_saturating": (non_saturating_d, non_saturating_g),
    "hinge": (hinge_d, hinge_g),
    "wgan_gp": (wasserstein_d, wasserstein_g),
}


def uses_gradient_penalty(loss: str) -> bool:
    return loss == "wgan_gp"


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], x_real: torch.Tensor,
                     x_fake: torch.Tensor, gp_lambda: float,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """lambda E_{x_hat} (||grad_x D(x_hat)||_2 - 1)^2 on random interpolates (Gulrajani et al. 2017, eq. 3).

    Parameters
    ----------
    critic : callable
        (B, k) -> (B,), e.g. a `Discriminator` on packed inputs.
    x_real, x_fake : Tensor, shape (B, k)
        Data and generated points (packed, when the critic packs).
    gp_lambda : float
        The penalty weight lambda.
    generator : torch.Generator, optional
        Source of eps ~ U[0, 1], one per row.

    Returns
    -------
    Tensor, 0-d
        Differentiable in the critic's parameters (``create_graph=True``).
    """
    eps = torch.rand(x_real.shape[0], 1, generator=generator, device=x_real.device,
                     dtype=x_real.dtype)                                       # (B, 1)
    x_hat = (eps * x_real + (1.0 - eps) * x_fake.detach()).requires_grad_(True)  # (B, k)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # (B, k)
    return gp_lambda * ((grad.norm(dim=1) - 1.0) ** 2).mean()


def r1_penalty(critic: Callable[[torch.Tensor], torch.Tensor], x_real: torch.Tensor,
               gamma: float) -> torch.Tensor:
    """(gamma / 2) E_x ||grad_x D(x)||_2^2 on data points (Mescheder, Geiger & Nowozin 2018, eq. 9).

    The zero-centred R1 penalty: it pushes the discriminator's gradient to 0 on
    the data, so that at the equilibrium (generator = data) the discriminator
    is flat there and the simultaneous-gradient dynamics converge locally
    (their Theorem 4.1); for D(x) = w.x + b it is (gamma / 2) ||w||^2 exactly.

    Parameters
    ----------
    critic : callable
        (B, k) -> (B,), e.g. a `Discriminator` on packed inputs.
    x_real : Tensor, shape (B, k)
        Data points (packed, when the critic packs).
    gamma : float
        The penalty weight gamma.

    Returns
    -------
    Tensor, 0-d
        Differentiable in the critic's parameters (``create_graph=True``).
    """
    x = x_real.detach().requires_grad_(True)                                   # (B, k)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)      # (B, k)
    return 0.5 * gamma * grad.pow(2).sum(dim=1).mean()
