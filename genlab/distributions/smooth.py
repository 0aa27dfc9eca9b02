r"""A density on [-1, 1]^d of exactly controlled smoothness s, rough at every scale.

The setting of Oko, Akiyama & Suzuki (2023, "Diffusion models are minimax
optimal distribution estimators", ICML, Sec. 2 and main theorems): the true
density lies in a Besov ball B^s_{p,q}([-1, 1]^d) and is bounded above and
below on the cube; the minimax rate in TV is n^{-s/(2s+d)} up to logs.  To
measure that rate the truth must have smoothness exactly s -- not more, at any
scale the estimator resolves -- which a lacunary (Weierstrass-type) series
gives.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from genlab.distributions.base import Distribution
from genlab.distributions.lacunary import lacunary_series

__all__ = ["SmoothDensity"]

# Values of g are computed in chunks of this many points, so that the (points, J)
# intermediate stays small whatever n is.
_CHUNK = 1 << 16


class SmoothDensity(Distribution):
    r"""Product density ``p(x) = prod_i g(x_i) / 2`` on ``[-1, 1]^d`` with smoothness s.

    .. math::

        g(u) = 1 + \sum_{j=0}^{J-1} b_j \cos(2^j \pi u + \varphi_j), \qquad
        b_j = a\, 2^{-js} / c_s, \qquad c_s = \sum_{j=0}^{J-1} 2^{-js}.

    Bounds and normalisation.  ``sum_j b_j = a``, so ``|g - 1| <= a < 1`` and
    ``p`` lies in ``[(1-a)^d / 2^d, (1+a)^d / 2^d]``.  Each cosine has period
    ``2^{1-j}``, which divides 2, so it integrates to exactly 0 over
    [-1, 1]: ``int g = 2`` and ``p`` integrates to 1 with no numerical
    normalising constant.  All terms have period 2, so ``p`` is the
    restriction of a periodic function: a density on the torus
    (R / 2Z)^d.  On R^d (0 outside the cube) it jumps at the faces, like
    :class:`~genlab.distributions.uniform.Uniform`; ``smoothness`` reports the
    smoothness on the cube (equivalently the torus), the class of Oko et al.
    (Unlike their assumption of extra smoothness near the boundary, this density
    is as rough near the faces as inside.)

    Why the smoothness is exactly s.  The Besov space B^s_{inf,inf} (the
    Hölder-Zygmund class; Hölder C^s for non-integer s) is characterised by
    ``sup_j 2^{js} ||Delta_j f||_inf < inf``, with ``Delta_j`` the
    Littlewood-Paley block at frequency ~2^j.  The series is lacunary: block
    j holds the single term ``b_j cos(2^j pi u + phi_j)``, whose sup norm is
    ``b_j ∝ 2^{-js}`` -- of order 2^{-js} at *every* dyadic scale.  The upper
    bound puts g in B^s_{inf,inf} (and in B^s_{p,inf} for every p, since a
    cosine's L^p norm on a period is a constant); the matching lower bound
    keeps it out of every B^{s'} with s' > s.  For 0 < s < 1 this is Hardy's
    theorem (1916) on the Weierstrass function: Hölder of order s and
    nowhere of any higher order.  In d dimensions, ``p`` is a product of
    bounded B^s functions of one coordinate each, hence in
    B^s_{inf,inf}([-1,1]^d) (an algebra for s > 0); its restriction to a line
    parallel to an axis is a multiple of g, so it is in no higher class.

    Truncation.  The sum stops at ``J = n_terms`` terms, so strictly the
    density is a trigonometric polynomial (analytic).  It coincides with the
    infinite series up to ``a 2^{-Js} / (c_s (1 - 2^{-s}))`` in sup norm and
    is indistinguishable from it at resolutions coarser than 2^{-J}: the
    rates of an estimator whose bandwidth or resolution h_n satisfies
    ``h_n >> 2^{-J}`` (6e-8 for the default J = 24) see smoothness s.  In
    float64, terms with ``2^{-js} < 1e-16`` (``j > 53 / s``) are below
    rounding, so for large s the effective J is ``min(J, 53 / s)``.

    Parameters
    ----------
    dim : int
        d.
    s : float, > 0
        Smoothness.
    amplitude : float in [0, 1)
        a: sup |g - 1|; a = 0 is the uniform law.
    n_terms : int
        J, the number of dyadic frequencies 2^0, ..., 2^{J-1}.
    seed : int
        Seeds the phases ``phi_j ~ U[0, 2 pi)`` (numpy ``PCG64``).

    Examples
    --------
    >>> p = SmoothDensity(1, s=0.5, n_terms=8)
    >>> round(float(p.marginal_cdf(torch.tensor(1.0))), 12)
    1.0
    >>> c = p.coefficients
    >>> round(float(c["amplitudes"].sum()), 12)  # = amplitude
    0.5
    """

    has_density = True

    def __init__(self, dim: int, s: float, *, amplitude: float = 0.5, n_terms: int = 24,
                 seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: torch.device | str = "cpu"):
        super().__init__(dim, dtype=dtype, device=device)
        series = lacunary_series(s, amplitude, n_terms, seed)
        self.s, self.amplitude, self.n_terms, self.seed = series.s, series.amplitude, series.n_terms, series.seed
        self.smoothness = self.s
        self.support = f"[-1, 1]^{self.dim}"
        self.low, self.high = -1.0, 1.0  # the cube [low, high]^d, as for Uniform
        self.c_s = series.c_s
        phases = series.phases
        kw = dict(dtype=self.dtype, device=self.device)
        self._amp = torch.as_tensor(series.amplitudes, **kw)           # b_j, (J,)
        self._freq = torch.as_tensor(2.0 ** np.arange(self.n_terms), **kw)  # 2^j, (J,)
        self._phase = torch.as_tensor(phases, **kw)                     # phi_j, (J,)

    @property
    def coefficients(self) -> dict[str, torch.Tensor]:
        """The series ``g(u) = 1 + sum_j amplitudes[j] cos(pi frequencies[j] u + phases[j])``.

        Returns
        -------
        dict with ``amplitudes`` (J,) = a 2^{-js} / c_s, ``frequencies`` (J,) = 2^j,
        ``phases`` (J,) in [0, 2 pi).
        """
        return {"amplitudes": self._amp.clone(), "frequencies": self._freq.clone(),
                "phases": self._phase.clone()}

    # -- the one-dimensional factor ------------------------------------------
    def _angles(self, u: torch.Tensor) -> torch.Tensor:
        # 2^j u is exact in binary floating point; reducing it mod 2 (also exact)
        # before multiplying by pi keeps the phase accurate to ~1e-16 even for
        # 2^j = 2^23, where pi * 2^j * u would lose ~1e-9.
        t = torch.remainder(u[:, None] * self._freq, 2.0)                   # (m, J)
        return math.pi * t + self._phase

    def _chunked(self, fn, u: torch.Tensor) -> torch.Tensor:
        if u.shape[0] <= _CHUNK:
            return fn(u)
        return torch.cat([fn(c) for c in u.split(_CHUNK)])

    def g(self, u) -> torch.Tensor:
        """The factor ``g(u)`` (twice the marginal density on [-1, 1]), elementwise."""
        u = torch.as_tensor(u, dtype=self.dtype, device=self.device)
        flat = u.reshape(-1)
        out = self._chunked(lambda c: 1.0 + torch.cos(self._angles(c)) @ self._amp, flat)
        return out.reshape(u.shape)

    def g_prime(self, u) -> torch.Tensor:
        """``g'(u) = -sum_j b_j pi 2^j sin(2^j pi u + phi_j)``, elementwise."""
        u = torch.as_tensor(u, dtype=self.dtype, device=self.device)
        w = math.pi * self._freq * self._amp
        out = self._chunked(lambda c: -(torch.sin(self._angles(c)) @ w), u.reshape(-1))
        return out.reshape(u.shape)

    def marginal_cdf(self, u) -> torch.Tensor:
        r"""CDF of one coordinate, elementwise (0 below -1, 1 above 1).

        ``F(u) = (u + 1)/2 + sum_j b_j [sin(2^j pi u + phi_j) - sin(-2^j pi + phi_j)] / (2^{j+1} pi)``.
        """
        u = torch.as_tensor(u, dtype=self.dtype, device=self.device)
        uc = u.reshape(-1).clamp(-1.0, 1.0)
        w = self._amp / (2.0 * math.pi * self._freq)
        # sin(-2^j pi + phi_j) = sin(phi_j) for j >= 1 and -sin(phi_0) for j = 0.
        start = torch.sin(self._phase) * torch.where(self._freq == 1.0, -1.0, 1.0)
        out = self._chunked(lambda c: (c + 1.0) / 2.0 + (torch.sin(self._angles(c)) - start) @ w, uc)
        # rounding can leave F(-1) at -1e-18; a CDF stays in [0, 1]
        return out.clamp(0.0, 1.0).reshape(u.shape)

    # -- density ---------------------------------------------------------------
    def log_prob(self, x) -> torch.Tensor:
        """Exact ``sum_i log(g(x_i) / 2)`` on the closed cube, ``-inf`` outside; shape (n,)."""
        x = self._check_x(x)
        inside = ((x >= -1.0) & (x <= 1.0)).all(dim=1)
        lp = torch.log(self.g(x) / 2.0).sum(1)
        return torch.where(inside, lp, torch.full_like(lp, -math.inf))

    def score(self, x) -> torch.Tensor:
        """Closed-form score ``g'(x_i) / g(x_i)`` per coordinate in the cube, NaN outside; (n, d).

        On the faces the density jumps (it is 0 outside); the value there is
        the limit from inside.
        """
        x = self._check_x(x)
        inside = ((x >= -1.0) & (x <= 1.0)).all(dim=1, keepdim=True)
        sc = self.g_prime(x) / self.g(x)
        return torch.where(inside, sc, torch.full_like(sc, math.nan))

    # -- sampling --------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Exact samples, shape (n, d), by rejection per coordinate.

        The coordinates are i.i.d. with density g/2 on [-1, 1]; a proposal
        u ~ U[-1, 1] is accepted with probability g(u) / (1 + a) <= 1
        (acceptance rate 1 / (1 + a)).  Each round proposes, in one batch,
        a few more than the expected number still needed.
        """
        n = self._check_n(n)
        m = n * self.dim
        out = torch.empty(m, dtype=self.dtype, device=self.device)
        filled = 0
        kw = dict(generator=generator, dtype=self.dtype, device=self.device)
        while filled < m:
            need = m - filled
            k = int(need * (1.0 + self.amplitude) * 1.1) + 64
            u = 2.0 * torch.rand(k, **kw) - 1.0
            v = torch.rand(k, **kw)
            take = u[v * (1.0 + self.amplitude) < self.g(u)][:need]
            out[filled:filled + take.shape[0]] = take
            filled += take.shape[0]
        return out.reshape(n, self.dim)

    def describe(self) -> dict:
        out = super().describe()
        out.update(s=self.s, amplitude=self.amplitude, n_terms=self.n_terms, seed=self.seed)
        return out
