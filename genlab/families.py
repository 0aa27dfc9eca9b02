"""The registry of estimator families: what a recipe's ``estimator:`` may name, and what each one brings.

A run (`genlab.run.pipeline`) asks the family of ``cfg.estimator`` for everything
that differs between families -- its checks, its fit, its extra metrics -- and
never names a family itself.  Each built-in family is one `Family` entry below;
`register_family` adds another.

A family is either *fitted* (``fit``: n training points of ``cfg.truth`` ->
`genlab.estimators.Fitted`, scored against the truth by the shared evaluation)
or *whole* (``run_whole``: the family draws its own data and writes its own
metrics, as in-context learning does, whose law is over prompts, not ``cfg.truth``).

Still to come (issue 16, item 1): a family's config section registered with it
(today the sections are the fields of `genlab.config.RunConfig`), and
``register_truth``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

__all__ = ["Family", "register_family", "get_family", "family_names", "family_sections", "fit_estimator"]


@dataclass(frozen=True)
class Family:
    """One estimator family as a run sees it.

    Attributes
    ----------
    name : str
        What ``estimator:`` names.
    fit : callable or None
        ``fit(cfg, truth, x_train (n, d), *, m, sample_generator, seed, device, run_dir, progress)
        -> Fitted`` with m samples; None for a whole-run family.
    run_whole : callable or None
        ``run_whole(cfg, run_dir, *, device, progress) -> dict`` of flat metrics (timing keys
        included), for a family that does not fit ``cfg.truth``; None for a fitted family.
    has_density : bool
        Whether `Fitted.log_prob` is given, so the density metrics (tv, kl, hellinger) apply.
    section : str or None
        The `RunConfig` section the family reads (config.yaml keeps only its own family's section).
    validate : callable or None
        ``validate(cfg) -> None``: value checks of the family's section, ValueError naming the key.
    needs_two_points : callable or None
        ``needs_two_points(cfg) -> str | None``: why the family cannot fit n = 1 under ``cfg``.
    check_truth : callable or None
        ``check_truth(cfg, truth) -> None``: refuse a truth the family cannot use under ``cfg``.
    own_metrics : tuple of str
        Metrics only this family computes (in ``evaluate_extra``); any other family refuses them.
    evaluate_extra : callable or None
        ``evaluate_extra(cfg, truth, fitted, model_log_prob) -> dict`` of `metrics.Estimate` or
        float, merged into metrics.json beside the shared metrics.
    """

    name: str
    fit: Optional[Callable[..., Any]] = None
    run_whole: Optional[Callable[..., dict]] = None
    has_density: bool = False
    section: Optional[str] = None
    validate: Optional[Callable[[Any], None]] = None
    needs_two_points: Optional[Callable[[Any], Optional[str]]] = None
    check_truth: Optional[Callable[[Any, Any], None]] = None
    own_metrics: tuple = ()
    evaluate_extra: Optional[Callable[..., dict]] = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"family name must be an identifier, got {self.name!r}")
        if (self.fit is None) == (self.run_whole is None):
            raise ValueError(f"family '{self.name}': give exactly one of fit and run_whole")

    @property
    def fits_truth(self) -> bool:
        """Whether runs of this family score a model of ``cfg.truth`` (False: a whole-run family)."""
        return self.fit is not None


_FAMILIES: dict[str, Family] = {}


def register_family(family: Family, *, replace: bool = False) -> Family:
    """Add ``family`` to the registry (``replace=True`` to override an entry of the same name)."""
    if not isinstance(family, Family):
        raise TypeError(f"register_family takes a Family, got {type(family).__name__}")
    if family.name in _FAMILIES and not replace:
        raise ValueError(f"family '{family.name}' is already registered (replace=True overrides it)")
    _FAMILIES[family.name] = family
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


def family_sections() -> tuple:
    """The config sections families own (a run records only its own family's section)."""
    return tuple(f.section for f in _FAMILIES.values() if f.section)


def fit_estimator(cfg, truth, x_train, *, m: int, sample_generator, seed: int, device, run_dir=None,
                  progress: bool = False):
    """Fit the family ``cfg.estimator`` to ``x_train`` (n, d) and draw ``m`` samples: a `Fitted`."""
    family = get_family(cfg.estimator)
    if family.fit is None:
        raise ValueError(f"estimator '{family.name}' does not fit cfg.truth; it runs whole (run_whole)")
    return family.fit(cfg, truth, x_train, m=m, sample_generator=sample_generator, seed=seed, device=device,
                      run_dir=run_dir, progress=progress)


def _register_builtins() -> None:
    from genlab import estimators as E

    register_family(Family("empirical", fit=E.fit_empirical))
    register_family(Family("kde", fit=E.fit_kde, has_density=True, section="kde", validate=E.validate_kde,
                           needs_two_points=E.kde_needs_two_points))
    register_family(Family("diffusion", fit=E.fit_diffusion_family, has_density=True, section="diffusion",
                           validate=E.validate_diffusion, needs_two_points=E.standardize_needs_two_points,
                           check_truth=E.check_diffusion_truth, own_metrics=E.SAMPLER_LAW_METRICS,
                           evaluate_extra=E.diffusion_extra_metrics))
    register_family(Family("gan", fit=E.fit_gan_family, section="gan", validate=E.validate_gan,
                           needs_two_points=E.standardize_needs_two_points))
    register_family(Family("icl", run_whole=E.run_icl_whole, section="icl", validate=E.validate_icl))


_register_builtins()
