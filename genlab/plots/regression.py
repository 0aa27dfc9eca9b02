"""The picture of a regression run (``regression.png``): the fit against f*, and the training curve.

In one input dimension the left panel draws the training points, f* and f_hat on
a grid; in more, f_hat(x) against f*(x) on test inputs (the diagonal is a perfect
fit).  The right panel draws the training loss over steps for a network.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_regression_fit", "REGRESSION_PICTURE"]

REGRESSION_PICTURE = "regression.png"
#: points drawn at most per scatter (the picture's file stays small)
_MAX_POINTS = 2000


def _thin(*arrays, k: int = _MAX_POINTS):
    n = len(arrays[0])
    idx = np.linspace(0, n - 1, min(n, k)).astype(int)
    return [np.asarray(a)[idx] for a in arrays]


def plot_regression_fit(path, *, title: str, curve: dict | None = None, scatter: tuple | None = None,
                        losses: tuple | None = None) -> None:
    """Save the picture to ``path`` (PNG).

    Parameters
    ----------
    curve : dict, optional
        One input dimension: ``grid`` (g,), ``f_star`` (g,), ``f_hat`` (g,), ``x`` (n,), ``y`` (n,).
    scatter : (f_star, f_hat), optional
        More dimensions: f* and f_hat at test inputs, each (k,).
    losses : (steps, loss), optional
        The training loss (T,) at its steps (T,).
    """
    import matplotlib  # imported here: pyplot costs ~1.7 s per process

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.core.files import save_figure

    fig, (ax_f, ax_l) = plt.subplots(1, 2, figsize=(11, 4))
    if curve is not None:
        x, y = _thin(curve["x"], curve["y"])
        ax_f.scatter(x, y, s=3, color="0.6", alpha=0.5, label="training points")
        ax_f.plot(curve["grid"], curve["f_star"], color="k", lw=1, label="$f^*$")
        ax_f.plot(curve["grid"], curve["f_hat"], color="tab:red", lw=1, label=r"$\hat f$")
        ax_f.set_xlabel("$x$")
        ax_f.legend(fontsize=8)
    elif scatter is not None:
        fs, fh = _thin(*scatter)
        ax_f.scatter(fs, fh, s=3, alpha=0.4)
        lo, hi = float(np.min(fs)), float(np.max(fs))
        ax_f.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax_f.set_xlabel("$f^*(x)$ at test inputs")
        ax_f.set_ylabel(r"$\hat f(x)$")
    if losses is not None and len(losses[0]):
        ax_l.plot(losses[0], losses[1], color="tab:blue")
        ax_l.set_yscale("log")
        ax_l.set_xlabel("step")
        ax_l.set_ylabel(r"training loss $\frac{1}{2n}\sum(f - y)^2$")
    else:
        ax_l.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
