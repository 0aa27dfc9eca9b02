"""Shared quadrature and sampling helpers for the distribution tests (as fixtures,
since --import-mode=importlib keeps test modules from importing each other)."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _gauss_legendre(a: float, b: float, panels: int, order: int = 10):
    """Composite Gauss-Legendre nodes and weights on [a, b] (float64 tensors).

    On a panel of width h the rule integrates polynomials of degree 2*order - 1
    exactly; its error is h^{2m+1} (m!)^4 / ((2m+1) ((2m)!)^3) * max|f^{(2m)}|.
    """
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, panels + 1)
    half = 0.5 * np.diff(edges)[:, None]
    mid = 0.5 * (edges[1:] + edges[:-1])[:, None]
    nodes = (mid + half * x[None, :]).ravel()
    weights = (half * w[None, :]).ravel()
    return torch.as_tensor(nodes), torch.as_tensor(weights)


@pytest.fixture
def gauss_legendre():
    return _gauss_legendre


def _integrate_box(f, lo, hi, panels: int, order: int = 10, chunk: int = 1 << 16) -> float:
    """Tensor-product Gauss-Legendre integral of f: (n, d) -> (n,) over the box [lo, hi]."""
    grids = [_gauss_legendre(a, b, panels, order) for a, b in zip(lo, hi)]
    mesh = torch.meshgrid(*[g[0] for g in grids], indexing="ij")
    wmesh = torch.meshgrid(*[g[1] for g in grids], indexing="ij")
    pts = torch.stack([m.reshape(-1) for m in mesh], dim=1)
    wts = torch.stack([m.reshape(-1) for m in wmesh], dim=1).prod(1)
    total = 0.0
    for p, w in zip(pts.split(chunk), wts.split(chunk)):
        total += float((f(p) * w).sum())
    return total


@pytest.fixture
def integrate_box():
    return _integrate_box


@pytest.fixture
def gen():
    """``gen(seed)``: a fresh seeded CPU torch.Generator (no global RNG state)."""
    return lambda seed=0: torch.Generator().manual_seed(seed)
