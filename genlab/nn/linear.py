"""A linear layer that holds R independent replicas as one batched weight (issue 7).

With ``replicas=None`` it is ``nn.Linear`` (weight stored transposed, (in, out)).
With ``replicas=R`` the weight is (R, in, out), the bias (R, 1, out) and the
input (R, B, in); the R products run as one ``torch.baddbmm``, so R small
models train at the cost of one larger one.  Replica r initialised with the
generator state g_r equals a plain layer initialised with g_r.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.core.validation import check_positive_int

__all__ = ["ReplicaLinear"]


class ReplicaLinear(nn.Module):
    """y = x W + b, optionally for R replicas at once.

    Parameters
    ----------
    in_features, out_features : int
    replicas : int or None
        None: x (..., in) -> (..., out).  R: x (R, B, in) -> (R, B, out).

    Initialisation is PyTorch's ``nn.Linear`` default (Kaiming-uniform with
    a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)) for weight and bias), drawn
    from ``generator`` when given.
    """

    def __init__(self, in_features: int, out_features: int, replicas: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.in_features = check_positive_int("in_features", in_features)
        self.out_features = check_positive_int("out_features", out_features)
        self.replicas = None if replicas is None else check_positive_int("replicas", replicas)
        lead = () if self.replicas is None else (self.replicas,)
        self.weight = nn.Parameter(torch.empty(*lead, in_features, out_features))
        self.bias = nn.Parameter(torch.empty(*lead, *(() if not lead else (1,)), out_features))
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        bound = 1.0 / math.sqrt(self.in_features)
        r = 1 if self.replicas is None else self.replicas
        for i in range(r):
            w = self.weight if self.replicas is None else self.weight[i]
            b = self.bias if self.replicas is None else self.bias[i]
            # Draw in nn.Linear's (out, in) order so a replica matches a plain layer.
            w.copy_(torch.empty(self.out_features, self.in_features).uniform_(
                -bound, bound, generator=generator).T)
            b.copy_(torch.empty(b.shape).uniform_(-bound, bound, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.replicas is None:
            return torch.addmm(self.bias, x.reshape(-1, self.in_features),
                               self.weight).reshape(*x.shape[:-1], self.out_features)
        return torch.baddbmm(self.bias, x, self.weight)  # (R, B, out)

    def extra_repr(self) -> str:
        return f"in={self.in_features}, out={self.out_features}, replicas={self.replicas}"
