import math

import pytest
import torch

from genlab.diffusion.processes import VE, VPOrnsteinUhlenbeck
from genlab.diffusion.reference import EmpiricalOptimalScore, KDEScore, OracleScore, score_error
from genlab.diffusion.samplers import make_sampler, time_grid


@pytest.mark.parametrize("t", [1e-3, 0.1, 2.0])
def test_oracle_matches_noised(mixture, t):
    p = VPOrnsteinUhlenbeck()
    x = 2 * torch.randn(300, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    q = p.marginal(mixture, t)
    lp, s = OracleScore(mixture, p).log_prob_and_score(x, t)
    # two float64 closed forms (eigen vs Cholesky): relative 1e-10 covers rounding in quadratic
    # forms as large as |x - mu|^2 / sigma_min^2 ~ 1e4
    assert torch.allclose(lp, q.log_prob(x), rtol=1e-10, atol=1e-10)
    assert torch.allclose(s, q.score(x), rtol=1e-10, atol=1e-10)


def test_oracle_per_point_times(mixture):
    p = VPOrnsteinUhlenbeck()
    x = torch.randn(4, 2, dtype=torch.float64)
    t = torch.tensor([0.01, 0.2, 0.2, 3.0], dtype=torch.float64)
    s = OracleScore(mixture, p)(x, t)
    for i in range(4):
        assert torch.allclose(s[i], p.marginal(mixture, float(t[i])).score(x[i:i + 1])[0], atol=1e-10)


def test_score_error_of_oracle_is_zero(mixture):
    p = VPOrnsteinUhlenbeck()
    e = score_error(OracleScore(mixture, p), mixture, p, [0.01, 1.0], 200,
                    torch.Generator().manual_seed(0), dtype=torch.float64)
    assert e.shape == (2,) and float(e.max()) < 1e-18


@pytest.mark.parametrize("process", [VPOrnsteinUhlenbeck(T=6.0, t0=1e-4), VE(t0=1e-4)],
                         ids=["vp_ou", "ve"])
def test_empirical_optimal_reproduces_training_set(mixture, process):
    """From noise, the empirical-optimal score's PF-ODE ends at x_t0 ~ alpha_t0 x_i + O(sigma_t0):
    every output lies within 5 sigma_t0 * sqrt(2) of alpha_t0 times a training point (near t0 the
    flow contracts x - alpha x_i like sigma_t, leaving sigma_t0 |N(0, I_2)|; P(chi2_2 > 50) = e^-25)."""
    g = torch.Generator().manual_seed(0)
    x_train = mixture.sample(30, g)
    x_T = process.prior_sample(100, 2, g, dtype=torch.float64)
    ts = time_grid(process, 100)
    x = make_sampler("ode_heun")(EmpiricalOptimalScore(x_train, process), x_T, ts, process)
    a, s = float(process.alpha(process.t0)), float(process.sigma(process.t0))
    d = torch.cdist(x, a * x_train).sort(dim=1).values
    assert float(d[:, 0].max()) < 5 * s * 2 ** 0.5
    # and the outputs spread over many training points rather than collapsing onto a few
    assert len(set(torch.cdist(x, a * x_train).argmin(1).tolist())) > 5


def test_kde_score_h0_is_empirical_optimal(mixture):
    p = VPOrnsteinUhlenbeck()
    x_train = mixture.sample(50, torch.Generator().manual_seed(0))
    x = torch.randn(40, 2, dtype=torch.float64)
    emp = EmpiricalOptimalScore(x_train, p, chunk=7)(x, 0.3)
    assert torch.allclose(KDEScore(x_train, p, h=0.0, rho=0.0)(x, 0.3), emp, atol=1e-12)
    # the bandwidth adds alpha^2 h^2 to the variance: same as the empirical score at a later time
    h, t = 0.2, 0.3
    a, s = float(p.alpha(t)), float(p.sigma(t))
    v = s * s + a * a * h * h
    lam = torch.log(torch.tensor(a) / torch.sqrt(torch.tensor(v)))  # not a VP time: compare formula
    logk = -0.5 * torch.cdist(x, a * x_train) ** 2 / v
    w = torch.softmax(logk, 1)
    ref = (a * w @ x_train - x) / v
    assert torch.allclose(KDEScore(x_train, p, h=h, rho=0.0)(x, t), ref, atol=1e-12)
    assert lam.isfinite()


@pytest.mark.parametrize("make", [
    lambda x, p: EmpiricalOptimalScore(x, p, chunk=7),
    lambda x, p: KDEScore(x, p, h=0.2, chunk=7),
    # a floor high enough that part of the points sit under it (p < rho), where the factor p / rho acts
    lambda x, p: KDEScore(x, p, h=0.2, rho=0.05, chunk=7),
])
@pytest.mark.parametrize("t", [1e-3, 0.1, 2.0])
def test_closed_form_jacobian_equals_autograd(mixture, make, t):
    """score_and_jacobian (Tweedie: (alpha^2 / v^2) Cov_w - I / v, and the floor's (p / rho)(J + s s^T))
    against the d backward passes it replaces; both float64, the covariance formed as E[x x^T] - m m^T,
    whose rounding is about eps |x|^2 alpha^2 / v^2 = 1e-16 x 10 / (2e-3)^2 ~ 3e-10 at t = 1e-3, so
    1e-8 relative to the Jacobian's size 1/v."""
    from genlab.diffusion.sampler_law import score_jacobian

    p = VPOrnsteinUhlenbeck()
    x_train = mixture.sample(40, torch.Generator().manual_seed(0))
    ref = make(x_train, p)
    x = p.marginal(mixture, t).sample(30, torch.Generator().manual_seed(1))
    x = torch.cat([x, 3 * torch.randn(10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))])
    s, jac = ref.score_and_jacobian(x, t)
    s_auto, jac_auto = score_jacobian(lambda y, tt: ref(y, tt), x, t)   # a lambda hides the closed form
    size = 1.0 / float(p.sigma(t)) ** 2
    assert torch.equal(s, ref(x, t))
    assert torch.allclose(s, s_auto, rtol=0, atol=0)
    assert torch.allclose(jac, jac_auto, rtol=1e-8, atol=1e-8 * size)
    if getattr(ref, "_rho", 0) > 0:   # the floor acts on some of the points and not on others
        a, v = float(p.alpha(t)), float(p.sigma(t)) ** 2 + float(p.alpha(t)) ** 2 * ref.h ** 2
        dens = torch.exp(-0.5 * torch.cdist(x, a * x_train) ** 2 / v).mean(1) / (2 * math.pi * v)
        assert (dens < ref._rho).any() and (dens > ref._rho).any()


def test_a_reference_models_log_density_is_the_autograd_ones(mixture):
    """DiffusionModel.log_prob hands a smoothed-empirical reference its closed-form Jacobian; the
    log-density equals the one through d backward passes up to the Jacobian's rounding (1e-8 relative
    above, integrated over the path: 1e-8 in log p)."""
    from genlab.diffusion import DiffusionConfig, fit_diffusion
    from genlab.diffusion.likelihood import ode_log_prob

    x = mixture.sample(50, torch.Generator().manual_seed(0))
    y = mixture.sample(20, torch.Generator().manual_seed(1))
    for score in ("kde", "empirical_optimal"):
        cfg = DiffusionConfig(score=score, likelihood_steps=6)
        model = fit_diffusion(cfg, x, seed=0)
        auto = ode_log_prob(lambda z, t: model.score_z64(z, t), model.to_z(y), model.process, n_steps=6,
                            method=cfg.likelihood_method, grid=cfg.grid) - torch.log(model.scale).sum()
        assert torch.allclose(model.log_prob(y), auto, rtol=0, atol=1e-8)


def test_closed_form_jacobian_is_finite_far_below_the_floor(mixture):
    """Where p / rho underflows to 0 (x far from every training point) the floored score and its
    Jacobian are 0, not 0 x inf."""
    ref = KDEScore(mixture.sample(20, torch.Generator().manual_seed(0)), VPOrnsteinUhlenbeck(), h=0.1)
    s, jac = ref.score_and_jacobian(torch.tensor([[60.0, -60.0]], dtype=torch.float64), 1e-3)
    assert torch.equal(s, torch.zeros_like(s)) and torch.equal(jac, torch.zeros_like(jac))
