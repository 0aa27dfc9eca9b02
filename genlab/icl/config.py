"""Typed settings of an in-context-learning run (OmegaConf structured-config compatible).

Defaults are the ``icl_noisy`` recipe: d = 5, sigma^2 = 0.25, tau^2 = 1, k = 10,
a 6-layer width-32 causal transformer trained for 15,000 steps of batch 128 with
warmup + cosine decay on the prefix-relative loss (benchmarks/README.md, ICL,
records why: at equal CPU time depth beat width and steps, and the relative
weighting lowered the excess at k = 10).
``validate`` turns a bad value into a one-line ValueError naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from genlab.icl.models import MODELS
from genlab.icl.prompts import COVARIANCES, FAMILIES
from genlab.icl.train import LOSS_POSITIONS, LOSS_WEIGHTINGS, LR_SCHEDULES
from genlab.validation import check_in, check_nonnegative, check_positive, check_positive_int

__all__ = ["ICLConfig"]


@dataclass
class ICLConfig:
    """Every setting of `genlab.icl.run.run_icl`; the module named beside each group documents it."""

    # prompts (prompts.py)
    family: str = "noisy_linear"
    d: int = 5
    k: int = 10  # in-context examples at the longest prefix: prompts hold k + 1 pairs
    sigma2: float = 0.25
    tau2: float = 1.0
    n_tasks: int = 0  # M, the finite task pool; 0 = w drawn fresh for every prompt
    covariance: str = "isotropic"
    sparsity: Optional[int] = None  # sparse_linear: non-zeros of w (None = max(1, d // 4))
    relu_width: int = 100
    # model (models.py)
    model: str = "transformer"
    width: int = 32
    depth: int = 6
    heads: int = 2
    # optimisation (train.py); loss_positions None = "last" for lsa, "all" for transformer
    lr: float = 2e-3
    warmup_steps: int = 200
    lr_schedule: str = "cosine"
    batch_size: int = 128
    steps: int = 15000
    grad_clip: Optional[float] = 1.0
    #: write <run>/checkpoints/last.pt every this many steps (0: only at the end of training)
    checkpoint_every: int = 0
    weight_decay: float = 0.0
    loss_positions: Optional[str] = None
    loss_weighting: str = "relative"
    # evaluation (evaluate.py)
    eval_prompts: int = 6400
    n_boot: int = 1000
    knn_neighbors: int = 3
    lasso_alpha: float = 0.1
    bayes_mc: int = 50000  # Monte Carlo draws of the exact finite-k Bayes-ridge risk (theory/icl.py)

    def validate(self) -> "ICLConfig":
        check_in("family", self.family, FAMILIES)
        check_in("covariance", self.covariance, COVARIANCES)
        check_in("model", self.model, MODELS)
        check_in("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_in("loss_weighting", self.loss_weighting, LOSS_WEIGHTINGS)
        if self.loss_positions is not None:
            check_in("loss_positions", self.loss_positions, LOSS_POSITIONS)
        for name in ("d", "k", "relu_width", "width", "depth", "heads", "batch_size", "steps",
                     "n_boot", "knn_neighbors", "bayes_mc"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative("sigma2", self.sigma2)
        check_positive("tau2", self.tau2)
        check_positive("lr", self.lr)
        check_nonnegative("lasso_alpha", self.lasso_alpha)
        check_nonnegative("weight_decay", self.weight_decay)
        check_nonnegative("checkpoint_every", self.checkpoint_every)
        if isinstance(self.n_tasks, bool) or int(self.n_tasks) != self.n_tasks or self.n_tasks < 0:
            raise ValueError(f"n_tasks must be an integer >= 0 (0 = infinite), got {self.n_tasks!r}")
        if int(self.warmup_steps) != self.warmup_steps or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        if check_positive_int("eval_prompts", self.eval_prompts) < 1280:
            raise ValueError(f"eval_prompts must be >= 1280 (CI width), got {self.eval_prompts}")
        if self.family == "linear" and self.sigma2 != 0:
            raise ValueError(f"sigma2 must be 0 for family=linear (use noisy_linear), got {self.sigma2!r}")
        if self.model == "transformer" and self.width % self.heads:
            raise ValueError(f"width must be a multiple of heads = {self.heads}, got {self.width}")
        if self.grad_clip is not None:
            check_positive("grad_clip", self.grad_clip)
        return self
