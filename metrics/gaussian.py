"""The 2-Wasserstein distance between Gaussians in closed form (Bures).

W_2^2(N(m1, S1), N(m2, S2)) = ||m1 - m2||^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2}).

References
----------
Dowson & Landau, "The Frechet distance between multivariate normal
distributions", J. Multivariate Anal. 12 (1982); Givens & Shortt (1984);
Peyre & Cuturi (2019), Remark 2.31.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import _to_numpy

__all__ = ["gaussian_w2"]

# Relative tolerance for symmetry and for negative eigenvalues of a covariance.
_PSD_RTOL = 1e-10


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
    """Symmetric square root by eigendecomposition, tiny negative eigenvalues set to 0."""
    w, v = np.linalg.eigh(0.5 * (s + s.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _cov(name: str, s: Any, d: int) -> np.ndarray:
    a = _to_numpy(name, s)
    if a.ndim == 0 and d == 1:
        a = a.reshape(1, 1)
    if a.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf")
    scale = max(float(np.abs(a).max()), np.finfo(float).tiny)
    if np.abs(a - a.T).max() > _PSD_RTOL * scale:
        raise ValueError(f"{name} is not symmetric")
    if np.linalg.eigvalsh(0.5 * (a + a.T)).min() < -_PSD_RTOL * scale * d:
        raise ValueError(f"{name} is not positive semi-definite")
    return a


def gaussian_w2(m1: Any, S1: Any, m2: Any, S2: Any) -> float:
    """W_2 (not squared) between N(m1, S1) and N(m2, S2), cost ||x - y||^2 without 1/2.

    Parameters
    ----------
    m1, m2 : array_like, shape (d,) (a scalar for d = 1)
    S1, S2 : array_like, shape (d, d) (a scalar for d = 1), symmetric PSD

    Returns
    -------
    float

    Examples
    --------
    >>> round(gaussian_w2(0.0, 1.0, 3.0, 4.0) ** 2, 12)   # 3^2 + (1 - 2)^2
    10.0
    """
    m1 = np.atleast_1d(_to_numpy("m1", m1))
    m2 = np.atleast_1d(_to_numpy("m2", m2))
    if m1.ndim != 1 or m1.size == 0:
        raise ValueError(f"m1 must have shape (d,), got {m1.shape}")
    d = m1.shape[0]
    if m2.shape != (d,):
        raise ValueError(f"m2 must have shape ({d},), got {m2.shape} (mismatched dimensions)")
    for name, v in (("m1", m1), ("m2", m2)):
        if not np.isfinite(v).all():
            raise ValueError(f"{name} contains NaN or inf")
    s1, s2 = _cov("S1", S1, d), _cov("S2", S2, d)
    r1 = _psd_sqrt(s1)
    cross = _psd_sqrt(r1 @ s2 @ r1)
    w2sq = float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(cross))
    return float(np.sqrt(max(w2sq, 0.0)))
