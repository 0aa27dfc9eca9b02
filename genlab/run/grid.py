"""``w1_grid``: W1 between the truth's density and the model's on a grid (`metrics.grid_w1`), as a run metric.

The plug-in W1 between two m-samples carries a floor of order m^(-1/2) in d = 2, above the error of the
models a rate sweep fits (issue 15, item 3).  Where the truth has a density on a box (the cube of the
smooth truths, a uniform law) and the model has one too (its family's ``has_density``), in d <= 3,
`metrics.grid_w1` computes W1 between the two laws pushed onto the centres of a grid of cells with no
sample at all, and bounds its distance to W1(p, q): the floor reported is that bound.

Its quantisation term, diag(cell) x TV(p, q), uses the upper end of the run's own ``tv`` interval when
``tv`` is among ``eval.metrics`` (so the bound holds at the interval's 97.5% one-sided level; TV <= 1
otherwise), which shrinks it in proportion to how close the model is.
"""

from __future__ import annotations

import math

import metrics as M
from metrics.grid_wasserstein import MAX_DIM

__all__ = ["W1_GRID", "w1_grid_problem", "w1_grid_estimate"]

#: the metric's name in ``eval.metrics``
W1_GRID = "w1_grid"


def w1_grid_problem(truth) -> str | None:
    """Why ``truth`` cannot be scored by ``w1_grid`` (None when it can): it needs a density on a box in d <= 3."""
    if not truth.has_density:
        return "the truth's density"
    if truth.dim > MAX_DIM:
        return f"a truth of dimension at most {MAX_DIM} (the grid has N^d cells)"
    if not (hasattr(truth, "low") and hasattr(truth, "high")):
        return "a truth supported on a box [low, high]^d (a smooth or uniform law), whose cell edges fall on its faces"
    return None


def w1_grid_estimate(cfg, truth, truth_log_prob, model_log_prob, tv=None) -> tuple[M.Estimate, dict]:
    """The ``w1_grid`` estimate (value, floor = the grid's error bound, [value -+ bound]) and its terms.

    truth_log_prob, model_log_prob: numpy log-densities (M, d) -> (M,); ``tv`` the run's TV estimate or None.
    """
    tv_bound = 1.0 if tv is None or not math.isfinite(tv.ci_high) else min(1.0, max(tv.ci_high, 0.0))
    cells, margin = cfg.eval.grid_cells, cfg.eval.grid_margin
    h = (truth.high - truth.low) / cells
    # the truth's cube widened by whole cells, so that cell edges stay on its faces (where its density
    # jumps) while a model's mass just outside them (a density blurred at the faces) is on the grid rather
    # than charged to the tail term at the box's whole diameter
    bounds = [(truth.low - margin * h, truth.high + margin * h)] * truth.dim
    r = M.grid_w1(truth_log_prob, model_log_prob, bounds, n_cells=cells + 2 * margin,
                  n_nodes=cfg.eval.grid_nodes, tv_bound=tv_bound)
    terms = {"w1_grid_quantisation_bound": r.quantisation_bound, "w1_grid_tail_bound": r.tail_bound,
             "w1_grid_quadrature_estimate": r.quadrature_estimate,
             "w1_grid_refinement_estimate": r.refinement_estimate, "w1_grid_tv_bound": tv_bound,
             "w1_grid_mass_model": r.mass_q}
    return r.as_estimate(), terms
