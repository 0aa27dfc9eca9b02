"""The distance between two finished runs' laws: models of one config trained on other data.

Two runs that differ only in ``data_split`` (`genlab.run.data`) are one model
trained on two disjoint training sets.  When the model generalises, the two
laws agree though no training point is shared; when it memorises, each law
sits on its own points and they are far apart (Kadkhodaie, Guth, Simoncelli &
Mallat 2024, Fig. 2: the two networks' samples coincide once n is large).
`compare_runs` measures that distance two ways:

- ``tv``: TV between the two models' densities p_A, p_B (the ones their runs
  scored), from each family's restored model (`Family.restore`).  With x_A the
  m draws of a law q_A close to p_A whose log q_A is exact (and x_B of q_B),
  TV = E_{p_A}(1 - p_B/p_A)_+ = E_{p_B}(1 - p_A/p_B)_+, so the 2m terms
  (1 - p_B(x_A)/p_A(x_A))_+ and (1 - p_A(x_B)/p_B(x_B))_+ in [0, 1] go to
  `metrics.tv_monte_carlo` as one sample.  Drawing from q instead of p moves
  the mean of a term in [0, 1] by at most TV(q, p), so the interval is widened
  by the upper end of (TV(q_A, p_A) + TV(q_B, p_B)) / 2, estimated the same
  way from log q and log p at the same draws; it is 0 where q = p.  The floor
  is the widened interval's half-width (the density metrics' convention,
  `metrics.evaluate`: a law's TV to itself is 0).
- sample distances (``w1``, ``w2``, ``sliced_w1``, ``sliced_w2``) between the
  two runs' saved samples (samples.npz, m points each): the value is the
  distance itself; the interval a t interval on ``reps`` bootstrap redraws of
  both samples; the floor the runs' own, the same distance between two
  independent truth samples of that size (`genlab.run.floor_cache`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import yaml
from omegaconf import OmegaConf
from scipy import stats

import metrics as M
from metrics.evaluate import SAMPLE_METRICS
from genlab.config import truth_identity
from genlab.config.identity import settings_differences
from genlab.config.schema import run_schema
from genlab.core.files import CONFIG_FILE, SAMPLES_FILE, metrics_problem
from genlab.core.seeding import derive_seed, make_generator
from genlab.families import get_family
from genlab.run.data import training_points
from genlab.run.floor_cache import cached_floors
from genlab.run.validate import build_truth

__all__ = ["compare_runs", "load_run_config", "COMPARE_FREE_KEYS", "SAMPLE_DISTANCES"]

#: keys two compared runs may differ in besides where they are kept (`genlab.config.identity`)
COMPARE_FREE_KEYS = ("data_split", "device")
#: the sample distances `compare_runs` measures between the runs' saved samples
SAMPLE_DISTANCES = ("w1", "w2", "sliced_w1", "sliced_w2")


def load_run_config(run_dir) -> tuple[dict, object]:
    """A complete run's config.yaml as saved (dict) and as a run config (keys it lacks take their defaults)."""
    problem = metrics_problem(run_dir)
    if problem:
        raise ValueError(f"run {run_dir} is not a complete run ({problem})")
    saved = yaml.safe_load((Path(run_dir) / CONFIG_FILE).read_text())
    return saved, OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(run_schema()), saved))


def compare_runs(run_a, run_b, *, metrics=None, seed: int = 0, m: int | None = None, alpha: float = 0.05,
                 device="cpu") -> dict:
    """TV between two finished runs' densities and distances between their samples, each an `metrics.Estimate`.

    Parameters
    ----------
    run_a, run_b : path
        Complete run directories of the same settings apart from ``data_split`` (and the device).
    metrics : iterable of str, optional
        From ``tv`` and `SAMPLE_DISTANCES`; default ``tv`` (where the family restores a density), ``sliced_w1``
        and ``w1``.
    seed : int
        Seed of the draws behind ``tv`` (``derive_seed(seed, "compare", side)``) and of the bootstrap.
    m : int, optional
        Draws of each model behind ``tv`` (default: the runs' ``eval.m``).
    alpha : float
        1 - the intervals' level.

    Returns
    -------
    dict of str to Estimate, in the order of ``metrics`` (see the module docstring).
    """
    (saved_a, cfg), (_, cfg_b) = load_run_config(run_a), load_run_config(run_b)
    differing = settings_differences(saved_a, cfg_b, ignore=COMPARE_FREE_KEYS)
    if differing:
        raise ValueError(f"runs {run_a} and {run_b} differ in more than {' and '.join(COMPARE_FREE_KEYS)}: "
                         f"{', '.join(differing)}")
    family = get_family(cfg.estimator)
    names = _metric_names(metrics, family, cfg.estimator)
    truth = build_truth(cfg)
    out = {}
    for name in names:
        if name == "tv":
            laws = [family.restore(c, truth, training_points(truth, c.n, c.seed, c.data_split), d, device=device)
                    for c, d in ((cfg, run_a), (cfg_b, run_b))]
            out[name] = _density_tv(laws, m or cfg.eval.m, seed, alpha)
        else:
            out[name] = _sample_distance(name, _samples(run_a), _samples(run_b), cfg, truth, seed, alpha)
    return out


def _metric_names(metrics, family, estimator: str) -> list:
    """The asked metrics, checked; the default: tv where the family restores a density, sliced_w1, w1."""
    can_tv = family.restore is not None and family.has_density
    names = list(metrics) if metrics is not None else (["tv"] if can_tv else []) + ["sliced_w1", "w1"]
    if not names:
        raise ValueError("metrics is empty; name at least one of tv, " + ", ".join(SAMPLE_DISTANCES))
    for name in names:
        if name not in ("tv", *SAMPLE_DISTANCES):
            raise ValueError(f"metrics must be among tv, {', '.join(SAMPLE_DISTANCES)}; got {name!r}")
        if name == "tv" and not can_tv:
            raise ValueError(f"metrics: 'tv' needs both runs' densities, and estimator '{estimator}' restores none")
    return names


def _log_prob(log_prob, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return log_prob(x).detach().cpu().numpy().astype(np.float64)


def _density_tv(laws, m: int, seed: int, alpha: float) -> M.Estimate:
    """TV(p_A, p_B) from m draws of each side's q, widened by the draws' own distance to p (module docstring)."""
    own, other, law_q = [], [], []
    for side, (this, that) in enumerate((laws, laws[::-1])):
        x, log_q = this.sample_with_log_prob(m, make_generator(derive_seed(seed, "compare", side)))
        own.append(_log_prob(this.log_prob, x))
        other.append(_log_prob(that.log_prob, x))
        law_q.append(log_q.detach().cpu().numpy().astype(np.float64))
    own, other, law_q = (np.concatenate(v) for v in (own, other, law_q))
    tv = M.tv_monte_carlo(own, other, alpha=alpha)
    bias = M.tv_monte_carlo(law_q, own, alpha=alpha).ci_high  # (TV(q_A, p_A) + TV(q_B, p_B)) / 2, upper end
    lo, hi = max(tv.ci_low - bias, 0.0), min(tv.ci_high + bias, 1.0)
    return M.Estimate(tv.value, floor=0.5 * (hi - lo), ci_low=lo, ci_high=hi, floor_std=0.0,
                      note=f"{tv.note}, over the draws of both models; interval widened by {bias:.3g}, the upper "
                           f"end of the draws' TV to the density; floor: the interval's half-width")


def _samples(run_dir) -> np.ndarray:
    with np.load(Path(run_dir) / SAMPLES_FILE) as f:
        return np.asarray(f["samples"], dtype=np.float64)


def _sample_distance(name: str, x: np.ndarray, y: np.ndarray, cfg, truth, seed: int, alpha: float) -> M.Estimate:
    """``name`` between the two runs' samples, with a bootstrap t interval and the truth's floor at that size."""
    dist, reps = SAMPLE_METRICS[name], cfg.eval.reps
    if len(x) != len(y):
        raise ValueError(f"the runs saved {len(x)} and {len(y)} samples; a distance with a floor needs as many")
    value = dist(x, y)
    rng = np.random.default_rng(derive_seed(seed, "compare-bootstrap"))
    boot = np.array([dist(x[rng.integers(0, len(x), len(x))], y[rng.integers(0, len(y), len(y))])
                     for _ in range(reps)])
    half = float(stats.t.ppf(1 - alpha / 2, reps - 1) * boot.std(ddof=1)) if reps > 1 else None
    sampler = truth.as_sampler(cfg.eval.seed)
    fl = (cached_floors(cfg.eval.floor_cache, truth_identity(cfg.truth), sampler, [name], m=len(x), reps=reps,
                        seed=cfg.eval.seed).get(name)
          or M.metric_floor(sampler, name, len(x), reps=reps, seed=cfg.eval.seed))
    return M.Estimate(value, floor=fl.mean, floor_std=fl.std if fl.std == fl.std else None,
                      ci_low=None if half is None else max(value - half, 0.0),
                      ci_high=None if half is None else value + half,
                      note=f"{name} between the runs' {len(x)} samples; {100 * (1 - alpha):g}% t interval on {reps} "
                           f"bootstrap redraws of both; floor: the same distance between two truth samples")
