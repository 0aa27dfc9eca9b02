"""Forward noising processes ``x_t = alpha_t x0 + sigma_t eps`` and their SDEs.

Every process is a linear SDE ``dx = f(t) x dt + g(t) dW`` (Song et al. 2021,
"Score-based generative modeling through SDEs", eq. 5) whose marginal given
``x0`` is ``N(alpha_t x0, sigma_t^2 I)`` with

    f(t)   = d log alpha_t / dt,
    g(t)^2 = d sigma_t^2 / dt - 2 f(t) sigma_t^2          (Karras et al. 2022, eq. 28).

A process also knows its log signal-to-noise ratio ``lambda_t = log(alpha_t /
sigma_t)`` and its inverse, so that time grids and time sampling can be laid
out in noise level rather than in t.  Times are float64 tensors (or floats).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch

from genlab.core.validation import check_in, check_positive, check_positive_int

__all__ = ["Process", "VPOrnsteinUhlenbeck", "VPLinear", "VE", "make_process", "marginal",
           "PROCESSES"]


def _t(t) -> torch.Tensor:
    """Times as a float64 tensor (floats, 0-d or (B,) tensors accepted)."""
    if isinstance(t, torch.Tensor):
        return t if t.dtype == torch.float64 else t.to(torch.float64)
    return torch.as_tensor(t, dtype=torch.float64)  # floats straight to float64, never via float32


class Process(ABC):
    """A forward process on [0, T] run from the data at 0, learnt on [t0, T].

    Parameters
    ----------
    T : float
        Horizon; sampling starts from the prior at T.
    t0 : float
        Early-stopping time, 0 < t0 < T; sampling ends and the model's density
        is defined at t0 (the truth noised to t0 is its exact target).
    """

    name: str = "process"

    def __init__(self, T: float, t0: float):
        self.T = check_positive("T", T)
        t0 = float(t0)
        if not (0.0 < t0 < self.T):
            raise ValueError(f"t0 must satisfy 0 < t0 < T = {self.T:g}, got t0 = {t0:g}")
        self.t0 = t0

    # -- the schedule ---------------------------------------------------------------
    @abstractmethod
    def alpha(self, t) -> torch.Tensor:
        """Signal scale alpha_t."""

    @abstractmethod
    def sigma(self, t) -> torch.Tensor:
        """Noise scale sigma_t."""

    @abstractmethod
    def f(self, t) -> torch.Tensor:
        """Drift coefficient f(t) = d log alpha_t / dt."""

    @abstractmethod
    def dsigma2_dt(self, t) -> torch.Tensor:
        """d sigma_t^2 / dt."""

    @abstractmethod
    def t_of_logsnr(self, lam) -> torch.Tensor:
        """Inverse of ``logsnr``: the time t with log(alpha_t / sigma_t) = lam."""

    def logsnr(self, t) -> torch.Tensor:
        """lambda_t = log(alpha_t / sigma_t), decreasing in t."""
        return torch.log(self.alpha(t)) - torch.log(self.sigma(t))

    def g2(self, t) -> torch.Tensor:
        """Squared diffusion coefficient g(t)^2 = d sigma^2/dt - 2 f sigma^2."""
        t = _t(t)
        return self.dsigma2_dt(t) - 2.0 * self.f(t) * self.sigma(t) ** 2

    def g(self, t) -> torch.Tensor:
        """Diffusion coefficient g(t)."""
        return torch.sqrt(self.g2(t))

    def drift(self, x: torch.Tensor, t) -> torch.Tensor:
        """Forward SDE drift f(t) x, shape of ``x``."""
        return self.f(t).to(x.dtype) * x

    def diffusion(self, t) -> torch.Tensor:
        """Forward SDE diffusion coefficient g(t) (scalar noise, same on every axis)."""
        return self.g(t)

    def sigma_tilde(self, t) -> torch.Tensor:
        """Noise level of the rescaled variable x_t / alpha_t: sigma_t / alpha_t (EDM's sigma)."""
        return torch.exp(-self.logsnr(t))

    def t_of_sigma_tilde(self, s) -> torch.Tensor:
        """Time whose sigma_t / alpha_t equals ``s``."""
        return self.t_of_logsnr(-torch.log(_t(s)))

    # -- prior ----------------------------------------------------------------------
    @property
    def prior_std(self) -> float:
        """Standard deviation of the Gaussian prior N(0, prior_std^2 I) used at T."""
        return 1.0

    def prior_sample(self, n: int, dim: int, generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float32,
                     device: torch.device | str = "cpu") -> torch.Tensor:
        """n draws of the prior N(0, prior_std^2 I), shape (n, dim)."""
        n = check_positive_int("n", n)
        dim = check_positive_int("dim", dim)
        z = torch.randn(n, dim, generator=generator, dtype=dtype, device=device)
        return self.prior_std * z

    def prior_log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log N(x; 0, prior_std^2 I), shape (n,)."""
        s2 = self.prior_std ** 2
        d = x.shape[-1]
        return -0.5 * (x ** 2).sum(-1) / s2 - 0.5 * d * math.log(2 * math.pi * s2)

    # -- marginals --------------------------------------------------------------------
    def marginal(self, truth, t):
        """Exact law of x_t when x0 ~ truth: ``truth.noised(alpha_t, sigma_t)``."""
        t = float(t)
        return truth.noised(float(self.alpha(t)), float(self.sigma(t)))

    def describe(self) -> dict:
        return {"name": self.name, "T": self.T, "t0": self.t0}

    def __repr__(self) -> str:
        kw = ", ".join(f"{k}={v}" for k, v in self.describe().items() if k != "name")
        return f"{type(self).__name__}({kw})"


class VPOrnsteinUhlenbeck(Process):
    """Variance-preserving Ornstein-Uhlenbeck process dx = -x dt + sqrt(2) dW.

    alpha_t = e^{-t}, sigma_t^2 = 1 - e^{-2t}; the process analysed by Chen et
    al. (2023, "Sampling is as easy as learning the score") and Oko et al. (2023).

    >>> p = VPOrnsteinUhlenbeck(T=5.0, t0=1e-3)
    >>> float(p.g2(0.3))
    2.0
    """

    name = "vp_ou"

    def __init__(self, T: float = 6.0, t0: float = 1e-3):
        super().__init__(T, t0)

    def alpha(self, t):
        return torch.exp(-_t(t))

    def sigma(self, t):
        return torch.sqrt(-torch.expm1(-2.0 * _t(t)))

    def f(self, t):
        return torch.full_like(_t(t), -1.0)

    def dsigma2_dt(self, t):
        return 2.0 * torch.exp(-2.0 * _t(t))

    def logsnr(self, t):
        return -0.5 * torch.log(torch.expm1(2.0 * _t(t)))

    def t_of_logsnr(self, lam):
        return 0.5 * torch.log1p(torch.exp(-2.0 * _t(lam)))


class VPLinear(Process):
    """VP SDE with linear beta(t) = beta_min + t (beta_max - beta_min) / T (Song et al. 2021, eq. 11).

    With B(t) = int_0^t beta: alpha_t = exp(-B(t)/2), sigma_t^2 = 1 - exp(-B(t)),
    f = -beta/2, g^2 = beta.  Defaults are score_sde's (beta_min 0.1, beta_max 20, T 1).

    >>> p = VPLinear()
    >>> round(float(p.g2(0.5)), 12)
    10.05
    """

    name = "vp_linear"

    def __init__(self, T: float = 1.0, t0: float = 1e-3, beta_min: float = 0.1,
                 beta_max: float = 20.0):
        super().__init__(T, t0)
        self.beta_min = check_positive("beta_min", beta_min)
        self.beta_max = check_positive("beta_max", beta_max)
        if self.beta_max < self.beta_min:
            raise ValueError(f"beta_max must be >= beta_min = {beta_min}, got {beta_max}")

    def beta(self, t):
        return self.beta_min + _t(t) * (self.beta_max - self.beta_min) / self.T

    def B(self, t):
        """Integrated rate int_0^t beta(s) ds."""
        t = _t(t)
        return self.beta_min * t + 0.5 * (self.beta_max - self.beta_min) / self.T * t ** 2

    def alpha(self, t):
        return torch.exp(-0.5 * self.B(t))

    def sigma(self, t):
        return torch.sqrt(-torch.expm1(-self.B(t)))

    def f(self, t):
        return -0.5 * self.beta(t)

    def dsigma2_dt(self, t):
        return self.beta(t) * torch.exp(-self.B(t))

    def logsnr(self, t):
        return -0.5 * torch.log(torch.expm1(self.B(t)))

    def t_of_logsnr(self, lam):
        b = torch.log1p(torch.exp(-2.0 * _t(lam)))  # B(t) = log(1 + e^{-2 lam})
        a = 0.5 * (self.beta_max - self.beta_min) / self.T
        if a == 0.0:
            return b / self.beta_min
        return (-self.beta_min + torch.sqrt(self.beta_min ** 2 + 4.0 * a * b)) / (2.0 * a)

    def describe(self) -> dict:
        return {**super().describe(), "beta_min": self.beta_min, "beta_max": self.beta_max}


class VE(Process):
    """Variance-exploding process: alpha_t = 1, geometric noise (Song et al. 2021, eq. 9).

    sigma_t^2 = sigma_min^2 ((sigma_max / sigma_min)^{2 t / T} - 1), which is the
    exact variance the SDE dx = sqrt(d[sigma_min^2 r^{2t/T}]/dt) dW of score_sde
    accumulates from 0 (score_sde approximates it by sigma_min r^{t/T}); sigma_T
    is sigma_max to relative accuracy (sigma_min/sigma_max)^2.
    The prior is N(0, sigma_T^2 I).

    >>> p = VE(sigma_min=0.01, sigma_max=50.0)
    >>> float(p.f(0.5)), round(float(p.sigma(1.0)), 4)
    (0.0, 50.0)
    """

    name = "ve"

    def __init__(self, T: float = 1.0, t0: float = 1e-3, sigma_min: float = 0.01,
                 sigma_max: float = 50.0):
        super().__init__(T, t0)
        self.sigma_min = check_positive("sigma_min", sigma_min)
        self.sigma_max = check_positive("sigma_max", sigma_max)
        if self.sigma_max <= self.sigma_min:
            raise ValueError(f"sigma_max must be > sigma_min = {sigma_min}, got {sigma_max}")
        self._log_r = math.log(self.sigma_max / self.sigma_min)

    def alpha(self, t):
        return torch.ones_like(_t(t))

    def sigma(self, t):
        return torch.sqrt(self.sigma_min ** 2 * torch.expm1(2.0 * self._log_r * _t(t) / self.T))

    def f(self, t):
        return torch.zeros_like(_t(t))

    def dsigma2_dt(self, t):
        c = 2.0 * self._log_r / self.T
        return self.sigma_min ** 2 * c * torch.exp(c * _t(t))

    def t_of_logsnr(self, lam):
        return self.T * torch.log1p(torch.exp(-2.0 * _t(lam)) / self.sigma_min ** 2) / (2.0 * self._log_r)

    @property
    def prior_std(self) -> float:
        return float(self.sigma(self.T))

    def describe(self) -> dict:
        return {**super().describe(), "sigma_min": self.sigma_min, "sigma_max": self.sigma_max}


PROCESSES = {"vp_ou": VPOrnsteinUhlenbeck, "vp_linear": VPLinear, "ve": VE}


def make_process(name: str, **kw) -> Process:
    """Build a process by name (``vp_ou``, ``vp_linear``, ``ve``); keyword args go to its constructor.

    >>> make_process("vp_ou", T=6.0, t0=1e-3).name
    'vp_ou'
    """
    check_in("process", name, sorted(PROCESSES))
    return PROCESSES[name](**kw)


def marginal(truth, process: Process, t):
    """Exact law of x_t for x0 ~ truth (a ``GaussianMixture``): truth.noised(alpha_t, sigma_t)."""
    return process.marginal(truth, t)
