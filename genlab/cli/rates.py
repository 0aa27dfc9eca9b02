"""``scripts/rates.py``: sweep a recipe over n and seeds, fit rates, draw them beside theory.

    python scripts/rates.py recipe=empirical_uniform rates.n=[32,64,128] rates.seeds=5
    python scripts/rates.py recipe=diffusion_oracle      # rates.x=diffusion.sampler_steps

A local diffusion sweep trains its runs as replica-batched groups in one
process (``rates.replicas=auto``, the default; ``genlab.sweep.groups``): the
same run directories and numbers as one process per run, at the cost of a
few larger networks.  ``rates.replicas=off``, or a cluster launcher
(``hydra/launcher=genlab_slurm``), runs one process per run.

``rates.x`` names the swept key: ``n`` (default, values ``rates.n``) or any
other run key with values ``rates.x_values`` -- the number of sampler steps of
the oracle-score discretisation study, fitted against the sampler's order.

Writes to the sweep directory ``rates.csv`` (one row per run and metric),
``rates.json`` (per metric: slope, CI, theory exponent and source, points used
and left out, runs missing), ``rates.pdf`` / ``rates.png`` and ``rates.md`` /
``rates.tex`` (measured against predicted exponents).  Recipes named in
``rates.compare`` are swept over the same n and seeds and drawn on the same
axes (a model beside the empirical-measure and KDE baselines), on the main
recipe's truth: its ``truth.*`` keys are passed to them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import OmegaConf

from genlab.config.compose import ConfigError, compose_config
from genlab.cli.overrides import check_overrides
from genlab.estimators import DENSITY_METRICS
from genlab.families import get_family
from genlab.plots.rates import PanelCurve, plot_rates
from genlab.sweep.report import MetricRate, fit_metric, floor_model_for, latex_table, markdown_table, write_json_report
from genlab.core.files import atomic_write_text
from genlab.sweep.slurm import is_cluster_launcher, launcher_names
from genlab.sweep.plan import check_sweep_dir, claim_sweep_dir, collect, format_value, plan_sweep, write_rates_csv
from genlab.sweep.launch import launch_all
from genlab.core.validation import check_in, check_positive, check_positive_int, error_line

__all__ = ["main"]


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Run overrides, and the Hydra launcher overrides passed on to the multirun untouched."""
    run, launcher = [], []
    for a in argv:
        (launcher if a.startswith(("hydra/", "hydra.", "+hydra")) else run).append(a)
    return run, launcher


def _swept_values(rates) -> list:
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


#: launchers that run the jobs on this machine; any other (SLURM) spreads them, one process per run
LOCAL_LAUNCHERS = ("joblib", "basic")


def _replicas(cfg, launcher_args: list[str]) -> bool:
    """Whether the sweep of ``cfg`` trains as replica-batched groups (``rates.replicas``)."""
    check_in("rates.replicas", cfg.rates.replicas, ("auto", "off"))
    if cfg.rates.replicas == "off" or cfg.estimator != "diffusion":
        return False
    from genlab.diffusion.replicas import replicable

    local = all(name in LOCAL_LAUNCHERS for name in launcher_names(launcher_args))
    return local and replicable(OmegaConf.to_object(cfg).diffusion) is None


def _compare_overrides(cfg, other: str, metrics: list[str]) -> list[str]:
    """A compare recipe's overrides: the main run's truth and evaluation, and the metrics it can give."""
    other_cfg = compose_config([f"recipe={other}"])
    # the main truth's set keys, and null for keys only the compare recipe sets (short run-dir names)
    truth = [f"truth.{k}={v}" for k, v in cfg.truth.items() if v is not None]
    truth += [f"truth.{k}=null" for k, v in other_cfg.truth.items() if v is not None and cfg.truth[k] is None]
    usable = [m for m in metrics if not (m in DENSITY_METRICS and not get_family(other_cfg.estimator).has_density)]
    if not usable:
        raise ConfigError(f"rates.compare: recipe {other!r} can give none of the metrics {metrics}")
    return [*truth, f"eval.m={cfg.eval.m}", f"eval.reps={cfg.eval.reps}",
            f"eval.metrics=[{','.join(usable)}]"]


def _stale_runs(plan, records) -> str | None:
    """Why complete runs of ``plan`` cannot be aggregated with this command, or None.

    A sweep skips its complete runs; one made with other settings than the
    command now gives (a recipe or a default edited since) would be reported as
    this sweep's.  The runs' config.yaml are compared with the config this
    command composes, on the keys both have, apart from the swept key and the seed.
    """
    from genlab.run.guard import settings_differences

    if not records:
        return None
    r0 = records[0]
    cfg = compose_config([f"recipe={plan.recipe}", *plan.overrides, f"{plan.x_key}={format_value(r0.x)}",
                          f"seed={r0.seed}"])
    for r in records:
        diff = settings_differences(r.config, cfg, ignore=(plan.x_key, "seed"), common_only=True)
        if diff:
            return (f"the complete run {plan.run_dir(r.x, r.seed)} was made with other settings than this "
                    f"command gives (differing keys: {', '.join(diff)}; a recipe or a default changed since?); "
                    f"move it away to rerun it, or choose another rates.out_dir")
    return None


def _memory_warnings(plans, launcher_args: list[str]) -> list[str]:
    """A line per sweep whose largest run needs more memory than ``hydra.launcher.mem_gb`` gives a
    SLURM job, where the need is known (`genlab.sweep.memory`): a cluster that enforces memory kills it."""
    from genlab.config import truth_identity
    from genlab.run.pipeline import build_truth
    from genlab.run.floor_cache import is_cached
    from genlab.sweep.memory import EXACT_TRANSPORT_METRICS, run_need_bytes

    if not is_cluster_launcher(launcher_args):
        return []
    given = [a.split("=", 1)[1] for a in launcher_args if a.startswith("hydra.launcher.mem_gb=")]
    if given:
        mem_gb = float(given[-1])
    else:  # the launcher's own default (genlab_slurm: 4; submitit_slurm: none, the cluster's)
        hydra_cfg = compose_config([f"recipe={plans[0].recipe}", *launcher_args], hydra=True)
        mem_gb = hydra_cfg.hydra.launcher.get("mem_gb")
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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("--help", "-h") for a in argv):
        from genlab.cli.train import usage

        print(usage("rates"))
        print(__doc__)
        return 0
    try:
        check_overrides(argv)
        run_args, launcher_args = _split(argv)
        cfg = compose_config(run_args)
        rates = cfg.rates
        x_key = rates.x
        xs = _swept_values(rates)
        if x_key != "n":  # every swept value composes and passes the schema's types and checks
            check_overrides([*argv, f"{x_key}={','.join(map(format_value, xs))}"])
        seeds = list(range(check_positive_int("rates.seeds", rates.seeds)))
        floor_factor = check_positive("rates.floor_factor", rates.floor_factor)
        metrics = list(rates.metrics) or list(cfg.eval.metrics)
        bad = [m for m in metrics if m not in cfg.eval.metrics]
        if bad:
            raise ConfigError(f"rates.metrics: {bad[0]!r} is not among eval.metrics {list(cfg.eval.metrics)}")
        recipes = [cfg.name] + [c for c in rates.compare if c != cfg.name]
        compare_args = {other: _compare_overrides(cfg, other, metrics) for other in recipes[1:]}
        for other, extra in compare_args.items():
            check_overrides([f"recipe={other}", *extra])
        root = Path.cwd()  # default sweep dirs are runs/<recipe>/... under the working directory
        main_plan = plan_sweep(cfg.name, run_args, xs, seeds, root, rates.out_dir, launcher_args, x_key=x_key,
                               replicas=_replicas(cfg, launcher_args))
        plans = [main_plan]
        for other, extra in compare_args.items():
            plans.append(plan_sweep(other, [f"recipe={other}", *extra], xs, seeds, root,
                                    str(main_plan.sweep_dir / "compare" / other), launcher_args, x_key=x_key))
        for plan in plans:  # before anything is written: another sweep's directory is refused
            check_sweep_dir(plan)
    except (ConfigError, ValueError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2

    try:
        for line in _memory_warnings(plans, launcher_args):
            print(f"warning: {line}", file=sys.stderr, flush=True)
    except (ConfigError, ValueError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    for plan in plans:
        claim_sweep_dir(plan)  # also when every run is complete: the tables below are written there
    try:
        launched = launch_all(plans, progress=True)
    except KeyboardInterrupt:
        n_done = sum(len(collect(p)[0]) for p in plans)
        on_cluster = " (SLURM jobs already submitted run on: scancel them, or rerun when they end)" \
            if is_cluster_launcher(launcher_args) else ""
        print(error_line(f"interrupted (SIGINT): {main_plan.sweep_dir} keeps its {n_done} complete run(s) and "
                         f"the checkpoints of the others; rerun the same command to continue{on_cluster}"),
              file=sys.stderr, flush=True)
        return 130
    all_records, missing, failures = [], {}, []
    for plan, result in zip(plans, launched):
        if result is not None and result.job_problems:
            failures += [f"{plan.recipe}: {line}" for line in result.job_problems]
        elif result is not None and result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
            failures.append(f"{plan.recipe}: {last}")
        records, miss = collect(plan)
        stale = _stale_runs(plan, records)
        if stale:
            print(error_line(f"{plan.recipe}: {stale}"), file=sys.stderr, flush=True)
            return 2
        all_records += records
        if miss:
            missing[plan.recipe] = miss

    out = main_plan.sweep_dir
    write_rates_csv(out / "rates.csv", all_records, metrics, x_key)
    results: list[MetricRate] = []
    panels: dict[str, list[PanelCurve]] = {}
    for plan in plans:
        recs = [r for r in all_records if r.recipe == plan.recipe]
        if not recs:
            continue
        for metric in metrics:
            if not any(r.metrics.get(metric) is not None for r in recs):
                continue
            res = fit_metric(recs, plan.recipe, metric, xs, seeds, floor_factor, x_key)
            results.append(res)
            panels.setdefault(metric, []).append(PanelCurve(
                plan.recipe, xs, res.values, res.floors, res.fit, res.theory,
                left_out=(res.fit or {}).get("left_out", []), fit_error=res.fit_error,
                floor_model=floor_model_for(metric)))
    write_json_report(out / "rates.json", results, missing, x_key)
    atomic_write_text(out / "rates.md", markdown_table(results))
    atomic_write_text(out / "rates.tex", latex_table(results))
    if panels:
        truth = ", ".join(f"{k} = {v:g}" for k, v in [("d", cfg.truth.dim), ("s", cfg.truth.s)] if v is not None)
        title = f"{cfg.name}: truth {cfg.truth.name}" + (f", {truth}" if truth else "")
        if not get_family(cfg.estimator).fits_truth:
            title = cfg.name
        xlabel = {"n": "training sample size $n$",
                  "diffusion.sampler_steps": "sampler steps $N$"}.get(x_key, x_key)
        if x_key.startswith("diffusion."):
            score = "oracle score" if cfg.diffusion.score == "oracle" else f"n = {cfg.n}"
            title += f" ({cfg.diffusion.sampler}, {score})"
        plot_rates(out / "rates", panels, title=title, xlabel=xlabel, floor_factor=floor_factor)

    print(markdown_table(results), end="")
    for r in results:
        if r.theory:
            print(f"theory {r.recipe}/{r.metric}: {r.theory['exponent']:+.3f} — {r.theory['source']}; "
                  f"assumes {r.theory['assumptions']}")
        if r.fit_error:
            print(f"warning: {r.recipe}/{r.metric}: no fit: {r.fit_error}")
        if r.floor_warning:
            print(f"warning: {r.recipe}/{r.floor_warning}")
    for recipe, miss in missing.items():
        print(f"warning: {recipe}: {len(miss)} run(s) missing: "
              + ", ".join(f"{x_key}={format_value(x)} seed={s}" for x, s in miss))
    for f in failures:
        print(f"warning: sweep job failed: {f}")
    print(f"{out}  rates.csv rates.json rates.pdf rates.png rates.md rates.tex", flush=True)
    return 1 if missing else 0
