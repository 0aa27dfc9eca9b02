"""``scripts/score_regimes.py``: does a lazy score network behave like a kernel score estimator?

    python scripts/score_regimes.py [n=1000,10000] [seeds=3] [jobs=2] [out_dir=runs/score_regimes] [key=value ...]

The study of issue 17, item 6: on ``diffusion_gmm``'s truth (the 2-D anisotropic 7-mode mixture) and at
each n, five score estimators are run as ordinary ``scripts/train.py`` runs (same evaluation, same
sampler, same probability-flow TV) and tabulated side by side:

* ``network``    the default score network (``recipe=diffusion_gmm``), its weight movement recorded;
* ``lazy``       a wide one-hidden-layer NTK-scaled network (``recipe=diffusion_lazy``);
* ``kde``        the KDE-smoothed score (Wibisono, Wu & Yang 2024), Silverman's bandwidth;
* ``kde_cv``     the same at the held-out-likelihood bandwidth of the standardised training set;
* ``empirical``  the empirical-optimal score, the exact minimiser of the denoising loss on the n points,
                 whose samples reproduce the training set.

Per estimator and n the table gives the seed mean and its 95% t-interval over the seeds of: TV to the
truth (probability-flow density; the largest per-run floor beside it), the relative score error
E||s - s*||^2 / E||s*||^2 on a grid of times from 0.001 to 3 (standardised coordinates, exact draws of the
noised truth; ``diffusion.score_error_times``), the memorisation
fraction (Gu et al. 2023) with the fraction fresh truth points get by chance, the mean distance of samples
to the training set over that to a fresh truth sample of the same size, and the weight movement of the
networks (Frobenius over all layers; spectral, the largest layer's over all layers and over the layers x
passes through, since a time branch may learn its embedding of the noise level while the features of x stay
near their init).  Runs are written to ``out_dir/<estimator>_n<n>_s<seed>`` and skipped when complete; the tables
go to ``out_dir/score_regimes.md`` and to stdout, the score errors against t to ``out_dir/score_regimes.png``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

from genlab.cli.study import (fmt_mean_ci, memorisation_references, run_commands, split_study_args,
                              standardised_held_out, truth_references)
from genlab.config.compose import ConfigError, compose_config
from genlab.core.files import METRICS_FILE, SAMPLES_FILE, atomic_write_text
from genlab.core.seeding import derive_seed, make_generator
from genlab.core.validation import error_line
from genlab.diffusion.estimator import standardised_mixture
from genlab.diffusion.reference import score_error
from genlab.plots.score_regimes import plot_score_errors
from genlab.run.data import training_points
from genlab.run.overrides import check_overrides
from genlab.run.validate import build_truth
from metrics.rate_table import row_mean_ci

__all__ = ["ESTIMATORS", "main", "held_out_score_bandwidth", "collect", "markdown"]

#: (name, what it is, its scripts/train.py overrides besides n, seed and out_dir)
ESTIMATORS = (
    ("network", "score network (diffusion_gmm: width 128, depth 2, standard)",
     ["recipe=diffusion_gmm", "diffusion.weight_movement=true"]),
    ("lazy", "lazy score network (diffusion_lazy: width 2048, depth 0, NTK)", ["recipe=diffusion_lazy"]),
    ("kde", "KDE score, Silverman h", ["recipe=diffusion_gmm", "diffusion.score=kde"]),
    ("kde_cv", "KDE score, held-out h", ["recipe=diffusion_gmm", "diffusion.score=kde"]),
    ("empirical", "empirical-optimal score", ["recipe=diffusion_gmm", "diffusion.score=empirical_optimal"]),
)
#: the times of the score-error grid, four decades of the VP-OU process from near t0 to near equilibrium
TIMES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
#: what every run of the study is given besides its estimator's overrides
STUDY = [f"diffusion.score_error_times=[{','.join(f'{t:g}' for t in TIMES)}]"]


def _training_set(n: int, seed: int):
    """The truth of diffusion_gmm and the n training points a run of that seed draws, float64 (n, d)."""
    cfg = OmegaConf.to_object(compose_config(["recipe=diffusion_gmm", f"n={n}", f"seed={seed}"]))
    truth = build_truth(cfg)
    return truth, training_points(truth, n, seed).to(torch.float64)


def held_out_score_bandwidth(n: int, seed: int) -> float:
    """The held-out-likelihood bandwidth (`genlab.baselines.bandwidth.held_out`) of the training set
    standardised per axis, the coordinates `diffusion.score=kde` smooths in."""
    _, x = _training_set(n, seed)
    return standardised_held_out(x)


def _arguments(name: str, overrides: list[str], n: int, seed: int, run_dir: Path) -> list[str]:
    """The scripts/train.py arguments of one run; kde_cv's bandwidth to 3 significant digits (the held-out
    likelihood is flat to far better than that near its maximum)."""
    extra = [f"diffusion.score_bandwidth={held_out_score_bandwidth(n, seed):.3g}"] if name == "kde_cv" else []
    return [*overrides, *extra, f"n={n}", f"seed={seed}", f"out_dir={run_dir}", "progress=false"]


def run_missing(out_dir: Path, ns: list[int], seeds: list[int], jobs: int, forward: list[str] = ()) -> list[str]:
    """Run every (estimator, n, seed) whose metrics.json is missing, ``jobs`` at a time (one thread each
    when jobs > 1), with the run overrides ``forward``; returns one line per failed run."""
    todo = [(f"{name}_n{n}_s{s}", _arguments(name, [*over, *STUDY, *forward], n, s, out_dir / f"{name}_n{n}_s{s}"))
            for n in ns for s in seeds for name, _, over in ESTIMATORS
            if not (out_dir / f"{name}_n{n}_s{s}" / METRICS_FILE).exists()]
    return run_commands(todo, jobs)


def _run_values(run_dir: Path, n: int, seed: int) -> dict[str, float]:
    """The table's numbers of one finished run; the distance ratio and chance level from its samples."""
    m = json.loads((run_dir / METRICS_FILE).read_text())
    wall = json.loads((run_dir / "timings.json").read_text())["wall_seconds"]
    truth, x = _training_set(n, seed)
    samples = torch.as_tensor(np.load(run_dir / SAMPLES_FILE)["samples"], dtype=torch.float64)
    chance_level, nn_ratio = memorisation_references(samples, x, *truth_references(truth, n, seed))
    out = {"tv": m["tv"], "tv_floor": m["tv_floor"], "memorisation": m["memorization_fraction"],
           "memorisation_chance": chance_level, "nn_ratio": nn_ratio, "wall": wall,
           "weight_movement": m.get("weight_movement", math.nan),
           "weight_movement_spectral": m.get("weight_movement_spectral", math.nan),
           "weight_movement_spectral_x": _x_pathway_spectral(m)}
    fisher = _fisher_information(truth, x, n)
    out.update({f"score_error_t{t:g}": m[f"score_error_t{t:g}"] / fisher[i] for i, t in enumerate(TIMES)})
    return out


def _x_pathway_spectral(m: dict) -> float:
    """The largest spectral weight movement over the layers that x passes through (x_in, hidden, out):
    the time branch (time_in, time_out) embeds the noise level and may be learned while the features of x
    stay near their init.  NaN for a run without per-layer movement."""
    layers = [v for k, v in m.items() if k.startswith("weight_movement_spectral_")
              and not k.startswith("weight_movement_spectral_time_")]
    return max(layers) if layers else math.nan


def _fisher_information(truth, x, n: int) -> list[float]:
    """E||grad log p_t||^2 at each time of TIMES, for the truth in a run's standardised coordinates (its
    training set's mean and sd) noised by the run's process: the scale the score errors are divided by.
    The score error of the zero function, by the same Monte Carlo the runs use (m = score_error_m)."""
    cfg = OmegaConf.to_object(compose_config(["recipe=diffusion_gmm", f"n={n}"])).diffusion
    zt = standardised_mixture(truth, x.mean(0), x.std(0))
    zero = lambda z, t: torch.zeros_like(z)  # noqa: E731
    return score_error(zero, zt, cfg.make_process(n=n), list(TIMES), cfg.score_error_m,
                       make_generator(derive_seed(0, "fisher"))).tolist()


def collect(out_dir: Path, ns: list[int], seeds: list[int]) -> dict[tuple[str, int], dict[str, tuple]]:
    """Per (estimator, n): each quantity's (seed mean, 95% t half-width, run count); missing runs left out."""
    table = {}
    for name, _, _ in ESTIMATORS:
        for n in ns:
            runs = [_run_values(out_dir / f"{name}_n{n}_s{s}", n, s) for s in seeds
                    if (out_dir / f"{name}_n{n}_s{s}" / METRICS_FILE).exists()]
            if not runs:
                continue
            keys = runs[0].keys()
            mean, half, count = row_mean_ci(np.array([[r[k] for r in runs] for k in keys]))
            table[name, n] = {k: (mean[i], half[i], int(count[i])) for i, k in enumerate(keys)}
            table[name, n]["tv_floor"] = (max(r["tv_floor"] for r in runs), math.nan, len(runs))
    return table


def markdown(table: dict) -> str:
    """The study's two tables, one row per estimator and n: the law (TV, memorisation, weight movement), then
    the relative score error E||s - s*||^2 / E||s*||^2 on the time grid."""
    labels = {name: label for name, label, _ in ESTIMATORS}
    law = ["| estimator | n | seeds | TV [max floor] | memorisation (chance) | d(train) / d(fresh) "
           "| weight movement F / spectral (all layers / x-pathway) | wall s |", "|" + "---|" * 8]
    score = ["| estimator | n | " + " | ".join(f"t = {t:g}" for t in TIMES) + " |", "|" + "---|" * (2 + len(TIMES))]
    for (name, n), v in table.items():
        wm = " / ".join(fmt_mean_ci(v[k], 2) for k in ("weight_movement", "weight_movement_spectral",
                                                         "weight_movement_spectral_x"))
        law.append(f"| {labels[name]} | {n} | {v['tv'][2]} | {fmt_mean_ci(v['tv'])} [{v['tv_floor'][0]:.2g}] "
                   f"| {fmt_mean_ci(v['memorisation'], 2)} ({v['memorisation_chance'][0]:.2g}) "
                   f"| {fmt_mean_ci(v['nn_ratio'])} "
                   f"| {wm} | {v['wall'][0]:.0f} |")
        score.append(f"| {labels[name]} | {n} | " + " | ".join(fmt_mean_ci(v[f"score_error_t{t:g}"], 2) for t in TIMES)
                     + " |")
    return "\n".join(law) + "\n\n" + "\n".join(score) + "\n"


def _parse(argv: list[str]) -> dict:
    """The script's own keys (n, seeds, jobs, out_dir); every other ``key=value`` is a run override given
    to all five estimators (e.g. ``eval.m=4000``), checked against each one's recipe before anything runs."""
    opts, forward = split_study_args(argv, {"n": "1000,10000", "seeds": "3", "jobs": "1",
                                            "out_dir": "runs/score_regimes"},
                                     ("recipe", "n", "seed", "out_dir", "progress", "data_split", "diffusion.score",
                                      "diffusion.score_bandwidth", "diffusion.score_error_times"),
                                     "n=N1,N2 seeds=K jobs=J out_dir=DIR")
    try:
        ns = [int(v) for v in opts["n"].split(",")]
        seeds, jobs = int(opts["seeds"]), int(opts["jobs"])
    except ValueError:
        raise ValueError(f"n, seeds and jobs must be integers, got n={opts['n']} seeds={opts['seeds']} "
                         f"jobs={opts['jobs']}") from None
    if min(ns) < 2 or seeds < 1 or jobs < 1:
        raise ValueError(f"n must be >= 2 and seeds, jobs >= 1, got n={ns} seeds={seeds} jobs={jobs}")
    for _, _, over in ESTIMATORS:
        check_overrides([*over, *STUDY, *forward])
    return {"ns": ns, "seeds": list(range(seeds)), "jobs": jobs, "out_dir": Path(opts["out_dir"]),
            "forward": forward}


def main(argv: list[str] | None = None) -> int:
    """Run what is missing, tabulate what is there; exit 1 when a run failed, 2 on a bad argument."""
    try:
        opts = _parse(sys.argv[1:] if argv is None else argv)
    except (ValueError, ConfigError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    opts["out_dir"].mkdir(parents=True, exist_ok=True)
    failed = run_missing(opts["out_dir"], opts["ns"], opts["seeds"], opts["jobs"], opts["forward"])
    table = collect(opts["out_dir"], opts["ns"], opts["seeds"])
    text = markdown(table)
    atomic_write_text(opts["out_dir"] / "score_regimes.md", text)
    if table:
        plot_score_errors(table, TIMES, {name: label for name, label, _ in ESTIMATORS},
                          opts["out_dir"] / "score_regimes.png")
    print(text, end="")
    for line in failed:
        print(error_line(f"run failed: {line}"), file=sys.stderr)
    return 1 if failed else 0
