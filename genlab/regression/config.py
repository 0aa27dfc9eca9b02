"""Typed settings of a regression run (OmegaConf structured-config compatible): the ``regression`` section.

A run draws n labelled points (x, y = f*(x) + sigma eps) from a target whose f* is
known exactly (`genlab.regression.targets`), fits one estimator (a deep ReLU
network, a two-layer ReLU network in one of four parametrisations, NTK kernel
ridge regression, k-NN) and scores it by its excess risk E(f_hat(X) - f*(X))^2, a
Monte Carlo mean over fresh inputs with its CI (`genlab.regression.risk`).  A
two-layer network also reports the quantities of the lazy and mean-field regimes
(`genlab.regression.dynamics`).  ``validate`` turns a bad value into a one-line
ValueError naming the key as the recipes spell it (``regression.width``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from genlab.core.validation import check_in, check_nonnegative, check_positive, check_positive_int, in_section
from genlab.regression.networks import PARAMETRISATIONS
from genlab.regression.targets import LINKS, TARGETS
from genlab.training.optim import OptimConfig

__all__ = ["RegressionConfig", "MODELS", "OPTIMIZERS", "SIZE_RULES"]

#: the estimators of f*: deep (a fully connected ReLU network), two_layer (one hidden ReLU layer in
#: regression.parametrisation), ntk_krr (kernel ridge regression with the infinite-width NTK), knn
MODELS = ("deep", "two_layer", "ntk_krr", "knn")
#: gd (full-batch gradient descent), sgd (minibatches of batch_size), adam
OPTIMIZERS = ("gd", "sgd", "adam")
#: how the deep network's width and depth are set: fixed (regression.width, regression.depth) or
#: schmidt_hieber (grown with n, `genlab.regression.networks.deep_size`)
SIZE_RULES = ("fixed", "schmidt_hieber")


@dataclass
class RegressionConfig(OptimConfig):
    """Every setting of a regression run (`genlab.regression.run.run_regression`).

    The optimiser keys are `genlab.training.OptimConfig`'s; ``lr`` is Adam's rate for
    ``optimizer=adam`` and the base step of gradient descent otherwise, multiplied by the
    parametrisation's learning-rate multiplier (width m for mean_field and lazy).
    """

    # the target (targets.py)
    #: smooth (f* of exact smoothness s on [-1, 1]^d, non-separable, inputs uniform), single_index
    #: (link(<w*, x>), x ~ N(0, I_d)), teacher (a two-layer ReLU network, x ~ N(0, I_d)), linear
    target: str = "smooth"
    #: the target's input dimension d (with ambient_dim: the dimension d' of the subspace the inputs lie on)
    d: int = 1
    #: smoothness s of the smooth target
    s: float = 1.0
    #: standard deviation sigma of the Gaussian label noise
    sigma: float = 0.1
    #: the single-index link: he2 ((z^2 - 1)/sqrt 2), relu (centred) or tanh
    link: str = "he2"
    #: hidden units of the teacher target
    teacher_width: int = 4
    #: D: the inputs lie on a random d-dimensional subspace of R^D (null: no embedding, D = d)
    ambient_dim: Optional[int] = None
    #: seeds f* itself (frequencies, w*, the teacher, the subspace): fixed across a sweep's runs, so every
    #: run of a sweep sees the same f*
    target_seed: int = 0
    # the estimator
    #: deep, two_layer, ntk_krr or knn (see MODELS)
    model: str = "deep"
    #: the two-layer network's parametrisation: ntk, mean_field, standard or lazy
    #: (`genlab.regression.networks.TwoLayerNet`)
    parametrisation: str = "ntk"
    #: alpha of the lazy parametrisation f = alpha (h(theta) - h(theta_0)), loss / alpha^2
    #: (Chizat, Oyallon & Bach 2019); alpha = sqrt(width) is the NTK scaling
    alpha: float = 1.0
    #: append a constant coordinate to the two-layer network's and the NTK kernel's inputs (x -> (x, 1)): a
    #: bias for each hidden unit.  Without it every function they represent is positively 1-homogeneous
    #: (f(0) = 0) and their excess risk on the smooth or he2 targets plateaus at the distance to that class
    input_bias: bool = True
    #: hidden width m (the deep network's with size_rule=fixed; its cap with size_rule=schmidt_hieber)
    width: int = 256
    #: the deep network's hidden layers (size_rule=fixed)
    depth: int = 3
    #: fixed or schmidt_hieber (the deep network's width and depth grown with n)
    size_rule: str = "fixed"
    #: gd, sgd or adam
    optimizer: str = "adam"
    #: minibatch size of sgd and adam (0: the full batch)
    batch_size: int = 0
    #: hold out 20% of the n points and keep the network of least held-out error (checked every
    #: eval_every steps); with false the network trains on all n points and the last weights are scored
    early_stopping: bool = True
    #: steps between two held-out checks
    eval_every: int = 50
    #: ntk_krr's ridge (it multiplies I in (K + ridge I)^{-1} y; null: tuned by held-out error)
    ridge: Optional[float] = None
    #: knn's k (0: tuned by held-out error over a grid around ceil(n^{2s/(2s+d)}))
    knn_k: int = 0
    # the evaluation
    #: fresh inputs of the Monte Carlo excess risk
    test_points: int = 20000
    #: a two-layer network's fixed inputs of the kernel measurements (NTK at initialisation, kernel drift)
    kernel_points: int = 64
    #: a two-layer network: train a second, independently initialised network on the same points and
    #: report the distance between the two (twin_distance)
    twin: bool = False
    #: a two-layer network: its test predictions against the NTK gradient-flow prediction at the same time
    #: (flow_gap), and its training loss against the flow's (needs the n x n NTK Gram matrix)
    flow_reference: bool = False
    #: the largest kernel Gram matrix a run may allocate, in bytes (refused before allocation above it)
    max_gram_bytes: int = 2 * 1024 ** 3
    # optimisation: the keys of genlab.training.OptimConfig, with this family's defaults (no weight
    # averaging, no checkpoints: a regression run takes seconds to minutes)
    steps: int = 2000
    lr: float = 1e-3
    lr_schedule: str = "constant"
    ema_decay: float = 0.0

    def validate(self) -> "RegressionConfig":
        """Return self, or raise a one-line ValueError naming the key (``regression.width``)."""
        return in_section("regression", self._check)

    def _check(self) -> "RegressionConfig":
        self.validate_optim()
        check_in("target", self.target, TARGETS)
        check_in("link", self.link, LINKS)
        check_in("model", self.model, MODELS)
        check_in("parametrisation", self.parametrisation, PARAMETRISATIONS)
        check_in("optimizer", self.optimizer, OPTIMIZERS)
        check_in("size_rule", self.size_rule, SIZE_RULES)
        for name in ("d", "teacher_width", "width", "depth", "eval_every", "test_points", "kernel_points",
                     "max_gram_bytes"):
            check_positive_int(name, getattr(self, name))
        check_positive("s", self.s)
        check_nonnegative("sigma", self.sigma)
        if not (math.isfinite(float(self.alpha)) and self.alpha > 0):
            raise ValueError(f"alpha must be > 0, got {self.alpha!r}")
        if self.ambient_dim is not None and check_positive_int("ambient_dim", self.ambient_dim) < self.d:
            raise ValueError(f"ambient_dim must be >= d = {self.d} (the inputs lie on a d-dimensional subspace "
                             f"of R^ambient_dim), got {self.ambient_dim}")
        if int(self.batch_size) < 0:
            raise ValueError(f"batch_size must be >= 0 (0: the full batch), got {self.batch_size}")
        if int(self.knn_k) < 0:
            raise ValueError(f"knn_k must be >= 0 (0: tuned by held-out error), got {self.knn_k}")
        if self.ridge is not None:
            check_nonnegative("ridge", self.ridge)
        if self.ema_decay:
            raise ValueError(f"ema_decay must be 0 (a regression run scores its last or its early-stopped "
                             f"weights, no average), got {self.ema_decay}")
        if self.checkpoint_every:
            raise ValueError(f"checkpoint_every must be 0 (a regression run is not checkpointed), "
                             f"got {self.checkpoint_every}")
        if self.flow_reference and (self.optimizer != "gd" or self.early_stopping):
            raise ValueError(f"flow_reference needs optimizer=gd and early_stopping=false (the infinite-width "
                             f"network is compared after the network's own number of full-batch steps, on all n "
                             f"points), got optimizer={self.optimizer}, early_stopping={self.early_stopping}")
        if self.optimizer == "gd" and self.batch_size:
            raise ValueError(f"batch_size must be 0 with optimizer=gd (full-batch gradient descent; sgd takes "
                             f"minibatches), got {self.batch_size}")
        return self

    @property
    def input_dim(self) -> int:
        """The dimension of the inputs the estimator sees: ambient_dim, or d without an embedding."""
        return int(self.ambient_dim) if self.ambient_dim is not None else int(self.d)
