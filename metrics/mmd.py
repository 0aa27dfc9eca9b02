"""The unbiased estimator of the squared maximum mean discrepancy.

References
----------
Gretton, Borgwardt, Rasch, Schoelkopf & Smola, "A kernel two-sample test",
JMLR 13 (2012), Lemma 6 (MMD^2_u) and Sec. 8 (the median heuristic).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial.distance import pdist

from ._validation import as_points, check_in, check_positive, check_positive_int

__all__ = ["mmd2_unbiased", "median_bandwidth", "KERNELS"]

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


def _kernel_sum(a: np.ndarray, b: np.ndarray, kernel: str, h: float, chunk: int) -> float:
    """sum_{i,j} k(a_i, b_j), in row blocks so memory stays O(chunk * len(b))."""
    total = 0.0
    b2 = np.einsum("ij,ij->i", b, b)
    for s in range(0, len(a), chunk):
        ab = a[s : s + chunk]
        d2 = np.einsum("ij,ij->i", ab, ab)[:, None] + b2[None, :] - 2.0 * ab @ b.T  # (c, m)
        np.maximum(d2, 0.0, out=d2)
        if kernel == "gaussian":
            total += float(np.exp(-d2 / (2.0 * h * h)).sum())
        else:
            total += float(np.exp(-np.sqrt(d2) / h).sum())
    return total


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
        k(x, y) = exp(-||x - y||^2 / (2 h^2)) or exp(-||x - y|| / h).
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
    # k(z, z) = 1 for both kernels: remove the diagonal from the within-sample sums.
    kxx = (_kernel_sum(x, x, kernel, h, chunk) - n) / (n * (n - 1))
    kyy = (_kernel_sum(y, y, kernel, h, chunk) - m) / (m * (m - 1))
    kxy = _kernel_sum(x, y, kernel, h, chunk) / (n * m)
    return float(kxx + kyy - 2.0 * kxy)
