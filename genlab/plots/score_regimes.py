"""The score-regimes figure (``score_regimes.png``): relative score error against the diffusion time.

One panel per training size n; one line per score estimator (a trained network, a lazy network, KDE
scores, the empirical-optimal score), each point the seed mean of E||s - s*||^2 / E||s*||^2 at time t with
its 95% t-interval over seeds (`genlab.cli.score_regimes`).
"""

from __future__ import annotations

import math

__all__ = ["plot_score_errors"]


def plot_score_errors(table: dict, times, labels: dict, path) -> None:
    """Save the figure to ``path`` (PNG).

    Parameters
    ----------
    table : dict
        ``(estimator, n) -> {"score_error_t<t>": (mean, half_width, count), ...}`` for each t of ``times``.
    times : sequence of float
        The time grid, increasing.
    labels : dict
        Estimator name -> legend label.
    """
    import matplotlib  # imported here: pyplot costs ~1.7 s per process

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.core.files import save_figure

    ns = sorted({n for _, n in table})
    fig, axes = plt.subplots(1, len(ns), figsize=(5.2 * len(ns), 4), sharey=True, squeeze=False)
    for ax, n in zip(axes[0], ns):
        for name, label in labels.items():
            if (name, n) not in table:
                continue
            row = [table[name, n][f"score_error_t{t:g}"] for t in times]
            mean = [r[0] for r in row]
            half = [r[1] if math.isfinite(r[1]) else 0.0 for r in row]
            ax.errorbar(times, mean, yerr=half, marker="o", ms=3, capsize=2, label=label)
        ax.set(xscale="log", yscale="log", xlabel="diffusion time t", title=f"n = {n}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel(r"relative score error $E\|s - s^*\|^2 / E\|s^*\|^2$")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
