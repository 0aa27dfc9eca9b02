"""The (n, seed) table a rate fit reads: wide (k, S) arrays or long format, one row per run.

`metrics.fit_rate` takes errors either as a table of shape (k, S) -- sample
size i, seed s -- or in the long format a sweep's ``rates.csv`` holds (``ns``
repeated, one value per run).  This module turns both into the same wide
table so the inference sees seed curves: column s is one seed's run at every n.
"""

from __future__ import annotations

from typing import Any

import warnings

import numpy as np
from scipy import stats

__all__ = ["rate_table", "row_means", "row_mean_ci"]


def _as_float(name: str, value: Any) -> np.ndarray:
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric, got {type(value).__name__}: {exc}") from None


def _long_to_wide(n_arr: np.ndarray, values: np.ndarray, seeds: Any) -> tuple[np.ndarray, np.ndarray, list]:
    """Distinct ns (k,), table (k, S) and the column keys, from one value per run."""
    distinct = np.unique(n_arr)
    if seeds is None:
        # replicate r of each n is the r-th row with that n, in the order given
        keys = []
        cols = np.empty(len(n_arr), dtype=np.int64)
        seen: dict[float, int] = {}
        for j, n in enumerate(n_arr):
            cols[j] = seen.get(n, 0)
            seen[n] = cols[j] + 1
        keys = list(range(int(cols.max()) + 1))
    else:
        sd = np.asarray(seeds)
        if sd.shape != n_arr.shape:
            raise ValueError(f"seeds must have one entry per row, shape {n_arr.shape}, got {sd.shape}")
        keys = sorted(set(sd.tolist()))
        index = {k: c for c, k in enumerate(keys)}
        cols = np.array([index[v] for v in sd.tolist()], dtype=np.int64)
    rows = np.searchsorted(distinct, n_arr)
    if len(set(zip(rows.tolist(), cols.tolist()))) != len(n_arr):
        raise ValueError("seeds: two rows share the same (n, seed)")
    table = np.full((len(distinct), len(keys)), np.nan)
    table[rows, cols] = values
    return distinct, table, keys


def rate_table(ns: Any, errors: Any, floors: Any = None, seeds: Any = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Sorted distinct ns (k,), errors (k, S) and floors (k, S), (k, 1) or None.

    Parameters
    ----------
    ns : array_like, shape (k,) or (N,)
        Distinct sample sizes (wide format), or one entry per run (long format:
        some n repeated, ``errors`` of the same shape (N,)).
    errors : array_like, shape (k, S), (k,) or (N,)
        NaN marks a missing run.
    floors : float or array_like, optional
        Scalar; shape (k,) or (k, S) in wide format; shape (N,) in long format.
    seeds : array_like of shape (N,), optional
        Long format only: the seed of each row, so that columns are seed
        curves.  Without it the r-th row with a given n is replicate r.

    Returns
    -------
    ns, errors, floors
        Rows sorted by n.  floors is None when not given, of shape (k, 1) when
        one floor per n was given (treated as known), else (k, S).

    Examples
    --------
    >>> n, e, f = rate_table([200, 100, 200, 100], [0.5, 1.0, 0.6, 1.1], seeds=[0, 0, 1, 1])
    >>> n.tolist(), e.tolist(), f
    ([100.0, 200.0], [[1.0, 1.1], [0.5, 0.6]], None)
    """
    n_arr = _as_float("ns", ns)
    if n_arr.ndim != 1 or n_arr.size == 0:
        raise ValueError(f"ns must be a non-empty 1-D array, got shape {n_arr.shape}")
    if not np.isfinite(n_arr).all() or (n_arr <= 0).any():
        raise ValueError("ns must be finite and > 0")
    err = _as_float("errors", errors)
    if np.isinf(err).any():
        raise ValueError("errors contains inf")
    fa = None if floors is None else _as_float("floors", floors)
    if fa is not None and np.isinf(fa).any():
        raise ValueError("floors contains inf")
    long = len(np.unique(n_arr)) != len(n_arr)
    if long:
        if err.shape != n_arr.shape:
            raise ValueError(f"ns has repeated values (long format): errors must have its shape {n_arr.shape}, "
                             f"got {err.shape}; in wide format ns must be distinct")
        n_sorted, err_t, keys = _long_to_wide(n_arr, err, seeds)
        if fa is None:
            fl_t = None
        elif fa.ndim == 0:
            fl_t = np.full((len(n_sorted), 1), float(fa))
        elif fa.shape == n_arr.shape:
            _, fl_t, _ = _long_to_wide(n_arr, fa, seeds)
        else:
            raise ValueError(f"floors must be a scalar or have one entry per row {n_arr.shape}, got {fa.shape}")
        return n_sorted, err_t, _check_floor_nan(fl_t, err_t)
    if seeds is not None:
        raise ValueError("seeds is for long format (ns repeated); a wide table's columns are the seeds")
    k = len(n_arr)
    if err.ndim == 1:
        err = err[:, None]
    if err.ndim != 2 or err.shape[0] != k:
        raise ValueError(f"errors must have shape (k, S) or (k,) with k = len(ns) = {k}, got {np.shape(errors)}")
    if fa is None:
        fl = None
    elif fa.ndim == 0:
        fl = np.full((k, 1), float(fa))
    elif fa.shape == (k,):
        fl = fa[:, None].copy()
    elif fa.shape == err.shape:
        fl = fa.copy()
    else:
        raise ValueError(f"floors must be a scalar or have shape ({k},) or {err.shape}, got {fa.shape}")
    order = np.argsort(n_arr)
    return n_arr[order], err[order], _check_floor_nan(None if fl is None else fl[order], err[order])


def _check_floor_nan(fl: np.ndarray | None, err: np.ndarray) -> np.ndarray | None:
    if fl is None or np.isnan(fl).all():
        return None  # a metric without a floor (all NaN in a sweep's table)
    if fl.shape[1] == 1:
        if np.isnan(fl).any():
            raise ValueError("floors contains NaN")
        return fl
    # a per-run floor may be missing only where the run is
    if (np.isnan(fl) & ~np.isnan(err)).any():
        raise ValueError("floors is NaN for a run whose error is given")
    return fl


def row_means(table: np.ndarray) -> np.ndarray:
    """Mean of each row of a (k, S) table over its non-NaN entries; NaN, without a warning,
    for an x whose runs are all missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(table, axis=1)


def row_mean_ci(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row of a (k, S) table (x value i, seed s): the mean over its non-NaN runs, the half-width of its 95%
    t-interval, t_{c-1, 0.975} sd / sqrt(c) (NaN where fewer than 2 runs), and the run count c.

    The seed mean's interval: the spread between seeds includes the training randomness.  genlab's rate
    figure and its rates.md / rates.tex tables both show it.
    """
    count = np.sum(np.isfinite(table), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sd = np.nanstd(table, axis=1, ddof=1)
    half = np.full(len(table), np.nan)
    two = count >= 2
    half[two] = stats.t.ppf(0.975, count[two] - 1) * sd[two] / np.sqrt(count[two])
    return row_means(table), half, count
