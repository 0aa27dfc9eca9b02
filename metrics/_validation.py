"""Private input checks: convert once at the boundary, fail early with one line.

Every public function of :mod:`metrics` converts its array arguments here, to
C-contiguous float64 numpy arrays, and raises ``ValueError`` whose message
starts with the argument's name when the input is unusable (wrong shape,
empty, NaN or inf, mismatched dimension, bad weights, out-of-range numbers).
numpy arrays, torch tensors (any device, with or without grad) and nested
lists are accepted alike.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "log_density_values",
    "as_points",
    "as_vector",
    "as_weights",
    "as_weight_columns",
    "input_eps",
    "check_positive_int",
    "check_positive",
    "check_nonnegative",
    "check_probability",
    "check_p",
    "check_in",
    "check_callable",
]

#: Relative tolerance on the total mass of a float64 probability vector (:func:`as_weights`);
#: a vector stored in a coarser float type gets ``n`` times its machine epsilon when that is larger.
WEIGHT_SUM_RTOL = 1e-8
_EPS64 = float(np.finfo(np.float64).eps)


def _to_numpy(name: str, x: Any) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a numeric array, got {type(x).__name__}") from None
    return arr


def as_points(name: str, x: Any, dim: int | None = None) -> np.ndarray:
    """``x`` as a float64 array of shape (n, d), or a ``ValueError`` naming ``name``.

    A 1-D input of length n is read as n points in one dimension.

    >>> as_points("x", [1.0, 2.0]).shape
    (2, 1)
    """
    arr = _to_numpy(name, x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d) or (n,), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 points)")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has dimension 0")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} has dimension {arr.shape[1]}, expected {dim} (mismatched dimensions)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)


def as_vector(name: str, x: Any, n: int | None = None, *, allow_nonfinite: bool = False) -> np.ndarray:
    """``x`` as a float64 array of shape (n,), or a ``ValueError`` naming ``name``."""
    arr = _to_numpy(name, x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n}")
    if not allow_nonfinite and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)


def input_eps(x: Any) -> float:
    """Machine epsilon of ``x``'s floating dtype; float64's for lists, integers and python floats.

    Read before conversion (numpy arrays and torch tensors alike), so that a tolerance can
    follow the precision the caller computed in.

    >>> input_eps(np.ones(3, dtype=np.float32)) == float(np.finfo(np.float32).eps)
    True
    """
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return _EPS64
    if type(dtype).__module__ == "torch":  # torch is imported already: x is a tensor
        import torch

        return float(torch.finfo(dtype).eps) if dtype.is_floating_point else _EPS64
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return _EPS64
    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else _EPS64


def _check_mass(name: str, arr: np.ndarray) -> float:
    if (arr < 0).any():
        raise ValueError(f"{name} has negative entries")
    total = float(arr.sum())
    if not total > 0:
        raise ValueError(f"{name} sums to 0 (all weights zero); weights need a positive total")
    return total


def as_weights(name: str, w: Any, n: int, *, normalise: bool = False) -> np.ndarray:
    """Probability weights of length ``n`` as float64 summing to 1 (``None`` gives uniform 1/n).

    Raises when a weight is negative, NaN or inf, or when all are zero. With
    ``normalise=True`` any non-negative vector with a positive sum is a measure's
    weights and is divided by its float64 sum (as POT and scipy take them).
    Otherwise (probability vectors proper, e.g. mixture weights) the sum must be 1
    within ``max(WEIGHT_SUM_RTOL, n * eps)``, eps the machine epsilon of the
    input's dtype: a float32 softmax of length n sums to 1 only within about
    n * eps32 / 2 (each entry rounded, plus the rounding of its float32
    normaliser), which 1e-8 refused for 17 of 50 length-10 vectors. Either way
    the result is divided by its float64 sum.
    """
    if w is None:
        return np.full(n, 1.0 / n)
    eps = input_eps(w)
    arr = as_vector(name, w, n)
    total = _check_mass(name, arr)
    if not normalise:
        tol = max(WEIGHT_SUM_RTOL, n * eps)
        if abs(total - 1.0) > tol:
            raise ValueError(f"{name} must sum to 1 within {tol:.3g} (normalised), got sum {total!r}")
    return arr / total


def as_weight_columns(name: str, w: Any, n: int) -> np.ndarray:
    """Weights of shape (n,) or (n, nb), each column normalised to 1 in float64 (``None``: uniform).

    A (n, nb) array with nb >= 2 is nb measures on the same n points (POT's
    ``emd2(a, b, M)`` with b of shape (n, nb)); a (n, 1) array is one measure and
    comes back with shape (n,). Each column must be non-negative and finite with a
    positive sum; the message names the column.
    """
    if w is None:
        return np.full(n, 1.0 / n)
    arr = _to_numpy(name, w)
    if arr.ndim < 2 or (arr.ndim == 2 and arr.shape[1] == 1):
        return as_weights(name, w, n, normalise=True)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape ({n},) or ({n}, nb), got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n} (one per point)")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    out = np.empty_like(arr)
    for k in range(arr.shape[1]):
        out[:, k] = arr[:, k] / _check_mass(f"{name} column {k}", arr[:, k])
    return np.ascontiguousarray(out)


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not (
        isinstance(value, (int, np.integer)) or (isinstance(value, float) and value.is_integer())
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _as_float(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0, or a ``ValueError`` naming ``name``."""
    v = _as_float(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def check_nonnegative(name: str, value: Any) -> float:
    """``value`` as a finite float >= 0, or a ``ValueError`` naming ``name``."""
    v = _as_float(name, value)
    if not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float strictly inside (0, 1), e.g. a significance level."""
    v = _as_float(name, value)
    if not 0 < v < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {value!r}")
    return v


def check_p(p: Any) -> float:
    """The Wasserstein order: a finite number >= 1."""
    v = _as_float("p", p)
    if v < 1:
        raise ValueError(f"p must be >= 1, got {p!r}")
    return v


def check_in(name: str, value: Any, allowed) -> Any:
    """Raise unless ``value`` is one of ``allowed``; the message lists them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_callable(name: str, f: Any) -> Any:
    """Raise unless ``f`` is callable."""
    if not callable(f):
        raise ValueError(f"{name} must be callable, got {type(f).__name__}")
    return f


def log_density_values(name: str, out: Any, n: int) -> np.ndarray:
    """A log-density callable's output for n points as float64 (n,), or a ValueError naming it."""
    if hasattr(out, "detach"):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    if out.shape[0] != n:
        raise ValueError(f"{name} must map (n, d) points to (n,) log-densities, got shape {out.shape}")
    return out
