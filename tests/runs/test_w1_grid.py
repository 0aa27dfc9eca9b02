"""``w1_grid`` as a run metric (genlab.run.grid): the grid W1 between the truth's and the model's densities,
its floor the grid's error bound, against a closed form; and a run that reports it."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import metrics as M
from genlab.distributions import make_truth
from genlab.run.grid import w1_grid_estimate, w1_grid_problem

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "scripts" / "train.py"


def _cfg(cells, nodes, margin=0):
    return SimpleNamespace(eval=SimpleNamespace(grid_cells=cells, grid_nodes=nodes, grid_margin=margin))


def test_a_tilted_uniform_law_against_its_closed_form():
    """p uniform on [-1, 1]^2, q = (1 + c x_1) / 4: the laws differ in x_1 only, so W1 is that of the first
    marginals, int |F - G| = int |c| (1 - x^2) / 4 = |c| / 3, and TV = |c| / 4.  Both densities are linear
    in a cell, which 2 Gauss-Legendre nodes integrate exactly, and no mass leaves the box: the bound is the
    proven quantisation term diag x TV alone, and |value - W1| must lie within it.  The grid does far better
    than its bound here: the discrete W1 on the cell centres is the sum over cell edges of |F - G| h, the
    trapezoidal rule for int |F - G| = int c (1 - x^2) / 4, whose error for this quadratic is exactly
    -c h^2 / 12 (h = 2 / 16), second order where the proven bound is first."""
    c = 0.3
    truth = make_truth("uniform", dim=2)
    log_p = lambda x: np.where(np.abs(x).max(1) <= 1, -math.log(4.0), -np.inf)  # noqa: E731
    log_q = lambda x: np.where(np.abs(x).max(1) <= 1, np.log((1 + c * x[:, 0]) / 4), -np.inf)  # noqa: E731
    tv = M.Estimate(c / 4, floor=0.0, ci_low=c / 4, ci_high=c / 4)
    est, terms = w1_grid_estimate(_cfg(16, 2), truth, log_p, log_q, tv)
    diag = math.sqrt(2) * 2 / 16
    assert terms["w1_grid_tv_bound"] == c / 4
    assert terms["w1_grid_quantisation_bound"] == pytest.approx(diag * c / 4, rel=1e-9)
    assert terms["w1_grid_tail_bound"] == 0.0 and terms["w1_grid_mass_model"] == pytest.approx(1.0, abs=1e-12)
    assert est.floor == pytest.approx(terms["w1_grid_quantisation_bound"] + terms["w1_grid_quadrature_estimate"],
                                      rel=1e-12)
    assert abs(est.value - c / 3) <= est.floor
    h = 2 / 16
    assert est.value == pytest.approx(c / 3 - c * h * h / 12, abs=1e-12)
    assert (est.ci_low, est.ci_high) == pytest.approx((est.value - est.floor, est.value + est.floor))


def test_a_margin_of_whole_cells_puts_mass_outside_the_box_on_the_grid():
    """q = p shifted by delta = 1/8 along x_1 (W1 = delta exactly, TV = delta / 2): with no margin the
    mass q puts beyond x_1 = 1 is charged the box's diameter (tail bound eps (R_out + R_B), eps = 1/16);
    with 2 cells of 1/8 beside the cube it lies on the grid, the tail term is 0 and the shift is resolved
    exactly (the laws are uniform on unions of whole cells)."""
    delta = 0.125
    truth = make_truth("uniform", dim=2)
    inside = lambda x, lo: (x[:, 0] >= lo) & (x[:, 0] <= lo + 2) & (np.abs(x[:, 1]) <= 1)  # noqa: E731
    log_p = lambda x: np.where(inside(x, -1.0), -math.log(4.0), -np.inf)  # noqa: E731
    log_q = lambda x: np.where(inside(x, -1.0 + delta), -math.log(4.0), -np.inf)  # noqa: E731
    tv = M.Estimate(delta / 2, floor=0.0, ci_low=delta / 2, ci_high=delta / 2)
    bare, bare_terms = w1_grid_estimate(_cfg(16, 2), truth, log_p, log_q, tv)
    wide, wide_terms = w1_grid_estimate(_cfg(16, 2, margin=2), truth, log_p, log_q, tv)
    assert bare_terms["w1_grid_tail_bound"] == pytest.approx(delta / 2 * 2 * math.sqrt(2), rel=1e-9)
    assert wide_terms["w1_grid_tail_bound"] == 0.0 and wide_terms["w1_grid_mass_model"] == pytest.approx(1.0)
    assert wide.value == pytest.approx(delta, abs=1e-12) and wide.floor < bare.floor / 3
    assert abs(bare.value - delta) <= bare.floor


def test_without_a_tv_interval_the_bound_takes_tv_at_most_1():
    truth = make_truth("smooth_joint", dim=2)
    log_p = lambda x: truth.log_prob(__import__("torch").as_tensor(x)).numpy()  # noqa: E731
    est, terms = w1_grid_estimate(_cfg(8, 1), truth, log_p, log_p, None)
    assert est.value == 0.0 and terms["w1_grid_tv_bound"] == 1.0
    assert terms["w1_grid_quantisation_bound"] == pytest.approx(math.sqrt(2) * 2 / 8, rel=1e-6)


@pytest.mark.parametrize("name, kw, why", [
    ("gmm_anisotropic", {}, "a truth supported on a box"),
    ("smooth_joint", {"dim": 4}, "a truth of dimension at most 3"),
])
def test_truths_the_grid_cannot_score_are_named(name, kw, why):
    assert why in w1_grid_problem(make_truth(name, **kw))
    assert w1_grid_problem(make_truth("smooth_joint", dim=3)) is None


def test_a_kde_run_reports_w1_grid_with_its_terms(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, str(TRAIN), "recipe=kde_smooth", "truth.dim=2", "n=200", "eval.m=200",
                           "eval.reps=2", "eval.metrics=[tv,w1_grid]", "eval.grid_cells=8", "eval.grid_nodes=1",
                           "eval.grid_margin=1",
                           f"out_dir={out}", "progress=false", "eval.floor_cache=null"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    m = json.loads((out / "metrics.json").read_text())
    assert m["w1_grid_tv_bound"] == m["tv_ci_high"]
    assert m["w1_grid_floor"] == pytest.approx(m["w1_grid_quantisation_bound"] + m["w1_grid_tail_bound"]
                                               + m["w1_grid_quadrature_estimate"], rel=1e-12)
    assert 0.0 <= m["w1_grid"] and m["w1_grid_ci_high"] == pytest.approx(m["w1_grid"] + m["w1_grid_floor"])
    assert "w1_grid" in proc.stdout.splitlines()[-1]
