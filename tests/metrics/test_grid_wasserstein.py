"""grid_w1 against closed forms: a Gaussian shift, an isotropic scaling, 1-D quantiles.

Every check of a value is |value - W1| <= r.bound, the function's own stated bound
(quantisation and tail terms proven, quadrature term estimated); no other tolerance is
added. The bound's size is asserted next to it, computed from its formula.
"""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from metrics import grid_w1, tv_quadrature, wasserstein

# --- anisotropic Gaussians N(0, S) and N(mu, S), S = diag(0.5^2, 0.25^2): W1 = |mu| (the
# potential f(x) = <x, mu>/|mu| attains it, the shift x -> x + mu couples at that cost),
# TV = 2 Phi(|S^{-1/2} mu| / 2) - 1.
SIG = np.array([0.5, 0.25])
MU = np.array([0.3, -0.2])
BOX_SHIFT = [(-4.0, 4.3), (-2.2, 2.0)]  # >= 8 marginal stds beyond each mean: mass outside < 1e-14
TV_SHIFT = 2 * stats.norm.cdf(np.linalg.norm(MU / SIG) / 2) - 1


def log_gauss(mean, sig):
    mean, sig = np.asarray(mean, dtype=float), np.asarray(sig, dtype=float)
    return lambda x: (stats.norm.logpdf((x - mean) / sig) - np.log(sig)).sum(axis=1)


# --- isotropic N(0, s1^2 I) and N(0, s2^2 I) in 2-D: W1 = |s1 - s2| E|Z| with E|Z| = sqrt(pi/2)
# (f(x) = |x| gives the lower bound, the radial map x -> (s2/s1) x the upper). p1 > p2 inside the
# radius r*^2 = 2 s1^2 s2^2 ln(s2^2/s1^2) / (s2^2 - s1^2), and |X|^2 / s^2 is chi^2_2, so
# TV = exp(-r*^2 / (2 s2^2)) - exp(-r*^2 / (2 s1^2)).
S1, S2 = 0.5, 0.6
W1_SCALE = (S2 - S1) * math.sqrt(math.pi / 2)
R2 = 2 * S1**2 * S2**2 * math.log(S2**2 / S1**2) / (S2**2 - S1**2)
TV_SCALE = math.exp(-R2 / (2 * S2**2)) - math.exp(-R2 / (2 * S1**2))
BOX_SCALE = [(-3.6, 3.6)] * 2  # 6 s2: the mass outside is exp(-18) ~ 2e-8, within the stated tail term


def test_gaussian_shift_within_its_bound():
    r = grid_w1(log_gauss([0, 0], SIG), log_gauss(MU, SIG), BOX_SHIFT, 64, tv_bound=TV_SHIFT)
    w1 = float(np.linalg.norm(MU))
    assert abs(r.value - w1) <= r.bound
    # The bound's size from its formula: diag(cell) * TV = |(8.3, 4.2) / 64| * 0.383 = 0.0556, tail
    # ~1e-13, quadrature estimate ~2e-3; so bound < 0.06 = 17% of W1 = 0.361 (observed error ~1e-4).
    diag = float(np.linalg.norm(np.array([8.3, 4.2]) / 64))
    assert r.quantisation_bound == pytest.approx(diag * TV_SHIFT, rel=1e-9)
    assert r.tail_bound < 1e-10
    assert r.bound < 0.06
    assert r.n_evaluations == 64**2 and r.n_cells == (64, 64)
    assert r.tv_grid <= TV_SHIFT + r.quadrature_estimate  # data processing, up to quadrature


def _exact_cell_masses(box, n, mean):
    """Cell masses of the axis-aligned Gaussian N(mean, diag(SIG^2)): products of CDF differences."""
    per_axis = [np.diff(stats.norm.cdf((np.linspace(lo, hi, n + 1) - m) / s))
                for (lo, hi), m, s in zip(box, mean, SIG)]
    return np.outer(*per_axis)


def _grid_w1_of_masses(box, n, p_mass, q_mass):
    centres = [lo + (hi - lo) / n * (np.arange(n) + 0.5) for lo, hi in box]
    pts = np.stack([g.ravel() for g in np.meshgrid(*centres, indexing="ij")], axis=1)
    return wasserstein(pts, pts, weights_x=p_mass.ravel(), weights_y=q_mass.ravel())


@pytest.mark.parametrize("k", [1, 2])
def test_quadrature_estimate_covers_the_quadrature_error(k):
    # The exact cell masses are known here, so W1 of the exactly quantised laws is computable:
    # value differs from it by the quadrature error alone, which quadrature_estimate estimates
    # (leading term, Beckmann flux: an over-estimate for resolved smooth densities).
    n = 32
    r = grid_w1(log_gauss([0, 0], SIG), log_gauss(MU, SIG), BOX_SHIFT, n, k, tv_bound=TV_SHIFT)
    exact = _grid_w1_of_masses(BOX_SHIFT, n, _exact_cell_masses(BOX_SHIFT, n, [0, 0]),
                               _exact_cell_masses(BOX_SHIFT, n, MU))
    assert abs(r.value - exact) <= r.quadrature_estimate
    # and the exactly quantised W1 is itself within the proven quantisation bound of |mu|
    assert abs(exact - np.linalg.norm(MU)) <= r.quantisation_bound


def test_positive_negative_parts_give_the_full_lp():
    # W1 is a norm of P - Q, so the LP between (P - Q)_+ and (P - Q)_- equals the LP between P and Q.
    # Both are exact float64 LPs: agreement to 1e-10.
    n = 16
    lp, lq = log_gauss([0, 0], SIG), log_gauss(MU, SIG)
    r = grid_w1(lp, lq, BOX_SHIFT, n)  # midpoint rule: mass = density at centre * volume
    centres = [lo + (hi - lo) / n * (np.arange(n) + 0.5) for lo, hi in BOX_SHIFT]
    pts = np.stack([g.ravel() for g in np.meshgrid(*centres, indexing="ij")], axis=1)
    full = wasserstein(pts, pts, weights_x=np.exp(lp(pts)), weights_y=np.exp(lq(pts)))
    assert abs(r.value - full) < 1e-10


def test_isotropic_scaling_within_its_bound():
    r = grid_w1(log_gauss([0, 0], [S1, S1]), log_gauss([0, 0], [S2, S2]), BOX_SCALE, 64, 2,
                         tv_bound=TV_SCALE)
    assert abs(r.value - W1_SCALE) <= r.bound
    # diag = sqrt(2) 7.2 / 64 = 0.159, times TV = 0.133: 0.0212; tail (2e-8)(2 * 5.1); quadrature (k = 2)
    # ~5e-7. So bound < 0.022 = 17% of W1 = 0.125 (observed error 1.7e-4).
    assert r.quantisation_bound == pytest.approx(math.sqrt(2) * 7.2 / 64 * TV_SCALE, rel=1e-6)
    assert r.bound < 0.022


def test_error_falls_at_least_as_fast_as_the_bound():
    # The bound falls like h (diag(cell) * TV); the error of smooth laws is of higher order (second
    # order in 1-D, where the discrete W1 is the trapezoidal rule for int |F - G|). k = 2 makes the
    # quadrature error negligible (< 1e-5 at N = 16), so this is the quantisation error.
    ns = [16, 32, 64]
    runs = [grid_w1(log_gauss([0, 0], [S1, S1]), log_gauss([0, 0], [S2, S2]), BOX_SCALE, n, 2,
                             tv_bound=TV_SCALE) for n in ns]
    errors = [abs(r.value - W1_SCALE) for r in runs]
    for r, e in zip(runs, errors):
        assert e <= r.bound
    bounds = [r.bound for r in runs]
    assert bounds[2] / bounds[0] == pytest.approx(0.25, rel=1e-3)  # the bound's order: 1
    order = np.polyfit(np.log(ns), np.log(errors), 1)[0]
    assert order <= -1.0, (errors, order)  # the error falls at least like h (observed about h^1.5)
    # the no-cost estimate from the same masses on the 2x coarser grid covers the error
    for r, e in zip(runs[1:], errors[1:]):
        assert e <= r.refinement_estimate


def _w1_1d_reference(F, G, lo, hi):
    """int |F - G| over [lo, hi] by QUADPACK, split at the sign changes of F - G."""
    t = np.linspace(lo, hi, 2001)
    g = F(t) - G(t)
    roots = [optimize.brentq(lambda s: F(s) - G(s), t[i], t[i + 1], xtol=1e-14)
             for i in np.nonzero(np.sign(g[:-1]) * np.sign(g[1:]) < 0)[0]]
    cuts = [lo, *roots, hi]
    return sum(integrate.quad(lambda s: abs(F(s) - G(s)), a, b, epsabs=1e-13, epsrel=1e-12, limit=200)[0]
               for a, b in zip(cuts[:-1], cuts[1:]))


def test_1d_against_the_quantile_formula():
    # p = N(0, 1), q = 0.3 N(-1, 0.5^2) + 0.7 N(1, 0.7^2); W1 = int |F - G| (Villani, Remark 2.19).
    # Beyond [-12, 12] |F - G| integrates to < 1e-30. TV from tv_quadrature (1-D: ~1e-15).
    def log_mix(x):
        return np.logaddexp(np.log(0.3) + stats.norm.logpdf(x[:, 0], -1, 0.5),
                            np.log(0.7) + stats.norm.logpdf(x[:, 0], 1, 0.7))

    def log_std(x):
        return stats.norm.logpdf(x[:, 0])

    w1 = _w1_1d_reference(stats.norm.cdf,
                          lambda s: 0.3 * stats.norm.cdf(s, -1, 0.5) + 0.7 * stats.norm.cdf(s, 1, 0.7), -12, 12)
    tv = tv_quadrature(log_std, log_mix, (-12, 12)).ci_high
    r = grid_w1(log_std, log_mix, (-10, 10), 4096, tv_bound=tv)
    assert abs(r.value - w1) <= r.bound
    # h * TV = (20 / 4096) 0.241 = 1.18e-3; the measured error is ~1e-9
    assert r.bound < 1.2e-3
    # the d = 1 path (cumulative sums) is the exact LP: same value as POT on the same masses
    r16 = grid_w1(log_std, log_mix, (-10, 10), 64)
    c = -10 + 20 / 64 * (np.arange(64) + 0.5)
    lp_value = wasserstein(c, c, weights_x=np.exp(log_std(c[:, None])), weights_y=np.exp(log_mix(c[:, None])))
    assert abs(r16.value - lp_value) < 1e-12


def test_identical_laws_give_zero():
    lp = log_gauss([0.1, 0.0], [S1, S1])
    r = grid_w1(lp, lp, BOX_SCALE, 32, tv_bound=0.0)
    assert r.value == 0.0 and r.tv_grid == 0.0 and r.n_support == 0
    assert r.quantisation_bound == 0.0 and r.quadrature_estimate == 0.0


def test_torch_inputs_and_chunks_give_the_same_value():
    torch = pytest.importorskip("torch")
    lp, lq = log_gauss([0, 0], SIG), log_gauss(MU, SIG)
    ref = grid_w1(lp, lq, BOX_SHIFT, 16, 2)
    sizes = []

    def lq_torch(x):
        sizes.append(len(x))
        return torch.as_tensor(lq(x), dtype=torch.float64)

    r = grid_w1(lp, lq_torch, torch.tensor(BOX_SHIFT, dtype=torch.float64), 16, 2,
                         chunk_size=100)
    assert r.value == ref.value and r.bound == ref.bound
    assert max(sizes) <= 100 and sum(sizes) == r.n_evaluations == 16**2 * 2**2


def _one_line_error(match, *args, **kwargs):
    with pytest.raises(ValueError, match=match) as info:
        grid_w1(*args, **kwargs)
    assert "\n" not in str(info.value)


def test_bad_inputs_are_one_line_value_errors():
    lp = log_gauss([0, 0], SIG)
    box = [(-2.0, 2.0), (-1.0, 1.0)]
    _one_line_error("^bounds must have low < high", lp, lp, [(-2.0, 2.0), (1.0, 1.0)])
    _one_line_error("^bounds must have low < high", lp, lp, [(2.0, -2.0), (-1.0, 1.0)])
    _one_line_error("^bounds has 4 axes; .* d <= 3 .*N\\^d", lambda x: np.zeros(len(x)),
                    lambda x: np.zeros(len(x)), [(0.0, 1.0)] * 4)
    _one_line_error("^bounds must be", lp, lp, [0.0, 1.0, 2.0])
    _one_line_error("^n_cells must be an integer >= 1", lp, lp, box, 0)
    _one_line_error("^n_cells must be an integer >= 1", lp, lp, box, (8, 0))
    _one_line_error("^n_cells must be an int or one int per axis", lp, lp, box, (8, 8, 8))
    _one_line_error("^n_nodes must be an integer >= 1", lp, lp, box, 8, 0)
    _one_line_error("^log_q must map", lp, lambda x: np.zeros((len(x), 2)), box, 8)
    _one_line_error("^log_q returned NaN", lp, lambda x: np.full(len(x), np.nan), box, 8)
    _one_line_error("^log_p returned NaN or \\+inf", lambda x: np.full(len(x), np.inf), lp, box, 8)
    _one_line_error("^log_p must be callable", None, lp, box)
    _one_line_error("^log_p: the density is 0 at every", lambda x: np.full(len(x), -np.inf), lp, box, 8)
    _one_line_error("^tv_bound must lie in \\[0, 1\\]", lp, lp, box, tv_bound=1.5)
    _one_line_error("^tail_radius must be >= 0", lp, lp, box, tail_radius=-1.0)
    _one_line_error("^chunk_size must be an integer >= 1", lp, lp, box, chunk_size=0)
    _one_line_error("^n_cells: 40000 cells exceed", lp, lp, box, 200)


def test_a_tv_bound_below_the_grids_tv_is_flagged():
    with pytest.warns(UserWarning, match="^tv_bound: "):
        grid_w1(log_gauss([0, 0], SIG), log_gauss(MU, SIG), BOX_SHIFT, 32, tv_bound=0.1)


@pytest.mark.slow
def test_plug_in_w1_of_large_samples_brackets_the_grid_value():
    # Sanity check against ot.emd2 on samples (through metrics.wasserstein). With p_m, q_m the
    # empirical laws of m points and p'_m an independent copy, convexity of W1 gives
    #   W1(p, q) <= E W1(p_m, q_m) <= W1(p, q) + E W1(p_m, p) + E W1(q_m, q),
    # and E W1(p_m, p) <= E W1(p_m, p'_m) =: floor (again by convexity); for a shift both
    # floors are equal. Means over R = 5 repeats, compared at t_{4, 0.999} = 7.17 standard errors
    # (the tolerance the repeat spread gives, generous on purpose), and the grid value within r.bound.
    m, reps, t_crit = 4000, 5, stats.t.ppf(0.999, 4)
    r = grid_w1(log_gauss([0, 0], SIG), log_gauss(MU, SIG), BOX_SHIFT, 64, tv_bound=TV_SHIFT)
    rng = np.random.default_rng(0)
    cross, floor = [], []
    for _ in range(reps):
        x, x2, y = (rng.normal(size=(m, 2)) * SIG for _ in range(3))
        cross.append(wasserstein(x, y + MU))
        floor.append(wasserstein(x, x2))
    se = lambda v: np.std(v, ddof=1) / math.sqrt(len(v))  # noqa: E731
    assert r.value - r.bound <= np.mean(cross) + t_crit * se(cross)
    assert np.mean(cross) - t_crit * se(cross) <= r.value + r.bound + 2 * (np.mean(floor) + t_crit * se(floor))
