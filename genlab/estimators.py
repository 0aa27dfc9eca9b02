"""Estimator families behind one interface: fit on n points, then sample (and maybe a density).

`fit_estimator` returns a `Fitted` whatever the family, so the evaluation code
never branches on the family.  A family that needs training adds a builder
here and its config dataclass to `genlab.config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from genlab.distributions.base import Distribution
from genlab.runs import CHECKPOINT_DIR
from genlab.seeding import derive_seed, make_generator

__all__ = ["Fitted", "fit_estimator", "diffusion_fitted", "DENSITY_METRICS", "SAMPLER_LAW_METRICS", "NO_DENSITY_ESTIMATORS"]

#: metrics that need the model's log-density as well as the truth's
DENSITY_METRICS = ("tv", "kl", "hellinger")
#: estimator families with no density, so no DENSITY_METRICS
NO_DENSITY_ESTIMATORS = ("empirical", "gan")
#: metrics of the law of the model's own samples (a deterministic sampler's push-forward):
#: tv_sampler against the truth, tv_sampler_t0 against the truth noised to the process's t0
SAMPLER_LAW_METRICS = ("tv_sampler", "tv_sampler_t0")


@dataclass
class Fitted:
    """A fitted estimator, as the evaluation sees it.

    Attributes
    ----------
    samples : Tensor, shape (m, d)
        The model's samples to score.  For the empirical measure these are
        the n training points themselves (the measure's whole support).
    log_prob : callable or None
        ``x (k, d) -> (k,)`` log-density of the model, where it has one.
    extras : dict
        Numbers the family reports besides distances (bandwidth, loss, ...).
    sample_log_prob : Tensor or None, shape (m,)
        log-density of the law of ``samples`` at ``samples`` themselves, where
        the family can give it (a diffusion model's ODE sampler).
    """

    samples: torch.Tensor
    log_prob: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
    sample_log_prob: Optional[torch.Tensor] = None
    extras: dict = field(default_factory=dict)


def fit_estimator(cfg, truth: Distribution, x_train: torch.Tensor, *, m: int,
                  sample_generator: torch.Generator, seed: int, device: torch.device,
                  run_dir=None, progress: bool = False) -> Fitted:
    """Fit the estimator ``cfg.estimator`` to ``x_train`` (n, d) and draw ``m`` samples."""
    name = cfg.estimator
    if name == "empirical":
        from genlab.baselines import EmpiricalMeasure

        model = EmpiricalMeasure(x_train)
        return Fitted(samples=model.points)
    if name == "kde":
        from genlab.baselines import make_kde

        bounds = _cube_bounds(truth) if cfg.kde.boundary != "none" else None
        model = make_kde(x_train, _bandwidth_arg(cfg.kde.bandwidth), s=_finite_or_none(truth.smoothness),
                         c=cfg.kde.c, bounds=bounds, boundary=cfg.kde.boundary,
                         generator=sample_generator)
        return Fitted(samples=model.sample(m, generator=sample_generator), log_prob=model.log_prob,
                      extras={"bandwidth": float(model.bandwidth)})
    if name == "diffusion":
        from genlab.diffusion import fit_diffusion

        ckpt = str(run_dir / CHECKPOINT_DIR) if run_dir is not None and cfg.diffusion.checkpoint_every else None
        model = fit_diffusion(cfg.diffusion, x_train, seed=seed, device=device, progress=progress,
                              checkpoint_dir=ckpt, truth=truth)
        return diffusion_fitted(cfg, model, truth, m=m, sample_generator=sample_generator)
    if name == "gan":
        from genlab.gan.run import fit_gan_run

        ckpt = str(run_dir / CHECKPOINT_DIR) if run_dir is not None else None
        samples, extras = fit_gan_run(cfg.gan, truth, x_train, m=m, sample_generator=sample_generator, seed=seed,
                                      eval_seed=cfg.eval.seed, device=device, checkpoint_dir=ckpt,
                                      run_dir=run_dir, progress=progress)
        return Fitted(samples=samples, extras=extras)
    raise ValueError(f"estimator must be one of empirical, kde, diffusion, gan; got {name!r}")


def diffusion_fitted(cfg, model, truth: Distribution, *, m: int, sample_generator: torch.Generator) -> Fitted:
    """A fitted ``DiffusionModel`` as the evaluation sees it: m samples (with their law's log-density
    when a sampler-law metric asks for it), the ODE density, and the extra metrics."""
    if sample_generator.device.type != model.device.type:  # a reference score that lives on the CPU
        sample_generator = make_generator(derive_seed(model.seed, "sample"), model.device)
    sample_log_prob = None
    if any(k in cfg.eval.metrics for k in SAMPLER_LAW_METRICS):
        samples, sample_log_prob = model.sample_with_log_prob(m, generator=sample_generator)
    else:
        samples = model.sample(m, generator=sample_generator)
    return Fitted(samples=samples, log_prob=model.log_prob, sample_log_prob=sample_log_prob,
                  extras=model.extra_metrics(truth=truth, samples=samples))


def _bandwidth_arg(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _finite_or_none(x: float):
    return x if x == x and x not in (float("inf"), float("-inf")) else None


def _cube_bounds(truth: Distribution):
    low = getattr(truth, "low", -1.0)
    high = getattr(truth, "high", 1.0)
    return (float(low), float(high))
