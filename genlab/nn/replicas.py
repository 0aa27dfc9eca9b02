"""Stack R single networks into one replica-batched network, and take replica r back out (issue 7).

A replica-batched network (``TimeMLP(replicas=R)``, built of ``ReplicaLinear``)
holds every parameter with a leading replica axis: a single network's weight
(in, out) is row r of the batched (R, in, out), its bias (out,) row r of
(R, 1, out).  ``stack_replicas`` copies R independently initialised single
networks into such a batched one, so replica r starts exactly where training
network r alone would start; ``replica`` copies row r back into a single
network.  Parameters are matched by name, so any module whose replica-batched
form keeps the single form's parameter names works.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["stack_replicas", "replica", "replica_count"]


def replica_count(batched: nn.Module) -> int:
    """R, the leading axis shared by every parameter of ``batched``; ValueError if they disagree."""
    sizes = {p.shape[0] for p in batched.parameters() if p.ndim}
    if len(sizes) != 1:
        raise ValueError(f"not a replica-batched module: parameters have leading sizes {sorted(sizes)}")
    return sizes.pop()


@torch.no_grad()
def stack_replicas(singles: list[nn.Module], batched: nn.Module) -> nn.Module:
    """Copy ``singles[r]``'s parameters into replica r of ``batched`` (in place); return ``batched``.

    Shapes: a single parameter of shape s goes to ``batched``'s (R, *s') with
    prod(s') = prod(s) (the bias's extra broadcast axis).
    """
    params = dict(batched.named_parameters())
    R = replica_count(batched)
    if len(singles) != R:
        raise ValueError(f"{len(singles)} networks for a batched network of {R} replicas")
    for r, single in enumerate(singles):
        own = dict(single.named_parameters())
        if own.keys() != params.keys():
            raise ValueError("the single and batched networks have different parameters")
        for name, p in own.items():
            params[name][r].copy_(p.reshape(params[name].shape[1:]))
    return batched


@torch.no_grad()
def replica(batched: nn.Module, r: int, single: nn.Module) -> nn.Module:
    """Copy replica r of ``batched`` into ``single`` (in place, same device and dtype); return ``single``."""
    params = dict(batched.named_parameters())
    for name, p in single.named_parameters():
        p.copy_(params[name][r].reshape(p.shape))
    return single
