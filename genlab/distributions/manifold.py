r"""Laws supported on low-dimensional sets of R^D: linear subspaces, circles, spheres.

These truths have no Lebesgue density on R^D (``has_density = False``;
``log_prob`` raises :class:`NoDensityError`), but each knows its intrinsic
dimension d' and the density with respect to the d'-dimensional volume of its
support.  They are the setting of Oko, Akiyama & Suzuki (2023, "Diffusion
models are minimax optimal distribution estimators", ICML, Thm. 6.4), where a
density of smoothness s on a d'-dimensional linear subspace is estimated at a
rate governed by d', not D.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.distributions.base import Distribution, NoDensityError
from genlab.core.validation import check_positive, check_positive_int

__all__ = ["SubspaceDensity", "Sphere", "Circle", "random_orthonormal"]


def random_orthonormal(ambient_dim: int, k: int, seed: int = 0) -> np.ndarray:
    """Haar-random ``(ambient_dim, k)`` matrix with orthonormal columns, from ``seed``.

    QR of a standard Gaussian matrix with the sign of ``diag(R)`` fixed
    (Mezzadri 2007), drawn from numpy ``Generator(PCG64(seed))``.

    >>> a = random_orthonormal(5, 2, seed=1)
    >>> bool(np.allclose(a.T @ a, np.eye(2), atol=1e-12))
    True
    """
    ambient_dim = check_positive_int("ambient_dim", ambient_dim)
    k = check_positive_int("k", k)
    if k > ambient_dim:
        raise ValueError(f"k must be <= ambient_dim = {ambient_dim}, got {k}")
    seed = _check_seed(seed)
    rng = np.random.Generator(np.random.PCG64(seed))
    q, r = np.linalg.qr(rng.standard_normal((ambient_dim, k)))
    return q * np.sign(np.diag(r))


class SubspaceDensity(Distribution):
    r"""Law of ``x = A z`` with ``z ~ base`` and ``A`` a (D, d') matrix with orthonormal columns.

    A density of smoothness ``base.smoothness`` on a d'-dimensional linear
    subspace of R^D (Oko et al. 2023, Thm. 6.4: the TV/W1 rates then depend
    on d' = ``intrinsic_dim``, not on D).  Because A is an isometry onto its
    range, ``base.log_prob(z)`` is the density with respect to the
    d'-dimensional Lebesgue (Hausdorff) measure on the subspace.

    Parameters
    ----------
    base : Distribution
        Law of the intrinsic coordinates z, dimension d'.
    ambient_dim : int
        D >= d'.  When D = d' the map is a rotation and the law has a
        density (``log_prob(x) = base.log_prob(A^T x)``).
    seed : int
        Seeds the basis A (numpy ``PCG64``).

    Attributes
    ----------
    basis : Tensor, shape (D, d')
        A, orthonormal columns.

    Examples
    --------
    >>> from genlab.distributions.uniform import Uniform
    >>> law = SubspaceDensity(Uniform(2), ambient_dim=5, seed=0)
    >>> law.dim, law.intrinsic_dim, law.has_density
    (5, 2, False)
    """

    def __init__(self, base: Distribution, ambient_dim: int, *, seed: int = 0):
        if not isinstance(base, Distribution):
            raise ValueError(f"base must be a Distribution, got {type(base).__name__}")
        ambient_dim = check_positive_int("ambient_dim", ambient_dim)
        if ambient_dim < base.dim:
            raise ValueError(f"ambient_dim must be >= base.dim = {base.dim}, got {ambient_dim}")
        super().__init__(ambient_dim, dtype=base.dtype, device=base.device)
        self.base = base
        self.seed = _check_seed(seed)
        self.basis = torch.as_tensor(random_orthonormal(ambient_dim, base.dim, self.seed),
                                     dtype=self.dtype, device=self.device)  # (D, d')
        self.smoothness = base.smoothness
        self.has_density = ambient_dim == base.dim and base.has_density
        self.support = (f"{base.dim}-dimensional linear subspace of R^{ambient_dim} "
                        f"(image of {base.support})")

    @property
    def intrinsic_dim(self) -> int:
        return self.base.dim

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples ``A z``, shape (n, D)."""
        return self.embed(self.base.sample(self._check_n(n), generator=generator))

    def embed(self, z) -> torch.Tensor:
        """Intrinsic coordinates (n, d') -> points ``A z`` of R^D, shape (n, D)."""
        z = self.base._check_x(z, "z")
        return z @ self.basis.T

    def project(self, x) -> torch.Tensor:
        """Intrinsic coordinates ``A^T x`` of the orthogonal projection of x onto the subspace, (n, d')."""
        return self._check_x(x) @ self.basis

    def distance_to_subspace(self, x) -> torch.Tensor:
        """Euclidean distance ``|x - A A^T x|`` from each point to the subspace, shape (n,)."""
        x = self._check_x(x)
        return torch.linalg.vector_norm(x - (x @ self.basis) @ self.basis.T, dim=1)

    def log_prob_intrinsic(self, z) -> torch.Tensor:
        """Log-density of z w.r.t. the d'-dimensional volume on the subspace, shape (n,)."""
        return self.base.log_prob(z)

    def log_prob(self, x) -> torch.Tensor:
        if not self.has_density:
            raise NoDensityError(self._no_density_message())
        return self.base.log_prob(self.project(x))

    def score(self, x) -> torch.Tensor:
        if not self.has_density:
            raise NoDensityError(self._no_density_message())
        return self.base.score(self.project(x)) @ self.basis.T

    def _no_density_message(self) -> str:
        return (f"SubspaceDensity has no density on R^{self.dim}: it lives on a "
                f"{self.intrinsic_dim}-dimensional subspace; use "
                f"log_prob_intrinsic(project(x)) for the density on the subspace")

    def describe(self) -> dict:
        out = super().describe()
        out.update(base=self.base.describe(), seed=self.seed)
        return out


class Sphere(Distribution):
    r"""Uniform law on the sphere S^{d'} of radius r in a random (d'+1)-plane of R^D.

    ``x = A y`` with ``y = r g / |g|``, g ~ N(0, I_{d'+1}), and A a
    (D, d'+1) matrix with orthonormal columns from ``seed``.  The law has no
    density on R^D; its density with respect to the d'-dimensional surface
    measure is the constant ``1 / |S^{d'}_r|``, ``|S^{d'}_r| = 2 pi^{(d'+1)/2}
    r^{d'} / Gamma((d'+1)/2)``, so ``smoothness = inf`` (the intrinsic
    density is constant; a curved support of intrinsic dimension d').

    Parameters
    ----------
    ambient_dim : int
        D >= d' + 1.
    intrinsic_dim : int
        d' >= 1.
    radius : float, > 0
    seed : int

    Examples
    --------
    >>> sph = Sphere(4, intrinsic_dim=2)
    >>> sph.dim, sph.intrinsic_dim, round(sph.surface_area / math.pi, 12)
    (4, 2, 4.0)
    """

    has_density = False
    smoothness = math.inf

    def __init__(self, ambient_dim: int, intrinsic_dim: int = 2, *, radius: float = 1.0,
                 seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: torch.device | str = "cpu"):
        ambient_dim = check_positive_int("ambient_dim", ambient_dim)
        k = check_positive_int("intrinsic_dim", intrinsic_dim)
        if ambient_dim < k + 1:
            raise ValueError(f"ambient_dim must be >= intrinsic_dim + 1 = {k + 1}, got {ambient_dim}")
        super().__init__(ambient_dim, dtype=dtype, device=device)
        self._k = k
        self.radius = check_positive("radius", radius)
        self.seed = _check_seed(seed)
        self.basis = torch.as_tensor(random_orthonormal(ambient_dim, k + 1, self.seed),
                                     dtype=self.dtype, device=self.device)  # (D, d'+1)
        self.surface_area = (2.0 * math.pi ** ((k + 1) / 2) * self.radius**k
                             / math.gamma((k + 1) / 2))
        self.support = f"sphere S^{k} of radius {self.radius:g} in a {k + 1}-plane of R^{ambient_dim}"

    @property
    def intrinsic_dim(self) -> int:
        return self._k

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` samples, shape (n, D)."""
        n = self._check_n(n)
        g = torch.randn(n, self._k + 1, generator=generator, dtype=self.dtype, device=self.device)
        y = self.radius * g / torch.linalg.vector_norm(g, dim=1, keepdim=True)
        return y @ self.basis.T

    def project(self, x) -> torch.Tensor:
        """Coordinates ``A^T x`` in the sphere's (d'+1)-plane, shape (n, d'+1)."""
        return self._check_x(x) @ self.basis

    def distance_to_support(self, x) -> torch.Tensor:
        """Euclidean distance from each point to the sphere, shape (n,)."""
        x = self._check_x(x)
        y = x @ self.basis
        off_plane = torch.linalg.vector_norm(x - y @ self.basis.T, dim=1)
        in_plane = torch.linalg.vector_norm(y, dim=1) - self.radius
        return torch.sqrt(off_plane**2 + in_plane**2)

    def log_prob_intrinsic(self, y) -> torch.Tensor:
        """Log-density w.r.t. surface measure at plane coordinates y (n, d'+1), shape (n,).

        ``-log |S^{d'}_r|`` where ``| |y| - r | <= 1e-9 r`` (on the sphere up to
        rounding), ``-inf`` elsewhere.
        """
        y = torch.as_tensor(y, dtype=self.dtype, device=self.device)
        if y.ndim != 2 or y.shape[1] != self._k + 1:
            raise ValueError(f"y must have shape (n, {self._k + 1}), got shape {tuple(y.shape)}")
        on = (torch.linalg.vector_norm(y, dim=1) - self.radius).abs() <= 1e-9 * self.radius
        out = torch.full((y.shape[0],), -math.log(self.surface_area), dtype=self.dtype,
                         device=self.device)
        return torch.where(on, out, torch.full_like(out, -math.inf))

    def log_prob(self, x) -> torch.Tensor:
        raise NoDensityError(
            f"{type(self).__name__} has no density on R^{self.dim}: it lives on a "
            f"{self._k}-dimensional sphere; use log_prob_intrinsic(project(x)) for the "
            f"density w.r.t. surface measure")

    def score(self, x) -> torch.Tensor:
        return self.log_prob(x)

    def describe(self) -> dict:
        out = super().describe()
        out.update(radius=self.radius, seed=self.seed)
        return out


class Circle(Sphere):
    """Uniform law on a circle of radius r in a random 2-plane of R^D (``Sphere`` with d' = 1).

    Examples
    --------
    >>> c = Circle(3, radius=2.0)
    >>> c.intrinsic_dim, round(c.surface_area / math.pi, 12)
    (1, 4.0)
    """

    def __init__(self, ambient_dim: int = 2, radius: float = 1.0, *, seed: int = 0,
                 dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"):
        super().__init__(ambient_dim, 1, radius=radius, seed=seed, dtype=dtype, device=device)

    def angle(self, x) -> torch.Tensor:
        """Angle in (-pi, pi] of each point's projection onto the circle's plane, shape (n,)."""
        y = self.project(x)
        return torch.atan2(y[:, 1], y[:, 0])


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return int(seed)
