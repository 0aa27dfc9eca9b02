"""Generator and discriminator MLPs, with PacGAN packing and spectral normalisation as options.

The generator G maps a latent z ~ N(0, I_k) to a point of R^d.  The
discriminator D maps a *packed* input, ``pack`` samples of one source
concatenated into one vector of R^(pack d), to one real number (a logit for the
non-saturating and hinge losses, a critic value for WGAN-GP): packing lets D
see several samples jointly, which penalises a generator that collapses
modes (Lin, Khetan, Fanti & Oh 2018, PacGAN, Sec. 3).  Spectral normalisation
divides each of D's weight matrices by its largest singular value, estimated
by one power iteration per forward pass (Miyato, Kataoka, Koyama & Yoshida
2018, Sec. 2.1), which bounds D's Lipschitz constant by that of its
activations.
"""

from __future__ import annotations

import torch
from torch import nn

from genlab.nn.linear import ReplicaLinear
from genlab.core.validation import check_in, check_positive_int

__all__ = ["Generator", "Discriminator", "pack_samples", "ACTIVATIONS"]

ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.2), "silu": nn.SiLU, "tanh": nn.Tanh}


def _mlp(d_in: int, width: int, depth: int, d_out: int, activation: str, generator, spectral: bool):
    """Linear(d_in, width), then (depth - 1) x [act, Linear(width, width)], act, Linear(width, d_out).

    ``depth`` counts hidden layers (depth = 0: one affine map d_in -> d_out).
    """
    check_in("activation", activation, sorted(ACTIVATIONS))
    sizes = [d_in] + [width] * depth + [d_out]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(ACTIVATIONS[activation]())
        lin = ReplicaLinear(a, b, generator=generator)
        layers.append(nn.utils.parametrizations.spectral_norm(lin) if spectral else lin)
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """G: R^k -> R^d, an MLP of ``depth`` hidden layers of ``width`` units.

    Shapes: z (B, k) -> x (B, d).
    """

    def __init__(self, latent_dim: int, dim: int, width: int = 128, depth: int = 3,
                 activation: str = "relu", generator: torch.Generator | None = None):
        super().__init__()
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.dim = check_positive_int("dim", dim)
        self.net = _mlp(self.latent_dim, check_positive_int("width", width), int(depth), self.dim,
                        activation, generator, spectral=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)                                                    # (B, d)

    def sample_latent(self, m: int, generator: torch.Generator | None = None,
                      device=None) -> torch.Tensor:
        """m draws of z ~ N(0, I_k), shape (m, k)."""
        return torch.randn(m, self.latent_dim, generator=generator, device=device)


class Discriminator(nn.Module):
    """D: R^(pack d) -> R, an MLP on ``pack`` concatenated samples (PacGAN).

    Shapes: packed x (B, pack d) -> (B,).  Use `pack_samples` to turn
    (B pack, d) samples into (B, pack d).
    """

    def __init__(self, dim: int, pack: int = 1, width: int = 128, depth: int = 3,
                 activation: str = "leaky_relu", spectral_norm: bool = False,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.dim = check_positive_int("dim", dim)
        self.pack = check_positive_int("pack", pack)
        self.net = _mlp(self.dim * self.pack, check_positive_int("width", width), int(depth), 1,
                        activation, generator, spectral=bool(spectral_norm))

    def forward(self, x_packed: torch.Tensor) -> torch.Tensor:
        return self.net(x_packed).squeeze(-1)                                 # (B,)


def pack_samples(x: torch.Tensor, pack: int) -> torch.Tensor:
    """(B pack, d) -> (B, pack d): consecutive groups of ``pack`` samples, concatenated.

    >>> pack_samples(torch.arange(8.).reshape(4, 2), 2).tolist()
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
    """
    n, d = x.shape
    if n % pack:
        raise ValueError(f"pack_samples: {n} samples do not split into groups of {pack}")
    return x.reshape(n // pack, pack * d)
