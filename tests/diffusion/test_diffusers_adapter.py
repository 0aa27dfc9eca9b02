import pytest
import torch

from genlab.diffusion.diffusers_adapter import SCHEDULERS, alphas_cumprod_on_grid, make_scheduler
from genlab.diffusion.processes import VE, VPOrnsteinUhlenbeck
from genlab.diffusion.samplers import time_grid


@pytest.mark.parametrize("name", SCHEDULERS)
def test_safe_config_and_grid(name):
    p = VPOrnsteinUhlenbeck(T=6.0, t0=1e-3)
    ts = time_grid(p, 20)
    sch, run = make_scheduler(name, p, ts)
    assert not getattr(sch.config, "clip_sample", False)
    assert not getattr(sch.config, "thresholding", False)
    assert run == list(range(20, 0, -1))
    _, abar = alphas_cumprod_on_grid(p, ts)
    # diffusers rebuilds alphas_cumprod in float32 by a cumulative product of 21 factors:
    # relative rounding <= 21 * 2^-24 ~ 1.3e-6
    assert torch.allclose(sch.alphas_cumprod.double(), abar, rtol=2e-6, atol=0)


def test_final_noise_level_is_t0():
    p = VE()
    ts = time_grid(p, 10)
    sch, _ = make_scheduler("dpm_solver", p, ts)
    _, abar = alphas_cumprod_on_grid(p, ts)
    # sigma_min of the scheduler is the grid's k = 0 level, i.e. t0, not 0.  diffusers holds
    # alphabar in float32 (a product of 11 factors: absolute error <= 11 * 2^-24), so
    # sigma_k = sqrt((1 - abar) / abar) carries relative error <= 11 * 2^-24 / (2 (1 - abar_0)):
    # 0.3% at VE's t0 = 1e-3, where 1 - abar_0 ~ 1.7e-6 -- a real limit of the float32 schedulers.
    tol = 11 * 2.0 ** -24 / (2 * float(1 - abar[0]))
    assert abs(float(sch.sigmas[-1]) / float(((1 - abar[0]) / abar[0]).sqrt()) - 1) < tol
    sch, _ = make_scheduler("ddim", p, ts)
    assert abs(float(sch.final_alpha_cumprod) / float(abar[0]) - 1) < 1e-5


def test_unknown_scheduler():
    with pytest.raises(ValueError, match="^scheduler must be one of ddpm, ddim, dpm_solver, euler_discrete; got 'pndm'$"):
        make_scheduler("pndm", VPOrnsteinUhlenbeck(), time_grid(VPOrnsteinUhlenbeck(), 5))
