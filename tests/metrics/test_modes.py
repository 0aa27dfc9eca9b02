"""VEEGAN / PacGAN mode statistics: hand-built sample sets with known answers, and chi-square closed forms."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from metrics import mode_coverage

MEANS3 = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def test_hand_built_counts_fraction_modes_and_reverse_kl():
    x = np.array([
        [0.0, 0.0], [0.5, 0.0], [0.0, -0.9], [0.3, 0.3],   # mode 0, within 1 std
        [12.9, 0.0], [10.0, 2.0],                          # mode 1, at 2.9 and 2 std
        [5.0, 5.0],                                        # 7.07 std from every mode
        [0.0, 13.0],                                       # exactly 3 std from mode 2: not below 3
    ])
    mc = mode_coverage(x, MEANS3, stds=1.0)
    assert mc.counts.tolist() == [4, 2, 0]
    assert mc.m == 8 and mc.n_modes == 3
    assert mc.high_quality_fraction == 6 / 8
    assert mc.modes_captured == 2
    # p_hat = (2/3, 1/3, 0) against w = 1/3 each: (2/3) log 2 + (1/3) log 1
    assert abs(mc.reverse_kl - (2 / 3) * math.log(2.0)) < 1e-15


def test_reverse_kl_uses_the_mixture_weights():
    x = np.array([[0.0, 0.0], [10.0, 0.0]])
    mc = mode_coverage(x, MEANS3, stds=1.0, weights=[0.5, 0.25, 0.25])
    # p_hat = (1/2, 1/2, 0): (1/2) log(1/2 / 1/2) + (1/2) log(1/2 / 1/4) = (1/2) log 2
    assert abs(mc.reverse_kl - 0.5 * math.log(2.0)) < 1e-15
    even = mode_coverage(np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]), MEANS3, stds=1.0)
    assert even.reverse_kl == 0.0 and even.modes_captured == 3


def test_nearest_mode_is_nearest_in_standard_deviations():
    # A at 0 with std 1, B at 4 with std 0.1 (1-D).  x = 3.5 is Euclid-closer to B (0.5)
    # but 3.5 std from A and 5 std from B: nearest A, and not high quality.
    means, stds = np.array([[0.0], [4.0]]), np.array([1.0, 0.1])
    x = np.array([[3.5], [2.9], [3.8], [4.05]])
    # standardised distances: 3.5 -> (3.5, 5); 2.9 -> (2.9, 11); 3.8 -> (3.8, 2); 4.05 -> (4.05, 0.5)
    mc = mode_coverage(x, means, stds=stds)
    assert mc.counts.tolist() == [1, 2]
    assert mc.high_quality_fraction == 3 / 4


def test_covariances_give_the_mahalanobis_distance():
    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [3.0, 1.0]])
    sd = np.array([[0.5, 2.0], [1.0, 0.2]])
    x = means[rng.integers(0, 2, 500)] + rng.normal(size=(500, 2)) * 2.0
    diag = mode_coverage(x, means, stds=sd)
    full = mode_coverage(x, means, covs=np.stack([np.diag(s**2) for s in sd]))
    assert diag.counts.tolist() == full.counts.tolist()
    # a rotated covariance: the point along its major axis at 2.5 std is inside, across it is not
    theta = 0.3
    r = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    cov = r @ np.diag([4.0, 0.01]) @ r.T
    along, across = 2.5 * 2.0 * r[:, 0], 2.5 * 2.0 * r[:, 1]
    mc = mode_coverage(np.stack([along, across]), np.zeros((1, 2)), covs=cov[None])
    assert mc.counts.tolist() == [1]


def test_no_high_quality_sample_gives_nan_reverse_kl():
    mc = mode_coverage(np.array([[5.0, 5.0]]), MEANS3, stds=1.0)
    assert mc.modes_captured == 0 and mc.high_quality_fraction == 0.0 and math.isnan(mc.reverse_kl)


@pytest.mark.parametrize("d", [2, 3])
def test_truth_samples_are_high_quality_with_the_chi_square_probability(d):
    # ||x - mu||^2 / sigma^2 ~ chi^2_d: P(high quality) = P(chi^2_d < 9); d = 2: 1 - exp(-9/2).
    rng = np.random.default_rng(1)
    k, m, sigma = 8, 40_000, 0.01
    t = 2 * np.pi * np.arange(k) / k
    means = np.zeros((k, d))
    means[:, 0], means[:, 1] = np.cos(t), np.sin(t)    # modes 76 std apart: nearest is the own mode
    x = means[rng.integers(0, k, m)] + sigma * rng.normal(size=(m, d))
    p = stats.chi2.cdf(9.0, d)
    if d == 2:
        assert abs(p - (1 - math.exp(-4.5))) < 1e-15
    mc = mode_coverage(torch.as_tensor(x), torch.as_tensor(means), stds=sigma)
    se = math.sqrt(p * (1 - p) / m)
    assert abs(mc.high_quality_fraction - p) < 4 * se
    assert mc.modes_captured == k


def test_bad_arguments_are_one_line_errors():
    x = np.zeros((3, 2))
    for kwargs, word in [({}, "exactly one"), ({"stds": 1.0, "covs": np.eye(2)[None].repeat(3, 0)}, "exactly one"),
                         ({"stds": -1.0}, "stds"), ({"stds": np.ones(2)}, "stds"),
                         ({"covs": np.ones((3, 2, 2))}, "covs"), ({"stds": 1.0, "weights": [1.0, 0.0, 0.0]}, "weights"),
                         ({"stds": 1.0, "threshold": 0.0}, "threshold")]:
        with pytest.raises(ValueError) as info:
            mode_coverage(x, MEANS3, **kwargs)
        assert word in str(info.value) and "\n" not in str(info.value)
