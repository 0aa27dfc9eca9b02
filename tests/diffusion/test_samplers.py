"""Every sampler fed the oracle score reproduces the noised mixture p_t0 within the W1 noise floor."""

import pytest
import torch

from genlab.diffusion.processes import VPOrnsteinUhlenbeck
from genlab.diffusion.reference import OracleScore
from genlab.diffusion.samplers import SAMPLERS, make_sampler, time_grid

M = 600
STEPS = {"sde_euler": 300, "ode_euler": 300, "ode_heun": 50, "ode_adaptive": 2, "ddpm": 300,
         "ddim": 80, "dpm_solver": 50, "euler_discrete": 300}


@pytest.fixture(scope="module")
def setup(mixture, w1_fn):
    p = VPOrnsteinUhlenbeck(T=6.0, t0=1e-3)
    q = p.marginal(mixture, p.t0)
    g = torch.Generator().manual_seed(0)
    ref = q.sample(M, g)
    # The floor: W1 between two independent size-M samples of p_t0.  Its spread over 6
    # replicates gives the tolerance mean + 4 sd (a perfect sampler's W1 has the same law).
    floors = torch.tensor([w1_fn(ref, q.sample(M, g)) for _ in range(6)])
    return p, ref, float(floors.mean() + 4 * floors.std()), float(floors.mean())


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_oracle_sampler_within_floor(name, setup, mixture, w1_fn):
    p, ref, tol, floor = setup
    g = torch.Generator().manual_seed(11)
    x_T = p.prior_sample(M, 2, g, dtype=torch.float64)
    ts = time_grid(p, STEPS[name])
    x = make_sampler(name)(OracleScore(mixture, p), x_T, ts, p, generator=g)
    assert x.shape == (M, 2) and torch.isfinite(x).all()
    assert w1_fn(x, ref) < tol, (name, w1_fn(x, ref), floor, tol)


def test_unknown_sampler():
    with pytest.raises(ValueError, match="^sampler must be one of sde_euler, .*; got 'euler'$"):
        make_sampler("euler")


@pytest.mark.parametrize("kind", ["uniform", "logsnr", "edm"])
def test_time_grid(kind):
    p = VPOrnsteinUhlenbeck(T=6.0, t0=1e-3)
    ts = time_grid(p, 10, kind=kind)
    assert ts.shape == (11,) and ts[0] == 6.0 and ts[-1] == 1e-3 and (ts[1:] < ts[:-1]).all()
    with pytest.raises(ValueError, match="^t0 must satisfy"):
        time_grid(p, 10, t0=7.0)
