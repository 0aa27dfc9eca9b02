"""Total variation distance: between known densities, a density and samples, or two samples.

Convention: TV(P, Q) = sup_A |P(A) - Q(A)| = (1/2) int |p - q|, in [0, 1].

=====================  ===============================  =======================================
what is known          function                          estimator
=====================  ===============================  =======================================
two densities, d <= 2  :func:`tv_quadrature`             quadrature on a box (deterministic)
two densities, any d   :func:`tv_monte_carlo`            E_p[(1 - q/p)_+] over samples of p, CI
density and samples    :func:`tv_density_samples`        histogram plug-in TV(p, q_hat), d <= 2
two samples, d <= 2    :func:`tv_histogram`              TV of the binned empirical laws
two samples, any d     :func:`tv_classifier_lower_bound` 2 * balanced accuracy - 1, a LOWER BOUND
=====================  ===============================  =======================================

:func:`total_variation` dispatches on what it is given. Every function returns
an :class:`~metrics.estimate.Estimate`.

References
----------
Tsybakov, *Introduction to Nonparametric Estimation* (2009), Lemma 2.1 (TV identities).
Freedman & Diaconis, "On the histogram as a density estimator: L2 theory", Z. Wahr. 57 (1981).
Lopez-Paz & Oquab, "Revisiting classifier two-sample tests", ICLR 2017.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from scipy import optimize, stats
from scipy.spatial.distance import cdist

from ._validation import (
    as_points,
    as_vector,
    check_callable,
    check_in,
    check_positive_int,
    check_probability,
    log_density_values,
)
from .divergences import mc_mean
from .estimate import Estimate

__all__ = [
    "total_variation",
    "tv_quadrature",
    "tv_monte_carlo",
    "tv_density_samples",
    "tv_histogram",
    "tv_classifier_lower_bound",
    "TV_METHODS",
]

TV_METHODS = ("auto", "quadrature", "monte_carlo", "plugin", "histogram", "classifier")
_GL16 = np.polynomial.legendre.leggauss(16)
_GL6 = np.polynomial.legendre.leggauss(6)


def _call_log(name: str, f: Callable) -> Callable[[np.ndarray], np.ndarray]:
    check_callable(name, f)

    def g(pts: np.ndarray) -> np.ndarray:
        out = log_density_values(name, f(pts), pts.shape[0])
        if np.isnan(out).any() or (out == np.inf).any():
            raise ValueError(f"{name} returned NaN or +inf")
        return out

    return g


def _as_bounds(bounds: Any) -> np.ndarray:
    b = np.asarray(bounds, dtype=np.float64)
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] not in (1, 2):
        raise ValueError(f"bounds must be (lo, hi) or [(lo1, hi1), (lo2, hi2)] for d <= 2, got shape {b.shape}")
    if not np.isfinite(b).all() or not (b[:, 1] > b[:, 0]).all():
        raise ValueError("bounds must be finite with lo < hi")
    return b


def _gl_nodes(lo: np.ndarray, hi: np.ndarray, rule) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (k, r) and weights (k, r) of a Gauss-Legendre rule on each [lo_k, hi_k]."""
    t, w = rule
    half = 0.5 * (hi - lo)
    return (0.5 * (lo + hi))[:, None] + half[:, None] * t[None, :], half[:, None] * w[None, :]


# ----------------------------------------------------------------------------- two densities


def tv_quadrature(log_p: Callable, log_q: Callable, bounds: Any, *, n_grid: int | None = None) -> Estimate:
    """TV between two known densities on a box, by quadrature (d = 1 or 2).

    d = 1: composite 16-point Gauss-Legendre on ``n_grid`` (default 2048)
    panels, with the panels split at the roots of log p - log q (bracketed on
    the panel edges, refined by Brent's method) so that p - q has one sign on
    each piece; TV_box = (1/2) sum over pieces |int (p - q)| is then accurate to
    about machine precision for smooth densities (a double root inside one
    panel is not detected). d = 2: tensor 6-point rule on ``n_grid`` (default
    128) panels per axis applied to |p - q| (error O(h^2) from the kink).

    The mass outside the box, out = (1 - int_box p) + (1 - int_box q), bounds
    the truncation: TV lies in [TV_box, TV_box + out / 2], which is returned as
    (ci_low, ci_high) (a deterministic bracket, not a statistical interval).

    Parameters
    ----------
    log_p, log_q : callable
        Normalised log-densities, (n, d) array -> (n,).
    bounds : (lo, hi) for d = 1, or [(lo1, hi1), (lo2, hi2)] for d = 2
    n_grid : int, optional

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from scipy import stats
    >>> e = tv_quadrature(lambda x: stats.norm.logpdf(x[:, 0]),
    ...                   lambda x: stats.norm.logpdf(x[:, 0], loc=1.0), (-15, 16))
    >>> bool(abs(e.value - (2 * stats.norm.cdf(0.5) - 1)) < 1e-12)
    True
    """
    lp, lq = _call_log("log_p", log_p), _call_log("log_q", log_q)
    b = _as_bounds(bounds)
    d = b.shape[0]
    if d == 1:
        n_grid = check_positive_int("n_grid", 2048 if n_grid is None else n_grid)
        edges = np.linspace(b[0, 0], b[0, 1], n_grid + 1)
        diff = lp(edges[:, None]) - lq(edges[:, None])
        roots = []
        for k in np.nonzero(np.sign(diff[:-1]) * np.sign(diff[1:]) < 0)[0]:
            roots.append(optimize.brentq(lambda t: float(lp(np.array([[t]]))[0] - lq(np.array([[t]]))[0]),
                                         edges[k], edges[k + 1], xtol=1e-15, rtol=4 * np.finfo(float).eps))
        cuts = np.unique(np.concatenate([edges, np.asarray(roots, dtype=np.float64)]))
        nodes, weights = _gl_nodes(cuts[:-1], cuts[1:], _GL16)  # (k, 16)
        pts = nodes.reshape(-1, 1)
        p = np.exp(lp(pts)).reshape(nodes.shape)
        q = np.exp(lq(pts)).reshape(nodes.shape)
        piece = np.sum(weights * (p - q), axis=1)  # int (p - q) on each piece, one sign each
        l1 = float(np.sum(np.abs(piece)))
        mass_p, mass_q = float(np.sum(weights * p)), float(np.sum(weights * q))
        note = f"quadrature on {b.tolist()} (GL16, {len(cuts) - 1} pieces split at {len(roots)} roots)"
    else:
        n_grid = check_positive_int("n_grid", 128 if n_grid is None else n_grid)
        axes = []
        for j in range(2):
            e = np.linspace(b[j, 0], b[j, 1], n_grid + 1)
            nd, wt = _gl_nodes(e[:-1], e[1:], _GL6)
            axes.append((nd.ravel(), wt.ravel()))
        gx, gy = np.meshgrid(axes[0][0], axes[1][0], indexing="ij")
        w2 = np.outer(axes[0][1], axes[1][1]).ravel()
        pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
        p, q = np.exp(lp(pts)), np.exp(lq(pts))
        l1 = float(np.sum(w2 * np.abs(p - q)))
        mass_p, mass_q = float(np.sum(w2 * p)), float(np.sum(w2 * q))
        note = f"quadrature on {b.tolist()} (tensor GL6, {n_grid}^2 panels, O(h^2) kink error)"
    value = 0.5 * l1
    out = max(1.0 - mass_p, 0.0) + max(1.0 - mass_q, 0.0)
    return Estimate(value, ci_low=value, ci_high=min(value + 0.5 * out, 1.0),
                    note=note + f"; [ci_low, ci_high] brackets the mass {out:.2g} outside the box")


def tv_monte_carlo(log_p_x: Any, log_q_x: Any, *, alpha: float = 0.05) -> Estimate:
    """TV = E_p[(1 - q(X)/p(X))_+] by Monte Carlo over samples of p, with a CLT interval.

    The terms lie in [0, 1], so the (1 - alpha) interval mean +- z s / sqrt(N)
    is valid; it is clipped to [0, 1].

    Parameters
    ----------
    log_p_x, log_q_x : array_like, shape (N,)
        Normalised log p and log q at N i.i.d. samples of p.
    alpha : float, default 0.05

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from scipy import stats
    >>> x = stats.norm.rvs(size=100_000, random_state=0)
    >>> e = tv_monte_carlo(stats.norm.logpdf(x), stats.norm.logpdf(x, loc=1.0))
    >>> bool(e.ci_low < 2 * stats.norm.cdf(0.5) - 1 < e.ci_high)
    True
    """
    alpha = check_probability("alpha", alpha)
    lp = as_vector("log_p_x", log_p_x)
    lq = as_vector("log_q_x", log_q_x, lp.shape[0], allow_nonfinite=True)
    if np.isnan(lq).any() or (lq == np.inf).any():
        raise ValueError("log_q_x contains NaN or +inf")
    terms = 1.0 - np.exp(np.minimum(lq - lp, 0.0))  # (1 - q/p)_+ without overflow
    value, lo, hi = mc_mean(terms, alpha)
    return Estimate(value, ci_low=max(lo, 0.0), ci_high=min(hi, 1.0),
                    note=f"TV = E_p(1 - q/p)_+, MC over {len(lp)} samples of p, {100 * (1 - alpha):g}% CLT interval")


# ----------------------------------------------------------------------------- histograms


def fd_edges(z: np.ndarray, n: int, bounds: Any = None) -> list[np.ndarray]:
    """Bin edges per axis: Freedman-Diaconis width h_j = 2 IQR_j n^{-1/(d+2)}.

    For d = 1 this is the usual Freedman-Diaconis rule; the exponent
    -1/(d+2) is the rate of the L1-optimal histogram bin width in d
    dimensions. The range is ``bounds`` when given, else the range of ``z``;
    the bin count per axis is ceil(range / h_j), at least 1.

    >>> [len(e) - 1 for e in fd_edges(np.linspace(0, 1, 1001)[:, None], 1000)]
    [10]
    """
    d = z.shape[1]
    b = _as_bounds(bounds) if bounds is not None else np.stack([z.min(axis=0), z.max(axis=0)], axis=1)
    if b.shape[0] != d:
        raise ValueError(f"bounds has {b.shape[0]} axes, the data {d}")
    iqr = np.subtract(*np.percentile(z, [75, 25], axis=0))
    edges = []
    for j in range(d):
        lo, hi = b[j]
        if not hi > lo:
            hi = lo + 1.0
        h = 2.0 * iqr[j] * n ** (-1.0 / (d + 2))
        k = 1 if not h > 0 else int(np.ceil((hi - lo) / h))
        edges.append(np.linspace(lo, hi, k + 1))
    return edges


def _edges(z: np.ndarray, n: int, bins: Any, bounds: Any) -> list[np.ndarray]:
    if bins is None:
        return fd_edges(z, n, bounds)
    d = z.shape[1]
    if isinstance(bins, (int, np.integer)):
        k = check_positive_int("bins", bins)
        b = _as_bounds(bounds) if bounds is not None else np.stack([z.min(axis=0), z.max(axis=0)], axis=1)
        return [np.linspace(b[j, 0], b[j, 1], k + 1) for j in range(d)]
    edges = [np.asarray(e, dtype=np.float64) for e in (bins if d > 1 else [bins])]
    if len(edges) != d or any(e.ndim != 1 or len(e) < 2 or not (np.diff(e) > 0).all() for e in edges):
        raise ValueError("bins must be an int or, per axis, an increasing array of edges")
    return edges


def tv_histogram(x: Any, y: Any, *, bins: Any = None, bounds: Any = None) -> Estimate:
    """TV between the binned empirical laws of two samples (d = 1 or 2).

    (1/2) sum_b |P_n(b) - Q_m(b)| on common bins. Bin rule: :func:`fd_edges`
    on the pooled sample with n = min(len(x), len(y)), over the pooled range,
    unless ``bins`` (an int per axis, or arrays of edges) is given; points
    outside explicit edges count as one extra "outside" bin. Binning can only
    lower TV (data processing), while sampling noise raises it by about
    sum_b sqrt(P(b)/n): read it against its floor.

    Returns
    -------
    Estimate
        value only (no interval).

    Examples
    --------
    >>> tv_histogram([0.1, 0.2, 0.6, 0.7], [0.6, 0.7, 0.8, 0.9], bins=[0.0, 0.5, 1.0]).value
    0.5
    """
    x = as_points("x", x)
    y = as_points("y", y, dim=x.shape[1])
    if x.shape[1] > 2:
        raise ValueError(f"x has dimension {x.shape[1]}; tv_histogram needs d <= 2 (use the classifier bound)")
    edges = _edges(np.concatenate([x, y]), min(len(x), len(y)), bins, bounds)
    hx, _ = np.histogramdd(x, bins=edges)
    hy, _ = np.histogramdd(y, bins=edges)
    px, py = hx.ravel() / len(x), hy.ravel() / len(y)
    out_x, out_y = 1.0 - px.sum(), 1.0 - py.sum()
    value = 0.5 * (float(np.abs(px - py).sum()) + abs(out_x - out_y))
    shape = "x".join(str(len(e) - 1) for e in edges)
    return Estimate(value, note=f"TV of binned empirical laws, {shape} bins ({'given' if bins is not None else 'Freedman-Diaconis'})")


def tv_density_samples(log_p: Callable, y: Any, *, bins: Any = None, bounds: Any = None) -> Estimate:
    """Plug-in TV(p, q_hat) between a known density p and a histogram q_hat of samples of q (d <= 2).

    q_hat is the histogram density of ``y`` on the bins of :func:`fd_edges`
    (n = len(y), over ``bounds`` or the range of y). Then
    TV(p, q_hat) = (1/2) [ int_box |p - q_hat| + (1 - int_box p) ], the first
    term by Gauss-Legendre in each bin (16 nodes per bin in d = 1, 6 x 6 in d = 2).
    Consistent as n grows; biased upwards by the histogram's variance.

    Examples
    --------
    >>> import numpy as np
    >>> e = tv_density_samples(lambda x: np.zeros(len(x)), [0.25, 0.75], bins=[0.0, 0.5, 1.0])
    >>> round(e.value, 12)   # p = U(0, 1) equals its histogram
    0.0
    """
    lp = _call_log("log_p", log_p)
    y = as_points("y", y)
    d = y.shape[1]
    if d > 2:
        raise ValueError(f"y has dimension {d}; tv_density_samples needs d <= 2")
    edges = _edges(y, len(y), bins, bounds)
    counts, _ = np.histogramdd(y, bins=edges)
    rule = _GL16 if d == 1 else _GL6
    per_axis = [_gl_nodes(e[:-1], e[1:], rule) for e in edges]  # each (k_j, r)
    if d == 1:
        nodes, weights = per_axis[0]
        qhat = counts / (len(y) * np.diff(edges[0]))  # (k,)
        p = np.exp(lp(nodes.reshape(-1, 1))).reshape(nodes.shape)
        l1 = float(np.sum(weights * np.abs(p - qhat[:, None])))
        mass = float(np.sum(weights * p))
    else:
        (n0, w0), (n1, w1) = per_axis
        k0, r = n0.shape
        k1 = n1.shape[0]
        vol = np.outer(np.diff(edges[0]), np.diff(edges[1]))
        qhat = counts / (len(y) * vol)  # (k0, k1)
        gx = np.broadcast_to(n0[:, None, :, None], (k0, k1, r, r))
        gy = np.broadcast_to(n1[None, :, None, :], (k0, k1, r, r))
        w = w0[:, None, :, None] * w1[None, :, None, :]
        p = np.exp(lp(np.stack([gx.ravel(), gy.ravel()], axis=1))).reshape(k0, k1, r, r)
        l1 = float(np.sum(w * np.abs(p - qhat[:, :, None, None])))
        mass = float(np.sum(w * p))
    value = 0.5 * (l1 + max(1.0 - mass, 0.0))
    shape = "x".join(str(len(e) - 1) for e in edges)
    return Estimate(min(value, 1.0), note=f"plug-in TV(p, histogram of y), {shape} bins")


# ----------------------------------------------------------------------------- classifier


def _knn_predict_y(train: np.ndarray, is_y: np.ndarray, test: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Class-balanced k-NN vote: predict y when (#y among k)/n_y > (#x among k)/n_x."""
    n_y = is_y.sum()
    n_x = len(is_y) - n_y
    out = np.empty(len(test), dtype=bool)
    for s in range(0, len(test), chunk):
        # distances taken directly: translation invariant (the expansion |a|^2 + |b|^2 - 2 a.b
        # loses |a|^2 eps to cancellation and reorders neighbours far from the origin)
        d2 = cdist(test[s : s + chunk], train, "sqeuclidean")  # (c, n_train)
        nn = np.argpartition(d2, k - 1, axis=1)[:, :k]
        votes_y = is_y[nn].sum(axis=1)
        out[s : s + chunk] = votes_y * n_x > (k - votes_y) * n_y
    return out


def tv_classifier_lower_bound(
    x: Any,
    y: Any,
    *,
    k: int | None = None,
    test_fraction: float = 0.5,
    alpha: float = 0.05,
    seed: int = 0,
) -> Estimate:
    """The classifier two-sample LOWER BOUND TV >= TPR + TNR - 1 = 2 * balanced accuracy - 1.

    Each sample is split at random (``seed``) into a training part and a
    held-out part (``test_fraction``). A class-balanced k-NN classifier h
    (k = the odd integer nearest sqrt(n_train), unless given) is fitted on the
    training parts. For any fixed h, P(h = x) + Q(h = y) - 1 <= TV(P, Q)
    (take A = {h = x}), and the held-out accuracies acc_x, acc_y are unbiased
    for the two terms, so raw = acc_x + acc_y - 1 estimates a lower bound of TV
    in any dimension. Its interval is raw +- z_{1-alpha/2} se with
    se^2 = acc_x(1-acc_x)/n_x_test + acc_y(1-acc_y)/n_y_test; value and interval
    are clipped to [0, 1]. ``lower_bound`` is True on the returned Estimate.

    Parameters
    ----------
    x : array_like, shape (n, d), n >= 4
    y : array_like, shape (m, d), m >= 4
    k : int, optional
    test_fraction : float in (0, 1), default 0.5
    alpha : float, default 0.05
    seed : int, default 0

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> e = tv_classifier_lower_bound(rng.normal(size=(2000, 1)), rng.normal(3.0, 1.0, size=(2000, 1)))
    >>> e.lower_bound, bool(0.8 < e.value <= 2 * 0.9331927987 - 1 + 0.05)   # TV = 2 Phi(1.5) - 1
    (True, True)
    """
    x = as_points("x", x)
    y = as_points("y", y, dim=x.shape[1])
    test_fraction = check_probability("test_fraction", test_fraction)
    alpha = check_probability("alpha", alpha)
    for name, z in (("x", x), ("y", y)):
        if len(z) < 4:
            raise ValueError(f"{name} needs at least 4 points for a train/test split")
    rng = np.random.default_rng(int(seed))

    def split(z):
        perm = rng.permutation(len(z))
        n_test = min(max(1, int(round(test_fraction * len(z)))), len(z) - 1)
        return z[perm[n_test:]], z[perm[:n_test]]

    x_tr, x_te = split(x)
    y_tr, y_te = split(y)
    train = np.concatenate([x_tr, y_tr])
    is_y = np.concatenate([np.zeros(len(x_tr), bool), np.ones(len(y_tr), bool)])
    if k is None:
        k = max(1, int(np.sqrt(len(train))) // 2 * 2 + 1)
    k = min(check_positive_int("k", k), len(train))
    acc_x = float(np.mean(~_knn_predict_y(train, is_y, x_te, k)))
    acc_y = float(np.mean(_knn_predict_y(train, is_y, y_te, k)))
    raw = acc_x + acc_y - 1.0
    se = float(np.sqrt(acc_x * (1 - acc_x) / len(x_te) + acc_y * (1 - acc_y) / len(y_te)))
    z = float(stats.norm.ppf(1 - alpha / 2))

    def clip(v: float) -> float:
        return min(max(v, 0.0), 1.0)

    return Estimate(clip(raw), ci_low=clip(raw - z * se), ci_high=clip(raw + z * se), lower_bound=True,
                    note=f"LOWER BOUND on TV: 2*balanced accuracy - 1 of a {k}-NN classifier on "
                    f"{len(x_te)}+{len(y_te)} held-out points (raw {raw:.4g}), {100 * (1 - alpha):g}% interval, clipped at 0")


# ----------------------------------------------------------------------------- dispatcher


def total_variation(
    *,
    log_p: Callable | None = None,
    log_q: Callable | None = None,
    x: Any = None,
    y: Any = None,
    method: str = "auto",
    bounds: Any = None,
    bins: Any = None,
    alpha: float = 0.05,
    seed: int = 0,
) -> Estimate:
    """Total variation TV(P, Q) = (1/2) int |p - q| in [0, 1], from whatever is known.

    ``method="auto"`` picks, in this order:

    - ``log_p`` and ``log_q`` and ``bounds`` (d <= 2): ``"quadrature"`` (:func:`tv_quadrature`);
    - ``log_p`` and ``log_q`` and samples ``x`` of p: ``"monte_carlo"`` (:func:`tv_monte_carlo`);
    - ``log_p`` and samples ``y`` of q (d <= 2): ``"plugin"`` (:func:`tv_density_samples`);
    - samples ``x`` of p and ``y`` of q: ``"histogram"`` if d <= 2 (:func:`tv_histogram`),
      else ``"classifier"`` (:func:`tv_classifier_lower_bound`, a lower bound).

    Parameters
    ----------
    log_p, log_q : callable, optional
        Normalised log-densities, (n, d) -> (n,).
    x, y : array_like, optional
        Samples of p and of q, shape (n, d) / (m, d).
    method : {"auto", "quadrature", "monte_carlo", "plugin", "histogram", "classifier"}
    bounds, bins, alpha, seed
        Passed on to the chosen function.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from scipy import stats
    >>> e = total_variation(log_p=lambda z: stats.norm.logpdf(z[:, 0]),
    ...                     log_q=lambda z: stats.norm.logpdf(z[:, 0], loc=1.0), bounds=(-15, 16))
    >>> round(e.value, 10)
    0.3829249225
    """
    check_in("method", method, TV_METHODS)
    if method == "auto":
        if log_p is not None and log_q is not None and bounds is not None and x is None:
            method = "quadrature"
        elif log_p is not None and log_q is not None and x is not None:
            method = "monte_carlo"
        elif log_p is not None and y is not None and x is None:
            method = "plugin"
        elif x is not None and y is not None:
            method = "histogram" if as_points("x", x).shape[1] <= 2 else "classifier"
        else:
            raise ValueError("total_variation needs (log_p, log_q, bounds), (log_p, log_q, x), (log_p, y) or (x, y)")
    needs = {"quadrature": ("log_p", "log_q", "bounds"), "monte_carlo": ("log_p", "log_q", "x"),
             "plugin": ("log_p", "y"), "histogram": ("x", "y"), "classifier": ("x", "y")}[method]
    given = {"log_p": log_p, "log_q": log_q, "x": x, "y": y, "bounds": bounds}
    for name in needs:
        if given[name] is None:
            raise ValueError(f"{name} is required for method={method!r}")
    if method == "quadrature":
        return tv_quadrature(log_p, log_q, bounds)
    if method == "monte_carlo":
        xs = as_points("x", x)
        return tv_monte_carlo(_call_log("log_p", log_p)(xs), _call_log("log_q", log_q)(xs), alpha=alpha)
    if method == "plugin":
        return tv_density_samples(log_p, y, bins=bins, bounds=bounds)
    if method == "histogram":
        return tv_histogram(x, y, bins=bins, bounds=bounds)
    return tv_classifier_lower_bound(x, y, alpha=alpha, seed=seed)
