"""The memorisation figure (``memorisation.png``): the memorisation transition of diffusion models against n.

Four panels against the training size n (log axis): the memorisation fraction (Gu et al. 2023) with its
chance level, the mean distance of samples to the training set over that to a fresh truth sample, the TV
between the laws of one model trained on two disjoint training sets (Kadkhodaie et al. 2024), and each
model's distance to the truth.  One line per estimator (a network per width and step count, the
empirical-optimal and KDE scores), each point the seed mean with its 95% t-interval over seeds
(`genlab.cli.memorisation`).
"""

from __future__ import annotations

import math

__all__ = ["plot_memorisation", "PANELS"]

#: (table key, y label, the generalising level drawn as a grey line or None)
PANELS = (("memorisation", "memorisation fraction", None),
          ("nn_ratio", "d(train) / d(fresh)", 1.0),
          ("between_tv", "TV(split 0, split 1)", None),
          ("to_truth", "{} to truth", None))


def plot_memorisation(table: dict, labels: dict, to_truth: str, path) -> None:
    """Save the figure to ``path`` (PNG).

    Parameters
    ----------
    table : dict
        ``(estimator, n) -> {key: (mean, half_width, count), ...}`` with the keys of `PANELS` and ``chance``.
    labels : dict
        Estimator name -> legend label, in the order drawn; names starting with ``net`` are networks (solid
        lines), the others reference scores (dashed).
    to_truth : str
        The run metric behind ``to_truth`` (``tv`` or ``w1``), for its axis label.
    """
    import matplotlib  # imported here: pyplot costs ~1.7 s per process

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.core.files import save_figure

    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.6 * len(PANELS), 3.8), squeeze=False)
    for ax, (key, ylabel, level) in zip(axes[0], PANELS):
        for name, label in labels.items():
            ns = sorted(n for e, n in table if e == name)
            if not ns:
                continue
            mean = [table[name, n][key][0] for n in ns]
            half = [h if math.isfinite(h) else 0.0 for h in (table[name, n][key][1] for n in ns)]
            ax.errorbar(ns, mean, yerr=half, marker="o", ms=3, capsize=2, label=label,
                        ls="-" if name.startswith("net") else "--")
        if level is not None:
            ax.axhline(level, color="0.5", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set(xlabel="training size n", ylabel=ylabel.format(to_truth.upper()))
        ax.grid(True, which="both", alpha=0.3)
    # the chance level depends on the training set only, the same for every estimator: drawn once per n
    chance = dict(sorted((n, v["chance"][0]) for (_, n), v in table.items()))
    axes[0][0].plot(list(chance), list(chance.values()), color="0.5", ls=":", label="chance (fresh truth points)")
    axes[0][0].set_ylim(-0.03, 1.03)
    axes[0][-1].set_yscale("log")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
