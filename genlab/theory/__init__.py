"""What theory predicts, each prediction with its source and assumptions.

`exponents`: n-rates of the estimators (empirical measure, KDE, diffusion,
GAN, score estimation), with their log factors (`log_factors`: LogFactor,
`theory_curve`: the line C n^a (log n)^q).  `finite_n`: the slope a sweep
should see at its own n where E[error] is computable (`kde_risk`: the KDE's TV
from its exact bias and variance; `empirical_risk`: the 1-D empirical measure's
exact E W1).  `discretisation`: the decay of a sampler's error with
its number of steps N, at the solver's order.  `icl`: risk curves of in-context linear regression
against the number of examples k (least squares, Bayes ridge, one-step
preconditioned GD / one-layer linear self-attention, averaging).
"""

from genlab.theory.discretisation import SAMPLER_ORDERS, sampler_steps_exponent
from genlab.theory.empirical_risk import binomial_mad, empirical_expected_w1
from genlab.theory.exponents import ESTIMATORS, METRICS, Prediction, predicted_exponent, table
from genlab.theory.finite_n import ExpectedSlope, expected_slope, ols_slope
from genlab.theory.icl import (
    averaging_risk,
    bayes_ridge_risk,
    bayes_ridge_risk_mp,
    least_squares_risk,
    lsa_risk,
    preconditioned_gd_risk,
    zfb_gamma,
)
from genlab.theory.kde_risk import folded_normal_mean, kde_expected_tv
from genlab.theory.log_factors import LogFactor, theory_curve

__all__ = ["Prediction", "predicted_exponent", "table", "ESTIMATORS", "METRICS", "LogFactor", "theory_curve",
           "ExpectedSlope", "expected_slope", "ols_slope", "kde_expected_tv", "folded_normal_mean",
           "empirical_expected_w1", "binomial_mad",
           "sampler_steps_exponent", "SAMPLER_ORDERS",
           "least_squares_risk", "bayes_ridge_risk", "bayes_ridge_risk_mp", "zfb_gamma",
           "preconditioned_gd_risk", "lsa_risk", "averaging_risk"]
