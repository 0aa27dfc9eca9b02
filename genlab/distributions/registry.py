"""``make_truth(name, **params)``: the truths the config layer can name.

Each name maps to a builder with explicit keyword parameters; an unknown name
or an unknown parameter is a ``ValueError`` naming it, before any work.
"""

from __future__ import annotations

import inspect

import torch

from genlab.distributions.base import Distribution
from genlab.distributions.gaussian import GaussianMixture
from genlab.distributions.manifold import Circle, Sphere, SubspaceDensity
from genlab.distributions.smooth import SmoothDensity
from genlab.distributions.smooth_joint import SmoothJointDensity
from genlab.distributions.uniform import Uniform
from genlab.core.validation import check_in, check_positive_int

__all__ = ["make_truth", "truth_params", "TRUTHS"]


def _gmm_ring(*, n_modes=8, radius=1.0, sigma=0.01, **kw):
    return GaussianMixture.ring(n_modes=n_modes, radius=radius, sigma=sigma, **kw)


def _gmm_grid(*, sigma=0.05, **kw):
    return GaussianMixture.grid(sigma=sigma, **kw)


def _gmm_anisotropic(**kw):
    return GaussianMixture.anisotropic_2d(**kw)


def _gmm_random(*, dim=2, n_modes=8, separation=6.0, seed=0, anisotropic=True,
                unequal_weights=True, **kw):
    return GaussianMixture.random_mixture(dim, n_modes, separation=separation, seed=seed,
                                          anisotropic=anisotropic,
                                          unequal_weights=unequal_weights, **kw)


def _uniform(*, dim=2, low=-1.0, high=1.0, **kw):
    return Uniform(dim, low, high, **kw)


def _smooth(*, dim=2, s=1.0, amplitude=0.5, n_terms=24, seed=0, **kw):
    return SmoothDensity(dim, s, amplitude=amplitude, n_terms=n_terms, seed=seed, **kw)


def _smooth_joint(*, dim=2, s=1.0, amplitude=0.5, n_terms=24, seed=0, **kw):
    return SmoothJointDensity(dim, s, amplitude=amplitude, n_terms=n_terms, seed=seed, **kw)


_SMOOTH_BASES = {"smooth": SmoothDensity, "smooth_joint": SmoothJointDensity}


def _subspace(*, ambient_dim=10, intrinsic_dim=2, base="uniform", s=None, amplitude=0.5,
              n_terms=24, seed=0, **kw):
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


def _circle(*, ambient_dim=2, radius=1.0, seed=0, **kw):
    return Circle(ambient_dim, radius, seed=seed, **kw)


def _sphere(*, ambient_dim=3, intrinsic_dim=2, radius=1.0, seed=0, **kw):
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

_COMMON = ("dtype", "device")


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
