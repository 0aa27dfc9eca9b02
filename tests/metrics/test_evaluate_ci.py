"""The CI of a sample metric covers the model's sample noise as well as the truth's (issue 14, item 3).

`evaluate` reports v = mean_r W1(X, T_r) over R fresh truth samples T_r against ONE model sample
X of size m. Over independent redraws of X and of every T_r,
Var v = Var_X E[W1 | X] + E Var(W1 | X) / R: the model's part does not shrink with R.

Closed form (shift): truth P = N(0, 1), model Q = N(0.5, 1). Sorted model points exceed sorted
truth points rank by rank (a crossing needs an order-statistic fluctuation of 0.5, only at the
extreme ranks, and changes W1 by far less than its sd), so W1(X, T) = mean X - mean T exactly up
to those crossings, W1(P, Q) = 0.5, and Var v = 1/m + 1/(m R). The old, truth-only, standard error
sqrt(1/(m R)) is sqrt(1/(R + 1)) = 0.41 of that at R = 5.

Non-linear case (scale): Q = N(0.5, 1.5^2); the quantile difference 0.5 + 0.5 z changes sign at
z = -1, so W1 is not a difference of means; its spread over redraws is measured.
"""

import functools
import math

import numpy as np
from scipy import stats

from metrics import evaluate, metric_floor
from metrics.floor import derive_seed

M, R, K = 400, 5, 300   # evaluation size, truth reps per evaluation, independent redraws of everything
SD_SHIFT = math.sqrt((1 + 1 / R) / M)   # closed-form sd of v in the shift case
Z999 = stats.norm.ppf(0.9995)           # two-sided 99.9%


def truth(n, seed):
    return np.random.default_rng(seed).normal(size=(n, 1))


@functools.lru_cache(maxsize=None)
def redraws(scale: float, model_noise: bool = True):
    """value, std_error and CI of `evaluate` over K redraws of the model sample and the truth's."""
    floors = {"w1": metric_floor(truth, "w1", M, reps=2, seed=0)}   # the floor plays no part here
    out = []
    for k in range(K):
        x = np.random.default_rng(derive_seed(0, 5, k)).normal(0.5, scale, size=(M, 1))
        out.append(evaluate(truth, x, ["w1"], reps=R, seed=derive_seed(0, 6, k), floors=floors,
                            model_noise=model_noise)["w1"])
    return (np.array([e.value for e in out]), np.array([e.std_error for e in out]),
            np.array([(e.ci_low, e.ci_high) for e in out]))


def _rms_and_rel_tol(se):
    # sqrt(mean se^2) over K draws: relative standard error sd(se^2) / (2 mean(se^2) sqrt(K))
    # by the delta method
    se2 = se**2
    return math.sqrt(se2.mean()), float(np.std(se2, ddof=1) / (2 * se2.mean() * math.sqrt(K)))


def test_standard_error_matches_the_closed_form_spread_over_both_samples():
    values, se, _ = redraws(1.0)
    # the closed form itself: relative standard error of a sample sd over K draws is 1/sqrt(2(K-1))
    assert abs(values.std(ddof=1) / SD_SHIFT - 1) < Z999 / math.sqrt(2 * (K - 1))
    rms, rel = _rms_and_rel_tol(se)
    # the bootstrap variance of a mean is (m - 1)/m of the plug-in variance: 0.25% low, inside
    assert abs(rms / SD_SHIFT - 1) < Z999 * rel, (rms, SD_SHIFT, rel)


def test_standard_error_matches_the_measured_spread_when_w1_is_not_linear():
    values, se, _ = redraws(1.5)
    rms, rel = _rms_and_rel_tol(se)
    sd = values.std(ddof=1)
    assert abs(rms / sd - 1) < Z999 * math.sqrt(rel**2 + 1 / (2 * (K - 1))), (rms, sd)


def test_interval_covers_the_true_w1_near_nominal():
    values, _, ci = redraws(1.0)
    # W1(P, Q) = 0.5 and the plug-in is unbiased up to the crossings (see the module docstring):
    # E W1(X, T) - 0.5 = 0.0008 at m = 400 (4000 direct draws), 0.26 of the standard error below
    assert abs(values.mean() - 0.5) < Z999 * SD_SHIFT / math.sqrt(K)
    cover = np.mean((ci[:, 0] <= 0.5) & (0.5 <= ci[:, 1]))
    # binomial tolerance on K intervals of nominal level 0.95, at 99.9%
    assert abs(cover - 0.95) < Z999 * math.sqrt(0.95 * 0.05 / K), cover


def test_model_noise_off_gives_the_truth_only_standard_error():
    _, se, _ = redraws(1.0, model_noise=False)
    rms, rel = _rms_and_rel_tol(se)
    # truth-only: sqrt(Var(W1 | X) / R) = sqrt(1 / (m R)), sqrt(R + 1) = 2.45 times below SD_SHIFT
    assert abs(rms / math.sqrt(1 / (M * R)) - 1) < Z999 * rel
