"""``scripts/task_diversity.py``: from how many pretraining tasks on does a transformer learn ridge in context?

    python scripts/task_diversity.py [M=1,4,16,...,32768,0] [seeds=3] [jobs=2] [out_dir=runs/task_diversity]
                                     [key=value ...]

The study of issue 15, item 5 (Raventos, Paul, Chen & Ganguli, NeurIPS 2023, "Pretraining task diversity and
the emergence of non-Bayesian in-context learning for regression", Figs. 1-2).  The ``icl_task_diversity``
recipe (noisy linear regression, d = 5, k = 10, sigma^2 = 0.25, tau^2 = 1; the recipe's transformer, trained
for ``icl.steps`` = 5000 here, `STUDY_DEFAULTS`) is pretrained on prompts whose task w is drawn uniformly from
a pool of M tasks, itself drawn once from N(0, tau^2 I) by the run's seed (`genlab.icl.run.make_prompt_sampler`,
stream ``derive_seed(seed, "icl_pool")``); M = 0 is the unbounded pool (w fresh for every prompt).  Each
(M, seed) is an ordinary ``scripts/train.py`` run.

Per M, over the seeds (seed mean and 95% t-interval, `metrics.rate_table.row_mean_ci`), at the full prompt
k = K (``icl.k``), errors normalised by tau^2 d:

* the model's error on tasks from its pool (``err_pool_k<K>``) and on fresh tasks w ~ N(0, tau^2 I)
  (``err_k<K>``), beside dMMSE's (the posterior mean under the uniform prior on the pool: Bayes on the pool)
  and ridge's (lambda = sigma^2 / tau^2: Bayes on fresh tasks) on the same prompts;
* ``dist_dmmse`` and ``dist_ridge``: the model's mean squared distance to each estimator's predictions on
  fresh tasks, averaged over k = 1..K (Raventos et al., Fig. 2), their per-seed difference
  Delta = dist_dmmse - dist_ridge (> 0: closer to ridge), and ``dist_dmmse_ridge``, the same distance between
  dMMSE and ridge themselves -- how far apart the two are to tell, which shrinks as the pool fills the prior.

The unbounded pool has no pool tasks and no dMMSE: its row has the fresh-task errors, ridge and dist_ridge
only (there dist_ridge is the model's excess over Bayes averaged over k, since ridge is the posterior mean of
the clean label), and it takes no part in M*.

The threshold M*, two readings on the grid of finite M (Raventos et al.: above it the model's predictions on
fresh tasks are closer to ridge than to dMMSE):

* M*(ridge): the smallest M such that at M and at every larger M of the grid the model is significantly
  closer to ridge -- the lower end of the 95% t-interval of Delta is > 0;
* M*(not dMMSE): the smallest M such that at M and at every larger M the model is not significantly closer
  to dMMSE -- the upper end of Delta's interval is >= 0.

"At every larger M" makes M* the start of the last unbroken stretch, not the first lucky M.  With one seed
there is no interval and the rules read the mean (Delta > 0, Delta >= 0).  Between the two readings lies the
range of M where the model is told apart from neither estimator.  M*(ridge) needs dMMSE and ridge themselves
to differ (``dist_dmmse_ridge`` well above the interval of Delta): at pools large enough for dMMSE to approach
ridge it can fail for want of power rather than because the model memorises, and M*(not dMMSE), with
``dist_dmmse_ridge`` beside it, is then the reading to quote.  An interval rule moves with the number of seeds; M*
from different seed counts is not compared.  M* is printed "<= M_min" when the smallest M already
qualifies and "> M_max" when the largest does not.

How M* moves with d.  The issue quotes Raventos et al.'s threshold as near 2^13-2^14 tasks for their d = 8,
K = 16, sigma^2 = 0.25 transformer (8 layers, width 128, 500k steps of 256 prompts); a summary of the paper
(sciencestack.ai, not the paper's text: the library search did not find the paper's own sentence) reports
that the threshold grows roughly linearly with d, which from d = 8 to d = 5 gives about 5/8 of theirs,
2^12.3-2^13.3.  Two cautions.  First, dMMSE itself becomes ridge: after k examples the posterior of w is a
ball of radius ~ sqrt(d tau^2 sigma^2 / (k tau^2 + sigma^2)) inside a prior of radius ~ sqrt(d) tau, and the
pool fills it once M (sigma^2 / (k tau^2 + sigma^2))^(d/2) >> 1, i.e. M >> 41^2.5 ~ 2^13.4 at k = 10 here
(~2^24 at their d = 8, K = 16); beyond that no model can be told to be closer to one than to the other.
Measured (seed 0, 640 fresh prompts): dist_dmmse_ridge = 0.088, 0.029, 0.012 at M = 2^10, 2^13, 2^15 --
still resolvable at the top of this grid, but shrinking.  This
scale is exponential in d, not linear: the linear scaling is the transformer's, not dMMSE's.  Second, the
threshold depends on training (the paper's abstract names regularisation and model capacity): 5000 steps
of 128 prompts show each of 2^15 tasks ~20 times where their runs showed each ~4000 times, so a lower M* here
would be expected and would not contradict theirs.

Runs go to ``out_dir/M<M>_s<seed>`` (``Minf`` for the unbounded pool) and are skipped when complete; the
tables to ``out_dir/task_diversity.md`` and stdout, the figure to ``out_dir/task_diversity.png``
(`genlab.plots.task_diversity`).  Any other ``key=value`` is a run override given to every run (e.g.
``icl.steps=15000``, which replaces the study's default), checked before anything runs; the keys the study
sets itself are refused.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from genlab.cli.study import fmt_mean_ci, int_list, one_int, run_commands, split_study_args
from genlab.config.compose import ConfigError, compose_config
from genlab.core.files import METRICS_FILE, atomic_write_text
from genlab.core.validation import error_line
from genlab.plots.task_diversity import plot_task_diversity
from genlab.run.overrides import check_overrides
from metrics.rate_table import row_mean_ci

__all__ = ["RECIPE", "DEFAULT_M", "STUDY_DEFAULTS", "STUDY_KEYS", "Study", "run_name", "run_missing",
           "run_values", "collect", "threshold_m", "thresholds", "markdown", "main"]


RECIPE = "icl_task_diversity"
#: the default grid: 4^0 .. 4^5 = 1024, then every power of 2 up to 2^15 (where the threshold is expected,
#: 2^12-2^14 at d = 5), and the unbounded pool 0
DEFAULT_M = "1,4,16,64,256,1024,2048,4096,8192,16384,32768,0"
#: run overrides every run of the study is given unless the command line gives the same key: the recipe's
#: transformer (width 32, depth 6) trained for a third of its 15,000 steps, ~4 min on one core of the 2-core
#: machine (46 ms/step at load ~3, 2026-12-07)
STUDY_DEFAULTS = {"icl.steps": "5000"}
#: run keys the study sets for each run, refused as forwarded overrides
STUDY_KEYS = ("recipe", "estimator", "icl.n_tasks", "seed", "out_dir", "progress", "icl.family")


@dataclass
class Study:
    """What one invocation asks for (`_parse`)."""

    ms: list
    seeds: list
    jobs: int
    out_dir: Path
    #: the run overrides of every run: the study's defaults, replaced or joined by the command line's
    overrides: list
    #: the prompt length K (``icl.k``) of the runs, at which the errors are read
    k: int = 10

    def run_dir(self, m: int, seed: int) -> Path:
        return self.out_dir / run_name(m, seed)


def run_name(m: int, seed: int) -> str:
    """``M<M>_s<seed>``; the unbounded pool (M = 0) is ``Minf``."""
    return f"M{m or 'inf'}_s{seed}"


def _command(study: Study, m: int, seed: int) -> list:
    return [f"recipe={RECIPE}", *study.overrides, f"icl.n_tasks={m}", f"seed={seed}",
            f"out_dir={study.run_dir(m, seed)}", "progress=false"]


def _complete(study: Study, m: int, seed: int) -> bool:
    return (study.run_dir(m, seed) / METRICS_FILE).exists()


def run_missing(study: Study) -> list:
    """Run every (M, seed) whose metrics.json is missing, ``jobs`` at a time (one thread each when jobs > 1);
    returns one line per failed run."""
    todo = [(m, s) for m in study.ms for s in study.seeds if not _complete(study, m, s)]
    return run_commands([(run_name(m, s), _command(study, m, s)) for m, s in todo], study.jobs)


#: table key -> the run metric it reads ({K} the prompt length); NaN where the run has none (unbounded pool)
RUN_KEYS = {"err_pool": "err_pool_k{K}", "err": "err_k{K}", "dmmse_pool": "bayes_pool_k{K}", "dmmse": "dmmse_k{K}",
            "ridge_pool": "ridge_pool_k{K}", "ridge": "ridge_k{K}", "dist_dmmse": "dist_dmmse",
            "dist_ridge": "dist_ridge", "dist_dmmse_ridge": "dist_dmmse_ridge"}


def run_values(run_dir: Path, k: int) -> dict:
    """One run's numbers (`RUN_KEYS`, NaN where missing), Delta = dist_dmmse - dist_ridge, and its wall time."""
    m = json.loads((run_dir / METRICS_FILE).read_text())
    out = {key: float(m.get(name.format(K=k), math.nan)) for key, name in RUN_KEYS.items()}
    out["delta"] = out["dist_dmmse"] - out["dist_ridge"]
    timings = run_dir / "timings.json"
    out["wall"] = json.loads(timings.read_text()).get("wall_seconds", math.nan) if timings.exists() else math.nan
    return out


def collect(study: Study) -> dict:
    """Per M with a complete run: each quantity's (seed mean, 95% t half-width, count of seeds that have it)."""
    table = {}
    for m in study.ms:
        runs = [run_values(study.run_dir(m, s), study.k) for s in study.seeds if _complete(study, m, s)]
        if not runs:
            continue
        keys = list(runs[0])
        mean, half, count = row_mean_ci(np.array([[r[key] for r in runs] for key in keys]))
        table[m] = {key: (float(mean[i]), float(half[i]), int(count[i])) for i, key in enumerate(keys)}
    return table


def threshold_m(rows: list, significant: bool) -> int | None:
    """M* of one reading (module docstring): the smallest finite M of the grid from which on, at M and at every
    larger M, Delta = dist_dmmse - dist_ridge is on the ridge side.

    Parameters
    ----------
    rows : list of (M, mean, half_width)
        Delta per M of the grid; M = 0 (the unbounded pool, no dMMSE) is left out; a NaN mean counts as not
        on the ridge side; a NaN half-width (one seed) reads the mean alone.
    significant : bool
        True: the ridge side is "significantly closer to ridge", mean - half > 0 (M*(ridge)); False: "not
        significantly closer to dMMSE", mean + half >= 0 (M*(not dMMSE)).

    Returns
    -------
    int or None
        M*, or None when the largest M is not on the ridge side (M* beyond the grid) or there are no rows.
    """
    best = None
    for m, mean, half in sorted((r for r in rows if r[0] > 0), reverse=True):
        h = half if math.isfinite(half) else 0.0
        ridge_side = mean - h > 0 if significant else mean + h >= 0
        if not ridge_side:  # a NaN mean (no Delta at that M) breaks the stretch too
            break
        best = m
    return best


def thresholds(table: dict) -> tuple:
    """(M*(ridge), M*(not dMMSE)) of a `collect` table."""
    rows = [(m, *v["delta"][:2]) for m, v in table.items()]
    return threshold_m(rows, True), threshold_m(rows, False)


def _fmt_m(value: int | None, ms: list) -> str:
    finite = [m for m in ms if m > 0]
    if not finite:
        return "—"
    if value is None:
        return f"> {max(finite)}"
    return f"≤ {value}" if value == min(finite) else str(value)


def _m_label(m: int) -> str:
    return str(m) if m else "∞ (fresh w)"


def markdown(table: dict, study: Study) -> str:
    """The study's tables: errors at k = K per M (model, dMMSE, ridge; pool tasks, fresh tasks), distances per M,
    then M*."""
    k = study.k
    err = ["| M | seeds | pool tasks: model | dMMSE | ridge | fresh tasks: model | dMMSE | ridge | wall s |",
           "|" + "---|" * 9]
    dist = ["| M | model to dMMSE | model to ridge | Delta = to dMMSE - to ridge | dMMSE to ridge |", "|" + "---|" * 5]
    for m in sorted(table, key=lambda m: (m == 0, m)):
        v = table[m]
        err.append(f"| {_m_label(m)} | {v['err'][2]} | {fmt_mean_ci(v['err_pool'])} | {fmt_mean_ci(v['dmmse_pool'])} "
                   f"| {fmt_mean_ci(v['ridge_pool'])} | {fmt_mean_ci(v['err'])} | {fmt_mean_ci(v['dmmse'])} "
                   f"| {fmt_mean_ci(v['ridge'])} | {v['wall'][0]:.0f} |")
        dist.append(f"| {_m_label(m)} | {fmt_mean_ci(v['dist_dmmse'])} | {fmt_mean_ci(v['dist_ridge'])} "
                    f"| {fmt_mean_ci(v['delta'], 2)} | {fmt_mean_ci(v['dist_dmmse_ridge'])} |")
    m_ridge, m_not_dmmse = thresholds(table)
    head = (f"Errors at the full prompt k = {k}, normalised by tau^2 d; seed means ± 95% t half-widths.  "
            "Distances: mean squared distance between predictions on fresh tasks over k = 1..K, normalised alike.")
    foot = (f"M*(ridge: significantly closer to ridge from here on) = {_fmt_m(m_ridge, list(table))}; "
            f"M*(not dMMSE: never significantly closer to dMMSE from here on) = {_fmt_m(m_not_dmmse, list(table))}")
    return head + "\n\n" + "\n".join(err) + "\n\n" + "\n".join(dist) + "\n\n" + foot + "\n"


def _merge(defaults: dict, forward: list) -> list:
    """The study's default overrides, each replaced by the command line's override of the same key, then the
    command line's others, in their order."""
    given = {a.partition("=")[0].lstrip("+~") for a in forward}
    return [f"{key}={value}" for key, value in defaults.items() if key not in given] + list(forward)


def _parse(argv: list) -> Study:
    """The study's own keys; every other ``key=value`` a run override, checked against the recipe's config."""
    opts, forward = split_study_args(argv, {"M": DEFAULT_M, "seeds": "3", "jobs": "1",
                                            "out_dir": "runs/task_diversity"}, STUDY_KEYS,
                                     "M=M1,M2,...,0 seeds=S jobs=J out_dir=DIR")
    overrides = _merge(STUDY_DEFAULTS, forward)
    ms = int_list("M", opts["M"], 0, sort_key=lambda v: (v == 0, v))
    check_overrides([f"recipe={RECIPE}", *overrides, f"icl.n_tasks={max(ms)}"])
    icl = OmegaConf.to_object(compose_config([f"recipe={RECIPE}", *overrides])).icl
    if icl.sigma2 <= 0:  # dMMSE is a posterior under Gaussian noise; sigma^2 = 0 makes it degenerate
        raise ValueError(f"icl.sigma2 must be > 0 for the study (dMMSE needs label noise), got {icl.sigma2}")
    return Study(ms=ms, seeds=list(range(one_int("seeds", opts["seeds"]))), jobs=one_int("jobs", opts["jobs"]),
                 out_dir=Path(opts["out_dir"]), overrides=overrides, k=icl.k)


def main(argv: list | None = None) -> int:
    """Run what is missing, tabulate what is there; exit 1 when a run failed, 2 on a bad argument."""
    try:
        study = _parse(sys.argv[1:] if argv is None else argv)
    except (ValueError, ConfigError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    study.out_dir.mkdir(parents=True, exist_ok=True)
    missing = sum(not _complete(study, m, s) for m in study.ms for s in study.seeds)
    print(f"{len(study.ms) * len(study.seeds)} runs ({len(study.ms)} pool sizes x {len(study.seeds)} seeds), "
          f"{missing} to run", flush=True)
    failed = run_missing(study)
    table = collect(study)
    text = markdown(table, study)
    atomic_write_text(study.out_dir / "task_diversity.md", text)
    if table:
        plot_task_diversity(table, study.k, thresholds(table), study.out_dir / "task_diversity.png")
    print(text, end="")
    for line in failed:
        print(error_line(f"run failed: {line}"), file=sys.stderr)
    return 1 if failed else 0
