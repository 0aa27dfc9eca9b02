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
    "check_positive_int",
    "check_positive",
    "check_nonnegative",
    "check_probability",
    "check_p",
    "check_in",
    "check_callable",
]

#: Relative tolerance on the total mass of a weight vector.
WEIGHT_SUM_RTOL = 1e-8


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


def as_weights(name: str, w: Any, n: int) -> np.ndarray:
    """Probability weights of length ``n`` (``None`` gives uniform 1/n).

    Raises when a weight is negative, NaN or inf, or when they do not sum to 1
    within a relative tolerance of ``WEIGHT_SUM_RTOL``.
    """
    if w is None:
        return np.full(n, 1.0 / n)
    arr = as_vector(name, w, n)
    if (arr < 0).any():
        raise ValueError(f"{name} has negative entries")
    total = float(arr.sum())
    if abs(total - 1.0) > WEIGHT_SUM_RTOL:
        raise ValueError(f"{name} must sum to 1 (normalised), got sum {total!r}")
    return arr / total


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
