"""The protocol every known truth (and every density estimator) follows.

A ``Distribution`` knows how to draw exact samples and, where a Lebesgue
density exists in the ambient space, its log-density and score.  It also
carries the metadata the theory needs: smoothness ``s`` of the density,
intrinsic dimension ``d'`` of its support, and a description of the support.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch

from genlab.core.validation import check_points, check_positive_int

__all__ = ["Distribution", "NoDensityError"]


class NoDensityError(ValueError):
    """Raised by ``log_prob``/``score`` of a law with no density on R^D."""


class Distribution(ABC):
    """A probability law on R^dim with exact sampling.

    Attributes
    ----------
    dim : int
        Ambient dimension D; samples have shape (n, D).
    dtype : torch.dtype
        Floating type of samples and densities (float64 by default).
    device : torch.device
        Where samples are made.
    smoothness : float
        Hölder/Besov smoothness s of the density (``math.inf`` if analytic,
        ``nan`` if there is no density).
    intrinsic_dim : int
        Dimension d' of the support (``dim`` for a full-dimensional law).
    support : str
        Human-readable support, e.g. ``"R^2"`` or ``"[-1, 1]^3"``.
    has_density : bool
        Whether ``log_prob`` is defined on R^dim.
    """

    smoothness: float = math.inf
    support: str = "R^d"
    has_density: bool = True

    def __init__(self, dim: int, *, dtype: torch.dtype = torch.float64,
                 device: torch.device | str = "cpu"):
        self.dim = check_positive_int("dim", dim)
        self.dtype = dtype
        self.device = torch.device(device)

    @property
    def intrinsic_dim(self) -> int:
        return self.dim

    # -- sampling -----------------------------------------------------------
    @abstractmethod
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` exact samples, shape (n, dim)."""

    def as_sampler(self, eval_seed: int = 0):
        """The truth sampler `metrics.evaluate` takes: ``sampler(k, rep) -> ndarray (k, dim)``.

        Rep ``rep`` draws k points from the stream ``derive_seed(eval_seed, "eval", rep)``, as
        every genlab run does, so ``metrics.evaluate(truth.as_sampler(cfg.eval.seed), samples,
        ...)`` scores against the very truth samples a run with that evaluation seed used.
        """
        from genlab.core.seeding import derive_seed, make_generator

        def sampler(k: int, rep: int):
            return self.sample(k, generator=make_generator(derive_seed(eval_seed, "eval", rep))).cpu().numpy()
        return sampler

    # -- density ------------------------------------------------------------
    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Log-density at ``x`` (n, dim) -> (n,).  Subclasses with a density override."""
        raise NoDensityError(
            f"{type(self).__name__} has no density on R^{self.dim} "
            f"(its support has dimension {self.intrinsic_dim})")

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Score grad_x log p(x), shape (n, dim).

        Default: autograd of ``log_prob``; subclasses with a closed form override.
        """
        x = self._check_x(x).detach().requires_grad_(True)
        with torch.enable_grad():
            lp = self.log_prob(x)
            (g,) = torch.autograd.grad(lp.sum(), x)
        return g

    def prob(self, x: torch.Tensor) -> torch.Tensor:
        """Density exp(log_prob(x)), shape (n,)."""
        return self.log_prob(x).exp()

    # -- helpers ------------------------------------------------------------
    def _check_x(self, x, name: str = "x") -> torch.Tensor:
        """``x`` as a (n, dim) tensor of this law's dtype and device, or a ValueError."""
        t = check_points(name, x, dim=self.dim)
        return t.to(dtype=self.dtype, device=self.device)

    def _check_n(self, n) -> int:
        return check_positive_int("n", n)

    def describe(self) -> dict:
        """Metadata for configs, run records and theory look-ups."""
        return {
            "name": type(self).__name__,
            "dim": self.dim,
            "intrinsic_dim": self.intrinsic_dim,
            "smoothness": self.smoothness,
            "support": self.support,
            "has_density": self.has_density,
        }
