"""A small training loop for in-context regression: fresh prompts every step, Adam, warmup + cosine.

Kept here rather than in `genlab.training` because ICL draws its data afresh
each step (no dataset, no epochs) and needs nothing else from a generic loop.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from genlab.icl.prompts import PromptSampler
from genlab.validation import check_in, check_nonnegative, check_positive, check_positive_int

__all__ = ["LR_SCHEDULES", "LOSS_POSITIONS", "LOSS_WEIGHTINGS", "lr_factor", "train_icl"]

LR_SCHEDULES = ("constant", "cosine")
#: ``all``: mean squared error over every prefix (Garg et al. 2022); ``last``: only the
#: query with k examples, the objective of Zhang, Frei & Bartlett (2024) for a fixed N.
LOSS_POSITIONS = ("all", "last")
#: ``uniform``: every prefix weighs the same; ``relative``: prefix j is divided by a running
#: mean of its own squared error, so late prefixes (error near sigma^2) weigh as much as
#: early ones (error near tau^2 d), whose gradient noise otherwise drowns them.
LOSS_WEIGHTINGS = ("uniform", "relative")


def lr_factor(step: int, steps: int, warmup: int, schedule: str, final: float = 0.02) -> float:
    """Multiplier of the peak rate: linear warmup, then constant or cosine down to ``final``.

    >>> lr_factor(0, 100, 10, "cosine"), lr_factor(10, 100, 10, "cosine"), round(lr_factor(100, 100, 10, "cosine"), 3)
    (0.1, 1.0, 0.02)
    """
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    t = min(1.0, (step - warmup) / max(1, steps - warmup))
    return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * t))


def train_icl(model: nn.Module, sampler: PromptSampler, *, steps: int, batch_size: int, lr: float,
              generator: torch.Generator, warmup_steps: int = 0, lr_schedule: str = "cosine",
              loss_positions: str = "all", loss_weighting: str = "uniform", grad_clip: float | None = 1.0, weight_decay: float = 0.0,
              device: torch.device | str = "cpu", progress: bool = False) -> dict[str, float]:
    """Train ``model`` on ``steps`` batches of fresh prompts; returns timing and the last losses.

    The loss is the squared error against the noisy labels ys, averaged over
    the positions named by ``loss_positions`` (normalised by the label
    variance, so 1 is the trivial predictor), or, with
    ``loss_weighting="relative"``, the mean over prefixes of each prefix's
    error relative to its running mean (then ``train_loss`` is near 1).

    Returns
    -------
    dict
        ``train_loss`` (mean of the last 5% of steps), ``train_seconds``, ``steps_per_second``.
    """
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive("lr", lr)
    check_nonnegative("warmup_steps", warmup_steps)
    check_in("lr_schedule", lr_schedule, LR_SCHEDULES)
    check_in("loss_positions", loss_positions, LOSS_POSITIONS)
    check_in("loss_weighting", loss_weighting, LOSS_WEIGHTINGS)
    running = None  # (K,) running mean of the per-prefix squared error, for "relative"
    model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scale = 1.0 / (sampler.signal_variance + sampler.sigma2)
    tail, tail_len = [], max(1, steps // 20)
    it = range(steps)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="icl", mininterval=2.0)
    t0 = time.perf_counter()
    for step in it:
        for group in opt.param_groups:
            group["lr"] = lr * lr_factor(step, steps, int(warmup_steps), lr_schedule)
        xs, ys, _ = sampler.sample(batch_size, generator)
        xs, ys = xs.to(device), ys.to(device)
        preds = model(xs, ys)  # (B, K)
        err = (preds - ys) ** 2
        if loss_positions == "last":
            loss = err[:, -1].mean() * scale
        elif loss_weighting == "relative":
            per = err.detach().mean(0)
            running = per if running is None else 0.99 * running + 0.01 * per
            loss = (err.mean(0) / running).mean()
        else:
            loss = err.mean() * scale
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at step {step}; lower lr")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        if step >= steps - tail_len:
            tail.append(loss.item())
    seconds = time.perf_counter() - t0
    model.eval()
    return {"train_loss": sum(tail) / len(tail), "train_seconds": seconds, "steps_per_second": steps / seconds}
