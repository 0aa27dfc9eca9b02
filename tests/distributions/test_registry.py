"""make_truth: every name builds the right law; bad names and parameters fail by name."""

from __future__ import annotations

import pytest
import torch

from genlab.distributions import (TRUTHS, Circle, GaussianMixture, SmoothDensity, SmoothJointDensity,
                                  Sphere, SubspaceDensity, Uniform, make_truth, truth_params)


@pytest.mark.parametrize("name, params, cls, dim", [
    ("gmm_ring", {}, GaussianMixture, 2),
    ("gmm_grid", dict(sigma=0.1), GaussianMixture, 2),
    ("gmm_anisotropic", {}, GaussianMixture, 2),
    ("gmm_random", dict(dim=4, n_modes=3, separation=5.0, seed=1), GaussianMixture, 4),
    ("uniform", dict(dim=3), Uniform, 3),
    ("smooth", dict(dim=2, s=1.5, amplitude=0.4, n_terms=10, seed=2), SmoothDensity, 2),
    ("smooth_joint", dict(dim=3, s=1.5, amplitude=0.4, n_terms=10, seed=2), SmoothJointDensity, 3),
    ("subspace", dict(ambient_dim=6, intrinsic_dim=2, base="smooth", s=0.8, seed=1), SubspaceDensity, 6),
    ("subspace", dict(ambient_dim=6, intrinsic_dim=3, base="smooth_joint", s=0.8, seed=1), SubspaceDensity, 6),
    ("subspace", dict(ambient_dim=5, intrinsic_dim=3, base="gaussian"), SubspaceDensity, 5),
    ("subspace", dict(ambient_dim=5, intrinsic_dim=1, base="uniform"), SubspaceDensity, 5),
    ("circle", dict(ambient_dim=3, radius=2.0), Circle, 3),
    ("sphere", dict(ambient_dim=4, intrinsic_dim=2), Sphere, 4),
])
def test_builds(name, params, cls, dim, gen):
    law = make_truth(name, **params)
    assert type(law) is cls and law.dim == dim
    x = law.sample(7, generator=gen(0))
    assert x.shape == (7, dim) and x.dtype == torch.float64


def test_parameters_reach_the_law():
    law = make_truth("smooth", dim=2, s=1.5, amplitude=0.4, n_terms=10, seed=2)
    assert (law.s, law.amplitude, law.n_terms, law.seed) == (1.5, 0.4, 10, 2)
    sub = make_truth("subspace", ambient_dim=6, intrinsic_dim=2, base="smooth", s=0.8)
    assert sub.intrinsic_dim == 2 and sub.smoothness == 0.8 and type(sub.base) is SmoothDensity
    joint = make_truth("smooth_joint", dim=3, s=1.5, amplitude=0.4, n_terms=10, seed=2)
    assert (joint.dim, joint.s, joint.amplitude, joint.n_terms, joint.seed) == (3, 1.5, 0.4, 10, 2)
    sub = make_truth("subspace", ambient_dim=6, intrinsic_dim=3, base="smooth_joint", s=0.8, seed=4)
    assert type(sub.base) is SmoothJointDensity and (sub.base.dim, sub.base.s, sub.base.seed) == (3, 0.8, 4)
    assert make_truth("gmm_ring", n_modes=5).n_components == 5
    assert torch.equal(make_truth("gmm_random", dim=3, n_modes=4, seed=9).means,
                       GaussianMixture.random_mixture(3, 4, seed=9).means)
    assert make_truth("uniform", dim=1, dtype=torch.float32).sample(2).dtype == torch.float32


def test_unknown_name_lists_names():
    with pytest.raises(ValueError, match="^name must be one of .*gmm_ring.*sphere"):
        make_truth("gmm_rings")


@pytest.mark.parametrize("name, bad", [("gmm_ring", "modes"), ("uniform", "s"), ("gmm_anisotropic", "seed"),
                                       ("subspace", "dim")])
def test_unknown_parameter_is_named(name, bad):
    with pytest.raises(ValueError, match=f"^{bad}: unknown parameter for truth '{name}'"):
        make_truth(name, **{bad: 1})


@pytest.mark.parametrize("name, params, match", [
    ("smooth", dict(s=-1.0), "s"),
    ("smooth_joint", dict(amplitude=1.0), "amplitude"),
    ("subspace", dict(base="gaussian", s=1.0), "s"),
    ("subspace", dict(base="torus"), "base"),
    ("subspace", dict(base="uniform", s=1.0), "s"),
    ("subspace", dict(ambient_dim=1, intrinsic_dim=2), "ambient_dim"),
    ("gmm_random", dict(n_modes=0), "n_modes"),
])
def test_bad_values_fail_by_name(name, params, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        make_truth(name, **params)


def test_every_truth_builds_with_defaults(gen):
    for name in TRUTHS:
        law = make_truth(name)
        assert law.sample(3, generator=gen(0)).shape == (3, law.dim)


def test_truth_params_lists_defaults():
    assert truth_params("smooth") == dict(dim=2, s=1.0, amplitude=0.5, n_terms=24, seed=0)
    assert truth_params("smooth_joint") == dict(dim=2, s=1.0, amplitude=0.5, n_terms=24, seed=0)
    assert truth_params("gmm_anisotropic") == {}
