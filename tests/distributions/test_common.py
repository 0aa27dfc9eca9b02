"""The Distribution contract, checked on every truth the registry can build.

- score equals the base class's autograd of log_prob to 1e-10 relative to
  (1 + |score|), at samples of the law (inside its support), for every law
  with a density; laws without one raise NoDensityError from log_prob and score;
- samples: shape (n, dim), float64, reproducible from a seeded generator;
- n <= 0 and points of the wrong dimension are ValueErrors naming the argument;
- describe() reports the metadata the theory layer reads.
"""

from __future__ import annotations

import math

import pytest
import torch

from genlab.distributions import Distribution, NoDensityError, make_truth

CASES = {
    "gmm_ring": dict(),
    "gmm_grid": dict(),
    "gmm_anisotropic": dict(),
    "gmm_random": dict(dim=6, n_modes=5, seed=3),
    "uniform": dict(dim=3),
    "smooth_rough": dict(dim=2, s=0.4, seed=1),
    "smooth_regular": dict(dim=3, s=2.5, n_terms=16, seed=2),
    "smooth_joint_rough": dict(dim=2, s=0.4, seed=1),
    "smooth_joint_regular": dict(dim=3, s=2.5, n_terms=16, seed=2),
    "subspace_smooth": dict(ambient_dim=5, intrinsic_dim=2, base="smooth", s=1.0),
    "subspace_joint": dict(ambient_dim=5, intrinsic_dim=3, base="smooth_joint", s=0.7),
    "subspace_full": dict(ambient_dim=3, intrinsic_dim=3, base="gaussian"),
    "circle": dict(ambient_dim=3),
    "sphere": dict(ambient_dim=5, intrinsic_dim=3),
}


def _law(case):
    if case.startswith("smooth_joint"):
        return make_truth("smooth_joint", **CASES[case])
    name = case.split("_")[0] if case.startswith(("smooth", "subspace")) else case
    return make_truth(name, **CASES[case])


@pytest.mark.parametrize("case", CASES)
def test_score_or_no_density(case, gen):
    law = _law(case)
    x = law.sample(200, generator=gen(0))
    if law.has_density:
        closed = law.score(x)
        auto = Distribution.score(law, x)
        assert closed.shape == x.shape
        assert ((closed - auto).abs() / (1.0 + closed.abs())).max() <= 1e-10
        assert torch.isfinite(law.log_prob(x)).all()
    else:
        with pytest.raises(NoDensityError):
            law.log_prob(x)
        with pytest.raises(NoDensityError):
            law.score(x)


@pytest.mark.parametrize("case", CASES)
def test_sampling_contract(case, gen):
    law = _law(case)
    a = law.sample(64, generator=gen(7))
    assert a.shape == (64, law.dim) and a.dtype == torch.float64 and a.device.type == "cpu"
    assert torch.equal(a, law.sample(64, generator=gen(7)))
    assert not torch.equal(a, law.sample(64, generator=gen(8)))
    assert torch.isfinite(a).all()
    for bad in (0, -1, 1.5, "3"):
        with pytest.raises(ValueError, match="^n"):
            law.sample(bad)


@pytest.mark.parametrize("case", CASES)
def test_describe(case):
    law = _law(case)
    d = law.describe()
    assert d["dim"] == law.dim and d["intrinsic_dim"] <= law.dim
    assert d["has_density"] == law.has_density
    s = d["smoothness"]
    assert s > 0 and (math.isinf(s) or math.isfinite(s))
    if law.has_density:
        with pytest.raises(ValueError, match="^x"):
            law.log_prob(torch.zeros(2, law.dim + 1))
