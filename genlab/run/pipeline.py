"""One run, start to finish: truth -> n training points -> estimator -> evaluation -> files.

`scripts/train.py` and every job of `scripts/rates.py` go through `run`, so a
point on a rate plot is exactly a run a user can repeat by hand.

Seeds (see `genlab.core.seeding`): the training data use ``derive_seed(seed, "data")``,
the model's own randomness ``seed`` itself (families derive further streams),
the model's evaluation samples ``derive_seed(seed, "sample")``, and the truth
samples of the evaluation ``derive_seed(eval.seed, "eval", rep)`` -- which
depend on neither n nor the training seed, so every run of a sweep is scored
against the same truth samples.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from omegaconf import OmegaConf

import metrics as M
from genlab.config import RunConfig, truth_identity, truth_kwargs
from genlab.core.device import check_fits_in_memory, resolve_device
from genlab.distributions import MarginalLaw, has_marginal_law, make_truth
from genlab.estimators import DENSITY_METRICS, SAMPLER_LAW_METRICS, Fitted
from genlab.families import family_names, fit_estimator, get_family
from genlab.run.floor_cache import cached_floors, check_floor_cache
from genlab.plots.samples import plot_samples
from genlab.run.guard import guard_run_dir, lock_run_dir, requeued, run_config, unlock_run_dir
from genlab.core.files import CONFIG_FILE, METRICS_FILE, SAMPLES_FILE, atomic_write_text, ensure_writable_dir, \
    write_json, write_samples
from genlab.core.seeding import derive_seed, make_generator
from genlab.training import TrainingDiverged
from genlab.core.validation import check_in, check_positive_int

__all__ = ["RunResult", "Prepared", "run", "prepare", "evaluate_fitted", "record_divergence", "validate", "build_truth", "check_metrics_for_truth", "guard_run_dir",
           "requeued", "HEADLINE_ORDER", "EXACT_METRICS", "TIMING_KEYS"]

#: metrics computed against the truth's law itself (no truth samples, floor 0)
EXACT_METRICS = ("w1_law",) + SAMPLER_LAW_METRICS

PICTURE_FILE = "samples.png"
TIMINGS_FILE = "timings.json"
#: numbers that measure the machine, not the model: kept out of metrics.json (in timings.json),
#: so that the same config and seed give a bit-identical metrics.json
TIMING_KEYS = ("fit_seconds", "wall_seconds", "train_time_s", "train_steps_per_s", "train_replicas")
#: metrics shown on the last printed line, in this order, when present
HEADLINE_ORDER = ("modes_captured", "high_quality_fraction", "mode_reverse_kl", "tv", "tv_t0", "tv_offset",
                  "kde_tv", "tv_sampler",
                  "tv_sampler_t0", "tv_classifier", "w1_law", "w1", "kl", "sliced_w1", "w2", "mmd2")


@dataclass
class RunResult:
    run_dir: Path
    metrics: dict
    timings: dict = field(default_factory=dict)

    def headline(self) -> str:
        """``<run_dir>  tv 0.061 [0.058, 0.064] floor 0.002  w1 ...`` for the last printed line."""
        parts = [str(self.run_dir)]
        names = [k for k in HEADLINE_ORDER if self.metrics.get(k) is not None]
        if not names:  # an ICL run: error at the full prompt, LSA risk, excess over Bayes at k = 2, 5, K
            ks = sorted(int(k[len("err_k"):]) for k in self.metrics
                        if k.startswith("err_k") and k[len("err_k"):].isdigit())
            want = [f"err_k{ks[-1]}"] if ks else []
            want += ["lsa_population_risk", "theory_lsa_risk"]
            want += [f"excess_ratio_k{k}" for k in (2, 5, ks[-1] if ks else None) if k is not None]
            names = [k for k in dict.fromkeys(want) if self.metrics.get(k) is not None]
        parts += [_format_estimate(k, self.metrics) for k in names]
        return "  ".join(parts)


def _format_estimate(name: str, mx: dict) -> str:
    bound = " lower bound" if mx.get(f"{name}_is_lower_bound") else ""
    text = f"{name}{bound} {mx[name]:.4g}"
    lo, hi = mx.get(f"{name}_ci_low"), mx.get(f"{name}_ci_high")
    if lo is not None and hi is not None:
        text += f" [{lo:.4g}, {hi:.4g}]"
    if mx.get(f"{name}_floor") is not None:
        text += f" (floor {mx[f'{name}_floor']:.3g})"
    if mx.get(f"{name}_p_value") is not None:  # against the metric's null distribution (mode reverse KL)
        text += f" p {mx[f'{name}_p_value']:.2g}"
    return text


def validate(cfg: RunConfig) -> None:
    """Checks that compose cannot make (values, not types); ValueError naming the key."""
    check_positive_int("n", cfg.n)
    check_positive_int("eval.m", cfg.eval.m)
    check_positive_int("eval.reps", cfg.eval.reps)
    check_in("estimator", cfg.estimator, family_names())
    family = get_family(cfg.estimator)
    if cfg.eval.m < 2:
        raise ValueError(f"eval.m must be at least 2 (a floor compares two samples of eval.m points, and "
                         f"MMD^2_u needs 2), got {cfg.eval.m}")
    why = family.needs_two_points(cfg) if family.needs_two_points else None
    if cfg.n < 2 and why:
        raise ValueError(f"n must be at least 2 for estimator '{cfg.estimator}' ({why}), got {cfg.n}")
    if cfg.device not in ("auto", "cpu") and not cfg.device.startswith("cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {cfg.device!r}")
    if family.validate:
        family.validate(cfg)
    check_floor_cache(cfg.eval.floor_cache)
    if cfg.eval.kde_reference and "tv" not in cfg.eval.metrics:
        raise ValueError("eval.kde_reference needs 'tv' in eval.metrics (kde_tv sits beside tv)")
    if not cfg.eval.metrics:
        raise ValueError("eval.metrics is empty; name at least one metric")
    for name in cfg.eval.metrics:
        check_in("eval.metrics", name, M.METRIC_NAMES + EXACT_METRICS)
        if name in DENSITY_METRICS and not family.has_density:
            raise ValueError(f"eval.metrics: '{name}' needs the model's density, and estimator "
                             f"'{cfg.estimator}' has none")
        owners = [f for f in family_names() if name in get_family(f).own_metrics]
        if owners and cfg.estimator not in owners:
            raise ValueError(f"eval.metrics: '{name}' is computed by estimator {' or '.join(owners)} only, "
                             f"not by '{cfg.estimator}'")


def _open_run_dir(cfg: RunConfig, run_dir: str | Path) -> Path:
    """Create ``run_dir``, take its lock (released by the caller: `run`, `replica_sweep.run_group`),
    refuse what `guard_run_dir` refuses, and write config.yaml unless resuming."""
    run_dir = ensure_writable_dir(run_dir)
    lock_run_dir(run_dir)
    try:
        if not guard_run_dir(cfg, run_dir):
            atomic_write_text(run_dir / CONFIG_FILE, OmegaConf.to_yaml(run_config(cfg)))
    except BaseException:
        unlock_run_dir(run_dir)
        raise
    return run_dir


def _finish(run_dir: Path, out: dict) -> RunResult:
    """Write timings.json, then metrics.json last (its presence marks a complete run)."""
    timings = {k: out.pop(k) for k in TIMING_KEYS if k in out}
    write_json(run_dir / TIMINGS_FILE, timings)
    write_json(run_dir / METRICS_FILE, out)
    return RunResult(run_dir=run_dir, metrics=out, timings=timings)


def _kde_reference(cfg, truth, x_train, truth_sampler, truth_log_prob) -> dict:
    """TV of a Gaussian KDE with held-out bandwidth on the same n points, as ``kde_tv``.

    Scored with the same Monte Carlo TV and the same truth samples as the model,
    so the two numbers compare directly.
    """
    from genlab.baselines import make_kde

    kde = make_kde(x_train.cpu(), "held_out", generator=make_generator(derive_seed(cfg.seed, "kde")))

    def kde_log_prob(x):
        return kde.log_prob(torch.as_tensor(x, dtype=torch.float64)).numpy()

    est = M.evaluate(truth_sampler, kde.sample(cfg.eval.m, generator=make_generator(0)).numpy(), ["tv"],
                     m=cfg.eval.m, reps=cfg.eval.reps, seed=cfg.eval.seed, truth_log_prob=truth_log_prob,
                     model_log_prob=kde_log_prob)["tv"]
    return {**est.as_flat("kde_tv"), "kde_bandwidth": float(kde.bandwidth)}


def record_divergence(prep: "Prepared", exc: TrainingDiverged, fit_seconds: float) -> None:
    """metrics.json of a diverged run: what happened and where, and no distance as if it had succeeded.

    The run is over (a rerun of the same settings diverges again), so it is
    marked complete; ``diverged`` = 1 lets a sweep tell it from a result.
    """
    cfg = prep.cfg
    _finish(prep.run_dir, {"diverged": 1, "diverged_step": exc.step,
                           "diverged_reason": " ".join(str(exc).split()),
                           "n": cfg.n, "seed": cfg.seed, "dim": prep.truth.dim, "fit_seconds": fit_seconds})


def check_metrics_for_truth(cfg: RunConfig, truth) -> None:
    """Refuse what the truth cannot give: density metrics without a density, w1_law beyond 1-D,
    the oracle score without a closed-form noised law."""
    family = get_family(cfg.estimator)
    if family.check_truth:
        family.check_truth(cfg, truth)
    for name in cfg.eval.metrics:
        if name in DENSITY_METRICS and not truth.has_density:
            raise ValueError(f"eval.metrics: '{name}' needs the truth's density, and truth "
                             f"'{cfg.truth.name}' has none on R^{truth.dim}")
        if name in SAMPLER_LAW_METRICS and not truth.has_density:
            raise ValueError(f"eval.metrics: '{name}' needs the truth's density, and truth "
                             f"'{cfg.truth.name}' has none on R^{truth.dim}")
        if name == "tv_sampler_t0" and not hasattr(truth, "noised"):
            raise ValueError(f"eval.metrics: 'tv_sampler_t0' needs the truth noised to t0 in closed "
                             f"form (a Gaussian mixture); truth '{cfg.truth.name}' has none")
        if name == "w1_law" and not has_marginal_law(truth):
            raise ValueError(f"eval.metrics: 'w1_law' needs a 1-D truth with a closed-form CDF; "
                             f"truth '{cfg.truth.name}' has dim {truth.dim}")


def build_truth(cfg: RunConfig):
    """The truth ``cfg.truth`` names; a bad parameter is a ValueError naming the truth and the key."""
    try:
        return make_truth(cfg.truth.name, **truth_kwargs(cfg.truth))
    except ValueError as exc:
        raise ValueError(f"truth '{cfg.truth.name}': {exc}") from None


@dataclass
class Prepared:
    """A run up to its fit: validated config, truth, opened run directory, training data, sample generator."""

    cfg: RunConfig
    truth: object
    run_dir: Path
    device: torch.device
    x_train: torch.Tensor          # (n, d), on ``device``
    sample_gen: torch.Generator
    t_start: float


def prepare(cfg: RunConfig, run_dir: str | Path) -> Prepared:
    """Validate ``cfg``, build its truth, open ``run_dir`` (config.yaml) and draw the n training points."""
    t_start = time.perf_counter()
    validate(cfg)
    device = resolve_device(cfg.device)
    truth = build_truth(cfg)
    check_metrics_for_truth(cfg, truth)
    # the n training points and 2 x eval.m evaluation points in float64, before anything is allocated
    check_fits_in_memory(f"n = {cfg.n} with eval.m = {cfg.eval.m} (d = {truth.dim})",
                         8.0 * truth.dim * (cfg.n + 2 * cfg.eval.m))
    run_dir = _open_run_dir(cfg, run_dir)
    x_train = truth.sample(cfg.n, generator=make_generator(derive_seed(cfg.seed, "data"))).to(device)
    return Prepared(cfg, truth, run_dir, device, x_train,
                    make_generator(derive_seed(cfg.seed, "sample"), device), t_start)


def run(cfg: RunConfig, run_dir: str | Path, *, progress: bool = True) -> RunResult:
    """Fit ``cfg.estimator`` to ``cfg.n`` points of ``cfg.truth``, evaluate, write ``run_dir``.

    Returns the flat metrics.  ``metrics.json`` is written last and atomically,
    so a run that stops early leaves none.
    """
    try:  # the run directory is locked from _open_run_dir on, and released however the run ends
        family = get_family(cfg.estimator)
        if not family.fits_truth:  # the family draws its own data (ICL: prompts) and scores itself
            t_start = time.perf_counter()
            validate(cfg)
            opened = _open_run_dir(cfg, run_dir)
            out = family.run_whole(cfg, opened, device=resolve_device(cfg.device), progress=progress)
            out.update(seed=cfg.seed, wall_seconds=time.perf_counter() - t_start)
            return _finish(opened, out)
        prep = prepare(cfg, run_dir)
        t_fit = time.perf_counter()
        try:
            fitted = fit_estimator(cfg, prep.truth, prep.x_train, m=cfg.eval.m, sample_generator=prep.sample_gen,
                                   seed=cfg.seed, device=prep.device, run_dir=prep.run_dir, progress=progress)
        except TrainingDiverged as exc:
            record_divergence(prep, exc, time.perf_counter() - t_fit)
            raise
        return evaluate_fitted(prep, fitted, fit_seconds=time.perf_counter() - t_fit)
    finally:
        unlock_run_dir(run_dir)


def evaluate_fitted(prep: Prepared, fitted: Fitted, *, fit_seconds: float) -> RunResult:
    """Score ``fitted`` against the truth and write samples, picture, timings.json and metrics.json (last)."""
    cfg, truth, run_dir, device = prep.cfg, prep.truth, prep.run_dir, prep.device
    x_train = prep.x_train
    samples = fitted.samples.detach().to("cpu", torch.float64)

    truth_sampler = truth.as_sampler(cfg.eval.seed)

    def truth_log_prob(x):
        return truth.log_prob(torch.as_tensor(x, dtype=truth.dtype)).cpu().numpy()

    model_log_prob = None
    if fitted.log_prob is not None:
        def model_log_prob(x):
            with torch.no_grad():
                return fitted.log_prob(torch.as_tensor(x, dtype=torch.float64, device=device)) \
                    .cpu().numpy().astype(np.float64)

    sample_metrics = [k for k in cfg.eval.metrics if k not in EXACT_METRICS]
    if cfg.progress:  # the evaluation takes seconds to minutes (likelihood ODE, exact OT): say so
        print(f"evaluating {', '.join(cfg.eval.metrics)} against the truth (m = {cfg.eval.m}, "
              f"reps = {cfg.eval.reps})", flush=True)
    estimates = {}
    if sample_metrics:
        floors = cached_floors(cfg.eval.floor_cache, truth_identity(cfg.truth),
                               truth_sampler, sample_metrics, m=cfg.eval.m, reps=cfg.eval.reps,
                               seed=cfg.eval.seed)
        estimates = M.evaluate(truth_sampler, samples.numpy(), sample_metrics, m=cfg.eval.m,
                               reps=cfg.eval.reps, seed=cfg.eval.seed,
                               truth_log_prob=truth_log_prob if truth.has_density else None,
                               model_log_prob=model_log_prob, floors=floors)
    if "w1_law" in cfg.eval.metrics:
        # W1 between the model's samples and the truth's law itself: no truth
        # samples enter, so there is no sampling floor (Estimate.exact: floor 0).
        estimates["w1_law"] = M.Estimate.exact(
            M.wasserstein(samples.numpy(), MarginalLaw(truth), p=1, method="1d"),
            note="W1 against the known 1-D law (quantile quadrature); no sampling floor")
    family = get_family(cfg.estimator)
    extra = family.evaluate_extra(cfg, truth, fitted, model_log_prob) if family.evaluate_extra else {}
    estimates.update({k: v for k, v in extra.items() if isinstance(v, M.Estimate)})
    out: dict = {}
    for name, est in estimates.items():
        out.update(est.as_flat(name))
    out.update({k: float(v) for k, v in fitted.extras.items()})
    out.update({k: v for k, v in extra.items() if not isinstance(v, M.Estimate)})
    if cfg.eval.kde_reference:
        out.update(_kde_reference(cfg, truth, x_train, truth_sampler, truth_log_prob))
    out.update(n=cfg.n, m=int(samples.shape[0]), seed=cfg.seed, dim=truth.dim,
               fit_seconds=fit_seconds)

    write_samples(run_dir / SAMPLES_FILE, samples.numpy())
    plot_samples(run_dir / PICTURE_FILE, truth, samples.numpy(), truth_sampler(len(samples), 0),
                 title=f"{cfg.name}: n = {cfg.n}, seed = {cfg.seed}")
    out["wall_seconds"] = time.perf_counter() - prep.t_start
    return _finish(run_dir, out)
