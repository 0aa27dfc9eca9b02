"""EmpiricalMeasure: atoms, resampling law, no density, input checks."""

import math

import numpy as np
import pytest
import torch

from genlab.baselines import EmpiricalMeasure
from genlab.distributions.base import NoDensityError


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_points_are_the_training_set_in_float64():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    mu_n = EmpiricalMeasure(x)
    assert mu_n.points.dtype == torch.float64 and mu_n.points.shape == (3, 2)
    assert torch.equal(mu_n.points, torch.as_tensor(x, dtype=torch.float64))
    assert mu_n.n == 3 and mu_n.dim == 2 and mu_n.intrinsic_dim == 0 and not mu_n.has_density


def test_samples_are_training_points_only():
    x = torch.randn(17, 3, generator=_gen(1), dtype=torch.float64)
    y = EmpiricalMeasure(x).sample(500, generator=_gen(2))
    assert y.shape == (500, 3)
    # every sample equals one of the atoms bit for bit, not merely closely
    assert (y[:, None, :] == x[None, :, :]).all(dim=2).any(dim=1).all()


def test_resampling_is_uniform_over_atoms():
    n, m = 5, 50_000
    x = torch.arange(n, dtype=torch.float64)[:, None]
    y = EmpiricalMeasure(x).sample(m, generator=_gen(3))
    counts = torch.bincount(y[:, 0].long(), minlength=n).double()
    # multinomial counts: mean m/n, sd sqrt(m (1/n)(1 - 1/n)); 4 sd per cell
    sd = math.sqrt(m * (1 / n) * (1 - 1 / n))
    assert (counts - m / n).abs().max() < 4 * sd


def test_sampling_is_deterministic_given_generator():
    mu_n = EmpiricalMeasure(torch.randn(10, 2, generator=_gen(4)))
    assert torch.equal(mu_n.sample(20, generator=_gen(5)), mu_n.sample(20, generator=_gen(5)))


def test_log_prob_and_score_raise_no_density():
    mu_n = EmpiricalMeasure(torch.zeros(4, 2))
    with pytest.raises(NoDensityError, match="no density"):
        mu_n.log_prob(torch.zeros(1, 2))
    with pytest.raises(NoDensityError, match="no density"):
        mu_n.score(torch.zeros(1, 2))


@pytest.mark.parametrize("bad", [torch.zeros(0, 2), torch.tensor([[0.0, math.nan]]), torch.zeros(3)])
def test_bad_training_data_names_x_train(bad):
    with pytest.raises(ValueError, match="x_train"):
        EmpiricalMeasure(bad)


@pytest.mark.parametrize("m", [0, -3, 2.5])
def test_bad_sample_size_names_n(m):
    with pytest.raises(ValueError, match="^n "):
        EmpiricalMeasure(torch.zeros(2, 1)).sample(m)
