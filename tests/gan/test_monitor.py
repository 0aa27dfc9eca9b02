"""`genlab.gan.monitor.mode_statistics`: the mode statistics a GAN run writes, with the reverse-KL null."""

import math

import numpy as np
import torch

from genlab.distributions.gaussian import GaussianMixture
from genlab.gan.monitor import mode_statistics
from genlab.core.seeding import make_generator
from metrics.modes import mode_reverse_kl_null

RING = GaussianMixture.ring()
NULL_KEYS = {"mode_reverse_kl_floor", "mode_reverse_kl_null_std", "mode_reverse_kl_null_q95",
             "mode_reverse_kl_null_repeats"}


def test_floor_is_the_null_mean_and_truth_samples_are_not_distinguishable():
    x = RING.sample(500, generator=make_generator(11))                          # (500, 2)
    out = mode_statistics(RING, x, truth_seed=1, null_seed=2, null_repeats=200)
    null = mode_reverse_kl_null(RING.means, covs=RING.covs, m=500, repeats=200, seed=2)
    assert NULL_KEYS | {"mode_reverse_kl", "mode_reverse_kl_p_value"} <= set(out)
    assert out["mode_reverse_kl_floor"] == null.mean and out["mode_reverse_kl_null_q95"] == null.q95
    assert out["mode_reverse_kl_null_repeats"] == 200
    # the null mean is (K - 1) / (2 m P) = 7 / (2 * 494.4) = 0.00708 within 4 standard errors
    # sqrt(7 / 2) / 494.4 / sqrt(200) = 2.7e-4 (chi^2_7 / (2N): tests/metrics/test_modes.py)
    n_eff = 500 * (1 - math.exp(-4.5))
    assert abs(out["mode_reverse_kl_floor"] - 7 / (2 * n_eff)) < 4 * math.sqrt(3.5) / n_eff / math.sqrt(200)
    assert out["mode_reverse_kl_p_value"] == null.p_value(out["mode_reverse_kl"])


def test_a_collapsed_generator_has_the_smallest_p_value():
    # every sample on mode 0: p_hat = (1, 0, ..., 0), KL = log 8, far above any null draw
    x = RING.means[0] + 0.01 * torch.randn(500, 2, generator=make_generator(3), dtype=RING.means.dtype)
    out = mode_statistics(RING, x, truth_seed=1, null_seed=2, null_repeats=200)
    assert out["modes_captured"] == 1 and abs(out["mode_reverse_kl"] - math.log(8)) < 1e-12
    assert out["mode_reverse_kl_p_value"] == 1 / 201


def test_no_high_quality_sample_leaves_out_the_kl_and_its_p_value_but_keeps_the_null():
    out = mode_statistics(RING, torch.full((50, 2), 5.0), truth_seed=1, null_seed=2, null_repeats=20)
    assert out["high_quality_fraction"] == 0.0
    assert "mode_reverse_kl" not in out and "mode_reverse_kl_p_value" not in out
    assert NULL_KEYS <= set(out) and np.isfinite(out["mode_reverse_kl_floor"])


def test_a_truth_that_is_not_a_mixture_has_no_mode_statistics():
    assert mode_statistics(object(), torch.zeros(5, 2), truth_seed=1, null_seed=2) == {}
