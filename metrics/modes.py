"""Mode statistics of samples against a known mixture: the VEEGAN / PacGAN mode-collapse metrics.

Srivastava, Valkov, Russell, Gutmann & Sutton 2017 (VEEGAN, NeurIPS), Sec. 5.1,
and Lin, Khetan, Fanti & Oh 2018 (PacGAN, NeurIPS), Sec. 5.1 and Table 1,
score a generator on a mixture of K Gaussians from m generated samples
(m = 2500 in both papers):

- a sample x is **high quality** when it lies within ``threshold`` = 3
  standard deviations of its nearest mode, i.e. when
  ``r(x) = min_k ||x - mu_k||_{Sigma_k}`` < 3, where ``||v||_Sigma`` is the
  Mahalanobis norm sqrt(v^T Sigma^-1 v) (the distance in units of the mode's
  standard deviation; for Sigma_k = sigma_k^2 I it is ||v|| / sigma_k);
- a mode is **captured** when it is the nearest mode of at least one
  high-quality sample;
- the **reverse KL** is KL(p_hat || w) = sum_k p_hat_k log(p_hat_k / w_k),
  with p_hat the histogram of the high-quality samples over their nearest
  modes and w the mixture weights (uniform on the ring and the grid).

"Nearest" is measured in the same standardised distance, as in PacGAN's
evaluation code (MetricLogger in its synthetic experiments); for modes of
equal isotropic spread it is the Euclidean nearest mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import as_points, as_weights, check_positive

__all__ = ["ModeCoverage", "mode_coverage", "HIGH_QUALITY_THRESHOLD"]

#: standard deviations within which a sample counts as high quality (VEEGAN, PacGAN)
HIGH_QUALITY_THRESHOLD = 3.0


@dataclass(frozen=True)
class ModeCoverage:
    """Mode statistics of m samples against a K-mode mixture.

    Attributes
    ----------
    counts : ndarray of int, shape (K,)
        High-quality samples per mode (nearest mode, standardised distance).
    m : int
        Number of samples scored.
    weights : ndarray, shape (K,)
        The mixture weights w.
    high_quality_fraction : float
        counts.sum() / m.
    modes_captured : int
        Number of modes with counts > 0.
    reverse_kl : float
        KL(counts / counts.sum() || w); NaN when no sample is high quality
        (the histogram is then undefined).
    """

    counts: np.ndarray
    m: int
    weights: np.ndarray
    high_quality_fraction: float
    modes_captured: int
    reverse_kl: float

    @property
    def n_modes(self) -> int:
        return int(self.counts.shape[0])

    def as_flat(self) -> dict:
        """``{"modes_captured", "n_modes", "high_quality_fraction", "mode_reverse_kl"}`` as numbers."""
        return {"modes_captured": self.modes_captured, "n_modes": self.n_modes,
                "high_quality_fraction": self.high_quality_fraction, "mode_reverse_kl": self.reverse_kl}


def _standardised_distances(x: np.ndarray, means: np.ndarray, stds, covs) -> np.ndarray:
    """r_ik = ||x_i - mu_k||_{Sigma_k}, shape (m, K)."""
    diff = x[:, None, :] - means[None, :, :]                                  # (m, K, d)
    if covs is not None:
        # Sigma_k = L_k L_k^T; ||v||_Sigma = ||L_k^-1 v||
        chol = np.linalg.cholesky(covs)                                       # (K, d, d)
        inv = np.linalg.inv(chol)                                             # (K, d, d)
        z = np.einsum("kij,mkj->mki", inv, diff)                              # (m, K, d)
        return np.sqrt((z * z).sum(-1))
    return np.sqrt(((diff / stds[None, :, :]) ** 2).sum(-1))                   # (m, K)


def _as_stds(stds, k: int, d: int) -> np.ndarray:
    """Standard deviations as an array (K, d): a number, one per mode (K,), or per mode and axis (K, d)."""
    arr = np.asarray(stds.detach().cpu().numpy() if hasattr(stds, "detach") else stds, dtype=np.float64)
    if arr.ndim == 0:
        check_positive("stds", float(arr))
        arr = np.full((k, d), float(arr))
    elif arr.shape == (k,):
        arr = np.repeat(arr[:, None], d, axis=1)
    elif arr.shape != (k, d):
        raise ValueError(f"stds must be a number, shape ({k},) or ({k}, {d}), got shape {arr.shape}")
    if not (np.all(np.isfinite(arr)) and np.all(arr > 0)):
        raise ValueError("stds must be finite and > 0")
    return arr


def _as_covs(covs, k: int, d: int) -> np.ndarray:
    arr = np.asarray(covs.detach().cpu().numpy() if hasattr(covs, "detach") else covs, dtype=np.float64)
    if arr.shape != (k, d, d):
        raise ValueError(f"covs must have shape ({k}, {d}, {d}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("covs must be finite")
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise ValueError("covs must be symmetric positive definite") from None
    return arr


def mode_coverage(samples, means, *, stds=None, covs=None, weights=None,
                  threshold: float = HIGH_QUALITY_THRESHOLD) -> ModeCoverage:
    """High-quality fraction, modes captured and reverse KL of ``samples`` against a Gaussian mixture.

    Parameters
    ----------
    samples : array_like, shape (m, d)
        Generated samples (VEEGAN and PacGAN use m = 2500).
    means : array_like, shape (K, d)
        Mode means mu_k.
    stds : float or array_like, shape (K,) or (K, d), optional
        Standard deviation of each mode (one number for all, one per mode,
        or one per mode and axis: a diagonal covariance).  Give this or ``covs``.
    covs : array_like, shape (K, d, d), optional
        Full covariances Sigma_k (distances are then Mahalanobis).
    weights : array_like, shape (K,), optional
        Mixture weights w (summing to 1); uniform when omitted.
    threshold : float
        A sample is high quality when its standardised distance to the
        nearest mode is below this (3 in VEEGAN and PacGAN).

    Returns
    -------
    ModeCoverage

    Examples
    --------
    >>> mc = mode_coverage([[0.0, 0.0], [1.0, 0.05], [5.0, 5.0]], [[0.0, 0.0], [1.0, 0.0]], stds=0.1)
    >>> mc.counts.tolist(), mc.modes_captured, round(mc.high_quality_fraction, 4), round(mc.reverse_kl, 12)
    ([1, 1], 2, 0.6667, 0.0)
    """
    mu = as_points("means", means)
    k, d = mu.shape
    x = as_points("samples", samples, dim=d)
    if (stds is None) == (covs is None):
        raise ValueError("give exactly one of stds and covs")
    w = as_weights("weights", weights, k)
    if np.any(w <= 0):
        raise ValueError("weights must be > 0 (a mode of weight 0 is no mode)")
    threshold = check_positive("threshold", threshold)
    r = _standardised_distances(x, mu, None if stds is None else _as_stds(stds, k, d),
                                None if covs is None else _as_covs(covs, k, d))   # (m, K)
    nearest = r.argmin(1)                                                         # (m,)
    good = r[np.arange(len(x)), nearest] < threshold                              # (m,)
    counts = np.bincount(nearest[good], minlength=k)                              # (K,)
    total = int(counts.sum())
    if total == 0:
        rkl = math.nan
    else:
        p = counts[counts > 0] / total
        rkl = float(np.sum(p * np.log(p / w[counts > 0])))
    return ModeCoverage(counts=counts, m=int(len(x)), weights=w, high_quality_fraction=total / len(x),
                        modes_captured=int(np.count_nonzero(counts)), reverse_kl=rkl)
