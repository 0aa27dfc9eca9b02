"""The memory one run needs, where it is known: checked against a cluster job's ``mem_gb`` before submission.

A run's peak is set by its largest exact transport problem when it has one:
POT's network simplex (``ot.emd2``, behind the exact W1 and W2 in d >= 2)
holds the n x m cost matrix, the plan and its arcs, about
`BYTES_PER_PAIR` bytes per pair of points.  The W1 floor is two m-samples of
the truth, m x m, computed once and then read from ``eval.floor_cache``; the
model's own score is m x m too, or n x m for a family scored on its n fit points
(`Family.samples_are_fit_points`).  Everything else (the interpreter, torch, the data, a small
network) is `BASE_BYTES`.  Other metrics (sliced, Sinkhorn, MMD, TV) and the
training are not modelled, so the estimate is a lower bound.

Measured with ``/usr/bin/time -v`` on 2026-12-03 (peak resident set):
``empirical_uniform`` (d = 3, n = 128, eval.m = 8000) 2.781 GiB computing its
floor and 0.376 GiB with the floor cached: 41.0 bytes per pair for the
8000 x 8000 problem less the 128 x 8000 one, and 0.337 GiB besides; a default
``diffusion_gmm`` run at n = 8000 0.71 GiB either way (its network and
training, which the estimate does not model: 0.49 GiB estimated).
"""

from __future__ import annotations

from omegaconf import OmegaConf

from genlab.config import truth_identity
from genlab.config.compose import compose_config
from genlab.families import get_family
from genlab.run.floor_cache import is_cached
from genlab.run.validate import build_truth
from genlab.sweep.plan import format_value
from genlab.sweep.slurm import is_cluster_launcher

__all__ = ["BASE_BYTES", "BYTES_PER_PAIR", "EXACT_TRANSPORT_METRICS", "exact_transport_pairs", "run_need_bytes",
           "memory_warnings"]

#: peak resident memory of a run besides its exact transport (0.337 GiB measured, rounded down)
BASE_BYTES = 0.33 * 2**30
#: bytes per pair of points of an exact transport problem (41.0 measured at 8000 x 8000, rounded down)
BYTES_PER_PAIR = 40
#: the metrics computed by an exact transport problem in d >= 2 (in d = 1 by sorting, O(m) memory)
EXACT_TRANSPORT_METRICS = ("w1", "w2")


def exact_transport_pairs(cfg, dim: int, floor_cached: bool) -> int:
    """Pairs of points in the largest exact transport problem a run of ``cfg`` solves (0: none).

    ``dim`` is the truth's dimension; ``floor_cached`` whether every floor it
    needs is in ``eval.floor_cache`` already (`genlab.run.floor_cache.is_cached`).
    """
    if dim < 2 or not any(k in EXACT_TRANSPORT_METRICS for k in cfg.eval.metrics):
        return 0
    m = cfg.eval.m
    model = (cfg.n if get_family(cfg.estimator).samples_are_fit_points else m) * m
    return max(model, 0 if floor_cached else m * m)


def run_need_bytes(cfg, dim: int, floor_cached: bool) -> float:
    """A lower bound of a run's peak resident memory in bytes (see the module docstring)."""
    return BASE_BYTES + BYTES_PER_PAIR * exact_transport_pairs(cfg, dim, floor_cached)


def _launcher_mem_gb(plans, launcher_args: list[str]) -> float | None:
    """``hydra.launcher.mem_gb`` as given, or the launcher's own default (genlab_slurm: 4; submitit_slurm:
    none, the cluster's)."""
    given = [a.split("=", 1)[1] for a in launcher_args if a.startswith("hydra.launcher.mem_gb=")]
    if given:
        return float(given[-1])
    hydra_cfg = compose_config([f"recipe={plans[0].recipe}", *launcher_args], hydra=True)
    return hydra_cfg.hydra.launcher.get("mem_gb")


def memory_warnings(plans, launcher_args: list[str]) -> list[str]:
    """A line per sweep whose largest run needs more memory than ``hydra.launcher.mem_gb`` gives a
    SLURM job, where the need is known: a cluster that enforces memory kills it."""
    if not is_cluster_launcher(launcher_args):
        return []
    mem_gb = _launcher_mem_gb(plans, launcher_args)
    if mem_gb is None:
        return []
    out = []
    for plan in plans:
        x = max(plan.xs)
        cfg = OmegaConf.to_object(compose_config([f"recipe={plan.recipe}", *plan.overrides,
                                                  f"{plan.x_key}={format_value(x)}", "seed=0"]))
        if not get_family(cfg.estimator).fits_truth:  # no truth samples, so no floors to check
            continue
        truth = build_truth(cfg)
        cached = all(is_cached(cfg.eval.floor_cache, truth_identity(cfg.truth), truth.as_sampler(cfg.eval.seed), k,
                               m=cfg.eval.m, reps=cfg.eval.reps, seed=cfg.eval.seed)
                     for k in cfg.eval.metrics if k in EXACT_TRANSPORT_METRICS)
        need = run_need_bytes(cfg, truth.dim, cached) / 2**30
        if need > mem_gb:
            floor = "its floor is cached" if cached else "it computes its floor, not in eval.floor_cache yet"
            out.append(f"{plan.recipe}: a run at {plan.x_key} = {format_value(x)} needs at least {need:.2f} GiB "
                       f"({floor}), more than hydra.launcher.mem_gb = {mem_gb:g}: a cluster that enforces "
                       f"memory will kill it; raise hydra.launcher.mem_gb")
    return out
