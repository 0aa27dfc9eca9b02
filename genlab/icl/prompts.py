"""In-context regression prompts: x_i ~ N(0, Sigma), a task f ~ prior, y_i = f(x_i) + noise.

A prompt holds ``k + 1`` pairs; the model, and every baseline, predicts y_j
from the first j pairs and x_j, for every j = 0..k (Garg, Tsipras, Liang &
Valiant 2022, "What can transformers learn in-context?").  The task prior is
Gaussian, w ~ N(0, tau^2 I), or uniform over a finite pool of M tasks drawn
once from that Gaussian (Raventos, Paul, Chen & Ganguli 2023, "Pretraining
task diversity and the emergence of non-Bayesian in-context learning").

Families
--------
linear         y = w . x                                  (sigma2 must be 0)
noisy_linear   y = w . x + sqrt(sigma2) eps
sparse_linear  w has ``sparsity`` non-zero N(0, tau^2) coordinates on a random support
relu           two-layer ReLU teacher y = sum_h a_h relu(v_h . x), v_h ~ N(0, I),
               a_h ~ N(0, 2 tau^2 / H) (Garg et al. 2022, Sec. 4), so Var f(x) = tau^2 tr(Sigma)
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import torch

from genlab.core.seeding import make_generator
from genlab.core.validation import check_in, check_nonnegative, check_positive, check_positive_int

__all__ = ["FAMILIES", "COVARIANCES", "Prompts", "PromptSampler", "covariance_eigenvalues"]

FAMILIES = ("linear", "noisy_linear", "sparse_linear", "relu")
COVARIANCES = ("isotropic", "skewed")


class Prompts(NamedTuple):
    """A batch of prompts.

    Attributes
    ----------
    xs : Tensor, shape (B, K, d)
    ys : Tensor, shape (B, K)
        Noisy labels.
    ws : Tensor
        The task of each prompt: shape (B, d) for the linear families; for
        ``relu`` shape (B, H, d + 1), the rows [v_h, a_h].
    """

    xs: torch.Tensor
    ys: torch.Tensor
    ws: torch.Tensor


def covariance_eigenvalues(d: int, covariance: str = "isotropic", *, dtype=torch.float64) -> torch.Tensor:
    """Eigenvalues (d,) of the (diagonal) input covariance Sigma, scaled so that tr(Sigma) = d.

    ``skewed`` has lambda_i proportional to 1/i, a power-law spectrum as in the
    covariate-shift experiments of Zhang, Frei & Bartlett (JMLR 2024, Sec. 4.2).

    >>> round(covariance_eigenvalues(3, "skewed").sum().item(), 12)
    3.0
    """
    d = check_positive_int("d", d)
    check_in("covariance", covariance, COVARIANCES)
    if covariance == "isotropic":
        return torch.ones(d, dtype=dtype)
    lam = 1.0 / torch.arange(1, d + 1, dtype=dtype)
    return lam * (d / lam.sum())


class PromptSampler:
    """Draws prompts of ``k`` in-context examples plus one query, i.e. K = k + 1 pairs.

    Parameters
    ----------
    family : str
        One of `FAMILIES`.
    d : int
        Input dimension.
    k : int
        Number of in-context examples at the longest prefix.
    sigma2, tau2 : float
        Label-noise variance and prior variance of w.
    n_tasks : int
        M, the size of the finite task pool; 0 means w is drawn fresh (infinite diversity).
    covariance : str
        ``isotropic`` or ``skewed`` (see `covariance_eigenvalues`).
    sparsity : int, optional
        Non-zero coordinates of w for ``sparse_linear`` (default max(1, d // 4)).
    relu_width : int
        Hidden units H of the ``relu`` teacher.
    pool_seed : int
        Seed of the task pool; the pool is fixed at construction so that the
        training and evaluation prompts share the same M tasks.
    """

    def __init__(self, family: str, d: int, k: int, *, sigma2: float = 0.0, tau2: float = 1.0,
                 n_tasks: int = 0, covariance: str = "isotropic", sparsity: Optional[int] = None,
                 relu_width: int = 100, pool_seed: int = 0, dtype=torch.float32):
        self.family = check_in("family", family, FAMILIES)
        self.d = check_positive_int("d", d)
        self.k = check_positive_int("k", k)
        self.sigma2 = check_nonnegative("sigma2", sigma2)
        self.tau2 = check_positive("tau2", tau2)
        if family == "linear" and self.sigma2 != 0:
            raise ValueError(f"sigma2 must be 0 for family=linear (use noisy_linear), got {sigma2!r}")
        if isinstance(n_tasks, bool) or int(n_tasks) != n_tasks or n_tasks < 0:
            raise ValueError(f"n_tasks must be an integer >= 0 (0 = infinite), got {n_tasks!r}")
        self.n_tasks = int(n_tasks)
        if self.n_tasks and family == "relu":
            raise ValueError("n_tasks must be 0 for family=relu (finite pools are for linear tasks)")
        self.covariance = covariance
        self.lam = covariance_eigenvalues(self.d, covariance, dtype=dtype)
        self.sparsity = check_positive_int("sparsity", sparsity if sparsity is not None else max(1, d // 4))
        if self.sparsity > self.d:
            raise ValueError(f"sparsity must be <= d = {d}, got {sparsity}")
        self.relu_width = check_positive_int("relu_width", relu_width)
        self.dtype = dtype
        self.pool = self._draw_w(self.n_tasks, make_generator(pool_seed)) if self.n_tasks else None

    @property
    def signal_variance(self) -> float:
        """E[f(x)^2] under the prior: tau^2 tr(Sigma) (= tau^2 d), tau^2 s for sparse_linear."""
        if self.family == "sparse_linear":
            return self.tau2 * self.sparsity * float(self.lam.mean())
        return self.tau2 * float(self.lam.sum())

    def _draw_w(self, n: int, g: torch.Generator) -> torch.Tensor:
        w = torch.randn(n, self.d, generator=g, dtype=self.dtype) * self.tau2 ** 0.5  # (n, d)
        if self.family == "sparse_linear":
            # a random support of size s per task: keep the s smallest of d uniforms
            u = torch.rand(n, self.d, generator=g, dtype=self.dtype)
            keep = u.argsort(dim=1).argsort(dim=1) < self.sparsity
            w = w * keep
        return w

    def draw_tasks(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """Tasks for ``batch`` prompts, shape (B, d) or (B, H, d + 1) for relu."""
        if self.family == "relu":
            h = self.relu_width
            v = torch.randn(batch, h, self.d, generator=generator, dtype=self.dtype)
            a = torch.randn(batch, h, 1, generator=generator, dtype=self.dtype) * (2 * self.tau2 / h) ** 0.5
            return torch.cat([v, a], dim=2)  # (B, H, d+1)
        if self.pool is not None:
            idx = torch.randint(self.n_tasks, (batch,), generator=generator)
            return self.pool[idx]
        return self._draw_w(batch, generator)

    def clean(self, xs: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
        """Noise-free labels f(x), shape (B, K), for xs (B, K, d) and tasks ws from `draw_tasks`."""
        if self.family == "relu":
            v, a = ws[..., :-1], ws[..., -1]  # (B, H, d), (B, H)
            return torch.einsum("bkh,bh->bk", torch.relu(torch.einsum("bkd,bhd->bkh", xs, v)), a)
        return torch.einsum("bkd,bd->bk", xs, ws)

    def sample(self, batch: int, generator: torch.Generator, k: Optional[int] = None) -> Prompts:
        """``batch`` prompts of k + 1 pairs (``k`` defaults to the sampler's).

        Returns
        -------
        Prompts
            xs (B, k+1, d), ys (B, k+1), ws.
        """
        if not isinstance(generator, torch.Generator):
            raise ValueError("generator must be a torch.Generator (prompts are drawn from seeded streams only)")
        batch = check_positive_int("batch", batch)
        kk = self.k if k is None else check_positive_int("k", k)
        ws = self.draw_tasks(batch, generator)
        xs = torch.randn(batch, kk + 1, self.d, generator=generator, dtype=self.dtype) * self.lam.sqrt()
        ys = self.clean(xs, ws)
        if self.sigma2 > 0:
            ys = ys + torch.randn(ys.shape, generator=generator, dtype=self.dtype) * self.sigma2 ** 0.5
        return Prompts(xs, ys, ws)
