"""W1 between two known densities on a grid: no sampling noise, a stated discretisation error.

The plug-in W1 between two m-samples carries a noise floor of order m^(-1/2) (up to
logs) in d = 2, above the error of the models a rate sweep fits. When both
log-densities are known pointwise (the truth's; a KDE's; a diffusion model's through
its probability-flow ODE) and d <= 3, :func:`grid_w1` computes W1 between
the two laws pushed onto the centres of a grid of cells, exactly, and returns the
value with a bound on its distance to W1(p, q) that holds without any randomness.

References
----------
Villani, *Optimal Transport: Old and New* (2009), Thm. 5.10 and Remark 6.5
(Kantorovich-Rubinstein duality W1(mu, nu) = sup_{Lip f <= 1} int f d(mu - nu)).
Peyre & Cuturi, *Computational Optimal Transport* (2019), Ch. 6 (W1 as a dual norm of
zero-mass signed measures; Beckmann's flow formulation on R^d and on graphs).
Abramowitz & Stegun, *Handbook of Mathematical Functions* (1964), Sec. 25.4 (the
remainder of the k-point Gauss-Legendre rule).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ._validation import (
    _to_numpy,
    check_callable,
    check_nonnegative,
    check_positive_int,
    log_density_values,
)
from .estimate import Estimate
from .wasserstein import wasserstein

__all__ = ["grid_w1", "GridW1", "MAX_DIM"]

#: Largest dimension accepted: the grid has N^d cells and the density is evaluated k^d times in each.
MAX_DIM = 3


@dataclass(frozen=True)
class GridW1:
    """The result of :func:`grid_w1`: W1 on a grid with the terms of its error.

    Attributes
    ----------
    value : float
        W1 between the two discrete measures (quadrature cell masses at the cell centres).
    bound : float
        ``quantisation_bound + tail_bound + quadrature_estimate``: |value - W1(p, q)| is
        at most this, proven for the first two terms under their stated assumptions,
        estimated for the third (see :func:`grid_w1`).
    quantisation_bound : float
        diag(cell) * TV_B: the proven error of pushing both laws onto the cell centres,
        with TV_B the upper bound of TV(p_B, q_B) derived from ``tv_bound``.
    tail_bound : float
        (eps_p + eps_q) (R_B + R_out): the error of dropping the mass outside the box.
    quadrature_estimate : float
        A-posteriori ESTIMATE (not a bound) of the error from the cell masses' quadrature.
    refinement_estimate : float
        |value - W1 on the grid of merged 2^d-cell blocks| (same evaluations, N_j / 2 cells):
        an ESTIMATE of the whole discretisation error, realistic where ``bound`` is a worst
        case; ``nan`` unless every N_j is even.
    tv_grid : float
        TV between the two discrete measures (by data processing a lower bound of
        TV(p_B, q_B), up to the quadrature error): a ``tv_bound`` far below it is wrong.
    mass_p, mass_q : float
        The quadrature's total of each density over the box; 1 - mass is the mass
        outside the box (eps_p, eps_q, clipped at 0) for normalised densities.
    n_evaluations : int
        Evaluations of EACH log-density: prod(n_cells) * n_nodes^d.
    n_cells : tuple of int
        Cells per axis.
    cell_sides : tuple of float
        Side h_j of a cell along each axis.
    n_support : int
        Cells where the two discrete measures differ (the points of the linear program).
    note : str
        How the value was obtained.
    """

    value: float
    bound: float
    quantisation_bound: float
    tail_bound: float
    quadrature_estimate: float
    refinement_estimate: float
    tv_grid: float
    mass_p: float
    mass_q: float
    n_evaluations: int
    n_cells: tuple
    cell_sides: tuple
    n_support: int
    note: str = ""

    def __post_init__(self) -> None:
        # Plain python numbers, so that printing and JSON never see numpy scalars.
        for name in ("value", "bound", "quantisation_bound", "tail_bound", "quadrature_estimate",
                     "refinement_estimate", "tv_grid", "mass_p", "mass_q"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "n_evaluations", int(self.n_evaluations))
        object.__setattr__(self, "n_support", int(self.n_support))

    def as_estimate(self) -> Estimate:
        """An :class:`~metrics.estimate.Estimate`: value, floor = ``bound``, [value - bound, value + bound].

        The interval is a deterministic bracket (partly estimated), not a statistical one.
        """
        lo, hi = max(self.value - self.bound, 0.0), self.value + self.bound
        return Estimate(self.value, floor=self.bound, ci_low=lo, ci_high=hi, floor_std=0.0,
                        note=self.note + "; [ci_low, ci_high] = value -+ bound (deterministic)")


def _gl_constant(k: int) -> float:
    """c_k with int_0^h f - GL_k(f) = c_k h^(2k+1) f^(2k)(xi): (k!)^4 / ((2k+1) ((2k)!)^3)."""
    return math.factorial(k) ** 4 / ((2 * k + 1) * math.factorial(2 * k) ** 3)


def _as_box(bounds: Any) -> np.ndarray:
    b = _to_numpy("bounds", bounds)
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] == 0:
        raise ValueError(f"bounds must be (low, high) or one (low_j, high_j) row per axis, shape (d, 2); "
                         f"got shape {b.shape}")
    if b.shape[0] > MAX_DIM:
        raise ValueError(f"bounds has {b.shape[0]} axes; grid_w1 needs d <= {MAX_DIM} (the grid has "
                         f"N^d cells and N^d k^d density evaluations); use samples in higher d")
    if not np.isfinite(b).all():
        raise ValueError("bounds contains NaN or inf; the box must be finite")
    if not (b[:, 1] > b[:, 0]).all():
        raise ValueError(f"bounds must have low < high on every axis, got {b.tolist()}")
    return np.ascontiguousarray(b)


def _as_cells(n_cells: Any, d: int) -> tuple[int, ...]:
    if np.ndim(n_cells) == 0:
        return (check_positive_int("n_cells", n_cells),) * d
    cells = list(np.asarray(n_cells).ravel()) if not isinstance(n_cells, (list, tuple)) else list(n_cells)
    if len(cells) != d:
        raise ValueError(f"n_cells must be an int or one int per axis ({d}), got {len(cells)} values")
    return tuple(check_positive_int("n_cells", n) for n in cells)


def _log_density_on(name: str, f: Callable, pts: np.ndarray, chunk: int) -> np.ndarray:
    """f on the rows of pts (M, d), in calls of at most ``chunk`` rows; (M,) float64."""
    out = np.empty(pts.shape[0])
    for s in range(0, pts.shape[0], chunk):
        block = pts[s : s + chunk]
        v = log_density_values(name, f(block), block.shape[0])
        if np.isnan(v).any() or (v == np.inf).any():
            raise ValueError(f"{name} returned NaN or +inf (log-densities may be -inf, never NaN or +inf)")
        out[s : s + chunk] = v
    return out


def _cell_masses(name: str, f: Callable, axes_nodes, axes_weights, cells, k: int, chunk: int) -> np.ndarray:
    """Tensor Gauss-Legendre masses of exp(f) on every cell, shape ``cells``."""
    d = len(cells)
    grids = np.meshgrid(*axes_nodes, indexing="ij")
    pts = np.stack([g.ravel() for g in grids], axis=1)  # (prod(N_j k), d)
    dens = np.exp(_log_density_on(name, f, pts, chunk)).reshape([len(a) for a in axes_nodes])
    for j, w in enumerate(axes_weights):
        shape = [1] * d
        shape[j] = w.shape[0]
        dens = dens * w.reshape(shape)
    # (N_0 k, ..., N_{d-1} k) -> (N_0, k, ..., N_{d-1}, k), summed over the within-cell node axes
    mass = dens.reshape([v for n in cells for v in (n, k)]).sum(axis=tuple(range(1, 2 * d, 2)))
    total = float(mass.sum())
    if not math.isfinite(total):
        raise ValueError(f"{name}: the density overflows float64 on the box (log-density > 709)")
    if not total > 0:
        raise ValueError(f"{name}: the density is 0 at every quadrature node in bounds; the box misses its mass")
    return mass


def _discrete_w1(diff: np.ndarray, centres_axes, max_points: int) -> tuple[float, int]:
    """Exact W1 = ||diff||_KR of the zero-mass signed measure ``diff`` on the grid of centres."""
    pos, neg = diff > 0, diff < 0
    n_support = int(pos.sum() + neg.sum())
    mass_pos, mass_neg = float(diff[pos].sum()), float(-diff[neg].sum())
    if n_support == 0 or mass_pos == 0.0 or mass_neg == 0.0:
        return 0.0, n_support
    tv = 0.5 * (mass_pos + mass_neg)
    if diff.ndim == 1:
        # Points on a line: W1 = int |F - G| = sum over gaps of |cumulative diff| * gap, exact.
        h = centres_axes[0][1] - centres_axes[0][0] if len(centres_axes[0]) > 1 else 0.0
        a = np.where(pos, diff / mass_pos, 0.0) - np.where(neg, -diff / mass_neg, 0.0)
        return tv * h * float(np.abs(np.cumsum(a)[:-1]).sum()), n_support
    grids = np.meshgrid(*centres_axes, indexing="ij")
    centres = np.stack([g.ravel() for g in grids], axis=1)  # (prod N_j, d)
    flat = diff.ravel()
    # W1 depends on P - Q only (it is a norm of the signed measure), so the LP runs between its
    # positive and negative parts: disjoint supports, each about half the cells.
    x, y = centres[flat > 0], centres[flat < 0]
    w1 = wasserstein(x, y, p=1, method="exact", weights_x=flat[flat > 0], weights_y=-flat[flat < 0],
                     max_points=max_points)
    return tv * float(w1), n_support


def _quadrature_estimate(diff: np.ndarray, sides, k: int, centre_diam: float) -> tuple[float, float]:
    """Leading-order estimates of ||E_p - E_q||_KR and (1/2) ||E_p - E_q||_1, E the masses' quadrature error.

    Per cell, exact - GL_k = c_k sum_j Delta_j^{2k} P + higher order, Delta_j the central
    difference along axis j (its 2k-th derivative times h_j^{2k} integrated over the cell),
    which is the divergence of the edge fluxes g_j = c_k delta_j^{2k-1} P. Moving |g| across an
    edge costs |g| h_j (Beckmann), an upper bound of the W1 norm of the interior part; the
    fluxes through the box's faces (extrapolated from the nearest window) change the total
    mass, and are charged the centres' diameter. (1/2) ||div g||_1 <= sum |g| bounds the TV part.
    """
    c_k = _gl_constant(k)
    interior, faces, tv_part = 0.0, 0.0, 0.0
    for j, h in enumerate(sides):
        n = diff.shape[j]
        if n < 2 * k:
            return float("nan"), float("nan")
        windows = np.diff(diff, n=2 * k - 1, axis=j)  # (..., n - 2k + 1, ...): window w spans cells w .. w+2k-1
        edge_window = np.clip(np.arange(n - 1) - k + 1, 0, n - 2 * k)  # interior edge e sits between cells e, e+1
        flux = c_k * float(np.abs(np.take(windows, edge_window, axis=j)).sum())
        interior += h * flux
        tv_part += flux
        faces += c_k * float(np.abs(np.take(windows, [0, n - 2 * k], axis=j)).sum())
    return interior + centre_diam * faces, tv_part + faces


def grid_w1(
    log_p: Callable,
    log_q: Callable,
    bounds: Any,
    n_cells: Any = 64,
    n_nodes: int = 1,
    *,
    tv_bound: float = 1.0,
    tail_radius: float | None = None,
    chunk_size: int | None = None,
    max_points: int = 10_000,
) -> GridW1:
    r"""W1(p, q) between two known densities, on a grid, with a bound on its error (d <= 3).

    Method
    ------
    The box B = prod_j [low_j, high_j] is split into prod_j N_j equal cells C_i of sides
    h_j = (high_j - low_j) / N_j, with centres c_i. The mass of each density on each cell
    is computed by the tensor Gauss-Legendre rule with k nodes per axis (k = 1: the
    midpoint rule), from one call of each log-density on all prod_j N_j k nodes (or
    calls of ``chunk_size`` rows). Each mass vector is normalised to 1 on B, giving
    P_i, Q_i. W1 of the two discrete measures sum_i P_i delta_{c_i}, sum_i Q_i delta_{c_i}
    is then solved exactly: W1 is a norm of the signed measure P - Q (Kantorovich-
    Rubinstein), so the linear program (``ot.emd2`` through :func:`metrics.wasserstein`,
    Euclidean cost, float64) runs only between the cells where P > Q and those where
    P < Q (about half the cells each, a quarter of the full cost matrix); in d = 1 by the
    exact formula sum |cumulative (P - Q)| h.

    The error, W1(p, q) against ``value``
    -------------------------------------
    Write eps_p = 1 - p(B), p_B = p 1_B / p(B) (same for q), Q(x) the centre of x's cell,
    and a = p(B), b = q(B).

    1. Tail (``tail_bound``, proven given its assumptions). Coupling p_B's share of p with
       itself and the outside mass with p_B independently, W1(p, p_B) <= E_p[|X - c| ; X
       outside B] + eps_p R_B, c the box centre and R_B = |high - low| / 2 its half
       diagonal. ASSUMPTION: the outside mass of both laws lies on average within
       ``tail_radius`` = R_out of c (default R_B), so W1(p, p_B) <= eps_p (R_out + R_B) and
       |W1(p, q) - W1(p_B, q_B)| <= (eps_p + eps_q)(R_out + R_B). eps_p is the quadrature's
       1 - mass_p, clipped at 0 (a normalised density is assumed), so on a grid that does
       not resolve a density it also holds the quadrature's error in the total mass: a
       ``tail_bound`` far above what the box's margins give says the grid is too coarse.
    2. Quantisation (``quantisation_bound``, proven). For 1-Lipschitz f,
       int f d(Q#p_B - Q#q_B) = int f o Q d(p_B - q_B), and g = f o Q - f has |g| <= delta,
       delta = |x - Q(x)| <= (1/2) sqrt(sum_j h_j^2) the cell's half diagonal. As
       p_B - q_B has zero mass, |int g d(p_B - q_B)| <= (osc g / 2) ||p_B - q_B||_1
       <= delta * 2 TV(p_B, q_B). Taking the sup over f on both sides (duality),
       |W1(Q#p_B, Q#q_B) - W1(p_B, q_B)| <= sqrt(sum_j h_j^2) * TV(p_B, q_B): the error is the
       cell's diagonal times the TV between the laws, not the diagonal alone. The upper
       bound used for TV(p_B, q_B) is TV_B = min(1, (t + |eps_p - eps_q| / 2) / max(a, b)),
       t = ``tv_bound`` >= TV(p, q) (from (1/2) int_B |p/a - q/b| <= ((1/2) int_B |p - q|
       + |a - b| / 2) / a). With the default t = 1 the bound holds for any pair of laws;
       a smaller proven or high-confidence t (e.g. the upper end of the Monte Carlo TV's
       interval) shrinks it in proportion. ``tv_grid`` (a lower bound of TV_B up to the
       quadrature error) shows how much is left.
    3. Quadrature (``quadrature_estimate``, an ESTIMATE, not a proof). Q#p_B has the exact
       cell masses; the rule's are off by E_i = c_k sum_j Delta_j^{2k} P_i + higher order,
       with c_k = (k!)^4 / ((2k+1)((2k)!)^3) (1/24 for the midpoint rule, 1/4320 for k = 2)
       and Delta_j the central difference of the cell masses along axis j: the leading term
       of the Gauss-Legendre error, h_j^{2k} int_{C_i} d^{2k} p / dx_j^{2k}, with the
       derivative read off the neighbouring cells. Because W1 is a norm,
       |W1(P_exact, Q_exact) - W1(P, Q)| <= ||E_p - E_q||_KR, which the flux form of the
       differences bounds by sum over cell edges of |c_k delta_j^{2k-1} (P - Q)| h_j (moving
       mass across an edge of length h_j), plus the centres' diameter times the flux
       through the box's faces (a change of total mass, then renormalised). It vanishes
       when p = q and is O(h^{2k}) for densities that are smooth (C^{2k+2}) and resolved at
       the scale of h; it is unreliable where the grid does not resolve p or q, or where a
       density has a kink or jump inside a cell (align the box with the support edges), and
       ``nan`` when some N_j < 2k. Not a bound: a wrong one is possible for under-resolved
       densities, which is why it is reported apart. The crude alternative,
       diam(B) * (TV(P_exact, P) + TV(Q_exact, Q)), is orders larger.

    So |value - W1(p, q)| <= tail_bound + quantisation_bound + (the quadrature error, of
    which ``quadrature_estimate`` is the estimate) = ``bound``.

    4. ``refinement_estimate`` (an ESTIMATE): the same cell masses summed over blocks of 2^d
       cells give W1 on the grid of sides 2 h_j at no new evaluation; if the error falls
       like h^alpha with alpha >= 1 and keeps its sign, |value - coarse| >= (2^alpha - 1)
       |error| >= |error|. The bound in 2. is a worst case over all pairs of laws (two
       point masses either side of a cell edge attain it up to sqrt(d)); for smooth
       densities resolved by the grid the error is of higher order (second in d = 1, where
       the discrete W1 is the trapezoidal rule for int |F - G| on the cell edges; h^1.5 to
       h^4 measured in d = 2): the measured errors in the tests are 10^2 (2-D) to 10^6
       (1-D) times below ``bound``, and below ``refinement_estimate`` once the grid
       resolves the densities (not on a grid with cells 3 times the narrowest std,
       ``benchmarks/grid_w1_NOTES.md``).

    Parameters
    ----------
    log_p, log_q : callable
        Normalised log-densities: float64 array of shape (M, d) -> shape (M,). -inf (zero
        density) is allowed; NaN and +inf are refused. Each is called once on all nodes
        (or in chunks of ``chunk_size`` rows).
    bounds : array_like, shape (d, 2), or (2,) for d = 1
        The box: one row (low_j, high_j) per axis, low_j < high_j, d <= 3. It should hold
        essentially all the mass of both laws (``mass_p``, ``mass_q`` say how much it holds),
        and its cell edges should fall on a support edge where a density jumps.
    n_cells : int or sequence of d ints, default 64
        Cells per axis N_j (the cell sides are (high_j - low_j) / N_j).
    n_nodes : int, default 1
        Gauss-Legendre nodes per axis per cell, k (1: midpoint rule). The densities are
        evaluated prod_j N_j * k^d times each.
    tv_bound : float in [0, 1], default 1.0
        An upper bound of TV(p, q) for the quantisation bound (1 is always valid).
    tail_radius : float, optional
        An upper bound R_out of the mean distance from the box centre of the mass outside
        the box, for both laws. Default: the box's half diagonal.
    chunk_size : int, optional
        Largest number of points per call of a log-density; default: one call each.
    max_points : int, default 10_000
        Guard on the linear program (as in :func:`metrics.wasserstein`): in d >= 2 the grid
        may have at most 2 * max_points cells, so that the cost matrix between the positive
        and negative parts has at most max_points^2 entries (checked before evaluating).

    Returns
    -------
    GridW1
        ``value``, ``bound`` and its terms, ``tv_grid``, the masses on the box, the number
        of density evaluations and the grid used.

    Examples
    --------
    >>> from scipy import stats
    >>> log_p = lambda x: stats.norm.logpdf(x).sum(axis=1)
    >>> log_q = lambda x: stats.norm.logpdf(x - [0.3, 0.4]).sum(axis=1)   # W1 = |(0.3, 0.4)| = 0.5
    >>> r = grid_w1(log_p, log_q, [(-6, 6.5), (-6, 6.5)], 50,
    ...                      tv_bound=2 * stats.norm.cdf(0.25) - 1)   # TV of the shift
    >>> r.n_evaluations, round(r.value, 6), round(r.bound, 3)   # bound: 0.25 sqrt(2) TV + 0.002
    (2500, 0.5, 0.072)
    """
    check_callable("log_p", log_p)
    check_callable("log_q", log_q)
    box = _as_box(bounds)
    d = box.shape[0]
    cells = _as_cells(n_cells, d)
    k = check_positive_int("n_nodes", n_nodes)
    t = check_nonnegative("tv_bound", tv_bound)
    if t > 1:
        raise ValueError(f"tv_bound must lie in [0, 1] (TV <= 1), got {tv_bound!r}")
    if tail_radius is not None:
        tail_radius = check_nonnegative("tail_radius", tail_radius)
    max_points = check_positive_int("max_points", max_points)
    n_total = math.prod(cells)
    if d >= 2 and n_total > 2 * max_points:
        raise ValueError(f"n_cells: {n_total} cells exceed 2 * max_points = {2 * max_points} (the linear program "
                         f"would hold up to {(n_total // 2) ** 2:.3g} costs); use fewer cells or raise max_points")
    n_eval = n_total * k**d
    chunk = n_eval if chunk_size is None else check_positive_int("chunk_size", chunk_size)

    lengths = box[:, 1] - box[:, 0]
    sides = lengths / np.asarray(cells, dtype=np.float64)
    t_gl, w_gl = np.polynomial.legendre.leggauss(k)
    centres_axes, nodes_axes, weights_axes = [], [], []
    for j in range(d):
        c = box[j, 0] + sides[j] * (np.arange(cells[j]) + 0.5)  # (N_j,)
        centres_axes.append(c)
        nodes_axes.append((c[:, None] + 0.5 * sides[j] * t_gl[None, :]).ravel())  # (N_j k,)
        weights_axes.append(np.tile(0.5 * sides[j] * w_gl, cells[j]))  # (N_j k,)

    mass_p = _cell_masses("log_p", log_p, nodes_axes, weights_axes, cells, k, chunk)
    mass_q = _cell_masses("log_q", log_q, nodes_axes, weights_axes, cells, k, chunk)
    total_p, total_q = float(mass_p.sum()), float(mass_q.sum())
    diff = mass_p / total_p - mass_q / total_q  # (N_0, ..., N_{d-1}), zero total mass
    value, n_support = _discrete_w1(diff, centres_axes, max_points)
    tv_grid = 0.5 * float(np.abs(diff).sum())

    eps_p, eps_q = max(1.0 - total_p, 0.0), max(1.0 - total_q, 0.0)
    half_diag_box = 0.5 * float(np.linalg.norm(lengths))
    r_out = half_diag_box if tail_radius is None else tail_radius
    tail = (eps_p + eps_q) * (r_out + half_diag_box)
    tv_b = min(1.0, (t + 0.5 * abs(eps_p - eps_q)) / (1.0 - min(eps_p, eps_q)))
    quad, tv_slack = _quadrature_estimate(diff, sides, k, float(np.linalg.norm(lengths - sides)))
    if tv_b < tv_grid - (0.0 if math.isnan(tv_slack) else tv_slack) - 1e-12:
        warnings.warn(f"tv_bound: {t:.4g} gives TV(p_B, q_B) <= {tv_b:.4g}, below the TV of the discretised "
                      f"laws, {tv_grid:.4g} (a lower bound up to its estimated quadrature error {tv_slack:.2g}); "
                      f"the quantisation bound is then not proven", UserWarning, stacklevel=2)
    quant = float(np.linalg.norm(sides)) * tv_b
    refine = float("nan")
    if all(n % 2 == 0 for n in cells):
        # The same cell masses summed over 2^d blocks: W1 on the grid of side 2h, no new evaluations.
        coarse = diff.reshape([v for n in cells for v in (n // 2, 2)]).sum(axis=tuple(range(1, 2 * d, 2)))
        coarse_centres = [0.5 * (c[0::2] + c[1::2]) for c in centres_axes]
        refine = abs(value - _discrete_w1(coarse, coarse_centres, max_points)[0])

    grid = "x".join(map(str, cells))
    note = (f"W1 on a {grid} grid over {box.tolist()}, Gauss-Legendre {k}^{d} nodes per cell, "
            f"{n_eval} evaluations per density; bound = quantisation (TV <= {tv_b:.3g}) + tail "
            f"(mass outside {eps_p:.2g}, {eps_q:.2g}) + quadrature estimate")
    return GridW1(value=value, bound=quant + tail + quad, quantisation_bound=quant, tail_bound=tail,
                  quadrature_estimate=quad, refinement_estimate=refine, tv_grid=tv_grid,
                  mass_p=total_p, mass_q=total_q, n_evaluations=n_eval, n_cells=cells,
                  cell_sides=tuple(float(h) for h in sides), n_support=n_support, note=note)
