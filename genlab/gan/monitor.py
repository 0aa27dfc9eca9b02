"""What a GAN run reports besides distances: mode statistics, and the numbers of its training curve.

On a Gaussian-mixture truth, `mode_statistics` scores the model's samples
with `metrics.mode_coverage` (VEEGAN / PacGAN: high-quality fraction, modes
captured, reverse KL of the mode histogram), and scores m truth samples the
same way as the reference a perfect generator would get: ``*_truth`` beside
each statistic (in 2-D, a high-quality fraction near 1 - exp(-9/2) = 0.989,
since ||x - mu||^2 / sigma^2 ~ chi^2_2).  The reverse KL is compared with its
null distribution, `metrics.modes.mode_reverse_kl_null`: the same statistic on
m truth samples over R repeats (about chi^2_{K-1} / (2 m 0.989), mean
(K - 1) / (2 m 0.989)).  ``mode_reverse_kl_floor`` is the null mean, beside
``mode_reverse_kl_null_std``, ``mode_reverse_kl_null_q95``,
``mode_reverse_kl_null_repeats`` and the model's Monte Carlo p-value
``mode_reverse_kl_p_value`` (small: the GAN's mode histogram is distinguishable
from the truth's own sampling noise).

`make_monitor` builds the callback `genlab.gan.training.train_gan` calls
every ``monitor_every`` steps: exact W1 between the generator's samples and a
fixed set of truth samples of the same size, and the mode statistics when the
truth is a mixture.
"""

from __future__ import annotations

from typing import Callable

import torch

import metrics as M
from metrics.modes import NULL_REPEATS, mode_reverse_kl_null
from genlab.distributions.gaussian import GaussianMixture
from genlab.core.seeding import make_generator

__all__ = ["mode_statistics", "make_monitor"]


def _coverage(truth: GaussianMixture, x) -> M.ModeCoverage:
    return M.mode_coverage(x, truth.means, covs=truth.covs, weights=truth.weights)


def mode_statistics(truth, samples: torch.Tensor, *, truth_seed: int, null_seed: int,
                    null_repeats: int = NULL_REPEATS) -> dict:
    """Mode statistics of ``samples`` (m, d), of m truth samples, and the reverse-KL null; {} unless a mixture.

    ``truth_seed`` draws the m truth samples of ``*_truth``; ``null_seed`` the
    ``null_repeats`` x m truth samples of the null (numpy, `mode_reverse_kl_null`).
    ``mode_reverse_kl`` and its p-value are left out when no sample is high
    quality (they are then undefined).
    """
    if not isinstance(truth, GaussianMixture):
        return {}
    model = _coverage(truth, samples)
    ref = _coverage(truth, truth.sample(len(samples), generator=make_generator(truth_seed)))
    null = mode_reverse_kl_null(truth.means, covs=truth.covs, weights=truth.weights, m=len(samples),
                                repeats=null_repeats, seed=null_seed)
    out = {**model.as_flat(), "high_quality_fraction_truth": ref.high_quality_fraction,
           "modes_captured_truth": ref.modes_captured, **null.as_flat(model.reverse_kl)}
    # no high-quality sample: the histogram, hence its KL, is undefined -- left out, not written as null
    return {k: v for k, v in out.items() if v == v}


def make_monitor(truth, m: int, *, seed: int) -> Callable[[Callable[[int], torch.Tensor]], dict]:
    """``monitor(sample) -> {"w1", and on a mixture "modes_captured", "high_quality_fraction"}``.

    ``sample(m)`` returns (m, d) model draws; the m truth samples are drawn
    once from ``seed``, so the curve moves only with the model.
    """
    ref = truth.sample(m, generator=make_generator(seed)).cpu().numpy()   # (m, d)
    mixture = isinstance(truth, GaussianMixture)

    def monitor(sample: Callable[[int], torch.Tensor]) -> dict:
        x = sample(m).numpy()                                             # (m, d)
        out = {"w1": M.wasserstein(x, ref, p=1)}
        if mixture:
            cov = _coverage(truth, x)
            out.update(modes_captured=cov.modes_captured, high_quality_fraction=cov.high_quality_fraction)
        return out

    return monitor
