"""From a launched sweep to its outputs: the complete runs, the fitted rates, and the files a paper takes.

`collect_all` reads every plan's run directories (naming the missing runs and
the jobs that failed, and refusing complete runs made with other settings);
`fit_rates` fits each recipe's metrics (`genlab.sweep.report.fit_metric`);
`write_outputs` writes rates.csv, rates.json, rates.md, rates.tex and the
figure (rates.png, rates.pdf) into the main sweep's directory; `summary_lines`
is what scripts/rates.py prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genlab.config.compose import compose_config
from genlab.config.identity import settings_differences
from genlab.core.files import atomic_write_text
from genlab.families import get_family
from genlab.plots.rates import PanelCurve, plot_rates
from genlab.sweep.plan import SweepPlan, collect, format_value, write_rates_csv
from genlab.sweep.report import MetricRate, fit_metric, floor_model_for, latex_table, markdown_table, \
    write_json_report

__all__ = ["Collected", "collect_all", "stale_runs", "fit_rates", "write_outputs", "figure_title", "summary_lines",
           "OUTPUT_FILES"]

#: what a rate sweep writes into its directory, besides its runs
OUTPUT_FILES = ("rates.csv", "rates.json", "rates.pdf", "rates.png", "rates.md", "rates.tex")


@dataclass
class Collected:
    """The complete runs of every plan, the (x, seed) pairs missing per recipe, and one line per failed job."""

    records: list = field(default_factory=list)
    missing: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)


def stale_runs(plan: SweepPlan, records) -> str | None:
    """Why complete runs of ``plan`` cannot be aggregated with this command, or None.

    A sweep skips its complete runs; one made with other settings than the
    command now gives (a recipe or a default edited since) would be reported as
    this sweep's.  The runs' config.yaml are compared with the config this
    command composes, on the keys both have, apart from the swept key and the seed.
    """
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


def collect_all(plans: list[SweepPlan], launched: list) -> Collected:
    """Every plan's complete runs and missing ones, with the failures its launch reported.

    Raises
    ------
    ValueError
        One line naming a complete run made with other settings (`stale_runs`).
    """
    out = Collected()
    for plan, result in zip(plans, launched):
        if result is not None and result.job_problems:
            out.failures += [f"{plan.recipe}: {line}" for line in result.job_problems]
        elif result is not None and result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
            out.failures.append(f"{plan.recipe}: {last}")
        records, miss = collect(plan)
        stale = stale_runs(plan, records)
        if stale:
            raise ValueError(f"{plan.recipe}: {stale}")
        out.records += records
        if miss:
            out.missing[plan.recipe] = miss
    return out


def fit_rates(sweep, records) -> tuple[list[MetricRate], dict[str, list[PanelCurve]]]:
    """Per recipe and metric with any value: the fitted rate, and the figure's curves by metric."""
    results: list[MetricRate] = []
    panels: dict[str, list[PanelCurve]] = {}
    for plan in sweep.plans:
        recs = [r for r in records if r.recipe == plan.recipe]
        for metric in sweep.metrics:
            if not any(r.metrics.get(metric) is not None for r in recs):
                continue
            res = fit_metric(recs, plan.recipe, metric, sweep.xs, sweep.seeds, sweep.floor_factor, sweep.x_key)
            results.append(res)
            panels.setdefault(metric, []).append(PanelCurve(
                plan.recipe, sweep.xs, res.values, res.floors, res.fit, res.theory,
                left_out=(res.fit or {}).get("left_out", []), fit_error=res.fit_error,
                floor_model=floor_model_for(metric)))
    return results, panels


def figure_title(cfg, x_key: str) -> tuple[str, str]:
    """The figure's title (recipe, truth and its d and s; the family's note for a sweep over one of its
    settings) and its x-axis label."""
    family = get_family(cfg.estimator)
    if not family.fits_truth:
        title = cfg.name
    else:
        truth = ", ".join(f"{k} = {v:g}" for k, v in [("d", cfg.truth.dim), ("s", cfg.truth.s)] if v is not None)
        title = f"{cfg.name}: truth {cfg.truth.name}" + (f", {truth}" if truth else "")
    if family.axis_title:
        title += family.axis_title(cfg, x_key)
    xlabel = "training sample size $n$" if x_key == "n" else family.axis_labels.get(x_key, x_key)
    return title, xlabel


def write_outputs(sweep, collected: Collected, results: list[MetricRate], panels: dict) -> None:
    """rates.csv (every run and metric), rates.json, rates.md, rates.tex and, if anything was fitted or
    drawn, rates.png / rates.pdf, into the main plan's sweep directory."""
    out = sweep.main_plan.sweep_dir
    write_rates_csv(out / "rates.csv", collected.records, sweep.metrics, sweep.x_key)
    write_json_report(out / "rates.json", results, collected.missing, sweep.x_key)
    atomic_write_text(out / "rates.md", markdown_table(results))
    atomic_write_text(out / "rates.tex", latex_table(results))
    if panels:
        title, xlabel = figure_title(sweep.cfg, sweep.x_key)
        plot_rates(out / "rates", panels, title=title, xlabel=xlabel, floor_factor=sweep.floor_factor)


def summary_lines(sweep, collected: Collected, results: list[MetricRate]) -> list[str]:
    """What scripts/rates.py prints after the slope table: each theory line with its source and assumptions,
    each fit's warnings, the missing runs and the failed jobs, and the sweep directory last."""
    lines = []
    for r in results:
        if r.theory:
            lines.append(f"theory {r.recipe}/{r.metric}: {r.theory['exponent']:+.3f} — {r.theory['source']}; "
                         f"assumes {r.theory['assumptions']}")
        if r.fit_error:
            lines.append(f"warning: {r.recipe}/{r.metric}: no fit: {r.fit_error}")
        if r.floor_warning:
            lines.append(f"warning: {r.recipe}/{r.floor_warning}")
    for recipe, miss in collected.missing.items():
        lines.append(f"warning: {recipe}: {len(miss)} run(s) missing: "
                     + ", ".join(f"{sweep.x_key}={format_value(x)} seed={s}" for x, s in miss))
    lines += [f"warning: sweep job failed: {f}" for f in collected.failures]
    lines.append(f"{sweep.main_plan.sweep_dir}  {' '.join(OUTPUT_FILES)}")
    return lines
