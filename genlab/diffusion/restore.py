"""A finished diffusion run's model, rebuilt from its config, its training points and its checkpoint.

A learned score is the EMA network of ``<run>/checkpoints/last.pt`` (written at the
end of training when ``diffusion.checkpoint_every`` > 0, `genlab.training.checkpoint`),
placed in the network the run built (`score_model`), with the standardisation of
the same training points: the model the run sampled and scored, with no step of
training.  A reference score (``diffusion.score`` oracle, empirical_optimal,
kde) trains nothing and is rebuilt from the points alone.

For comparing two runs' laws (`genlab.run.compare`) the model is a `DensityLaw`:
its probability-flow density (`DiffusionModel.log_prob`, the one ``tv`` scores)
and draws of a deterministic ODE sampler with the exact log-density of the
sampler's own law (`genlab.diffusion.sampler_law`); a run whose sampler is
stochastic is compared through ode_heun at its ``sampler_steps``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from genlab.core.device import resolve_device
from genlab.core.family import DensityLaw
from genlab.core.files import CHECKPOINT_DIR
from genlab.core.validation import check_points
from genlab.diffusion.estimator import DiffusionModel, fit_diffusion, score_model, score_network, standardisation
from genlab.diffusion.sampler_law import LAW_SAMPLERS
from genlab.training.checkpoint import CHECKPOINT_NAME, load_checkpoint

__all__ = ["restore_diffusion", "diffusion_law", "LAW_SAMPLER"]

#: the deterministic sampler that stands for a stochastic one when a law is compared (Karras et al. 2022, Alg. 1)
LAW_SAMPLER = "ode_heun"


def restore_diffusion(cfg, truth, x_train, run_dir, *, device="cpu") -> DiffusionModel:
    """The ``DiffusionModel`` of the finished run in ``run_dir`` (config ``cfg``, training points x_train (n, d)).

    Raises
    ------
    ValueError
        A learned score whose run kept no checkpoint, or a checkpoint of an unfinished training.
    """
    d = cfg.diffusion
    device = resolve_device(device)
    x = check_points("x_train", x_train).to(torch.float64).cpu()
    if d.score != "learned":  # a reference score: nothing was trained
        return fit_diffusion(d, x, seed=cfg.seed, device=device, truth=truth)
    path = Path(run_dir) / CHECKPOINT_DIR / CHECKPOINT_NAME
    if not path.is_file():
        raise ValueError(f"run {run_dir} kept no checkpoint ({path}), so its trained score cannot be restored; "
                         f"run it with diffusion.checkpoint_every > 0")
    ck = load_checkpoint(str(path))
    if int(ck["step"]) != d.steps:
        raise ValueError(f"checkpoint {path} is of step {int(ck['step'])}, not of the run's last ({d.steps})")
    n, dim = x.shape
    process = d.make_process(n=n)
    shift, scale = standardisation(d, x)
    ema = score_model(d, process, score_network(d, dim, seed=cfg.seed), x)
    ema.load_state_dict(ck["ema"])
    return DiffusionModel(d, process, shift, scale, x, seed=cfg.seed, score_model=ema.to(device))


def diffusion_law(cfg, truth, x_train, run_dir, *, device="cpu") -> DensityLaw:
    """The restored model as a `DensityLaw`: ODE-sampler draws with their law's log q, and the flow's log p."""
    if cfg.diffusion.sampler not in LAW_SAMPLERS:
        cfg = dataclasses.replace(cfg, diffusion=dataclasses.replace(cfg.diffusion, sampler=LAW_SAMPLER))
    model = restore_diffusion(cfg, truth, x_train, run_dir, device=device)
    return DensityLaw(sample_with_log_prob=lambda m, generator: model.sample_with_log_prob(m, generator=generator),
                      log_prob=model.log_prob)
