"""The unbiased estimator of the squared maximum mean discrepancy.

References
----------
Gretton, Borgwardt, Rasch, Schoelkopf & Smola, "A kernel two-sample test",
JMLR 13 (2012), Lemma 6 (MMD^2_u) and Sec. 8 (the median heuristic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import cdist, pdist

from ._validation import as_points, check_in, check_positive, check_positive_int

__all__ = ["mmd2_unbiased", "median_bandwidth", "kernel_matrix", "KERNELS"]

KERNELS = ("gaussian", "laplacian")
# Points of the pooled sample the median heuristic looks at (a fixed, seeded subsample).
_MEDIAN_SUBSAMPLE = 1000


def median_bandwidth(x: Any, y: Any) -> float:
    """The median heuristic: median Euclidean distance between pooled points.

    Uses the pairwise distances of at most 1000 pooled points, chosen with
    ``numpy.random.default_rng(0)`` when there are more (so the value is
    deterministic).

    >>> median_bandwidth([[0.0], [1.0]], [[3.0]])
    2.0
    """
    z = np.concatenate([as_points("x", x), as_points("y", y)])
    if len(z) > _MEDIAN_SUBSAMPLE:
        z = z[np.random.default_rng(0).choice(len(z), _MEDIAN_SUBSAMPLE, replace=False)]
    h = float(np.median(pdist(z)))
    if not h > 0:
        raise ValueError("bandwidth: the median pairwise distance is 0; pass a bandwidth > 0")
    return h


def _kernel_block(a: np.ndarray, b: np.ndarray, kernel: str, h: float) -> np.ndarray:
    """k(a_i, b_j), shape (len(a), len(b)), from distances taken directly (``cdist``).

    sum_k (a_ik - b_jk)^2 is translation invariant in floating point (each difference
    is formed before it is squared), and exactly 0 on the diagonal, so k(z, z) = 1
    exactly; the expansion |a|^2 + |b|^2 - 2 a.b loses ~ |a|^2 eps to cancellation.
    """
    if kernel == "gaussian":
        return np.exp(cdist(a, b, "sqeuclidean") / (-2.0 * h * h))
    return np.exp(cdist(a, b, "euclidean") / -h)


def kernel_matrix(a: Any, b: Any, kernel: str = "gaussian", bandwidth: float = 1.0) -> np.ndarray:
    """The kernel matrix K_ij = k(a_i, b_j) of :func:`mmd2_unbiased`'s kernels.

    k(x, y) = exp(-||x - y||^2 / (2 h^2)) ("gaussian") or exp(-||x - y|| / h)
    ("laplacian"), from Euclidean distances computed directly (translation
    invariant; k(z, z) = 1 exactly).

    Parameters
    ----------
    a : array_like, shape (n, d)
    b : array_like, shape (m, d)
    kernel : {"gaussian", "laplacian"}
    bandwidth : float
        h > 0.

    Returns
    -------
    ndarray, shape (n, m)

    >>> kernel_matrix([[1e8], [1e8 + 1.0]], [[1e8]], bandwidth=1.0).ravel().tolist() == [1.0, float(np.exp(-0.5))]
    True
    """
    a = as_points("a", a)
    b = as_points("b", b, dim=a.shape[1])
    check_in("kernel", kernel, KERNELS)
    return _kernel_block(a, b, kernel, check_positive("bandwidth", bandwidth))


def _kernel_sum(a: np.ndarray, b: np.ndarray, kernel: str, h: float, chunk: int) -> float:
    """sum_{i,j} k(a_i, b_j), in row blocks so memory stays O(chunk * len(b))."""
    return float(sum(_kernel_block(a[s : s + chunk], b, kernel, h).sum() for s in range(0, len(a), chunk)))


def mmd2_unbiased(
    x: Any,
    y: Any,
    kernel: str = "gaussian",
    bandwidth: float | str = "median",
    *,
    chunk_size: int = 2048,
) -> float:
    """MMD^2_u, the unbiased estimate of the squared MMD (Gretton et al. 2012, Lemma 6).

    MMD^2_u = 1/(n(n-1)) sum_{i != j} k(x_i, x_j) + 1/(m(m-1)) sum_{i != j} k(y_i, y_j)
              - 2/(nm) sum_{i, j} k(x_i, y_j),

    unbiased for MMD^2(P, Q) = ||mu_P - mu_Q||_H^2 (so it can be negative, and
    averages to 0 when P = Q).

    Parameters
    ----------
    x : array_like or torch.Tensor, shape (n, d), n >= 2
    y : array_like or torch.Tensor, shape (m, d), m >= 2
    kernel : {"gaussian", "laplacian"}
        k(x, y) = exp(-||x - y||^2 / (2 h^2)) or exp(-||x - y|| / h), from
        distances taken directly (:func:`kernel_matrix`), so the value is
        translation invariant to rounding of the sums (1e-9 relative at offsets
        of 1e8 on exactly representable points) and k(z, z) = 1 exactly.
    bandwidth : float or "median"
        h > 0, or the median heuristic :func:`median_bandwidth` on the pooled sample.
    chunk_size : int, default 2048
        Row block of the kernel matrices; memory is O(chunk_size * max(n, m)).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0]]); y = np.array([[0.0], [1.0]])
    >>> k01 = np.exp(-0.5)   # within-sample terms k01 each, cross term (2 + 2 k01) / 4
    >>> bool(abs(mmd2_unbiased(x, y, bandwidth=1.0) - (k01 - 1.0)) < 1e-15)
    True
    """
    x = as_points("x", x)
    y = as_points("y", y, dim=x.shape[1])
    if x.shape[0] < 2:
        raise ValueError("x needs at least 2 points for MMD^2_u")
    if y.shape[0] < 2:
        raise ValueError("y needs at least 2 points for MMD^2_u")
    check_in("kernel", kernel, KERNELS)
    chunk = check_positive_int("chunk_size", chunk_size)
    if isinstance(bandwidth, str):
        check_in("bandwidth", bandwidth, ["median"])
        h = median_bandwidth(x, y)
    else:
        h = check_positive("bandwidth", bandwidth)
    n, m = x.shape[0], y.shape[0]
    # k(z, z) = exp(0) = 1 exactly (distances taken directly): the diagonal sums to n exactly.
    kxx = (_kernel_sum(x, x, kernel, h, chunk) - n) / (n * (n - 1))
    kyy = (_kernel_sum(y, y, kernel, h, chunk) - m) / (m * (m - 1))
    kxy = _kernel_sum(x, y, kernel, h, chunk) / (n * m)
    return float(kxx + kyy - 2.0 * kxy)
