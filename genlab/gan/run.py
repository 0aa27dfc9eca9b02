"""A GAN inside a genlab run: fit, draw the evaluation samples, score modes, save the training curve.

Called by the ``gan`` family's fit (`genlab.gan.family`).  Seeds:
the fit uses the run's ``seed`` (see `fit_gan`); the monitor's truth samples
``derive_seed(eval_seed, "monitor")``, the mode-statistics reference
``derive_seed(eval_seed, "eval", 0)`` (the truth samples of the evaluation's
first repetition) and the reverse-KL null ``derive_seed(eval_seed, "mode_null")``
-- none depends on n or on the training seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from genlab.gan.config import GANConfig
from genlab.gan.estimator import fit_gan
from genlab.gan.monitor import make_monitor, mode_statistics
from genlab.plots.training import TRAINING_PICTURE, plot_training
from genlab.core.seeding import derive_seed

__all__ = ["fit_gan_run"]


def fit_gan_run(cfg: GANConfig, truth, x_train: torch.Tensor, *, m: int, sample_generator: torch.Generator,
                seed: int, eval_seed: int, device, checkpoint_dir: Optional[str] = None,
                run_dir: Optional[Path] = None, progress: bool = False) -> tuple[torch.Tensor, dict]:
    """Fit a GAN to ``x_train`` (n, d); return m model samples (m, d) and the numbers to report.

    The numbers are the training record (final losses, speed) and, on a
    Gaussian-mixture truth, the mode statistics of the m samples with their
    truth references and the reverse-KL null (`genlab.gan.monitor.mode_statistics`).  With ``run_dir``
    the training curve is saved there as ``training.png``.
    """
    monitor = make_monitor(truth, cfg.monitor_m, seed=derive_seed(eval_seed, "monitor")) \
        if cfg.monitor_every else None
    model = fit_gan(cfg, x_train, seed=seed, device=device, progress=progress, checkpoint_dir=checkpoint_dir,
                    monitor=monitor)
    samples = model.sample(m, generator=sample_generator)                     # (m, d)
    extras = {**model.train_stats,
              **mode_statistics(truth, samples, truth_seed=derive_seed(eval_seed, "eval", 0),
                                null_seed=derive_seed(eval_seed, "mode_null"))}
    if run_dir is not None:
        plot_training(Path(run_dir) / TRAINING_PICTURE, model.record.losses.numpy(),
                      {k: v.numpy() for k, v in model.record.history.items()},
                      title=f"GAN ({cfg.loss}, pack {cfg.pack}): n = {len(x_train)}, seed = {seed}")
    return samples, extras
