"""Estimator families behind one interface: fit on n points, then sample (and maybe a density).

Every fitted family returns a `Fitted`, so the evaluation code never branches
on the family.  The built-in families' fits, checks and extra metrics live
here; `genlab.families` registers them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import torch

from genlab.distributions.base import Distribution
from genlab.core.files import CHECKPOINT_DIR
from genlab.core.seeding import derive_seed, make_generator
from genlab.core.validation import check_in, is_number

__all__ = ["Fitted", "diffusion_fitted", "DENSITY_METRICS", "SAMPLER_LAW_METRICS"]

#: metrics that need the model's log-density as well as the truth's
DENSITY_METRICS = ("tv", "kl", "hellinger")
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


def fit_empirical(cfg, truth, x_train, **_) -> Fitted:
    """The empirical measure of the n points: its samples are the points themselves."""
    from genlab.baselines import EmpiricalMeasure

    return Fitted(samples=EmpiricalMeasure(x_train).points)


def fit_kde(cfg, truth, x_train, *, m, sample_generator, **_) -> Fitted:
    """The Gaussian KDE of ``cfg.kde`` (reflected into the truth's cube with ``kde.boundary=reflect``)."""
    from genlab.baselines import make_kde

    bounds = _cube_bounds(truth) if cfg.kde.boundary != "none" else None
    model = make_kde(x_train, _bandwidth_arg(cfg.kde.bandwidth), s=_finite_or_none(truth.smoothness),
                     c=cfg.kde.c, bounds=bounds, boundary=cfg.kde.boundary, generator=sample_generator)
    return Fitted(samples=model.sample(m, generator=sample_generator), log_prob=model.log_prob,
                  extras={"bandwidth": float(model.bandwidth)})


def fit_diffusion_family(cfg, truth, x_train, *, m, sample_generator, seed, device, run_dir=None,
                         progress=False) -> Fitted:
    """The score-based diffusion model of ``cfg.diffusion``, trained on the n points."""
    from genlab.diffusion import fit_diffusion

    ckpt = str(run_dir / CHECKPOINT_DIR) if run_dir is not None and cfg.diffusion.checkpoint_every else None
    model = fit_diffusion(cfg.diffusion, x_train, seed=seed, device=device, progress=progress,
                          checkpoint_dir=ckpt, truth=truth)
    return diffusion_fitted(cfg, model, truth, m=m, sample_generator=sample_generator)


def fit_gan_family(cfg, truth, x_train, *, m, sample_generator, seed, device, run_dir=None,
                   progress=False) -> Fitted:
    """The GAN of ``cfg.gan``, trained on the n points; its mode metrics go to ``extras``."""
    from genlab.gan.run import fit_gan_run

    ckpt = str(run_dir / CHECKPOINT_DIR) if run_dir is not None else None
    samples, extras = fit_gan_run(cfg.gan, truth, x_train, m=m, sample_generator=sample_generator, seed=seed,
                                  eval_seed=cfg.eval.seed, device=device, checkpoint_dir=ckpt,
                                  run_dir=run_dir, progress=progress)
    return Fitted(samples=samples, extras=extras)


def run_icl_whole(cfg, run_dir, *, device, progress=False) -> dict:
    """An in-context-learning run: the law is over prompts (``cfg.icl``), not ``cfg.truth``.

    Writes the picture ``icl.png`` (error against k with baselines and theory
    curves); returns the flat metrics (there are no samples of a law to save).
    """
    from genlab.icl.run import run_icl

    return dict(run_icl(cfg.icl, run_dir, seed=cfg.seed, device=device, progress=progress))


def validate_kde(cfg) -> None:
    """``kde.bandwidth`` is a rule name or a positive number."""
    from genlab.baselines import BANDWIDTH_RULES

    text = cfg.kde.bandwidth
    try:
        h = float(text)
    except ValueError:
        check_in("kde.bandwidth", text, BANDWIDTH_RULES + ("<a positive number>",))
        return
    if not (math.isfinite(h) and h > 0):
        raise ValueError(f"kde.bandwidth must be > 0, got {text}")


def validate_diffusion(cfg) -> None:
    cfg.diffusion.validate()
    if any(k in cfg.eval.metrics for k in SAMPLER_LAW_METRICS):
        from genlab.diffusion.sampler_law import LAW_SAMPLERS

        if cfg.diffusion.sampler not in LAW_SAMPLERS:
            raise ValueError(f"eval.metrics: {[k for k in cfg.eval.metrics if k in SAMPLER_LAW_METRICS]} "
                             f"is the TV of a deterministic sampler's own law; it needs diffusion.sampler "
                             f"in {list(LAW_SAMPLERS)}, got {cfg.diffusion.sampler!r}")


def validate_gan(cfg) -> None:
    cfg.gan.validate()


def validate_icl(cfg) -> None:
    cfg.icl.validate()


def kde_needs_two_points(cfg) -> str | None:
    if is_number(cfg.kde.bandwidth):
        return None
    return "its bandwidth rule (kde.bandwidth) needs a spread or a held-out split"


def standardize_needs_two_points(cfg) -> str | None:
    section = cfg.estimator
    if not getattr(cfg, section).standardize:
        return None
    return f"it standardises the data by their standard deviation ({section}.standardize)"


def check_diffusion_truth(cfg, truth) -> None:
    """The oracle score needs a truth whose noised score is known in closed form."""
    from genlab.diffusion.reference import has_closed_form_score

    if cfg.diffusion.score == "oracle" and not has_closed_form_score(truth):
        raise ValueError(f"diffusion.score=oracle needs a truth whose noised score is known in closed "
                         f"form (a Gaussian mixture); truth '{cfg.truth.name}' is not one")


def diffusion_extra_metrics(cfg, truth, fitted: Fitted, model_log_prob) -> dict:
    """The sampler-law TVs asked for in ``eval.metrics``, and tv_t0, kl_t0 (against the truth
    noised to t0) and tv_offset (`genlab.diffusion.early_stopping.run_metrics`)."""
    from genlab.diffusion.early_stopping import run_metrics

    out = dict(_sampler_law_tv(cfg, truth, fitted))
    out.update(run_metrics(cfg, truth, model_log_prob))
    return out


def _sampler_law_tv(cfg, truth, fitted: Fitted) -> dict:
    """TV between the sampler's own law q and the truth (and the truth noised to t0), floor 0.

    TV = E_q[(1 - p(Y)/q(Y))_+] over the model's m samples Y, whose log q is
    exact (``genlab.diffusion.sampler_law``): no truth samples enter, so there
    is no sampling floor; the CI is the CLT interval of the terms in [0, 1].
    """
    import metrics as M

    samples = fitted.samples.detach().to("cpu", torch.float64)
    out = {}
    for name in (k for k in cfg.eval.metrics if k in SAMPLER_LAW_METRICS):
        law = truth
        if name == "tv_sampler_t0":
            process = cfg.diffusion.make_process(n=cfg.n)
            law = process.marginal(truth, process.t0)
        log_p = law.log_prob(samples.to(law.dtype)).cpu().numpy().astype(np.float64)
        est = M.tv_monte_carlo(fitted.sample_log_prob.numpy(), log_p)
        out[name] = M.Estimate(est.value, floor=0.0, ci_low=est.ci_low, ci_high=est.ci_high, floor_std=0.0,
                               note=f"TV of the sampler's own law: {est.note}; no sampling floor")
    return out


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
