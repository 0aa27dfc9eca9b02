"""Regression targets against their closed forms: second moments, reproducibility, noise, the subspace embedding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate

from genlab.regression.targets import (
    LINKS,
    TARGETS,
    LinearTarget,
    SingleIndexTarget,
    SmoothTarget,
    SubspaceTarget,
    TeacherTarget,
    make_target,
)

EPS = float(np.finfo(np.float64).eps)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _mc_mean_within(values: torch.Tensor, expected: float, z: float = 4.0) -> None:
    """|mean - expected| <= z standard errors (sample sd / sqrt(m)); z = 4: a false alarm once in ~16000."""
    m = values.numel()
    se = float(values.std()) / math.sqrt(m)
    assert abs(float(values.mean()) - expected) <= z * se, (float(values.mean()), expected, se)


# -- SmoothTarget -----------------------------------------------------------------------
@pytest.mark.parametrize("d,s", [(1, 1.0), (2, 1.0), (3, 0.5)])
def test_smooth_second_moment_closed_form_equals_a_large_monte_carlo_mean(d, s):
    t = SmoothTarget(d, s, seed=3)
    b = t.coefficients["amplitudes"]
    assert t.second_moment() == pytest.approx(float((b ** 2).sum()) / 2, rel=1e-14)
    f = t.f(t.sample_x(400_000, _gen(1)))
    _mc_mean_within(f ** 2, t.second_moment())
    _mc_mean_within(f, 0.0)          # every cosine has a nonzero integer frequency: mean 0 over the cube


def test_smooth_is_the_density_series_minus_one_and_bounded_by_the_amplitude():
    t = SmoothTarget(2, 0.7, amplitude=0.4, seed=5)
    x = t.sample_x(5000, _gen(0))
    c = t.coefficients
    # the series written out: f = sum_j b_j cos(pi k_j . x + phi_j); k . x mod 2 inside the class: ~1e-13 apart
    direct = torch.cos(math.pi * x @ c["frequencies"].T + c["phases"]) @ c["amplitudes"]
    assert torch.allclose(t.f(x), direct, rtol=0, atol=1e-10)
    assert float(t.f(x).abs().max()) <= 0.4
    assert bool(((x >= -1) & (x <= 1)).all())
    assert t.smoothness == 0.7 and t.intrinsic_dim == 2


# -- SingleIndexTarget ------------------------------------------------------------------
def test_single_index_second_moments_are_the_closed_forms():
    assert SingleIndexTarget(4, link="he2").second_moment() == 1.0
    assert SingleIndexTarget(4, link="relu").second_moment() == 0.5 - 1.0 / (2.0 * math.pi)
    # tanh: adaptive quadrature of tanh(z)^2 phi(z) (its error estimate is ~1e-14) against 200 Gauss-Hermite nodes
    ref, err = integrate.quad(lambda z: math.tanh(z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
                              -40, 40, epsabs=1e-14, epsrel=1e-14, limit=200)
    assert SingleIndexTarget(4, link="tanh").second_moment() == pytest.approx(ref, abs=1e-13)


@pytest.mark.parametrize("link", LINKS)
def test_single_index_is_the_link_of_the_projection_on_a_unit_w_star(link):
    t = SingleIndexTarget(5, link=link, seed=2)
    assert float(t.w_star.norm()) == pytest.approx(1.0, abs=1e-15)
    x = t.sample_x(100, _gen(0))
    z = x @ t.w_star
    want = {"he2": (z ** 2 - 1) / math.sqrt(2), "relu": torch.relu(z) - 1 / math.sqrt(2 * math.pi),
            "tanh": torch.tanh(z)}[link]
    assert torch.equal(t.f(x), want)
    assert t.describe()["information_exponent"] == (2 if link == "he2" else 1)


# -- TeacherTarget ----------------------------------------------------------------------
def test_teacher_second_moment_is_the_arc_cosine_double_sum():
    t = TeacherTarget(4, width=6, seed=7)
    W, a = t.W.numpy(), t.a.numpy()
    # Cho & Saul: E relu(u.x) relu(v.x) = (sin th + (pi - th) cos th) / (2 pi) for unit u, v; written out here
    cos = np.clip(W @ W.T, -1.0, 1.0)
    th = np.arccos(cos)
    E = (np.sin(th) + (math.pi - th) * cos) / (2 * math.pi)
    want = float(a @ E @ a) / 6
    # arccos loses ~sqrt(eps) only on the diagonal (th = 0), where the kernel is flat (derivative 0 in th)
    assert t.second_moment() == pytest.approx(want, abs=1e-12)
    assert set(t.a.tolist()) <= {-1.0, 1.0}
    assert torch.allclose(t.W.norm(dim=1), torch.ones(6, dtype=torch.float64), atol=1e-15)


# -- reproducibility, noise, shapes ----------------------------------------------------
@pytest.mark.parametrize("name", TARGETS)
def test_targets_are_reproducible_from_seed_and_generator(name):
    t1, t2 = make_target(name, d=3, seed=4), make_target(name, d=3, seed=4)
    x1, y1 = t1.sample(50, _gen(9))
    x2, y2 = t2.sample(50, _gen(9))
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert x1.shape == (50, 3) and y1.shape == (50,) and x1.dtype == y1.dtype == torch.float64
    other = make_target(name, d=3, seed=5)
    assert not torch.equal(other.f(x1), t1.f(x1))            # another seed, another f*
    # sample draws x first, then eps, from the same generator
    g = _gen(9)
    x3 = t1.sample_x(50, g)
    eps = torch.randn(50, generator=g, dtype=torch.float64)
    assert torch.equal(x3, x1) and torch.allclose(y1, t1.f(x1) + t1.sigma * eps, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", TARGETS)
def test_label_noise_has_variance_sigma_squared(name):
    t = make_target(name, d=2, sigma=0.3)
    x, y = t.sample(100_000, _gen(2))
    r = y - t.f(x)
    # the sample variance of m normals has sd sigma^2 sqrt(2/(m-1)); 4 of those
    m = r.numel()
    assert abs(float(r.var()) - 0.09) <= 4 * 0.09 * math.sqrt(2 / (m - 1))
    assert abs(float(r.mean())) <= 4 * 0.3 / math.sqrt(m)
    t0 = make_target(name, d=2, sigma=0.0)
    x0, y0 = t0.sample(10, _gen(2))
    assert torch.equal(y0, t0.f(x0))


def test_f_checks_the_input_dimension():
    with pytest.raises(ValueError, match="x has dimension 2, expected 3"):
        LinearTarget(3).f(torch.zeros(4, 2, dtype=torch.float64))


# -- SubspaceTarget ---------------------------------------------------------------------
@pytest.mark.parametrize("base", [SmoothTarget(2, 1.0, seed=1), LinearTarget(2, seed=1),
                                  SingleIndexTarget(3, link="tanh")], ids=lambda b: b.name)
def test_subspace_inputs_lie_in_the_subspace_and_f_is_the_base_of_the_coordinates(base):
    t = SubspaceTarget(base, 7, seed=3)
    U = t.basis
    assert torch.allclose(U.T @ U, torch.eye(base.dim, dtype=torch.float64), atol=1e-14)
    x = t.sample_x(2000, _gen(0))
    z = base.sample_x(2000, _gen(0))                       # the same draws in the base's coordinates
    # x = z U^T, so (I - U U^T) x = 0 up to rounding ~ D eps |x| (|x| <= ~5 here): well below 1e-12
    assert float((x - (x @ U) @ U.T).abs().max()) < 1e-12
    assert torch.allclose(x, z @ U.T, rtol=0, atol=1e-15)
    # x U = z up to ~ D eps |z|; f* moves by Lip(f*) x that (the smooth target's Lip is ~ pi sum_j b_j |k_j| ~ 20)
    assert torch.allclose(t.f(x), base.f(z), rtol=0, atol=1e-12)
    assert (t.dim, t.intrinsic_dim, t.smoothness, t.sigma) == (7, base.dim, base.smoothness, base.sigma)
    assert t.second_moment() == base.second_moment()
    assert t.describe()["ambient_dim"] == 7 and t.describe()["intrinsic_dim"] == base.dim


# -- make_target ------------------------------------------------------------------------
def test_make_target_builds_and_embeds():
    assert isinstance(make_target("smooth", d=2, s=0.5), SmoothTarget)
    assert isinstance(make_target("single_index", d=2, link="relu"), SingleIndexTarget)
    assert make_target("teacher", d=2, teacher_width=3).width == 3
    assert isinstance(make_target("linear", d=2, ambient_dim=2), LinearTarget)   # ambient_dim == d: no embedding
    t = make_target("smooth", d=2, s=0.5, ambient_dim=6, seed=1)
    assert isinstance(t, SubspaceTarget) and (t.dim, t.intrinsic_dim) == (6, 2)
    assert t.describe()["s"] == 0.5 and "subspace" in t.describe()["input_law"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(name="cubic", d=2), "name must be one of"),
    (dict(name="single_index", d=2, link="sin"), "link must be one of"),
    (dict(name="linear", d=0), "d must be a positive integer"),
    (dict(name="smooth", d=2, s=0.0), "s must be > 0"),
    (dict(name="smooth", d=2, s=-1.0), "s must be > 0"),
    (dict(name="linear", d=2, sigma=-0.1), "sigma must be >= 0"),
    (dict(name="linear", d=3, ambient_dim=2), "ambient_dim must be >= d = 3"),
])
def test_make_target_errors_are_one_line_and_name_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        make_target(**kwargs)
    assert "\n" not in str(info.value)
