"""KL and Hellinger by Monte Carlo against Gaussian closed forms, within their CI."""

import numpy as np
from scipy import stats

from metrics import hellinger, kl


def test_kl_and_hellinger_unit_shift():
    x = np.random.default_rng(0).normal(size=100_000)
    lp, lq = stats.norm.logpdf(x), stats.norm.logpdf(x, loc=1.0)
    e = kl(lp, lq, alpha=0.001)  # KL(N(0,1) || N(1,1)) = 1/2
    assert e.ci_low <= 0.5 <= e.ci_high
    h = hellinger(lp, lq, alpha=0.001)  # H^2 = 1 - exp(-dm^2 / 8)
    assert h.ci_low <= np.sqrt(1 - np.exp(-1 / 8)) <= h.ci_high


def test_kl_scale():
    # KL(N(0,1) || N(0,s^2)) = log s + 1/(2 s^2) - 1/2
    x = np.random.default_rng(1).normal(size=100_000)
    s = 2.0
    e = kl(stats.norm.logpdf(x), stats.norm.logpdf(x, scale=s), alpha=0.001)
    assert e.ci_low <= np.log(s) + 1 / (2 * s * s) - 0.5 <= e.ci_high
