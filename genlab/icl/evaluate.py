"""Normalised error against the number of in-context examples k, with bootstrap CIs (the picture: `genlab.plots.icl`).

Errors are per prompt and per prefix, ``(y_hat_j - f(x_j))^2 / (tau^2 tr Sigma)``
against the CLEAN label f(x_j): in expectation this is the normalised excess
error (squared error minus sigma^2, divided by d for the unit isotropic
prior), with less variance than subtracting sigma^2 from the noisy error.
"""

from __future__ import annotations

import torch

from genlab.core.validation import check_positive_int

__all__ = ["normalised_errors", "bootstrap_mean_ci", "bootstrap_ratio_ci", "gamma_cosine"]


def normalised_errors(preds: torch.Tensor, targets: torch.Tensor, normaliser: float) -> torch.Tensor:
    """Per-prompt errors (preds - targets)^2 / normaliser, shape (B, K), float64."""
    return (preds.double() - targets.double()) ** 2 / float(normaliser)


def _boot_index(B: int, n_boot: int, generator: torch.Generator) -> torch.Tensor:
    return torch.randint(B, (check_positive_int("n_boot", n_boot), B), generator=generator)


def bootstrap_mean_ci(errors: torch.Tensor, *, n_boot: int = 1000, level: float = 0.95,
                      generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean over prompts of errors (B, K), with a percentile bootstrap CI; three tensors of shape (K,).

    Prompts are resampled with replacement (Efron & Tibshirani 1993, Ch. 13),
    all k at once, so the CIs of different k come from the same resamples.
    """
    idx = _boot_index(errors.shape[0], n_boot, generator)
    means = _chunked_means(errors, idx)
    a = (1 - level) / 2
    q = torch.quantile(means, torch.tensor([a, 1 - a], dtype=means.dtype), dim=0)
    return errors.mean(0), q[0], q[1]


def _chunked_means(values: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    # (n_boot, B, K) at once can be hundreds of MB; chunks of resamples keep it small
    per = max(1, 2**24 // max(1, values.numel()))
    return torch.cat([values[chunk].mean(1) for chunk in idx.split(per)])  # (n_boot, K)


def bootstrap_ratio_ci(num: torch.Tensor, den: torch.Tensor, *, n_boot: int = 1000, level: float = 0.95,
                       generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Ratio of means mean(num)/mean(den) over paired prompts (B, K), with a percentile bootstrap CI.

    Pairing (both estimators on the same prompts) cancels most of the
    prompt-to-prompt variance, so the ratio is far tighter than two separate CIs.
    """
    idx = _boot_index(num.shape[0], n_boot, generator)
    both = torch.stack([num, den], dim=2)  # (B, K, 2)
    per = max(1, 2**24 // max(1, both.numel()))
    m = torch.cat([both[c].mean(1) for c in idx.split(per)])  # (n_boot, K, 2)
    ratios = m[..., 0] / m[..., 1]
    a = (1 - level) / 2
    q = torch.quantile(ratios, torch.tensor([a, 1 - a], dtype=ratios.dtype), dim=0)
    return num.mean(0) / den.mean(0), q[0], q[1]


def gamma_cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Cosine <A, B>_F / (||A||_F ||B||_F) between two matrices (1 = same up to a positive scale)."""
    a, b = a.double().flatten(), b.double().flatten()
    return float(a @ b / (a.norm() * b.norm()))
