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
from genlab.core.validation import check_in, check_nonnegative, check_positive, check_positive_int, in_section
from genlab.icl.train import LOSS_POSITIONS, LOSS_WEIGHTINGS
from genlab.training.optim import OptimConfig

__all__ = ["ICLConfig"]


@dataclass
class ICLConfig(OptimConfig):
    """Every setting of `genlab.icl.run.run_icl`; the module named beside each group documents it.

    The optimiser, schedule, EMA and checkpoint keys are `genlab.training.OptimConfig`'s.
    """

    # prompts (prompts.py)
    #: the task family: linear (y = w . x), noisy_linear (+ sqrt(sigma2) eps), sparse_linear, or relu (a
    #: two-layer ReLU teacher; Garg et al. 2022, Sec. 4)
    family: str = "noisy_linear"
    #: input dimension d of x ~ N(0, Sigma)
    d: int = 5
    #: in-context examples at the longest prefix: prompts hold k + 1 pairs
    k: int = 10
    #: label-noise variance sigma^2 (0 for family=linear)
    sigma2: float = 0.25
    #: prior variance tau^2 of the task: w ~ N(0, tau^2 I) (relu: output weights a_h ~ N(0, 2 tau^2 / H))
    tau2: float = 1.0
    #: M, the finite task pool drawn once from the prior (Raventos et al. 2023); 0 = w drawn fresh for
    #: every prompt (must be 0 for relu)
    n_tasks: int = 0
    #: input covariance Sigma, normalised to tr = d: isotropic, or skewed (eigenvalues proportional to
    #: 1/i; Zhang, Frei & Bartlett 2024, Sec. 4.2)
    covariance: str = "isotropic"
    #: sparse_linear: non-zeros of w, on a random support (null: max(1, d // 4))
    sparsity: Optional[int] = None
    #: hidden units H of the relu teacher
    relu_width: int = 100
    # model (models.py)
    #: transformer (causal pre-LayerNorm GPT blocks on interleaved x, y tokens; Garg et al. 2022) or lsa
    #: (one linear self-attention layer; Zhang, Frei & Bartlett 2024)
    model: str = "transformer"
    #: the transformer's embedding width, a multiple of heads (lsa ignores it)
    width: int = 32
    #: the transformer's number of blocks (lsa ignores it)
    depth: int = 6
    #: the transformer's attention heads (lsa ignores it)
    heads: int = 2
    # optimisation: the keys of genlab.training.OptimConfig, with this family's defaults (no weight
    # averaging: with ema_decay 0 the last weights are evaluated); loss_positions None = "last" for lsa,
    # "all" for transformer
    steps: int = 15000
    lr: float = 2e-3
    warmup_steps: int = 200
    min_lr_ratio: float = 0.02
    ema_decay: float = 0.0
    grad_clip: Optional[float] = 1.0
    #: fresh prompts per training step
    batch_size: int = 128
    #: all (squared error over every prefix, Garg et al. 2022) or last (the query after k examples only,
    #: Zhang, Frei & Bartlett 2024); null: last for lsa, all for transformer
    loss_positions: Optional[str] = None
    #: with loss_positions=all: uniform over prefixes, or relative (each prefix's error divided by its
    #: running mean, so late prefixes weigh as much as early ones)
    loss_weighting: str = "relative"
    # evaluation (evaluate.py)
    #: fresh-task prompts the model and baselines are scored on (>= 1280); with a task pool as many
    #: again from the pool
    eval_prompts: int = 6400
    #: bootstrap resamples of the evaluation prompts for the CIs of err_k and excess_ratio_k
    n_boot: int = 1000
    #: neighbours of the k-nearest-neighbour baseline
    knn_neighbors: int = 3
    #: penalty alpha of the lasso baseline (1/2)||y - X w||^2 + alpha ||w||_1 (sparse_linear only)
    lasso_alpha: float = 0.1
    #: Monte Carlo draws of the exact finite-k Bayes-ridge risk curve (theory/icl.py; isotropic
    #: noisy_linear only)
    bayes_mc: int = 50000

    def validate(self) -> "ICLConfig":
        """Return self, or raise a one-line ValueError naming the key as the recipes spell it (``icl.d``)."""
        return in_section("icl", self._check)

    def _check(self) -> "ICLConfig":
        self.validate_optim()
        check_in("family", self.family, FAMILIES)
        check_in("covariance", self.covariance, COVARIANCES)
        check_in("model", self.model, MODELS)
        check_in("loss_weighting", self.loss_weighting, LOSS_WEIGHTINGS)
        if self.loss_positions is not None:
            check_in("loss_positions", self.loss_positions, LOSS_POSITIONS)
        for name in ("d", "k", "relu_width", "width", "depth", "heads", "batch_size", "n_boot", "knn_neighbors",
                     "bayes_mc"):
            check_positive_int(name, getattr(self, name))
        check_nonnegative("sigma2", self.sigma2)
        check_positive("tau2", self.tau2)
        check_nonnegative("lasso_alpha", self.lasso_alpha)
        if isinstance(self.n_tasks, bool) or int(self.n_tasks) != self.n_tasks or self.n_tasks < 0:
            raise ValueError(f"n_tasks must be an integer >= 0 (0 = infinite), got {self.n_tasks!r}")
        if check_positive_int("eval_prompts", self.eval_prompts) < 1280:
            raise ValueError(f"eval_prompts must be >= 1280 (CI width), got {self.eval_prompts}")
        if self.family == "linear" and self.sigma2 != 0:
            raise ValueError(f"sigma2 must be 0 for family=linear (use noisy_linear), got {self.sigma2!r}")
        if self.model == "transformer" and self.width % self.heads:
            raise ValueError(f"width must be a multiple of heads = {self.heads}, got {self.width}")
        return self
