"""Fit a score-based diffusion model to n points: ``fit_diffusion(cfg, x_train, seed=...) -> DiffusionModel``.

The network learns in standardised coordinates z = (x - mu) / sd (per-axis
mean and standard deviation of the training set, when ``cfg.standardize``);
the model's law in data coordinates is the push-forward x = mu + sd z, so
``log_prob`` subtracts sum(log sd) and ``score`` divides by sd.

``cfg.score`` other than ``learned`` puts a reference score (reference.py) in
the network's place, with no training, so the same samplers and likelihood
split the error (issue 4): ``oracle`` (the truth's exact noised score, in data
coordinates: discretisation and horizon error only), ``empirical_optimal``
(the DSM minimiser on the n points: memorisation) and ``kde`` (Wibisono, Wu &
Yang 2024).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Optional

import torch

from genlab.core.device import resolve_device
from genlab.diffusion.config import DiffusionConfig
from genlab.diffusion.likelihood import ode_log_prob
from genlab.diffusion.loss import dsm_loss
from genlab.diffusion.memorization import memorization_fraction
from genlab.diffusion.parametrisation import ScoreModel
from genlab.diffusion.reference import (EmpiricalOptimalScore, KDEScore, OracleScore, has_closed_form_score,
                                       score_error)
from genlab.diffusion.sampler_law import LAW_SAMPLERS, ode_sampler_with_log_prob
from genlab.diffusion.samplers import make_sampler, time_grid
from genlab.nn.mlp import TimeMLP
from genlab.nn.scaling import weight_movement
from genlab.core.seeding import derive_seed, make_generator
from genlab.training import train
from genlab.core.validation import check_in, check_points, check_positive_int

__all__ = ["DiffusionModel", "fit_diffusion", "standardisation", "standardised_mixture", "score_network", "score_mlp", "score_model",
           "train_batch_size", "train_stats"]


class DiffusionModel:
    """A diffusion model: a score (EMA network or reference), process, standardisation and sampler settings.

    ``score_z(z (B, d), t) -> (B, d)`` is the score in standardised coordinates;
    ``score_z64`` the same in float64 and differentiable in z (for the
    likelihood and the sampler's law).  A trained model passes its network as
    ``score_model`` and both are made from it.
    """

    def __init__(self, cfg: DiffusionConfig, process, shift: torch.Tensor, scale: torch.Tensor,
                 x_train: torch.Tensor, *, seed: int, score_model: Optional[ScoreModel] = None,
                 reference=None, device="cpu", train_stats: Optional[dict] = None):
        if (score_model is None) == (reference is None):
            raise ValueError("give exactly one of score_model and reference")
        self.score_model = None if score_model is None else score_model.eval().requires_grad_(False)
        self.reference = reference
        self.process = process
        self.cfg = cfg
        self.shift, self.scale = shift.to(torch.float64), scale.to(torch.float64)  # (d,)
        self.x_train = x_train
        self.dim = x_train.shape[1]
        self.seed = seed
        self.train_stats = dict(train_stats or {})
        self.device = (next(score_model.parameters()).device if score_model is not None
                       else torch.device(device))
        self._score64 = None
        self._last_samples = None

    # -- coordinates ------------------------------------------------------------
    def to_z(self, x: torch.Tensor) -> torch.Tensor:
        return (x.to(torch.float64) - self.shift) / self.scale

    def from_z(self, z: torch.Tensor) -> torch.Tensor:
        return self.shift + self.scale * z.to(torch.float64)

    def score_z(self, z: torch.Tensor, t) -> torch.Tensor:
        """Score of the model's x_t in standardised coordinates, in z's dtype."""
        if self.reference is not None:
            return self.reference(z, t)
        return self.score_model.score(z.to(torch.float32), t).to(z.dtype)

    def score_z64(self, z: torch.Tensor, t) -> torch.Tensor:
        """The same score computed in float64, differentiable in z."""
        if self.reference is not None:
            return self.reference(z.to(torch.float64), t)
        if self._score64 is None:
            self._score64 = copy.deepcopy(self.score_model).double()
        return self._score64.score(z.to(torch.float64), t)

    def _differentiable_score(self):
        """``score_z64``, or the reference score itself where it gives its Jacobian in closed form
        (``score_and_jacobian``: the same values, with no backward passes through n training points)."""
        if hasattr(self.reference, "score_and_jacobian"):
            return self.reference
        return self.score_z64

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

    def sample_with_log_prob(self, m: int, generator: Optional[torch.Generator] = None):
        """m draws of the configured ODE sampler with the log-density of its own law at them.

        Returns (x (m, d), log q(x) (m,)), float64, data coordinates, where q is
        the law of the discrete sampler (``sampler_law.py``): exact, unlike
        ``log_prob``, which is the continuous flow's.  Needs ``cfg.sampler`` in
        ``LAW_SAMPLERS`` (ode_euler, ode_heun).
        """
        m = check_positive_int("m", m)
        check_in("sampler (for the sampler's law)", self.cfg.sampler, LAW_SAMPLERS)
        g = generator or make_generator(derive_seed(self.seed, "sample"), self.device)
        x_T = self.process.prior_sample(m, self.dim, g, dtype=torch.float64, device=self.device)
        ts = time_grid(self.process, self.cfg.sampler_steps, kind=self.cfg.grid)
        z, log_q = ode_sampler_with_log_prob(self._differentiable_score(), x_T, ts, self.process,
                                             method=self.cfg.sampler)
        x = self.from_z(z.cpu())
        self._last_samples = x
        return x, log_q.cpu() - torch.log(self.scale).sum()

    def log_prob(self, x, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """log-density of the model at t0 from the probability-flow ODE, (n,) float64 (``likelihood.py``).

        The network runs in ``cfg.likelihood_dtype``; the log-density is summed in float64.
        """
        x = check_points("x", x, dim=self.dim)
        g = generator or make_generator(derive_seed(self.seed, "likelihood"))
        z = self.to_z(x.cpu()).to(self.device)
        # a network in cfg.likelihood_dtype (float32: its own precision); a reference score in float64
        fp32 = self.reference is None and self.cfg.likelihood_dtype == "float32"
        lp = ode_log_prob(self.score_z if fp32 else self._differentiable_score(), z, self.process,
                          n_steps=self.cfg.likelihood_steps, method=self.cfg.likelihood_method,
                          grid=self.cfg.grid, trace=self.cfg.trace, n_probes=self.cfg.n_probes, generator=g,
                          dtype=torch.float32 if fp32 else torch.float64)
        return lp.cpu() - torch.log(self.scale).sum()

    @torch.no_grad()
    def score(self, x, t) -> torch.Tensor:
        """Score in data coordinates of the model's law of mu + sd z_t, (n, d) float64."""
        x = check_points("x", x, dim=self.dim)
        z = self.to_z(x.cpu()).to(self.device)
        return self.score_z(z, t).cpu().to(torch.float64) / self.scale

    def standardised_truth(self, truth):
        """The truth in the network's coordinates (a GaussianMixture pushed through z = (x - mu) / sd)."""
        return standardised_mixture(truth, self.shift, self.scale)

    def extra_metrics(self, truth=None, samples: Optional[torch.Tensor] = None) -> dict[str, float]:
        """t0 and sigma_t0, training record, score error on cfg.score_error_times (truth given),
        memorisation (samples).

        Score errors E||s_theta - s*||^2 are measured in the standardised
        coordinates the network learns in, with m = cfg.score_error_m exact
        draws of the noised truth per time.
        """
        out = {k: float(v) for k, v in self.train_stats.items()}
        # the early-stopping time this fit used (it may depend on n: DiffusionConfig.t0_at)
        out["t0"] = float(self.process.t0)
        out["sigma_t0"] = float(self.process.sigma(self.process.t0))
        if truth is not None and has_closed_form_score(truth) and len(self.cfg.score_error_times):
            zt = self.standardised_truth(truth)
            g = make_generator(derive_seed(self.seed, "score_error"))
            on_device = lambda z, t: self.score_z(z.to(self.device), t).cpu()  # noqa: E731
            errs = score_error(on_device, zt, self.process, self.cfg.score_error_times,
                               self.cfg.score_error_m, g)
            for t, e in zip(self.cfg.score_error_times, errs.tolist()):
                out[f"score_error_t{t:g}"] = e
        samples = self._last_samples if samples is None else samples
        if samples is not None and self.cfg.score != "oracle":  # the oracle never saw x_train
            out["memorization_fraction"] = memorization_fraction(samples, self.x_train)
        return out


def fit_diffusion(cfg: DiffusionConfig, x_train, *, seed: int, device="cpu", progress: bool = False,
                  checkpoint_dir: Optional[str] = None, truth=None) -> DiffusionModel:
    """Train the configured score network on x_train (n, d) by denoising score matching.

    Seeds: ``derive_seed(seed, "init")`` for the weights, ``derive_seed(seed, "train")``
    for minibatches, times and noise.  With ``checkpoint_dir`` the run writes
    (and resumes from) ``last.pt`` every ``cfg.checkpoint_every`` steps and at the end.
    ``cfg.score`` other than ``learned`` trains nothing and uses a reference
    score instead (``oracle`` needs ``truth``, a Gaussian mixture).
    """
    cfg.validate()
    device = resolve_device(device)
    x = check_points("x_train", x_train).to(torch.float64).cpu()
    n, d = x.shape
    process = cfg.make_process(n=n)  # t0 = cfg.t0, or t0_c n^-t0_a on a schedule
    if cfg.score == "oracle":
        return _oracle_model(cfg, process, x, truth, seed=seed, device=device)
    shift, scale = standardisation(cfg, x)
    if cfg.score != "learned":
        z64 = ((x - shift) / scale).to(device)
        reference = (EmpiricalOptimalScore(z64, process) if cfg.score == "empirical_optimal"
                     else KDEScore(z64, process, h=_silverman(n, d) if cfg.score_bandwidth == 0
                                   else cfg.score_bandwidth))
        return DiffusionModel(cfg, process, shift, scale, x, seed=seed, reference=reference, device=device)
    z = ((x - shift) / scale).to(torch.float32).to(device)
    model = score_model(cfg, process, score_network(cfg, d, seed=seed), x).to(device)
    g = make_generator(derive_seed(seed, "train"), device)
    batch = train_batch_size(cfg, n)

    def step_fn(m: ScoreModel, step: int) -> torch.Tensor:
        idx = torch.randint(0, n, (batch,), generator=g, device=device)
        return dsm_loss(m, z[idx], g, time_sampling=cfg.time_sampling, weighting=cfg.weighting)

    t_start = time.perf_counter()
    res = train(model, step_fn, cfg, generators={"train": g}, checkpoint_dir=checkpoint_dir,
                progress=progress, desc="diffusion", fused=True)
    stats = train_stats(res.losses, res.steps_per_s, t_start)
    if cfg.weight_movement:
        stats.update(weight_movement(res.ema.net, score_network(cfg, d, seed=seed)))
    return DiffusionModel(cfg, process, shift, scale, x, seed=seed, score_model=res.ema, train_stats=stats)


def standardised_mixture(truth, shift: torch.Tensor, scale: torch.Tensor):
    """A Gaussian-mixture truth pushed through z = (x - shift) / scale (shift, scale: (d,)), a GaussianMixture."""
    from genlab.distributions.gaussian import GaussianMixture
    inv = 1.0 / scale
    covs = truth.covs * inv[None, :, None] * inv[None, None, :]
    return GaussianMixture(truth.weights, (truth.means - shift) * inv, covs)


def standardisation(cfg: DiffusionConfig, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(shift, scale), each (d,) float64: the training set's per-axis mean and sd, or (0, 1)."""
    n, d = x.shape
    if cfg.standardize and n > 1:
        return x.mean(0), x.std(0).clamp_min(1e-12)
    return torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)


def score_network(cfg: DiffusionConfig, d: int, *, seed: int) -> TimeMLP:
    """The configured network, its weights drawn from ``derive_seed(seed, "init")``."""
    return score_mlp(cfg, d, generator=make_generator(derive_seed(seed, "init")))


def score_mlp(cfg: DiffusionConfig, d: int, *, generator: torch.Generator,
              replicas: Optional[int] = None) -> TimeMLP:
    """The configured MLP (width, depth, embedding, time_width, activation, network_scaling), drawn
    from ``generator``."""
    return TimeMLP(d, cfg.width, cfg.depth, cfg.time_embed_dim, cfg.activation, replicas=replicas,
                   generator=generator, scaling=cfg.network_scaling, time_width=cfg.time_width)


def score_model(cfg: DiffusionConfig, process, net, x: torch.Tensor) -> ScoreModel:
    """The network with its target and preconditioning; sigma_data is 1 after standardisation."""
    return ScoreModel(net, process, cfg.target, sigma_data=1.0 if cfg.standardize else float(x.std()),
                      precondition=cfg.precondition, input_scale=cfg.input_scale)


def train_batch_size(cfg: DiffusionConfig, n: int) -> int:
    """The minibatch: ``cfg.batch_size``, or all n points' worth when n is smaller (drawn with replacement)."""
    return min(cfg.batch_size, n)


def train_stats(losses: torch.Tensor, steps_per_s: float, t_start: float) -> dict:
    """Final training loss (mean of the last 100 steps), steps/s and seconds since ``t_start``."""
    tail = losses[-min(100, len(losses)):]
    return {"train_loss_final": float(tail.mean()) if len(tail) else math.nan,
            "train_steps_per_s": steps_per_s,
            "train_time_s": time.perf_counter() - t_start}


def _silverman(n: int, d: int) -> float:
    """Silverman's rule (4 / (d + 2))^(1 / (d + 4)) n^(-1 / (d + 4)) in standardised coordinates."""
    return (4.0 / (d + 2)) ** (1.0 / (d + 4)) * n ** (-1.0 / (d + 4))


def _oracle_model(cfg, process, x, truth, *, seed: int, device) -> DiffusionModel:
    if truth is None or not has_closed_form_score(truth):
        name = "none" if truth is None else type(truth).__name__
        raise ValueError(f"diffusion.score=oracle needs a truth whose noised score is known in closed "
                         f"form (a Gaussian mixture); got {name}")
    d = x.shape[1]
    one = torch.ones(d, dtype=torch.float64)
    # the closed form lives on the CPU beside the truth's parameters; it is cheap there
    return DiffusionModel(cfg, process, torch.zeros(d, dtype=torch.float64), one, x, seed=seed,
                          reference=OracleScore(truth, process), device="cpu")
