r"""Training a regression network by gradient descent, SGD or Adam, with early stopping on held-out error.

Loss (genlab's convention, `genlab.kernels.regression`):

    L(theta) = loss_scale * (1/(2n)) sum_i (f(x_i; theta) - y_i)^2,

with ``loss_scale`` and ``lr_multiplier`` read from the model (`genlab.regression.networks.
TwoLayerNet`; 1 for a module without them).  "gd" and "sgd" take the step
theta <- theta - lr * lr_multiplier * grad L, so that with ``TwoLayerNet`` the function moves with
the step lr_eff = lr * tangent_kernel_scale * loss_scale against its empirical NTK
(`genlab.regression.dynamics.effective_lr`).  "adam" is ``torch.optim.Adam(lr)``: Adam's step is
invariant to a constant rescaling of the gradient (up to its eps), so ``lr_multiplier`` has no
meaning for it and is not applied.

Step k (0-based) evaluates the loss at theta_k, the parameters after k updates, and then applies
update k + 1; a non-finite loss raises `genlab.training.TrainingDiverged` naming k.  With held-out
data the held-out MSE (1/n_val) sum (f - y)^2 (no 1/2, no loss_scale: an estimate of the risk
E (f(X) - Y)^2) is evaluated at theta_k for k = 0, eval_every, 2 eval_every, ... and at k = steps;
the parameters of the smallest are restored at the end (early stopping; Prechelt 1998; Yao,
Rosasco & Caponnetto 2007 for gradient descent as regularisation), ties to the earliest.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from genlab.core.validation import check_in, check_positive, check_positive_int
from genlab.training import TrainingDiverged
from genlab.training.optim import OptimConfig, lr_at, make_adam

__all__ = ["OPTIMIZERS", "TrainResult", "train_regression"]

#: The optimisers of `train_regression`.
OPTIMIZERS = ("gd", "sgd", "adam")


@dataclass
class TrainResult:
    """What `train_regression` returns; the model itself is trained in place.

    Attributes
    ----------
    steps : int
        Updates applied.
    losses : np.ndarray, shape (T,)
        The training loss (with loss_scale) at the recorded steps: full batch for "gd", the
        step's minibatch for "sgd" and "adam" with a batch_size.
    loss_steps : np.ndarray of int, shape (T,)
        The step k of each recorded loss (evaluated at theta_k).
    best_step : int
        The step whose parameters the model holds at the end: the held-out minimiser, or ``steps``.
    final_train_loss : float
        The full-batch training loss of the returned parameters.
    val_loss : float or None
        Their held-out MSE (None without held-out data).
    val_losses : np.ndarray, shape (E,) or None;  val_steps : np.ndarray of int, shape (E,) or None
        The held-out MSE curve and its steps.
    wall_s : float
        Wall-clock seconds.
    """

    steps: int
    losses: np.ndarray
    loss_steps: np.ndarray
    best_step: int
    final_train_loss: float
    val_loss: Optional[float]
    val_losses: Optional[np.ndarray]
    val_steps: Optional[np.ndarray]
    wall_s: float


def _output(model: nn.Module, x: torch.Tensor, n: int) -> torch.Tensor:
    out = model(x)
    if out.shape != (n,):
        raise ValueError(f"model must map x of shape (n, d) to (n,), got {tuple(out.shape)}")
    return out


def _batches(n: int, batch_size: int, generator: Optional[torch.Generator]):
    """Index batches forever: successive permutations of range(n) cut into batch_size pieces (last may be short)."""
    while True:
        perm = torch.randperm(n, generator=generator)
        yield from perm.split(batch_size)


def _check_data(x, y, what: str) -> None:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise ValueError(f"{what} must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.ndim != 2 or y.shape != (x.shape[0],) or x.shape[0] == 0:
        raise ValueError(f"{what} must have shapes (n, d) and (n,) with n >= 1, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")


def train_regression(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, optimizer: str = "gd",
                     lr: float = 0.1, steps: int = 1000, batch_size: int = 0,
                     generator: Optional[torch.Generator] = None, x_val: Optional[torch.Tensor] = None,
                     y_val: Optional[torch.Tensor] = None, eval_every: int = 50,
                     record_every: Optional[int] = None, progress: bool = False,
                     optim: Optional[OptimConfig] = None) -> TrainResult:
    """Minimise loss_scale * (1/(2n)) sum (f(x_i) - y_i)^2 over the model's parameters (module docstring).

    Parameters
    ----------
    model : nn.Module mapping (n, d) to (n,)
        Trained in place; its ``lr_multiplier`` and ``loss_scale`` are used where present.
    x : tensor, shape (n, d);  y : tensor, shape (n,)
    optimizer : "gd" (full batch), "sgd" (minibatches) or "adam"
    lr : float > 0
        "gd"/"sgd": the step is lr * lr_multiplier; "adam": Adam's lr.
    steps : int >= 1
    batch_size : int
        0 for the full batch ("gd" requires it); otherwise 1..n, the minibatches of "sgd" and
        "adam" being drawn without replacement within each epoch from ``generator``.
    generator : torch.Generator, optional
        The minibatch order (torch's global generator if None): a given generator state
        reproduces the run.
    x_val : tensor, shape (n_val, d);  y_val : tensor, shape (n_val,), optional
        Held-out data for early stopping.
    eval_every : int >= 1
        Held-out evaluation period, in steps.
    record_every : int >= 1, optional
        Loss recording period (None: every step).
    progress : bool
        A tqdm bar.
    optim : OptimConfig, optional
        The shared optimiser settings (a family config inherits them): the step at step k is
        ``lr_at(optim, k, lr)`` (warmup, then constant or cosine decay), Adam takes its betas and
        weight decay, gradient descent adds weight_decay * theta to the gradient (the same L2 term),
        and the gradient's global norm is clipped to ``optim.grad_clip``.  None: constant lr, plain
        Adam, no clipping.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingDiverged
        When the training loss is not finite, naming the step.
    """
    check_in("optimizer", optimizer, OPTIMIZERS)
    lr = check_positive("lr", lr)
    steps = check_positive_int("steps", steps)
    eval_every = check_positive_int("eval_every", eval_every)
    record_every = 1 if record_every is None else check_positive_int("record_every", record_every)
    _check_data(x, y, "x and y")
    n = x.shape[0]
    if isinstance(batch_size, bool) or int(batch_size) != batch_size or not 0 <= batch_size <= n:
        raise ValueError(f"batch_size must be an integer in 0..n = {n} (0: full batch), got {batch_size!r}")
    batch_size = int(batch_size)
    if optimizer == "gd" and batch_size not in (0, n):
        raise ValueError(f"batch_size must be 0 (the full batch) for optimizer 'gd', got {batch_size}")
    if optimizer == "sgd" and batch_size == 0:
        raise ValueError("batch_size must be >= 1 for optimizer 'sgd', got 0")
    validate = x_val is not None or y_val is not None
    if validate:
        _check_data(x_val, y_val, "x_val and y_val")

    params = [p for p in model.parameters() if p.requires_grad]
    step_size = lr * float(getattr(model, "lr_multiplier", 1.0))
    loss_scale = float(getattr(model, "loss_scale", 1.0))
    adam = None
    if optimizer == "adam":
        adam = make_adam(params, optim, lr=lr) if optim is not None else torch.optim.Adam(params, lr=lr)
    decay = float(optim.weight_decay) if optim is not None else 0.0
    batches = _batches(n, batch_size, generator) if 0 < batch_size < n else None

    def val_mse() -> float:
        with torch.no_grad():
            return float(((_output(model, x_val, x_val.shape[0]) - y_val) ** 2).mean())

    losses, loss_steps, val_losses, val_steps = [], [], [], []
    best = (math.inf, 0, None)                       # (held-out MSE, step, parameters)
    t0 = time.perf_counter()
    bar = tqdm(range(steps + 1), desc=f"train ({optimizer})", disable=not progress, dynamic_ncols=True, leave=False)
    for k in bar:
        if validate and (k % eval_every == 0 or k == steps):
            v = val_mse()
            val_losses.append(v)
            val_steps.append(k)
            if v < best[0]:
                best = (v, k, copy.deepcopy(model.state_dict()))
        if k == steps:
            break
        idx = next(batches) if batches is not None else None
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        loss = loss_scale * 0.5 * ((_output(model, xb, len(yb)) - yb) ** 2).mean()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise TrainingDiverged(f"non-finite loss at step {k} ({optimizer}, lr = {lr:g}): {value}", step=k)
        if k % record_every == 0:
            losses.append(value)
            loss_steps.append(k)
        if progress and k % 50 == 0:
            bar.set_postfix(loss=f"{value:.4g}")
        for p in params:
            p.grad = None
        loss.backward()
        if optim is not None and optim.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, optim.grad_clip)
        factor = lr_at(optim, k, lr) / lr if optim is not None else 1.0   # the schedule, relative to the peak
        if adam is not None:
            for group in adam.param_groups:
                group["lr"] = lr * factor
            adam.step()
        else:
            with torch.no_grad():
                for p in params:
                    if decay:
                        p.grad.add_(p, alpha=decay)
                    p.add_(p.grad, alpha=-step_size * factor)
    bar.close()
    best_step = steps
    if validate:
        val_loss, best_step, state = best
        if state is None:
            raise TrainingDiverged(f"non-finite held-out MSE at every evaluation ({optimizer}, lr = {lr:g})",
                                   step=steps)
        model.load_state_dict(state)
    with torch.no_grad():
        final = float(loss_scale * 0.5 * ((_output(model, x, n) - y) ** 2).mean())
    if not math.isfinite(final):
        raise TrainingDiverged(f"non-finite loss at step {best_step} ({optimizer}, lr = {lr:g}): {final}",
                               step=best_step)
    return TrainResult(steps=steps, losses=np.asarray(losses, dtype=np.float64),
                       loss_steps=np.asarray(loss_steps, dtype=np.int64), best_step=best_step,
                       final_train_loss=final, val_loss=val_loss if validate else None,
                       val_losses=np.asarray(val_losses) if validate else None,
                       val_steps=np.asarray(val_steps, dtype=np.int64) if validate else None,
                       wall_s=time.perf_counter() - t0)
