"""The exact law of a deterministic sampler's output: its samples with their log-density.

An ODE sampler with a fixed grid is a map Phi = phi_{N-1} o ... o phi_0 applied
to prior draws x_T ~ p_T.  Its output law is the push-forward Phi # p_T, whose
density at y = Phi(x_T) follows from the change of variables along the steps,

    log q(y) = log p_T(x_T) - sum_k log |det D phi_k(x_k)|,

with the one-step Jacobians (v = dx/dt of the probability-flow ODE, h > 0 the
step from t_k down to t_{k+1}, Dv = f(t) I - g(t)^2 Ds / 2):

    Euler:  phi(x) = x - h v(x, t),              D phi = I - h Dv(x, t)
    Heun:   x_e = x - h v(x, t),  phi(x) = x - h/2 [v(x, t) + v(x_e, t')],
            D phi = I - h/2 [Dv(x, t) + Dv(x_e, t') (I - h Dv(x, t))].

This is the law of the *discrete* sampler, not of the continuous flow that
``likelihood.ode_log_prob`` integrates; so TV(truth, q) by Monte Carlo over
q's own samples, E_q[(1 - p/q)_+], measures the sampler's discretisation (and
horizon) error with no sampling floor.  The formula needs Phi to be a
diffeomorphism: every step must have det D phi > 0, which is checked (a step
that folds space raises).  A proper local diffeomorphism of R^d is a global
one (Hadamard), so the check suffices for steps of linear growth.

Why by hand: neither diffusers nor torchdiffeq track the log-determinant of a
fixed-step solver's own map; they integrate the continuous divergence instead.
"""

from __future__ import annotations

import torch

from genlab.diffusion.processes import Process
from genlab.diffusion.samplers import decreasing_times
from genlab.core.validation import check_in

__all__ = ["score_jacobian", "ode_sampler_with_log_prob", "LAW_SAMPLERS"]

#: deterministic samplers whose output law this module can evaluate
LAW_SAMPLERS = ("ode_euler", "ode_heun")


def score_jacobian(score_fn, x: torch.Tensor, t: float) -> tuple[torch.Tensor, torch.Tensor]:
    """s(x, t) (B, d) and its Jacobian ds_i/dx_j (B, d, d), by d backward passes, or in closed form where
    ``score_fn`` has a ``score_and_jacobian`` method (the smoothed-empirical scores of reference.py)."""
    closed = getattr(score_fn, "score_and_jacobian", None)
    if closed is not None:
        return closed(x.detach(), t)
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        s = score_fn(xg, t)
        d = x.shape[1]
        rows = [torch.autograd.grad(s[:, i].sum(), xg, retain_graph=i < d - 1)[0] for i in range(d)]
    return s.detach(), torch.stack(rows, dim=1)


def _velocity_jacobian(score_fn, x, t: float, process: Process):
    f, g2 = float(process.f(t)), float(process.g2(t))
    s, ds = score_jacobian(score_fn, x, t)
    eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    return f * x - 0.5 * g2 * s, f * eye - 0.5 * g2 * ds


def ode_sampler_with_log_prob(score_fn, x_T: torch.Tensor, ts, process: Process, *,
                              method: str = "ode_heun", prior_log_prob=None,
                              chunk: int = 8192) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the Euler or Heun probability-flow sampler and return (y (B, d), log q(y) (B,)).

    ``score_fn`` must be differentiable in x; pass a float64 one (and float64
    ``x_T``) for a float64 log-density.  The samples equal those of
    ``samplers.sample_ode_euler`` / ``sample_ode_heun`` on the same inputs.
    """
    check_in("method", method, LAW_SAMPLERS)
    times = decreasing_times(ts)
    prior = process.prior_log_prob if prior_log_prob is None else prior_log_prob
    ys, lps = [], []
    for i in range(0, x_T.shape[0], chunk):
        x = x_T[i:i + chunk].clone()
        logq = prior(x).to(x.dtype)
        eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
        for k in range(len(times) - 1):
            t, t_next = times[k], times[k + 1]
            h = t - t_next
            v1, dv1 = _velocity_jacobian(score_fn, x, t, process)
            if method == "ode_euler":
                jac = eye - h * dv1
                x_new = x - h * v1
            else:
                x_e = x - h * v1
                v2, dv2 = _velocity_jacobian(score_fn, x_e, t_next, process)
                jac = eye - 0.5 * h * (dv1 + dv2 @ (eye - h * dv1))
                x_new = x - 0.5 * h * (v1 + v2)
            sign, logdet = torch.linalg.slogdet(jac)
            if not bool((sign > 0).all()):
                raise ValueError(f"{method}: step {k} (t = {t:.4g} -> {t_next:.4g}) folds space "
                                 f"(det of its Jacobian <= 0 at {int((sign <= 0).sum())} points); "
                                 f"its output has no density here: use more sampler steps")
            x, logq = x_new, logq - logdet
        ys.append(x)
        lps.append(logq)
    return torch.cat(ys), torch.cat(lps)
