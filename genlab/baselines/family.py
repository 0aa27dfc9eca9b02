"""The ``empirical`` and ``kde`` families: the estimators that need no training, as runs fit and score them."""

from __future__ import annotations

from genlab.baselines.config import KDEConfig
from genlab.baselines.empirical import EmpiricalMeasure
from genlab.baselines.factory import make_kde
from genlab.core.family import DensityLaw, Family, Fitted
from genlab.core.seeding import derive_seed, make_generator
from genlab.core.validation import is_number

__all__ = ["FAMILIES", "EMPIRICAL", "KDE"]


def fit_empirical(cfg, truth, x_train, **_) -> Fitted:
    """The empirical measure of the n points: its samples are the points themselves."""
    return Fitted(samples=EmpiricalMeasure(x_train).points)


def fit_kde(cfg, truth, x_train, *, m, sample_generator, **_) -> Fitted:
    """The Gaussian KDE of ``cfg.kde`` (reflected into the truth's cube with ``kde.boundary=reflect``)."""
    model = _kde(cfg, truth, x_train, sample_generator)
    return Fitted(samples=model.sample(m, generator=sample_generator), log_prob=model.log_prob,
                  extras={"bandwidth": float(model.bandwidth)})


def _kde(cfg, truth, x_train, generator):
    """The KDE of ``cfg.kde`` on x_train; ``generator``: the run's sample stream (a held-out bandwidth uses it)."""
    bounds = _cube_bounds(truth) if cfg.kde.boundary != "none" else None
    return make_kde(x_train, _bandwidth_arg(cfg.kde.bandwidth), s=_finite_or_none(truth.smoothness),
                    c=cfg.kde.c, bounds=bounds, boundary=cfg.kde.boundary, generator=generator)


def restore_kde(cfg, truth, x_train, run_dir, *, device) -> DensityLaw:
    """A finished KDE run's model, refitted on its points with its sample stream as the run began it: the KDE
    samples its own law exactly, so log q = log p."""
    model = _kde(cfg, truth, x_train.cpu(), make_generator(derive_seed(cfg.seed, "sample")))

    def sample_with_log_prob(m, generator):
        x = model.sample(m, generator=generator)
        return x, model.log_prob(x)

    return DensityLaw(sample_with_log_prob=sample_with_log_prob, log_prob=model.log_prob)


def kde_needs_two_points(cfg) -> str | None:
    if is_number(cfg.kde.bandwidth):
        return None
    return "its bandwidth rule (kde.bandwidth) needs a spread or a held-out split"


def kde_theory_params(section: dict) -> dict:
    """The bandwidth rule, its constant and the boundary fix the KDE's exact finite-n risk
    (`genlab.theory.expected_slope`)."""
    return {k: section[k] for k in ("bandwidth", "c", "boundary") if section.get(k) is not None}


def _bandwidth_arg(text: str):
    try:
        return float(text)
    except ValueError:
        return text


def _finite_or_none(x: float):
    return x if x == x and x not in (float("inf"), float("-inf")) else None


def _cube_bounds(truth):
    return (float(getattr(truth, "low", -1.0)), float(getattr(truth, "high", 1.0)))


EMPIRICAL = Family("empirical", fit=fit_empirical, samples_are_fit_points=True,
                   summary="the empirical measure of the n points")
KDE = Family("kde", fit=fit_kde, section="kde", schema=KDEConfig, has_density=True,
             summary="the Gaussian KDE baseline, for estimator=kde",
             validate=lambda cfg: cfg.kde.validate(), needs_two_points=kde_needs_two_points,
             theory_params=kde_theory_params, restore=restore_kde)

#: what `genlab.families` registers from this package, in this order
FAMILIES = (EMPIRICAL, KDE,)
