"""How a metric is named in figures and tables: a title and a symbol, from one table.

``METRIC_LABELS[name] = (title, symbol)``: the title says what is measured (and
against what), the symbol is the axis label's quantity.  Every metric but W_p
is unitless; W_p is in the data's own units.
"""

from __future__ import annotations

__all__ = ["METRIC_LABELS", "metric_title", "metric_symbol", "metric_axis"]

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
    "w1_grid": ("Wasserstein-1 between the densities on a grid", "$W_1$ (data units)"),
    "sliced_w1": ("sliced Wasserstein-1 distance", "$SW_1$ (data units)"),
    "sliced_w2": ("sliced Wasserstein-2 distance", "$SW_2$ (data units)"),
    "sinkhorn_w2": ("Sinkhorn divergence (W2 cost)", r"$S_\varepsilon$"),
    "mmd2": ("squared MMD (unbiased, Gaussian kernel)", r"MMD$^2$"),
    "mode_reverse_kl": ("reverse KL of the mode histogram", "KL (modes)"),
    # regression (genlab.regression): f* is the truth; the regime measurements are against no truth
    "excess_risk": ("excess risk E(f_hat(X) - f*(X))^2 (Monte Carlo)", r"$\|\hat f - f^*\|^2_{L^2(P_X)}$"),
    "train_loss_final": ("final training loss", r"$\frac{1}{2n}\sum_i (\hat f(x_i) - y_i)^2$"),
    "ntk_init_error": ("empirical NTK at initialisation against the analytic NTK",
                       r"$\|\Theta_m(0) - \Theta\|_F / \|\Theta\|_F$"),
    "weight_movement": ("relative movement of the weights", r"$\|\theta_T - \theta_0\| / \|\theta_0\|$"),
    "kernel_drift": ("relative change of the empirical NTK", r"$\|\Theta_m(T) - \Theta_m(0)\|_F / \|\Theta_m(0)\|_F$"),
    "flow_gap": ("gap to the infinite-width network after the same steps",
                 r"$\|f_T - f^\infty_T\| / \|f^\infty_T\|$ (test inputs)"),
    "twin_distance": ("distance between two independently initialised networks",
                      r"$\|f^{(1)}_T - f^{(2)}_T\| / \|f^{(2)}_T\|$"),
    "alignment": ("first-layer alignment with w*", r"mean$_j\ |\cos(w_j, w^*)|$ ($|a_j|$-weighted)"),
    "loss_rate_ratio": ("training-loss decay rate over 2 lambda_min / n", "observed / predicted rate"),
}

#: metrics whose axis is their symbol alone (not a distance "to the truth", or one that names it: f*)
NO_TRUTH_AXIS = ("excess_risk", "train_loss_final", "ntk_init_error", "weight_movement", "kernel_drift", "flow_gap",
                 "twin_distance", "alignment", "loss_rate_ratio")


def metric_title(name: str) -> str:
    """The panel title of ``name`` (the name itself for a metric the table does not know)."""
    return METRIC_LABELS.get(name, (name, name))[0]


def metric_symbol(name: str) -> str:
    """The axis quantity of ``name``."""
    return METRIC_LABELS.get(name, (name, name))[1]


def metric_axis(name: str) -> str:
    """The y-axis label of ``name`` in a rate figure: its symbol, "to the truth" where it is a distance to one."""
    return metric_symbol(name) if name in NO_TRUTH_AXIS else f"{metric_symbol(name)} to the truth"
