"""VEEGAN / PacGAN mode statistics: hand-built sample sets with known answers, chi-square closed forms,
and the reverse-KL null against the G statistic's chi-square law and an exact enumeration."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

from metrics import mode_coverage
from metrics.modes import mode_reverse_kl_null

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


# ---- the reverse-KL null: m truth samples scored as a model's, over R repeats --------------------

RING = np.c_[np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)]   # PacGAN ring, std 0.01
GRID = np.array([[a, b] for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)], dtype=float)  # PacGAN grid, std 0.05
P_HQ_2D = 1 - math.exp(-4.5)   # P(chi^2_2 < 9): a truth sample is high quality


@pytest.mark.parametrize("means, std, repeats", [(RING, 0.01, 1000), (GRID, 0.05, 400)])
def test_null_matches_the_chi_square_law_of_the_g_statistic(means, std, repeats):
    # Modes 70 (ring) and 40 (grid) std apart: every sample's nearest mode is its own, and each is
    # high quality with probability P independently of its mode, so given N high-quality samples
    # the histogram is Multinomial(N, w) and 2 N KL = G -> chi^2_{K-1}: KL ~ chi^2_{K-1} / (2 N), with
    # N ~ Bin(m, P), N = m P = 2472 up to sd 5 (E[1/N] = 1/(mP) (1 + O(1e-5))).
    # Mean (K - 1)/(2N), sd sqrt(2 (K - 1))/(2N).  Finite-N bias (Williams 1976): relative
    # (K + 1)/(6N) = 0.06% (ring), 0.18% (grid), far below the tolerances, which are 4 standard errors:
    #   mean:      sd / sqrt(R)                       -> relative 4 sqrt(2 / ((K - 1) R)) = 6.8%, 5.8%
    #   variance:  sd^2 sqrt(2/(R-1) + kappa/R), kappa = 12/(K - 1) the excess kurtosis of chi^2_{K-1}
    #   95th pct:  sqrt(0.95 * 0.05 / R) / f(q95), f the density of chi^2_{K-1}/(2N) at q95
    k, m = len(means), 2500
    null = mode_reverse_kl_null(means, stds=std, m=m, repeats=repeats, seed=0)
    assert null.repeats == repeats and len(null.values) == repeats and null.m == m
    n_eff = m * P_HQ_2D
    mean, var = (k - 1) / (2 * n_eff), (k - 1) / (2 * n_eff**2)
    assert abs(null.mean - mean) < 4 * math.sqrt(var / repeats)
    assert abs(null.std**2 - var) < 4 * var * math.sqrt(2 / (repeats - 1) + 12 / (k - 1) / repeats)
    q95 = stats.chi2.ppf(0.95, k - 1) / (2 * n_eff)
    dens = stats.chi2.pdf(stats.chi2.ppf(0.95, k - 1), k - 1) * 2 * n_eff
    assert abs(null.q95 - q95) < 4 * math.sqrt(0.95 * 0.05 / repeats) / dens


def _exact_null(weights, m, p_hq):
    """Exact law of the reverse KL of m truth samples: N ~ Bin(m, p_hq) given N >= 1, counts ~ Mult(N, w).

    Returns (values, probabilities), values sorted and distinct to 1e-12 (grouped)."""
    k = len(weights)
    law: dict[float, float] = {}
    norm = 1 - (1 - p_hq) ** m      # condition on N >= 1: the KL of no high-quality sample is undefined
    for n in range(1, m + 1):
        pn = stats.binom.pmf(n, m, p_hq) / norm
        for counts in itertools.product(range(n + 1), repeat=k - 1):
            last = n - sum(counts)
            if last < 0:
                continue
            c = np.array([*counts, last])
            p = c[c > 0] / n
            kl = float(np.sum(p * np.log(p / np.asarray(weights)[c > 0])))
            key = round(kl, 12)
            law[key] = law.get(key, 0.0) + pn * stats.multinomial.pmf(c, n, weights)
    values = np.array(sorted(law))
    return values, np.array([law[v] for v in values])


@pytest.mark.parametrize("weights", [None, [0.5, 0.3, 0.2]])
def test_null_of_a_small_sample_matches_its_exact_law_by_enumeration(weights):
    # K = 3 modes 100 std apart, m = 5: the exact law enumerates N and the multinomial histograms.
    # R = 20000 repeats; each check is 4 standard errors of its Monte Carlo estimate (about 6e-5
    # false alarms each): the mean sqrt(Var / R); the empirical CDF at each support point
    # sqrt(F (1 - F) / R).  Where no support point has F within 4 se of 0.95, the empirical
    # 95th percentile (inverted CDF) must be exactly the exact one (m = 5, not 6: at m = 6 the
    # exact CDF passes within 0.001 of 0.95).
    means = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    w = [1 / 3] * 3 if weights is None else weights
    m, repeats = 5, 20_000
    values, probs = _exact_null(w, m, P_HQ_2D)
    assert abs(probs.sum() - 1) < 1e-12
    null = mode_reverse_kl_null(means, stds=1.0, weights=weights, m=m, repeats=repeats, seed=3)
    # P(N = 0) = exp(-22.5) per repeat: every repeat is defined
    assert len(null.values) == repeats
    mean = float(values @ probs)
    var = float((values - mean) ** 2 @ probs)
    assert abs(null.mean - mean) < 4 * math.sqrt(var / repeats)
    cdf = np.cumsum(probs)
    emp = np.searchsorted(np.sort(null.values), values + 1e-11, side="right") / repeats
    se = np.sqrt(cdf * (1 - cdf) / repeats)
    assert np.all(np.abs(emp - cdf) <= 4 * se + 1e-15)
    assert np.all(np.abs(cdf - 0.95) > 4 * math.sqrt(0.95 * 0.05 / repeats))   # the 95th pct is well defined
    exact_q95 = values[np.argmax(cdf >= 0.95)]
    assert abs(null.q95 - exact_q95) < 1e-11


def test_p_value_of_a_value_far_above_the_null_is_its_smallest_and_below_it_is_one():
    null = mode_reverse_kl_null(RING, stds=0.01, m=500, repeats=200, seed=0)
    assert null.p_value(10 * null.values.max()) == 1 / 201 < 0.01
    assert null.p_value(0.0) == 1.0
    assert math.isnan(null.p_value(math.nan))
    # a generator that puts 30% of its mass on one ring mode: p_hat = (0.3, 0.1, ...), KL = 0.10,
    # against a null of mean 7 / (2 * 494) = 0.007 and sd 0.004
    rng = np.random.default_rng(7)
    w = np.r_[0.3, np.full(7, 0.1)]
    x = RING[rng.choice(8, 500, p=w)] + 0.01 * rng.normal(size=(500, 2))
    assert null.p_value(mode_coverage(x, RING, stds=0.01).reverse_kl) < 0.01


def test_p_values_of_null_draws_are_uniform():
    # T "model" values drawn from the null itself (seed 2) against a null of R repeats (seed 1).
    # Without ties, p = (1 + #{null >= x}) / (R + 1) is uniform on {1, ..., R + 1} / (R + 1), so at
    # alpha_j = j / (R + 1) the fraction of p <= alpha_j has mean alpha_j.  The T values share one
    # null: given it, each p <= alpha_j with probability U_(j) ~ Beta(j, R + 1 - j) (the law above
    # one order statistic), so Var(fraction) = alpha (1 - alpha) / T + (1 - 1/T) alpha (1 - alpha) / (R + 2).
    # Unequal weights leave no ties but for identical histograms (P ~ 1e-4 per pair: a shift of p
    # below 1e-4, negligible against the 4 sd tolerance of about 0.02 - 0.04).
    means = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    w = [0.1, 0.2, 0.3, 0.4]
    repeats, t, m = 400, 400, 300
    null = mode_reverse_kl_null(means, stds=0.5, weights=w, m=m, repeats=repeats, seed=1)
    draws = mode_reverse_kl_null(means, stds=0.5, weights=w, m=m, repeats=t, seed=2).values
    p = np.array([null.p_value(v) for v in draws])
    for j in (20, 100, 200, 300):
        alpha = j / (repeats + 1)
        sd = math.sqrt(alpha * (1 - alpha) * (1 / t + (1 - 1 / t) / (repeats + 2)))
        assert abs(np.mean(p <= alpha + 1e-12) - alpha) < 4 * sd


def test_null_is_determined_by_its_seed_and_reports_its_flat_keys():
    a = mode_reverse_kl_null(RING, stds=0.01, m=100, repeats=20, seed=5)
    b = mode_reverse_kl_null(torch.as_tensor(RING), covs=np.repeat(1e-4 * np.eye(2)[None], 8, 0), m=100,
                             repeats=20, seed=5)
    assert np.array_equal(a.values, mode_reverse_kl_null(RING, stds=0.01, m=100, repeats=20, seed=5).values)
    # the same draws through the Cholesky factor 0.01 I: the same histograms, to rounding
    assert np.allclose(a.values, b.values, rtol=1e-12, atol=0)
    flat = a.as_flat(0.05)
    assert flat == {"mode_reverse_kl_floor": a.mean, "mode_reverse_kl_null_std": a.std,
                    "mode_reverse_kl_null_q95": a.q95, "mode_reverse_kl_null_repeats": 20,
                    "mode_reverse_kl_p_value": a.p_value(0.05)}


def test_null_bad_arguments_are_one_line_errors():
    for kwargs, word in [({"m": 0}, "m must"), ({"m": 10, "repeats": 0}, "repeats"),
                         ({"m": 10, "seed": "a"}, "seed"), ({"m": 10, "seed": 1.5}, "seed"),
                         ({"m": 10, "stds": None}, "exactly one"), ({"m": 10, "threshold": -1.0}, "threshold")]:
        kwargs = {"stds": 1.0, **kwargs}
        with pytest.raises(ValueError) as info:
            mode_reverse_kl_null(MEANS3, **kwargs)
        assert word in str(info.value) and "\n" not in str(info.value)
