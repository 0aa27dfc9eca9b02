"""Argument checks that fail early with one line naming the argument.

Every public constructor and function of genlab validates its inputs with
these helpers, so that bad input surfaces as a ``ValueError`` whose message
starts with the argument's name, and the scripts can print it as one line.
"""

from __future__ import annotations

import math
from typing import Any

import torch

__all__ = [
    "check_positive_int",
    "check_positive",
    "check_nonnegative",
    "check_open_unit",
    "check_real",
    "check_finite",
    "check_in",
    "check_points",
    "error_line",
    "is_number",
    "in_section",
]


def error_line(error: Any) -> str:
    """The one line a script prints for an error: ``error: <message>``, its whitespace runs folded to one space.

    >>> error_line(ValueError("n must be\\n  positive"))
    'error: n must be positive'
    """
    return "error: " + " ".join(str(error).split())


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (
        isinstance(value, float) and value.is_integer()
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number."""
    return _as_float(name, value)


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not finite and > 0."""
    v = _as_float(name, value)
    if not v > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise if it is not finite and >= 0."""
    v = _as_float(name, value)
    if not v >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def check_open_unit(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise unless it is a number strictly between 0 and 1 (a fraction, a level)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    return v


def check_in(name: str, value: Any, allowed) -> Any:
    """Raise unless ``value`` is one of ``allowed``; the message lists them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")
    return value


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if the tensor holds NaN or inf."""
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf")
    return x


def check_points(name: str, x: Any, dim: int | None = None) -> torch.Tensor:
    """Return ``x`` as a tensor of shape (n, dim), or raise naming ``name``.

    Accepts numpy arrays and tensors; a 1-D input is read as n points in
    one dimension only when ``dim == 1``.
    """
    t = torch.as_tensor(x)
    if t.ndim == 1 and dim == 1:
        t = t[:, None]
    if t.ndim != 2:
        raise ValueError(f"{name} must have shape (n, d), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} is empty (0 points)")
    if dim is not None and t.shape[1] != dim:
        raise ValueError(f"{name} has dimension {t.shape[1]}, expected {dim}")
    if t.is_floating_point():
        check_finite(name, t)
    return t


def _as_float(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def is_number(text: str) -> bool:
    """Whether ``text`` reads as a float (a config value that may be a number or a rule's name)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def in_section(section: str, check):
    """``check()``, its ValueError's message prefixed by ``section.``, so it names the key as a recipe or
    the command line spells it (``gan.lr must be > 0``)."""
    try:
        return check()
    except ValueError as exc:
        raise ValueError(f"{section}.{exc}") from None
