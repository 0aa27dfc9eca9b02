"""wasserstein(x, law, method="1d") against laws whose p-th moment is infinite: inf, no warning.

W_p(mu, nu) = inf whenever mu has a finite p-th moment and nu has not (a finite
sample always has one): W_p^p >= (E|Y|^p)^{1/p} - (E|X|^p)^{1/p} by the triangle
inequality in L^p on any coupling. Found by running scipy's heavy-tailed laws
through the known-law path (issue 14, item 8): Pareto(0.8) at p = 1 gave -4.0,
Cauchy and t(1.5) at p = 2 a TypeError on a complex number.
"""

import warnings

import numpy as np
import pytest
from scipy import stats

from metrics import wasserstein

# A single point against a law: W_p^p(delta_0, law) = E|Y|^p, integrated by QUADPACK on
# the tail at epsrel 1e-11 (the value's p-th root halves the relative error); 1e-8 relative
# leaves room for the slowly convergent tails near the moment boundary.
QUAD_REL = 1e-8

X = np.random.default_rng(0).normal(size=(50, 1))


@pytest.mark.parametrize("law,p", [
    (stats.pareto(0.8), 1),      # E Y = inf for b <= 1
    (stats.pareto(1.5), 2),      # E Y^2 = inf for b <= 2
    (stats.cauchy(), 1),         # borderline: q(s) ~ 1/(pi s), int ds/s diverges
    (stats.cauchy(), 2),
    (stats.t(1.5), 2),           # E|T|^p < inf iff p < nu
    (stats.t(2), 2),             # borderline p = nu
])
@pytest.mark.parametrize("quantile_only", [False, True])
def test_infinite_moment_gives_inf_without_warnings(law, p, quantile_only):
    y = law.ppf if quantile_only else law
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # any IntegrationWarning or RuntimeWarning fails
        v = wasserstein(X, y, p=p, method="1d")
    assert v == np.inf


def test_lower_tail_and_one_point():
    # -Pareto(0.8): the infinite moment sits in the lower tail
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wasserstein([0.0], lambda t: -stats.pareto(0.8).ppf(1 - t), p=1, method="1d") == np.inf
        assert wasserstein([3.0], stats.cauchy(), p=1, method="1d") == np.inf


@pytest.mark.parametrize("law,p,moment", [
    (stats.pareto(3.0), 2, 3.0),           # E Y^p = b / (b - p) for b > p (scale 1)
    (stats.pareto(2.05), 2, 2.05 / 0.05),  # close to the boundary: tail index p/b = 0.976
    (stats.pareto(1.5), 1, 3.0),
    (stats.t(3), 2, 3.0),                  # Var t_nu = nu / (nu - 2)
    (stats.t(2.5), 2, 5.0),
    (stats.lognorm(1.0), 2, np.exp(2.0)),  # E Y^p = exp(p^2 sigma^2 / 2)
])
def test_finite_moment_controls_match_closed_form_without_warnings(law, p, moment):
    # W_p(delta_0, law)^p = E|Y|^p exactly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = wasserstein([0.0], law, p=p, method="1d")
    assert abs(v**p / moment - 1) < QUAD_REL


def test_unresolvable_tail_is_an_error_not_a_number():
    # lognormal(sigma = 2) at p = 4: E Y^4 = exp(32) = 7.9e13, but about half of it lies
    # beyond the quantile 1 - 1e-16 that float64 can reach (log Y under the Y^4-tilted law is
    # N(16, 4), and q(1 - 1e-16) = exp(2 * 8.22)): the old code returned 0.45% of the moment.
    with pytest.raises(ValueError, match="^y: "):
        wasserstein([0.0], stats.lognorm(2.0), p=4, method="1d")
