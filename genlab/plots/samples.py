"""The picture a person looks at after a run: model samples over the truth.

2-D truth with a density: model samples scattered over the true density's
contours.  Otherwise: pairwise projections of the first few coordinates,
truth samples in grey beneath the model's.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display on the machines genlab runs on
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from genlab.core.files import save_figure  # noqa: E402

__all__ = ["plot_samples"]

_MAX_POINTS = 4000  # more points only hide the density under the ink


def plot_samples(path, truth, samples, truth_samples, *, title: str = "") -> None:
    """Save a picture of ``samples`` (m, d) against ``truth`` to ``path`` (PNG)."""
    x = np.asarray(samples, dtype=float)[:_MAX_POINTS]
    ref = np.asarray(truth_samples, dtype=float)[:_MAX_POINTS]
    d = x.shape[1]
    if d == 2 and truth.has_density:
        fig = _contour_2d(truth, x, ref)
    elif d == 1:
        fig = _hist_1d(truth, x, ref)
    else:
        fig = _pairs(x, ref)
    fig.suptitle(title, fontsize=10)
    save_figure(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def _contour_2d(truth, x, ref):
    lo = np.minimum(x.min(0), ref.min(0))
    hi = np.maximum(x.max(0), ref.max(0))
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = torch.as_tensor(np.stack([g0.ravel(), g1.ravel()], 1), dtype=truth.dtype)
    dens = truth.log_prob(grid).exp().cpu().numpy().reshape(g0.shape)
    from matplotlib.lines import Line2D

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.contourf(g0, g1, dens, levels=12, cmap="Greys", alpha=0.6, zorder=0)
    ax.scatter(x[:, 0], x[:, 1], s=2, c="tab:red", alpha=0.4, zorder=1, label="model samples")
    # the truth's contour lines over the samples: a dense (or collapsed) sample cannot hide them
    ax.contour(g0, g1, dens, levels=8, colors="k", linewidths=0.6, zorder=2)
    ax.set_aspect("equal")
    handles = [Line2D([], [], ls="none", marker="o", ms=4, color="tab:red", alpha=0.6, label="model samples"),
               Line2D([], [], color="k", lw=0.8, label="true density (contours)")]
    ax.legend(handles=handles, loc="upper right", fontsize=8, framealpha=0.9)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return fig


def _hist_1d(truth, x, ref):
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(min(x.min(), ref.min()), max(x.max(), ref.max()), 80)
    ax.hist(x[:, 0], bins=bins, density=True, alpha=0.6, color="tab:red", label="model samples")
    if truth.has_density:
        u = torch.linspace(bins[0], bins[-1], 1000, dtype=truth.dtype)[:, None]
        ax.plot(u[:, 0].numpy(), truth.log_prob(u).exp().cpu().numpy(), "k", lw=1, label="true density")
    else:
        ax.hist(ref[:, 0], bins=bins, density=True, histtype="step", color="k", label="truth samples")
    ax.legend(fontsize=8)
    ax.set_xlabel("$x$")
    ax.set_ylabel("density")
    return fig


def _pairs(x, ref, k: int = 4):
    k = min(k, x.shape[1])
    fig, axes = plt.subplots(k, k, figsize=(2.2 * k, 2.2 * k), squeeze=False)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if i == j:
                bins = np.linspace(min(x[:, i].min(), ref[:, i].min()), max(x[:, i].max(), ref[:, i].max()), 40)
                ax.hist(ref[:, i], bins=bins, density=True, color="0.6")
                ax.hist(x[:, i], bins=bins, density=True, histtype="step", color="tab:red")
            else:
                ax.scatter(ref[:, j], ref[:, i], s=1, c="0.6", alpha=0.4)
                ax.scatter(x[:, j], x[:, i], s=1, c="tab:red", alpha=0.4)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == k - 1:
                ax.set_xlabel(f"$x_{{{j + 1}}}$")
            if j == 0:
                ax.set_ylabel(f"$x_{{{i + 1}}}$")
    fig.text(0.5, 0.0, "grey: truth samples; red: model samples", ha="center", fontsize=8)
    return fig
