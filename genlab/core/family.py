"""The interface of an estimator family, and the registry of families: what a recipe's ``estimator:`` may name.

A run (`genlab.run.pipeline`) and a sweep (`genlab.sweep`) ask the family of
``cfg.estimator`` for everything that differs between families -- its config
section, its checks, its fit, its extra metrics, how its rates are read -- and
never name a family themselves.  Each family package declares its entry in its
own ``family.py`` (`genlab.baselines.family`, `genlab.diffusion.family`, ...);
`genlab.families` registers the built-in ones and the plugins.  A user adds a
family from their own module with `register_family` (CONTRIBUTING.md,
"Adding a family"; README, "Extending genlab").

A family is either *fitted* (``fit``: n training points of ``cfg.truth`` ->
`Fitted`, scored against the truth by the shared evaluation, `genlab.run.evaluate`)
or *whole* (``run_whole``: the family draws its own data and returns its own
metrics, as in-context learning does, whose law is over prompts, not ``cfg.truth``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, is_dataclass
from typing import Any, Callable, Optional

import torch

__all__ = ["Fitted", "DensityLaw", "Family", "ReplicaFit", "register_family", "get_family", "family_names",
           "registry_version"]


@dataclass
class Fitted:
    """A fitted estimator, as the evaluation sees it.

    Attributes
    ----------
    samples : Tensor, shape (m, d)
        The model's samples to score.  For the empirical measure these are
        the n training points themselves (the measure's whole support).
    log_prob : callable or None
        ``x (k, d) -> (k,)`` log-density of the model, where it has one.
    sample_log_prob : Tensor or None, shape (m,)
        log-density of the law of ``samples`` at ``samples`` themselves, where
        the family can give it (a diffusion model's ODE sampler).
    extras : dict
        Numbers the family reports besides distances (bandwidth, loss, ...).
    """

    samples: torch.Tensor
    log_prob: Optional[Callable[[torch.Tensor], torch.Tensor]] = None
    sample_log_prob: Optional[torch.Tensor] = None
    extras: dict = field(default_factory=dict)

    def samples_float64(self) -> torch.Tensor:
        """``samples`` as every metric reads them: detached, on the CPU, float64, (m, d)."""
        return self.samples.detach().to("cpu", torch.float64)


@dataclass(frozen=True)
class DensityLaw:
    """A finished run's model as a density one can sample, rebuilt by its family (`Family.restore`).

    Attributes
    ----------
    sample_with_log_prob : callable
        ``(m, generator) -> (x (m, d), log q(x) (m,))``: m draws of a law q close to the model's, with
        q's exact log-density at them (q is the model's own law where the family samples it exactly, a
        KDE; a deterministic sampler's push-forward for a diffusion model, `genlab.diffusion.sampler_law`).
    log_prob : callable
        ``x (k, d) -> (k,)`` log-density p of the model, the one its run scored (`Fitted.log_prob`).
    """

    sample_with_log_prob: Callable[[int, torch.Generator], tuple]
    log_prob: Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ReplicaFit:
    """How a family trains several runs of a sweep as one replica-batched model (`genlab.sweep.groups`).

    Attributes
    ----------
    replicable : callable
        ``replicable(cfg) -> str | None``: None if runs of ``cfg`` can be batched, else why not (one line).
    key : callable
        ``key(cfg) -> tuple``: runs with equal keys can share one batched model.
    memory_bytes : callable
        ``memory_bytes(cfg, dim) -> int``: an upper estimate of one replica's training memory.
    fit : callable
        ``fit(cfgs, x_trains, seeds, *, device, progress) -> list`` of trained models, one per run
        (raises `genlab.training.TrainingDiverged` naming the replica).
    fitted : callable
        ``fitted(cfg, model, truth, *, m, sample_generator) -> Fitted``: one trained model as the
        evaluation sees it, exactly as a run of its own would give it.
    """

    replicable: Callable[[Any], Optional[str]]
    key: Callable[[Any], tuple]
    memory_bytes: Callable[[Any, int], int]
    fit: Callable[..., list]
    fitted: Callable[..., Fitted]


@dataclass(frozen=True)
class Family:
    """One estimator family as a run and a sweep see it.

    Attributes
    ----------
    name : str
        What ``estimator:`` names (an identifier).
    fit : callable or None
        ``fit(cfg, truth, x_train (n, d), *, m, sample_generator, seed, device, run_dir, progress)
        -> Fitted`` with m samples; None for a whole-run family.
    run_whole : callable or None
        ``run_whole(cfg, run_dir, *, device, progress) -> dict`` of flat metrics (timing keys
        included), for a family that does not fit ``cfg.truth``; None for a fitted family.
    section : str or None
        The config section the family reads (``cfg.<section>``); config.yaml keeps only its own
        family's section.  Needs ``schema``.
    schema : dataclass type or None
        The typed schema of that section (each field with a ``#:`` comment: its meaning in the
        README's key reference); Hydra merges recipes and overrides into it.
    summary : str
        One line on what the family is, the section's introduction in the key reference.
    has_density : bool
        Whether `Fitted.log_prob` is given, so the density metrics (tv, kl, hellinger) apply.
    samples_are_fit_points : bool
        Whether the scored samples are the n fit points themselves (the empirical measure): only
        the truth's m-sample then carries sample noise (`genlab.sweep.report.floor_share_for`), and
        its transport problems are n x m (`genlab.sweep.memory`).
    validate : callable or None
        ``validate(cfg) -> None``: value checks of the family's section, ValueError naming the key.
    needs_two_points : callable or None
        ``needs_two_points(cfg) -> str | None``: why the family cannot fit n = 1 under ``cfg``.
    check_truth : callable or None
        ``check_truth(cfg, truth) -> None``: refuse a truth the family (or one of its own metrics)
        cannot use under ``cfg``.
    own_metrics : tuple of str
        Metrics only this family computes (in ``evaluate_extra``); any other family refuses them.
    metric_needs : callable or None
        ``metric_needs(cfg, metric) -> str | None``: what a run of ``cfg`` lacks to give ``metric`` (one of
        its own metrics), in words, or None; a run refuses such a metric, and a sweep's compare recipe
        leaves it out.
    evaluate_extra : callable or None
        ``evaluate_extra(cfg, truth, fitted, model_log_prob) -> dict`` of `metrics.Estimate` or
        float, merged into metrics.json beside the shared metrics.
    headline : callable or None
        ``headline(metrics) -> list[str]``: the metrics a run's last printed line shows, for a family
        whose metrics are not among the distances to a truth (default: those distances).
    theory_params : callable or None
        ``theory_params(section: dict) -> dict``: the keyword arguments of
        `genlab.theory.expected_slope` that the family's settings fix (a KDE's bandwidth rule).
    axis_theory : callable or None
        ``axis_theory(x_key, metric, section: dict) -> dict | None``: the predicted exponent of a
        sweep over one of the family's own settings (a sampler's steps), or over n for metrics the
        family computes itself (a regression's excess risk), with source and assumptions; it is asked
        first, and a sweep over n falls back on the table of distances to a truth where it gives None.
    axis_title : callable or None
        ``axis_title(cfg, x_key) -> str``: what a figure's title adds for a sweep over such a setting.
    axis_labels : dict
        The x-axis label of a sweep over one of the family's settings, by key (``diffusion.sampler_steps``:
        ``sampler steps $N$``); any other key is its own label.
    replicas : ReplicaFit or None
        How runs of a sweep train as one replica-batched model, where the family can.
    shared_keys : tuple of str
        Keys of the family's section that a sweep's compare recipes of the same family take from the
        main recipe, as every compare recipe takes its truth: what fixes the data of a whole-run family
        (a regression's target), so that the curves on one figure are of one problem.
    restore : callable or None
        ``restore(cfg, truth, x_train (n, d), run_dir, *, device) -> DensityLaw``: a finished run's model,
        rebuilt from its config, its training points and what it kept on disk (a checkpoint), to compare
        two runs' laws (`genlab.run.compare`); None where the family has no density or cannot rebuild it.
    """

    name: str
    fit: Optional[Callable[..., Fitted]] = None
    run_whole: Optional[Callable[..., dict]] = None
    section: Optional[str] = None
    schema: Optional[type] = None
    summary: str = ""
    has_density: bool = False
    samples_are_fit_points: bool = False
    validate: Optional[Callable[[Any], None]] = None
    needs_two_points: Optional[Callable[[Any], Optional[str]]] = None
    check_truth: Optional[Callable[[Any, Any], None]] = None
    own_metrics: tuple = ()
    metric_needs: Optional[Callable[[Any, str], Optional[str]]] = None
    evaluate_extra: Optional[Callable[..., dict]] = None
    headline: Optional[Callable[[dict], list]] = None
    theory_params: Optional[Callable[[dict], dict]] = None
    axis_theory: Optional[Callable[..., Optional[dict]]] = None
    axis_title: Optional[Callable[[Any, str], str]] = None
    axis_labels: dict = field(default_factory=dict)
    replicas: Optional[ReplicaFit] = None
    shared_keys: tuple = ()
    restore: Optional[Callable[..., DensityLaw]] = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"family name must be an identifier, got {self.name!r}")
        if (self.fit is None) == (self.run_whole is None):
            raise ValueError(f"family '{self.name}': give exactly one of fit and run_whole")
        if (self.section is None) != (self.schema is None):
            raise ValueError(f"family '{self.name}': a config section needs its schema, and a schema its "
                             f"section name (section={self.section!r}, schema={self.schema!r})")
        if self.section is not None and not self.section.isidentifier():
            raise ValueError(f"family '{self.name}': section must be an identifier, got {self.section!r}")
        if self.schema is not None and not (isinstance(self.schema, type) and is_dataclass(self.schema)):
            raise ValueError(f"family '{self.name}': schema must be a dataclass type, got {self.schema!r}")
        unknown = [k for k in self.shared_keys if self.schema is None or k not in self.schema.__dataclass_fields__]
        if unknown:
            raise ValueError(f"family '{self.name}': shared_keys {unknown} are not keys of its section")

    @property
    def fits_truth(self) -> bool:
        """Whether runs of this family score a model of ``cfg.truth`` (False: a whole-run family)."""
        return self.fit is not None


_FAMILIES: dict[str, Family] = {}
#: bumped by every registration, so a schema built from the registry knows when it is stale
_VERSION = [0]

#: config sections a family may not take: the run's own keys and sections (`genlab.config.schema`)
RESERVED_SECTIONS = ("name", "estimator", "n", "seed", "data_split", "device", "out_dir", "progress", "skip_complete",
                     "resume", "truth", "eval", "rates", "hydra")


def register_family(family: Family, *, replace: bool = False) -> Family:
    """Add ``family`` to the registry (``replace=True`` to override an entry of the same name).

    Its config section, if it has one, becomes ``cfg.<section>`` in every config composed afterwards.
    """
    if not isinstance(family, Family):
        raise TypeError(f"register_family takes a Family, got {type(family).__name__}")
    if family.name in _FAMILIES and not replace:
        raise ValueError(f"family '{family.name}' is already registered (replace=True overrides it)")
    if family.section in RESERVED_SECTIONS:
        raise ValueError(f"family '{family.name}': section '{family.section}' is a key of the run itself")
    taken = {f.section: f.name for f in _FAMILIES.values() if f.section and f.name != family.name}
    if family.section in taken:
        raise ValueError(f"family '{family.name}': section '{family.section}' is family '{taken[family.section]}''s")
    _FAMILIES[family.name] = family
    _VERSION[0] += 1
    return family


def family_names() -> tuple:
    """The registered families' names, built-ins first, in registration order."""
    return tuple(_FAMILIES)


def get_family(name: str) -> Family:
    """The family ``name``; a ValueError listing every registered family otherwise."""
    try:
        return _FAMILIES[name]
    except (KeyError, TypeError):
        raise ValueError(f"estimator must be one of {', '.join(_FAMILIES)}; got {name!r}") from None


def registry_version() -> int:
    """A number that changes whenever a family is registered."""
    return _VERSION[0]
