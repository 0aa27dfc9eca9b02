"""Fit a GAN to n points: ``fit_gan(cfg, x_train, seed=...) -> GANModel``.

The networks work in scaled standardised coordinates u = c (x - mu) / sd
(per-axis mean and standard deviation of the training set, when
``cfg.standardize``; c = ``cfg.input_scale``); the model's samples are mapped
back by x = mu + sd G(z) / c.  The scale c sets how wide a mode of the data is
in the networks' units: on PacGAN's grid a mode is sd / 57 wide, and a
discriminator with unit-scale initial weights needs many steps to grow weights
that resolve it (as for the diffusion model's ``input_scale``).  A GAN has no density, so
it is judged by sample distances and, on a mixture truth, by mode statistics
(`genlab.gan.monitor`).
"""

from __future__ import annotations

import math
import time
from typing import Callable, Optional

import torch

from genlab.core.device import resolve_device
from genlab.gan.config import GANConfig
from genlab.gan.networks import Discriminator, Generator
from genlab.gan.training import GANTrainResult, train_gan
from genlab.core.seeding import derive_seed, make_generator
from genlab.core.validation import check_points, check_positive_int

__all__ = ["GANModel", "fit_gan"]


class GANModel:
    """A trained GAN: the generator to sample from (its EMA when ``ema_decay`` > 0) and the record."""

    def __init__(self, generator: Generator, shift: torch.Tensor, scale: torch.Tensor,
                 record: GANTrainResult, *, seed: int, train_stats: Optional[dict] = None):
        self.generator = generator.eval().requires_grad_(False)
        self.shift, self.scale = shift.to(torch.float64), scale.to(torch.float64)   # (d,)
        self.record = record
        self.seed = seed
        self.train_stats = dict(train_stats or {})
        self.device = next(generator.parameters()).device

    @torch.no_grad()
    def sample(self, m: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """m draws x = mu + sd G(z) / c, z ~ N(0, I), shape (m, d), float64, data coordinates."""
        m = check_positive_int("m", m)
        g = generator or make_generator(derive_seed(self.seed, "sample"), self.device)
        z = self.generator.sample_latent(m, generator=g, device=self.device)       # (m, k)
        return self.shift + self.scale * self.generator(z).cpu().to(torch.float64)  # (m, d)


def fit_gan(cfg: GANConfig, x_train, *, seed: int, device="cpu", progress: bool = False,
            checkpoint_dir: Optional[str] = None,
            monitor: Optional[Callable[[Callable[[int], torch.Tensor]], dict]] = None) -> GANModel:
    """Train the configured generator and discriminator on x_train (n, d).

    Seeds: ``derive_seed(seed, "init")`` for both networks' weights,
    ``derive_seed(seed, "train")`` for minibatches, latents and penalty
    interpolates.  ``monitor(sample)``, if given, is called during training
    with ``sample(m) -> (m, d)`` float64 draws of the current EMA generator in
    data coordinates and returns numbers for the training curve.
    """
    cfg.validate()
    device = resolve_device(device)
    x = check_points("x_train", x_train).to(torch.float64).cpu()
    n, d = x.shape
    if cfg.standardize and n > 1:
        shift, scale = x.mean(0), x.std(0).clamp_min(1e-12)
    else:
        shift, scale = torch.zeros(d, dtype=torch.float64), torch.ones(d, dtype=torch.float64)
    scale = scale / cfg.input_scale      # u = (x - shift) / scale = c (x - mu) / sd
    z = ((x - shift) / scale).to(torch.float32).to(device)
    init = make_generator(derive_seed(seed, "init"))
    G = Generator(cfg.latent_dim, d, cfg.g_width, cfg.g_depth, cfg.activation, generator=init).to(device)
    D = Discriminator(d, cfg.pack, cfg.d_width, cfg.d_depth, cfg.d_activation, cfg.spectral_norm,
                      generator=init).to(device)
    g = make_generator(derive_seed(seed, "train"), device)

    watch = None
    if monitor is not None:
        mon_gen = make_generator(derive_seed(seed, "monitor"), device)
        z_mon = torch.randn(cfg.monitor_m, cfg.latent_dim, generator=mon_gen, device=device)  # fixed latents

        def watch(ema: Generator) -> dict:
            # the same latents at every point of the curve, drawn apart from g (resume replays g exactly)
            return monitor(lambda m: shift + scale * ema(z_mon[:m]).cpu().to(torch.float64))

    t0 = time.perf_counter()
    res = train_gan(G, D, z, cfg, g=g, checkpoint_dir=checkpoint_dir, monitor=watch, progress=progress)
    tail = res.losses[-min(100, len(res.losses)):]
    stats = {"d_loss_final": float(tail[:, 0].mean()) if len(tail) else math.nan,
             "g_loss_final": float(tail[:, 1].mean()) if len(tail) else math.nan,
             "train_steps_per_s": res.steps_per_s, "train_time_s": time.perf_counter() - t0}
    sampler = res.ema if cfg.ema_decay > 0 else res.generator
    return GANModel(sampler, shift, scale, res, seed=seed, train_stats=stats)
