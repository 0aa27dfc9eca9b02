"""A rate sweep from its command line: every check before anything is written, and the plans it will run.

`plan_rates` composes the recipe, checks the swept values, the seeds, the
metrics and the comparison recipes (each composes and can give the metrics),
and plans one sweep per recipe (`genlab.sweep.plan`), each directory checked
for another sweep's files.  A bad value is a one-line `ConfigError` /
ValueError naming the key, raised before the first run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from genlab.run.overrides import check_overrides
from genlab.config.compose import ConfigError, compose_config
from genlab.core.validation import check_in, check_positive, check_positive_int
from genlab.families import get_family
from genlab.run.validate import needs_model_density
from genlab.sweep.plan import SweepPlan, check_sweep_dir, format_value, plan_sweep
from genlab.sweep.slurm import launcher_names

__all__ = ["RateSweep", "plan_rates", "split_launcher_args", "swept_values", "compare_overrides", "use_replicas",
           "LOCAL_LAUNCHERS"]

#: launchers that run the jobs on this machine; any other (SLURM) spreads them, one process per run
LOCAL_LAUNCHERS = ("joblib", "basic")


@dataclass
class RateSweep:
    """What ``scripts/rates.py`` runs: the composed main config, the swept key and values, seeds, the
    metrics to fit, the 3x-floor factor, and one plan per recipe (the main one first, then its compares)."""

    cfg: object
    x_key: str
    xs: list
    seeds: list[int]
    metrics: list[str]
    floor_factor: float
    plans: list[SweepPlan]
    launcher_args: list[str]

    @property
    def main_plan(self) -> SweepPlan:
        return self.plans[0]


def split_launcher_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """Run overrides, and the Hydra launcher overrides passed on to the multirun untouched."""
    run, launcher = [], []
    for a in argv:
        (launcher if a.startswith(("hydra/", "hydra.", "+hydra")) else run).append(a)
    return run, launcher


def swept_values(rates) -> list:
    """The sorted distinct values of the swept key: ``rates.n`` for x = n, else ``rates.x_values``."""
    if rates.x == "n":
        if len(rates.n) == 0:
            raise ConfigError("rates.n is empty; give at least two sample sizes")
        xs = sorted({check_positive_int("rates.n", n) for n in rates.n})
        if len(xs) < 2:
            raise ConfigError("rates.n needs at least two distinct sample sizes to fit a slope")
        return xs
    if rates.x in ("seed", "out_dir", "recipe") or rates.x.startswith(("rates.", "hydra")):
        raise ConfigError(f"rates.x cannot be {rates.x!r}; sweep n or a setting of the run")
    xs = sorted({check_positive(f"rates.x_values ({rates.x})", v) for v in rates.x_values})
    if len(xs) < 2:
        raise ConfigError(f"rates.x_values needs at least two distinct positive values of {rates.x} "
                          f"to fit a slope")
    return xs


def use_replicas(cfg, launcher_args: list[str]) -> bool:
    """Whether the sweep of ``cfg`` trains as replica-batched groups (``rates.replicas``): its family can
    (`Family.replicas`), its runs can share a model, and the launcher is local."""
    check_in("rates.replicas", cfg.rates.replicas, ("auto", "off"))
    replicas = get_family(cfg.estimator).replicas
    if cfg.rates.replicas == "off" or replicas is None:
        return False
    local = all(name in LOCAL_LAUNCHERS for name in launcher_names(launcher_args))
    return local and replicas.replicable(OmegaConf.to_object(cfg)) is None


def compare_overrides(cfg, other: str, metrics: list[str]) -> list[str]:
    """A compare recipe's overrides: the main run's truth and evaluation sizes (a whole-run family: its shared
    keys instead), and the metrics it can give."""
    other_cfg = compose_config([f"recipe={other}"])
    family = get_family(other_cfg.estimator)
    # the main truth's set keys, and null for keys only the compare recipe sets (short run-dir names); a
    # whole-run family draws its own data (its shared keys) and evaluates itself: no truth, no eval sizes
    truth, sizes = [], []
    if family.fits_truth:
        truth = [f"truth.{k}={v}" for k, v in cfg.truth.items() if v is not None]
        truth += [f"truth.{k}=null" for k, v in other_cfg.truth.items() if v is not None and cfg.truth[k] is None]
        sizes = [f"eval.m={cfg.eval.m}", f"eval.reps={cfg.eval.reps}"]
    usable = [m for m in metrics if not (needs_model_density(m) and not family.has_density)
              and not (family.metric_needs and family.metric_needs(other_cfg, m))]
    if not usable:
        raise ConfigError(f"rates.compare: recipe {other!r} can give none of the metrics {metrics}")
    return [*truth, *_shared_section_keys(cfg, other_cfg), *sizes, f"eval.metrics=[{','.join(usable)}]"]


def _shared_section_keys(cfg, other_cfg) -> list[str]:
    """The main recipe's values of its family's `Family.shared_keys` (what draws a whole-run family's
    data), for a compare recipe of the same family: its data are then the main recipe's, whatever the
    command line changed."""
    family = get_family(cfg.estimator)
    if other_cfg.estimator != cfg.estimator or not family.shared_keys:
        return []
    main, own = cfg[family.section], other_cfg[family.section]
    # only the values the compare recipe does not already have (its run directories are named by them)
    return [f"{family.section}.{k}={'null' if main[k] is None else main[k]}" for k in family.shared_keys
            if main[k] != own[k]]


def _metrics(cfg) -> list[str]:
    metrics = list(cfg.rates.metrics) or list(cfg.eval.metrics)
    bad = [m for m in metrics if m not in cfg.eval.metrics]
    if bad:
        raise ConfigError(f"rates.metrics: {bad[0]!r} is not among eval.metrics {list(cfg.eval.metrics)}")
    return metrics


def plan_rates(argv: list[str], root: Path) -> RateSweep:
    """Check the command line ``argv`` of scripts/rates.py and plan its sweeps under ``root`` (default
    directories ``root/runs/<recipe>/rates-<hash>``); raise ConfigError / ValueError in one line."""
    check_overrides(argv)
    run_args, launcher_args = split_launcher_args(argv)
    cfg = compose_config(run_args)
    x_key, xs = cfg.rates.x, swept_values(cfg.rates)
    if x_key != "n":  # every swept value composes and passes the schema's types and checks
        check_overrides([*argv, f"{x_key}={','.join(map(format_value, xs))}"])
    seeds = list(range(check_positive_int("rates.seeds", cfg.rates.seeds)))
    floor_factor = check_positive("rates.floor_factor", cfg.rates.floor_factor)
    metrics = _metrics(cfg)
    others = [c for c in cfg.rates.compare if c != cfg.name]
    compare_args = {other: compare_overrides(cfg, other, metrics) for other in others}
    for other, extra in compare_args.items():
        check_overrides([f"recipe={other}", *extra])
    main_plan = plan_sweep(cfg.name, run_args, xs, seeds, root, cfg.rates.out_dir, launcher_args, x_key=x_key,
                           replicas=use_replicas(cfg, launcher_args))
    plans = [main_plan] + [plan_sweep(other, [f"recipe={other}", *extra], xs, seeds, root,
                                      str(main_plan.sweep_dir / "compare" / other), launcher_args, x_key=x_key)
                           for other, extra in compare_args.items()]
    for plan in plans:  # before anything is written: another sweep's directory is refused
        check_sweep_dir(plan)
    return RateSweep(cfg, x_key, xs, seeds, metrics, floor_factor, plans, launcher_args)
