"""Gaussian mixtures with full covariances: exact density, score, sampling and noising.

A mixture p = sum_k w_k N(mu_k, Sigma_k) is the workhorse truth of genlab:
its log-density and score are closed-form, and the law of ``alpha X + sigma Z``
(X ~ p, Z ~ N(0, I) independent) is again a Gaussian mixture,

    alpha X + sigma Z  ~  sum_k w_k N(alpha mu_k, alpha^2 Sigma_k + sigma^2 I),

so the true score of the forward diffusion is known at every time
(Song et al. 2021, "Score-based generative modeling through SDEs", eq. (5):
the marginal of the VP/VE forward process is ``x_t = alpha_t x_0 + sigma_t z``).

Presets: the ring and grid of PacGAN (Lin et al. 2018, "PacGAN: the power of two
samples in generative adversarial networks", Sec. 5.1, after VEEGAN), a fixed
anisotropic 2-D mixture for the diffusion recipe, and seeded random mixtures
separated in any dimension.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.distributions.base import Distribution
from genlab.core.validation import check_nonnegative, check_positive, check_positive_int

__all__ = ["GaussianMixture"]

_LOG_2PI = math.log(2.0 * math.pi)


class GaussianMixture(Distribution):
    r"""Mixture of Gaussians ``p(x) = sum_k w_k N(x; mu_k, Sigma_k)`` on R^d.

    Parameters
    ----------
    weights : array_like, shape (k,)
        Mixture weights, nonnegative, summing to 1 within 1e-8 (then
        renormalised exactly).
    means : array_like, shape (k, d)
        Component means mu_k.
    covs : array_like, shape (k, d, d)
        Component covariances Sigma_k, symmetric positive definite.
    dtype, device
        Floating type (float64 by default) and device of every tensor.

    Attributes
    ----------
    weights : Tensor, shape (k,)
    means : Tensor, shape (k, d)
    covs : Tensor, shape (k, d, d)
    chol : Tensor, shape (k, d, d)
        Lower Cholesky factors L_k with L_k L_k^T = Sigma_k.
    n_components : int

    Examples
    --------
    >>> gm = GaussianMixture([0.5, 0.5], [[-1.0], [1.0]], [[[1.0]], [[1.0]]])
    >>> gm.dim, gm.n_components
    (1, 2)
    >>> float(gm.mean()[0]), float(gm.covariance()[0, 0])
    (0.0, 2.0)
    """

    smoothness = math.inf  # analytic density
    support = "R^d"
    has_density = True

    def __init__(self, weights, means, covs, *, dtype: torch.dtype = torch.float64,
                 device: torch.device | str = "cpu"):
        w = _as_tensor("weights", weights, dtype, device)
        mu = _as_tensor("means", means, dtype, device)
        cov = _as_tensor("covs", covs, dtype, device)
        if w.ndim != 1 or w.shape[0] == 0:
            raise ValueError(f"weights must have shape (k,) with k >= 1, got shape {tuple(w.shape)}")
        if not torch.isfinite(w).all():
            raise ValueError("weights contains NaN or inf")
        if (w < 0).any():
            raise ValueError(f"weights must be nonnegative, got min {w.min().item():.3g}")
        total = w.sum().item()
        if abs(total - 1.0) > 1e-8:
            raise ValueError(f"weights must sum to 1 (tolerance 1e-8), got sum {total!r}")
        k = w.shape[0]
        if mu.ndim != 2 or mu.shape[0] != k:
            raise ValueError(f"means must have shape (k, d) with k = {k} (len(weights)), "
                             f"got shape {tuple(mu.shape)}")
        if not torch.isfinite(mu).all():
            raise ValueError("means contains NaN or inf")
        d = mu.shape[1]
        if cov.shape != (k, d, d):
            raise ValueError(f"covs must have shape (k, d, d) = {(k, d, d)} to match means, "
                             f"got shape {tuple(cov.shape)}")
        if not torch.isfinite(cov).all():
            raise ValueError("covs contains NaN or inf")
        # Symmetry relative to each matrix's scale: covariances built as A A^T
        # carry rounding asymmetry of order eps * |A|^2, far below 1e-10.
        scale = cov.abs().amax(dim=(-2, -1)).clamp_min(torch.finfo(dtype).tiny)
        asym = (cov - cov.transpose(-2, -1)).abs().amax(dim=(-2, -1)) / scale
        bad = torch.nonzero(asym > 1e-10)
        if len(bad):
            i = int(bad[0, 0])
            raise ValueError(f"covs[{i}] is not symmetric (relative asymmetry {asym[i].item():.3g})")
        super().__init__(d, dtype=dtype, device=device)
        # Renormalise the (already 1e-8-close) weights so probabilities are exact.
        self._set(w / w.sum(), mu, 0.5 * (cov + cov.transpose(-2, -1)), what="covs")

    # -- construction helpers -------------------------------------------------
    def _set(self, w, mu, cov, what: str) -> None:
        chol, info = torch.linalg.cholesky_ex(cov)
        bad = torch.nonzero(info)
        if len(bad):
            i = int(bad[0, 0])
            raise ValueError(f"{what}[{i}] is not positive definite" if what == "covs"
                             else f"{what}: component {i} covariance is not positive definite")
        self.weights = w
        self.means = mu
        self.covs = cov
        self.chol = chol
        self.n_components = int(w.shape[0])
        with torch.no_grad():
            self._log_weights = torch.log(w)  # -inf for empty components; logsumexp handles it
        # log det Sigma_k / 2 = sum log diag L_k
        self._half_logdet = torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)

    @classmethod
    def _trusted(cls, w, mu, cov, *, dtype, device, what: str) -> "GaussianMixture":
        """Build without re-validating weights/means (used by ``noised``)."""
        obj = cls.__new__(cls)
        Distribution.__init__(obj, mu.shape[1], dtype=dtype, device=device)
        obj._set(w, mu, cov, what=what)
        return obj

    # -- density --------------------------------------------------------------
    def component_log_probs(self, x) -> torch.Tensor:
        """Per-component log-densities ``log N(x_i; mu_k, Sigma_k)`` (without weights).

        Parameters
        ----------
        x : array_like, shape (n, d)

        Returns
        -------
        Tensor, shape (n, k)
        """
        x = self._check_x(x)
        diff = x[None, :, :] - self.means[:, None, :]                      # (k, n, d)
        # L_k y = (x - mu_k)  =>  |y|^2 is the Mahalanobis distance.
        y = torch.linalg.solve_triangular(self.chol, diff.transpose(1, 2), upper=False)  # (k, d, n)
        maha = (y * y).sum(1)                                               # (k, n)
        out = -0.5 * maha - self._half_logdet[:, None] - 0.5 * self.dim * _LOG_2PI
        return out.T                                                        # (n, k)

    def _joint_log_probs(self, x) -> torch.Tensor:
        return self.component_log_probs(x) + self._log_weights             # (n, k)

    def log_prob(self, x) -> torch.Tensor:
        """Exact ``log p(x) = logsumexp_k (log w_k + log N(x; mu_k, Sigma_k))``, shape (n,)."""
        return torch.logsumexp(self._joint_log_probs(x), dim=1)

    def responsibilities(self, x) -> torch.Tensor:
        """Posterior component probabilities ``P(K = k | X = x)``, shape (n, k)."""
        return torch.softmax(self._joint_log_probs(x), dim=1)

    def score(self, x) -> torch.Tensor:
        r"""Closed-form score ``sum_k r_k(x) (-Sigma_k^{-1} (x - mu_k))``, shape (n, d).

        ``r_k`` are the responsibilities; this is the gradient of ``log_prob``.
        """
        x = self._check_x(x)
        r = self.responsibilities(x)                                        # (n, k)
        diff = x[None, :, :] - self.means[:, None, :]                      # (k, n, d)
        prec_diff = torch.cholesky_solve(diff.transpose(1, 2), self.chol)  # (k, d, n)
        return -torch.einsum("nk,kdn->nd", r, prec_diff)

    # -- sampling -------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` exact samples, shape (n, d): pick k ~ w, then mu_k + L_k z."""
        n = self._check_n(n)
        comp = torch.multinomial(self.weights, n, replacement=True, generator=generator)  # (n,)
        z = torch.randn(n, self.dim, generator=generator, dtype=self.dtype, device=self.device)
        return self.means[comp] + torch.einsum("nij,nj->ni", self.chol[comp], z)

    # -- moments --------------------------------------------------------------
    def mean(self) -> torch.Tensor:
        """Mixture mean ``sum_k w_k mu_k``, shape (d,)."""
        return self.weights @ self.means

    def covariance(self) -> torch.Tensor:
        """Mixture covariance ``sum_k w_k (Sigma_k + mu_k mu_k^T) - m m^T``, shape (d, d)."""
        m = self.mean()
        second = torch.einsum("k,kij->ij", self.weights, self.covs) + torch.einsum(
            "k,ki,kj->ij", self.weights, self.means, self.means)
        return second - torch.outer(m, m)

    # -- noising --------------------------------------------------------------
    def noised(self, alpha, sigma) -> "GaussianMixture":
        r"""Exact law of ``alpha X + sigma Z``, X ~ self, Z ~ N(0, I) independent.

        ``sum_k w_k N(alpha mu_k, alpha^2 Sigma_k + sigma^2 I)`` -- the marginal
        of the forward diffusion ``x_t = alpha_t x_0 + sigma_t z`` (Song et al.
        2021, eq. (5); Ho et al. 2020, eq. (4)), whose ``score`` is the true
        score at that time.

        Parameters
        ----------
        alpha : float or 0-dim tensor, >= 0
        sigma : float or 0-dim tensor, >= 0; not both zero.
            Tensors are read as numbers (no gradient flows through them).

        Returns
        -------
        GaussianMixture
            Same weights; ``alpha = 1, sigma = 0`` gives a copy of ``self``.
        """
        a = check_nonnegative("alpha", _scalar("alpha", alpha))
        s = check_nonnegative("sigma", _scalar("sigma", sigma))
        if a == 0.0 and s == 0.0:
            raise ValueError("alpha and sigma are both 0: the law of 0*X + 0*Z is a point mass")
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        covs = (a * a) * self.covs + (s * s) * eye
        return GaussianMixture._trusted(self.weights, a * self.means, covs, dtype=self.dtype,
                                        device=self.device, what="alpha, sigma")

    def describe(self) -> dict:
        out = super().describe()
        out["n_components"] = self.n_components
        return out

    # -- presets --------------------------------------------------------------
    @classmethod
    def ring(cls, n_modes: int = 8, radius: float = 1.0, sigma: float = 0.01, **kw) -> "GaussianMixture":
        """PacGAN's 2-D ring: ``n_modes`` equal-weight modes on a circle.

        Means ``radius (cos(2 pi i / n_modes), sin(2 pi i / n_modes))``,
        covariance ``sigma^2 I``.  Defaults are those of Lin et al. (2018,
        PacGAN, Sec. 5.1: eight modes, radius 1, variance 1e-4).

        >>> GaussianMixture.ring().n_components
        8
        """
        n_modes = check_positive_int("n_modes", n_modes)
        radius = check_positive("radius", radius)
        sigma = check_positive("sigma", sigma)
        t = 2.0 * math.pi * np.arange(n_modes) / n_modes
        means = radius * np.stack([np.cos(t), np.sin(t)], axis=1)
        covs = np.tile(sigma**2 * np.eye(2), (n_modes, 1, 1))
        return cls(np.full(n_modes, 1.0 / n_modes), means, covs, **kw)

    @classmethod
    def grid(cls, sigma: float = 0.05, **kw) -> "GaussianMixture":
        """PacGAN's 2-D grid: 25 equal-weight modes at ``{-4, -2, 0, 2, 4}^2``.

        Covariance ``sigma^2 I``; the default std 0.05 (variance 0.0025) is
        that of Lin et al. (2018, PacGAN, Sec. 5.1).

        >>> GaussianMixture.grid().n_components
        25
        """
        sigma = check_positive("sigma", sigma)
        ticks = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
        means = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)
        covs = np.tile(sigma**2 * np.eye(2), (25, 1, 1))
        return cls(np.full(25, 1.0 / 25), means, covs, **kw)

    @classmethod
    def anisotropic_2d(cls, **kw) -> "GaussianMixture":
        r"""Fixed 2-D mixture of the main diffusion recipe: 7 rotated, unequal modes.

        Each mode is ``(mean, std along its major axis, std along its minor
        axis, angle of the major axis in degrees, weight)``; the covariance is
        ``R(theta) diag(s_major^2, s_minor^2) R(theta)^T``.  Means lie in
        [-2.4, 2.3]^2, stds in [0.10, 0.40], weights from 0.07 to 0.22.
        The closest pair of means is 2.26 apart (between modes 1 and 2), i.e.
        more than 5.6 times the largest std 0.40, so the modes are separated
        yet a diffusion model must resolve unequal masses and orientations.

        >>> gm = GaussianMixture.anisotropic_2d()
        >>> gm.n_components, round(float(gm.weights.sum()), 12)
        (7, 1.0)
        """
        modes = [
            # mean           major  minor  angle  weight
            ((-2.0, 1.5),    0.35,  0.12,   30.0,  0.22),
            ((0.5, 2.2),     0.30,  0.10,  -45.0,  0.18),
            ((2.3, 0.8),     0.25,  0.15,   75.0,  0.15),
            ((1.8, -1.8),    0.40,  0.15,   10.0,  0.20),
            ((-0.6, -2.3),   0.30,  0.10,  120.0,  0.10),
            ((-2.4, -0.8),   0.20,  0.10,   60.0,  0.08),
            ((0.0, 0.0),     0.15,  0.10,    0.0,  0.07),
        ]
        means = np.array([m[0] for m in modes])
        covs = np.stack([_rotated_cov(m[1], m[2], math.radians(m[3])) for m in modes])
        weights = np.array([m[4] for m in modes])
        return cls(weights, means, covs, **kw)

    @classmethod
    def random_mixture(cls, dim: int, n_modes: int, *, separation: float = 6.0, seed: int = 0,
                       anisotropic: bool = True, unequal_weights: bool = True,
                       **kw) -> "GaussianMixture":
        r"""Seeded random mixture, well separated in any dimension.

        Construction (numpy ``Generator(PCG64(seed))``, no global state):
        component stds along random orthonormal axes are drawn from
        [0.5, 1.0] (``anisotropic``) or one std per component from
        [0.5, 1.0] (isotropic); weights are Dirichlet(2, ..., 2) draws
        (``unequal_weights``) or equal; means are placed one by one uniformly
        in a cube, rejecting any closer than the required distance; the cube
        starts at half-width ``separation * sigma_max / 2`` and grows by 10%
        after every 100 rejections, so the modes are no more spread out than
        the guarantee needs.

        Guarantee: ``min_{i != j} |mu_i - mu_j| >= separation * sigma_max``,
        with ``sigma_max = max_k sqrt(lambda_max(Sigma_k)) <= 1``.  Along the
        line through two means each component's projection has std at most
        ``sigma_max``, so the midpoint rule misassigns a point of either
        component with probability at most ``Phi(-separation / 2)``
        (1.3e-3 for the default 6), whatever ``dim``.

        Parameters
        ----------
        dim, n_modes : int
        separation : float, > 0
        seed : int
        anisotropic, unequal_weights : bool

        >>> a = GaussianMixture.random_mixture(5, 4, seed=3)
        >>> b = GaussianMixture.random_mixture(5, 4, seed=3)
        >>> bool(torch.equal(a.means, b.means) and torch.equal(a.covs, b.covs))
        True
        """
        dim = check_positive_int("dim", dim)
        n_modes = check_positive_int("n_modes", n_modes)
        separation = check_positive("separation", separation)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        rng = np.random.Generator(np.random.PCG64(int(seed)))
        q = _haar_orthogonal(n_modes, dim, rng)                                # (k, d, d)
        if anisotropic:
            stds = rng.uniform(0.5, 1.0, size=(n_modes, dim))
        else:
            stds = np.repeat(rng.uniform(0.5, 1.0, size=(n_modes, 1)), dim, axis=1)
        covs = (q * stds[:, None, :] ** 2) @ q.transpose(0, 2, 1)              # Q diag(s^2) Q^T
        covs = 0.5 * (covs + covs.transpose(0, 2, 1))
        sigma_max = float(np.sqrt(np.linalg.eigvalsh(covs).max()))
        min_dist = separation * sigma_max
        # Start from a small cube and let it grow only when placement gets hard,
        # so the means are no more spread out than the guarantee needs.
        half = 0.5 * min_dist
        means = np.empty((0, dim))
        rejections = 0
        while len(means) < n_modes:
            c = rng.uniform(-half, half, size=dim)
            if len(means) == 0 or np.min(np.linalg.norm(means - c, axis=1)) >= min_dist:
                means = np.vstack([means, c])
            else:
                rejections += 1
                if rejections % 100 == 0:
                    half *= 1.1
        if unequal_weights:
            weights = rng.dirichlet(np.full(n_modes, 2.0))
        else:
            weights = np.full(n_modes, 1.0 / n_modes)
        return cls(weights, means, covs, **kw)


def _as_tensor(name: str, value, dtype, device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().to(dtype=dtype, device=device)
    try:
        # via numpy: lists of arrays are common in presets and slow for torch.as_tensor
        return torch.as_tensor(np.asarray(value, dtype=np.float64), dtype=dtype, device=device)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array: {err}") from None


def _scalar(name: str, value):
    if isinstance(value, torch.Tensor):
        if value.numel() != 1 or value.ndim > 1:
            raise ValueError(f"{name} must be a number or 0-dim tensor, got shape {tuple(value.shape)}")
        return value.detach().reshape(()).item()
    return value


def _rotated_cov(s_major: float, s_minor: float, theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[c, -s], [s, c]])
    return rot @ np.diag([s_major**2, s_minor**2]) @ rot.T


def _haar_orthogonal(k: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` Haar orthogonal (dim, dim) matrices: QR of Gaussians, signs fixed (Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((k, dim, dim)))
    return q * np.sign(np.diagonal(r, axis1=-2, axis2=-1))[:, None, :]
