"""Samplers of the reverse process behind one signature (k-diffusion style).

Every sampler is ``sample_xxx(score_fn, x_T, ts, process, *, generator=None,
disable=True) -> x_t0``:

* ``score_fn(x (B, d), t: float) -> (B, d)`` is the score at time t (a trained
  model, or a reference score from ``genlab.diffusion.reference``);
* ``x_T`` (B, d) are prior draws (``process.prior_sample``);
* ``ts`` is a decreasing grid from T to t0 (``time_grid``), float64, len n_steps + 1;
* ``disable`` turns the tqdm bar off.

The reverse SDE (Anderson 1982; Song et al. 2021, eq. 6) and the
probability-flow ODE (Song et al. 2021, eq. 13) of dx = f x dt + g dW are

    dx = [f(t) x - g(t)^2 s(x, t)] dt + g(t) dW_bar,     dx/dt = f(t) x - g(t)^2 s(x, t) / 2.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import solve_ivp
from tqdm.auto import trange

from genlab.diffusion.processes import Process
from genlab.core.validation import check_in, check_positive, check_positive_int

__all__ = ["time_grid", "GRIDS", "sample_euler_maruyama", "sample_ode_euler", "sample_ode_heun",
           "sample_ode_adaptive", "make_sampler", "SAMPLERS", "pf_ode_velocity", "decreasing_times"]

GRIDS = ("uniform", "logsnr", "edm")


def time_grid(process: Process, n_steps: int, t0: float | None = None, T: float | None = None,
              kind: str = "edm", rho: float = 7.0) -> torch.Tensor:
    """Decreasing times T = ts[0] > ... > ts[n_steps] = t0, float64 shape (n_steps + 1,).

    kind ``uniform``: equal steps in t.  ``logsnr``: equal steps in
    lambda_t = log(alpha_t / sigma_t).  ``edm``: sigma~ = sigma_t / alpha_t with
    sigma~^(1/rho) equally spaced (Karras et al. 2022, eq. 5, rho = 7), which
    concentrates steps at low noise where the score varies fastest.
    """
    n_steps = check_positive_int("n_steps", n_steps)
    check_in("grid", kind, GRIDS)
    t0 = process.t0 if t0 is None else float(t0)
    T = process.T if T is None else float(T)
    if not 0.0 < t0 < T:
        raise ValueError(f"t0 must satisfy 0 < t0 < T = {T:g}, got t0 = {t0:g}")
    u = torch.linspace(0.0, 1.0, n_steps + 1, dtype=torch.float64)
    if kind == "uniform":
        ts = T + (t0 - T) * u
    elif kind == "logsnr":
        lam = process.logsnr(T) + (process.logsnr(t0) - process.logsnr(T)) * u
        ts = process.t_of_logsnr(lam)
    else:
        rho = check_positive("rho", rho)
        s_max, s_min = process.sigma_tilde(T), process.sigma_tilde(t0)
        st = (s_max ** (1 / rho) + u * (s_min ** (1 / rho) - s_max ** (1 / rho))) ** rho
        ts = process.t_of_sigma_tilde(st)
    ts[0], ts[-1] = T, t0  # exact ends despite the round trip through lambda
    return ts


def decreasing_times(ts) -> list[float]:
    """A sampler's time grid ts (K + 1,) from T down to t0 as Python floats; ValueError unless strictly decreasing."""
    ts = torch.as_tensor(ts, dtype=torch.float64).reshape(-1)
    if ts.numel() < 2:
        raise ValueError(f"ts must hold at least 2 times, got {ts.numel()}")
    if not (ts[1:] < ts[:-1]).all():
        raise ValueError("ts must be strictly decreasing (from T down to t0)")
    return [float(t) for t in ts]


def pf_ode_velocity(score_fn, x: torch.Tensor, t: float, process: Process) -> torch.Tensor:
    """dx/dt of the probability-flow ODE: f(t) x - g(t)^2 s(x, t) / 2."""
    f, g2 = float(process.f(t)), float(process.g2(t))
    return f * x - 0.5 * g2 * score_fn(x, t)


@torch.no_grad()
def sample_euler_maruyama(score_fn, x_T, ts, process, *, generator=None, disable=True):
    """Reverse SDE by Euler-Maruyama (Song et al. 2021, eq. 6 and App. ``reverse diffusion``).

    Step t -> t' = t - h: x <- x - h [f(t) x - g(t)^2 s(x, t)] + g(t) sqrt(h) z, noise on every step.
    """
    times, x = decreasing_times(ts), x_T.clone()
    for i in trange(len(times) - 1, disable=disable, desc="sde_euler"):
        t, h = times[i], times[i] - times[i + 1]
        f, g2 = float(process.f(t)), float(process.g2(t))
        x = x - h * (f * x - g2 * score_fn(x, t))
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)
        x = x + (g2 * h) ** 0.5 * z
    return x


@torch.no_grad()
def sample_ode_euler(score_fn, x_T, ts, process, *, generator=None, disable=True):
    """Probability-flow ODE by explicit Euler (first order)."""
    times, x = decreasing_times(ts), x_T.clone()
    for i in trange(len(times) - 1, disable=disable, desc="ode_euler"):
        t, h = times[i], times[i] - times[i + 1]
        x = x - h * pf_ode_velocity(score_fn, x, t, process)
    return x


@torch.no_grad()
def sample_ode_heun(score_fn, x_T, ts, process, *, generator=None, disable=True):
    """Probability-flow ODE by Heun's method (second order; Karras et al. 2022, Algorithm 1)."""
    times, x = decreasing_times(ts), x_T.clone()
    for i in trange(len(times) - 1, disable=disable, desc="ode_heun"):
        t, t_next = times[i], times[i + 1]
        h = t - t_next
        v = pf_ode_velocity(score_fn, x, t, process)
        x_e = x - h * v
        x = x - 0.5 * h * (v + pf_ode_velocity(score_fn, x_e, t_next, process))
    return x


@torch.no_grad()
def sample_ode_adaptive(score_fn, x_T, ts, process, *, generator=None, disable=True,
                        rtol: float = 1e-5, atol: float = 1e-5):
    """Probability-flow ODE by adaptive RK45 (Dormand-Prince; scipy ``solve_ivp``) from ts[0] to ts[-1].

    Song et al. (2021, App. D.1) use the same solver with rtol = atol = 1e-5.
    The whole batch is one flattened state, so the step size is shared; only
    the ends of ``ts`` are used.
    """
    times = decreasing_times(ts)
    shape, dtype, device = x_T.shape, x_T.dtype, x_T.device

    def fun(t, y):
        x = torch.from_numpy(y).reshape(shape).to(dtype=dtype, device=device)
        return pf_ode_velocity(score_fn, x, float(t), process).reshape(-1).double().cpu().numpy()

    sol = solve_ivp(fun, (times[0], times[-1]), x_T.reshape(-1).double().cpu().numpy(),
                    method="RK45", rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"ode_adaptive: solve_ivp failed: {sol.message}")
    return torch.from_numpy(np.ascontiguousarray(sol.y[:, -1])).reshape(shape).to(dtype=dtype,
                                                                                  device=device)


def _diffusers(name):
    def sampler(score_fn, x_T, ts, process, *, generator=None, disable=True):
        from genlab.diffusion.diffusers_adapter import sample_scheduler
        return sample_scheduler(name, score_fn, x_T, ts, process, generator=generator,
                                disable=disable)
    sampler.__name__ = f"sample_{name}"
    sampler.__doc__ = f"diffusers' {name} scheduler on the grid ``ts`` (see ``diffusers_adapter``)."
    return sampler


SAMPLERS = {
    "sde_euler": sample_euler_maruyama,
    "ode_euler": sample_ode_euler,
    "ode_heun": sample_ode_heun,
    "ode_adaptive": sample_ode_adaptive,
    "ddpm": _diffusers("ddpm"),
    "ddim": _diffusers("ddim"),
    "dpm_solver": _diffusers("dpm_solver"),
    "euler_discrete": _diffusers("euler_discrete"),
}


def make_sampler(name: str):
    """The sampler called ``name``; unknown names raise a ValueError listing the valid ones.

    >>> make_sampler("ode_heun").__name__
    'sample_ode_heun'
    """
    check_in("sampler", name, list(SAMPLERS))
    return SAMPLERS[name]
