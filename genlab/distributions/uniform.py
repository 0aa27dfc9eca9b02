"""The uniform law on a cube ``[low, high]^d``."""

from __future__ import annotations

import math

import torch

from genlab.distributions.base import Distribution
from genlab.core.validation import check_real

__all__ = ["Uniform"]


class Uniform(Distribution):
    r"""Uniform law on the cube ``[low, high]^d``.

    Density ``(high - low)^{-d}`` on the cube, 0 outside.

    Smoothness: ``smoothness = inf``.  The density is constant, hence
    analytic, on the open cube; on R^d it jumps at the faces.  We report the
    smoothness *on the support* because that is the class the estimation
    theory for densities on a cube uses: Oko, Akiyama & Suzuki (2023,
    "Diffusion models are minimax optimal distribution estimators", ICML,
    Sec. 2, assumptions on the true density) take p in a Besov ball on
    [-1, 1]^d, bounded below there and smooth near the boundary -- the uniform law is the (s = inf)
    corner of that class.  A theory that measures smoothness on R^d would
    see the jump: as a function on R^d the density lies in B^{1/p}_{p,inf}
    and no smoother.

    Parameters
    ----------
    dim : int
    low, high : float
        ``low < high``, finite.

    Examples
    --------
    >>> u = Uniform(2)
    >>> u.log_prob(torch.tensor([[0.0, 0.5], [2.0, 0.0]])).tolist() == [-2 * math.log(2.0), -math.inf]
    True
    """

    smoothness = math.inf
    has_density = True

    def __init__(self, dim: int, low: float = -1.0, high: float = 1.0, *,
                 dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
        super().__init__(dim, dtype=dtype, device=device)
        self.low = check_real("low", low)
        self.high = check_real("high", high)
        if not self.low < self.high:
            raise ValueError(f"high must be > low, got low={low!r}, high={high!r}")
        self.support = f"[{self.low:g}, {self.high:g}]^{self.dim}"
        self._log_density = -self.dim * math.log(self.high - self.low)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples, shape (n, d)."""
        n = self._check_n(n)
        u = torch.rand(n, self.dim, generator=generator, dtype=self.dtype, device=self.device)
        return self.low + (self.high - self.low) * u

    def inside(self, x) -> torch.Tensor:
        """Whether each point lies in the closed cube, shape (n,) bool."""
        x = self._check_x(x)
        return ((x >= self.low) & (x <= self.high)).all(dim=1)

    def log_prob(self, x) -> torch.Tensor:
        """``-d log(high - low)`` on the closed cube, ``-inf`` outside; shape (n,)."""
        x = self._check_x(x)
        inside = ((x >= self.low) & (x <= self.high)).all(dim=1)
        # 0 * x keeps the autograd graph attached, so autograd gives score 0 inside.
        base = (0.0 * x).sum(1) + self._log_density
        return torch.where(inside, base, torch.full_like(base, -math.inf))

    def score(self, x) -> torch.Tensor:
        """Score: 0 in the cube, NaN outside (no log-density there); shape (n, d).

        On the faces the density jumps and the score is undefined; we return
        the one-sided limit from inside, 0, so that samples (which may land on
        ``low`` exactly) get a finite value.
        """
        x = self._check_x(x)
        inside = ((x >= self.low) & (x <= self.high)).all(dim=1, keepdim=True)
        return torch.where(inside, torch.zeros_like(x), torch.full_like(x, math.nan))

    def marginal_cdf(self, u) -> torch.Tensor:
        """Marginal CDF of each coordinate, elementwise on a tensor of any shape."""
        u = torch.as_tensor(u, dtype=self.dtype, device=self.device)
        return ((u - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

