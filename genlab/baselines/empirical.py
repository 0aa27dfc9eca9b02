"""The empirical measure of the n training points: the estimator every rate plot starts from.

mu_n = (1/n) sum_i delta_{X_i} has no density, so it is measured only in
distances that accept atoms (Wasserstein, MMD, sliced W).  Its W_p rate is
the reference line of every sweep (Fournier & Guillin 2015, Thm 1; Weed &
Bach 2019); see `genlab.theory.predicted_exponent("empirical", "wasserstein")`.
"""

from __future__ import annotations

import torch

from genlab.distributions.base import Distribution, NoDensityError
from genlab.core.validation import check_points

__all__ = ["EmpiricalMeasure"]


class EmpiricalMeasure(Distribution):
    """mu_n = (1/n) sum_i delta_{x_i} on the training points ``x_train``.

    Parameters
    ----------
    x_train : Tensor or ndarray, shape (n, d)
        The training points; stored as float64 on ``device`` (default: the
        input's device).  Repeated points are kept: they carry mass 2/n.
    device : torch.device or str, optional

    Attributes
    ----------
    points : Tensor, shape (n, d)
        The atoms.  **For distances, use ``points`` itself**: it is the whole
        support of mu_n with equal weights 1/n, so W_p(mu_n, truth) computed on
        ``points`` is the exact distance of the estimator.  ``sample`` draws
        with replacement from ``points`` (a resample), which adds bootstrap
        noise and repeats atoms; use it only where a method needs m points.
    n : int
        Number of atoms.

    Notes
    -----
    ``has_density`` is False: ``log_prob`` and ``score`` raise
    `NoDensityError`.  ``intrinsic_dim`` is 0, the dimension of a finite set.

    Examples
    --------
    >>> mu_n = EmpiricalMeasure(torch.tensor([[0.0], [1.0], [2.0]]))
    >>> mu_n.points.shape, mu_n.points.dtype
    (torch.Size([3, 1]), torch.float64)
    >>> g = torch.Generator().manual_seed(0)
    >>> bool(torch.isin(mu_n.sample(5, generator=g), mu_n.points).all())
    True
    """

    has_density = False
    smoothness = float("nan")

    def __init__(self, x_train, *, device: torch.device | str | None = None):
        x = check_points("x_train", x_train)
        device = x.device if device is None else device
        super().__init__(x.shape[1], device=device)
        self.points = x.to(dtype=self.dtype, device=self.device)
        self.n = self.points.shape[0]
        self.support = f"{self.n} atoms in R^{self.dim}"

    @property
    def intrinsic_dim(self) -> int:
        return 0

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Resample ``n`` atoms uniformly with replacement, shape (n, dim).

        This is the bootstrap law of mu_n, exact as a draw from mu_n; for a
        distance to mu_n itself use ``points`` instead (see the class notes).
        """
        n = self._check_n(n)
        gen_device = generator.device if generator is not None else self.device
        idx = torch.randint(self.n, (n,), generator=generator, device=gen_device)
        return self.points[idx.to(self.device)]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NoDensityError(
            f"EmpiricalMeasure is a sum of {self.n} point masses and has no density on "
            f"R^{self.dim}; compare it with distances that accept atoms (Wasserstein, MMD), "
            "or smooth it first (genlab.baselines.make_kde)")

    def score(self, x: torch.Tensor) -> torch.Tensor:
        self.log_prob(x)  # raises: there is no density, hence no score
