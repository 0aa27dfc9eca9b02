"""``kde_tv``: the TV of a held-out-bandwidth Gaussian KDE on a run's n points, beside the model's TV.

The no-training reference a trained density model must beat (``eval.kde_reference``),
scored with the same Monte Carlo TV and the same truth samples as the model, so the
two numbers compare directly.
"""

from __future__ import annotations

import torch

import metrics as M
from genlab.baselines.factory import make_kde
from genlab.core.seeding import derive_seed, make_generator

__all__ = ["kde_reference_tv"]


def kde_reference_tv(x_train: torch.Tensor, truth_sampler, truth_log_prob, *, seed: int, m: int, reps: int,
                     eval_seed: int) -> dict:
    """``kde_tv`` with its floor and CI, and ``kde_bandwidth``, for the KDE fitted to ``x_train`` (n, d).

    The held-out split draws from ``derive_seed(seed, "kde")``; its m samples from seed 0.
    """
    kde = make_kde(x_train.cpu(), "held_out", generator=make_generator(derive_seed(seed, "kde")))

    def kde_log_prob(x):
        return kde.log_prob(torch.as_tensor(x, dtype=torch.float64)).numpy()

    est = M.evaluate(truth_sampler, kde.sample(m, generator=make_generator(0)).numpy(), ["tv"], m=m, reps=reps,
                     seed=eval_seed, truth_log_prob=truth_log_prob, model_log_prob=kde_log_prob)["tv"]
    return {**est.as_flat("kde_tv"), "kde_bandwidth": float(kde.bandwidth)}
