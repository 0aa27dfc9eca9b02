"""The checks of a run's config that composition cannot make (values, not types): one-line ValueErrors naming the key.

`validate` needs only the config; `check_metrics_for_truth` needs the truth
too (a density, a dimension, a closed form).  Both run before anything is
written or drawn, in a run (`genlab.run.pipeline`) and for every combination
of a sweep (`genlab.run.overrides`).
"""

from __future__ import annotations

import metrics as M
from genlab.config import truth_kwargs
from genlab.core.validation import check_in, check_positive_int
from genlab.distributions import has_marginal_law, make_truth
from genlab.families import family_names, get_family
from genlab.run.data import check_data_split
from genlab.run.floor_cache import check_floor_cache
from genlab.run.grid import W1_GRID, w1_grid_problem

__all__ = ["validate", "check_metrics_for_truth", "build_truth", "DENSITY_METRICS", "EXACT_LAW_METRICS",
           "known_metrics", "needs_model_density"]

#: metrics that need the model's log-density as well as the truth's
DENSITY_METRICS = ("tv", "kl", "hellinger")
#: metrics against the truth's law itself, computed by the run with no truth samples (w1_law's floor is 0,
#: w1_grid's the grid's error bound)
EXACT_LAW_METRICS = ("w1_law", "w1_grid")


def needs_model_density(name: str) -> bool:
    """Whether metric ``name`` reads the model's density (the density metrics, and w1_grid's mass per cell)."""
    return name in DENSITY_METRICS or name == W1_GRID


def known_metrics() -> tuple:
    """Every name ``eval.metrics`` may hold: `metrics.evaluate`'s, the exact-law ones, and the families' own."""
    own = tuple(k for name in family_names() for k in get_family(name).own_metrics)
    return tuple(M.METRIC_NAMES) + EXACT_LAW_METRICS + own


def validate(cfg) -> None:
    """Checks that compose cannot make (values, not types); ValueError naming the key."""
    check_positive_int("n", cfg.n)
    check_positive_int("eval.m", cfg.eval.m)
    check_positive_int("eval.reps", cfg.eval.reps)
    check_positive_int("eval.grid_cells", cfg.eval.grid_cells)
    check_positive_int("eval.grid_nodes", cfg.eval.grid_nodes)
    if int(cfg.eval.grid_margin) < 0:
        raise ValueError(f"eval.grid_margin must be >= 0 (whole cells), got {cfg.eval.grid_margin}")
    check_in("estimator", cfg.estimator, family_names())
    family = get_family(cfg.estimator)
    check_data_split(cfg.data_split, family.fits_truth, cfg.estimator)
    if cfg.eval.m < 2:
        raise ValueError(f"eval.m must be at least 2 (a floor compares two samples of eval.m points, and "
                         f"MMD^2_u needs 2), got {cfg.eval.m}")
    why = family.needs_two_points(cfg) if family.needs_two_points else None
    if cfg.n < 2 and why:
        raise ValueError(f"n must be at least 2 for estimator '{cfg.estimator}' ({why}), got {cfg.n}")
    if cfg.device not in ("auto", "cpu") and not cfg.device.startswith("cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {cfg.device!r}")
    if family.validate:
        family.validate(cfg)
    check_floor_cache(cfg.eval.floor_cache)
    if cfg.eval.kde_reference and "tv" not in cfg.eval.metrics:
        raise ValueError("eval.kde_reference needs 'tv' in eval.metrics (kde_tv sits beside tv)")
    if not cfg.eval.metrics:
        raise ValueError("eval.metrics is empty; name at least one metric")
    for name in cfg.eval.metrics:
        _check_metric(cfg, family, name)


def _check_metric(cfg, family, name: str) -> None:
    check_in("eval.metrics", name, known_metrics())
    if needs_model_density(name) and not family.has_density:
        raise ValueError(f"eval.metrics: '{name}' needs the model's density, and estimator "
                         f"'{cfg.estimator}' has none")
    owners = [f for f in family_names() if name in get_family(f).own_metrics]
    if owners and cfg.estimator not in owners:
        raise ValueError(f"eval.metrics: '{name}' is computed by estimator {' or '.join(owners)} only, "
                         f"not by '{cfg.estimator}'")
    why = family.metric_needs(cfg, name) if family.metric_needs else None
    if why:
        raise ValueError(f"eval.metrics: '{name}' needs {why}")


def check_metrics_for_truth(cfg, truth) -> None:
    """Refuse what the truth cannot give: density metrics without a density, w1_law beyond 1-D, w1_grid
    without a density on a box in d <= 3, and
    what the family itself refuses (`Family.check_truth`)."""
    family = get_family(cfg.estimator)
    if family.check_truth:
        family.check_truth(cfg, truth)
    for name in cfg.eval.metrics:
        if name in DENSITY_METRICS and not truth.has_density:
            raise ValueError(f"eval.metrics: '{name}' needs the truth's density, and truth "
                             f"'{cfg.truth.name}' has none on R^{truth.dim}")
        if name == W1_GRID and (why := w1_grid_problem(truth)):
            raise ValueError(f"eval.metrics: 'w1_grid' needs {why}; truth '{cfg.truth.name}' is not one "
                             f"(dim {truth.dim})")
        if name == "w1_law" and not has_marginal_law(truth):
            raise ValueError(f"eval.metrics: 'w1_law' needs a 1-D truth with a closed-form CDF; "
                             f"truth '{cfg.truth.name}' has dim {truth.dim}")


def build_truth(cfg):
    """The truth ``cfg.truth`` names; a bad parameter is a ValueError naming the truth and the key."""
    try:
        return make_truth(cfg.truth.name, **truth_kwargs(cfg.truth))
    except ValueError as exc:
        raise ValueError(f"truth '{cfg.truth.name}': {exc}") from None
