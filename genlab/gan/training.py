"""The GAN training loop: alternating discriminator and generator Adam steps on exactly n points.

One generator step is ``critic_steps`` discriminator steps followed by one
generator step (Goodfellow et al. 2014, Algorithm 1; Gulrajani et al. 2017,
Algorithm 1 with n_critic = 5).  Each step draws its minibatch of the n
training points, its latents and its penalty interpolates from one generator
``g``, whose state is checkpointed, so a resumed run replays exactly the draws
of an uninterrupted one.  The schedule (`lr_at`), the EMA of the generator
(`ema_update`), the atomic checkpoint writer and the divergence error come from
`genlab.training`, the loop every other family uses; this one differs in owning
two optimisers.

With ``cfg.r1_gamma`` > 0 the discriminator loss adds the R1 penalty on its
real minibatch (`genlab.gan.losses.r1_penalty`), lazily when ``cfg.r1_every``
> 1: on discriminator steps 0, r1_every, 2 r1_every, ... (counted over all
critic steps) with weight r1_every gamma, the same penalty on average at a
fraction of the cost (Karras et al. 2020, StyleGAN2, Sec. 3.1).

Divergence: a non-finite loss or gradient norm, or a discriminator whose mean
|output| exceeds ``cfg.max_critic`` (it has run away: its loss no longer
measures anything the generator can follow), raises `TrainingDiverged` before
the step is applied.  Checkpoints are written only from finite weights, so the
last checkpoint on disk is the last good state.

Checkpoints are the shared `genlab.training.Checkpointer`'s (``load_checkpoint(path,
fmt=GAN_CHECKPOINT_FORMAT)``): ``step``, ``generator``, ``discriminator``, ``ema``
(state dicts), ``opt_g``, ``opt_d``, ``losses`` (float64, (step, 2): discriminator
and generator loss), ``history`` (monitor name -> float64 (k,), with ``step``),
``rng`` (``torch``, ``gen/train``) and ``config`` (the `GANConfig` as a dict); a
checkpoint resumes only under the same settings, every key compared.  The
optimiser settings are `genlab.training.OptimConfig`'s, for both networks
(``d_lr`` the discriminator's own peak rate, ``grad_clip`` each network's norm).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch
from tqdm.auto import tqdm

from genlab.gan.config import GANConfig
from genlab.gan.losses import LOSSES, gradient_penalty, r1_penalty, uses_gradient_penalty
from genlab.gan.networks import Discriminator, Generator, pack_samples
from genlab.training import Checkpointer, TrainingDiverged, ema_update, lr_at, make_adam

__all__ = ["GANTrainResult", "train_gan", "GAN_CHECKPOINT_FORMAT"]

#: v2: the shared Checkpointer's layout (the generator's state under rng/gen/train, every setting compared)
GAN_CHECKPOINT_FORMAT = "genlab-gan-v2"


@dataclass
class GANTrainResult:
    """The trained networks, the generator's EMA and the training record."""

    generator: Generator
    discriminator: Discriminator
    ema: Generator
    losses: torch.Tensor                       # float64, (steps, 2): L_D, L_G
    history: dict = field(default_factory=dict)  # name -> float64 (k,), "step" among them
    step: int = 0
    resumed_from: int = 0
    steps_per_s: float = math.nan


def _all_finite(*modules) -> bool:
    return all(bool(torch.isfinite(p).all()) for m in modules for p in m.parameters())


def train_gan(G: Generator, D: Discriminator, x: torch.Tensor, cfg: GANConfig, *, g: torch.Generator,
              checkpoint_dir: Optional[str] = None, resume: bool = True,
              monitor: Optional[Callable[[Generator], dict]] = None,
              progress: bool = False) -> GANTrainResult:
    """Train G against D on the n points ``x`` (n, d) for ``cfg.steps`` generator steps.

    Parameters
    ----------
    G, D : Generator, Discriminator
        Trained in place; D packs ``D.pack`` samples.
    x : Tensor, shape (n, d)
        The training set; minibatches are drawn from it with replacement.
    cfg : GANConfig
    g : torch.Generator
        Every random draw of training (indices, latents, interpolates).
    checkpoint_dir : str, optional
        Where ``last.pt`` is written every ``cfg.checkpoint_every`` steps and at
        the end; with ``resume`` an existing one is continued (a checkpoint of
        other settings is refused, naming the keys).
    monitor : callable, optional
        ``monitor(ema_generator) -> {name: float}``, called every
        ``cfg.monitor_every`` steps and at the end, for the training curve; it
        must not draw from ``g``.

    Raises
    ------
    TrainingDiverged
        Non-finite loss or gradient, or a runaway discriminator; ``.step`` is the step.
    """
    cfg.validate()
    d_loss_fn, g_loss_fn = LOSSES[cfg.loss]
    gp = uses_gradient_penalty(cfg.loss)
    n, pack, batch = x.shape[0], D.pack, cfg.batch_size
    lr_g, lr_d = cfg.lr, cfg.d_lr if cfg.d_lr is not None else cfg.lr
    opt_g, opt_d = make_adam(G.parameters(), cfg, lr=lr_g), make_adam(D.parameters(), cfg, lr=lr_d)
    ema = copy.deepcopy(G).requires_grad_(False)
    ckpt = Checkpointer(checkpoint_dir, GAN_CHECKPOINT_FORMAT, dataclasses.asdict(cfg), every=cfg.checkpoint_every, total=cfg.steps,
                        modules={"generator": G, "discriminator": D, "ema": ema},
                        optimizers={"opt_g": opt_g, "opt_d": opt_d}, generators={"train": g})
    # the (L_D, L_G) record is filled in place: one small tensor per step would fragment the heap
    # (as in genlab.training)
    start, history = 0, {}
    record = torch.full((cfg.steps, 2), math.nan, dtype=torch.float64)
    ck = ckpt.resume() if resume else None
    if ck is not None:
        start = int(ck["step"])
        record[:start] = ck["losses"][:start]
        history = {k: v.tolist() for k, v in ck["history"].items()}

    def snapshot(step: int) -> None:
        if ckpt.path is not None and not _all_finite(G, D, ema):
            raise TrainingDiverged(f"GAN training diverged: non-finite weights at step {step}; {ckpt.kept()}",
                                   step=step)
        ckpt.save(step, losses=record[:step].clone(),
                  history={k: torch.tensor(v, dtype=torch.float64) for k, v in history.items()})

    max_norm = cfg.grad_clip if cfg.grad_clip is not None else math.inf

    def check(what: str, value: torch.Tensor, step: int) -> None:
        if not bool(torch.isfinite(value).all()):
            raise TrainingDiverged(f"GAN training diverged: non-finite {what} at step {step}; {ckpt.kept()}",
                                   step=step)

    def observe(step: int) -> None:
        if monitor is None:
            return
        ema.eval()
        with torch.no_grad():
            values = monitor(ema)
        for k, v in {"step": step, **values}.items():
            history.setdefault(k, []).append(float(v))

    def real_batch() -> torch.Tensor:
        idx = torch.randint(0, n, (batch * pack,), generator=g, device=x.device)
        return pack_samples(x[idx], pack)                                     # (B, pack d)

    def fake_batch() -> torch.Tensor:
        z = G.sample_latent(batch * pack, generator=g, device=x.device)      # (B pack, k)
        return pack_samples(G(z), pack)                                       # (B, pack d)

    t0, n_run = time.perf_counter(), 0
    bar = tqdm(range(start, cfg.steps), total=cfg.steps, initial=start, desc="gan",
               disable=not progress, dynamic_ncols=True, leave=False)
    G.train()
    D.train()
    if start == 0:
        observe(0)
    for step in bar:
        for opt, peak in ((opt_g, lr_g), (opt_d, lr_d)):
            for group in opt.param_groups:
                group["lr"] = lr_at(cfg, step, lr=peak)
        for j in range(cfg.critic_steps):
            x_real = real_batch()
            with torch.no_grad():
                x_fake = fake_batch()
            d_real, d_fake = D(x_real), D(x_fake)                             # (B,), (B,)
            loss_d = d_loss_fn(d_real, d_fake)
            if gp:
                loss_d = loss_d + gradient_penalty(D, x_real, x_fake, cfg.gp_lambda, generator=g)
            if cfg.r1_gamma > 0 and (step * cfg.critic_steps + j) % cfg.r1_every == 0:
                loss_d = loss_d + r1_penalty(D, x_real, cfg.r1_gamma * cfg.r1_every)
            check("discriminator loss", loss_d.detach(), step)
            scale = 0.5 * float(d_real.detach().abs().mean() + d_fake.detach().abs().mean())
            if scale > cfg.max_critic:
                raise TrainingDiverged(
                    f"GAN training diverged: the discriminator ran away at step {step}: mean |D| = {scale:.3g} > "
                    f"gan.max_critic = {cfg.max_critic:g}; {ckpt.kept()}", step=step)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            check("discriminator gradient", torch.nn.utils.clip_grad_norm_(D.parameters(), max_norm), step)
            opt_d.step()
        loss_g = g_loss_fn(D(fake_batch()))
        check("generator loss", loss_g.detach(), step)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        check("generator gradient", torch.nn.utils.clip_grad_norm_(G.parameters(), max_norm), step)
        opt_g.step()
        ema_update(ema, G, cfg.ema_decay)
        record[step, 0], record[step, 1] = loss_d.detach(), loss_g.detach()
        n_run += 1
        done = step + 1
        if cfg.monitor_every and (done % cfg.monitor_every == 0 or done == cfg.steps):
            observe(done)
            if progress:
                bar.set_postfix({k: f"{v[-1]:.3g}" for k, v in history.items() if k != "step"})
        if ckpt.due(done):
            snapshot(done)
    bar.close()
    elapsed = time.perf_counter() - t0
    snapshot(cfg.steps)
    return GANTrainResult(generator=G, discriminator=D, ema=ema, losses=record[:cfg.steps].clone(),
                          history={k: torch.tensor(v, dtype=torch.float64) for k, v in history.items()},
                          step=cfg.steps, resumed_from=start,
                          steps_per_s=n_run / elapsed if elapsed > 0 else math.nan)
