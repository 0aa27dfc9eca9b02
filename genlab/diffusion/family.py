"""The ``diffusion`` family: a score-based diffusion model as runs fit it, check it and score it.

Besides the shared distances, a diffusion run reports what only this family
can: the TV of a deterministic sampler's own law (``tv_sampler``,
``tv_sampler_t0``; `genlab.diffusion.sampler_law`), and tv_t0 / kl_t0 /
tv_offset against the truth noised to t0 (`genlab.diffusion.early_stopping`).
Its runs can train as replica-batched groups (`genlab.diffusion.replicas`),
and a sweep over its sampler steps is read against the solver's order
(`genlab.theory.discretisation`).
"""

from __future__ import annotations

import numpy as np
import torch

import metrics as M
from genlab.core.family import Family, Fitted, ReplicaFit
from genlab.core.files import CHECKPOINT_DIR
from genlab.core.seeding import derive_seed, make_generator
from genlab.diffusion.config import DiffusionConfig

__all__ = ["FAMILIES", "DIFFUSION", "SAMPLER_LAW_METRICS", "diffusion_fitted"]

#: metrics of the law of the model's own samples (a deterministic sampler's push-forward):
#: tv_sampler against the truth, tv_sampler_t0 against the truth noised to the process's t0
SAMPLER_LAW_METRICS = ("tv_sampler", "tv_sampler_t0")
#: the swept key whose exponent is the sampler's order (`axis_theory`)
SAMPLER_STEPS_KEY = "diffusion.sampler_steps"


def fit(cfg, truth, x_train, *, m, sample_generator, seed, device, run_dir=None, progress=False) -> Fitted:
    """The score-based diffusion model of ``cfg.diffusion``, trained on the n points."""
    from genlab.diffusion.estimator import fit_diffusion

    ckpt = str(run_dir / CHECKPOINT_DIR) if run_dir is not None and cfg.diffusion.checkpoint_every else None
    model = fit_diffusion(cfg.diffusion, x_train, seed=seed, device=device, progress=progress,
                          checkpoint_dir=ckpt, truth=truth)
    return diffusion_fitted(cfg, model, truth, m=m, sample_generator=sample_generator)


def diffusion_fitted(cfg, model, truth, *, m: int, sample_generator: torch.Generator) -> Fitted:
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


def validate(cfg) -> None:
    """The section's own checks, and a sampler-law metric only with a deterministic sampler."""
    cfg.diffusion.validate()
    if any(k in cfg.eval.metrics for k in SAMPLER_LAW_METRICS):
        from genlab.diffusion.sampler_law import LAW_SAMPLERS

        if cfg.diffusion.sampler not in LAW_SAMPLERS:
            raise ValueError(f"eval.metrics: {[k for k in cfg.eval.metrics if k in SAMPLER_LAW_METRICS]} "
                             f"is the TV of a deterministic sampler's own law; it needs diffusion.sampler "
                             f"in {list(LAW_SAMPLERS)}, got {cfg.diffusion.sampler!r}")


def needs_two_points(cfg) -> str | None:
    if not cfg.diffusion.standardize:
        return None
    return "it standardises the data by their standard deviation (diffusion.standardize)"


def check_truth(cfg, truth) -> None:
    """The oracle score needs a truth whose noised score is known in closed form; the sampler-law
    metrics need the truth's density (and tv_sampler_t0 its noised law in closed form)."""
    from genlab.diffusion.reference import has_closed_form_score

    if cfg.diffusion.score == "oracle" and not has_closed_form_score(truth):
        raise ValueError(f"diffusion.score=oracle needs a truth whose noised score is known in closed "
                         f"form (a Gaussian mixture); truth '{cfg.truth.name}' is not one")
    for name in cfg.eval.metrics:
        if name in SAMPLER_LAW_METRICS and not truth.has_density:
            raise ValueError(f"eval.metrics: '{name}' needs the truth's density, and truth "
                             f"'{cfg.truth.name}' has none on R^{truth.dim}")
        if name == "tv_sampler_t0" and not hasattr(truth, "noised"):
            raise ValueError(f"eval.metrics: 'tv_sampler_t0' needs the truth noised to t0 in closed "
                             f"form (a Gaussian mixture); truth '{cfg.truth.name}' has none")


def extra_metrics(cfg, truth, fitted: Fitted, model_log_prob) -> dict:
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
    samples = fitted.samples_float64()
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


def axis_theory(x_key: str, metric: str, section: dict) -> dict | None:
    """The sampler-order exponent of a sweep over ``diffusion.sampler_steps`` with the oracle score, or None."""
    from genlab.theory.discretisation import SAMPLER_ORDERS, sampler_steps_exponent

    if (x_key != SAMPLER_STEPS_KEY or metric not in SAMPLER_LAW_METRICS
            or section.get("score") != "oracle" or section.get("sampler") not in SAMPLER_ORDERS):
        return None
    pred = sampler_steps_exponent(section["sampler"])
    return {"exponent": pred.exponent, "source": pred.source, "assumptions": pred.assumptions,
            "log_factor": pred.log_factor}


def axis_title(cfg, x_key: str) -> str:
    """`` (ode_heun, oracle score)`` for a sweep over one of the section's settings."""
    if not x_key.startswith("diffusion."):
        return ""
    score = "oracle score" if cfg.diffusion.score == "oracle" else f"n = {cfg.n}"
    return f" ({cfg.diffusion.sampler}, {score})"


def _restore(cfg, truth, x_train, run_dir, *, device):
    from genlab.diffusion.restore import diffusion_law

    return diffusion_law(cfg, truth, x_train, run_dir, device=device)


def _replicable(cfg) -> str | None:
    from genlab.diffusion.replicas import replicable

    return replicable(cfg.diffusion)


def _replica_key(cfg) -> tuple:
    from genlab.diffusion.replicas import replica_key

    return replica_key(cfg.diffusion, cfg.n)


def _replica_memory(cfg, dim: int) -> int:
    from genlab.diffusion.replicas import replica_memory_bytes

    return replica_memory_bytes(cfg.diffusion, dim, cfg.n)


def _fit_replicas(cfgs, x_trains, seeds, *, device, progress=False) -> list:
    from genlab.diffusion.replicas import fit_diffusion_replicas

    return fit_diffusion_replicas(cfgs[0].diffusion, x_trains, seeds=seeds, device=device, progress=progress)


DIFFUSION = Family(
    "diffusion", fit=fit, section="diffusion", schema=DiffusionConfig,
    summary="the score-based diffusion model, for estimator=diffusion", has_density=True,
    validate=validate, needs_two_points=needs_two_points, check_truth=check_truth,
    own_metrics=SAMPLER_LAW_METRICS, evaluate_extra=extra_metrics, axis_theory=axis_theory, axis_title=axis_title,
    axis_labels={SAMPLER_STEPS_KEY: "sampler steps $N$"},
    replicas=ReplicaFit(replicable=_replicable, key=_replica_key, memory_bytes=_replica_memory,
                        fit=_fit_replicas, fitted=diffusion_fitted),
    restore=_restore)

#: what `genlab.families` registers from this package, in this order
FAMILIES = (DIFFUSION,)
