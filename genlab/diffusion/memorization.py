"""Memorisation of the training set by generated samples (Gu et al. 2023, "On memorization in diffusion models").

A generated point y counts as memorised when its nearest training point is
closer than ``ratio`` (1/3, Gu et al. Sec. 3) times the distance to the
second nearest: ||y - x_(1)|| < ||y - x_(2)|| / 3.  Beside it, the mean distance
from samples to the training set against the mean distance to a fresh truth
sample of the same size: a model that copies its data sits much closer to
the former.
"""

from __future__ import annotations

import torch

from genlab.core.validation import check_points, check_positive_int

__all__ = ["nearest_distances", "memorization_fraction", "distance_to_training"]


def nearest_distances(x, ref, k: int = 2, chunk: int = 2048) -> torch.Tensor:
    """Euclidean distances from each row of x (m, d) to its k nearest rows of ref (n, d), sorted, (m, k)."""
    x = check_points("x", x).to(torch.float64)
    ref = check_points("ref", ref, dim=x.shape[1]).to(torch.float64)
    k = check_positive_int("k", k)
    if ref.shape[0] < k:
        raise ValueError(f"ref has {ref.shape[0]} points, fewer than k = {k}")
    out = [torch.cdist(x[i:i + chunk], ref).topk(k, dim=1, largest=False).values
           for i in range(0, x.shape[0], chunk)]
    return torch.cat(out)


def memorization_fraction(samples, x_train, ratio: float = 1.0 / 3.0) -> float:
    """Fraction of samples whose nearest training point is closer than ratio x the second nearest."""
    if not 0.0 < ratio < 1.0:
        raise ValueError(f"ratio must be in (0, 1), got {ratio}")
    d = nearest_distances(samples, x_train, k=2)
    return float((d[:, 0] < ratio * d[:, 1]).double().mean())


def distance_to_training(samples, x_train, x_fresh) -> dict[str, float]:
    """Mean nearest-neighbour distance of samples to the training set and to a fresh truth sample.

    ``x_fresh`` should have as many points as ``x_train`` so the two distances
    are comparable; their ratio is below 1 when samples crowd the training points.
    """
    d_train = nearest_distances(samples, x_train, k=1)[:, 0].mean()
    d_fresh = nearest_distances(samples, x_fresh, k=1)[:, 0].mean()
    return {"nn_dist_train": float(d_train), "nn_dist_fresh": float(d_fresh),
            "nn_dist_ratio": float(d_train / d_fresh)}
