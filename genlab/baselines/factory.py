"""`make_kde`: one call from a recipe's settings to a fitted `GaussianKDE`."""

from __future__ import annotations

import torch

from genlab.baselines import bandwidth as bw
from genlab.baselines.kde import BOUNDARIES, GaussianKDE
from genlab.core.validation import check_in, check_points, check_positive

__all__ = ["make_kde", "BANDWIDTH_RULES"]

BANDWIDTH_RULES = ("scott", "silverman", "theory", "held_out")


def make_kde(x_train, bandwidth: str | float, *, s: float | None = None, c: float = 1.0,
             bounds: tuple[float, float] | None = None, boundary: str = "none",
             generator: torch.Generator | None = None) -> GaussianKDE:
    """Fit a Gaussian KDE to ``x_train`` (n, d) with a bandwidth given by a rule or a number.

    Parameters
    ----------
    x_train : Tensor or ndarray, shape (n, d)
    bandwidth : {"scott", "silverman", "theory", "held_out"} or float
        A rule of `genlab.baselines.bandwidth`, or h itself.
    s : float, optional
        Smoothness of the truth, required by ``"theory"`` (h = c n^(-1/(2s+d))).
    c : float
        Constant of the ``"theory"`` rule.
    bounds : (low, high), optional
        The cube, for ``boundary="reflect"``.
    boundary : {"none", "reflect"}
    generator : torch.Generator, optional
        Randomness of the ``"held_out"`` split (deterministic seed 0 when None).

    Returns
    -------
    GaussianKDE
        Fitted on all n points; ``.bandwidth`` holds the chosen h.

    Examples
    --------
    >>> x = torch.linspace(-1, 1, 32)[:, None]
    >>> make_kde(x, "theory", s=2.0).bandwidth == 32 ** (-1 / 5)
    True
    >>> make_kde(x, "scot")
    Traceback (most recent call last):
    ...
    ValueError: bandwidth must be one of scott, silverman, theory, held_out; got 'scot'
    """
    x = check_points("x_train", x_train)
    check_in("boundary", boundary, BOUNDARIES)
    if isinstance(bandwidth, str):
        check_in("bandwidth", bandwidth, BANDWIDTH_RULES)
        if bandwidth == "scott":
            h = bw.scott(x)
        elif bandwidth == "silverman":
            h = bw.silverman(x)
        elif bandwidth == "theory":
            h = bw.theory(x.shape[0], x.shape[1], s=s, c=c)
        else:
            h = bw.held_out(x, generator=generator, boundary=boundary, bounds=bounds)
    else:
        h = check_positive("bandwidth", bandwidth)
    return GaussianKDE(x, h, boundary=boundary, bounds=bounds)
