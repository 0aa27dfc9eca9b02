"""Bandwidth rules for the isotropic Gaussian KDE (kernel N(0, h^2 I_d) on raw data).

Every rule returns the scalar h of `genlab.baselines.kde.GaussianKDE`.

* ``scott``      h = sigma * n^(-1/(d+4))                 (Scott 1992, "Multivariate Density Estimation", Ch. 6)
* ``silverman``  h = sigma * (n (d+2) / 4)^(-1/(d+4))     (Silverman 1986, "Density Estimation", Ch. 4)
* ``theory``     h = c * n^(-1/(2s+d))                    (Tsybakov 2009, Sec. 1.2)
* ``held_out``   argmax of the held-out log-likelihood    (likelihood cross-validation)

Scott and Silverman are normal-reference rules: Silverman's is the AMISE-
optimal bandwidth when the truth is N(0, sigma^2 I_d) and the kernel Gaussian
(1.06 sigma n^(-1/5) in d = 1); Scott's drops the constant.  The factors equal
scipy's ``gaussian_kde`` ``scott_factor`` and ``silverman_factor``.  Since
the kernel here is isotropic, sigma is one scale for all coordinates: the root
mean of the marginal variances (ddof = 1), sigma^2 = trace(Cov) / d.  No robust
(IQR) correction is applied.
"""

from __future__ import annotations

import math

import torch

from genlab.core.validation import check_in, check_points, check_positive, check_positive_int

__all__ = ["scott", "silverman", "theory", "held_out", "data_scale"]


def data_scale(x_train) -> float:
    """sigma = sqrt(trace(Cov(x_train)) / d), the covariance with ddof = 1.

    >>> data_scale(torch.tensor([[0.0, 0.0], [2.0, 2.0]]))
    1.4142135623730951
    """
    x = check_points("x_train", x_train).to(torch.float64)
    if x.shape[0] < 2:
        raise ValueError(f"x_train needs at least 2 points for a scale estimate, got {x.shape[0]}")
    sigma = math.sqrt(float(x.var(dim=0, correction=1).mean()))
    if not sigma > 0:
        raise ValueError("x_train has zero variance (all points equal): no data scale for a bandwidth rule")
    return sigma


def scott(x_train) -> float:
    """Scott's rule h = sigma n^(-1/(d+4)), shape of ``x_train`` (n, d).

    >>> round(scott(torch.tensor([[-1.0], [1.0]])), 12) == round(2 ** 0.5 * 2 ** (-1 / 5), 12)
    True
    """
    x = check_points("x_train", x_train)
    n, d = x.shape
    return data_scale(x) * n ** (-1.0 / (d + 4))


def silverman(x_train) -> float:
    """Silverman's rule h = sigma (n (d + 2) / 4)^(-1/(d+4)), the Gaussian-reference AMISE optimum."""
    x = check_points("x_train", x_train)
    n, d = x.shape
    return data_scale(x) * (n * (d + 2) / 4.0) ** (-1.0 / (d + 4))


def theory(n: int, d: int, *, s: float, c: float = 1.0) -> float:
    """Minimax bandwidth h = c n^(-1/(2s+d)) for a density of smoothness s on [-1, 1]^d.

    Balancing the bias O(h^s) against the stochastic term (n h^d)^(-1/2) in
    L1 gives the TV rate n^(-s/(2s+d)) (Tsybakov 2009, "Introduction to
    Nonparametric Estimation", Sec. 1.2: the variance and Hölder-bias bounds
    of the kernel estimator, there pointwise and in d = 1; the same balance
    holds in d dimensions).  A Gaussian kernel has
    order 2, so its bias is O(h^min(s, 2)); for s > 2 the rule still
    follows the formula, but the attainable rate stops at s = 2.  ``c`` is in
    the data's units (c = 1 suits a truth on [-1, 1]^d).

    >>> round(theory(2 ** 10, 1, s=2.0), 12)  # 1024^(-1/5)
    0.25
    """
    n = check_positive_int("n", n)
    d = check_positive_int("d", d)
    if s is None:
        raise ValueError('s is required for the "theory" bandwidth: give the smoothness of the density')
    s = check_positive("s", s)
    c = check_positive("c", c)
    return c * n ** (-1.0 / (2.0 * s + d))


def held_out(x_train, *, val_fraction: float = 0.2, generator: torch.Generator | None = None,
             grid=None, n_grid: int = 20, span: tuple[float, float] = (1e-2, 3.0),
             n_refine: int = 7, boundary: str = "none", bounds=None) -> float:
    """The h maximising the mean held-out log-likelihood, by a grid search over log h.

    The n points are split at random (``generator``; a fixed seed 0 when
    None, so the choice is deterministic) into a validation part of
    ``round(val_fraction * n)`` points and a fitting part; a KDE is fitted on
    the fitting part for each h and scored by (1/n_val) sum log p_h(x_val).
    The default grid is ``n_grid`` log-spaced values over
    ``span`` x silverman(fitting part), widened (at most 4 times, by the span's
    ratio) while the best value sits on its edge, then refined by ``n_refine``
    points between the best value's neighbours.  The caller refits on all n
    points with the returned h (`make_kde` does): h tuned on (1 - f) n points
    is larger than the all-n optimum by about (1 - f)^(-1/(d+4)) (4 % for
    f = 0.2, d = 1), which is left uncorrected.

    Parameters
    ----------
    x_train : shape (n, d), n >= 2
    val_fraction : float in (0, 1)
    generator : torch.Generator, optional
    grid : sequence of float, optional
        Explicit bandwidths to try instead of the default grid (no widening or refining).
    n_grid, span, n_refine
        The default grid, see above.
    boundary, bounds
        As in `GaussianKDE`; the held-out score uses the same estimator.

    Returns
    -------
    float
        The selected h.

    Notes
    -----
    Likelihood cross-validation aims at the Kullback-Leibler-optimal h, not
    the L2 (AMISE) one; for light-tailed truths they are close (Hall 1987,
    "On Kullback-Leibler loss and density estimation", Ann. Statist.).  Data
    with repeated points can put a copy on both sides of the split, which
    drives the likelihood to +inf as h -> 0; that is reported as an error.
    Cost: O(n^2 f (1 - f)) kernel evaluations per grid value.
    """
    from genlab.baselines.kde import GaussianKDE  # kde imports nothing from here

    x = check_points("x_train", x_train).to(torch.float64)
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"x_train needs at least 2 points for a held-out split, got {n}")
    f = check_positive("val_fraction", val_fraction)
    if not f < 1:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction!r}")
    check_in("boundary", boundary, ("none", "reflect"))
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    n_val = min(n - 1, max(1, round(f * n)))
    perm = torch.randperm(n, generator=generator, device=generator.device).to(x.device)
    x_val, x_fit = x[perm[:n_val]], x[perm[n_val:]]

    def score(h: float) -> float:
        kde = GaussianKDE(x_fit, h, boundary=boundary, bounds=bounds)
        return float(kde.log_prob(x_val).mean())

    if grid is not None:
        hs = [check_positive("grid", h) for h in grid]
        if not hs:
            raise ValueError("grid is empty")
        vals = [score(h) for h in hs]
        return hs[max(range(len(hs)), key=vals.__getitem__)]

    n_grid = check_positive_int("n_grid", n_grid)
    if n_grid < 3:
        raise ValueError(f"n_grid must be >= 3, got {n_grid}")
    lo, hi = (check_positive("span", v) for v in span)
    if not lo < hi:
        raise ValueError(f"span must be (low, high) with low < high, got {span!r}")
    h_ref = silverman(x_fit) if x_fit.shape[0] >= 2 else data_scale(x)
    log_h = torch.linspace(math.log(lo * h_ref), math.log(hi * h_ref), n_grid, dtype=torch.float64).tolist()
    vals = [score(math.exp(t)) for t in log_h]
    widen = math.log(hi / lo)
    for _ in range(4):
        k = max(range(len(vals)), key=vals.__getitem__)
        if 0 < k < len(vals) - 1:
            break
        # The optimum may lie beyond the grid: extend it on that side.
        step = log_h[1] - log_h[0]
        extra = torch.arange(1, int(widen / step) + 1, dtype=torch.float64) * step
        new = (log_h[0] - extra).flip(0).tolist() if k == 0 else (log_h[-1] + extra).tolist()
        new_vals = [score(math.exp(t)) for t in new]
        log_h, vals = (new + log_h, new_vals + vals) if k == 0 else (log_h + new, vals + new_vals)
    else:
        k = max(range(len(vals)), key=vals.__getitem__)
        if k in (0, len(vals) - 1):
            raise ValueError(
                f"held-out log-likelihood of x_train is still best at the grid's edge h = {math.exp(log_h[k]):.3g} "
                "(repeated points across the split?); give an explicit grid or bandwidth")
    fine = torch.linspace(log_h[k - 1], log_h[k + 1], n_refine + 2, dtype=torch.float64)[1:-1].tolist()
    cands = [log_h[k]] + fine
    cand_vals = [vals[k]] + [score(math.exp(t)) for t in fine]
    return math.exp(cands[max(range(len(cands)), key=cand_vals.__getitem__)])
