"""The lazy- and mean-field-regime measurements of one trained two-layer network (issue 17, items 3 and 4).

`TwoLayerProbe` records, before training, what the measurements compare against:
the initial parameters, the empirical NTK on fixed inputs and the initial outputs.
`two_layer_metrics` then reads the trained network (`genlab.regression.dynamics`
defines each quantity, its expected behaviour in the width and its source).
"""

from __future__ import annotations

import torch

from genlab.kernels import ntk_min_eigenvalue
from genlab.regression.dynamics import (
    alignment,
    effective_lr,
    flow_gap,
    kernel_drift,
    linear_rate,
    ntk_init_error,
    twin_distance,
    weight_movement,
)

__all__ = ["TwoLayerProbe", "two_layer_metrics", "FLOW_TEST_POINTS"]

#: test inputs the NTK flow reference is evaluated on (its kernel is n x this)
FLOW_TEST_POINTS = 2000


class TwoLayerProbe:
    """Called with the untrained network (`genlab.regression.fit.fit_estimator`'s ``on_init``).

    Parameters
    ----------
    x_kernel : Tensor (k, D)   fixed inputs of the kernel measurements
    x_train : Tensor (n, D)    the points the network trains on (early stopping off)
    x_test : Tensor (k', D)    test inputs
    """

    def __init__(self, x_kernel: torch.Tensor, x_train: torch.Tensor, x_test: torch.Tensor):
        self.x_kernel, self.x_train = x_kernel, x_train
        self.x_test = x_test[:FLOW_TEST_POINTS]

    def __call__(self, net) -> None:
        self.a0, self.W0 = (p.detach().cpu() for p in net.initial_parameters())
        self.init_error = ntk_init_error(net, self.x_kernel)
        self.K0 = net.empirical_ntk(self.x_kernel)
        with torch.no_grad():
            self.f0_train = net(self.x_train).detach().cpu()
            self.f0_test = net(self.x_test).detach().cpu()


def _flow_metrics(r, probe: TwoLayerProbe, fit, y: torch.Tensor) -> dict:
    """flow_gap and loss_rate_ratio (with the numbers they are made of)."""
    net, hist = fit.net, fit.history
    out = {"flow_gap": flow_gap(net, probe.x_train, y, probe.x_test, probe.f0_train, probe.f0_test,
                                hist.steps, r.lr)}
    lam = ntk_min_eigenvalue(probe.x_train, part=net.kernel_part)
    rate = linear_rate(hist.losses, hist.loss_steps, lam, probe.x_train.shape[0], effective_lr(net, r.lr))
    out.update(loss_rate_ratio=rate["ratio"], loss_rate_observed=rate["observed"],
               loss_rate_predicted=rate["predicted"], lambda_min=float(lam))
    return out


def two_layer_metrics(r, probe: TwoLayerProbe, fit, target, y: torch.Tensor, x_test: torch.Tensor, *,
                      twin=None) -> dict:
    """Flat measurements of ``fit.net`` (a trained `TwoLayerNet`), each exact for this network: floor 0.

    ``r`` is the RegressionConfig; ``twin`` a second fit from another initialisation (regression.twin).
    """
    net = fit.net.cpu()
    out = {"ntk_init_error": probe.init_error,
           "weight_movement": weight_movement(net, probe.a0, probe.W0),
           "kernel_drift": kernel_drift(probe.K0, net.empirical_ntk(probe.x_kernel))}
    w_star = getattr(target, "w_star", None)
    if w_star is not None:
        d = w_star.shape[0]   # the first d input weights: a constant input coordinate's weight is a bias
        out["alignment"] = alignment(net.W.detach()[:, :d], w_star, a=net.a.detach())
        out["alignment_init"] = alignment(probe.W0[:, :d], w_star, a=probe.a0)
    if twin is not None:
        out["twin_distance"] = twin_distance(twin.predict, fit.predict, x_test[:FLOW_TEST_POINTS])
    if r.flow_reference:
        out.update(_flow_metrics(r, probe, fit, y))
    out.update({f"{k}_floor": 0.0 for k in list(out) if not k.endswith("_floor")})
    return out
