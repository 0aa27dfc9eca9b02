"""Predicted exponents: each row equals its formula, regimes switch where the theory says."""

import pytest

from genlab.theory import ESTIMATORS, METRICS, Prediction, predicted_exponent, table


def _exp(*args, **kw):
    return predicted_exponent(*args, **kw).exponent


# -- empirical measure in W_p ------------------------------------------------------
@pytest.mark.parametrize("d,p,expected,log", [
    (1, 1, -1 / 2, False), (2, 1, -1 / 2, True), (3, 1, -1 / 3, False), (7, 1, -1 / 7, False),
    (3, 2, -1 / 4, False), (4, 2, -1 / 4, True), (5, 2, -1 / 5, False),
    (2, 1.5, -1 / 3, False), (3, 1.5, -1 / 3, True), (4, 1.5, -1 / 4, False),
])
def test_empirical_wasserstein_formula(d, p, expected, log):
    pred = predicted_exponent("empirical", "wasserstein", d=d, p=p)
    assert pred.exponent == pytest.approx(expected, abs=1e-15)
    assert bool(pred.log_factor) is log
    assert "Fournier & Guillin" in pred.source and "Weed & Bach" in pred.source


@pytest.mark.parametrize("p", [1, 2, 3])
def test_empirical_regime_switches_at_d_equals_2p(p):
    below = [_exp("empirical", "wasserstein", d=d, p=p) for d in range(1, 2 * p)]
    above = [_exp("empirical", "wasserstein", d=d, p=p) for d in range(2 * p + 1, 2 * p + 5)]
    assert all(e == pytest.approx(-1 / (2 * p)) for e in below)
    assert above == pytest.approx([-1 / d for d in range(2 * p + 1, 2 * p + 5)])
    at = predicted_exponent("empirical", "wasserstein", d=2 * p, p=p)
    assert at.exponent == pytest.approx(-1 / (2 * p)) and at.log_factor  # continuous, with a log


def test_empirical_uses_intrinsic_dimension():
    assert _exp("empirical", "wasserstein", d=10, intrinsic_dim=3) == pytest.approx(-1 / 3)
    assert _exp("empirical", "wasserstein", d=10, intrinsic_dim=1) == pytest.approx(-1 / 2)
    assert predicted_exponent("empirical", "wasserstein", d=10, intrinsic_dim=2).log_factor


# -- KDE in TV ------------------------------------------------------------------------
@pytest.mark.parametrize("d,s", [(1, 0.5), (1, 1.0), (2, 2.0), (3, 1.5), (5, 0.7)])
def test_kde_tv_formula(d, s):
    assert _exp("kde", "tv", d=d, s=s) == pytest.approx(-s / (2 * s + d), abs=1e-15)


@pytest.mark.parametrize("d,s", [(1, 3.0), (2, 10.0)])
def test_kde_tv_saturates_at_the_gaussian_kernel_order(d, s):
    assert _exp("kde", "tv", d=d, s=s) == pytest.approx(-2 / (4 + d), abs=1e-15)


# -- diffusion -------------------------------------------------------------------------
@pytest.mark.parametrize("d,s", [(1, 1.0), (2, 0.5), (3, 2.0), (8, 3.0)])
def test_diffusion_formulas(d, s):
    tv = predicted_exponent("diffusion", "tv", d=d, s=s)
    assert tv.exponent == pytest.approx(-s / (2 * s + d), abs=1e-15) and tv.log_factor
    w1 = _exp("diffusion", "wasserstein", d=d, s=s)
    assert w1 == pytest.approx(max(-(s + 1) / (2 * s + d), -0.5), abs=1e-15)
    assert "Oko" in tv.source


def test_diffusion_w1_is_capped_at_parametric_in_d1_only():
    assert _exp("diffusion", "wasserstein", d=1, s=1.0) == -0.5  # -(2/3) would beat n^-1/2
    assert _exp("diffusion", "wasserstein", d=3, s=1.0) == pytest.approx(-2 / 5)


def test_diffusion_subspace_substitutes_intrinsic_dimension():
    assert _exp("diffusion", "wasserstein", d=10, s=2.0, intrinsic_dim=3) == pytest.approx(-3 / 7)
    assert _exp("diffusion", "wasserstein", d=10, s=2.0, intrinsic_dim=10) == pytest.approx(-3 / 14)
    # no density on R^10: TV is 1 for every n, no rate
    assert predicted_exponent("diffusion", "tv", d=10, s=2.0, intrinsic_dim=3) is None
    assert predicted_exponent("kde", "tv", d=10, s=2.0, intrinsic_dim=3) is None


# -- GAN -----------------------------------------------------------------------------
@pytest.mark.parametrize("d,s,beta", [(1, 1.0, 1.0), (2, 1.0, 1.0), (5, 1.0, 1.0), (4, 2.0, 0.5), (10, 0.5, 2.0)])
def test_gan_ipm_formula(d, s, beta):
    pred = predicted_exponent("gan", "ipm", d=d, s=s, beta=beta)
    assert pred.exponent == pytest.approx(max(-(s + beta) / (2 * s + d), -0.5), abs=1e-15)
    assert "Liang 2021" in pred.source and "Tang & Yang" in pred.source


def test_gan_ipm_intrinsic_dimension():
    assert _exp("gan", "ipm", d=20, s=1.0, beta=1.0, intrinsic_dim=4) == pytest.approx(-2 / 6)


@pytest.mark.parametrize("d,dd,expected", [(3, None, -1 / 3), (8, None, -1 / 8), (8, 3, -1 / 3), (1, None, -0.5)])
def test_gan_wasserstein_chen_et_al(d, dd, expected):
    pred = predicted_exponent("gan", "wasserstein", d=d, intrinsic_dim=dd)
    assert pred.exponent == pytest.approx(expected, abs=1e-15) and "Chen, Liao, Zha & Zhao" in pred.source


# -- score estimation ----------------------------------------------------------------
@pytest.mark.parametrize("d,dd", [(1, None), (2, None), (10, None), (10, 2)])
def test_empirical_sliced_w1_is_dimension_free(d, dd):
    # SW_1 averages 1-D W1 over directions; each is O(n^-1/2) whatever d is
    pred = predicted_exponent("empirical", "sliced_wasserstein", d=d, intrinsic_dim=dd)
    assert pred.exponent == -0.5 and not pred.log_factor
    assert "Nadjahi" in pred.source and "Bobkov & Ledoux" in pred.source


@pytest.mark.parametrize("d,dd", [(2, None), (3, None), (8, None), (8, 3)])
def test_gan_sliced_w1_is_bounded_by_its_w1_rate(d, dd):
    # SW_1 <= W1, so Chen et al.'s W1 exponent is an upper bound, and says so
    pred = predicted_exponent("gan", "sliced_wasserstein", d=d, intrinsic_dim=dd)
    assert pred.exponent == _exp("gan", "wasserstein", d=d, intrinsic_dim=dd)
    assert "upper bound" in pred.assumptions


@pytest.mark.parametrize("estimator", ["empirical", "gan"])
def test_sliced_w2_has_no_row(estimator):
    assert predicted_exponent(estimator, "sliced_wasserstein", d=3, p=2) is None


@pytest.mark.parametrize("d", [1, 2, 5, 10])
def test_score_estimation_formula(d):
    pred = predicted_exponent("score", "score_mse", d=d)
    assert pred.exponent == pytest.approx(-2 / (d + 4), abs=1e-15) and "Wibisono" in pred.source
    # the beta-Hölder extension reduces to it at beta = 1
    assert _exp("score", "score_mse", d=d, beta=1.0) == pytest.approx(-2 / (d + 4), abs=1e-15)
    assert _exp("score", "score_mse", d=d, beta=0.5) == pytest.approx(-1 / (d + 3), abs=1e-15)


# -- no theory: None -------------------------------------------------------------------
@pytest.mark.parametrize("args,kw", [
    (("empirical", "tv"), dict(d=2)),
    (("kde", "wasserstein"), dict(d=2, s=1.0)),
    (("diffusion", "wasserstein"), dict(d=2, s=1.0, p=2)),
    (("gan", "wasserstein"), dict(d=2, p=2)),
    (("score", "tv"), dict(d=2)),
])
def test_pairs_without_theory_return_none(args, kw):
    assert predicted_exponent(*args, **kw) is None


# -- bad input ------------------------------------------------------------------------
@pytest.mark.parametrize("args,kw,name", [
    (("vae", "tv"), dict(d=2), "estimator"),
    (("kde", "kl"), dict(d=2), "metric"),
    (("kde", "tv"), dict(d=0, s=1.0), "d"),
    (("kde", "tv"), dict(d=2.5, s=1.0), "d"),
    (("empirical", "wasserstein"), dict(d=2, p=0.5), "p"),
    (("empirical", "wasserstein"), dict(d=2, intrinsic_dim=3), "intrinsic_dim"),
    (("empirical", "wasserstein"), dict(d=2, intrinsic_dim=0), "intrinsic_dim"),
    (("kde", "tv"), dict(d=2), "s"),
    (("diffusion", "wasserstein"), dict(d=2, s=-1.0), "s"),
    (("gan", "ipm"), dict(d=2, s=1.0), "beta"),
    (("gan", "ipm"), dict(d=2, s=1.0, beta=0.0), "beta"),
    (("score", "score_mse"), dict(d=2, beta=1.5), "beta"),
])
def test_bad_input_names_the_argument(args, kw, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        predicted_exponent(*args, **kw)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="empirical, kde, diffusion, gan, score"):
        predicted_exponent("vae", "tv", d=2)
    with pytest.raises(ValueError, match="wasserstein, tv, ipm, score_mse, sliced_wasserstein"):
        predicted_exponent("kde", "l3", d=2)


# -- the table --------------------------------------------------------------------------
def test_table_rows_are_complete_and_consistent():
    rows = table()
    assert len(rows) == 9
    for row in rows:
        assert row["estimator"] in ESTIMATORS and row["metric"] in METRICS
        assert row["formula"] and row["source"] and row["assumptions"]
        pred = predicted_exponent(row["estimator"], row["metric"], d=6, s=1.0,
                                  beta=None if row["metric"] == "score_mse" else 1.0)
        assert isinstance(pred, Prediction) and pred.exponent < 0
        assert pred.source == row["source"] and pred.formula == row["formula"]
