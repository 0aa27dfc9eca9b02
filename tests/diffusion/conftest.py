"""Shared fixtures: a small anisotropic 2-D mixture and W1 with its noise floor."""

import ot
import pytest
import torch

from genlab.distributions.gaussian import GaussianMixture


@pytest.fixture(scope="session")
def mixture():
    """Three separated anisotropic modes with unequal weights (cheap to score)."""
    c = lambda a, b, r: torch.tensor([[a, r], [r, b]], dtype=torch.float64)  # noqa: E731
    return GaussianMixture([0.5, 0.3, 0.2], [[-2.0, 0.0], [1.5, 1.5], [1.0, -2.0]],
                           torch.stack([c(0.09, 0.02, 0.02), c(0.04, 0.16, -0.03), c(0.05, 0.05, 0.0)]))


def w1(a, b) -> float:
    """Exact W1 between two equal-size empirical measures (POT network simplex)."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return float(ot.emd2([], [], torch.cdist(a, b).numpy(), numItermax=10 ** 7))


@pytest.fixture(scope="session")
def w1_fn():
    return w1
