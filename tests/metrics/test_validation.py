"""Bad input raises a one-line ValueError that names the argument."""

import numpy as np
import pytest
from scipy import stats

from metrics import (
    evaluate,
    fit_rate,
    gaussian_w2,
    hellinger,
    kl,
    mmd2_unbiased,
    noise_floor,
    total_variation,
    tv_classifier_lower_bound,
    tv_histogram,
    wasserstein,
)

X = np.random.default_rng(0).normal(size=(20, 2))
Y = np.random.default_rng(1).normal(size=(25, 2))
NAN = X.copy()
NAN[3, 1] = np.nan
INF = X.copy()
INF[0, 0] = np.inf
normal = lambda n, s: np.random.default_rng(s).normal(size=(n, 2))  # noqa: E731
w1 = lambda a, b: wasserstein(a, b)  # noqa: E731

CASES = [
    ("y", lambda: wasserstein(X, Y[:, :1])),  # mismatched dimensions
    ("x", lambda: wasserstein(NAN, Y)),
    ("x", lambda: wasserstein(INF, Y)),
    ("x", lambda: wasserstein(np.zeros((0, 2)), Y)),
    ("y", lambda: wasserstein(X, np.zeros((0, 2)))),
    ("p", lambda: wasserstein(X, Y, p=0.5)),
    ("method", lambda: wasserstein(X, Y, method="bogus")),
    ("weights_x", lambda: wasserstein(X, Y, weights_x=np.r_[-0.1, np.full(19, 1.1 / 19)])),
    ("weights_x", lambda: wasserstein(X, Y, weights_x=np.zeros(20))),  # all zero (a sum != 1 is normalised, issue 18)
    ("weights_y", lambda: wasserstein(X, Y, weights_y=np.ones(3) / 3)),
    ("n_projections", lambda: wasserstein(X, Y, method="sliced", n_projections=0)),
    ("x must be one-dimensional", lambda: wasserstein(X, Y, method="1d")),
    ("x", lambda: wasserstein(X, stats.norm(), method="1d")),
    ("reg", lambda: wasserstein(X, Y, method="sinkhorn", reg=-1.0)),
    ("max_points", lambda: wasserstein(X, Y, max_points=0)),
    ("m2", lambda: gaussian_w2(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))),
    ("S1", lambda: gaussian_w2(np.zeros(2), -np.eye(2), np.zeros(2), np.eye(2))),
    ("S2", lambda: gaussian_w2(np.zeros(2), np.eye(2), np.zeros(2), [[1.0, 2.0], [0.0, 1.0]])),
    ("y", lambda: mmd2_unbiased(X, Y[:, :1])),
    ("bandwidth", lambda: mmd2_unbiased(X, Y, bandwidth=0.0)),
    ("kernel", lambda: mmd2_unbiased(X, Y, kernel="cosine")),
    ("x", lambda: mmd2_unbiased(X[:1], Y)),
    ("log_q", lambda: kl(np.zeros(5), np.zeros(4))),
    ("log_p", lambda: hellinger(np.array([np.nan, 0.0]), np.zeros(2))),
    ("alpha", lambda: kl(np.zeros(5), np.zeros(5), alpha=1.5)),
    ("x has dimension", lambda: tv_histogram(np.zeros((5, 3)), np.zeros((5, 3)))),
    ("y", lambda: tv_classifier_lower_bound(X, Y[:, :1])),
    ("bounds", lambda: total_variation(log_p=lambda z: z[:, 0], log_q=lambda z: z[:, 0], bounds=(1, 0))),
    ("method", lambda: total_variation(x=X, y=Y, method="magic")),
    ("m", lambda: noise_floor(normal, 0, w1)),
    ("reps", lambda: noise_floor(normal, 10, w1, reps=0)),
    ("sampler", lambda: noise_floor(None, 10, w1)),
    ("names", lambda: evaluate(normal, X, ["w1", "nope"])),
    ("model_samples", lambda: evaluate(normal, NAN, ["w1"])),
    ("truth_log_prob", lambda: evaluate(normal, X, ["kl"])),
    ("floor_factor", lambda: fit_rate([1, 2, 3], [1.0, 0.5, 0.3], floor_factor=0.0)),
    ("ns", lambda: fit_rate([0, 1, 3], [1.0, 0.5, 0.3])),
    ("errors", lambda: fit_rate([1, 2, 3], [1.0, 0.5])),
    ("floors", lambda: fit_rate([1, 2, 3], [1.0, 0.5, 0.3], floors=[0.1, 0.1])),
    ("min_points", lambda: fit_rate([1, 2, 3], [1.0, 0.5, 0.3], min_points=0)),
]


@pytest.mark.parametrize("name,call", CASES, ids=[f"{i}-{c[0].split()[0]}" for i, c in enumerate(CASES)])
def test_bad_input_raises_value_error_naming_argument(name, call):
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(name) or f"{name} " in msg or f"{name}:" in msg, msg
