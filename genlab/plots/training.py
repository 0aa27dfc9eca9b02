"""The training-curve picture of a GAN run (``training.png``): losses, and W1 and modes over steps.

GAN losses do not decrease to a minimum, so they say little alone; the
picture sets them beside what they are meant to drive: W1 between the
generator and the truth, and (on a mixture) the modes captured and the
high-quality fraction, measured on fixed latents as training goes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plot_training", "TRAINING_PICTURE"]

TRAINING_PICTURE = "training.png"


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    """Running mean over the last ``width`` steps (fewer at the start)."""
    c = np.cumsum(np.insert(y, 0, 0.0))
    i = np.arange(1, len(y) + 1)
    k = np.minimum(i, width)
    return (c[i] - c[i - k]) / k


def plot_training(path, losses, history: dict, *, title: str = "") -> None:
    """Save the curves to ``path`` (PNG).

    Parameters
    ----------
    losses : array_like, shape (steps, 2)
        Discriminator and generator loss per generator step.
    history : dict of name -> array (k,)
        ``step`` and the monitored numbers (``w1``; ``modes_captured`` and
        ``high_quality_fraction`` on a mixture truth).
    """
    # imported here: pyplot costs ~1.7 s per process, and a run draws this picture at its end only
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.core.files import save_figure

    losses = np.asarray(losses, dtype=float).reshape(-1, 2)
    hist = {k: np.asarray(v, dtype=float) for k, v in history.items()}
    fig, (ax_l, ax_w) = plt.subplots(1, 2, figsize=(11, 4))
    steps = np.arange(1, len(losses) + 1)
    width = max(1, len(losses) // 100)
    for j, (name, colour) in enumerate((("discriminator", "tab:blue"), ("generator", "tab:orange"))):
        if len(losses):
            ax_l.plot(steps, losses[:, j], color=colour, alpha=0.15, lw=0.5)
            ax_l.plot(steps, _smooth(losses[:, j], width), color=colour, label=f"{name} loss")
    ax_l.set_xlabel("generator step")
    ax_l.set_ylabel("loss")
    ax_l.legend(fontsize=8)
    if "w1" in hist and "step" in hist:
        ax_w.plot(hist["step"], hist["w1"], "o-", ms=3, color="tab:green", label="W1 (monitor)")
        ax_w.set_yscale("log")
        ax_w.set_ylabel("W1 to truth samples")
    ax_w.set_xlabel("generator step")
    if "modes_captured" in hist:
        ax_m = ax_w.twinx()
        ax_m.plot(hist["step"], hist["high_quality_fraction"], "^--", ms=3, color="tab:red",
                  label="high-quality fraction")
        ax_m.set_ylim(0.0, 1.05)
        ax_m.set_ylabel("high-quality fraction")
        ax_m.legend(loc="center right", fontsize=8)
        ax_w.set_title("modes captured: " + " ".join(f"{int(v)}" for v in hist["modes_captured"]),
                       fontsize=8)
    ax_w.legend(loc="upper right", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
