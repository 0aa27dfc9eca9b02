"""One run, start to finish: truth -> n training points -> estimator -> evaluation -> files.

`scripts/train.py` and every job of `scripts/rates.py` go through `run`, so a
point on a rate plot is exactly a run a user can repeat by hand.  `run` reads
top-down: `prepare` (checks, truth, run directory, training points), the
family's fit, `evaluate` (`genlab.run.evaluate`), `write` (samples, picture,
timings.json, then metrics.json last).

Seeds (see `genlab.core.seeding`): the training data use ``derive_seed(seed, "data")``
(with ``data_split`` one of two disjoint halves of a 2n draw from it, `genlab.run.data`),
the model's own randomness ``seed`` itself (families derive further streams),
the model's evaluation samples ``derive_seed(seed, "sample")``, and the truth
samples of the evaluation ``derive_seed(eval.seed, "eval", rep)`` -- which
depend on neither n nor the training seed, so every run of a sweep is scored
against the same truth samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from genlab.core.device import check_fits_in_memory, resolve_device
from genlab.core.family import Fitted
from genlab.core.files import METRICS_FILE, SAMPLES_FILE, write_json, write_samples
from genlab.core.seeding import derive_seed, make_generator
from genlab.run.data import drawn_points, training_points
from genlab.families import get_family
from genlab.plots.samples import plot_samples
from genlab.run.evaluate import evaluate_fitted_metrics
from genlab.run.guard import open_run_dir, unlock_run_dir
from genlab.run.report import RunResult
from genlab.run.validate import build_truth, check_metrics_for_truth, validate
from genlab.training import TrainingDiverged

__all__ = ["Prepared", "run", "prepare", "fit", "evaluate", "write", "record_divergence", "TIMING_KEYS",
           "PICTURE_FILE", "TIMINGS_FILE"]

PICTURE_FILE = "samples.png"
TIMINGS_FILE = "timings.json"
#: numbers that measure the machine, not the model: kept out of metrics.json (in timings.json),
#: so that the same config and seed give a bit-identical metrics.json
TIMING_KEYS = ("fit_seconds", "wall_seconds", "train_time_s", "train_steps_per_s", "train_replicas")


@dataclass
class Prepared:
    """A run up to its fit: validated config, truth, opened run directory, training data, sample generator."""

    cfg: object
    truth: object
    run_dir: Path
    device: torch.device
    x_train: torch.Tensor          # (n, d), on ``device``
    sample_gen: torch.Generator
    t_start: float


def run(cfg, run_dir: str | Path, *, progress: bool = True) -> RunResult:
    """Fit ``cfg.estimator`` to ``cfg.n`` points of ``cfg.truth``, evaluate, write ``run_dir``; its result.

    ``metrics.json`` is written last and atomically, so a run that stops early
    leaves none.  The run directory is locked from its opening on, and released
    however the run ends.
    """
    try:
        if not get_family(cfg.estimator).fits_truth:
            return _run_whole(cfg, run_dir, progress=progress)
        prep = prepare(cfg, run_dir)
        fitted, fit_seconds = fit(prep, progress=progress)
        return write(prep, fitted, evaluate(prep, fitted), fit_seconds=fit_seconds)
    finally:
        unlock_run_dir(run_dir)


def prepare(cfg, run_dir: str | Path) -> Prepared:
    """Validate ``cfg``, build its truth, open ``run_dir`` (config.yaml) and draw the n training points."""
    t_start = time.perf_counter()
    validate(cfg)
    device = resolve_device(cfg.device)
    truth = build_truth(cfg)
    check_metrics_for_truth(cfg, truth)
    # the n (2n with data_split) training points and 2 x eval.m evaluation points in float64, before anything
    # is allocated
    check_fits_in_memory(f"n = {cfg.n} with eval.m = {cfg.eval.m} (d = {truth.dim})",
                         8.0 * truth.dim * (drawn_points(cfg.n, cfg.data_split) + 2 * cfg.eval.m))
    run_dir = open_run_dir(cfg, run_dir)
    x_train = training_points(truth, cfg.n, cfg.seed, cfg.data_split).to(device)
    return Prepared(cfg, truth, run_dir, device, x_train,
                    make_generator(derive_seed(cfg.seed, "sample"), device), t_start)


def fit(prep: Prepared, *, progress: bool = False) -> tuple[Fitted, float]:
    """The family's fit to the n points, with its seconds; a divergence is recorded in metrics.json first."""
    cfg, t_fit = prep.cfg, time.perf_counter()
    try:
        fitted = get_family(cfg.estimator).fit(cfg, prep.truth, prep.x_train, m=cfg.eval.m,
                                               sample_generator=prep.sample_gen, seed=cfg.seed, device=prep.device,
                                               run_dir=prep.run_dir, progress=progress)
    except TrainingDiverged as exc:
        record_divergence(prep, exc, time.perf_counter() - t_fit)
        raise
    return fitted, time.perf_counter() - t_fit


def evaluate(prep: Prepared, fitted: Fitted) -> dict:
    """The flat metrics of ``fitted`` against the truth (`genlab.run.evaluate`) and the run's identity."""
    cfg = prep.cfg
    out = evaluate_fitted_metrics(cfg, prep.truth, fitted, prep.x_train, prep.device)
    out.update(n=cfg.n, m=int(fitted.samples.shape[0]), seed=cfg.seed, dim=prep.truth.dim)
    return out


def write(prep: Prepared, fitted: Fitted, out: dict, *, fit_seconds: float,
          wall_start: float | None = None) -> RunResult:
    """Write the samples, their picture, timings.json and metrics.json (last: its presence marks a complete
    run).  ``wall_seconds`` counts from ``wall_start`` (default: the run's start; a replica group gives the
    start of its shared training)."""
    cfg, samples = prep.cfg, fitted.samples_float64().numpy()
    write_samples(prep.run_dir / SAMPLES_FILE, samples)
    truth_samples = prep.truth.as_sampler(cfg.eval.seed)(len(samples), 0)
    plot_samples(prep.run_dir / PICTURE_FILE, prep.truth, samples, truth_samples,
                 title=f"{cfg.name}: n = {cfg.n}, seed = {cfg.seed}")
    start = prep.t_start if wall_start is None else wall_start
    out.update(fit_seconds=fit_seconds, wall_seconds=time.perf_counter() - start)
    return _finish(prep.run_dir, out)


def _run_whole(cfg, run_dir: str | Path, *, progress: bool) -> RunResult:
    """A family that draws its own data (prompts, say) and scores itself: checks, run directory, its metrics."""
    t_start = time.perf_counter()
    validate(cfg)
    opened = open_run_dir(cfg, run_dir)
    family = get_family(cfg.estimator)
    out = family.run_whole(cfg, opened, device=resolve_device(cfg.device), progress=progress)
    out.update(seed=cfg.seed, wall_seconds=time.perf_counter() - t_start)
    return _finish(opened, out, shown=family.headline)


def _finish(run_dir: Path, out: dict, shown=None) -> RunResult:
    """Write timings.json, then metrics.json last (its presence marks a complete run); ``shown(metrics)``
    chooses the headline's metrics (`Family.headline`)."""
    timings = {k: out.pop(k) for k in TIMING_KEYS if k in out}
    write_json(run_dir / TIMINGS_FILE, timings)
    write_json(run_dir / METRICS_FILE, out)
    return RunResult(run_dir=run_dir, metrics=out, timings=timings, shown=shown(out) if shown else None)


def record_divergence(prep: Prepared, exc: TrainingDiverged, fit_seconds: float) -> None:
    """metrics.json of a diverged run: what happened and where, and no distance as if it had succeeded.

    The run is over (a rerun of the same settings diverges again), so it is
    marked complete; ``diverged`` = 1 lets a sweep tell it from a result.
    """
    cfg = prep.cfg
    _finish(prep.run_dir, {"diverged": 1, "diverged_step": exc.step,
                           "diverged_reason": " ".join(str(exc).split()),
                           "n": cfg.n, "seed": cfg.seed, "dim": prep.truth.dim, "fit_seconds": fit_seconds})
