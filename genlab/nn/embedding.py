"""Sinusoidal embedding of a scalar noise level (Vaswani et al. 2017, Sec. 3.5; Ho et al. 2020, App. B)."""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.core.validation import check_positive, check_positive_int

__all__ = ["SinusoidalEmbedding"]


class SinusoidalEmbedding(nn.Module):
    """``[cos(scale tau w_k), sin(scale tau w_k)]`` with w_k = max_period^{-k/half}, k < half.

    Parameters
    ----------
    dim : int
        Output width (even).
    max_period : float
        Longest period, as in the transformer's positional encoding (10000).
    scale : float
        Multiplies the input first.  Ho et al. feed integer timesteps in
        [0, 1000); genlab feeds c_noise = log(sigma_t / alpha_t) (range about
        [-4, 6]), so ``scale = 100`` puts it on a comparable footing.

    Shapes: tau (B,) or () -> (B, dim); any leading shape (...,) -> (..., dim).
    """

    def __init__(self, dim: int, max_period: float = 10000.0, scale: float = 100.0):
        super().__init__()
        dim = check_positive_int("time_embed_dim", dim)
        if dim % 2:
            raise ValueError(f"time_embed_dim must be even, got {dim}")
        self.dim = dim
        self.scale = check_positive("scale", scale)
        half = dim // 2
        freqs = torch.exp(-math.log(check_positive("max_period", max_period))
                          * torch.arange(half, dtype=torch.float64) / half)
        self.register_buffer("freqs", freqs.to(torch.get_default_dtype()), persistent=False)

    def forward(self, tau: torch.Tensor) -> torch.Tensor:
        args = (self.scale * tau)[..., None].to(self.freqs.dtype) * self.freqs  # (..., half)
        return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)             # (..., dim)
