"""Theory curves: closed forms against each other, special values, and Monte Carlo of the estimators."""

import math

import pytest
import torch
from scipy import integrate, stats

from genlab.icl import baselines as bl
from genlab.icl.prompts import PromptSampler, covariance_eigenvalues
from genlab.theory import icl as th


def test_issue_values():
    assert th.lsa_risk(5, 10) == pytest.approx(0.375, abs=1e-12)
    assert th.lsa_risk(10, 10) == pytest.approx(11 / 21, abs=1e-12)
    # isotropic closed form e(N, M) = 1 - 2/g_N + g_M/g_N^2, g_N = (N + d + 1)/N
    d, n, m = 4, 7, 13
    gn, gm = (n + d + 1) / n, (m + d + 1) / m
    assert th.lsa_risk(d, n, m) == pytest.approx(1 - 2 / gn + gm / gn**2, abs=1e-12)


def test_least_squares_formulas():
    assert th.least_squares_risk(5, 3) == pytest.approx(0.4)
    assert th.least_squares_risk(5, 9) == 0.0
    assert th.least_squares_risk(5, 10, sigma2=0.25) == pytest.approx(0.25 / 4)
    assert th.least_squares_risk(5, 6, sigma2=0.25) == math.inf


def test_bayes_ridge_exact_in_one_dimension():
    # d = 1: E[1/(chi2_k/s2 + 1/t2)] by quadrature is the exact finite-k value
    k, s2, t2 = 3, 0.5, 1.0
    exact, _ = integrate.quad(lambda u: stats.chi2(k).pdf(u) / (u / s2 + 1 / t2), 0, math.inf)
    r, se = th.bayes_ridge_risk(1, k, s2, t2, n_mc=200_000, return_se=True)
    assert abs(r - exact) < 4 * se


def test_bayes_ridge_limits():
    assert th.bayes_ridge_risk(5, 0, 0.3) == 1.0
    assert th.bayes_ridge_risk(5, 2, 0.0) == pytest.approx(0.6)
    # the proportional-limit formula is close to the exact value at moderate d
    assert th.bayes_ridge_risk_mp(20, 40, 0.5) == pytest.approx(th.bayes_ridge_risk(20, 40, 0.5, n_mc=4000), rel=0.05)


def test_zfb_gamma_minimises_the_risk():
    # Gamma^{-1} is the minimiser over diagonal preconditioners: perturbing it raises the risk
    lam = covariance_eigenvalues(4, "skewed")
    for s2 in (0.0, 0.5):
        b = 1 / th.zfb_gamma(lam, 6, s2)
        r0 = th.preconditioned_gd_risk(lam, b, 6, s2)
        for i in range(4):
            for eps in (-1e-3, 1e-3):
                bb = b.clone()
                bb[i] += eps
                assert th.preconditioned_gd_risk(lam, bb, 6, s2) > r0


@pytest.mark.parametrize("covariance, sigma2", [("isotropic", 0.0), ("skewed", 0.3)])
def test_preconditioned_gd_risk_by_monte_carlo(covariance, sigma2):
    d, n, B = 4, 6, 40_000
    s = PromptSampler("noisy_linear" if sigma2 else "linear", d, n, sigma2=sigma2, covariance=covariance,
                      dtype=torch.float64)
    xs, ys, ws = s.sample(B, torch.Generator().manual_seed(0))
    gamma_inv = 1 / th.zfb_gamma(s.lam, n, sigma2)
    err = ((bl.preconditioned_gd(xs, ys, gamma_inv) - s.clean(xs, ws)) ** 2 / d)[:, n]
    se = float(err.std()) / math.sqrt(B)
    assert abs(float(err.mean()) - th.lsa_risk(d, n, sigma2=sigma2, eigenvalues=s.lam)) < 4 * se


def test_bad_arguments():
    with pytest.raises(ValueError, match="^d"):
        th.least_squares_risk(0, 3)
    with pytest.raises(ValueError, match="^k"):
        th.least_squares_risk(3, -1)
    with pytest.raises(ValueError, match="^sigma2"):
        th.bayes_ridge_risk(3, 3, -0.1)


def test_full_matrix_risk_agrees_with_diagonal():
    lam = covariance_eigenvalues(3, "skewed")
    b = 1 / th.zfb_gamma(lam, 5, 0.2)
    r_diag = th.preconditioned_gd_risk(lam, b, 7, 0.2)
    assert abs(th.preconditioned_gd_risk(lam, torch.diag(b), 7, 0.2) - r_diag) < 1e-12


def test_full_matrix_risk_by_monte_carlo():
    d, n, B = 3, 5, 40_000
    s = PromptSampler("noisy_linear", d, n, sigma2=0.3, covariance="skewed", dtype=torch.float64)
    xs, ys, ws = s.sample(B, torch.Generator().manual_seed(3))
    b = torch.tensor([[0.5, 0.2, 0.0], [-0.1, 0.4, 0.3], [0.0, 0.1, 0.6]], dtype=torch.float64)
    err = ((bl.preconditioned_gd(xs, ys, b) - s.clean(xs, ws)) ** 2 / d)[:, n]
    se = float(err.std()) / math.sqrt(B)
    assert abs(float(err.mean()) - th.preconditioned_gd_risk(s.lam, b, n, 0.3)) < 4 * se
