"""The metrics a regression run reports, and what each needs of the run's settings."""

from __future__ import annotations

__all__ = ["COMMON_METRICS", "TWO_LAYER_METRICS", "REGRESSION_METRICS", "needs"]

#: measured for every model: the excess risk E(f_hat(X) - f*(X))^2 (Monte Carlo, with its CI; floor = the
#: CI half-width) and the final training loss (1/(2n)) sum (f_hat - y)^2 on the points it was fitted on
COMMON_METRICS = ("excess_risk", "train_loss_final")
#: measured for a two-layer network (`genlab.regression.dynamics`), each exact for the network at hand
#: (floor 0): the NTK at initialisation against the infinite-width one, the relative movement of the
#: weights and of the kernel, the gap to the NTK gradient-flow prediction, the distance between two
#: independently initialised networks, the first layer's alignment with a single-index direction w*, and
#: the measured linear rate of the training loss over the rate 2 lambda_min / n the NTK Gram matrix predicts
TWO_LAYER_METRICS = ("ntk_init_error", "weight_movement", "kernel_drift", "flow_gap", "twin_distance",
                     "alignment", "loss_rate_ratio")
REGRESSION_METRICS = COMMON_METRICS + TWO_LAYER_METRICS


def needs(metric: str, r) -> str | None:
    """What ``metric`` needs that ``r`` (a RegressionConfig) lacks, in words, or None."""
    if metric in TWO_LAYER_METRICS and r.model != "two_layer":
        return f"regression.model=two_layer, got {r.model}"
    if metric in ("flow_gap", "loss_rate_ratio") and not r.flow_reference:
        return "regression.flow_reference=true (the NTK gradient-flow reference)"
    if metric == "twin_distance" and not r.twin:
        return "regression.twin=true (a second, independently initialised network)"
    if metric == "alignment" and r.target != "single_index":
        return f"regression.target=single_index (a direction w* to align with), got {r.target}"
    return None
