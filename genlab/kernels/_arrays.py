"""Array plumbing shared by the kernel modules: numpy or torch in, float64 torch inside, same kind out.

Also the memory guard: a float64 matrix larger than ``max_bytes`` is refused
before it is allocated.
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: Default limit on one float64 matrix built here (2 GiB: a 16384 x 16384 Gram matrix).
DEFAULT_MAX_BYTES = 2 * 1024 ** 3


def as_float64(x, name: str, ndim: tuple[int, ...] = (2,)) -> torch.Tensor:
    """``x`` (numpy array, torch tensor or nested list) as a float64 tensor, checking its rank and finiteness."""
    t = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=np.float64))
    t = t.to(torch.float64)
    if t.ndim not in ndim:
        want = " or ".join(str(k) for k in ndim)
        raise ValueError(f"{name} must have {want} dimensions, got shape {tuple(t.shape)}")
    if t.numel() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} has non-finite entries")
    return t


def check_number(name: str, value, *, positive: bool) -> float:
    """``value`` as a finite float, > 0 (``positive``) or >= 0; a ValueError naming it otherwise."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a finite number {'> 0' if positive else '>= 0'}, got {value!r}")
    return v


def is_torch(x) -> bool:
    return isinstance(x, torch.Tensor)


def like(result: torch.Tensor, torch_out: bool):
    """Return ``result`` as a torch tensor or, when the caller gave numpy, as a numpy array."""
    return result if torch_out else result.cpu().numpy()


def check_matrix_bytes(rows: int, cols: int, max_bytes: int, what: str = "Gram matrix") -> None:
    """Refuse a (rows, cols) float64 matrix larger than ``max_bytes``, before anything is allocated."""
    if isinstance(max_bytes, bool) or int(max_bytes) != max_bytes or max_bytes <= 0:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    need = 8 * int(rows) * int(cols)
    if need > max_bytes:
        raise ValueError(f"{what} of {rows} x {cols} float64 needs {need / 2 ** 30:.3g} GiB > max_bytes = "
                         f"{int(max_bytes)} ({max_bytes / 2 ** 30:.3g} GiB); use fewer points or a larger max_bytes")
