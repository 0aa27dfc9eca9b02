"""The optimiser settings every family shares: Adam, its learning-rate schedule, the weight EMA, checkpoints.

`OptimConfig` is written once; each family's config inherits it (`DiffusionConfig`,
`GANConfig`, `ICLConfig`), so the keys are ``diffusion.lr``, ``gan.lr``,
``icl.lr`` ... with one meaning, one validation and one schedule (`lr_at`), and
a family only sets its own defaults (by re-declaring a field's default, never
its meaning).  The training loops read the family config itself: no adapter
copies the settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Iterable, Optional

import torch

from genlab.core.validation import check_in, check_nonnegative, check_positive, check_positive_int

__all__ = ["OptimConfig", "LR_SCHEDULES", "lr_at", "make_adam", "optim_settings"]

#: the learning-rate schedules after warmup
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class OptimConfig:
    """Adam (Kingma & Ba 2015), linear warmup then constant or cosine decay (Loshchilov & Hutter 2017),
    the EMA of the weights, the gradient-norm clip and the checkpoint period."""

    #: optimiser steps (a GAN's generator steps)
    steps: int = 1000
    #: peak learning rate of Adam
    lr: float = 1e-3
    #: Adam's beta1, in [0, 1)
    beta1: float = 0.9
    #: Adam's beta2, in [0, 1)
    beta2: float = 0.999
    #: Adam's weight decay (an L2 term added to the gradient, as torch.optim.Adam does)
    weight_decay: float = 0.0
    #: steps of linear learning-rate warmup, from lr / warmup_steps to lr
    warmup_steps: int = 0
    #: after warmup: constant, or cosine decay to lr x min_lr_ratio at the last step
    lr_schedule: str = "cosine"
    #: where the cosine decay ends, as a fraction of the peak rate, in [0, 1]
    min_lr_ratio: float = 0.0
    #: beta of the weight EMA ema <- beta ema + (1 - beta) theta, in [0, 1); with beta > 0 the EMA weights are
    #: the ones sampled and scored (0: the last weights)
    ema_decay: float = 0.999
    #: clip the gradient's global norm to this (null: no clipping)
    grad_clip: Optional[float] = None
    #: write <run>/checkpoints/last.pt every this many steps and at the end, for resume=true (0: no checkpoint)
    checkpoint_every: int = 0

    def validate_optim(self) -> None:
        """Raise a one-line ValueError naming the first bad optimiser setting."""
        check_positive_int("steps", self.steps)
        check_positive("lr", self.lr)
        for name in ("beta1", "beta2", "ema_decay"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {v!r}")
        check_nonnegative("weight_decay", self.weight_decay)
        for name in ("warmup_steps", "checkpoint_every"):
            v = getattr(self, name)
            if isinstance(v, bool) or int(v) != v or v < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
        check_in("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ValueError(f"min_lr_ratio must be in [0, 1], got {self.min_lr_ratio!r}")
        if self.grad_clip is not None:
            check_positive("grad_clip", self.grad_clip)

    def validate(self) -> "OptimConfig":
        """Return self, or raise (a family's config extends this with its own checks)."""
        self.validate_optim()
        return self


def optim_settings(cfg: OptimConfig) -> dict:
    """The `OptimConfig` fields of ``cfg`` (a family config or an OptimConfig) as a plain dict."""
    return {f.name: getattr(cfg, f.name) for f in fields(OptimConfig)}


def lr_at(cfg: OptimConfig, step: int, lr: Optional[float] = None) -> float:
    """Learning rate at ``step`` (0-based) for peak rate ``lr`` (default ``cfg.lr``): linear warmup, then
    constant or cosine decay to ``lr * cfg.min_lr_ratio`` at ``cfg.steps``."""
    peak = cfg.lr if lr is None else lr
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return peak * (step + 1) / cfg.warmup_steps
    if cfg.lr_schedule == "constant":
        return peak
    span = max(cfg.steps - cfg.warmup_steps, 1)
    frac = min(max(step - cfg.warmup_steps, 0) / span, 1.0)
    lo = peak * cfg.min_lr_ratio
    return lo + 0.5 * (peak - lo) * (1.0 + math.cos(math.pi * frac))


def make_adam(params: Iterable[torch.Tensor], cfg: OptimConfig, *, lr: Optional[float] = None,
              fused: bool = False) -> torch.optim.Adam:
    """Adam with ``cfg``'s betas and weight decay at peak rate ``lr`` (default ``cfg.lr``); ``fused``: torch's
    fused kernel (one kernel over all parameters: the same update up to float rounding)."""
    return torch.optim.Adam(params, lr=cfg.lr if lr is None else lr, betas=(cfg.beta1, cfg.beta2),
                            weight_decay=cfg.weight_decay, fused=fused or None)
