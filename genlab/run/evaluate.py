"""A fitted estimator scored against the truth: every metric of ``eval.metrics`` with its CI and noise floor.

Seeds (see `genlab.core.seeding`): the truth samples of the evaluation are
``derive_seed(eval.seed, "eval", rep)`` (`Distribution.as_sampler`), which
depend on neither n nor the training seed, so every run of a sweep is scored
against the same truth samples and has the same floor (`genlab.run.floor_cache`).
"""

from __future__ import annotations

import numpy as np
import torch

import metrics as M
from genlab.baselines.reference import kde_reference_tv
from genlab.config import truth_identity
from genlab.core.family import Fitted
from genlab.distributions import MarginalLaw
from genlab.families import get_family
from genlab.run.floor_cache import cached_floors
from genlab.run.grid import W1_GRID, w1_grid_estimate
from genlab.run.validate import EXACT_LAW_METRICS

__all__ = ["evaluate_fitted_metrics"]


def _log_prob_numpy(log_prob, dtype, device):
    """``x (k, d) array -> (k,) float64 array`` of a torch log-density, without gradients."""
    def fn(x):
        with torch.no_grad():
            return log_prob(torch.as_tensor(x, dtype=dtype, device=device)).cpu().numpy().astype(np.float64)
    return fn


def _sample_metrics(cfg, truth, samples: np.ndarray, truth_sampler, truth_log_prob, model_log_prob,
                    own: tuple) -> dict:
    """The metrics of `metrics.evaluate` (sample distances, density metrics), floors from the cache."""
    names = [k for k in cfg.eval.metrics if k not in EXACT_LAW_METRICS and k not in own]
    if not names:
        return {}
    floors = cached_floors(cfg.eval.floor_cache, truth_identity(cfg.truth), truth_sampler, names, m=cfg.eval.m,
                           reps=cfg.eval.reps, seed=cfg.eval.seed)
    return M.evaluate(truth_sampler, samples, names, m=cfg.eval.m, reps=cfg.eval.reps, seed=cfg.eval.seed,
                      truth_log_prob=truth_log_prob if truth.has_density else None,
                      model_log_prob=model_log_prob, floors=floors)


def evaluate_fitted_metrics(cfg, truth, fitted: Fitted, x_train: torch.Tensor, device) -> dict:
    """The flat metrics of ``fitted`` against ``truth``: each estimate as ``name``, ``name_floor``,
    ``name_ci_low``, ``name_ci_high`` (`metrics.Estimate.as_flat`), the family's extras and own metrics,
    and ``kde_tv`` with ``eval.kde_reference``."""
    family = get_family(cfg.estimator)
    samples = fitted.samples_float64().numpy()
    truth_sampler = truth.as_sampler(cfg.eval.seed)
    truth_log_prob = _log_prob_numpy(truth.log_prob, truth.dtype, "cpu")
    model_log_prob = None if fitted.log_prob is None else _log_prob_numpy(fitted.log_prob, torch.float64, device)
    if cfg.progress:  # the evaluation takes seconds to minutes (likelihood ODE, exact OT): say so
        print(f"evaluating {', '.join(cfg.eval.metrics)} against the truth (m = {cfg.eval.m}, "
              f"reps = {cfg.eval.reps})", flush=True)
    estimates = _sample_metrics(cfg, truth, samples, truth_sampler, truth_log_prob, model_log_prob,
                                family.own_metrics)
    if "w1_law" in cfg.eval.metrics:
        # W1 between the model's samples and the truth's law itself: no truth
        # samples enter, so there is no sampling floor (Estimate.exact: floor 0).
        estimates["w1_law"] = M.Estimate.exact(
            M.wasserstein(samples, MarginalLaw(truth), p=1, method="1d"),
            note="W1 against the known 1-D law (quantile quadrature); no sampling floor")
    grid_terms = {}
    if W1_GRID in cfg.eval.metrics:  # after tv, whose interval bounds the grid's quantisation error
        estimates[W1_GRID], grid_terms = w1_grid_estimate(cfg, truth, truth_log_prob, model_log_prob,
                                                          estimates.get("tv"))
    extra = family.evaluate_extra(cfg, truth, fitted, model_log_prob) if family.evaluate_extra else {}
    estimates.update({k: v for k, v in extra.items() if isinstance(v, M.Estimate)})
    out: dict = {}
    for name, est in estimates.items():
        out.update(est.as_flat(name))
    out.update(grid_terms)
    out.update({k: float(v) for k, v in fitted.extras.items()})
    out.update({k: v for k, v in extra.items() if not isinstance(v, M.Estimate)})
    if cfg.eval.kde_reference:
        out.update(kde_reference_tv(x_train, truth_sampler, truth_log_prob, seed=cfg.seed, m=cfg.eval.m,
                                    reps=cfg.eval.reps, eval_seed=cfg.eval.seed))
    return out
