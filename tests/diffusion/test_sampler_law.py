"""The exact law of a deterministic sampler (sampler_law.py) against closed forms.

For a Gaussian truth the noised score is affine in x, so every Euler or Heun
step is an affine map and the whole sampler is y = A x_T + b: its output law
is exactly N(b, A A^T).  A and b are read off the sampler itself (applied to 0
and to the basis vectors), independently of the Jacobian bookkeeping under test.
"""

import math

import pytest
import torch

from genlab.diffusion import DiffusionConfig, OracleScore, fit_diffusion, make_process, time_grid
from genlab.diffusion.samplers import sample_ode_euler, sample_ode_heun
from genlab.diffusion.sampler_law import LAW_SAMPLERS, ode_sampler_with_log_prob, score_jacobian
from genlab.distributions.gaussian import GaussianMixture

SAMPLE = {"ode_euler": sample_ode_euler, "ode_heun": sample_ode_heun}


def _gaussian(d):
    cov = torch.tensor([[0.3, 0.1, 0.0], [0.1, 0.2, 0.05], [0.0, 0.05, 0.4]], dtype=torch.float64)[:d, :d]
    return GaussianMixture([1.0], [[0.7, -1.2, 0.4][:d]], cov[None])


@pytest.mark.parametrize("method", LAW_SAMPLERS)
@pytest.mark.parametrize("d", [1, 2, 3])
def test_affine_sampler_law_is_the_gaussian_push_forward(method, d):
    process = make_process("vp_ou", T=5.0, t0=1e-3)
    score = OracleScore(_gaussian(d), process)
    ts = time_grid(process, 12, kind="edm")
    x_T = process.prior_sample(200, d, torch.Generator().manual_seed(0), dtype=torch.float64)
    y, log_q = ode_sampler_with_log_prob(score, x_T, ts, process, method=method)

    run = lambda x: SAMPLE[method](score, x, ts, process)  # noqa: E731
    b = run(torch.zeros(1, d, dtype=torch.float64))[0]
    A = (run(torch.eye(d, dtype=torch.float64)) - b).T                   # columns: images of e_j
    law = torch.distributions.MultivariateNormal(b, scale_tril=torch.linalg.cholesky(A @ A.T))
    assert torch.allclose(y, x_T @ A.T + b, atol=1e-10)
    assert torch.allclose(log_q, law.log_prob(y), atol=1e-9)


@pytest.mark.parametrize("method", LAW_SAMPLERS)
def test_samples_equal_the_plain_sampler(mixture, method):
    process = make_process("vp_ou", T=6.0, t0=1e-3)
    score = OracleScore(mixture, process)
    ts = time_grid(process, 40, kind="edm")
    x_T = process.prior_sample(300, 2, torch.Generator().manual_seed(1), dtype=torch.float64)
    y, _ = ode_sampler_with_log_prob(score, x_T, ts, process, method=method)
    assert torch.allclose(y, SAMPLE[method](score, x_T, ts, process), atol=1e-12)


def test_score_jacobian_of_a_gaussian_is_minus_the_inverse_covariance():
    g = _gaussian(3)
    x = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    s, jac = score_jacobian(lambda z, t: g.score(z), x, 0.0)
    assert torch.allclose(jac, -torch.linalg.inv(g.covs[0]).expand(5, 3, 3), atol=1e-10)
    assert torch.allclose(s, g.score(x), atol=1e-12)


def test_a_step_that_folds_space_is_refused(mixture):
    # Heun with 3 steps from T = 6 jumps across the stiff small-t region: det D phi < 0 somewhere.
    process = make_process("vp_ou", T=6.0, t0=1e-4)
    x_T = process.prior_sample(4000, 2, torch.Generator().manual_seed(3), dtype=torch.float64)
    with pytest.raises(ValueError, match="folds space"):
        ode_sampler_with_log_prob(OracleScore(mixture, process), x_T, time_grid(process, 3), process,
                                  method="ode_heun")


def test_oracle_model_has_zero_score_error_and_its_sampler_law_normalises(mixture):
    """The oracle model's score error vanishes, and E_q[p/q] = 1 - (mass of p where q = 0) ~ 1."""
    cfg = DiffusionConfig(score="oracle", sampler="ode_heun", sampler_steps=256, T=10.0, t0=1e-3,
                          score_error_times=[0.01, 1.0], score_error_m=500)
    x = mixture.sample(10, generator=torch.Generator().manual_seed(4))
    model = fit_diffusion(cfg, x, seed=0, truth=mixture)
    y, log_q = model.sample_with_log_prob(20000)
    extras = model.extra_metrics(truth=mixture)
    # score_error feeds the score float32 points: the only error left is that rounding (~1e-7 relative)
    assert extras["score_error_t0.01"] < 1e-9 and extras["score_error_t1"] < 1e-9
    # importance weights p_t0 / q: their mean estimates 1 (q > 0 everywhere); 5 standard errors
    w = torch.exp(model.process.marginal(mixture, cfg.t0).log_prob(y) - log_q)
    assert abs(float(w.mean()) - 1.0) < 5 * float(w.std()) / math.sqrt(len(w))


def test_oracle_needs_a_mixture_truth():
    from genlab.distributions import make_truth

    truth = make_truth("smooth", dim=1)
    with pytest.raises(ValueError, match="oracle needs a truth"):
        fit_diffusion(DiffusionConfig(score="oracle"), truth.sample(10), seed=0, truth=truth)
