"""Metric API (issue 18, item 7): unnormalised and float32 weights, several targets in one call,
user-supplied sliced directions, energy distance; each against POT or scipy on the same inputs."""

import numpy as np
import ot
import pytest
import torch
from scipy import stats

from metrics import energy_distance, mode_coverage, projection_bank, wasserstein
from metrics._validation import WEIGHT_SUM_RTOL, as_weights

# Exact float64 computations on the same inputs (sorting, the network simplex on the same cost,
# CDF sums) agree to rounding, ~1e-15 relative on O(1) values; 1e-10 leaves room for summation order.
EXACT = 1e-10
EPS32 = float(np.finfo(np.float32).eps)


def _data(seed, n=40, m=30, d=2):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=(n, d)), rng.normal(0.5, 1.5, size=(m, d))


# ----------------------------------------------------------------------------- weights


@pytest.mark.parametrize("method", ["exact", "sinkhorn", "sliced"])
def test_unnormalised_weights_equal_the_normalised_ones(method):
    # A measure's weights are read up to their total (POT's emd2 needs equal masses, scipy
    # normalises): 7.3 w gives the value of w / sum(w), exactly (the same float64 division).
    rng, x, y = _data(0)
    wx, wy = rng.random(40), rng.random(30)
    ref = wasserstein(x, y, p=2, method=method, weights_x=wx / wx.sum(), weights_y=wy / wy.sum())
    value = wasserstein(x, y, p=2, method=method, weights_x=7.3 * wx, weights_y=0.01 * wy)
    assert abs(value - ref) < EXACT


def test_unnormalised_weights_against_pot_and_scipy():
    rng, x, y = _data(1)
    wx, wy = 3.0 * rng.random(40), 0.2 * rng.random(30)
    a, b = wx / wx.sum(), wy / wy.sum()
    assert abs(wasserstein(x, y, p=1, weights_x=wx, weights_y=wy) - ot.emd2(a, b, ot.dist(x, y, "euclidean"))) < EXACT
    u, v = x[:, 0], y[:, 0]
    # scipy normalises u_weights, v_weights itself: the raw vectors go in on both sides.
    assert abs(wasserstein(u, v, method="1d", weights_x=wx, weights_y=wy)
               - stats.wasserstein_distance(u, v, wx, wy)) < EXACT


def _softmax32(seed):
    logits = torch.from_numpy(np.random.default_rng(seed).normal(size=10) * 3.0).float()
    return torch.softmax(logits, dim=0)  # float32, normalised in float32


def test_float32_softmax_weights_are_accepted_and_read_exactly():
    w32 = [_softmax32(s) for s in range(50)]
    off = [abs(float(w.double().sum()) - 1.0) for w in w32]
    # The case: float32 rounding leaves some sums further than 1e-8 from 1 (the test
    # is void unless such a vector occurs), yet within n * eps32 / 2 (each entry rounded
    # once, plus the rounding of the float32 normaliser).
    assert sum(o > WEIGHT_SUM_RTOL for o in off) >= 5
    assert max(off) <= 10 * EPS32 / 2
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(10, 2)), rng.normal(size=(7, 2))
    m = ot.dist(x, y, "euclidean")
    b = np.full(7, 1 / 7)
    for w in w32:
        a = w.double().numpy() / w.double().numpy().sum()  # float64 normalisation of the float32 numbers
        assert abs(wasserstein(x, y, weights_x=w) - ot.emd2(a, b, m)) < EXACT
        assert abs(wasserstein(x, y, weights_x=w.numpy()) - ot.emd2(a, b, m)) < EXACT


def test_probability_vectors_get_a_tolerance_that_follows_the_dtype():
    # Where weights must be a probability vector (mixture weights), the sum-to-1 tolerance is
    # max(1e-8, n * eps of the input's dtype): float32 softmax passes, float64 keeps 1e-8.
    for s in range(50):
        w = _softmax32(s)
        w64 = w.double().numpy()
        assert np.allclose(as_weights("weights", w, 10), w64 / w64.sum(), rtol=0, atol=1e-16)
        assert np.allclose(as_weights("weights", w.numpy(), 10).sum(), 1.0, rtol=0, atol=1e-15)
    w = np.full(10, 0.1, dtype=np.float32) * np.float32(1 + 20 * EPS32)  # 2 n eps32 off: refused
    with pytest.raises(ValueError, match="^weights must sum to 1"):
        as_weights("weights", w, 10)
    w64 = np.full(10, 0.1) * (1 + 1e-7)  # float64, 1e-7 off: refused as before
    with pytest.raises(ValueError, match="^weights must sum to 1"):
        as_weights("weights", w64, 10)
    # mode_coverage takes a float32 softmax mixture weight vector that 1e-8 refused
    w10 = next(w for w in map(_softmax32, range(50)) if abs(float(w.double().sum()) - 1.0) > WEIGHT_SUM_RTOL)
    means = np.c_[np.arange(10.0) * 3.0, np.zeros(10)]
    x = np.random.default_rng(3).normal(size=(500, 2)) * 0.1 + means[np.arange(500) % 10]
    mc = mode_coverage(x, means, stds=0.1, weights=w10)
    assert mc.modes_captured == 10
    assert np.allclose(mc.weights, w10.double().numpy() / float(w10.double().sum()), rtol=0, atol=1e-16)


BAD_WEIGHTS = [
    ("weights_x", {"weights_x": np.r_[-0.1, np.ones(39)]}, "negative"),
    ("weights_x", {"weights_x": np.r_[np.nan, np.ones(39)]}, "NaN"),
    ("weights_x", {"weights_x": np.zeros(40)}, "sums to 0"),
    ("weights_y", {"weights_y": np.r_[np.inf, np.ones(29)]}, "NaN or inf"),
    ("weights_y column 1", {"weights_y": np.c_[np.ones(30), np.zeros(30)]}, "sums to 0"),
    ("weights_y column 0", {"weights_y": np.c_[-np.ones(30), np.ones(30)]}, "negative"),
    ("weights_y", {"weights_y": np.ones((29, 2))}, "rows"),
]


@pytest.mark.parametrize("name,kwargs,what", BAD_WEIGHTS, ids=[f"{c[0]}-{c[2]}" for c in BAD_WEIGHTS])
def test_bad_weights_raise_one_line_naming_the_argument(name, kwargs, what):
    _, x, y = _data(4)
    with pytest.raises(ValueError) as info:
        wasserstein(x, y, **kwargs)
    msg = str(info.value)
    assert msg.startswith(name) and what in msg and "\n" not in msg, msg
    if "column" not in name and "rows" not in what:
        with pytest.raises(ValueError, match=f"^{name}"):
            energy_distance(x, y, **kwargs)


# ----------------------------------------------------------------------------- several targets


@pytest.mark.parametrize("p", [1, 2])
def test_several_targets_exact_equal_pot_emd2_with_a_matrix_b(p):
    rng, x, y = _data(5)
    a = rng.random(40)
    b = rng.random((30, 4))
    cost = ot.dist(x, y, "euclidean" if p == 1 else "sqeuclidean")
    pot = ot.emd2(a / a.sum(), b / b.sum(0), cost)  # POT: b of shape (m, nb) gives nb values
    ours = wasserstein(x, y, p=p, weights_x=a, weights_y=b)
    assert isinstance(ours, np.ndarray) and ours.shape == (4,)
    assert np.max(np.abs(ours - np.asarray(pot) ** (1 / p))) < EXACT


def test_several_targets_1d_equal_pot_batched_wasserstein_1d():
    rng = np.random.default_rng(6)
    u, v = rng.normal(size=25), rng.standard_t(3, size=18)
    a, b = rng.random(25), rng.random((18, 3))
    for p in (1, 2):
        # POT's batched form: one 1-D problem per column of values and weights.
        pot = ot.wasserstein_1d(np.repeat(u[:, None], 3, 1), np.repeat(v[:, None], 3, 1),
                                np.repeat((a / a.sum())[:, None], 3, 1), b / b.sum(0), p=p) ** (1 / p)
        assert np.max(np.abs(wasserstein(u, v, p=p, method="1d", weights_x=a, weights_y=b) - pot)) < EXACT
    scipy_cols = [stats.wasserstein_distance(u, v, a, b[:, k]) for k in range(3)]
    assert np.max(np.abs(wasserstein(u, v, method="1d", weights_x=a, weights_y=b) - scipy_cols)) < EXACT


def test_several_targets_sinkhorn_equal_one_call_per_column():
    # reg (the median cost) and the x self-term do not depend on the target weights, so one call
    # with nb columns is nb single calls, to the bit.
    rng, x, y = _data(7, n=30, m=25)
    b = rng.random((25, 3))
    many = wasserstein(x, y, p=2, method="sinkhorn", weights_y=b)
    single = [wasserstein(x, y, p=2, method="sinkhorn", weights_y=b[:, k]) for k in range(3)]
    assert many.tolist() == single
    # and the cross term is POT's: for the quadratic cost with a shift c, S_eps = |c|^2 whatever
    # the common weights (tests/metrics/test_wasserstein.py), column by column.
    c = np.array([0.8, -0.3])
    shifted = wasserstein(y, y + c, p=2, method="sinkhorn", reg=0.5, weights_x=b[:, 0],
                          weights_y=np.c_[b[:, 0], b[:, 0]])
    assert np.max(np.abs(shifted - np.linalg.norm(c))) < 1e-5


def test_one_column_weights_give_a_float_and_sliced_refuses_several():
    rng, x, y = _data(8)
    b = rng.random(30)
    assert wasserstein(x, y, weights_y=b[:, None]) == wasserstein(x, y, weights_y=b)
    assert isinstance(wasserstein(x, y, weights_y=b[:, None]), float)
    with pytest.raises(ValueError, match="^weights_y: several targets"):
        wasserstein(x, y, method="sliced", weights_y=np.c_[b, b])


# ----------------------------------------------------------------------------- projections=


@pytest.mark.parametrize("p", [1, 2])
def test_user_projections_equal_pot_projections(p):
    # Rows used as given (not normalised), as POT uses its (d, k) matrix: the same numbers.
    rng, x, y = _data(9, n=120, m=120, d=3)
    theta = rng.normal(size=(17, 3)) * 1.7
    ours = wasserstein(x, y, p=p, method="sliced", projections=theta)
    assert abs(ours - ot.sliced_wasserstein_distance(x, y, p=p, projections=theta.T)) < EXACT
    # unequal sizes and weights: POT's merged-quantile 1-D terms
    a, b = rng.random(120), rng.random(77)
    y2 = y[:77]
    ours_w = wasserstein(x, y2, p=p, method="sliced", projections=theta, weights_x=a, weights_y=b)
    pot_w = ot.sliced_wasserstein_distance(x, y2, a / a.sum(), b / b.sum(), p=p, projections=theta.T)
    assert abs(ours_w - pot_w) < EXACT


def test_projections_reproduce_the_bank_and_refuse_pots_layout():
    _, x, y = _data(10, d=3)
    bank = projection_bank(3, 40, seed=5)
    default = wasserstein(x, y, method="sliced", n_projections=40, seed=5)
    assert wasserstein(x, y, method="sliced", projections=bank) == default
    assert wasserstein(x, y, method="sliced", projections=torch.from_numpy(bank)) == default
    for bad in (bank.T, bank[:, :2], np.zeros((0, 3)), np.r_[bank[:1], [[np.nan, 0, 0]]]):
        with pytest.raises(ValueError, match="^projections"):
            wasserstein(x, y, method="sliced", projections=bad)


# ----------------------------------------------------------------------------- energy distance


def test_energy_distance_equals_scipy_in_one_dimension():
    rng = np.random.default_rng(11)
    u, v = rng.normal(size=57), rng.standard_t(4, size=33) + 0.4
    wu, wv = 5.0 * rng.random(57), rng.random(33)
    assert abs(energy_distance(u, v) - stats.energy_distance(u, v)) < EXACT
    assert abs(energy_distance(u, v, weights_x=wu, weights_y=wv) - stats.energy_distance(u, v, wu, wv)) < EXACT
    assert abs(energy_distance(torch.from_numpy(u), v) - stats.energy_distance(u, v)) < EXACT
    # ties (repeated values) as scipy handles them
    t, s = np.round(u, 0), np.round(v, 0)
    assert abs(energy_distance(t, s) - stats.energy_distance(t, s)) < EXACT


def test_energy_distance_in_the_plane_restricts_to_scipy_on_a_line():
    # Points on a line through the plane: ||x_i - y_j|| = |u_i - v_j|, so the pairwise (d >= 2) form
    # must give scipy's 1-D value; rotating and shifting the line changes nothing (to rounding of
    # the embedded coordinates, ~1e-15 relative).
    rng = np.random.default_rng(12)
    u, v = rng.normal(size=44), rng.normal(0.7, 2.0, size=31)
    wu, wv = rng.random(44), rng.random(31)
    e = np.array([np.cos(0.6), np.sin(0.6)])
    x, y = u[:, None] * e + [3.0, -1.0], v[:, None] * e + [3.0, -1.0]
    assert abs(energy_distance(x, y) - stats.energy_distance(u, v)) < EXACT
    assert abs(energy_distance(x, y, weights_x=wu, weights_y=wv, chunk_size=5)
               - stats.energy_distance(u, v, wu, wv)) < EXACT


def test_energy_distance_matches_the_definition_in_three_dimensions():
    rng = np.random.default_rng(13)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(15, 3)) + [0.5, 0, 0]
    dist = lambda p, q: np.sqrt(((p[:, None, :] - q[None, :, :]) ** 2).sum(-1))  # noqa: E731
    d2 = 2 * dist(x, y).mean() - dist(x, x).mean() - dist(y, y).mean()
    assert abs(energy_distance(x, y) - np.sqrt(d2)) < EXACT
    assert energy_distance(x, x) == 0.0
    # two point masses: D^2 = 2 ||c||
    assert abs(energy_distance(np.zeros((1, 3)), [[1.0, 2.0, 2.0]]) ** 2 - 6.0) < EXACT
