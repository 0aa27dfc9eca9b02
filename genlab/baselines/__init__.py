"""Estimators that need no training: the empirical measure and the Gaussian KDE.

They are the reference lines of every rate plot: the empirical measure's W_p
rate and the KDE's TV rate are what a generative model is compared with.
"""

from genlab.baselines.bandwidth import data_scale, held_out, scott, silverman, theory
from genlab.baselines.empirical import EmpiricalMeasure
from genlab.baselines.factory import BANDWIDTH_RULES, make_kde
from genlab.baselines.kde import BOUNDARIES, GaussianKDE

__all__ = [
    "EmpiricalMeasure",
    "GaussianKDE",
    "make_kde",
    "scott",
    "silverman",
    "theory",
    "held_out",
    "data_scale",
    "BANDWIDTH_RULES",
    "BOUNDARIES",
]
