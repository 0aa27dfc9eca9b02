"""The ``gan`` family: a GAN as runs fit it; its mode statistics and training curve come with the fit."""

from __future__ import annotations

from genlab.core.family import Family, Fitted
from genlab.core.files import CHECKPOINT_DIR
from genlab.gan.config import GANConfig

__all__ = ["FAMILIES", "GAN"]


def fit(cfg, truth, x_train, *, m, sample_generator, seed, device, run_dir=None, progress=False) -> Fitted:
    """The GAN of ``cfg.gan``, trained on the n points; its mode metrics go to ``extras``."""
    from genlab.gan.run import fit_gan_run

    ckpt = str(run_dir / CHECKPOINT_DIR) if run_dir is not None and cfg.gan.checkpoint_every else None
    samples, extras = fit_gan_run(cfg.gan, truth, x_train, m=m, sample_generator=sample_generator, seed=seed,
                                  eval_seed=cfg.eval.seed, device=device, checkpoint_dir=ckpt,
                                  run_dir=run_dir, progress=progress)
    return Fitted(samples=samples, extras=extras)


def needs_two_points(cfg) -> str | None:
    if not cfg.gan.standardize:
        return None
    return "it standardises the data by their standard deviation (gan.standardize)"


GAN = Family("gan", fit=fit, section="gan", schema=GANConfig, summary="the GAN, for estimator=gan",
             validate=lambda cfg: cfg.gan.validate(), needs_two_points=needs_two_points)

#: what `genlab.families` registers from this package, in this order
FAMILIES = (GAN,)
