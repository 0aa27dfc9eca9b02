"""Laws on subspaces and spheres: geometry exact to rounding (1e-12), the
intrinsic law checked exactly (same generator stream) or by KS (p > 1e-3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from genlab.distributions import (Circle, Distribution, GaussianMixture, NoDensityError,
                                  SmoothDensity, SmoothJointDensity, Sphere, SubspaceDensity, Uniform,
                                  random_orthonormal)


@pytest.mark.parametrize("D, k", [(3, 1), (10, 2), (7, 7)])
def test_random_orthonormal(D, k):
    a = random_orthonormal(D, k, seed=4)
    np.testing.assert_allclose(a.T @ a, np.eye(k), atol=1e-12)
    assert np.array_equal(a, random_orthonormal(D, k, seed=4))
    assert not np.array_equal(a, random_orthonormal(D, k, seed=5))


@pytest.mark.parametrize("base", [Uniform(2), SmoothDensity(3, 0.7), SmoothJointDensity(3, 0.7),
                                  GaussianMixture.anisotropic_2d()])
def test_subspace_samples_are_embedded_base_samples(base, gen):
    law = SubspaceDensity(base, 9, seed=1)
    x = law.sample(500, generator=gen(0))
    z = base.sample(500, generator=gen(0))        # same stream: x = A z exactly
    torch.testing.assert_close(law.project(x), z, rtol=0, atol=1e-12)
    torch.testing.assert_close(law.embed(z), x, rtol=0, atol=1e-12)
    assert law.distance_to_subspace(x).max() <= 1e-12
    assert law.dim == 9 and law.intrinsic_dim == base.dim
    assert law.smoothness == base.smoothness and not law.has_density
    torch.testing.assert_close(law.log_prob_intrinsic(z), base.log_prob(z), rtol=0, atol=0)


def test_subspace_distance_and_uniform_coordinates(gen):
    law = SubspaceDensity(Uniform(2), 5, seed=3)
    a = law.basis
    normal = torch.randn(5, generator=gen(1), dtype=torch.float64)
    normal = normal - a @ (a.T @ normal)
    normal = normal / normal.norm()
    x = (0.3 * a[:, 0] + 2.5 * normal)[None]
    assert abs(float(law.distance_to_subspace(x)) - 2.5) <= 1e-12
    z = law.project(law.sample(20_000, generator=gen(2)))
    for i in range(2):
        assert stats.kstest(z[:, i].numpy(), stats.uniform(-1, 2).cdf).pvalue > 1e-3


def test_subspace_log_prob_raises(gen):
    law = SubspaceDensity(Uniform(2), 4)
    x = law.sample(3, generator=gen(0))
    for fn in (law.log_prob, law.score):
        with pytest.raises(NoDensityError, match="no density on R\\^4.*2-dimensional"):
            fn(x)
    assert issubclass(NoDensityError, ValueError)


def test_full_dimensional_subspace_is_a_rotation(gen):
    base = GaussianMixture.anisotropic_2d()
    law = SubspaceDensity(base, 2, seed=5)
    assert law.has_density
    x = law.sample(200, generator=gen(0))
    torch.testing.assert_close(law.log_prob(x), base.log_prob(law.project(x)), rtol=1e-12, atol=0)
    closed, auto = law.score(x), Distribution.score(law, x)
    assert ((closed - auto).abs() / (1 + closed.abs())).max() <= 1e-10


@pytest.mark.parametrize("kwargs, match", [
    (dict(base=Uniform(3), ambient_dim=2), "ambient_dim"),
    (dict(base=Uniform(3), ambient_dim=0), "ambient_dim"),
    (dict(base="uniform", ambient_dim=4), "base"),
    (dict(base=Uniform(2), ambient_dim=4, seed=0.5), "seed"),
])
def test_subspace_rejects(kwargs, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        SubspaceDensity(**kwargs)


@pytest.mark.parametrize("D, k, r", [(3, 2, 1.0), (6, 2, 2.5), (5, 3, 0.7)])
def test_sphere_geometry_and_uniformity(D, k, r, gen):
    law = Sphere(D, k, radius=r, seed=2)
    x = law.sample(20_000, generator=gen(0))
    y = law.project(x)
    torch.testing.assert_close(y.norm(dim=1), torch.full((20_000,), r, dtype=torch.float64),
                               rtol=1e-12, atol=0)
    assert law.distance_to_support(x).max() <= 1e-12
    assert law.intrinsic_dim == k and law.dim == D and not law.has_density
    if k == 2:
        # Archimedes: each coordinate of the uniform law on S^2 is uniform on [-r, r]
        for i in range(3):
            assert stats.kstest(y[:, i].numpy(), stats.uniform(-r, 2 * r).cdf).pvalue > 1e-3
    else:
        # a coordinate of the uniform law on S^k has density ∝ (1 - t^2)^{(k-2)/2}:
        # t = 2B - 1 with B ~ Beta(k/2, k/2)
        beta = stats.beta(k / 2, k / 2)
        assert stats.kstest((y[:, 0] / r + 1).numpy() / 2, beta.cdf).pvalue > 1e-3
    area = 2 * math.pi ** ((k + 1) / 2) * r**k / math.gamma((k + 1) / 2)
    assert abs(law.surface_area - area) <= 1e-12 * area
    lp = law.log_prob_intrinsic(y[:5])
    torch.testing.assert_close(lp, torch.full((5,), -math.log(area), dtype=torch.float64),
                               rtol=1e-14, atol=0)
    assert torch.isneginf(law.log_prob_intrinsic(1.1 * y[:2])).all()


def test_circle(gen):
    law = Circle(4, radius=2.0, seed=1)
    assert law.intrinsic_dim == 1 and abs(law.surface_area - 4 * math.pi) <= 1e-14
    x = law.sample(20_000, generator=gen(0))
    theta = law.angle(x)
    assert stats.kstest(theta.numpy(), stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue > 1e-3
    # a point at twice the radius along a basis vector is r away from the circle
    p = (4.0 * law.basis[:, 0])[None]
    assert abs(float(law.distance_to_support(p)) - 2.0) <= 1e-12
    with pytest.raises(NoDensityError, match="no density"):
        law.log_prob(x[:2])
    with pytest.raises(NoDensityError):
        law.score(x[:2])
    assert Circle().dim == 2


@pytest.mark.parametrize("call, match", [
    (lambda: Sphere(2, 2), "ambient_dim"),
    (lambda: Sphere(3, 0), "intrinsic_dim"),
    (lambda: Sphere(3, 2, radius=0.0), "radius"),
    (lambda: Circle(1), "ambient_dim"),
    (lambda: Circle(2, radius=float("nan")), "radius"),
    (lambda: Circle(2).sample(0), "n"),
    (lambda: Sphere(3).project(torch.zeros(2, 2)), "x"),
])
def test_sphere_rejects(call, match):
    with pytest.raises(ValueError, match=f"^{match}"):
        call()
