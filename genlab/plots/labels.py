"""How a metric is named in figures and tables: a title and a symbol, from one table.

``METRIC_LABELS[name] = (title, symbol)``: the title says what is measured (and
against what), the symbol is the axis label's quantity.  Every metric but W_p
is unitless; W_p is in the data's own units.
"""

from __future__ import annotations

__all__ = ["METRIC_LABELS", "metric_title", "metric_symbol"]

METRIC_LABELS = {
    "tv": ("total variation (model density, Monte Carlo)", "TV"),
    "tv_t0": ("total variation to the truth noised to $t_0$", r"TV$_{t_0}$"),
    "tv_offset": ("total variation, truth to truth noised to $t_0$", "TV offset"),
    "kde_tv": ("total variation of the held-out KDE", "TV (KDE)"),
    "tv_hist": ("total variation of histograms", r"TV$_\mathrm{hist}$"),
    "tv_classifier": ("total variation, classifier lower bound", "TV (lower bound)"),
    "tv_sampler": ("total variation of the sampler's own law", "TV"),
    "tv_sampler_t0": ("total variation of the sampler's law to the truth at $t_0$", r"TV$_{t_0}$"),
    "kl": ("Kullback-Leibler divergence KL(truth || model)", "KL"),
    "kl_t0": ("KL to the truth noised to $t_0$", r"KL$_{t_0}$"),
    "hellinger": ("Hellinger distance", "H"),
    "w1": ("Wasserstein-1 distance (exact OT)", "$W_1$ (data units)"),
    "w2": ("Wasserstein-2 distance (exact OT)", "$W_2$ (data units)"),
    "w1_law": ("Wasserstein-1 to the law itself (1-D)", "$W_1$ (data units)"),
    "sliced_w1": ("sliced Wasserstein-1 distance", "$SW_1$ (data units)"),
    "sliced_w2": ("sliced Wasserstein-2 distance", "$SW_2$ (data units)"),
    "sinkhorn_w2": ("Sinkhorn divergence (W2 cost)", r"$S_\varepsilon$"),
    "mmd2": ("squared MMD (unbiased, Gaussian kernel)", r"MMD$^2$"),
    "mode_reverse_kl": ("reverse KL of the mode histogram", "KL (modes)"),
}


def metric_title(name: str) -> str:
    """The panel title of ``name`` (the name itself for a metric the table does not know)."""
    return METRIC_LABELS.get(name, (name, name))[0]


def metric_symbol(name: str) -> str:
    """The axis quantity of ``name``."""
    return METRIC_LABELS.get(name, (name, name))[1]
