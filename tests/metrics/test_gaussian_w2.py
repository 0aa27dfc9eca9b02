"""gaussian_w2 against the Bures formula."""

import numpy as np
from scipy import linalg

from metrics import gaussian_w2

EXACT = 1e-10  # eigendecompositions of well-conditioned 3x3 / 4x4 matrices: ~1e-14


def test_commuting_case_by_hand():
    # Diagonal covariances commute: W2^2 = |dm|^2 + sum_i (sqrt a_i - sqrt b_i)^2.
    m1, m2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    expected = np.sqrt(5.0 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 0.5) ** 2)
    assert abs(gaussian_w2(m1, np.diag(a), m2, np.diag(b)) - expected) < EXACT


def test_non_commuting_case_against_scipy_sqrtm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4))
    s1, s2 = a @ a.T + 0.1 * np.eye(4), b @ b.T + 0.1 * np.eye(4)
    m1, m2 = rng.normal(size=4), rng.normal(size=4)
    r1 = linalg.sqrtm(s1).real
    bures = np.trace(s1) + np.trace(s2) - 2 * np.trace(linalg.sqrtm(r1 @ s2 @ r1).real)
    assert abs(gaussian_w2(m1, s1, m2, s2) - np.sqrt(np.sum((m1 - m2) ** 2) + bures)) < EXACT
    # symmetric in its arguments
    assert abs(gaussian_w2(m1, s1, m2, s2) - gaussian_w2(m2, s2, m1, s1)) < EXACT
