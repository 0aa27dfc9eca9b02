"""The Monte Carlo excess risk against closed forms: E f*^2 for f_hat = 0, the OLS risk, exact shifts, CI width."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from genlab.regression.risk import excess_risk
from genlab.regression.targets import LinearTarget, SubspaceTarget, make_target


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _zero(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros(x.shape[0], dtype=torch.float64)


CASES = [dict(name="smooth", d=2, s=1.0), dict(name="smooth", d=1, s=0.5), dict(name="smooth", d=2, ambient_dim=5),
         dict(name="single_index", d=4, link="he2"), dict(name="single_index", d=4, link="relu"),
         dict(name="single_index", d=4, link="tanh"), dict(name="teacher", d=3, teacher_width=5),
         dict(name="linear", d=6)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_the_risk_of_the_zero_predictor_is_the_second_moment_within_its_ci(case):
    t = make_target(**case)
    # level 0.999: over these 8 independent cases a correct CI misses somewhere with probability ~ 0.8%
    r = excess_risk(_zero, t, 200_000, generator=_gen(11), level=0.999)
    assert r.ci_low <= t.second_moment() <= r.ci_high, (r, t.second_moment())
    assert r.floor == pytest.approx(r.ci_high - r.value, rel=1e-12)
    assert r.floor > 0 and r.std_error > 0


def test_the_ci_half_width_is_the_t_quantile_times_the_true_standard_error():
    t = LinearTarget(3, seed=2)
    m = 100_000
    r = excess_risk(_zero, t, m, generator=_gen(0), level=0.95)
    b2 = t.second_moment()
    q = float(stats.t.ppf(0.975, m - 1))                  # 1.95997 (the normal 1.95996 + O(1/m))
    # f*(X) ~ N(0, b2), so e = f*^2 = b2 Z^2 has sd sqrt(2) b2
    want = q * math.sqrt(2.0) * b2 / math.sqrt(m)
    # the sample sd of b2 Z^2 has relative sd sqrt((mu4/sigma^4 - 1) / (4 m)) = sqrt((15 - 1)/(4 m)): 4 of those
    assert abs(r.floor / want - 1) <= 4 * math.sqrt(14 / (4 * m))
    assert r.std_error == pytest.approx(r.floor / q, rel=1e-13)


def test_the_ci_covers_at_its_level():
    t = LinearTarget(3, seed=2)
    g = _gen(5)
    reps, level = 400, 0.9
    hits = 0
    for _ in range(reps):
        r = excess_risk(_zero, t, 2000, generator=g, level=level)
        hits += r.ci_low <= t.second_moment() <= r.ci_high
    # hits ~ Binomial(400, 0.9 + O(1/m)): sd = sqrt(0.9 0.1 / 400) = 0.015; 4 sd
    assert abs(hits / reps - level) <= 4 * math.sqrt(level * (1 - level) / reps)


def test_f_star_has_risk_zero_and_a_shift_has_risk_its_square_exactly():
    t = make_target("smooth", d=2)
    r0 = excess_risk(t.f, t, 1000, generator=_gen(0))
    assert (r0.value, r0.floor, r0.ci_low, r0.ci_high) == (0.0, 0.0, 0.0, 0.0)
    r = excess_risk(lambda x: t.f(x) + 0.25, t, 1000, generator=_gen(0), batch=300)
    # every squared error is (0.25 + rounding)^2: mean 0.0625 to ~eps, spread ~eps
    assert r.value == pytest.approx(0.0625, rel=1e-12) and r.floor < 1e-14


def test_ols_excess_risk_matches_sigma2_d_over_n_minus_d_minus_1():
    """Least squares without intercept, x ~ N(0, I_d): E R = sigma^2 E tr (X^T X)^{-1} = sigma^2 d / (n - d - 1)."""
    d, n, sigma, datasets = 5, 30, 1.0, 400
    t = LinearTarget(d, sigma=sigma, seed=1)
    g = _gen(3)
    risks, exact = [], []
    for _ in range(datasets):
        x, y = t.sample(n, g)
        beta_hat = torch.linalg.lstsq(x, y[:, None]).solution[:, 0]
        risks.append(excess_risk(lambda z: z @ beta_hat, t, 2000, generator=g).value)
        exact.append(float(((beta_hat - t.beta) ** 2).sum()))     # R = |beta_hat - beta|^2 for X ~ N(0, I)
    risks = torch.tensor(risks)
    want = sigma ** 2 * d / (n - d - 1)
    # the per-dataset risks are i.i.d. with the MC noise inside them: 4 standard errors of their mean
    assert abs(float(risks.mean()) - want) <= 4 * float(risks.std()) / math.sqrt(datasets)
    # and each MC estimate is unbiased for its dataset's exact risk: the mean difference within 4 se
    diff = risks - torch.tensor(exact)
    assert abs(float(diff.mean())) <= 4 * float(diff.std()) / math.sqrt(datasets)


def test_subspace_risk_uses_the_ambient_inputs():
    t = SubspaceTarget(LinearTarget(2, seed=0), 5, seed=1)
    r = excess_risk(lambda x: t.f(x), t, 100, generator=_gen(0))
    assert r.value == 0.0


@pytest.mark.parametrize("kwargs,match", [
    (dict(m=1), "m must be >= 2"),
    (dict(m=0), "m must be a positive integer"),
    (dict(m=10, level=1.0), "level must be a number in"),
    (dict(m=10, batch=0), "batch must be a positive integer"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        excess_risk(_zero, LinearTarget(2), **kwargs)


def test_bad_predictions_are_refused():
    t = LinearTarget(2)
    with pytest.raises(ValueError, match=r"predict must map \(10, 2\) inputs to shape \(10,\)"):
        excess_risk(lambda x: torch.zeros(x.shape[0], 1), t, 10)
    with pytest.raises(ValueError, match="non-finite"):
        excess_risk(lambda x: torch.full((x.shape[0],), math.nan), t, 10)
