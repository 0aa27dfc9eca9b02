"""metrics: distances between a learned law and a known truth, each with its noise floor.

A standalone library (numpy, scipy, torch and POT; nothing from genlab).
Every function is pure, accepts numpy arrays and torch tensors alike,
computes in float64 and returns python floats or small dataclasses; the
``*_loss`` functions instead return torch tensors with their autograd graph.

- :func:`wasserstein` (exact, 1-D and against a known 1-D law, sliced, Sinkhorn),
  :func:`gaussian_w2` (Bures closed form), :func:`grid_w1` (W1 between two known densities on a
  grid, d <= 3: no sampling noise, a stated discretisation bound)
- :func:`total_variation` and the named estimators ``tv_*``
- :func:`mmd2_unbiased`; :func:`energy_distance`; :func:`kl`, :func:`hellinger`
- differentiable losses on torch tensors (a tensor with its graph out, for training):
  :func:`sliced_wasserstein_loss`, :func:`mmd2_loss`, :func:`sinkhorn_loss`
- :func:`noise_floor`, :func:`evaluate` (value, floor and CI per metric),
  :class:`Estimate`
- :func:`fit_rate` (exponent with a seed-jackknife t interval; floors modelled in quadrature or cut)
- :func:`mode_coverage` (VEEGAN / PacGAN mode statistics against a Gaussian mixture)
"""

from .divergences import hellinger, kl
from .energy import energy_distance
from .estimate import Estimate
from .evaluate import METRIC_NAMES, evaluate, metric_floor
from .floor import NoiseFloor, noise_floor
from .gaussian import gaussian_w2
from .grid_wasserstein import grid_w1
from .losses import mmd2_loss, sinkhorn_loss, sliced_wasserstein_loss
from .mmd import median_bandwidth, mmd2_unbiased
from .modes import ModeCoverage, ReverseKLNull, mode_coverage, mode_reverse_kl_null
from .rates import FLOOR_MODELS, RateFit, fit_rate
from .tv import (
    total_variation,
    tv_classifier_lower_bound,
    tv_density_samples,
    tv_histogram,
    tv_monte_carlo,
    tv_quadrature,
)
from .wasserstein import projection_bank, wasserstein

__all__ = [
    "wasserstein",
    "projection_bank",
    "gaussian_w2",
    "grid_w1",
    "total_variation",
    "tv_quadrature",
    "tv_monte_carlo",
    "tv_density_samples",
    "tv_histogram",
    "tv_classifier_lower_bound",
    "mmd2_unbiased",
    "median_bandwidth",
    "energy_distance",
    "sliced_wasserstein_loss",
    "mmd2_loss",
    "sinkhorn_loss",
    "kl",
    "hellinger",
    "noise_floor",
    "NoiseFloor",
    "Estimate",
    "evaluate",
    "metric_floor",
    "METRIC_NAMES",
    "fit_rate",
    "RateFit",
    "FLOOR_MODELS",
    "mode_coverage",
    "ModeCoverage",
    "mode_reverse_kl_null",
    "ReverseKLNull",
]
