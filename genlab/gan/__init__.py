"""Generative adversarial networks on known truths: networks, losses, training, mode statistics.

- `networks`: generator and (packed, optionally spectrally normalised) discriminator MLPs
- `losses`: non-saturating, hinge and WGAN-GP objectives; the WGAN-GP and R1 gradient penalties
- `training`: the alternating two-optimiser loop (checkpoints, resume, divergence guard)
- `estimator`: ``fit_gan(cfg, x_train, seed=...) -> GANModel``
- `monitor`: mode statistics (VEEGAN / PacGAN) and the training-curve numbers
- the training-curve picture is drawn by `genlab.plots.training`
"""

from genlab.gan.config import GANConfig
from genlab.gan.estimator import GANModel, fit_gan
from genlab.gan.losses import LOSSES, gradient_penalty, r1_penalty
from genlab.gan.monitor import make_monitor, mode_statistics
from genlab.gan.networks import Discriminator, Generator, pack_samples
from genlab.gan.training import GAN_CHECKPOINT_FORMAT, GANTrainResult, train_gan

__all__ = ["GANConfig", "GANModel", "fit_gan", "LOSSES", "gradient_penalty", "r1_penalty", "make_monitor",
           "mode_statistics", "Discriminator", "Generator", "pack_samples",
           "GAN_CHECKPOINT_FORMAT", "GANTrainResult", "train_gan"]
