"""Kernels of wide networks and the predictions built on them.

`ntk`: the two-layer ReLU network in the NTK parametrisation
f(x) = m^{-1/2} sum_j a_j relu(<w_j, x>/sqrt(d)) (`TwoLayerReLU`), the Cho & Saul
arc-cosine kernels (`arccos_kernel`), its infinite-width NNGP and NTK kernels
(`nngp_kernel`, `ntk_kernel`), the finite-width NTK (`empirical_ntk`, closed form or
autograd) and lambda_min of the NTK Gram matrix (`ntk_min_eigenvalue`).
`regression`: kernel ridge regression (`kernel_regression`), and gradient flow and gradient descent on
(1/(2n)) sum (f - y)^2 in the linear regime (`ntk_flow_prediction`, `ntk_gd_prediction`, `ntk_flow_loss`).

Depends on torch and numpy only: no other genlab module (floor 2, CONTRIBUTING.md).
"""

from genlab.kernels._arrays import DEFAULT_MAX_BYTES
from genlab.kernels.ntk import (
    PARTS,
    TwoLayerReLU,
    arccos_kernel,
    empirical_ntk,
    nngp_kernel,
    ntk_kernel,
    ntk_min_eigenvalue,
    two_layer_relu,
)
from genlab.kernels.regression import kernel_regression, ntk_flow_loss, ntk_flow_prediction, ntk_gd_prediction

__all__ = ["TwoLayerReLU", "two_layer_relu", "arccos_kernel", "nngp_kernel", "ntk_kernel", "empirical_ntk",
           "ntk_min_eigenvalue", "PARTS", "DEFAULT_MAX_BYTES",
           "kernel_regression", "ntk_flow_prediction", "ntk_gd_prediction", "ntk_flow_loss"]
