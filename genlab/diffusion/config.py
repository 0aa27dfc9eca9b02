"""Typed settings of a diffusion fit (OmegaConf structured-config compatible).

Defaults are those of the main job ``diffusion_gmm`` (2-D anisotropic mixture,
n = 10,000): an EDM-preconditioned x0-predicting MLP on the VP Ornstein-
Uhlenbeck process, its input scaled to standard deviation 4 (``input_scale``,
see parametrisation.py), trained with the ELBO weighting (log-SNR-uniform
times, eps-scale loss).  TV of the ODE density on that job (2026-11-22): at
3000 steps (m = 4000) 0.188 at the EDM input scale 1, 0.117 at 4, 0.183 at 8;
lr 5e-3 instead of 2e-3 helped at 3000 steps (0.098 at scale 4) but not at the
default 6000 (0.066 against 0.059); the EDM time law and weighting gave 0.191
at scale 1.  Width 128 (3.7x fewer FLOPs than 256) gave TV 0.066 [0.064, 0.069]
against 0.059 [0.057, 0.062] at width 256, still below the KDE's 0.070, in
half the time; it is the default so that the rate sweep (18 fits) runs in
minutes (issue 7).  ``validate`` turns a bad value into a one-line ValueError.

Early stopping (issue 14): the model's density is its law at t0, ``t0`` or, on
a schedule, ``t0_c n^(-t0_a)`` (``t0_at(n)``; ``make_process(n)``).  A run
reports tv / kl against the clean truth -- ``tv`` is what Oko et al. (2023)
bound, the one to fit a rate on -- and tv_t0 / kl_t0 against the truth noised
to t0 with tv_offset = TV(truth, truth_t0) (early_stopping.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional

from genlab.diffusion.early_stopping import t0_schedule
from genlab.diffusion.likelihood import METHODS, TRACES
from genlab.diffusion.loss import TIME_SAMPLING, WEIGHTINGS
from genlab.diffusion.parametrisation import check_target
from genlab.diffusion.processes import PROCESSES, Process, make_process
from genlab.diffusion.samplers import GRIDS, SAMPLERS
from genlab.nn.mlp import ACTIVATIONS
from genlab.validation import check_in, check_positive, check_positive_int

__all__ = ["DiffusionConfig", "SCORES"]

#: where the score comes from: a trained network, or a reference score with no training (reference.py)
SCORES = ("learned", "oracle", "empirical_optimal", "kde")


@dataclass
class DiffusionConfig:
    """Every setting of ``fit_diffusion``; see the module docstrings named beside each group."""

    # forward process (processes.py); beta_* apply to vp_linear, sigma_* to ve
    process: str = "vp_ou"
    T: float = 6.0
    t0: float = 1e-4
    #: t0 = t0_c n^(-t0_a) when t0_c is set, in place of t0 (Oko et al. 2023 let t0 shrink with n);
    #: on a density that jumps at its support's faces the offset TV(p0, p_t0) ~ sqrt(t0) stays below
    #: the TV rate n^(-s/(2s+d)) when t0_a >= 2s/(2s+d) (early_stopping.py)
    t0_c: Optional[float] = None
    t0_a: float = 0.0
    beta_min: float = 0.1
    beta_max: float = 20.0
    sigma_min: float = 0.01
    sigma_max: float = 50.0
    # the score: learned, or a reference (oracle needs a mixture truth; kde's bandwidth h in
    # standardised coordinates, 0 = Silverman's rule)
    score: str = "learned"
    score_bandwidth: float = 0.0
    # network (nn/mlp.py) and parametrisation (parametrisation.py)
    target: str = "x0"
    precondition: bool = True
    input_scale: float = 4.0
    standardize: bool = True
    width: int = 128
    depth: int = 2
    time_embed_dim: int = 64
    activation: str = "silu"
    # loss (loss.py)
    time_sampling: str = "logsnr"
    weighting: str = "eps"
    # optimisation (training.py)
    lr: float = 2e-3
    warmup_steps: int = 200
    lr_schedule: str = "cosine"
    batch_size: int = 1024
    steps: int = 6000
    ema_decay: float = 0.999
    grad_clip: Optional[float] = 1.0
    checkpoint_every: int = 0
    # sampling (samplers.py)
    sampler: str = "sde_euler"
    sampler_steps: int = 200
    grid: str = "edm"
    # likelihood (likelihood.py)
    likelihood_steps: int = 48
    likelihood_method: str = "rk4"
    #: precision of the network in the likelihood ODE: float32, its training precision, is 2.6x
    #: faster than float64 and moved log p by at most 1.5e-6 on 6000 points (width 128,
    #: 2026-11-22), 1000x below the CI half-width of the TV it feeds; reference scores are float64
    likelihood_dtype: str = "float32"
    trace: str = "auto"
    n_probes: int = 1
    # extra metrics (estimator.py)
    score_error_times: List[float] = field(default_factory=lambda: [0.01, 0.1, 1.0])
    score_error_m: int = 2000
    # the early-stopping split (early_stopping.py): tv_t0 / kl_t0, the ODE density against the truth
    # noised to t0 on t0_m points of it (0: eval.m; each point costs a likelihood solve, as each of
    # tv's eval.reps * eval.m does), beside tv / kl; tv_offset = TV(truth, truth noised to t0) on t0_offset_m points (no model
    # enters; 0: 10 eval.reps eval.m).  t0_inner importance draws per point estimate the noised
    # density of a truth with no closed form (a mixture's is exact): at 64 their bias was 2e-5 in
    # TV on the s = 1 density
    t0_metrics: bool = True
    t0_m: int = 0
    t0_inner: int = 64
    t0_offset_m: int = 0

    def validate(self) -> "DiffusionConfig":
        self._check_t0_schedule()
        self.make_process(n=None if self.t0_c is None else 1)
        check_target(self.target)
        check_in("score", self.score, SCORES)
        if not self.score_bandwidth >= 0:
            raise ValueError(f"score_bandwidth must be >= 0, got {self.score_bandwidth}")
        for name in ("width", "time_embed_dim", "batch_size", "steps", "sampler_steps",
                     "likelihood_steps", "n_probes", "score_error_m", "t0_inner"):
            check_positive_int(name, getattr(self, name))
        if int(self.depth) < 0:
            raise ValueError(f"depth must be >= 0, got {self.depth}")
        check_in("activation", self.activation, sorted(ACTIVATIONS))
        check_in("time_sampling", self.time_sampling, TIME_SAMPLING)
        check_in("weighting", self.weighting, WEIGHTINGS)
        check_in("sampler", self.sampler, list(SAMPLERS))
        check_in("grid", self.grid, GRIDS)
        check_in("likelihood_method", self.likelihood_method, METHODS)
        check_in("likelihood_dtype", self.likelihood_dtype, ("float32", "float64"))
        check_in("trace", self.trace, TRACES)
        check_positive("lr", self.lr)
        check_positive("input_scale", self.input_scale)
        for t in self.score_error_times:
            check_positive("score_error_times", t)
        if int(self.t0_m) < 0:
            raise ValueError(f"t0_m must be >= 0 (0: eval.m), got {self.t0_m}")
        if int(self.t0_offset_m) < 0:
            raise ValueError(f"t0_offset_m must be >= 0 (0: 10 eval.reps eval.m), got {self.t0_offset_m}")
        if int(self.t0_inner) % 8:
            raise ValueError(f"t0_inner must be a multiple of 8 (antithetic pairs from two proposals, "
                             f"halved for the bias estimate), got {self.t0_inner}")
        return self

    def _check_t0_schedule(self) -> None:
        a = float(self.t0_a)
        if not (math.isfinite(a) and a >= 0):
            raise ValueError(f"t0_a must be a finite number >= 0, got {self.t0_a}")
        if self.t0_c is None:
            if a != 0.0:
                raise ValueError(f"t0_a = {self.t0_a} needs t0_c (t0 = t0_c n^-t0_a); set diffusion.t0_c")
            return
        c = float(self.t0_c)
        # n >= 1 and t0_a >= 0 give t0(n) <= t0_c, so 0 < t0_c < T keeps every t0(n) in (0, T)
        if not (math.isfinite(c) and 0.0 < c < float(self.T)):
            raise ValueError(f"t0_c must satisfy 0 < t0_c < T = {float(self.T):g} (t0 = t0_c n^-t0_a <= t0_c), "
                             f"got {self.t0_c}")

    def t0_at(self, n: Optional[int] = None) -> float:
        """The early-stopping time of a fit on n points: t0, or t0_c n^(-t0_a) when t0_c is set.

        >>> DiffusionConfig(t0_c=0.01, t0_a=0.5).t0_at(10000)
        0.0001
        """
        if self.t0_c is None:
            return float(self.t0)
        self._check_t0_schedule()
        if n is None:
            raise ValueError("diffusion.t0_c is set, so t0 = t0_c n^-t0_a depends on n; give n")
        return t0_schedule(n, self.t0_c, self.t0_a)

    def make_process(self, n: Optional[int] = None) -> Process:
        """The configured process for a fit on n points (its constructor validates T and t0).

        n is needed only with a t0 schedule (``t0_c`` set); without one, t0 is ``self.t0``.
        """
        check_in("process", self.process, sorted(PROCESSES))
        extra = {"vp_linear": dict(beta_min=self.beta_min, beta_max=self.beta_max),
                 "ve": dict(sigma_min=self.sigma_min, sigma_max=self.sigma_max)}.get(self.process, {})
        return make_process(self.process, T=self.T, t0=self.t0_at(n), **extra)
