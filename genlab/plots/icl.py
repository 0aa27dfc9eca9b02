"""The picture of an in-context-learning run (``icl.png``): the model's error against the number of examples k,
with its CI band, beside the baselines and the theory curves."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import torch

__all__ = ["plot_icl"]


def plot_icl(path: Path, ks, model: Mapping[str, torch.Tensor], baselines: Mapping[str, torch.Tensor],
             theory: Mapping[str, list], *, title: str = "", ylim: Optional[float] = None) -> Path:
    """One picture: model error with its CI band, baselines (solid), theory curves (dashed), against k.

    Parameters
    ----------
    model : mapping with ``mean``, ``low``, ``high`` of shape (K,) and ``label``
    baselines : name -> mean error (K,)
    theory : name -> list of K values (inf and nan are not drawn)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from genlab.core.files import save_figure

    ks = list(ks)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    ax.plot(ks, model["mean"].tolist(), "k-o", ms=3, lw=2, label=model.get("label", "model"), zorder=5)
    ax.fill_between(ks, model["low"].tolist(), model["high"].tolist(), color="k", alpha=0.2, zorder=4)
    for name, v in baselines.items():
        ax.plot(ks, v.tolist(), "-", lw=1.2, label=name)
    for name, v in theory.items():
        # nan breaks the line, so a divergence (inf) leaves a gap rather than a bridge
        ys = [y if y == y and y != float("inf") else float("nan") for y in v]
        ax.plot(ks, ys, "--", lw=1.2, label=f"theory: {name}")
    ax.set_xlabel("in-context examples k")
    ax.set_ylabel("normalised excess squared error")
    top = ylim if ylim is not None else 1.3 * max(1.0, float(model["mean"].max()))
    ax.set_ylim(0, top)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path = Path(path)
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
