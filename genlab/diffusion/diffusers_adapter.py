"""diffusers' schedulers (DDPM, DDIM, DPM-Solver++, Euler) driven by a continuous-time score, safely for vector data.

The scheduler is built on a discrete VP chain whose training timesteps are the
grid ``ts`` itself: with u_0 = t0 < u_1 < ... < u_{N-1} = T (``ts`` reversed),
timestep k carries

    alphabar_k = alpha(u_k)^2 / (alpha(u_k)^2 + sigma(u_k)^2),    beta_k = 1 - alphabar_k / alphabar_{k-1},

passed as ``trained_betas``, and the scheduler runs over timesteps N-1, ..., 1
so it visits exactly ``ts`` and stops at t0 (the last diffusers step, from
timestep 0 to clean data, is not taken).  The scheduler's state y is the VP
rescaling of x_t, y = x_t / sqrt(alpha_t^2 + sigma_t^2) (the identity for VP
processes), and the model it calls is eps(y, k) = -sigma_t s(x_t, t) at
t = u_k (Tweedie / Song et al. 2021, eq. 7 optimum).

Safety settings for unnormalised vector data: ``clip_sample=False`` and
``thresholding=False`` (DDPM and DDIM clip the predicted x0 to [-1, 1] by
default); ``scale_model_input`` is called for Euler, whose state is the
VE-scaled y sqrt(1 + sigma_k^2); ``ScoreSdeVeScheduler`` is not used (its
``add_noise`` hard-codes image shapes (B, C, H, W)).
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from genlab.diffusion.processes import Process
from genlab.core.validation import check_in

__all__ = ["SCHEDULERS", "make_scheduler", "sample_scheduler", "alphas_cumprod_on_grid"]

SCHEDULERS = ("ddpm", "ddim", "dpm_solver", "euler_discrete")


def alphas_cumprod_on_grid(process: Process, ts) -> tuple[torch.Tensor, torch.Tensor]:
    """(u, alphabar): the increasing times and the VP alphabar on them, float64 (N,)."""
    u = torch.as_tensor(ts, dtype=torch.float64).flip(0)
    a2, s2 = process.alpha(u) ** 2, process.sigma(u) ** 2
    return u, a2 / (a2 + s2)


def make_scheduler(name: str, process: Process, ts):
    """A configured diffusers scheduler for the grid ``ts`` and the timesteps it runs, N-1 .. 1.

    Unknown names raise a one-line ValueError listing ``SCHEDULERS``.
    """
    check_in("scheduler", name, SCHEDULERS)
    import diffusers  # imported here: diffusers is slow to import

    u, abar = alphas_cumprod_on_grid(process, ts)
    n = u.numel()
    betas = torch.empty(n, dtype=torch.float64)
    betas[0] = 1.0 - abar[0]
    betas[1:] = 1.0 - abar[1:] / abar[:-1]
    common = dict(num_train_timesteps=n, trained_betas=betas.tolist(), prediction_type="epsilon")
    run = list(range(n - 1, 0, -1))
    if name == "ddpm":
        sch = diffusers.DDPMScheduler(**common, clip_sample=False, thresholding=False,
                                      variance_type="fixed_small")
        sch.set_timesteps(timesteps=list(range(n - 1, -1, -1)))
    elif name == "ddim":
        sch = diffusers.DDIMScheduler(**common, clip_sample=False, thresholding=False,
                                      set_alpha_to_one=False, timestep_spacing="leading",
                                      steps_offset=0)
        sch.set_timesteps(n)  # leading spacing with ratio N // N = 1: timesteps N-1, ..., 0
    elif name == "dpm_solver":
        sch = diffusers.DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++",
                                                    solver_order=2, thresholding=False,
                                                    final_sigmas_type="sigma_min",
                                                    lower_order_final=True)
        sch.set_timesteps(timesteps=run)
    else:
        sch = diffusers.EulerDiscreteScheduler(**common, final_sigmas_type="sigma_min",
                                               interpolation_type="linear")
        sch.set_timesteps(timesteps=run)
    if getattr(sch.config, "clip_sample", False) or getattr(sch.config, "thresholding", False):
        raise RuntimeError(f"{name}: clip_sample/thresholding must be off for vector data")
    return sch, run


@torch.no_grad()
def sample_scheduler(name: str, score_fn, x_T, ts, process: Process, *, generator=None,
                     disable: bool = True) -> torch.Tensor:
    """Run diffusers' ``name`` scheduler from x_T at ts[0] = T to t0 = ts[-1] (see the module docstring)."""
    sch, run = make_scheduler(name, process, ts)
    u, abar = alphas_cumprod_on_grid(process, ts)
    scale = torch.sqrt(process.alpha(u) ** 2 + process.sigma(u) ** 2)  # x_t = scale * y
    sig = process.sigma(u)
    y = x_T / float(scale[-1])
    euler = name == "euler_discrete"
    state = y * float(torch.sqrt(1.0 + (1.0 - abar[-1]) / abar[-1])) if euler else y
    steps = [tk for tk in sch.timesteps if int(tk) > 0]  # the scheduler's own timestep objects
    assert [int(tk) for tk in steps] == run
    for tk in tqdm(steps, disable=disable, desc=name):
        k = int(tk)
        model_in = sch.scale_model_input(state, tk) if euler else state
        t = float(u[k])
        x = model_in * float(scale[k])
        eps = -float(sig[k]) * score_fn(x, t)
        out = (sch.step(eps, tk, state, generator=generator) if name == "ddpm"
               else sch.step(eps, tk, state))
        state = out.prev_sample.to(x_T.dtype)
    if euler:
        state = state / float(torch.sqrt(1.0 + sch.sigmas[-1].double() ** 2))
    return state * float(scale[0])
