r"""k-nearest-neighbour regression and the k its rate theory chooses.

m_n(x) = (1/k) sum_{i in N_k(x)} y_i, N_k(x) the indices of the k training inputs
nearest to x in Euclidean distance (Gyorfi, Kohler, Krzyzak & Walk 2002, A
Distribution-Free Theory of Nonparametric Regression, Ch. 6).  Its excess risk
is at most sigma^2 / k (variance) plus C^2 (k/n)^{2s/d} (bias) for an s-Hölder
f* with s <= 1 on a bounded input set (Thm 6.2 there, stated for Lipschitz f*,
s = 1, and d >= 3), so k ~ n^{2s/(2s+d)} gives the rate n^{-2s/(2s+d)}.  An
average of labels cannot use smoothness above 1: the bias bound stays
(k/n)^{2/d} for s > 1.
"""

from __future__ import annotations

import math

import torch

from genlab.core.validation import check_points, check_positive, check_positive_int

__all__ = ["KNNRegressor", "knn_theory_k"]

# Test points per distance block: the (chunk, n) float64 block stays near 32 MiB.
_BLOCK_ENTRIES = 1 << 22


def knn_theory_k(n: int, d: int, s: float) -> int:
    """k = ceil(n^{2 s'/(2 s' + d)}) with s' = min(s, 1), clipped to [1, n].

    The k that balances the variance sigma^2/k against the bias (k/n)^{2s'/d} (module
    docstring; Gyorfi et al. 2002, Thm 6.2).  s is capped at 1 because the bias bound
    of a local average does not improve beyond Lipschitz.

    >>> knn_theory_k(1000, 1, 1.0)       # ceil(1000^(2/3))
    100
    >>> knn_theory_k(1000, 1, 3.0) == knn_theory_k(1000, 1, 1.0)
    True
    """
    n = check_positive_int("n", n)
    d = check_positive_int("d", d)
    s_eff = min(check_positive("s", s), 1.0)
    # the tiny relative slack keeps an exact integer power (1000^(2/3) = 100) from rounding up to 101
    k = math.ceil(n ** (2.0 * s_eff / (2.0 * s_eff + d)) * (1.0 - 1e-12))
    return int(min(max(k, 1), n))


class KNNRegressor:
    """k-nearest-neighbour regression on fixed training points.

    Parameters
    ----------
    x : Tensor, shape (n, d)
        Training inputs.
    y : Tensor, shape (n,)
        Training labels.
    k : int in [1, n]
        Neighbours averaged.

    Notes
    -----
    Distances come from ``torch.cdist`` (its matrix-product form, rounding ~ eps |x|^2 in
    the squared distance): neighbours closer than ~1e-8 |x| may be ranked either way, and
    exact ties are broken by ``torch.topk``.  A training input is its own nearest
    neighbour (distance 0 up to that rounding), so k = 1 interpolates the training labels
    at distinct inputs.

    Examples
    --------
    >>> x = torch.tensor([[0.0], [1.0], [2.0]], dtype=torch.float64)
    >>> KNNRegressor(x, torch.tensor([0.0, 1.0, 5.0], dtype=torch.float64), 2).predict(torch.tensor([[0.1]]))
    tensor([0.5000], dtype=torch.float64)
    """

    def __init__(self, x, y, k: int):
        self.x = check_points("x", x).to(torch.float64)
        n = self.x.shape[0]
        self.y = torch.as_tensor(y).to(torch.float64)
        if self.y.shape != (n,):
            raise ValueError(f"y must have shape ({n},) to match x, got {tuple(self.y.shape)}")
        if not bool(torch.isfinite(self.y).all()):
            raise ValueError("y contains NaN or inf")
        self.k = check_positive_int("k", k)
        if self.k > n:
            raise ValueError(f"k must be <= n = {n} (the training points), got {k}")

    def predict(self, x) -> torch.Tensor:
        """The mean label of the k nearest training inputs to each row of x; (n_test, d) -> (n_test,)."""
        x = check_points("x", x, self.x.shape[1]).to(torch.float64)
        chunk = max(1, _BLOCK_ENTRIES // self.x.shape[0])
        out = torch.empty(x.shape[0], dtype=torch.float64)
        for start in range(0, x.shape[0], chunk):
            dist = torch.cdist(x[start:start + chunk], self.x)                       # (chunk, n)
            idx = torch.topk(dist, self.k, dim=1, largest=False).indices             # (chunk, k)
            out[start:start + chunk] = self.y[idx].mean(dim=1)
        return out
