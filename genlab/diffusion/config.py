"""Typed settings of a diffusion fit (OmegaConf structured-config compatible).

Defaults are those of the main job ``diffusion_gmm`` (2-D anisotropic mixture,
n = 10,000): an EDM-preconditioned x0-predicting MLP on the VP Ornstein-
Uhlenbeck process, its input scaled to standard deviation 4 (``input_scale``,
see parametrisation.py), trained with the ELBO weighting (log-SNR-uniform
times, eps-scale loss), width 128 (benchmarks/README.md, "Tuning logs", says
what was tried).  ``validate`` turns a bad value into a one-line ValueError.

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
from genlab.core.validation import check_in, check_positive, check_positive_int, in_section
from genlab.nn.mlp import ACTIVATIONS
from genlab.nn.scaling import SCALINGS
from genlab.training.optim import OptimConfig

__all__ = ["DiffusionConfig", "SCORES"]

#: where the score comes from: a trained network, or a reference score with no training (reference.py)
SCORES = ("learned", "oracle", "empirical_optimal", "kde")


@dataclass
class DiffusionConfig(OptimConfig):
    """Every setting of ``fit_diffusion``; see the module docstrings named beside each group.

    The optimiser, schedule, EMA and checkpoint keys (``steps``, ``lr``, ``beta1``, ``beta2``,
    ``weight_decay``, ``warmup_steps``, ``lr_schedule``, ``min_lr_ratio``, ``ema_decay``,
    ``grad_clip``, ``checkpoint_every``) are `genlab.training.OptimConfig`'s; the EMA network is
    the one sampled and scored.
    """

    # forward process (processes.py); beta_* apply to vp_linear, sigma_* to ve
    #: the forward process: vp_ou (dx = -x dt + sqrt(2) dW; Chen et al. 2023, Oko et al. 2023), vp_linear
    #: (Song et al. 2021, eq. 11) or ve (variance exploding, Song et al. 2021, eq. 9)
    process: str = "vp_ou"
    #: horizon T in the process's time units: training times lie in [t0, T] and sampling starts from the
    #: prior at T (vp_ou: alpha_T = e^-6 at T = 6)
    T: float = 6.0
    #: early-stopping time, 0 < t0 < T: sampling ends and the model's density is defined at t0 (unused
    #: when t0_c is set)
    t0: float = 1e-4
    #: t0 = t0_c n^(-t0_a) when t0_c is set, in place of t0 (Oko et al. 2023 let t0 shrink with n);
    #: on a density that jumps at its support's faces the offset TV(p0, p_t0) ~ sqrt(t0) stays below
    #: the TV rate n^(-s/(2s+d)) when t0_a >= 2s/(2s+d) (early_stopping.py)
    t0_c: Optional[float] = None
    #: the exponent a >= 0 of t0 = t0_c n^(-a); non-zero only with t0_c set
    t0_a: float = 0.0
    #: vp_linear's beta(0): beta(t) = beta_min + t (beta_max - beta_min) / T (Song et al. 2021, eq. 11)
    beta_min: float = 0.1
    #: vp_linear's beta(T); the other processes ignore it
    beta_max: float = 20.0
    #: ve's sigma_t^2 = sigma_min^2 ((sigma_max / sigma_min)^(2t/T) - 1); the other processes ignore it
    sigma_min: float = 0.01
    #: ve's noise level at T (its prior is N(0, sigma_T^2 I) with sigma_T ~ sigma_max)
    sigma_max: float = 50.0
    # the score: learned, or a reference (oracle needs a mixture truth; kde's bandwidth h in
    # standardised coordinates, 0 = Silverman's rule)
    #: learned (train the network), or a reference score with no training (reference.py): oracle (the
    #: truth's exact noised score), empirical_optimal (the DSM minimiser on the n points), kde
    score: str = "learned"
    #: bandwidth h of score=kde's Gaussian KDE (Wibisono, Wu & Yang 2024) in standardised coordinates
    #: (0: Silverman's rule); the other scores ignore it
    score_bandwidth: float = 0.0
    # network (nn/mlp.py) and parametrisation (parametrisation.py)
    #: what the network predicts: eps, score or x0 (converted to the score by Tweedie's formula)
    target: str = "x0"
    #: EDM preconditioning (Karras et al. 2022, Table 1): c_in and c_noise, and c_skip, c_out for target x0;
    #: false: the network sees (input_scale x_t, log sigma_t/alpha_t) and predicts the target directly
    precondition: bool = True
    #: k: the network's input is c_in x_t of standard deviation k (EDM: k = 1), or k x_t without
    #: preconditioning; k = 4 resolved the narrow modes of diffusion_gmm (parametrisation.py; Tancik et al. 2020)
    input_scale: float = 4.0
    #: learn in z = (x - mean) / sd, per axis of the training set (then sigma_data = 1); false: in
    #: data coordinates, with sigma_data the sd of all training coordinates
    standardize: bool = True
    #: hidden width of the score MLP (nn/mlp.py)
    width: int = 128
    #: hidden-to-hidden layers of the score MLP (0: one hidden layer)
    depth: int = 2
    #: width of the sinusoidal embedding of the noise level c_noise = log(sigma_t / alpha_t)
    #: (Vaswani et al. 2017; Ho et al. 2020)
    time_embed_dim: int = 64
    #: hidden width of the time branch (embedding -> time_width -> width; nn/mlp.py): its time_width x
    #: width layer meets every training row, so a narrower branch cheapens a wide network (null: width)
    time_width: Optional[int] = None
    #: the MLP's activation: silu, relu, gelu or tanh
    activation: str = "silu"
    #: how the MLP's layers scale with the width (nn/scaling.py): standard (PyTorch's nn.Linear), ntk
    #: (Jacot et al. 2018's network, effective weights N(0, 1/fan_in), stored so that Adam at lr ~
    #: 1/sqrt(width) keeps every layer lazy) or mean_field (muP: readout multiplier 1/width, Adam's rate
    #: per layer as Yang et al. 2022, Table 3, so lr transfers across widths)
    network_scaling: str = "standard"
    #: report weight_movement (||W - W_0||_F / ||W_0||_F pooled over layers) and weight_movement_spectral
    #: (the largest layer's ||W - W_0||_2 / ||W_0||_2, and each layer's as weight_movement_spectral_<layer>)
    #: of the scored (EMA) network against its init (nn/scaling.py): small in the lazy regime (Chizat,
    #: Oyallon & Bach 2019)
    weight_movement: bool = False
    # loss (loss.py)
    #: law of the training times on [t0, T]: uniform in t, logsnr (log-SNR uniform: with weighting=eps
    #: the ELBO weighting, Kingma et al. 2021), or edm (log-normal sigma, Karras et al. 2022)
    time_sampling: str = "logsnr"
    #: loss weight w(t) on the eps-scale error: eps (w = 1, Ho et al. 2020) or edm (w = 1 + sigma~^2 /
    #: sigma_data^2, Karras et al. 2022's lambda)
    weighting: str = "eps"
    # optimisation: the keys of genlab.training.OptimConfig, with this family's defaults
    steps: int = 6000
    lr: float = 2e-3
    warmup_steps: int = 200
    grad_clip: Optional[float] = 1.0
    #: minibatch size, drawn from the n points with replacement (min(batch_size, n))
    batch_size: int = 1024
    # sampling (samplers.py)
    #: sde_euler (reverse SDE, Euler-Maruyama), ode_euler, ode_heun (Karras et al. 2022, Alg. 1),
    #: ode_adaptive (RK45), or diffusers' ddpm, ddim, dpm_solver, euler_discrete
    sampler: str = "sde_euler"
    #: steps N of the sampler's time grid (ode_adaptive uses only its ends)
    sampler_steps: int = 200
    #: time grid of the sampler and of the likelihood ODE: uniform in t, logsnr (uniform in log-SNR) or
    #: edm (sigma^(1/7) uniform, Karras et al. 2022, eq. 5)
    grid: str = "edm"
    # likelihood (likelihood.py)
    #: fixed steps of the probability-flow ODE solve behind log p, tv, kl (on `grid`)
    likelihood_steps: int = 48
    #: the likelihood ODE's solver: rk4 (4 score evaluations a step) or heun (2)
    likelihood_method: str = "rk4"
    #: precision of the network in the likelihood ODE: float32, its training precision, is 2.6x
    #: faster than float64 and moved log p by at most 1.5e-6 on 6000 points (width 128,
    #: 2026-11-22), 1000x below the CI half-width of the TV it feeds; reference scores are float64
    likelihood_dtype: str = "float32"
    #: divergence in the likelihood ODE: exact (d backward passes), hutchinson (Rademacher probes;
    #: Grathwohl et al. 2019, FFJORD) or auto (exact for d <= 10)
    trace: str = "auto"
    #: Rademacher probes per point of the Hutchinson trace estimator
    n_probes: int = 1
    # extra metrics (estimator.py)
    #: times t at which score_error_t<t> = E||s_theta - s*||^2 (standardised coordinates) is reported,
    #: on a Gaussian-mixture truth (empty: none)
    score_error_times: List[float] = field(default_factory=lambda: [0.01, 0.1, 1.0])
    #: exact draws of the noised truth per time for score_error_t<t>
    score_error_m: int = 2000
    # the early-stopping split (early_stopping.py): tv_t0 / kl_t0, the ODE density against the truth
    # noised to t0 on t0_m points of it (0: eval.m; each point costs a likelihood solve, as each of
    # tv's eval.reps * eval.m does), beside tv / kl; tv_offset = TV(truth, truth noised to t0) on t0_offset_m points (no model
    # enters; 0: 10 eval.reps eval.m).  t0_inner importance draws per point estimate the noised
    # density of a truth with no closed form (a mixture's is exact): at 64 their bias was 2e-5 in
    # TV on the s = 1 density
    #: report tv_t0 / kl_t0 and tv_offset beside tv / kl (when the truth has a density)
    t0_metrics: bool = True
    #: points of the truth noised to t0 for tv_t0 / kl_t0, each a likelihood solve (0: eval.m)
    t0_m: int = 0
    #: importance draws per point for the noised density of a truth with no closed form (a multiple of 8)
    t0_inner: int = 64
    #: points for tv_offset = TV(truth, truth noised to t0), no model involved (0: 10 eval.reps eval.m)
    t0_offset_m: int = 0

    def validate(self) -> "DiffusionConfig":
        """Return self, or raise a one-line ValueError naming the key as the recipes spell it
        (``diffusion.lr``)."""
        return in_section("diffusion", self._check)

    def _check(self) -> "DiffusionConfig":
        self.validate_optim()
        self._check_t0_schedule()
        self.make_process(n=None if self.t0_c is None else 1)
        check_target(self.target)
        check_in("score", self.score, SCORES)
        if not self.score_bandwidth >= 0:
            raise ValueError(f"score_bandwidth must be >= 0, got {self.score_bandwidth}")
        for name in ("width", "time_embed_dim", "batch_size", "sampler_steps",
                     "likelihood_steps", "n_probes", "score_error_m", "t0_inner"):
            check_positive_int(name, getattr(self, name))
        if self.time_width is not None:
            check_positive_int("time_width", self.time_width)
        if int(self.depth) < 0:
            raise ValueError(f"depth must be >= 0, got {self.depth}")
        check_in("activation", self.activation, sorted(ACTIVATIONS))
        check_in("network_scaling", self.network_scaling, SCALINGS)
        check_in("time_sampling", self.time_sampling, TIME_SAMPLING)
        check_in("weighting", self.weighting, WEIGHTINGS)
        check_in("sampler", self.sampler, list(SAMPLERS))
        check_in("grid", self.grid, GRIDS)
        check_in("likelihood_method", self.likelihood_method, METHODS)
        check_in("likelihood_dtype", self.likelihood_dtype, ("float32", "float64"))
        check_in("trace", self.trace, TRACES)
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
