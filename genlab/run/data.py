"""The n training points of a run: one draw of the truth, or one of two disjoint halves of a 2n draw.

A run's training data come from the stream ``derive_seed(seed, "data")``
(`genlab.core.seeding`).  ``data_split`` unset: the n points are
``truth.sample(n)`` from that stream, as they always were.  ``data_split = s``
in {0, 1}: the stream draws 2n i.i.d. points once, and split s is the points
with index in [s n, (s + 1) n).  The two splits are then disjoint by
construction (a partition of one i.i.d. sample, whatever the truth) and
independent, and each is n i.i.d. points of the truth.  Nothing else of the
run moves: the network's initialisation, its minibatches, times and noise
(``derive_seed(seed, "init")``, ``"train"``) and its samples (``"sample"``)
derive from ``seed`` alone, so two runs that differ only in ``data_split``
are "the same model trained on disjoint data sets" (Kadkhodaie, Guth,
Simoncelli & Mallat, ICLR 2024, Sec. 2: two networks trained on
non-overlapping subsets of one data set).
"""

from __future__ import annotations

import torch

from genlab.core.seeding import derive_seed, make_generator

__all__ = ["DATA_SPLITS", "training_points", "drawn_points", "check_data_split"]

#: the values ``data_split`` may take besides null: which of two disjoint training sets
DATA_SPLITS = (0, 1)


def check_data_split(data_split, fits_truth: bool, estimator: str) -> None:
    """Refuse a ``data_split`` outside {null, 0, 1}, and any split for a family that draws its own data."""
    if data_split is None:
        return
    if isinstance(data_split, bool) or data_split not in DATA_SPLITS:
        raise ValueError(f"data_split must be null, 0 or 1 (which of two disjoint training sets of n points), "
                         f"got {data_split!r}")
    if not fits_truth:
        raise ValueError(f"data_split: estimator '{estimator}' draws its own data, not n points of the truth; "
                         f"leave data_split null")


def drawn_points(n: int, data_split) -> int:
    """How many points the data stream draws: n, or 2n when a split is asked for."""
    return n if data_split is None else 2 * n


def training_points(truth, n: int, seed: int, data_split=None) -> torch.Tensor:
    """The run's n training points, shape (n, d), on the CPU (see the module docstring).

    Parameters
    ----------
    truth : Distribution
        ``truth.sample(k, generator=...)`` draws k i.i.d. points.
    n : int
        Training size.
    seed : int
        The run's seed; the points come from ``derive_seed(seed, "data")``.
    data_split : None, 0 or 1
        None: ``truth.sample(n)``; s: rows [s n, (s + 1) n) of ``truth.sample(2 n)``.
    """
    g = make_generator(derive_seed(seed, "data"))
    if data_split is None:
        return truth.sample(n, generator=g)
    x = truth.sample(2 * n, generator=g)          # (2n, d)
    return x[data_split * n:(data_split + 1) * n].clone()  # not a view that keeps the other split alive
