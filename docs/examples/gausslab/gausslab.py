"""A genlab plugin (README, "Extending genlab"): a Gaussian-fit estimator family and a shifted-Gaussian truth.

    GENLAB_PLUGINS=gausslab PYTHONPATH=docs/examples/gausslab python scripts/rates.py recipe=gaussfit_shifted
"""

from dataclasses import dataclass
from pathlib import Path

import torch

from genlab import Family, Fitted, register_family, register_truth
from genlab.distributions import GaussianMixture

GENLAB_RECIPES = Path(__file__).parent / "recipes"   # recipe/gaussfit_shifted.yaml


@dataclass
class GaussFitConfig:
    #: shrink the fitted covariance towards the identity by this weight, in [0, 1]
    shrinkage: float = 0.0


def fit_gaussian(cfg, truth, x_train, *, m, sample_generator, **_):
    """N(mean, covariance) of the n points (n, d): m samples and the log-density."""
    x, lam = x_train.double(), cfg.gaussfit.shrinkage
    cov = (1 - lam) * torch.cov(x.T).reshape(x.shape[1], -1) + lam * torch.eye(x.shape[1], dtype=x.dtype)
    law = GaussianMixture([1.0], x.mean(0, keepdim=True), cov[None], device=x.device)
    return Fitted(samples=law.sample(m, generator=sample_generator), log_prob=law.log_prob)


def check_gaussfit(cfg):
    if not 0 <= cfg.gaussfit.shrinkage <= 1:
        raise ValueError(f"gaussfit.shrinkage must be in [0, 1], got {cfg.gaussfit.shrinkage}")


register_family(Family("gaussfit", fit=fit_gaussian, section="gaussfit", schema=GaussFitConfig,
                       has_density=True, validate=check_gaussfit, summary="a Gaussian fitted by moments",
                       needs_two_points=lambda cfg: "a covariance needs two points"))


def shifted_gaussian(*, dim: int = 2, shift: float = 1.0, **kw):
    """N(shift (1, ..., 1), I_d)."""
    return GaussianMixture([1.0], torch.full((1, dim), float(shift)), torch.eye(dim)[None], **kw)


register_truth("shifted_gaussian", shifted_gaussian,
               meanings={"shift": "every coordinate of shifted_gaussian's mean"})
