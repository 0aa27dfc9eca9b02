r"""Regression truths with an exact regression function f*: y = f*(x) + sigma eps.

Every target knows the law of its inputs (``sample_x``), the regression
function f*(x) = E[y | x] exactly (``f``), and E f*(X)^2 in closed form
(``second_moment``): the excess risk of the zero predictor, and so the scale
every excess risk E (f_hat(X) - f*(X))^2 is read against
(`genlab.regression.risk.excess_risk`).

- `SmoothTarget`: f* of exact smoothness s on [-1, 1]^d, non-separable and rough
  at every scale (the lacunary series of
  `genlab.distributions.smooth_joint.SmoothJointDensity`, minus its constant);
  the class of the minimax rate n^{-2s/(2s+d)} (Stone 1982).
- `SubspaceTarget`: a target whose inputs lie on a random d'-dimensional linear
  subspace of R^D (the intrinsic-dimension setting of Nakada & Imaizumi 2020).
- `SingleIndexTarget`: link(<w*, x>), x ~ N(0, I_d) (Ba et al. 2022).
- `TeacherTarget`: a two-layer ReLU network, x ~ N(0, I_d).
- `LinearTarget`: <beta, x>, x ~ N(0, I_d) (the parametric baseline; the OLS risk
  sigma^2 d / (n - d - 1) is tested).

Randomness: the parameters of f* (frequencies, w*, the teacher, beta, the
subspace) come from numpy ``PCG64(seed)``, so f* is fixed by ``seed`` alone;
the inputs and the noise of ``sample`` come from the torch ``generator``, x
first, then eps.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import torch
from numpy.polynomial.hermite_e import hermegauss

from genlab.core.seeding import derive_seed
from genlab.core.validation import check_in, check_nonnegative, check_points, check_positive, check_positive_int
from genlab.distributions.manifold import random_orthonormal
from genlab.distributions.smooth_joint import SmoothJointDensity
from genlab.kernels import arccos_kernel

__all__ = ["RegressionTarget", "SmoothTarget", "SubspaceTarget", "SingleIndexTarget", "TeacherTarget",
           "LinearTarget", "TARGETS", "LINKS", "make_target"]

#: the targets `make_target` builds by name
TARGETS = ("smooth", "single_index", "teacher", "linear")
#: links of `SingleIndexTarget`: he2 = (z^2 - 1)/sqrt 2, relu = relu(z) - 1/sqrt(2 pi), tanh
LINKS = ("he2", "relu", "tanh")

_DTYPE = torch.float64
# Gauss-Hermite nodes for E tanh(Z)^2: tanh has poles at +-i pi/2, so the error decays like
# exp(-c sqrt(nodes)); 150 nodes agree with adaptive quadrature to 7e-15, 200 to 3e-16.
_HERMITE_NODES = 200


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    return np.random.Generator(np.random.PCG64(int(seed)))


class RegressionTarget(ABC):
    """A regression truth: inputs X ~ P_X, labels y = f*(X) + sigma eps with eps ~ N(0, 1).

    Attributes
    ----------
    name : str
        The target's name in `TARGETS`.
    dim : int
        D, the dimension of the inputs the estimator sees.
    intrinsic_dim : int
        d', the dimension of the support of P_X (D for a full-dimensional law).
    smoothness : float
        Hölder(-Zygmund) smoothness s of f* (``math.inf`` for an analytic f*).
    sigma : float
        Standard deviation of the label noise, >= 0.
    input_law : str
        P_X in words.
    """

    name: str = ""
    input_law: str = ""

    def __init__(self, dim: int, *, sigma: float):
        self.dim = check_positive_int("d", dim)
        self.intrinsic_dim = self.dim
        self.sigma = check_nonnegative("sigma", sigma)
        self.smoothness = math.inf

    def _check_n(self, n) -> int:
        return check_positive_int("n", n)

    def _check_x(self, x) -> torch.Tensor:
        return check_points("x", x, self.dim).to(_DTYPE)

    @abstractmethod
    def sample_x(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n inputs X ~ P_X, shape (n, dim), float64."""

    @abstractmethod
    def f(self, x) -> torch.Tensor:
        """The regression function f*(x) = E[y | x], exactly; x (n, dim) -> (n,) float64."""

    @abstractmethod
    def second_moment(self) -> float:
        """E f*(X)^2 under P_X, in closed form: the excess risk of the predictor f_hat = 0."""

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n labelled points: x (n, dim) from ``sample_x``, then y = f*(x) + sigma eps (n,), eps ~ N(0, 1).

        eps is drawn from ``generator`` after x, so (x, y) is fixed by the generator's state.
        """
        n = self._check_n(n)
        x = self.sample_x(n, generator)
        eps = torch.randn(n, generator=generator, dtype=_DTYPE)
        return x, self.f(x) + self.sigma * eps

    def describe(self) -> dict:
        """name, dim, intrinsic_dim, smoothness, sigma, input_law (and the target's own parameters)."""
        return dict(name=self.name, dim=self.dim, intrinsic_dim=self.intrinsic_dim,
                    smoothness=self.smoothness, sigma=self.sigma, input_law=self.input_law)


class SmoothTarget(RegressionTarget):
    r"""f*(x) = g(x) - 1 = sum_j b_j cos(pi k_j . x + phi_j) on x ~ U[-1, 1]^d: smoothness exactly s.

    g is the lacunary series of ``SmoothJointDensity(d, s, amplitude=..., n_terms=...,
    seed=seed)``: integer frequency vectors k_j with |k_j| ~ 2^j in seeded random
    directions, b_j = a 2^{-js} / c_s, so f* is in the Hölder-Zygmund class of order s and
    in none above it, along every direction, and is not a sum of functions of fewer
    coordinates (that class's docstring has the proofs).  |f*| <= a.

    Second moment.  With A_j = pi k_j . x + phi_j, cos A_i cos A_j = [cos(A_i - A_j) +
    cos(A_i + A_j)] / 2.  The frequencies k_i -+ k_j are nonzero integer vectors for
    every i != j (the k_j are distinct and k_i != -k_j, `lacunary_frequencies`), and
    2 k_j != 0; a cosine of a nonzero integer frequency covers whole periods of [-1, 1]
    in a coordinate where the frequency is nonzero, so its mean over the cube is 0.  Only
    the cos(A_j - A_j) = 1 terms survive:

        E f*(X)^2 = sum_j b_j^2 / 2,      E f*(X) = 0.

    Parameters
    ----------
    d : int
        Input dimension.
    s : float, > 0
        Smoothness.
    sigma : float, >= 0
        Noise standard deviation.
    amplitude : float in [0, 1)
        a = sum_j b_j = sup |f*|.
    n_terms : int
        J, the number of dyadic scales (the series below 2^{-J} is cut; see SmoothJointDensity).
    seed : int
        Seeds the phases and the frequencies.

    Examples
    --------
    >>> t = SmoothTarget(2, 1.0, n_terms=6)
    >>> b = t.coefficients["amplitudes"]
    >>> bool(abs(t.second_moment() - float((b ** 2).sum()) / 2) < 1e-15)
    True
    """

    name = "smooth"
    input_law = "uniform on [-1, 1]^d"

    def __init__(self, d: int, s: float, *, sigma: float = 0.1, amplitude: float = 0.5, n_terms: int = 24,
                 seed: int = 0):
        super().__init__(d, sigma=sigma)
        self.s = check_positive("s", s)
        self.smoothness = self.s
        self.density = SmoothJointDensity(self.dim, self.s, amplitude=amplitude, n_terms=n_terms, seed=seed)
        self.amplitude, self.n_terms, self.seed = self.density.amplitude, self.density.n_terms, seed

    @property
    def coefficients(self) -> dict[str, torch.Tensor]:
        """``f*(x) = sum_j amplitudes[j] cos(pi frequencies[j] . x + phases[j])``; (J,), (J, d), (J,)."""
        return self.density.coefficients

    def sample_x(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = self._check_n(n)
        return 2.0 * torch.rand(n, self.dim, generator=generator, dtype=_DTYPE) - 1.0

    def f(self, x) -> torch.Tensor:
        return self.density.g(self._check_x(x)) - 1.0

    def second_moment(self) -> float:
        b = self.density.coefficients["amplitudes"]
        return float((b ** 2).sum() / 2.0)

    def describe(self) -> dict:
        out = super().describe()
        out.update(s=self.s, amplitude=self.amplitude, n_terms=self.n_terms, seed=self.seed)
        return out


class SubspaceTarget(RegressionTarget):
    """A target seen through a random d'-dimensional linear subspace of R^D.

    x = z U^T with z ~ base's input law (d' = base.dim) and U a Haar-random (D, d')
    matrix with orthonormal columns (`random_orthonormal`); f*(x) = base.f(x U), which is
    base.f(z) on the subspace (U^T U = I) and the base target of the projection off it.
    So E f*^2 and the smoothness are the base's, and the inputs have intrinsic dimension
    d' (Nakada & Imaizumi 2020, JMLR 21: deep-network rates with d -> d'; kNN and
    rotation-invariant kernels see exactly the d'-dimensional problem).

    Parameters
    ----------
    base : RegressionTarget
        The target in its own coordinates z; its sigma is this target's.
    ambient_dim : int
        D >= base.dim.
    seed : int
        Seeds U.

    Attributes
    ----------
    basis : Tensor, shape (D, d')
        U.

    Examples
    --------
    >>> t = SubspaceTarget(LinearTarget(2), 5)
    >>> t.dim, t.intrinsic_dim
    (5, 2)
    """

    def __init__(self, base: RegressionTarget, ambient_dim: int, *, seed: int = 0):
        if not isinstance(base, RegressionTarget):
            raise ValueError(f"base must be a RegressionTarget, got {type(base).__name__}")
        ambient_dim = check_positive_int("ambient_dim", ambient_dim)
        if ambient_dim < base.dim:
            raise ValueError(f"ambient_dim must be >= base.dim = {base.dim}, got {ambient_dim}")
        super().__init__(ambient_dim, sigma=base.sigma)
        self.base, self.seed = base, seed
        self.name = base.name
        self.intrinsic_dim = base.intrinsic_dim
        self.smoothness = base.smoothness
        self.basis = torch.as_tensor(random_orthonormal(ambient_dim, base.dim, seed), dtype=_DTYPE)   # (D, d')
        self.input_law = f"x = z U^T on a random {base.dim}-dimensional subspace of R^{ambient_dim}, z {base.input_law}"

    def sample_x(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.base.sample_x(n, generator) @ self.basis.T                 # (n, d') @ (d', D)

    def f(self, x) -> torch.Tensor:
        return self.base.f(self._check_x(x) @ self.basis)                      # (n, D) @ (D, d')

    def second_moment(self) -> float:
        return self.base.second_moment()

    def describe(self) -> dict:
        out = {**self.base.describe(), **super().describe()}
        out.update(ambient_dim=self.dim, subspace_seed=self.seed)
        return out


def _he2(z: torch.Tensor) -> torch.Tensor:
    return (z * z - 1.0) / math.sqrt(2.0)


def _relu_centred(z: torch.Tensor) -> torch.Tensor:
    return torch.relu(z) - 1.0 / math.sqrt(2.0 * math.pi)


def _tanh_second_moment() -> float:
    z, w = hermegauss(_HERMITE_NODES)                  # weight exp(-z^2/2), total mass sqrt(2 pi)
    return float((w * np.tanh(z) ** 2).sum() / math.sqrt(2.0 * math.pi))


_LINK_FN = {"he2": _he2, "relu": _relu_centred, "tanh": torch.tanh}
#: E link(Z)^2, Z ~ N(0, 1): E (Z^2 - 1)^2 / 2 = (3 - 2 + 1)/2; E relu(Z)^2 - (E relu Z)^2 = 1/2 - 1/(2 pi)
_LINK_SECOND_MOMENT = {"he2": lambda: 1.0, "relu": lambda: 0.5 - 1.0 / (2.0 * math.pi), "tanh": _tanh_second_moment}
#: the first k >= 1 with E[link(Z) He_k(Z)] != 0 (Ben Arous, Gheissari & Jagannath 2021)
_INFORMATION_EXPONENT = {"he2": 2, "relu": 1, "tanh": 1}
#: relu is Lipschitz with a kink (Hölder 1, no better); he2 and tanh are analytic
_LINK_SMOOTHNESS = {"he2": math.inf, "relu": 1.0, "tanh": math.inf}


def _unit_vectors(rng: np.random.Generator, k: int, d: int) -> np.ndarray:
    v = rng.standard_normal((k, d))
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class SingleIndexTarget(RegressionTarget):
    r"""f*(x) = link(<w*, x>), x ~ N(0, I_d), w* uniform on the unit sphere (seeded).

    Links, each centred (E link(Z) = 0 for Z ~ N(0, 1)):

    - ``he2``: (z^2 - 1)/sqrt 2, the normalised second Hermite polynomial: information
      exponent 2 (Ben Arous, Gheissari & Jagannath 2021), the link of Ba, Erdogdu, Suzuki,
      Wang, Wu & Yang 2022 ("High-dimensional asymptotics of feature learning: how one
      gradient step improves the representation", NeurIPS); E f*^2 = (E Z^4 - 2 E Z^2 + 1)/2 = 1.
    - ``relu``: relu(z) - 1/sqrt(2 pi); E f*^2 = E relu(Z)^2 - (E relu Z)^2 = 1/2 - 1/(2 pi).
    - ``tanh``: E f*^2 = E tanh(Z)^2 by 200-node Gauss-Hermite quadrature (accurate to ~1e-15).

    <w*, X> ~ N(0, 1) because |w*| = 1, so these are the moments of f*(X).

    Parameters
    ----------
    d : int
    link : {"he2", "relu", "tanh"}
    sigma : float, >= 0
    seed : int
        Seeds w*.

    Attributes
    ----------
    w_star : Tensor, shape (d,)

    Examples
    --------
    >>> t = SingleIndexTarget(3, link="he2")
    >>> t.second_moment(), round(float(t.w_star.norm()), 12)
    (1.0, 1.0)
    """

    name = "single_index"
    input_law = "standard Gaussian N(0, I_d)"

    def __init__(self, d: int, *, link: str = "he2", sigma: float = 0.1, seed: int = 0):
        super().__init__(d, sigma=sigma)
        self.link = check_in("link", link, LINKS)
        self.seed = seed
        self.w_star = torch.as_tensor(_unit_vectors(_rng(seed), 1, self.dim)[0], dtype=_DTYPE)   # (d,)
        self.smoothness = _LINK_SMOOTHNESS[link]

    def sample_x(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(self._check_n(n), self.dim, generator=generator, dtype=_DTYPE)

    def f(self, x) -> torch.Tensor:
        return _LINK_FN[self.link](self._check_x(x) @ self.w_star)

    def second_moment(self) -> float:
        return _LINK_SECOND_MOMENT[self.link]()

    def describe(self) -> dict:
        out = super().describe()
        out.update(link=self.link, information_exponent=_INFORMATION_EXPONENT[self.link], seed=self.seed)
        return out


class TeacherTarget(RegressionTarget):
    r"""A two-layer ReLU teacher f*(x) = width^{-1/2} sum_j a_j relu(<w_j, x>), x ~ N(0, I_d).

    w_j uniform on the unit sphere and a_j = +-1 with probability 1/2, all from ``seed``.

    Second moment (Cho & Saul 2009, "Kernel methods for deep learning", NIPS): for unit
    u, v at angle t, E relu(<u, X>) relu(<v, X>) = (sin t + (pi - t) cos t) / (2 pi) =
    k_1(u, v) / 2 with k_1 the arc-cosine kernel of order 1 (`genlab.kernels.arccos_kernel`),
    so

        E f*(X)^2 = a^T K a / (2 width),   K_jl = k_1(w_j, w_l)   (K_jj = 1: E relu(Z)^2 = 1/2).

    f* is not centred: E f* = width^{-1/2} sum_j a_j / sqrt(2 pi).

    Parameters
    ----------
    d : int
    width : int
        The teacher's hidden units.
    sigma : float, >= 0
    seed : int

    Attributes
    ----------
    W : Tensor, shape (width, d)
        Rows w_j.
    a : Tensor, shape (width,)

    Examples
    --------
    >>> t = TeacherTarget(3, width=1)
    >>> round(t.second_moment(), 12)   # one neuron: E relu(Z)^2 = 1/2
    0.5
    """

    name = "teacher"
    input_law = "standard Gaussian N(0, I_d)"

    def __init__(self, d: int, *, width: int = 4, sigma: float = 0.1, seed: int = 0):
        super().__init__(d, sigma=sigma)
        self.width = check_positive_int("width", width)
        self.seed = seed
        rng = _rng(seed)
        self.W = torch.as_tensor(_unit_vectors(rng, self.width, self.dim), dtype=_DTYPE)          # (m, d)
        self.a = torch.as_tensor(rng.choice([-1.0, 1.0], size=self.width), dtype=_DTYPE)          # (m,)
        self.smoothness = 1.0                   # Lipschitz, piecewise linear

    def sample_x(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(self._check_n(n), self.dim, generator=generator, dtype=_DTYPE)

    def f(self, x) -> torch.Tensor:
        return torch.relu(self._check_x(x) @ self.W.T) @ self.a / math.sqrt(self.width)      # (n, m) @ (m,)

    def second_moment(self) -> float:
        K = arccos_kernel(self.W, order=1)                                                     # (m, m)
        return float(self.a @ K @ self.a / (2.0 * self.width))

    def describe(self) -> dict:
        out = super().describe()
        out.update(width=self.width, seed=self.seed)
        return out


class LinearTarget(RegressionTarget):
    r"""f*(x) = <beta, x>, x ~ N(0, I_d), beta ~ N(0, I_d / d) drawn once from ``seed``.

    E f*(X)^2 = |beta|^2 (about 1).  Least squares without intercept on n > d + 1 points
    has E excess risk sigma^2 d / (n - d - 1) (the mean of an inverse Wishart: E tr
    (X^T X)^{-1} = d / (n - d - 1)).

    Examples
    --------
    >>> t = LinearTarget(4)
    >>> bool(abs(t.second_moment() - float(t.beta @ t.beta)) == 0)
    True
    """

    name = "linear"
    input_law = "standard Gaussian N(0, I_d)"

    def __init__(self, d: int, *, sigma: float = 0.1, seed: int = 0):
        super().__init__(d, sigma=sigma)
        self.seed = seed
        self.beta = torch.as_tensor(_rng(seed).standard_normal(self.dim) / math.sqrt(self.dim), dtype=_DTYPE)

    def sample_x(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(self._check_n(n), self.dim, generator=generator, dtype=_DTYPE)

    def f(self, x) -> torch.Tensor:
        return self._check_x(x) @ self.beta

    def second_moment(self) -> float:
        return float(self.beta @ self.beta)

    def describe(self) -> dict:
        out = super().describe()
        out.update(seed=self.seed)
        return out


def make_target(name: str, *, d: int, s: float = 1.0, sigma: float = 0.1, link: str = "he2",
                teacher_width: int = 4, ambient_dim: int | None = None, seed: int = 0) -> RegressionTarget:
    """The target ``name`` (one of `TARGETS`) in dimension d, embedded in R^ambient_dim if that is > d.

    ``s`` is read by "smooth", ``link`` by "single_index", ``teacher_width`` by "teacher";
    all are checked whatever the target.  With ``ambient_dim`` > d the target is wrapped
    in a `SubspaceTarget` whose basis is seeded by ``derive_seed(seed, "regression_subspace")``
    (a stream apart from f*'s own parameters); None or d means no embedding.

    Examples
    --------
    >>> t = make_target("smooth", d=2, s=0.5, ambient_dim=4)
    >>> type(t).__name__, t.dim, t.intrinsic_dim, t.smoothness
    ('SubspaceTarget', 4, 2, 0.5)
    """
    check_in("name", name, TARGETS)
    check_in("link", link, LINKS)
    d = check_positive_int("d", d)
    s = check_positive("s", s)
    sigma = check_nonnegative("sigma", sigma)
    teacher_width = check_positive_int("teacher_width", teacher_width)
    if ambient_dim is not None:
        ambient_dim = check_positive_int("ambient_dim", ambient_dim)
        if ambient_dim < d:
            raise ValueError(f"ambient_dim must be >= d = {d} (or None: no embedding), got {ambient_dim}")
    if name == "smooth":
        base = SmoothTarget(d, s, sigma=sigma, seed=seed)
    elif name == "single_index":
        base = SingleIndexTarget(d, link=link, sigma=sigma, seed=seed)
    elif name == "teacher":
        base = TeacherTarget(d, width=teacher_width, sigma=sigma, seed=seed)
    else:
        base = LinearTarget(d, sigma=sigma, seed=seed)
    if ambient_dim is None or ambient_dim == d:
        return base
    return SubspaceTarget(base, ambient_dim, seed=derive_seed(seed, "regression_subspace"))
