"""Training for in-context regression: fresh prompts every step, through the shared loop.

ICL draws its data afresh each step (no dataset, no epochs); the step function
below samples prompts and returns the loss, and `genlab.training.train` does
the rest (optimiser, schedule, NaN guard, checkpoints, resume).
"""

from __future__ import annotations

import time

import torch
from torch import nn

from genlab.core.validation import check_in, check_positive_int
from genlab.icl.prompts import PromptSampler
from genlab.training import OptimConfig, train

__all__ = ["LOSS_POSITIONS", "LOSS_WEIGHTINGS", "ICLLoss", "train_icl"]

#: ``all``: mean squared error over every prefix (Garg et al. 2022); ``last``: only the
#: query with k examples, the objective of Zhang, Frei & Bartlett (2024) for a fixed N.
LOSS_POSITIONS = ("all", "last")
#: ``uniform``: every prefix weighs the same; ``relative``: prefix j is divided by a running
#: mean of its own squared error, so late prefixes (error near sigma^2) weigh as much as
#: early ones (error near tau^2 d), whose gradient noise otherwise drowns them.
LOSS_WEIGHTINGS = ("uniform", "relative")


class ICLLoss:
    """The training loss of in-context regression on predictions (B, K) against noisy labels ys (B, K).

    ``last``: the squared error at the last query only; ``all`` with ``uniform``:
    the mean over every prefix; both are divided by the label variance
    tau^2 tr(Sigma) + sigma^2, so 1 is the trivial predictor.  ``all`` with
    ``relative``: the mean over prefixes of each prefix's error divided by a
    running mean (decay 0.99) of that prefix's own error (then the loss is near 1);
    the running mean is state of this object and is not checkpointed.
    """

    def __init__(self, sampler: PromptSampler, loss_positions: str = "all", loss_weighting: str = "uniform"):
        self.loss_positions = check_in("loss_positions", loss_positions, LOSS_POSITIONS)
        self.loss_weighting = check_in("loss_weighting", loss_weighting, LOSS_WEIGHTINGS)
        self.scale = 1.0 / (sampler.signal_variance + sampler.sigma2)
        self.running: torch.Tensor | None = None  # (K,) running mean of the per-prefix squared error

    def __call__(self, preds: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        err = (preds - ys) ** 2  # (B, K)
        if self.loss_positions == "last":
            return err[:, -1].mean() * self.scale
        if self.loss_weighting == "relative":
            per = err.detach().mean(0)
            self.running = per if self.running is None else 0.99 * self.running + 0.01 * per
            return (err.mean(0) / self.running).mean()
        return err.mean() * self.scale


def train_icl(model: nn.Module, sampler: PromptSampler, cfg: OptimConfig, *, batch_size: int,
              generator: torch.Generator, loss_positions: str = "all", loss_weighting: str = "uniform",
              device: torch.device | str = "cpu", progress: bool = False,
              checkpoint_dir: str | None = None) -> dict[str, float]:
    """Train ``model`` on ``cfg.steps`` batches of ``batch_size`` fresh prompts through `genlab.training.train`.

    The shared loop brings the optimiser settings of ``cfg`` (an `OptimConfig`: the ``icl`` section),
    the linear warmup and cosine decay (to ``lr * min_lr_ratio``), the NaN guard, and atomic
    checkpoints with bit-identical resume (the prompt generator's state is checkpointed with the
    weights).  With ``cfg.ema_decay`` 0 (the ICL default) the last weights are kept in ``model``;
    otherwise their EMA is loaded into it.  The loss is the squared error against the noisy labels
    ys, averaged over the positions named by ``loss_positions`` (normalised by the label variance,
    so 1 is the trivial predictor), or, with ``loss_weighting="relative"``, the mean over prefixes of
    each prefix's error relative to its running mean (then ``train_loss`` is near 1; that running
    mean is not checkpointed).

    Returns
    -------
    dict
        ``train_loss`` (mean of the last 5% of steps), ``train_time_s``, ``train_steps_per_s``
        (the keys the diffusion and GAN families report).
    """
    batch_size = check_positive_int("batch_size", batch_size)
    check_in("loss_positions", loss_positions, LOSS_POSITIONS)
    check_in("loss_weighting", loss_weighting, LOSS_WEIGHTINGS)
    model.to(device)
    loss_fn = ICLLoss(sampler, loss_positions, loss_weighting)

    def step_fn(m: nn.Module, step: int) -> torch.Tensor:
        xs, ys, _ = sampler.sample(batch_size, generator)
        xs, ys = xs.to(device), ys.to(device)
        return loss_fn(m(xs, ys), ys)

    t0 = time.perf_counter()
    res = train(model, step_fn, cfg, generators={"prompts": generator}, checkpoint_dir=checkpoint_dir,
                progress=progress, desc="icl")
    seconds = time.perf_counter() - t0
    if cfg.ema_decay > 0:
        model.load_state_dict(res.ema.state_dict())
    model.eval()
    losses = res.losses.reshape(-1)
    tail = losses[-max(1, cfg.steps // 20):]
    ran = max(res.step - res.resumed_from, 1)
    return {"train_loss": float(tail.mean()), "train_time_s": seconds, "train_steps_per_s": ran / seconds}
