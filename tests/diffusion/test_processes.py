import math

import pytest
import torch

from genlab.diffusion.processes import VE, VPLinear, VPOrnsteinUhlenbeck, make_process

PROCS = [VPOrnsteinUhlenbeck(T=6.0, t0=1e-4), VPLinear(), VE(sigma_min=0.01, sigma_max=50.0)]
TS = torch.tensor([1e-3, 0.05, 0.3, 0.7, 0.95], dtype=torch.float64)


def test_closed_forms():
    t = TS
    ou = PROCS[0]
    # exact float64 formulas: agreement to a few ulps
    assert torch.allclose(ou.alpha(t), torch.exp(-t), rtol=1e-14, atol=0)
    assert torch.allclose(ou.sigma(t) ** 2, 1 - torch.exp(-2 * t), rtol=1e-12, atol=0)
    lin = PROCS[1]
    B = 0.1 * t + 0.5 * (20 - 0.1) * t ** 2
    assert torch.allclose(lin.alpha(t), torch.exp(-B / 2), rtol=1e-14, atol=0)
    assert torch.allclose(lin.sigma(t) ** 2, 1 - torch.exp(-B), rtol=1e-12, atol=0)
    ve = PROCS[2]
    assert torch.all(ve.alpha(t) == 1)
    assert torch.allclose(ve.sigma(t) ** 2, 1e-4 * ((50 / 0.01) ** (2 * t) - 1), rtol=1e-12, atol=0)


@pytest.mark.parametrize("p", PROCS, ids=lambda p: p.name)
def test_sde_coefficients_match_marginals(p):
    """f = d log alpha/dt and g^2 = dsigma^2/dt - 2 f sigma^2, so that Var_t = alpha^2 v0 + sigma^2 solves
    dVar/dt = 2 f Var + g^2 (the moment ODE of dx = f x dt + g dW).  Central differences with step
    h = 1e-5 have truncation error ~ h^2 |'''| ~ 1e-10 relative and rounding ~ eps/h ~ 1e-11, so 1e-7 is safe."""
    h = 1e-5
    t = TS * p.T
    fd = lambda fn: (fn(t + h) - fn(t - h)) / (2 * h)  # noqa: E731
    assert torch.allclose(fd(lambda s: torch.log(p.alpha(s))), p.f(t), rtol=1e-7, atol=1e-7)
    assert torch.allclose(fd(lambda s: p.sigma(s) ** 2), p.dsigma2_dt(t), rtol=1e-7, atol=1e-9)
    v0 = 0.7
    var = lambda s: p.alpha(s) ** 2 * v0 + p.sigma(s) ** 2  # noqa: E731
    assert torch.allclose(fd(var), 2 * p.f(t) * var(t) + p.g2(t), rtol=1e-7, atol=1e-9)
    assert torch.all(p.g2(t) > 0)


@pytest.mark.parametrize("p", PROCS, ids=lambda p: p.name)
def test_logsnr_inverse(p):
    t = TS * p.T
    assert torch.allclose(p.t_of_logsnr(p.logsnr(t)), t, rtol=1e-9, atol=1e-12)
    assert torch.allclose(p.t_of_sigma_tilde(p.sigma(t) / p.alpha(t)), t, rtol=1e-9, atol=1e-12)


def test_prior():
    g = torch.Generator().manual_seed(0)
    p = VE()
    x = p.prior_sample(4000, 2, g, dtype=torch.float64)
    assert x.shape == (4000, 2)
    # std estimate has relative SE 1/sqrt(2 * 8000) ~ 0.8%; 5 SE
    assert abs(float(x.std()) / p.prior_std - 1) < 0.04
    lp = VPOrnsteinUhlenbeck().prior_log_prob(torch.zeros(1, 2, dtype=torch.float64))
    assert abs(float(lp) + math.log(2 * math.pi)) < 1e-14


@pytest.mark.parametrize("t0", [0.0, -1e-3, 6.0, 7.0])
def test_bad_t0(t0):
    with pytest.raises(ValueError, match=r"^t0 must satisfy 0 < t0 < T") as e:
        make_process("vp_ou", T=6.0, t0=t0)
    assert "\n" not in str(e.value)


def test_unknown_process():
    with pytest.raises(ValueError, match="process must be one of ve, vp_linear, vp_ou; got 'vp'"):
        make_process("vp")


def test_marginal_is_noised(mixture):
    p = VPOrnsteinUhlenbeck()
    q = p.marginal(mixture, 0.5)
    a, s = math.exp(-0.5), math.sqrt(1 - math.exp(-1.0))
    assert torch.allclose(q.means, a * mixture.means, atol=1e-15)
    assert torch.allclose(q.covs, a * a * mixture.covs + s * s * torch.eye(2, dtype=torch.float64),
                          atol=1e-15)
