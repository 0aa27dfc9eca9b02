"""What theory predicts: rate exponents with their sources and assumptions.

`exponents` holds the n-rates of the estimators (empirical measure, KDE,
diffusion, GAN, score estimation); in-context learning risk curves will sit
beside it in their own module.
"""

from genlab.theory.exponents import ESTIMATORS, METRICS, Prediction, predicted_exponent, table

__all__ = ["Prediction", "predicted_exponent", "table", "ESTIMATORS", "METRICS"]
