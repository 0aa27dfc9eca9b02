"""``device=auto|cpu|cuda`` resolved once, in one place."""

from __future__ import annotations

import torch

__all__ = ["resolve_device"]


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """Map ``auto`` to cuda when available, else cpu; refuse cuda without a GPU.

    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={name} was asked for, but torch sees no CUDA device")
        return torch.device(name)
    raise ValueError(f"device must be auto, cpu or cuda, got {name!r}")
