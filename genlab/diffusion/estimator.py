"""Fit a score-based diffusion model to n points: ``fit_diffusion(cfg, x_train, seed=...) -> DiffusionModel``.

The network learns in standardised coordinates z = (x - mu) / sd (per-axis
mean and standard deviation of the training set, when ``cfg.standardize``);
the model's law in data coordinates is the push-forward x = mu + sd z, so
``log_prob`` subtracts sum(log sd) and ``score`` divides by sd.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Optional

import torch

from genlab.device import resolve_device
from genlab.diffusion.config import DiffusionConfig
from genlab.diffusion.likelihood import ode_log_prob
from genlab.diffusion.loss import dsm_loss
from genlab.diffusion.memorization import memorization_fraction
from genlab.diffusion.parametrisation import ScoreModel
from genlab.diffusion.reference import score_error
from genlab.diffusion.samplers import make_sampler, time_grid
from genlab.nn.mlp import TimeMLP
from genlab.seeding import derive_seed, make_generator
from genlab.training import TrainConfig, train
from genlab.validation import check_points, check_positive_int

__all__ = ["DiffusionModel", "fit_diffusion"]


class DiffusionModel:
    """A trained diffusion model: EMA score network, process, standardisation and sampler settings."""

    def __init__(self, score_model: ScoreModel, cfg: DiffusionConfig, shift: torch.Tensor,
                 scale: torch.Tensor, x_train: torch.Tensor, *, seed: int,
                 train_stats: Optional[dict] = None):
        self.score_model = score_model.eval().requires_grad_(False)
        self.process = score_model.process
        self.cfg = cfg
        self.shift, self.scale = shift.to(torch.float64), scale.to(torch.float64)  # (d,)
        self.x_train = x_train
        self.dim = x_train.shape[1]
        self.seed = seed
        self.train_stats = dict(train_stats or {})
        self.device = next(score_model.parameters()).device
        self._score64 = None
        self._last_samples = None

    # -- coordinates ------------------------------------------------------------
    def to_z(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(torch.float64) - self.shift) / self.scale

    def from_z(self, z: torch.Tensor) -> torch.Tensor:
        return self.shift + self.scale * z.to(torch.float64)

    def score_z(self, z: torch.Tensor, t) -> torch.Tensor:
        """Score of the model's x_t in standardised coordinates, in z's dtype."""
        return self.score_model.score(z.to(torch.float32), t).to(z.dtype)

    # -- public API ---------------------------------------------------------------
    @torch.no_grad()
    def sample(self, m: int, generator: Optional[torch.Generator] = None,
               progress: bool = False) -> torch.Tensor:
        """m draws from the configured sampler, shape (m, d), float64, data coordinates."""
        m = check_positive_int("m", m)
        g = generator or make_generator(derive_seed(self.seed, "sample"), self.device)
        x_T = self.process.prior_sample(m, self.dim, g, dtype=torch.float32, device=self.device)
        ts = time_grid(self.process, self.cfg.sampler_steps, kind=self.cfg.grid)
        z = make_sampler(self.cfg.sampler)(self.score_z, x_T, ts, self.process, generator=g,
                                           disable=not progress)
        x = self.from_z(z.cpu())
        self._last_samples = x
        return x

    def log_prob(self, x, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """log-density of the model at t0 from the probability-flow ODE, (n,) float64 (``likelihood.py``)."""
        x = check_points("x", x, dim=self.dim)
        if self._score64 is None:
            self._score64 = copy.deepcopy(self.score_model).double()
        g = generator or make_generator(derive_seed(self.seed, "likelihood"))
        z = self.to_z(x.cpu()).to(self.device)
        lp = ode_log_prob(self._score64.score, z, self.process, n_steps=self.cfg.likelihood_steps,
                          method=self.cfg.likelihood_method, grid=self.cfg.grid,
                          trace=self.cfg.trace, n_probes=self.cfg.n_probes, generator=g)
        return lp.cpu() - torch.log(self.scale).sum()

    @torch.no_grad()
    def score(self, x, t) -> torch.Tensor:
        """Score in data coordinates of the model's law of mu + sd z_t, (n, d) float64."""
        x = check_points("x", x, dim=self.dim)
        z = self.to_z(x.cpu()).to(self.device)
        return self.score_z(z, t).cpu().to(torch.float64) / self.scale

    def standardised_truth(self, truth):
        """The truth in the network's coordinates (a GaussianMixture pushed through z = (x - mu) / sd)."""
        from genlab.distributions.gaussian import GaussianMixture
        inv = 1.0 / self.scale
        covs = truth.covs * inv[None, :, None] * inv[None, None, :]
        return GaussianMixture(truth.weights, (truth.means - self.shift) * inv, covs)

    def extra_metrics(self, truth=None, samples: Optional[torch.Tensor] = None) -> dict[str, float]:
        """Training record, score error on cfg.score_error_times (truth given), memorisation (samples).

        Score errors E||s_theta - s*||^2 are measured in the standardised
        coordinates the network learns in, with m = cfg.score_error_m exact
        draws of the noised truth per time.
        """
        out = {k: float(v) for k, v in self.train_stats.items()}
        if truth is not None and hasattr(truth, "covs"):
            zt = self.standardised_truth(truth)
            g = make_generator(derive_seed(self.seed, "score_error"))
            errs = score_error(self.score_z, zt, self.process, self.cfg.score_error_times,
                               self.cfg.score_error_m, g)
            for t, e in zip(self.cfg.score_error_times, errs.tolist()):
                out[f"score_error_t{t:g}"] = e
        samples = self._last_samples if samples is None else samples
        if samples is not None:
            out["memorization_fraction"] = memorization_fraction(samples, self.x_train)
        return out


def fit_diffusion(cfg: DiffusionConfig, x_train, *, seed: int, device="cpu", progress: bool = False,
                  checkpoint_dir: Optional[str] = None) -> DiffusionModel:
    """Train the configured score network on x_train (n, d) by denoising score matching.

    Seeds: ``derive_seed(seed, "init")`` for the weights, ``derive_seed(seed, "train")``
    for minibatches, times and noise.  With ``checkpoint_dir`` the run writes
    (and resumes from) ``last.pt`` every ``cfg.checkpoint_every`` steps and at the end.
    """
    cfg.validate()
    device = resolve_device(device)
    x = check_points("x_train", x_train).to(torch.float64).cpu()
    n, d = x.shape
    if cfg.standardize and n > 1:
        shift, scale = x.mean(0), x.std(0).clamp_min(1e-12)
    else:
        shift, scale = torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)
    z = ((x - shift) / scale).to(torch.float32).to(device)
    process = cfg.make_process()
    net = TimeMLP(d, cfg.width, cfg.depth, cfg.time_embed_dim, cfg.activation,
                  generator=make_generator(derive_seed(seed, "init")))
    model = ScoreModel(net, process, cfg.target, sigma_data=1.0 if cfg.standardize else
                       float(x.std()), precondition=cfg.precondition,
                       input_scale=cfg.input_scale).to(device)
    g = make_generator(derive_seed(seed, "train"), device)
    batch = min(cfg.batch_size, max(n, 1)) if n < cfg.batch_size else cfg.batch_size

    def step_fn(m: ScoreModel, step: int) -> torch.Tensor:
        idx = torch.randint(0, n, (batch,), generator=g, device=device)
        return dsm_loss(m, z[idx], g, time_sampling=cfg.time_sampling, weighting=cfg.weighting)

    tcfg = TrainConfig(steps=cfg.steps, lr=cfg.lr, warmup_steps=cfg.warmup_steps,
                       lr_schedule=cfg.lr_schedule, ema_decay=cfg.ema_decay,
                       grad_clip=cfg.grad_clip, checkpoint_every=cfg.checkpoint_every)
    t_start = time.perf_counter()
    res = train(model, step_fn, tcfg, generators={"train": g}, checkpoint_dir=checkpoint_dir,
                progress=progress, desc="diffusion")
    tail = res.losses[-min(100, len(res.losses)):]
    stats = {"train_loss_final": float(tail.mean()) if len(tail) else math.nan,
             "train_steps_per_s": res.steps_per_s,
             "train_time_s": time.perf_counter() - t_start}
    return DiffusionModel(res.ema, cfg, shift, scale, x, seed=seed, train_stats=stats)
