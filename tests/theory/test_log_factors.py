"""Log factors: the stated powers of log n with their sources, and the theory line they give."""

import math

import numpy as np
import pytest

from genlab.theory import LogFactor, predicted_exponent, theory_curve


# -- the factors each row states ----------------------------------------------------
def test_empirical_w1_in_2d_is_akt_sqrt_log_with_fg_log_as_upper_bound():
    pred = predicted_exponent("empirical", "wasserstein", d=2, p=1)
    akt, fg = pred.log_factors
    # AKT: E W1 ~ sqrt(log n / n) on the square, so q = 1/2 and the line carries it
    assert (akt.power, akt.kind) == (0.5, "sharp") and "Ajtai" in akt.source
    assert pred.log_power == 0.5
    # Fournier & Guillin at d = 2p = 2: n^-1/2 log n, kept as an upper bound
    assert (fg.power, fg.kind) == (1.0, "upper bound") and "Fournier & Guillin" in fg.source
    assert "sharp" in pred.log_factor and "upper bound" in pred.log_factor


def test_intrinsic_dimension_two_gets_the_same_factors():
    pred = predicted_exponent("empirical", "wasserstein", d=10, intrinsic_dim=2)
    assert [f.power for f in pred.log_factors] == [0.5, 1.0]


@pytest.mark.parametrize("p", [1.5, 2, 3])
def test_fg_factor_at_d_equals_2p_is_the_pth_root_of_log_and_only_an_upper_bound(p):
    # E W_p^p <= C n^-1/2 log n  =>  E W_p <= (E W_p^p)^(1/p) = n^(-1/(2p)) (log n)^(1/p)
    pred = predicted_exponent("empirical", "wasserstein", d=int(2 * p) if p != 1.5 else 3, p=p)
    (fg,) = pred.log_factors
    assert fg.power == pytest.approx(1 / p, abs=1e-15) and fg.kind == "upper bound"


@pytest.mark.parametrize("args,kw", [
    (("empirical", "wasserstein"), dict(d=1)), (("empirical", "wasserstein"), dict(d=3)),
    (("kde", "tv"), dict(d=2, s=1.0)), (("empirical", "sliced_wasserstein"), dict(d=4)),
])
def test_clean_powers_have_no_log_factor(args, kw):
    pred = predicted_exponent(*args, **kw)
    assert pred.log_factors == () and pred.log_power == 0.0 and pred.log_factor is False


@pytest.mark.parametrize("args,kw,source", [
    (("diffusion", "tv"), dict(d=2, s=1.0), "Oko"),
    (("diffusion", "wasserstein"), dict(d=2, s=1.0), "Oko"),
    (("gan", "wasserstein"), dict(d=3), "Chen, Liao"),
    (("gan", "sliced_wasserstein"), dict(d=3), "Chen, Liao"),
    (("score", "score_mse"), dict(d=3), "Wibisono"),
])
def test_polylogs_of_unstated_power_are_not_given_a_power(args, kw, source):
    # these sources state "polylog(n)" (or n^delta) without the power: None, not a guess
    pred = predicted_exponent(*args, **kw)
    (factor,) = pred.log_factors
    assert factor.power is None and pred.log_power is None and factor.kind == "upper bound"
    assert source in factor.source and factor.label in pred.log_factor


# -- the line ---------------------------------------------------------------------------
def test_theory_curve_is_c_n_to_the_a_times_log_n_to_the_q():
    pred = predicted_exponent("empirical", "wasserstein", d=2)
    ns = np.array([100.0, 1000.0, 10000.0])
    got = theory_curve(pred, ns, anchor_n=100.0, anchor_value=0.2)
    # the line through (100, 0.2): C = 0.2 / (100^-1/2 sqrt(log 100)); exact float64
    c = 0.2 / (100.0 ** -0.5 * math.sqrt(math.log(100.0)))
    np.testing.assert_allclose(got, c * ns ** -0.5 * np.sqrt(np.log(ns)), rtol=1e-13)
    assert got[0] == pytest.approx(0.2, rel=1e-15)


def test_theory_curve_without_log_and_from_a_dict():
    ns = np.array([10.0, 20.0, 40.0])
    clean = theory_curve({"exponent": -0.25}, ns, 10.0, 1.0)
    np.testing.assert_allclose(clean, (ns / 10.0) ** -0.25, rtol=1e-15)
    # an unstated polylog draws the plain power
    poly = theory_curve(predicted_exponent("diffusion", "tv", d=1, s=1.0), ns, 10.0, 1.0)
    np.testing.assert_allclose(poly, (ns / 10.0) ** (-1 / 3), rtol=1e-15)
    # the log factor bends the line: its local log-log slope is a + q / log n
    akt = theory_curve({"exponent": -0.5, "log_power": 0.5}, ns, 10.0, 1.0)
    local = np.diff(np.log(akt)) / np.diff(np.log(ns))
    expected = -0.5 + 0.5 * np.diff(np.log(np.log(ns))) / np.diff(np.log(ns))
    np.testing.assert_allclose(local, expected, rtol=1e-12)


def test_log_factor_call_and_label():
    f = LogFactor(0.5, "src", "sharp")
    np.testing.assert_allclose(f([math.e, math.e ** 4]), [1.0, 2.0], rtol=1e-15)
    assert f.label == "(log n)^0.5"
    assert LogFactor(None, "src", "upper bound")([5.0, 6.0]).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("call,name", [
    (lambda: theory_curve({"exponent": -0.5}, [1.0, 10.0], 10.0, 1.0), "ns"),
    (lambda: theory_curve({"exponent": -0.5}, [10.0], 1.0, 1.0), "anchor_n"),
    (lambda: theory_curve({"exponent": -0.5}, [10.0], 10.0, 0.0), "anchor_value"),
    (lambda: theory_curve({"slope": -0.5}, [10.0], 10.0, 1.0), "pred"),
    (lambda: LogFactor(0.5, "src", "tight"), "kind"),
    (lambda: LogFactor(float("nan"), "src", "sharp"), "power"),
])
def test_bad_input_names_what_is_wrong(call, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        call()
