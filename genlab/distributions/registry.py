"""The truths the config layer can name: ``make_truth(name, **params)``, and `register_truth` to add one.

Each name maps to a builder whose keyword-only parameters, with their types and
defaults, are the truth's parameters; an unknown name or an unknown parameter is
a ``ValueError`` naming it, before any work.  The config schema's ``truth``
section is built from this registry (`genlab.config.schema`): every parameter of
every registered truth is a key ``truth.<parameter>``, typed by the builders'
annotations and documented by `PARAMETERS`, so a truth added from outside
(`register_truth`) is configurable from the command line with no other change.
"""

from __future__ import annotations

import inspect
import typing
from typing import Callable

import torch

from genlab.core.validation import check_in, check_positive_int
from genlab.distributions.base import Distribution
from genlab.distributions.gaussian import GaussianMixture
from genlab.distributions.manifold import Circle, Sphere, SubspaceDensity
from genlab.distributions.smooth import SmoothDensity
from genlab.distributions.smooth_joint import SmoothJointDensity
from genlab.distributions.uniform import Uniform

__all__ = ["make_truth", "truth_params", "truth_parameters", "register_truth", "TRUTHS", "PARAMETERS",
           "registry_version"]

#: the meaning of every truth parameter, written once (the README's key reference adds which truths take it
#: and their defaults); `register_truth` adds those of new parameters
PARAMETERS: dict[str, str] = {
    "dim": "dimension d of the truth",
    "n_modes": "number of mixture components",
    "radius": "radius of gmm_ring's circle of means, or of circle and sphere",
    "sigma": "standard deviation of every mode",
    "separation": "the means are at least separation x the largest mode standard deviation apart",
    "anisotropic": "random rotated mode covariances (false: isotropic modes)",
    "unequal_weights": "random mode weights (false: equal weights)",
    "low": "lower end of the cube [low, high]^d",
    "high": "upper end of the cube [low, high]^d",
    "s": "smoothness s (Hoelder-Zygmund B^s_inf,inf) of the density; sets the theory's rates, e.g. TV ~ "
         "n^(-s/(2s+d)) (Oko et al. 2023)",
    "amplitude": "a = sup |g - 1| of the lacunary series, in [0, 1) (0: the uniform law)",
    "n_terms": "J, the number of dyadic frequencies 2^0..2^(J-1) of the lacunary series",
    "ambient_dim": "D, the dimension of the space the law lies in",
    "intrinsic_dim": "d', the dimension of subspace's base law or of sphere's S^d'",
    "base": "subspace's law on its d' coordinates: uniform, smooth, smooth_joint or gaussian",
    "seed": "seed of the truth's own random construction (gmm_random's mixture, the smooth truths' series, the "
            "random plane of subspace, circle and sphere), not of its samples",
}
#: the types a truth parameter may have (a command-line value of each parses unambiguously)
PARAMETER_TYPES = (int, float, str, bool)
#: every truth also takes these, which are not config keys
_COMMON = ("dtype", "device")
#: bumped by every registration, so a schema built from the registry knows when it is stale
_VERSION = [0]


def _gmm_ring(*, n_modes: int = 8, radius: float = 1.0, sigma: float = 0.01, **kw):
    return GaussianMixture.ring(n_modes=n_modes, radius=radius, sigma=sigma, **kw)


def _gmm_grid(*, sigma: float = 0.05, **kw):
    return GaussianMixture.grid(sigma=sigma, **kw)


def _gmm_anisotropic(**kw):
    return GaussianMixture.anisotropic_2d(**kw)


def _gmm_random(*, dim: int = 2, n_modes: int = 8, separation: float = 6.0, seed: int = 0, anisotropic: bool = True,
                unequal_weights: bool = True, **kw):
    return GaussianMixture.random_mixture(dim, n_modes, separation=separation, seed=seed,
                                          anisotropic=anisotropic,
                                          unequal_weights=unequal_weights, **kw)


def _uniform(*, dim: int = 2, low: float = -1.0, high: float = 1.0, **kw):
    return Uniform(dim, low, high, **kw)


def _smooth(*, dim: int = 2, s: float = 1.0, amplitude: float = 0.5, n_terms: int = 24, seed: int = 0, **kw):
    return SmoothDensity(dim, s, amplitude=amplitude, n_terms=n_terms, seed=seed, **kw)


def _smooth_joint(*, dim: int = 2, s: float = 1.0, amplitude: float = 0.5, n_terms: int = 24, seed: int = 0,
                  **kw):
    return SmoothJointDensity(dim, s, amplitude=amplitude, n_terms=n_terms, seed=seed, **kw)


_SMOOTH_BASES = {"smooth": SmoothDensity, "smooth_joint": SmoothJointDensity}


def _subspace(*, ambient_dim: int = 10, intrinsic_dim: int = 2, base: str = "uniform", s: float | None = None,
              amplitude: float = 0.5, n_terms: int = 24, seed: int = 0, **kw):
    check_in("base", base, ["uniform", "smooth", "smooth_joint", "gaussian"])
    k = check_positive_int("intrinsic_dim", intrinsic_dim)
    if base not in _SMOOTH_BASES and s is not None:
        raise ValueError(f"s applies only to base='smooth' or 'smooth_joint', got base={base!r} "
                         f"with s={s!r}")
    if base == "uniform":
        law = Uniform(k, **kw)
    elif base in _SMOOTH_BASES:
        law = _SMOOTH_BASES[base](k, 1.0 if s is None else s, amplitude=amplitude,
                                  n_terms=n_terms, seed=seed, **kw)
    else:  # standard Gaussian N(0, I_k)
        law = GaussianMixture([1.0], torch.zeros(1, k), torch.eye(k)[None], **kw)
    return SubspaceDensity(law, ambient_dim, seed=seed)


def _circle(*, ambient_dim: int = 2, radius: float = 1.0, seed: int = 0, **kw):
    return Circle(ambient_dim, radius, seed=seed, **kw)


def _sphere(*, ambient_dim: int = 3, intrinsic_dim: int = 2, radius: float = 1.0, seed: int = 0, **kw):
    return Sphere(ambient_dim, intrinsic_dim, radius=radius, seed=seed, **kw)


TRUTHS = {
    "gmm_ring": _gmm_ring,
    "gmm_grid": _gmm_grid,
    "gmm_anisotropic": _gmm_anisotropic,
    "gmm_random": _gmm_random,
    "uniform": _uniform,
    "smooth": _smooth,
    "smooth_joint": _smooth_joint,
    "subspace": _subspace,
    "circle": _circle,
    "sphere": _sphere,
}

def truth_params(name: str) -> dict:
    """Parameters of truth ``name`` with their defaults (``dtype``/``device`` not listed).

    >>> truth_params("gmm_grid")
    {'sigma': 0.05}
    """
    check_in("name", name, TRUTHS)
    sig = inspect.signature(TRUTHS[name])
    return {p.name: p.default for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY}


def make_truth(name: str, **params) -> Distribution:
    """Build the truth called ``name`` with keyword ``params``.

    Names: ``gmm_ring`` (n_modes, radius, sigma), ``gmm_grid`` (sigma),
    ``gmm_anisotropic`` (), ``gmm_random`` (dim, n_modes, separation, seed,
    anisotropic, unequal_weights), ``uniform`` (dim, low, high), ``smooth``
    (dim, s, amplitude, n_terms, seed: the product of 1-D lacunary series,
    for one-dimensional rate studies), ``smooth_joint`` (the same parameters:
    the non-separable lacunary series over random frequency vectors, the
    truth of the d >= 2 recipes; equal to ``smooth`` in d = 1), ``subspace``
    (ambient_dim, intrinsic_dim, base in {"uniform", "smooth",
    "smooth_joint", "gaussian"}, s -- only with a smooth base --, amplitude,
    n_terms, seed; the one seed sets both the basis and the smooth
    coefficients), ``circle`` (ambient_dim, radius, seed),
    ``sphere`` (ambient_dim, intrinsic_dim, radius, seed).  Every truth also
    takes ``dtype`` and ``device``.

    Raises
    ------
    ValueError
        ``name`` unknown (the message lists the names), or a parameter
        unknown for that truth (the message names it and lists the known ones).

    Examples
    --------
    >>> make_truth("smooth", dim=1, s=0.5).smoothness
    0.5
    >>> make_truth("gmm_ring", colour=1)
    Traceback (most recent call last):
    ...
    ValueError: colour: unknown parameter for truth 'gmm_ring'; known: n_modes, radius, sigma, dtype, device
    """
    check_in("name", name, TRUTHS)
    known = truth_params(name)
    for key in params:
        if key not in known and key not in _COMMON:
            raise ValueError(f"{key}: unknown parameter for truth {name!r}; known: "
                             f"{', '.join([*known, *_COMMON])}")
    return TRUTHS[name](**params)


def _parameter_type(name: str, param: inspect.Parameter, hints: dict) -> type:
    """The type of a builder's keyword parameter: its annotation (``X | None`` counts as X), or its
    default's type; one of `PARAMETER_TYPES`."""
    tp = hints.get(param.name)
    if tp is None:
        tp = type(param.default) if param.default is not None else None
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if len(args) == 1:  # Optional[X] / X | None
        tp = args[0]
    if tp not in PARAMETER_TYPES:
        raise ValueError(f"truth '{name}': parameter {param.name} must be annotated as one of "
                         f"{', '.join(t.__name__ for t in PARAMETER_TYPES)} (optionally | None), got {tp!r}")
    return tp


def _signature(name: str, builder: Callable) -> dict[str, tuple[type, object]]:
    """``{parameter: (type, default)}`` of a builder's keyword-only parameters."""
    try:
        hints = typing.get_type_hints(builder)
    except Exception as exc:  # noqa: BLE001 -- an annotation that does not resolve
        raise ValueError(f"truth '{name}': its builder's annotations do not resolve: {exc}") from None
    out = {}
    for p in inspect.signature(builder).parameters.values():
        if p.kind is p.KEYWORD_ONLY:
            if p.default is p.empty:
                raise ValueError(f"truth '{name}': parameter {p.name} needs a default")
            out[p.name] = (_parameter_type(name, p, hints), p.default)
        elif p.kind is not p.VAR_KEYWORD:
            raise ValueError(f"truth '{name}': its builder takes keyword-only parameters (and **kw for dtype "
                             f"and device), got {p.name}")
    return out


def truth_parameters() -> dict[str, tuple[type, str, dict]]:
    """Every parameter of every registered truth: ``{parameter: (type, meaning, {truth: default})}``,
    in the order of `PARAMETERS` (the built-ins' first, then those registered since)."""
    out: dict[str, tuple[type, str, dict]] = {}
    for truth, builder in TRUTHS.items():
        for key, (tp, default) in _signature(truth, builder).items():
            out.setdefault(key, (tp, PARAMETERS[key], {}))[2][truth] = default
    order = {k: i for i, k in enumerate(PARAMETERS)}
    return dict(sorted(out.items(), key=lambda kv: order[kv[0]]))


def register_truth(name: str, builder: Callable[..., Distribution], *, meanings: dict[str, str] | None = None,
                   replace: bool = False) -> Callable[..., Distribution]:
    """Add the truth ``name``, built by ``builder(**params, dtype=..., device=...) -> Distribution``.

    The builder's keyword-only parameters, each with a default and a type
    (int, float, str or bool, by annotation or default), become the keys
    ``truth.<parameter>``.  A parameter no truth had before needs its meaning
    in ``meanings`` (one line, for the README's key reference); one that
    another truth has already must have the same type.  Returns ``builder``.

    Raises
    ------
    ValueError
        A taken name (without ``replace``), a parameter without a default, type or meaning, or
        a type that differs from another truth's parameter of the same name.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"a truth's name must be an identifier, got {name!r}")
    if name in TRUTHS and not replace:
        raise ValueError(f"truth '{name}' is already registered (replace=True overrides it)")
    new = _signature(name, builder)
    known = {k: tp for k, (tp, _, _) in truth_parameters().items()}
    meanings = dict(meanings or {})
    for key, (tp, _) in new.items():
        if key in _COMMON or key == "name":
            raise ValueError(f"truth '{name}': parameter {key} is reserved")
        if key in known and known[key] is not tp:
            raise ValueError(f"truth '{name}': parameter {key} is {tp.__name__} here and {known[key].__name__} "
                             f"in the truths registered before")
        if key not in PARAMETERS and not meanings.get(key):
            raise ValueError(f"truth '{name}': parameter {key} is new; give its meaning in meanings={{...}}")
    for key, text in meanings.items():
        PARAMETERS.setdefault(key, " ".join(str(text).split()))
    TRUTHS[name] = builder
    _VERSION[0] += 1
    return builder


def registry_version() -> int:
    """A number that changes whenever a truth is registered."""
    return _VERSION[0]
