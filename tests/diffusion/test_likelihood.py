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
