"""A one-dimensional truth seen as a law with ``cdf`` and ``ppf``, for exact 1-D distances.

`metrics.wasserstein(x, law, method="1d")` integrates against a known law
when given an object with ``cdf`` and ``ppf`` (like a frozen scipy
distribution).  This adapter gives one to any 1-D truth with a closed-form
``marginal_cdf`` on a bounded support; the quantile is found by bisection,
since these CDFs have no closed-form inverse.
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.distributions.base import Distribution

__all__ = ["MarginalLaw", "has_marginal_law"]


def has_marginal_law(truth: Distribution) -> bool:
    """Whether ``truth`` is 1-D with a closed-form CDF on a known bounded support."""
    return truth.dim == 1 and hasattr(truth, "marginal_cdf") and _bounds(truth) is not None


def _bounds(truth):
    low, high = getattr(truth, "low", None), getattr(truth, "high", None)
    return None if low is None or high is None else (float(low), float(high))


class MarginalLaw:
    """``cdf`` and ``ppf`` (numpy in, numpy out) of a 1-D truth with ``marginal_cdf``.

    Parameters
    ----------
    truth : Distribution
        One-dimensional, with ``marginal_cdf`` and a bounded support [low, high].
    """

    def __init__(self, truth: Distribution):
        if not has_marginal_law(truth):
            raise ValueError(f"truth {type(truth).__name__} is not a 1-D law with a closed-form CDF "
                             f"on a bounded support")
        self.truth = truth
        self.low, self.high = _bounds(truth)

    def cdf(self, x) -> np.ndarray:
        """F(x), elementwise."""
        t = torch.as_tensor(np.asarray(x, dtype=np.float64))
        return self.truth.marginal_cdf(t).cpu().numpy()

    def ppf(self, q, n_iter: int = 60) -> np.ndarray:
        """F^{-1}(q) by bisection; 60 halvings of the support reach float64 resolution."""
        q = np.asarray(q, dtype=np.float64)
        lo = np.full(q.shape, self.low)
        hi = np.full(q.shape, self.high)
        for _ in range(n_iter):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < q
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)
