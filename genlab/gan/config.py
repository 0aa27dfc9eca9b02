"""Typed settings of a GAN fit (OmegaConf structured-config compatible).

Defaults are those of the ``gan_ring`` recipe (PacGAN's 2-D ring): MLP
generator (ReLU) and discriminator (leaky ReLU) of width 128 and three hidden
layers, a 2-D Gaussian latent, the hinge loss with PacGAN packing of two
samples, Adam (lr 2e-3, beta1 = 0.5) with a cosine decay to 0 over 8000
generator steps of batch 128, and an EMA (0.99) of the generator's weights.
benchmarks/README.md ("Tuning logs") says what was tried.  ``gan_grid`` overrides
some of these (see its recipe).  ``validate`` turns a bad value into a
one-line ValueError naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from genlab.gan.losses import LOSSES
from genlab.gan.networks import ACTIVATIONS
from genlab.core.validation import check_in, check_nonnegative, check_positive, check_positive_int, in_section
from genlab.training.optim import OptimConfig

__all__ = ["GANConfig"]


@dataclass
class GANConfig(OptimConfig):
    """Every setting of ``fit_gan``; see the module docstrings named beside each group.

    The optimiser, schedule, EMA and checkpoint keys are `genlab.training.OptimConfig`'s, applied to
    both networks (``d_lr`` sets the discriminator's own peak rate; ``grad_clip`` clips each network's
    gradient norm).
    """

    # networks (networks.py)
    #: k: the generator's latent z ~ N(0, I_k)
    latent_dim: int = 2
    #: hidden width of the generator MLP
    g_width: int = 128
    #: hidden layers of the generator MLP (0: one affine map)
    g_depth: int = 3
    #: hidden width of the discriminator MLP
    d_width: int = 128
    #: hidden layers of the discriminator MLP (0: one affine map)
    d_depth: int = 3
    #: the generator's activation: relu, leaky_relu (slope 0.2), silu or tanh
    activation: str = "relu"
    #: the discriminator's activation: relu, leaky_relu (slope 0.2), silu or tanh
    d_activation: str = "leaky_relu"
    #: divide each discriminator weight matrix by its largest singular value, by one power iteration a
    #: forward pass (Miyato et al. 2018)
    spectral_norm: bool = False
    #: PacGAN degree: the discriminator judges ``pack`` samples of one source at once (1: a plain GAN)
    pack: int = 2
    #: the networks work in (x - mean) / sd, per axis of the training set (false: data coordinates)
    standardize: bool = True
    #: the networks see c (x - mean) / sd: the standardised data scaled by c (see estimator.py)
    input_scale: float = 1.0
    # loss (losses.py)
    #: hinge (Lim & Ye 2017; Miyato et al. 2018), non_saturating (Goodfellow et al. 2014, the -log D
    #: generator loss) or wgan_gp (Gulrajani et al. 2017)
    loss: str = "hinge"
    #: WGAN-GP penalty weight lambda (Gulrajani et al. 2017 use 10)
    gp_lambda: float = 10.0
    #: weight gamma of the zero-centred R1 penalty (gamma / 2) E||grad_x D(x)||^2 on real data, added to
    #: any loss (Mescheder, Geiger & Nowozin 2018, eq. 9; 0: off)
    r1_gamma: float = 0.0
    #: lazy R1: the penalty, times r1_every, on every r1_every-th discriminator step only (Karras et al.
    #: 2020, StyleGAN2, Sec. 3.1; 1: every step)
    r1_every: int = 1
    #: discriminator (critic) steps per generator step (WGAN-GP uses 5)
    critic_steps: int = 1
    # optimisation: the keys of genlab.training.OptimConfig, with this family's defaults (steps are generator
    # steps; lr is the generator's, and the discriminator's unless d_lr is set; the EMA is the generator's)
    steps: int = 8000
    lr: float = 2e-3
    beta1: float = 0.5
    warmup_steps: int = 0
    ema_decay: float = 0.99
    checkpoint_every: int = 1000
    #: discriminator learning rate; null: the same as lr
    d_lr: Optional[float] = None
    #: packed samples per minibatch: each discriminator and generator step draws batch_size x pack
    #: points (real ones from the n with replacement)
    batch_size: int = 128
    #: a discriminator whose mean |output| exceeds this has run away: the run stops
    max_critic: float = 1.0e4
    # training curve (monitor.py): W1 and mode statistics every monitor_every steps on monitor_m samples
    #: a point of the training curve (training.png) every this many generator steps and at the end
    #: (0: no curve)
    monitor_every: int = 500
    #: EMA-generator samples, and truth samples, per point of the training curve
    monitor_m: int = 500

    def validate(self) -> "GANConfig":
        """Return self, or raise a one-line ValueError naming the key as the recipes spell it (``gan.lr``)."""
        return in_section("gan", self._check)

    def _check(self) -> "GANConfig":
        self.validate_optim()
        for name in ("latent_dim", "g_width", "d_width", "pack", "critic_steps", "batch_size", "monitor_m",
                     "r1_every"):
            check_positive_int(name, getattr(self, name))
        for name in ("g_depth", "d_depth", "monitor_every"):
            if int(getattr(self, name)) != getattr(self, name) or getattr(self, name) < 0:
                raise ValueError(f"{name} must be an integer >= 0, got {getattr(self, name)!r}")
        check_in("loss", self.loss, sorted(LOSSES))
        check_in("activation", self.activation, sorted(ACTIVATIONS))
        check_in("d_activation", self.d_activation, sorted(ACTIVATIONS))
        if self.d_lr is not None:
            check_positive("d_lr", self.d_lr)
        check_nonnegative("gp_lambda", self.gp_lambda)
        check_nonnegative("r1_gamma", self.r1_gamma)
        check_positive("max_critic", self.max_critic)
        check_positive("input_scale", self.input_scale)
        return self
