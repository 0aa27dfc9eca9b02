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

The reverse KL is positive even for a perfect generator: m draws of the
truth itself give a multinomial histogram, and for N high-quality samples
2 N KL(p_hat || w) is the G statistic, asymptotically chi^2_{K-1} (Wilks
1938; Williams 1976 for its 1 + (sum_k 1/w_k - 1) / (6 N (K - 1)) mean
correction), so KL ~ chi^2_{K-1} / (2 N): mean (K - 1) / (2 N), variance
(K - 1) / (2 N^2).  `mode_reverse_kl_null` draws that null distribution
over R repeats of m truth samples, scored exactly as the model's samples are,
and gives the Monte Carlo p-value of a model's value against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validation import as_points, as_weights, check_positive, check_positive_int

__all__ = ["ModeCoverage", "mode_coverage", "ReverseKLNull", "mode_reverse_kl_null", "HIGH_QUALITY_THRESHOLD",
           "NULL_REPEATS"]

#: standard deviations within which a sample counts as high quality (VEEGAN, PacGAN)
HIGH_QUALITY_THRESHOLD = 3.0
#: default repeats of the reverse-KL null: p-values resolve 1 / 1001, and the 95th percentile's
#: standard error is sqrt(0.95 * 0.05 / 1000) = 0.7% in probability
NULL_REPEATS = 1000
#: null values within this relative distance of the tested value count as ties (>=): a permuted
#: histogram has the same KL under uniform weights, up to the rounding of its summation order
_TIE_RTOL = 1e-12


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


@dataclass(frozen=True)
class _Mixture:
    """Validated mixture: means (K, d), weights (K,), and either stds (K, d) or Cholesky factors (K, d, d)."""

    means: np.ndarray
    weights: np.ndarray
    stds: np.ndarray | None
    chol: np.ndarray | None
    chol_inv: np.ndarray | None


def _to_numpy(x) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x, dtype=np.float64)


def _as_stds(stds, k: int, d: int) -> np.ndarray:
    """Standard deviations as an array (K, d): a number, one per mode (K,), or per mode and axis (K, d)."""
    arr = _to_numpy(stds)
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


def _as_chol(covs, k: int, d: int) -> np.ndarray:
    """Cholesky factors L_k (K, d, d) of covariances Sigma_k = L_k L_k^T."""
    arr = _to_numpy(covs)
    if arr.shape != (k, d, d):
        raise ValueError(f"covs must have shape ({k}, {d}, {d}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("covs must be finite")
    try:
        return np.linalg.cholesky(arr)
    except np.linalg.LinAlgError:
        raise ValueError("covs must be symmetric positive definite") from None


def _mixture(means, stds, covs, weights) -> _Mixture:
    mu = as_points("means", means)
    k, d = mu.shape
    if (stds is None) == (covs is None):
        raise ValueError("give exactly one of stds and covs")
    w = as_weights("weights", weights, k)
    if np.any(w <= 0):
        raise ValueError("weights must be > 0 (a mode of weight 0 is no mode)")
    if stds is not None:
        return _Mixture(mu, w, _as_stds(stds, k, d), None, None)
    chol = _as_chol(covs, k, d)
    return _Mixture(mu, w, None, chol, np.linalg.inv(chol))


def _standardised_distances(x: np.ndarray, mix: _Mixture) -> np.ndarray:
    """r_ik = ||x_i - mu_k||_{Sigma_k}, shape (m, K)."""
    diff = x[:, None, :] - mix.means[None, :, :]                               # (m, K, d)
    if mix.chol_inv is not None:
        # ||v||_Sigma = ||L^-1 v||; one (m, d) @ (d, d) product per mode (einsum's default path is 30x slower)
        z = np.matmul(diff.transpose(1, 0, 2), mix.chol_inv.transpose(0, 2, 1))   # (K, m, d)
        return np.sqrt((z * z).sum(-1)).T                                       # (m, K)
    return np.sqrt(((diff / mix.stds[None, :, :]) ** 2).sum(-1))                # (m, K)


def _score(x: np.ndarray, mix: _Mixture, threshold: float) -> ModeCoverage:
    r = _standardised_distances(x, mix)                                         # (m, K)
    nearest = r.argmin(1)                                                       # (m,)
    good = r[np.arange(len(x)), nearest] < threshold                            # (m,)
    counts = np.bincount(nearest[good], minlength=len(mix.weights))             # (K,)
    total = int(counts.sum())
    if total == 0:
        rkl = math.nan
    else:
        p = counts[counts > 0] / total
        rkl = float(np.sum(p * np.log(p / mix.weights[counts > 0])))
    return ModeCoverage(counts=counts, m=int(len(x)), weights=mix.weights, high_quality_fraction=total / len(x),
                        modes_captured=int(np.count_nonzero(counts)), reverse_kl=rkl)


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
    mix = _mixture(means, stds, covs, weights)
    x = as_points("samples", samples, dim=mix.means.shape[1])
    return _score(x, mix, check_positive("threshold", threshold))


@dataclass(frozen=True)
class ReverseKLNull:
    """The reverse KL of m truth samples over R repeats: what a perfect generator scores.

    Attributes
    ----------
    values : ndarray, shape (R_defined,)
        The reverse KL of each repeat that had a high-quality sample.
    m : int
        Samples per repeat (the model's sample size).
    repeats : int
        R, repeats drawn; R - R_defined had no high-quality sample (undefined KL).
    seed : int
        Seed of the draws (numpy ``default_rng``).
    """

    values: np.ndarray
    m: int
    repeats: int
    seed: int

    @property
    def mean(self) -> float:
        """Mean over the defined repeats: about (K - 1) / (2 m P(high quality)) for m large."""
        return float(self.values.mean()) if len(self.values) else math.nan

    @property
    def std(self) -> float:
        """Sample standard deviation (ddof = 1); about sqrt(K - 1) / (sqrt(2) m P(high quality))."""
        return float(self.values.std(ddof=1)) if len(self.values) > 1 else math.nan

    @property
    def q95(self) -> float:
        """95th percentile: the smallest value v with empirical CDF(v) >= 0.95 (``inverted_cdf``)."""
        return float(np.quantile(self.values, 0.95, method="inverted_cdf")) if len(self.values) else math.nan

    def p_value(self, value: float) -> float:
        """Monte Carlo p-value (1 + #{null >= value}) / (1 + R_defined) of a model's reverse KL.

        Under the null (the model is the truth) P(p <= alpha) <= alpha for every
        alpha, with equality at alpha = j / (R_defined + 1) when there are no ties
        (Davison & Hinkley 1997, Sec. 4.2.1, eq. 4.11).  The smallest p is
        1 / (R_defined + 1): R >= 99 can reach p < 0.01.  NaN for a NaN value
        (no high-quality model sample: the statistic is undefined).
        """
        value = float(value)
        if math.isnan(value):
            return math.nan
        if len(self.values) == 0:
            raise ValueError("the reverse-KL null has no defined repeat (no truth sample was high quality)")
        ties = value - _TIE_RTOL * abs(value)
        return float((1 + np.count_nonzero(self.values >= ties)) / (1 + len(self.values)))

    def as_flat(self, value: float | None = None) -> dict:
        """``mode_reverse_kl_floor`` (the null mean), ``_null_std``, ``_null_q95``, ``_null_repeats``,
        and with ``value`` its ``mode_reverse_kl_p_value``."""
        out = {"mode_reverse_kl_floor": self.mean, "mode_reverse_kl_null_std": self.std,
               "mode_reverse_kl_null_q95": self.q95, "mode_reverse_kl_null_repeats": self.repeats}
        if value is not None:
            out["mode_reverse_kl_p_value"] = self.p_value(value)
        return out


def _sample_mixture(mix: _Mixture, m: int, rng: np.random.Generator) -> np.ndarray:
    """m draws (m, d) of sum_k w_k N(mu_k, Sigma_k)."""
    k = rng.choice(len(mix.weights), size=m, p=mix.weights)                    # (m,)
    z = rng.standard_normal((m, mix.means.shape[1]))                            # (m, d)
    if mix.chol is not None:
        return mix.means[k] + np.einsum("mij,mj->mi", mix.chol[k], z)           # (m, d)
    return mix.means[k] + mix.stds[k] * z


def mode_reverse_kl_null(means, *, m: int, stds=None, covs=None, weights=None, repeats: int = NULL_REPEATS,
                         seed: int = 0, threshold: float = HIGH_QUALITY_THRESHOLD) -> ReverseKLNull:
    """Null distribution of the reverse KL: `mode_coverage` of m truth samples, over R seeded repeats.

    Each repeat draws m samples from the mixture sum_k w_k N(mu_k, Sigma_k)
    itself and scores them exactly as a model's samples are scored, so the
    null includes the high-quality thinning (P = P(chi^2_d < threshold^2)
    per sample for well-separated modes) and any nearest-mode confusion of
    overlapping modes.  Its mean is about (K - 1) / (2 m P) and its law
    about chi^2_{K-1} / (2 m P) (module docstring).

    Parameters
    ----------
    means, stds, covs, weights, threshold
        The mixture and threshold, as in `mode_coverage`.
    m : int
        Samples per repeat: the model's sample size.
    repeats : int
        R (default `NULL_REPEATS`).
    seed : int
        Seed of numpy's ``default_rng``; the same seed gives the same null.

    Returns
    -------
    ReverseKLNull

    Examples
    --------
    >>> null = mode_reverse_kl_null([[0.0, 0.0], [10.0, 0.0]], stds=0.1, m=1000, repeats=200, seed=1)
    >>> null.repeats, len(null.values), bool(abs(null.mean - 1 / (2 * 1000 * (1 - math.exp(-4.5)))) < 3e-4)
    (200, 200, True)
    >>> null.p_value(0.05) == 1 / 201
    True
    """
    mix = _mixture(means, stds, covs, weights)
    m = check_positive_int("m", m)
    repeats = check_positive_int("repeats", repeats)
    threshold = check_positive("threshold", threshold)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    values = np.array([_score(_sample_mixture(mix, m, rng), mix, threshold).reverse_kl for _ in range(repeats)])
    return ReverseKLNull(values=values[~np.isnan(values)], m=m, repeats=repeats, seed=int(seed))
