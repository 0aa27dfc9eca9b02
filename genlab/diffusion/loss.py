"""Denoising score matching (Vincent 2011; Song et al. 2021, eq. 7) and the law of the training times.

For x0 from the data, eps ~ N(0, I), x_t = alpha_t x0 + sigma_t eps, the loss is

    L = E_{t ~ pi} [ w(t) || eps_hat(x_t, t) - eps ||^2 ],

written in the eps scale whatever the network's target: ||eps_hat - eps||^2 =
sigma_t^2 ||s_hat - (-eps / sigma_t)||^2 = (alpha_t / sigma_t)^2 ||x0_hat - x0||^2,
so ``w = 1`` is Song et al.'s lambda(t) = sigma_t^2 on the score error.
Weightings ``w``:

* ``"eps"``: w = 1 (Ho et al. 2020's simple loss).
* ``"edm"``: w = 1 + sigma~^2 / sigma_data^2, i.e. Karras et al. (2022)'s
  lambda = (sigma~^2 + sigma_data^2) / (sigma~ sigma_data)^2 on the x0 error.

Time laws ``pi`` on [t0, T]:

* ``"uniform"``: t ~ U[t0, T].
* ``"logsnr"``: log-SNR lambda_t ~ U[lambda_T, lambda_t0], i.e. sigma_t/alpha_t log-uniform;
  with w = 1 this is, up to a constant, the ELBO weighting (Kingma et al. 2021, eq. 17;
  Kingma & Gao 2023), the natural one when the model is scored by likelihood.
* ``"edm"``: log(sigma_t/alpha_t) ~ N(p_mean, p_std^2) truncated to [t0, T] (Karras et al. 2022, Table 1).

The irreducible value of L at a fixed t (the loss of the true score) is
E||eps - E[eps | x_t]||^2 = d - sigma_t^2 E||grad log p_t(x_t)||^2, because
E[eps | x_t] = -sigma_t grad log p_t(x_t) and E[eps . E[eps|x_t]] = E||E[eps|x_t]||^2.
"""

from __future__ import annotations

import torch

from genlab.diffusion.parametrisation import ScoreModel
from genlab.diffusion.processes import Process
from genlab.core.validation import check_in, check_positive_int

__all__ = ["TIME_SAMPLING", "WEIGHTINGS", "sample_times", "times_from_uniform", "draw_dsm_noise", "dsm_loss", "dsm_loss_per_sample",
           "irreducible_eps_loss"]

TIME_SAMPLING = ("uniform", "logsnr", "edm")
WEIGHTINGS = ("eps", "edm")


def sample_times(process: Process, n: int, generator: torch.Generator | None = None,
                 kind: str = "logsnr", *, p_mean: float = -1.2, p_std: float = 1.2,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """n training times in [t0, T] drawn from the law ``kind``, float64 shape (n,)."""
    n = check_positive_int("n", n)
    u = torch.rand(n, generator=generator, dtype=torch.float64, device=device)
    return times_from_uniform(process, u, kind, p_mean=p_mean, p_std=p_std)


def times_from_uniform(process: Process, u: torch.Tensor, kind: str = "logsnr", *,
                       p_mean: float = -1.2, p_std: float = 1.2) -> torch.Tensor:
    """The times of law ``kind`` that uniforms u in [0, 1) map to (inverse CDF), float64, u's shape.

    Elementwise, so R replicas' uniforms, drawn each from its own generator,
    map together exactly as each would alone.
    """
    check_in("time_sampling", kind, TIME_SAMPLING)
    t0, T = process.t0, process.T
    if kind == "uniform":
        return t0 + (T - t0) * u
    lam_hi, lam_lo = float(process.logsnr(t0)), float(process.logsnr(T))
    if kind == "logsnr":
        lam = lam_lo + (lam_hi - lam_lo) * u
    else:
        # log sigma~ = -lambda ~ N(p_mean, p_std^2) truncated, by the inverse CDF.
        normal = torch.distributions.Normal(torch.tensor(p_mean, dtype=torch.float64),
                                            torch.tensor(p_std, dtype=torch.float64))
        c_lo, c_hi = normal.cdf(torch.tensor(-lam_hi)), normal.cdf(torch.tensor(-lam_lo))
        lam = -normal.icdf((c_lo + (c_hi - c_lo) * u).clamp(1e-12, 1 - 1e-12))
    return process.t_of_logsnr(lam).clamp(t0, T)


def dsm_loss_per_sample(model: ScoreModel, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor,
                        weighting: str = "eps") -> torch.Tensor:
    """w(t) ||eps_hat(alpha_t x0 + sigma_t eps, t) - eps||^2 per sample, shape (B,).

    x0, eps (B, d); t float64 (B,).  For a replica-batched model the leading
    shape is (R, B) throughout: x0, eps (R, B, d), t (R, B) -> (R, B).
    """
    check_in("weighting", weighting, WEIGHTINGS)
    a, s = model.coefficients(t, x0)
    xt = a * x0 + s * eps
    err = ((model.eps(xt, t) - eps) ** 2).sum(-1)             # (B,)
    if weighting == "edm":
        st2 = (s / a)[..., 0] ** 2
        err = err * (1.0 + st2 / model.sigma_data ** 2)
    return err


def draw_dsm_noise(x0: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The random numbers of one DSM step on x0 (B, d): uniforms u (B,) float64 for the times, then eps (B, d).

    Drawn in this order from ``generator``; a replica-batched fit draws them
    per replica from the replica's own generator, so it replays exactly the
    draws of that replica's own run, and maps all replicas' u to times at once
    (``times_from_uniform``).
    """
    u = torch.rand(x0.shape[0], generator=generator, dtype=torch.float64, device=x0.device)
    eps = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
    return u, eps


def dsm_loss(model: ScoreModel, x0: torch.Tensor, generator: torch.Generator | None = None, *,
             time_sampling: str = "logsnr", weighting: str = "eps") -> torch.Tensor:
    """Monte Carlo DSM loss on the batch x0 (B, d): one (t, eps) draw per point, mean over the batch."""
    u, eps = draw_dsm_noise(x0, generator)
    t = times_from_uniform(model.process, u, time_sampling)
    return dsm_loss_per_sample(model, x0, t, eps, weighting).mean()


def irreducible_eps_loss(dim: int, sigma_t: float, mean_sq_score: float) -> float:
    """d - sigma_t^2 E||grad log p_t||^2: the DSM loss (w = 1) of the true score at time t."""
    return float(dim) - sigma_t ** 2 * mean_sq_score

