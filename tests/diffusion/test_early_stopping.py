"""The early-stopping offset: TV(truth, truth noised to t0), the t0 schedule, tv_t0 / kl_t0 in a run."""

import json
import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from scipy import special, stats

import metrics as M
from genlab.diffusion import DiffusionConfig
from genlab.diffusion.early_stopping import (NoisedTruth, noised_log_prob_mc, noised_truth, t0_schedule,
                                             tv_offset)
from genlab.diffusion.processes import make_process
from genlab.diffusion.replicas import replica_key
from genlab.distributions import make_truth
from genlab.distributions.gaussian import GaussianMixture
from genlab.core.seeding import make_generator

# A 99.9% interval (z = 3.29): with fixed seeds each check is deterministic; at this level a correct
# estimator falls outside once in a thousand seeds, so a failure means the estimate or its error is wrong.
ALPHA = 1e-3


def _tv_two_normals(m1, v1, m2, v2) -> float:
    """Closed-form TV between N(m1, v1) and N(m2, v2), v1 != v2.

    log p1 - log p2 is a quadratic a x^2 + b x + c with two real roots r1 < r2 (the
    discriminant is > 0 when v1 != v2); p1 - p2 has one sign on (r1, r2) and the other
    outside, and integrates to 0, so int |p1 - p2| = 2 |P1(r1, r2) - P2(r1, r2)|.
    """
    a = 0.5 / v2 - 0.5 / v1
    b = m1 / v1 - m2 / v2
    c = 0.5 * (m2 ** 2 / v2 - m1 ** 2 / v1) + 0.5 * math.log(v2 / v1)
    r1, r2 = sorted(np.roots([a, b, c]).real)
    f1 = stats.norm(m1, math.sqrt(v1)).cdf
    f2 = stats.norm(m2, math.sqrt(v2)).cdf
    return abs((f1(r2) - f1(r1)) - (f2(r2) - f2(r1)))


@pytest.mark.parametrize("process", ["vp_ou", "vp_linear", "ve"])
def test_mixture_offset_matches_the_closed_form_of_one_gaussian(process):
    # x0 ~ N(mu, s^2) noised: N(alpha mu, alpha^2 s^2 + sigma^2) with the process's own (alpha, sigma) at t0
    mu, s2 = 0.3, 0.05 ** 2
    p = make_process(process, t0=1e-3) if process != "ve" else make_process("ve", t0=0.1)
    a, sg = float(p.alpha(p.t0)), float(p.sigma(p.t0))
    exact = _tv_two_normals(mu, s2, a * mu, a * a * s2 + sg * sg)
    truth = GaussianMixture([1.0], [[mu]], [[[s2]]])
    est, bias = tv_offset(noised_truth(truth, p), 200_000, make_generator(0), alpha=ALPHA)
    assert bias == 0.0  # the mixture's noised law is exact: no inner sampling
    assert est.ci_low <= exact <= est.ci_high
    # the check has teeth: the interval is a few percent of the value
    assert est.ci_high - est.ci_low < 0.1 * exact and exact > 0.01


def test_mixture_offset_matches_quadrature_in_1d():
    # two components; p_t0 written out with scipy from alpha mu_k and alpha^2 s_k^2 + sigma^2, not from .noised
    w, mu, sd = np.array([0.6, 0.4]), np.array([-0.5, 0.7]), np.array([0.08, 0.03])
    truth = GaussianMixture(w.tolist(), mu[:, None].tolist(), (sd ** 2)[:, None, None].tolist())
    p = make_process("vp_ou", T=6.0, t0=2e-4)
    a, sg = float(p.alpha(p.t0)), float(p.sigma(p.t0))

    def log_mix(x, means, sds):
        return special.logsumexp(np.log(w) + stats.norm.logpdf(x[:, :1], means, sds), axis=1)

    ref = M.tv_quadrature(lambda x: log_mix(x, mu, sd), lambda x: log_mix(x, a * mu, np.sqrt(a * a * sd ** 2 + sg ** 2)),
                          (-3.0, 3.0))
    assert ref.ci_high - ref.value < 1e-12  # no mass left outside the box
    est, _ = tv_offset(noised_truth(truth, p), 200_000, make_generator(1), alpha=ALPHA)
    assert est.ci_low <= ref.value <= est.ci_high
    assert est.ci_high - est.ci_low < 0.15 * ref.value


def _noised_density_1d(truth, alpha, sigma):
    """log p_t0 for a truth on [-1, 1] by Gauss-Legendre quadrature of int_{-1}^{1} p0(y) N(x; alpha y, sigma^2) dy.

    The window |y - x/alpha| <= 12 tau (tau = sigma/alpha) drops Gaussian mass 2e-33; it is
    clipped to [-1, 1], where p0 is a trigonometric polynomial (6 terms, shortest period
    2^-4), so GL16 on panels of width <= 0.005 (a tenth of that period) is exact to rounding.
    """
    t, wt = np.polynomial.legendre.leggauss(16)
    tau = sigma / alpha

    def log_p(x):
        out = np.empty(len(x))
        for i, xi in enumerate(x[:, 0]):
            lo, hi = max(xi / alpha - 12 * tau, -1.0), min(xi / alpha + 12 * tau, 1.0)
            if hi <= lo:
                out[i] = -np.inf
                continue
            k = max(1, int(math.ceil((hi - lo) / 0.005)))
            e = np.linspace(lo, hi, k + 1)
            half = 0.5 * (e[1:] - e[:-1])
            y = (0.5 * (e[1:] + e[:-1]))[:, None] + half[:, None] * t[None, :]
            p0 = truth.prob(torch.as_tensor(y.reshape(-1, 1))).numpy().reshape(y.shape)
            out[i] = math.log(np.sum(half[:, None] * wt[None, :] * p0 * stats.norm.pdf(xi, alpha * y, sigma)))
        return out

    return log_p


@pytest.mark.parametrize("t0", [1e-4, 1e-3])
def test_smooth_offset_by_monte_carlo_agrees_with_quadrature_in_1d(t0):
    # the truth is reached only through log_prob and sample, as for any non-mixture truth
    truth = make_truth("smooth", dim=1, s=1.0, n_terms=6)
    p = make_process("vp_ou", T=6.0, t0=t0)
    a, sg = float(p.alpha(p.t0)), float(p.sigma(p.t0))
    ref = M.tv_quadrature(lambda x: truth.log_prob(torch.as_tensor(x)).numpy(), _noised_density_1d(truth, a, sg),
                          (-1.0, 1.0), n_grid=256)
    # inside the cube TV_box; ci_high adds half the mass of p_t0 outside it, which is where the rest of
    # the TV sits (p0 = 0 there), so TV(p0, p_t0) = ci_high (p0's own mass in the box is 1 to rounding)
    exact = ref.ci_high
    est, bias = tv_offset(NoisedTruth(truth, a, sg, inner=64), 60_000, make_generator(2), alpha=ALPHA)
    # the stated error: the 99.9% CLT interval widened by the estimated inner-sampling bias
    assert est.ci_low <= exact <= est.ci_high
    assert est.ci_high - est.ci_low < 0.25 * exact
    assert abs(bias) < 0.05 * exact  # the inner draws are not what limits the estimate


def test_inner_estimate_is_unbiased_for_the_density_on_and_off_the_support():
    # E[p_hat(x)] = p_t0(x): mean of exp(log p_hat) over repeated inner draws, against quadrature, at a
    # point inside, at the face and 2 sigma outside (where only the proposal around x0 meets the support)
    truth = make_truth("smooth", dim=1, s=1.0, n_terms=6)
    a, sg = math.exp(-1e-3), math.sqrt(-math.expm1(-2e-3))
    ref = np.exp(_noised_density_1d(truth, a, sg)(np.array([[0.3], [1.0], [1.0 + 2 * sg]])))
    x = torch.tensor([[0.3], [1.0], [1.0 + 2 * sg]], dtype=torch.float64).repeat_interleave(4000, 0)
    x0 = torch.tensor([[0.3], [0.99], [0.999]], dtype=torch.float64).repeat_interleave(4000, 0)
    lp, _ = noised_log_prob_mc(truth, x, x0, a, sg, 16, make_generator(3))
    p_hat = lp.exp().reshape(3, 4000).numpy()
    mean, se = p_hat.mean(1), p_hat.std(1, ddof=1) / math.sqrt(4000)
    assert np.all(np.abs(mean - ref) < 4 * se + 1e-12), (mean, ref, se)
    assert np.all(se < 0.05 * ref)


def test_t0_schedule_gives_c_n_to_the_minus_a():
    cfg = DiffusionConfig(t0_c=0.5, t0_a=2.0 / 3.0).validate()
    for n in (1, 250, 8000):
        want = 0.5 * n ** (-2.0 / 3.0)
        assert cfg.t0_at(n) == pytest.approx(want, rel=1e-15)
        assert cfg.make_process(n=n).t0 == pytest.approx(want, rel=1e-15)
        assert t0_schedule(n, 0.5, 2.0 / 3.0) == pytest.approx(want, rel=1e-15)
    assert DiffusionConfig(t0=3e-4).t0_at(8000) == 3e-4  # no schedule: t0 itself, whatever n
    # fits of different n on a schedule have different t0, so they never share a replica-batched network
    assert replica_key(cfg, 2000) != replica_key(cfg, 4000)
    assert replica_key(DiffusionConfig(), 2000) == replica_key(DiffusionConfig(), 4000)


@pytest.mark.parametrize("kw,msg", [
    (dict(t0_a=-0.5, t0_c=0.1), "t0_a must be a finite number >= 0"),
    (dict(t0_a=float("nan"), t0_c=0.1), "t0_a must be a finite number >= 0"),
    (dict(t0_a=0.5), "t0_a = 0.5 needs t0_c"),
    (dict(t0_c=0.0), "t0_c must satisfy 0 < t0_c < T"),
    (dict(t0_c=7.0), "t0_c must satisfy 0 < t0_c < T = 6"),
    (dict(t0_c=float("inf")), "t0_c must satisfy"),
    (dict(t0_inner=12), "t0_inner must be a multiple of 8"),
    (dict(t0_inner=0), "t0_inner"),
    (dict(t0_offset_m=-1), "t0_offset_m must be >= 0"),
    (dict(t0_m=-1), "t0_m must be >= 0"),
])
def test_bad_t0_settings_are_one_line_errors(kw, msg):
    with pytest.raises(ValueError, match=msg) as info:
        DiffusionConfig(**kw).validate()
    assert "\n" not in str(info.value)


def test_a_schedule_needs_n():
    with pytest.raises(ValueError, match="depends on n; give n"):
        DiffusionConfig(t0_c=0.1, t0_a=0.5).make_process()


def test_run_writes_both_tvs_the_offset_and_the_scheduled_t0(tmp_path):
    # The oracle score (no training): its ODE density is the truth noised to t0 up to the solver's error,
    # so tv_t0 is small and tv is the offset.  t0 = 0.08 * 64^-0.5 = 0.01 (sigma 0.14) makes the offset
    # large (0.22 on this mixture, whose narrowest components have sd 0.10) beside the CIs (tv on
    # 600 points, tv_t0 on t0_m = eval.m = 300, tv_offset on 20000).
    # The ODE density must be accurate (32 RK4 steps: tv_t0 5e-4): with 16, q's mass is off by a few
    # percent and E_p(1 - q/p)_+ is no longer a TV, so the triangle inequality below need not hold.
    from genlab.config.compose import compose_config
    from genlab.run.pipeline import run

    cfg = OmegaConf.to_object(compose_config([
        "recipe=diffusion_gmm", "n=64", "eval.m=300", "eval.reps=2", "eval.floor_cache=null",
        "eval.metrics=[tv,kl]", "eval.kde_reference=false", "diffusion.score=oracle",
        "diffusion.t0_c=0.08", "diffusion.t0_a=0.5", "diffusion.likelihood_steps=32",
        "diffusion.t0_offset_m=20000",
        "diffusion.sampler_steps=8", "diffusion.score_error_times=[]", "device=cpu"]))
    run(cfg, tmp_path, progress=False)
    mx = json.loads((tmp_path / "metrics.json").read_text())
    assert mx["t0"] == pytest.approx(0.08 * 64 ** -0.5, rel=1e-15)
    assert mx["sigma_t0"] == pytest.approx(math.sqrt(-math.expm1(-2 * mx["t0"])), rel=1e-12)
    for name in ("tv", "tv_t0", "kl", "kl_t0", "tv_offset"):
        assert {name, f"{name}_ci_low", f"{name}_ci_high"} <= set(mx), name
    assert mx["tv_is_theorem_metric"] == 1
    assert mx["tv_t0_is_theorem_metric"] == 0 and mx["kl_t0_is_theorem_metric"] == 0
    assert mx["tv_offset_inner_bias"] == 0.0 and mx["tv_offset_floor"] == 0.0  # exact noised mixture
    # triangle inequality |TV(p0, q) - TV(p_t0, q)| <= TV(p0, p_t0), each side up to its interval
    slack = sum(0.5 * (mx[f"{k}_ci_high"] - mx[f"{k}_ci_low"]) for k in ("tv", "tv_t0"))
    assert abs(mx["tv"] - mx["tv_t0"]) <= mx["tv_offset_ci_high"] + slack
    # the oracle reaches its own target: tv_t0 is small, and |TV(p0, q) - TV(p0, p_t0)| <= TV(q, p_t0)
    # puts tv within tv_t0 of the offset
    assert mx["tv_t0"] < 0.3 * mx["tv"]
    off_half = 0.5 * (mx["tv_offset_ci_high"] - mx["tv_offset_ci_low"])
    assert abs(mx["tv"] - mx["tv_offset"]) <= mx["tv_t0"] + slack + off_half
