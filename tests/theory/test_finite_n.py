"""expected_slope: the API the rate report calls, what it computes and where it says None."""

import dataclasses

import numpy as np
import pytest

from genlab.distributions import make_truth
from genlab.theory import ExpectedSlope, empirical_expected_w1, expected_slope, kde_expected_tv, ols_slope


def test_ols_slope_of_an_exact_power_law_with_a_log_factor():
    ns = np.array([100.0, 1000.0, 10000.0])
    assert ols_slope(ns, 3 * ns ** -0.4) == pytest.approx(-0.4, abs=1e-14)
    # for n^a (log n)^q the OLS slope over equally spaced log n is a + q * (slope of log log n on log n)
    x, y = np.log(ns), np.log(np.log(ns))
    want = -0.5 + 0.5 * np.polyfit(x, y, 1)[0]
    assert ols_slope(ns, ns ** -0.5 * np.log(ns) ** 0.5) == pytest.approx(want, abs=1e-14)


def test_kde_row_is_the_expected_tv_and_its_ols_slope():
    truth = make_truth("smooth", dim=1, s=1.0)
    ns = [250, 1000, 4000]
    e = expected_slope("kde", "tv", truth, ns, bandwidth="theory", c=1.0, boundary="reflect", grid=401)
    assert isinstance(e, ExpectedSlope) and e.ns == ns
    np.testing.assert_allclose(e.expected_errors, kde_expected_tv(truth, ns, boundary="reflect", grid=401),
                               rtol=1e-14)
    assert e.slope == pytest.approx(ols_slope(ns, e.expected_errors), abs=1e-15)
    assert "401 nodes" in e.method and "Tsybakov" in e.source
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.slope = 0.0


def test_kde_bandwidth_given_as_text_number_is_a_fixed_h():
    truth = make_truth("uniform", dim=1)
    a = expected_slope("kde", "tv", truth, [100, 400], bandwidth="0.1", boundary="reflect", grid=201)
    b = expected_slope("kde", "tv", truth, [100, 400], bandwidth=0.1, boundary="reflect", grid=201)
    assert a == b
    # uniform law, reflection, fixed h: no bias, so E TV = c sigma-integral ~ n^(-1/2) exactly
    assert a.slope == pytest.approx(-0.5, abs=1e-12)


def test_empirical_row_is_the_exact_w1():
    truth = make_truth("uniform", dim=1)
    e = expected_slope("empirical", "wasserstein", truth, [64, 16, 256])
    assert e.ns == [16, 64, 256]   # sorted
    np.testing.assert_allclose(e.expected_errors, empirical_expected_w1(truth, [16, 64, 256]), rtol=1e-15)
    assert "de Moivre" in e.source


@pytest.mark.parametrize("args,kw", [
    (("gan", "wasserstein", make_truth("uniform", dim=1)), {}),
    (("diffusion", "tv", make_truth("smooth", dim=1, s=1.0)), {}),
    (("kde", "wasserstein", make_truth("smooth", dim=1, s=1.0)), {}),
    (("kde", "tv", make_truth("smooth", dim=1, s=1.0)), dict(bandwidth="held_out")),
    (("kde", "tv", make_truth("smooth", dim=1, s=1.0)), dict(bandwidth="scott")),
    (("kde", "tv", make_truth("smooth", dim=3, s=1.0)), {}),                  # d > 2: not here
    (("kde", "tv", make_truth("gmm_anisotropic")), dict(bandwidth=0.1)),       # no cube
    (("kde", "tv", make_truth("uniform", dim=1)), {}),                        # s = inf: no theory h
    (("kde", "tv", make_truth("subspace", ambient_dim=2, intrinsic_dim=1)), dict(bandwidth=0.1)),
    (("empirical", "wasserstein", make_truth("uniform", dim=3)), {}),         # d > 1: no exact form
    (("empirical", "wasserstein", make_truth("uniform", dim=1)), dict(p=2)),
    (("empirical", "tv", make_truth("uniform", dim=1)), {}),
])
def test_not_computable_is_none(args, kw):
    assert expected_slope(*args, [250, 500], **kw) is None


@pytest.mark.parametrize("ns,kw,match", [
    ([250], {}, "^ns must hold at least 2"), ([250, 250], {}, "^ns must hold at least 2"),
    ([0, 10], {}, "^ns "), ([250, 500], dict(bandwidht="theory"), "^bandwidht: unknown parameter"),
])
def test_bad_input(ns, kw, match):
    with pytest.raises(ValueError, match=match):
        expected_slope("kde", "tv", make_truth("smooth", dim=1, s=1.0), ns, **kw)
