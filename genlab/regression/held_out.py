"""Tuning by held-out error: a seeded train/validation split and the choice of least validation MSE.

Every tuning parameter of a regression estimator (NTK ridge's ridge, k-NN's k, a
network's stopping step) is chosen on points the fit did not see: hold out a
fraction of the n points, fit on the rest, keep the candidate of least mean
squared error on the held-out labels (hold-out validation; Gyorfi, Kohler,
Krzyzak & Walk 2002, A Distribution-Free Theory of Nonparametric Regression,
Ch. 7, splitting the sample: for bounded labels the chosen candidate's risk is the
best candidate's up to an additive O(log(number of candidates) / n_val) term).
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import torch

from genlab.core.validation import check_open_unit, check_positive_int

__all__ = ["held_out_split", "select_by_held_out"]


def held_out_split(n: int, *, fraction: float = 0.2, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, val) of a random split of range(n), val of size round(fraction n) clipped to [1, n-1].

    Parameters
    ----------
    n : int, >= 2
    fraction : float in (0, 1)
        Share of the points held out.
    generator : torch.Generator, optional
        Draws the permutation (``torch.randperm``).

    Returns
    -------
    train, val : Tensor of int64, shapes (n - n_val,) and (n_val,), each sorted; together range(n).

    Examples
    --------
    >>> train, val = held_out_split(10, generator=torch.Generator().manual_seed(0))
    >>> len(train), len(val), sorted(train.tolist() + val.tolist()) == list(range(10))
    (8, 2, True)
    """
    n = check_positive_int("n", n)
    if n < 2:
        raise ValueError(f"n must be >= 2 to hold out a point and keep one, got {n}")
    frac = check_open_unit("fraction", fraction)
    n_val = min(max(round(frac * n), 1), n - 1)
    perm = torch.randperm(n, generator=generator)
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def select_by_held_out(candidates: Iterable, fit_and_score: Callable[[object], float]) -> tuple[object, list]:
    """The candidate whose ``fit_and_score(candidate)`` (its held-out MSE) is least; ties go to the first.

    Parameters
    ----------
    candidates : iterable
        Values of the tuning parameter, in the order ties are broken.
    fit_and_score : callable
        candidate -> the held-out mean squared error of the estimator fitted with it.  A
        non-finite score (a fit that failed) never wins.

    Returns
    -------
    best : the chosen candidate
    scores : list of float, one per candidate, in order

    Examples
    --------
    >>> select_by_held_out([1, 2, 3, 4], lambda k: (k - 2.5) ** 2)
    (2, [2.25, 0.25, 0.25, 2.25])
    """
    cands: Sequence = list(candidates)
    if not cands:
        raise ValueError("candidates must not be empty")
    scores = [float(fit_and_score(c)) for c in cands]
    finite = [i for i, v in enumerate(scores) if math.isfinite(v)]
    if not finite:
        raise ValueError(f"every candidate's held-out score is non-finite: {scores}")
    best = min(finite, key=lambda i: (scores[i], i))
    return cands[best], scores
