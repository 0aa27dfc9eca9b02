import math

import pytest
import torch

from genlab.diffusion.loss import dsm_loss_per_sample, irreducible_eps_loss, sample_times
from genlab.diffusion.parametrisation import (ScoreModel, check_target, eps_to_score, eps_to_x0,
                                              score_to_eps, score_to_x0, x0_to_eps, x0_to_score)
from genlab.diffusion.processes import VPOrnsteinUhlenbeck
from genlab.diffusion.reference import OracleScore
from genlab.nn.mlp import TimeMLP


def test_conversions_round_trip():
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(50, 3, generator=g, dtype=torch.float64), torch.randn(50, 3, generator=g,
                                                                                dtype=torch.float64)
    a, s = 0.8, 0.6
    xt = a * x0 + s * eps
    # exact algebra in float64: a few ulps
    assert torch.allclose(eps_to_x0(eps, xt, a, s), x0, atol=1e-13)
    assert torch.allclose(x0_to_eps(x0, xt, a, s), eps, atol=1e-13)
    sc = eps_to_score(eps, s)
    assert torch.allclose(score_to_eps(sc, s), eps, atol=1e-13)
    assert torch.allclose(x0_to_score(x0, xt, a, s), sc, atol=1e-13)
    assert torch.allclose(score_to_x0(sc, xt, a, s), x0, atol=1e-13)


@pytest.mark.parametrize("target", ["eps", "score", "x0"])
@pytest.mark.parametrize("precondition", [True, False])
def test_score_model_views_agree(target, precondition):
    p = VPOrnsteinUhlenbeck()
    m = ScoreModel(TimeMLP(2, 16, 1, 8).double(), p, target, precondition=precondition)
    x = torch.randn(7, 2, dtype=torch.float64)
    t = torch.rand(7, dtype=torch.float64) + 0.01
    a, s = m.coefficients(t, x)
    assert torch.allclose(m.eps(x, t), score_to_eps(m.score(x, t), s), atol=1e-12)
    assert torch.allclose(m.x0(x, t), eps_to_x0(m.eps(x, t), x, a, s), atol=1e-10)


@pytest.mark.parametrize("precondition", [True, False])
def test_input_scale_is_a_first_layer_scale(precondition):
    # k c_in x through W_x equals c_in x through k W_x: exact up to float64 rounding.
    k, p = 4.0, VPOrnsteinUhlenbeck()
    net = TimeMLP(2, 16, 1, 8, generator=torch.Generator().manual_seed(0)).double()
    scaled = ScoreModel(net, p, "x0", precondition=precondition, input_scale=k)
    net1 = TimeMLP(2, 16, 1, 8, generator=torch.Generator().manual_seed(0)).double()
    with torch.no_grad():
        net1.x_in.weight.mul_(k)
    plain = ScoreModel(net1, p, "x0", precondition=precondition)
    x = torch.randn(7, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    t = torch.rand(7, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) + 0.01
    assert torch.allclose(scaled.score(x, t), plain.score(x, t), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="^input_scale must be > 0"):
        ScoreModel(net, p, "x0", input_scale=0.0)


def test_unknown_target():
    with pytest.raises(ValueError, match="^target must be one of eps, score, x0; got 'v'$"):
        check_target("v")
    with pytest.raises(ValueError, match="^target must be one of"):
        ScoreModel(TimeMLP(2, 8, 1, 8), VPOrnsteinUhlenbeck(), "v")


@pytest.mark.parametrize("kind", ["uniform", "logsnr", "edm"])
def test_sample_times_in_range(kind):
    p = VPOrnsteinUhlenbeck(T=6.0, t0=1e-4)
    t = sample_times(p, 5000, torch.Generator().manual_seed(0), kind)
    assert t.dtype == torch.float64 and t.min() >= p.t0 and t.max() <= p.T
    if kind == "logsnr":
        lam = p.logsnr(t)
        lo, hi = float(p.logsnr(p.T)), float(p.logsnr(p.t0))
        # mean of U[lo, hi] with SE (hi-lo)/sqrt(12 n); 5 SE
        assert abs(float(lam.mean()) - (lo + hi) / 2) < 5 * (hi - lo) / math.sqrt(12 * 5000)


class _OracleEps(torch.nn.Module):
    """A ScoreModel stand-in whose eps is the exact -sigma_t grad log p_t."""

    def __init__(self, truth, process):
        super().__init__()
        self.process, self.oracle, self.sigma_data = process, OracleScore(truth, process), 1.0

    def coefficients(self, t, like):
        t = torch.as_tensor(t, dtype=torch.float64)
        return self.process.alpha(t).reshape(-1, 1).to(like), self.process.sigma(t).reshape(-1, 1).to(like)

    def eps(self, xt, t):
        return -self.process.sigma(t).reshape(-1, 1) * self.oracle(xt, t)


@pytest.mark.parametrize("t", [0.05, 0.5, 2.0])
def test_dsm_loss_of_oracle_is_irreducible(mixture, t):
    """E||eps - E[eps|x_t]||^2 = d - sigma_t^2 E||grad log p_t||^2 (loss.py docstring).

    The right side: E||grad log p_t||^2 by a midpoint rule on a 600^2 grid over
    [-6, 6]^2 (the mass outside is < 1e-12; the integrand is smooth on the grid
    scale, so quadrature error << the MC error).  The left: MC over n = 20,000
    draws; the two agree within 5 standard errors."""
    p = VPOrnsteinUhlenbeck(T=6.0, t0=1e-4)
    g = torch.Generator().manual_seed(1)
    n = 20_000
    x0 = mixture.sample(n, g)
    eps = torch.randn(n, 2, generator=g, dtype=torch.float64)
    tt = torch.full((n,), t, dtype=torch.float64)
    losses = dsm_loss_per_sample(_OracleEps(mixture, p), x0, tt, eps, "eps")
    mc, se = float(losses.mean()), float(losses.std()) / math.sqrt(n)

    k = 600
    u = -6 + 12 * (torch.arange(k, dtype=torch.float64) + 0.5) / k
    grid = torch.stack(torch.meshgrid(u, u, indexing="ij"), -1).reshape(-1, 2)
    lp, sc = OracleScore(mixture, p).log_prob_and_score(grid, t)
    w = torch.exp(lp) * (12 / k) ** 2
    assert abs(float(w.sum()) - 1) < 1e-6
    exact = irreducible_eps_loss(2, float(p.sigma(t)), float((w * (sc ** 2).sum(-1)).sum()))
    assert abs(mc - exact) < 5 * se, (mc, exact, se)
