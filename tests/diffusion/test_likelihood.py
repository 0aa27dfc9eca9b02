import math

import pytest
import torch

from genlab.diffusion.likelihood import ode_log_prob
from genlab.diffusion.processes import VPOrnsteinUhlenbeck
from genlab.diffusion.reference import OracleScore


def test_oracle_ode_density_matches_mixture(mixture):
    """PF-ODE log-density of the oracle model = log p_t0 of the noised mixture.

    With the exact p_T as prior, the only error is the solver's.  RK4 has global
    error C h^4, so e(N) = lp_N - exact satisfies lp_N - lp_2N = 15 e(2N) + O(h^5):
    the Richardson estimate |lp_N - lp_2N| / 15 bounds e(2N) up to higher-order
    terms; we allow 2x that (mean over points), and check the observed order
    log2(e(N) / e(2N)) lies in [3, 5.5] (4 expected)."""
    p = VPOrnsteinUhlenbeck(T=6.0, t0=1e-3)
    g = torch.Generator().manual_seed(0)
    x = p.marginal(mixture, p.t0).sample(40, g)
    exact = p.marginal(mixture, p.t0).log_prob(x)
    prior = p.marginal(mixture, p.T).log_prob
    o = OracleScore(mixture, p)
    lp1 = ode_log_prob(o, x, p, n_steps=32, prior_log_prob=prior)
    lp2 = ode_log_prob(o, x, p, n_steps=64, prior_log_prob=prior)
    e1, e2 = (lp1 - exact).abs().mean(), (lp2 - exact).abs().mean()
    richardson = (lp1 - lp2).abs().mean() / 15
    assert e2 <= 2 * richardson, (float(e2), float(richardson))
    assert 3.0 <= math.log2(e1 / e2) <= 5.5, (float(e1), float(e2))
    assert e2 < 1e-2


@pytest.mark.slow
def test_hutchinson_is_unbiased(mixture):
    """Hutchinson with Rademacher probes is unbiased for the trace: with 64 probes the
    estimate is within 5 SE of the exact-trace integral (SE from 6 independent runs)."""
    p = VPOrnsteinUhlenbeck(T=6.0, t0=0.05)
    x = p.marginal(mixture, p.t0).sample(10, torch.Generator().manual_seed(2))
    o = OracleScore(mixture, p)
    exact = ode_log_prob(o, x, p, n_steps=6, trace="exact")
    g = torch.Generator().manual_seed(3)
    runs = torch.stack([ode_log_prob(o, x, p, n_steps=6, trace="hutchinson", n_probes=8, generator=g)
                        for _ in range(6)])
    est, se = runs.mean(0), runs.std(0) / math.sqrt(6)
    assert ((est - exact).abs() <= 5 * se + 1e-12).all()


def test_bad_trace(mixture):
    p = VPOrnsteinUhlenbeck()
    with pytest.raises(ValueError, match="^trace must be one of"):
        ode_log_prob(OracleScore(mixture, p), torch.zeros(2, 2), p, trace="skilling")


def test_float32_network_likelihood_agrees_with_float64():
    """``likelihood_dtype=float32`` (the default) against float64 on the same trained network.

    The ODE runs 4 x 12 = 48 float32 score-Jacobian evaluations whose traces
    are summed in float64; each carries a relative rounding of a few float32
    ulps (6e-8), so log p moves by about 48 x |div| x 1e-7, ~1e-5 for the
    divergences of order 1e1 here.  The tolerance 1e-4 allows 10x that, and
    is still 20x below the CI half-width (about 2e-3) of the TV it feeds.
    """
    from genlab.diffusion import fit_diffusion
    from genlab.diffusion.config import DiffusionConfig
    from genlab.distributions import make_truth

    truth = make_truth("gmm_anisotropic")
    x = truth.sample(500, generator=torch.Generator().manual_seed(0))
    model = fit_diffusion(DiffusionConfig(width=32, steps=60, likelihood_steps=12), x, seed=0)
    pts = truth.sample(300, generator=torch.Generator().manual_seed(1))
    lp32 = model.log_prob(pts)
    model.cfg.likelihood_dtype = "float64"
    lp64 = model.log_prob(pts)
    assert lp32.dtype == lp64.dtype == torch.float64
    assert (lp32 - lp64).abs().max() < 1e-4
    assert (lp32 - lp64).abs().max() > 0          # the two paths really ran in different precisions
