"""The task-diversity figure (``task_diversity.png``), drawn as Raventos, Paul, Chen & Ganguli (NeurIPS 2023)
draw their Figs. 1-2.

Three panels against the pool size M (log2 axis; the unbounded pool as a separate point at the right, past a
dotted line): the error at the full prompt on tasks from the pool, and on fresh tasks, each for the model,
dMMSE and ridge; and the model's distance to dMMSE and to ridge on fresh tasks, with the distance between the
two estimators dotted.  Each point is the seed mean with its 95% t-interval (`genlab.cli.task_diversity`);
the threshold M*(ridge) is a vertical line where it was measured.
"""

from __future__ import annotations

import math

__all__ = ["plot_task_diversity", "PANELS"]

#: (title, y label, [(table key, legend label, style), ...])
PANELS = (("tasks from the pool", "error at k = {K}",
           [("err_pool", "transformer", "C0-o"), ("dmmse_pool", "dMMSE", "C1--s"), ("ridge_pool", "ridge", "C2--^")]),
          (r"fresh tasks $w \sim N(0, \tau^2 I)$", "error at k = {K}",
           [("err", "transformer", "C0-o"), ("dmmse", "dMMSE", "C1--s"), ("ridge", "ridge", "C2--^")]),
          ("transformer's distance on fresh tasks", "mean squared distance, k = 1..{K}",
           [("dist_dmmse", "to dMMSE", "C1-s"), ("dist_ridge", "to ridge", "C2-^"),
            ("dist_dmmse_ridge", "dMMSE to ridge", "C7:")]))


def _positions(ms: list) -> dict:
    """x position of each M: M itself, the unbounded pool (0) four times past the largest finite M."""
    finite = [m for m in ms if m > 0]
    return {m: m if m > 0 else (4 * max(finite) if finite else 1) for m in ms}


def _tick(m: int) -> str:
    """2^j for a power of two, else the number."""
    return f"$2^{{{m.bit_length() - 1}}}$" if m > 1 and m & (m - 1) == 0 else str(m)


def plot_task_diversity(table: dict, k: int, thresholds: tuple, path) -> None:
    """Save the figure to ``path`` (PNG).

    Parameters
    ----------
    table : dict
        ``M -> {key: (mean, half_width, count), ...}`` with the keys of `PANELS`; M = 0 is the unbounded pool.
    k : int
        The full prompt length K the errors are read at.
    thresholds : tuple
        (M*(ridge), M*(not dMMSE)), either None when not measured.
    """
    import matplotlib  # imported here: pyplot costs ~1.7 s per process

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.core.files import save_figure

    ms = sorted(table, key=lambda m: (m == 0, m))
    x = _positions(ms)
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.8 * len(PANELS), 3.9), squeeze=False)
    for ax, (title, ylabel, lines) in zip(axes[0], PANELS):
        for key, label, style in lines:
            labelled = False
            # the finite pools joined by a line; the unbounded pool a lone point in the same style
            for part in ([m for m in ms if m > 0], [m for m in ms if m == 0]):
                pts = [(x[m], *table[m][key][:2]) for m in part if math.isfinite(table[m][key][0])]
                if not pts:
                    continue
                xs, mean, half = zip(*pts)
                ax.errorbar(xs, mean, yerr=[h if math.isfinite(h) else 0.0 for h in half], fmt=style, ms=3,
                            capsize=2, label=None if labelled else label)
                labelled = True
        ax.set_xscale("log", base=2)
        if 0 in x and len(x) > 1:
            finite = [m for m in ms if m > 0]
            ax.axvline(2 * max(finite), color="0.6", ls=":", lw=0.8)
            ticks = finite if len(finite) <= 8 else sorted({*finite[::2], max(finite)})
            ax.set_xticks([*ticks, x[0]], [*map(_tick, ticks), "∞"])
        if thresholds[0] is not None:
            ax.axvline(thresholds[0], color="k", lw=0.8, alpha=0.6)
        ax.set_yscale("log")
        ax.set(title=title, xlabel="pool size M (tasks)", ylabel=ylabel.format(K=k))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    if thresholds[0] is not None:
        ax = axes[0][-1]
        ax.text(thresholds[0], 0.98, f" M* = {thresholds[0]}", va="top", fontsize=7, transform=ax.get_xaxis_transform())
    fig.tight_layout()
    save_figure(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
