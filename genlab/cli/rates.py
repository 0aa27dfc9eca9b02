"""``scripts/rates.py``: sweep a recipe over n and seeds, fit rates, draw them beside theory.

    python scripts/rates.py recipe=empirical_uniform rates.n=[32,64,128] rates.seeds=5
    python scripts/rates.py recipe=diffusion_oracle      # rates.x=diffusion.sampler_steps

A local sweep whose family can (diffusion) trains its runs as replica-batched
groups in one process (``rates.replicas=auto``, the default; `genlab.sweep.groups`):
the same run directories and numbers as one process per run, at the cost of a
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

from genlab.config.compose import ConfigError
from genlab.core.validation import error_line
from genlab.sweep.aggregate import collect_all, fit_rates, summary_lines, write_outputs
from genlab.sweep.launch import launch_all
from genlab.sweep.memory import memory_warnings
from genlab.sweep.plan import claim_sweep_dir, collect
from genlab.sweep.report import markdown_table
from genlab.sweep.setup import plan_rates
from genlab.sweep.slurm import is_cluster_launcher

__all__ = ["main"]


def _error(exc) -> int:
    print(error_line(exc), file=sys.stderr, flush=True)
    return 2


def _interrupted(sweep) -> int:
    """Ctrl-C while the runs work: one line on what is kept, exit 130."""
    n_done = sum(len(collect(p)[0]) for p in sweep.plans)
    on_cluster = " (SLURM jobs already submitted run on: scancel them, or rerun when they end)" \
        if is_cluster_launcher(sweep.launcher_args) else ""
    print(error_line(f"interrupted (SIGINT): {sweep.main_plan.sweep_dir} keeps its {n_done} complete run(s) and "
                     f"the checkpoints of the others; rerun the same command to continue{on_cluster}"),
          file=sys.stderr, flush=True)
    return 130


def main(argv: list[str] | None = None) -> int:
    """Plan (every check first), launch the missing runs, fit, write and print; the exit status: 0, 1 when
    runs are missing, 2 on bad input, 130 on SIGINT."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("--help", "-h") for a in argv):
        from genlab.cli.train import usage

        print(usage("rates"))
        print(__doc__)
        return 0
    try:
        # default sweep dirs are runs/<recipe>/... under the working directory
        sweep = plan_rates(argv, Path.cwd())
        for line in memory_warnings(sweep.plans, sweep.launcher_args):
            print(f"warning: {line}", file=sys.stderr, flush=True)
    except (ConfigError, ValueError) as exc:
        return _error(exc)
    for plan in sweep.plans:
        claim_sweep_dir(plan)  # also when every run is complete: the tables below are written there
    try:
        launched = launch_all(sweep.plans, progress=True)
    except KeyboardInterrupt:
        return _interrupted(sweep)
    try:
        collected = collect_all(sweep.plans, launched)
    except ValueError as exc:
        return _error(exc)
    results, panels = fit_rates(sweep, collected.records)
    write_outputs(sweep, collected, results, panels)
    print(markdown_table(results), end="")
    print("\n".join(summary_lines(sweep, collected, results)), flush=True)
    return 1 if collected.missing else 0
