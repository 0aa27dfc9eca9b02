"""``device=auto|cpu|cuda`` resolved once, in one place; and the memory this machine can still give."""

from __future__ import annotations

import os

import torch

__all__ = ["resolve_device", "available_memory_bytes", "check_fits_in_memory"]


def available_memory_bytes() -> int:
    """Memory the system can still give (Linux ``MemAvailable``; else free physical pages)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_fits_in_memory(what: str, need_bytes: float) -> None:
    """Refuse (ValueError, one line) before allocating ``need_bytes`` when the machine has less available.

    ``what`` names the settings that ask for it (``"n = 10^12 (x d = 2)"``).
    """
    have = available_memory_bytes()
    if need_bytes > have:
        raise ValueError(f"{what} needs at least {need_bytes / 2**30:.3g} GiB for its points alone, more than "
                         f"the {have / 2**30:.3g} GiB this machine has available; lower it")


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
