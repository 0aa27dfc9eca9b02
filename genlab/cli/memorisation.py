"""``scripts/memorisation.py``: at which training size n does a diffusion model stop memorising?

    python scripts/memorisation.py [recipe=diffusion_gmm] [n=16,32,...,16384] [widths=64,256] [steps=6000]
                                   [seeds=3] [jobs=2] [out_dir=runs/memorisation/<recipe>] [key=value ...]

The study of issue 15, item 4 (Kadkhodaie, Guth, Simoncelli & Mallat, ICLR 2024, Sec. 2: two networks
trained on non-overlapping sets memorise their own images below ~10^3 images and become the same denoiser
by 10^4-10^5).  On the truth of ``recipe`` -- ``diffusion_gmm`` (the 2-D anisotropic 7-mode mixture) or
``diffusion_subspace`` (a smooth law on a random d'-dimensional subspace of R^D, d' = 3 in R^10 as the
recipe stands; ``truth.intrinsic_dim=2`` gives d' = 2) -- each (estimator, n, seed) is run twice as
ordinary ``scripts/train.py`` runs, with ``data_split=0`` and ``data_split=1``: the same model, the same
initialisation, minibatches and sampler noise, trained on the two disjoint halves of one 2n draw
(`genlab.run.data`).  The estimators:

* ``net_w<W>_k<K>``  the recipe's score network at hidden width W trained for K steps, for every W of
                     ``widths`` and K of ``steps`` (default the recipe's: diffusion_gmm 6000, diffusion_subspace
                     4000); ``diffusion.checkpoint_every=K`` keeps the final EMA network for `compare_runs`;
* ``empirical``      the empirical-optimal score (the exact minimiser of the denoising loss on the n points,
                     full memorisation: its samples reproduce the training set);
* ``kde``            the KDE-smoothed score (Wibisono, Wu & Yang 2024) at the held-out-likelihood bandwidth of
                     the standardised training sets (`held_out_score_bandwidth`: one h for both splits, the
                     geometric mean of theirs, since `compare_runs` compares runs of one setting).  Held out, not
                     Silverman: Silverman's rule assumes one Gaussian bump and oversmooths a multimodal or
                     subspace law at every n, so its KDE never memorises and its curve says nothing about the
                     transition; the held-out h shrinks with n as the one a practitioner would pick does.

Per estimator and n, over the seeds (each seed's value the mean of its two splits, since the two share
their initialisation and training noise; then the seed mean and its 95% t-interval, `metrics.rate_table`):

* the memorisation fraction (Gu et al. 2023: the nearest training point closer than 1/3 of the second
  nearest) and its chance level, the same fraction of `M_CHANCE` (genlab.cli.study) fresh truth points against the same
  training set; the excess is their per-seed difference;
* d(train) / d(fresh): the samples' mean distance to the training set over that to a fresh truth sample of
  the same size n (1 for a model that has not seen its data, well below 1 for one that copies it);
* the distance to the truth: the run's ``tv`` (probability-flow density) where the recipe scores it, else its
  ``w1`` (the subspace law has no density on R^D); the largest per-run floor beside it;
* the distance between the two splits' laws (`genlab.run.compare.compare_runs`): ``tv`` between their
  probability-flow densities and ``sliced_w1`` between their samples, each with its floor (largest over seeds).

The transition n* (per estimator, so per width and steps), two readings on the grid of n:

* n*(memorisation): the smallest n of the grid such that at n and at every larger n of the grid the excess
  memorisation over chance is not significant -- the lower end of its 95% t-interval over seeds is <= 0;
* n*(distance): the smallest such n at which d(train) / d(fresh) is not significantly below 1 -- the upper
  end of its interval is >= 1.

"and at every larger n" makes n* a point after which the model stays generalising, not the first lucky n.
With one seed there is no interval and the rule reads the seed's value (excess <= 0, ratio >= 1).  An
interval rule moves with the number of seeds (wider intervals reach chance sooner), so n* from different
seed counts is not compared.  n* is printed "<= n_min" when the smallest n already generalises and
"> n_max" when no n does.  Default ``seeds=3``: the fewest that give a t-interval (t_{2, 0.975} = 4.3) at a
cost of 4 (widths x splits) network runs per seed and n; since each seed's value already averages two
models and 2 x eval.m samples, the seed spread of both statistics is small beside the jump from
memorising to generalising, and ``seeds=5`` (t = 2.78) is the choice when n* must be resolved to one grid step.

Runs are written to ``out_dir/<estimator>_n<n>_s<seed>_split<k>`` and skipped when complete; the two-split
comparisons to ``out_dir/compare/<estimator>_n<n>_s<seed>.json``, also skipped when present.  The tables go
to ``out_dir/memorisation.md`` and to stdout, the figure to ``out_dir/memorisation.png``.  Any other
``key=value`` is a run override given to every run (e.g. ``eval.m=4000``, ``truth.intrinsic_dim=2``), checked
against each estimator's config before anything runs; the keys the study sets itself are refused.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from omegaconf import OmegaConf

from genlab.cli.study import (fmt_mean_ci, int_list, memorisation_references, one_int, run_commands,
                              split_study_args, standardised_held_out, truth_references)
from genlab.config.compose import ConfigError, compose_config
from genlab.core.files import METRICS_FILE, SAMPLES_FILE, atomic_write_text
from genlab.core.validation import error_line
from genlab.plots.memorisation import plot_memorisation
from genlab.run.compare import compare_runs
from genlab.run.data import DATA_SPLITS, training_points
from genlab.run.overrides import check_overrides
from genlab.run.validate import build_truth
from metrics.rate_table import row_mean_ci

__all__ = ["RECIPES", "REFERENCES", "BETWEEN", "Estimator", "Study", "estimators", "training_set",
           "held_out_score_bandwidth", "run_missing", "compare_missing", "collect", "transition_n", "markdown",
           "main"]


#: the recipes whose truth the study runs on
RECIPES = ("diffusion_gmm", "diffusion_subspace")
#: (name, label, overrides) of the scores that train nothing; run once per (n, seed, split), whatever the widths
REFERENCES = (("empirical", "empirical-optimal score", ["diffusion.score=empirical_optimal"]),
              ("kde", "KDE score, held-out h", ["diffusion.score=kde"]))
#: compare_runs' distances between the two splits' laws
BETWEEN = ("tv", "sliced_w1")
#: the default grid of n: 2^4 .. 2^14
DEFAULT_NS = ",".join(str(2 ** k) for k in range(4, 15))
#: run keys the study sets for each run (or per estimator), refused as forwarded overrides
STUDY_KEYS = ("recipe", "estimator", "n", "seed", "data_split", "out_dir", "progress", "diffusion.width",
              "diffusion.steps", "diffusion.checkpoint_every", "diffusion.score", "diffusion.score_bandwidth")


class Estimator(NamedTuple):
    name: str
    label: str
    overrides: list


@dataclass
class Study:
    """What one invocation asks for (`_parse`)."""

    recipe: str
    ns: list
    seeds: list
    widths: list
    steps: list
    jobs: int
    out_dir: Path
    forward: list
    #: the run metric read as the distance to the truth: tv where the recipe scores it, else w1
    to_truth: str = "tv"

    @property
    def estimators(self) -> list:
        return estimators(self.widths, self.steps)

    def run_dir(self, name: str, n: int, seed: int, split: int) -> Path:
        return self.out_dir / f"{name}_n{n}_s{seed}_split{split}"

    def compare_file(self, name: str, n: int, seed: int) -> Path:
        return self.out_dir / "compare" / f"{name}_n{n}_s{seed}.json"


def estimators(widths, steps) -> list:
    """The networks (one per width and step count, keeping their final checkpoint), then the references."""
    nets = [Estimator(f"net_w{w}_k{k}", f"network, width {w}, {k} steps",
                      [f"diffusion.width={w}", f"diffusion.steps={k}", f"diffusion.checkpoint_every={k}"])
            for w in widths for k in steps]
    return nets + [Estimator(name, label, list(over)) for name, label, over in REFERENCES]


def _truth(recipe: str, forward=()):
    """The truth a run of ``recipe`` with the run overrides ``forward`` draws from."""
    return build_truth(OmegaConf.to_object(compose_config([f"recipe={recipe}", *forward])))


def training_set(truth, n: int, seed: int, split: int) -> torch.Tensor:
    """The n training points of the run (seed, data_split = split), float64 (n, d)."""
    return training_points(truth, n, seed, split).to(torch.float64)


def held_out_score_bandwidth(truth, n: int, seed: int) -> float:
    """The bandwidth both splits' kde runs of (n, seed) use: the geometric mean of the held-out-likelihood
    bandwidths (`genlab.baselines.bandwidth.held_out`) of the two training sets, each standardised per axis
    (the coordinates ``diffusion.score=kde`` smooths in), to 3 significant digits (the held-out likelihood is
    flat to far better than that near its maximum).

    One h for both: `compare_runs` compares two runs of the same settings, and the two i.i.d. halves estimate
    the same n-dependent optimum, so their mean halves the variance of log h; split k's law sees split 1 - k
    through this one number only.
    """
    hs = []
    for split in DATA_SPLITS:
        x = training_set(truth, n, seed, split)
        hs.append(standardised_held_out(x))
    return float(f"{math.sqrt(hs[0] * hs[1]):.3g}")


def _command(study: Study, est: Estimator, n: int, seed: int, split: int, bandwidth: float | None) -> list:
    """The scripts/train.py arguments of one run (``bandwidth``: kde's, `held_out_score_bandwidth`)."""
    extra = [f"diffusion.score_bandwidth={bandwidth:g}"] if est.name == "kde" else []
    return [f"recipe={study.recipe}", *est.overrides, *extra, *study.forward,
            f"n={n}", f"seed={seed}", f"data_split={split}", f"out_dir={study.run_dir(est.name, n, seed, split)}",
            "progress=false"]


def _all_runs(study: Study) -> list:
    return [(est, n, s, k) for n in study.ns for s in study.seeds for est in study.estimators for k in DATA_SPLITS]


def _complete(study: Study, name: str, n: int, seed: int, split: int) -> bool:
    return (study.run_dir(name, n, seed, split) / METRICS_FILE).exists()


def run_missing(study: Study, truth) -> list:
    """Run every (estimator, n, seed, split) whose metrics.json is missing, ``jobs`` at a time (one thread
    each when jobs > 1); returns one line per failed run."""
    todo = [r for r in _all_runs(study) if not _complete(study, r[0].name, *r[1:])]
    bandwidths = {(n, s): held_out_score_bandwidth(truth, n, s) for est, n, s, _ in todo if est.name == "kde"}
    return run_commands([(study.run_dir(est.name, n, s, k).name,
                          _command(study, est, n, s, k, bandwidths.get((n, s)))) for est, n, s, k in todo], study.jobs)


def _compare_pair(run_a: str, run_b: str, seed: int, path: str, threads: int | None) -> str | None:
    """compare_runs' BETWEEN distances of two split runs, written to ``path`` as {name, name_floor, ...};
    a one-line failure message, or None."""
    if threads:
        torch.set_num_threads(threads)
    try:
        est = compare_runs(run_a, run_b, metrics=BETWEEN, seed=seed)
    except (ValueError, RuntimeError, OSError) as exc:  # one pair's failure is reported, the others go on
        return f"{Path(path).stem}: {' '.join(str(exc).split())}"
    out = {}
    for name, e in est.items():
        out.update({name: e.value, f"{name}_floor": e.floor, f"{name}_ci_low": e.ci_low,
                    f"{name}_ci_high": e.ci_high})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(out, indent=1) + "\n")
    return None


def compare_missing(study: Study) -> list:
    """Compare the two splits of every (estimator, n, seed) whose runs are complete and whose comparison is
    missing; ``jobs`` processes at a time (one thread each) when jobs > 1.  One line per failed comparison."""
    todo = [(str(study.run_dir(est.name, n, s, 0)), str(study.run_dir(est.name, n, s, 1)), s,
             str(study.compare_file(est.name, n, s)))
            for n in study.ns for s in study.seeds for est in study.estimators
            if all(_complete(study, est.name, n, s, k) for k in DATA_SPLITS)
            and not study.compare_file(est.name, n, s).exists()]
    for job in todo:
        print(f"comparing {Path(job[3]).stem}", flush=True)
    if study.jobs == 1:
        failed = [_compare_pair(*job, None) for job in todo]
    else:
        with ProcessPoolExecutor(max_workers=study.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            failed = list(pool.map(_compare_pair, *zip(*todo), [1] * len(todo))) if todo else []
    return [f for f in failed if f is not None]


def _run_values(run_dir: Path, x: torch.Tensor, fresh: torch.Tensor, chance: torch.Tensor,
                to_truth: str) -> dict:
    """One split run's numbers: its memorisation fraction and chance level, d(train) / d(fresh), its distance
    to the truth with floor, and its wall time."""
    m = json.loads((run_dir / METRICS_FILE).read_text())
    samples = torch.as_tensor(np.load(run_dir / SAMPLES_FILE)["samples"], dtype=torch.float64)
    chance_level, nn_ratio = memorisation_references(samples, x, fresh, chance)
    return {"memorisation": m["memorization_fraction"], "chance": chance_level,
            "excess": m["memorization_fraction"] - chance_level, "nn_ratio": nn_ratio,
            "to_truth": m[to_truth], "to_truth_floor": m.get(f"{to_truth}_floor", math.nan),
            "wall": json.loads((run_dir / "timings.json").read_text())["wall_seconds"]}


def _seed_values(study: Study, truth, name: str, n: int, seed: int) -> dict | None:
    """One seed's values (the mean of its two splits; floors their max) and its between-split distances
    (NaN when the comparison is missing); None unless both split runs are complete."""
    if not all(_complete(study, name, n, seed, k) for k in DATA_SPLITS):
        return None
    fresh, chance = truth_references(truth, n, seed)
    runs = [_run_values(study.run_dir(name, n, seed, k), training_set(truth, n, seed, k), fresh, chance,
                        study.to_truth) for k in DATA_SPLITS]
    out = {key: float(np.mean([r[key] for r in runs])) for key in runs[0]}
    out["to_truth_floor"] = max(r["to_truth_floor"] for r in runs)
    path = study.compare_file(name, n, seed)
    between = json.loads(path.read_text()) if path.exists() else {}
    for metric in BETWEEN:
        for key in (metric, f"{metric}_floor"):
            value = between.get(key)
            out[f"between_{key}"] = math.nan if value is None else float(value)
    return out


#: table entries whose seed summary is the largest value, not a mean with an interval
FLOOR_KEYS = ("to_truth_floor", *(f"between_{m}_floor" for m in BETWEEN))


def collect(study: Study, truth=None) -> dict:
    """Per (estimator, n): each quantity's (seed mean, 95% t half-width, seed count), the floors as (largest,
    NaN, count); (estimator, n) with no complete seed left out."""
    truth = _truth(study.recipe, study.forward) if truth is None else truth
    table = {}
    for est in study.estimators:
        for n in study.ns:
            seeds = [v for v in (_seed_values(study, truth, est.name, n, s) for s in study.seeds) if v is not None]
            if not seeds:
                continue
            keys = list(seeds[0])
            mean, half, count = row_mean_ci(np.array([[v[k] for v in seeds] for k in keys]))
            table[est.name, n] = {k: (mean[i], half[i], int(count[i])) for i, k in enumerate(keys)}
            for k in FLOOR_KEYS:
                table[est.name, n][k] = (float(np.nanmax([v[k] for v in seeds])) if any(
                    math.isfinite(v[k]) for v in seeds) else math.nan, math.nan, len(seeds))
    return table


def transition_n(rows: list, level: float, memorising_above: bool) -> int | None:
    """The transition n* of one statistic (module docstring): the smallest n of the grid from which on, at n and
    at every larger n, the statistic is not significantly on the memorising side of ``level``.

    Parameters
    ----------
    rows : list of (n, mean, half_width)
        One per n of the grid with runs; half_width NaN (one seed) reads the mean alone.
    level : float
        The generalising value: 0 for the excess memorisation over chance, 1 for d(train) / d(fresh).
    memorising_above : bool
        True when memorising pushes the statistic above ``level`` (the excess), False when below (the ratio).

    Returns
    -------
    int or None
        n*, or None when the largest n is still memorising (n* beyond the grid) or there are no rows.
    """
    best = None
    for n, mean, half in sorted(rows, reverse=True):
        h = half if math.isfinite(half) else 0.0
        memorising = mean - h > level if memorising_above else mean + h < level
        if memorising or not math.isfinite(mean):
            break
        best = n
    return best


def transitions(table: dict, names: list) -> dict:
    """Per estimator name: (n* of the excess memorisation, n* of d(train) / d(fresh))."""
    out = {}
    for name in names:
        rows = {key: [(n, *v[key][:2]) for (e, n), v in table.items() if e == name] for key in ("excess", "nn_ratio")}
        if rows["excess"]:
            out[name] = (transition_n(rows["excess"], 0.0, True), transition_n(rows["nn_ratio"], 1.0, False))
    return out


def _fmt_floor(entry: tuple) -> str:
    return f" [{entry[0]:.2g}]" if math.isfinite(entry[0]) else ""


def _fmt_n(value: int | None, ns: list) -> str:
    if value is None:
        return f"> {max(ns)}"
    return f"≤ {value}" if value == min(ns) else str(value)


def markdown(table: dict, study: Study) -> str:
    """The study's two tables: one row per estimator and n (memorisation, distances, between-split distances),
    then n* per estimator."""
    labels = {e.name: e.label for e in study.estimators}
    truth_name = "TV" if study.to_truth == "tv" else study.to_truth.upper()
    rows = ["| estimator | n | seeds | memorisation (chance) | d(train) / d(fresh) | "
            f"{truth_name} to truth [max floor] | TV(split 0, split 1) [max floor] "
            "| sliced W1(split 0, split 1) [max floor] | wall s |", "|" + "---|" * 9]
    for (name, n), v in table.items():
        rows.append(f"| {labels[name]} | {n} | {v['memorisation'][2]} | {fmt_mean_ci(v['memorisation'], 2)} "
                    f"({v['chance'][0]:.2g}) | {fmt_mean_ci(v['nn_ratio'])} | {fmt_mean_ci(v['to_truth'])}"
                    f"{_fmt_floor(v['to_truth_floor'])} "
                    f"| {fmt_mean_ci(v['between_tv'])}{_fmt_floor(v['between_tv_floor'])} "
                    f"| {fmt_mean_ci(v['between_sliced_w1'])}{_fmt_floor(v['between_sliced_w1_floor'])} "
                    f"| {v['wall'][0]:.0f} |")
    trans = ["| estimator | n* (memorisation at chance) | n* (d(train) / d(fresh) at 1) |", "|---|---|---|"]
    for name, (n_mem, n_dist) in transitions(table, list(labels)).items():
        trans.append(f"| {labels[name]} | {_fmt_n(n_mem, study.ns)} | {_fmt_n(n_dist, study.ns)} |")
    return "\n".join(rows) + "\n\n" + "\n".join(trans) + "\n"


def _parse(argv: list) -> Study:
    """The study's own keys; every other ``key=value`` a run override, checked against every estimator's config."""
    opts, forward = split_study_args(
        argv, {"recipe": "diffusion_gmm", "n": DEFAULT_NS, "widths": "64,256", "steps": None, "seeds": "3",
               "jobs": "1", "out_dir": None}, STUDY_KEYS,
        "recipe=NAME n=N1,N2 widths=W1,W2 steps=K1 seeds=S jobs=J out_dir=DIR")
    if opts["recipe"] not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(RECIPES)}, got recipe={opts['recipe']}")
    cfg = OmegaConf.to_object(compose_config([f"recipe={opts['recipe']}"]))
    study = Study(recipe=opts["recipe"], ns=int_list("n", opts["n"], 2),
                  seeds=list(range(one_int("seeds", opts["seeds"]))), widths=int_list("widths", opts["widths"], 1),
                  steps=int_list("steps", opts["steps"] or str(cfg.diffusion.steps), 1),
                  jobs=one_int("jobs", opts["jobs"]),
                  out_dir=Path(opts["out_dir"] or f"runs/memorisation/{opts['recipe']}"), forward=forward,
                  to_truth="tv" if "tv" in cfg.eval.metrics else "w1")
    for est in study.estimators:
        check_overrides([f"recipe={study.recipe}", *est.overrides, "data_split=0", *forward])
    return study


def main(argv: list | None = None) -> int:
    """Run what is missing, compare the splits, tabulate what is there; exit 1 when a run or comparison
    failed, 2 on a bad argument."""
    try:
        study = _parse(sys.argv[1:] if argv is None else argv)
        truth = _truth(study.recipe, study.forward)
    except (ValueError, ConfigError) as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    study.out_dir.mkdir(parents=True, exist_ok=True)
    runs = _all_runs(study)
    missing = sum(not _complete(study, e.name, n, s, k) for e, n, s, k in runs)
    print(f"{len(runs)} runs ({len(study.widths) * len(study.steps)} networks and {len(REFERENCES)} references x "
          f"{len(study.ns)} n x {len(study.seeds)} seeds x 2 splits), {missing} to run; "
          f"{len(runs) // 2} two-split comparisons", flush=True)
    failed = run_missing(study, truth) + compare_missing(study)
    table = collect(study, truth)
    text = markdown(table, study)
    atomic_write_text(study.out_dir / "memorisation.md", text)
    if table:
        plot_memorisation(table, {e.name: e.label for e in study.estimators}, study.to_truth,
                          study.out_dir / "memorisation.png")
    print(text, end="")
    for line in failed:
        print(error_line(f"failed: {line}"), file=sys.stderr)
    return 1 if failed else 0
