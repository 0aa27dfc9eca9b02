r"""Networks for regression: the two-layer ReLU net under four parametrisations, and a deep ReLU net.

Two-layer net (no biases), width m, input dimension d, parameters theta = (a, W),
a shape (m,), W shape (m, d) with rows w_j:

    h(x; theta) = s * sum_j a_j relu(<w_j, x> / sqrt(d)),

trained by gradient descent with step ``lr * lr_multiplier`` on
``loss_scale * (1/(2n)) sum_i (f(x_i) - y_i)^2`` (`genlab.regression.train`).

===============  ========  ================  =============  ==========  ======================
parametrisation  s         init a, W         lr_multiplier  loss_scale  tangent_kernel_scale c
===============  ========  ================  =============  ==========  ======================
ntk              m^{-1/2}  N(0,1), N(0,1)    1              1           1
mean_field       1/m       N(0,1), N(0,1)    m              1           1
standard         1         N(0,1/m), N(0,1)  1              1           m (limit: output part)
lazy (alpha)     alpha/m   N(0,1), N(0,1)    m              1/alpha^2   alpha^2
===============  ========  ================  =============  ==========  ======================

(``lazy`` is centred: f = alpha (h_mf(theta) - h_mf(theta_0)), below.)

Tangent kernel.  The gradients are dh/da_j = s phi_j(x) and dh/dw_j = s a_j phi'_j(x) x / sqrt(d)
with phi_j(x) = relu(<w_j, x>/sqrt d), so

    <grad h(x), grad h(y)> = s^2 m Theta_m(x, y; a, W),
    Theta_m(x, y; a, W) = (1/m) sum_j [phi_j(x) phi_j(y) + a_j^2 phi'_j(x) phi'_j(y) <x, y>/d],

where Theta_m is `genlab.kernels.empirical_ntk((a, W), X, Y)`; for a, W ~ N(0, 1) it tends to the
analytic `genlab.kernels.ntk_kernel` Theta as m -> oo (law of large numbers, error O(m^{-1/2})).
The kernel that drives gradient descent in function space is lr_multiplier * <grad f, grad f>;
``tangent_kernel_scale`` c is the factor that makes it tend to Theta:

* ntk: 1 * (m^{-1/2})^2 * m Theta_m = Theta_m, so c = 1 (Jacot, Gabriel & Hongler 2018).
* mean_field: m * (1/m)^2 * m Theta_m = Theta_m, so c = 1: at initialisation the mean-field
  network with time sped up by m (each neuron moves O(1) per unit time: Mei, Montanari & Nguyen
  2018; Chizat & Bach 2018) has the NTK's kernel; what differs is that the kernel then moves by
  O(1) instead of O(m^{-1/2}), and f_0 = O(m^{-1/2}).
* standard: a = a~/sqrt(m) with a~ ~ N(0, 1), so the output layer gives sum_j phi_j phi_j =
  m Theta_out,m (each a-gradient O(1)) and the hidden layer sum_j a_j^2 phi'phi' <x,y>/d =
  Theta_hid,m(a~) (each squared w-gradient O(1/m)): <grad h, grad h> = m Theta_out,m + Theta_hid,m,
  c = m, and lr_multiplier * <grad h, grad h> / m = Theta_out,m + Theta_hid,m / m tends to the
  output (NNGP) part ``ntk_kernel(part="output")`` alone: no c gives the full Theta.  One learning
  rate for both layers trains, at large width, only the last layer (the largest stable step is
  O(1/m)); Sohl-Dickstein, Novak, Schoenholz & Lee 2020 ("On the infinite width limit of neural
  networks with a standard parameterization") restore the full kernel with layer-wise rates.
  ``kernel_part`` says which part of `ntk_kernel` is the limit.
* lazy: f = alpha (h_mf(theta) - h_mf(theta_0)) has gradient alpha grad h_mf, so
  m * alpha^2 (1/m)^2 * m Theta_m = alpha^2 Theta_m and c = alpha^2.

In every case ``empirical_ntk`` = lr_multiplier <grad f, grad f> / c is Theta_m(a, W) at the
current parameters (for ``standard`` with the raw a ~ N(0, 1/m)).  Linearising one step of
gradient descent, f <- f - lr * lr_multiplier * loss_scale * (1/n) <grad f, grad f> (f - y)
= f - (lr * c * loss_scale / n) * empirical_ntk (f - y): the network follows the NTK flow
(`genlab.kernels.ntk_flow_prediction`) with the step lr_eff = lr * c * loss_scale, which is lr for
ntk, mean_field and lazy, and m * lr for standard (`genlab.regression.dynamics.effective_lr`).

Lazy training (Chizat, Oyallon & Bach 2019, "On lazy training in differentiable programming").
The alpha-scaled, centred mean-field network f_alpha = alpha (h_mf(theta) - h_mf(theta_0)), theta_0 a
frozen copy of the initial parameters, trained on the loss divided by alpha^2 with the mean-field
time (multiplier m): the step on theta is lr * (m / alpha) grad h_mf, and the function-space kernel
is Theta_m for every alpha, while the relative motion of the parameters needed to fit the data
scales like 1/alpha.  alpha = 1 is the centred mean-field network; alpha = sqrt(m) gives
alpha/m = m^{-1/2} and m/alpha^2 = 1, i.e. exactly the centred NTK network h_ntk(theta) -
h_ntk(theta_0) trained with step lr (an identity, not a limit); alpha >> sqrt(m) is lazier still.
Geiger, Spigler, Jacot & Wyart 2020 ("Disentangling feature and lazy training in deep neural
networks", J. Stat. Mech.) write f = alpha' (h_ntk(theta) - h_ntk(theta_0)), h_ntk = m^{-1/2} sum ...,
i.e. alpha' sqrt(m) = alpha here, and draw the crossover in alpha' sqrt(m): feature learning for
alpha' sqrt(m) << 1, lazy training for alpha' sqrt(m) >> 1, the mean-field limit in between.  In
this module's alpha the crossover is therefore at alpha of order one (neurons move by O(1/alpha)),
and the NTK network (alpha = sqrt(m)) is lazy by a factor sqrt(m).

Deep net: `DeepReLUNet`, the fully connected ReLU networks of Schmidt-Hieber 2020 ("Nonparametric
regression using deep neural networks with ReLU activation function", Ann. Statist. 48(4)),
sized by `deep_size`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.core.validation import check_in, check_positive, check_positive_int
from genlab.kernels import empirical_ntk, two_layer_relu

__all__ = ["PARAMETRISATIONS", "TwoLayerNet", "DeepReLUNet", "deep_size", "DEEP_SIZE_RULES"]

#: The two-layer parametrisations (module docstring).
PARAMETRISATIONS = ("ntk", "mean_field", "standard", "lazy")
#: How `deep_size` chooses (width, depth).
DEEP_SIZE_RULES = ("fixed", "schmidt_hieber")


def _check_width(width) -> int:
    if isinstance(width, bool) or not isinstance(width, (int, float)) or int(width) != width or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    return int(width)


def _features(W: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """phi = relu(x W^T / sqrt(d)), x shape (n, d), W shape (m, d) -> (n, m)."""
    return torch.relu(x @ W.T / math.sqrt(W.shape[1]))


class TwoLayerNet(nn.Module):
    """The two-layer ReLU net h(x) = s sum_j a_j relu(<w_j, x>/sqrt d) under one of `PARAMETRISATIONS`.

    Parameters
    ----------
    d, width : int
        Input dimension and width m.
    parametrisation : "ntk", "mean_field", "standard" or "lazy" (module docstring's table)
    alpha : float > 0
        The lazy-training scale (``parametrisation="lazy"`` only; 1 otherwise).
    generator : torch.Generator, optional
        a then W are drawn from it, in that order, as `genlab.kernels.TwoLayerReLU` draws them, so
        ``ntk`` with the same generator state is that network.
    dtype : torch.dtype

    Shapes: ``forward`` maps x (n, d) to (n,).  Parameters ``a`` (m,) and ``W`` (m, d); buffers
    ``a0``, ``W0`` hold their initial values (theta_0 of the lazy network, and the reference of
    `genlab.regression.dynamics.weight_movement`).
    """

    def __init__(self, d: int, width: int, *, parametrisation: str = "ntk", alpha: float = 1.0,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.d = check_positive_int("d", d)
        self.width = m = _check_width(width)
        self.parametrisation = check_in("parametrisation", parametrisation, PARAMETRISATIONS)
        self.alpha = check_positive("alpha", alpha)
        if parametrisation != "lazy" and self.alpha != 1.0:
            raise ValueError(f"alpha applies to parametrisation 'lazy' only, got alpha={alpha!r} "
                             f"with {parametrisation!r}")
        a = torch.randn(m, generator=generator, dtype=dtype)
        W = torch.randn(m, self.d, generator=generator, dtype=dtype)
        if parametrisation == "standard":
            a = a / math.sqrt(m)                       # fan-in initialisation of the output layer
        self.a, self.W = nn.Parameter(a), nn.Parameter(W)
        self.register_buffer("a0", a.clone())
        self.register_buffer("W0", W.clone())

    @property
    def scale(self) -> float:
        """s in h = s sum_j a_j phi_j: m^{-1/2} (ntk), 1/m (mean_field), 1 (standard), alpha/m (lazy)."""
        m = self.width
        return {"ntk": 1.0 / math.sqrt(m), "mean_field": 1.0 / m, "standard": 1.0, "lazy": self.alpha / m}[
            self.parametrisation]

    @property
    def lr_multiplier(self) -> float:
        """The factor on the gradient-descent step: m for mean_field and lazy (mean-field time), else 1."""
        return float(self.width) if self.parametrisation in ("mean_field", "lazy") else 1.0

    @property
    def loss_scale(self) -> float:
        """The factor on the training loss: 1/alpha^2 for lazy (Chizat, Oyallon & Bach 2019), else 1."""
        return 1.0 / self.alpha ** 2 if self.parametrisation == "lazy" else 1.0

    @property
    def tangent_kernel_scale(self) -> float:
        """c with lr_multiplier <grad f, grad f> / c -> ntk_kernel(part=kernel_part) as m -> oo.

        1 (ntk), 1 (mean_field), m (standard), alpha^2 (lazy): derivation in the module docstring.
        """
        return {"ntk": 1.0, "mean_field": 1.0, "standard": float(self.width), "lazy": self.alpha ** 2}[
            self.parametrisation]

    @property
    def kernel_part(self) -> str:
        """The `genlab.kernels.ntk_kernel` part that ``empirical_ntk`` tends to: "output" for standard, else "both"."""
        return "output" if self.parametrisation == "standard" else "both"

    def initial_parameters(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(a0, W0): clones of the initial parameters, shapes (m,) and (m, d)."""
        return self.a0.clone(), self.W0.clone()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p, m = self.parametrisation, self.width
        if p == "ntk":
            return two_layer_relu(self.a, self.W, x)                        # the kernels' network, bit for bit
        h = _features(self.W, x) @ self.a                                   # (n, m) @ (m,)
        if p == "standard":
            return h
        if p == "mean_field":
            return h / m
        return self.alpha * (h / m - _features(self.W0, x) @ self.a0 / m)  # lazy: alpha (h_mf(theta) - h_mf(theta_0))

    def empirical_ntk(self, X, Y=None, *, part: str = "both"):
        """lr_multiplier <grad f(x), grad f(y)> / tangent_kernel_scale at the current parameters.

        Equal to Theta_m(x, y; a, W) = `genlab.kernels.empirical_ntk((a, W), X, Y)` for every
        parametrisation (module docstring); it tends to ``ntk_kernel(X, Y, part=kernel_part)``.

        Parameters
        ----------
        X : array, shape (n, d);  Y : array, shape (n_y, d), optional (defaults to X)
        part : "both", "output" (gradients in a) or "hidden" (gradients in W)

        Returns
        -------
        array, shape (n, n_y), float64; torch if X is a tensor, else numpy.
        """
        return empirical_ntk((self.a.detach(), self.W.detach()), X, Y, part=part)


class DeepReLUNet(nn.Module):
    """A fully connected ReLU network with ``depth`` hidden layers of ``width`` units, biases, linear output.

    x (n, d) -> (n,).  The network class F(L, p) of Schmidt-Hieber 2020 (Ann. Statist. 48(4),
    eq. (2)), without its sparsity and weight-size constraints.  He (Kaiming-normal) initialisation
    (He, Zhang, Ren & Sun 2015): hidden weights N(0, 2 / fan_in), the output weights N(0, 1 / fan_in)
    (no ReLU after them), biases 0.

    Parameters
    ----------
    d, width, depth : int >= 1
    generator : torch.Generator, optional
    dtype : torch.dtype
    """

    def __init__(self, d: int, width: int, depth: int, *, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        d, width = check_positive_int("d", d), _check_width(width)
        depth = check_positive_int("depth", depth)
        sizes = [d] + [width] * depth + [1]
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            lin = nn.Linear(fan_in, fan_out, dtype=dtype)
            gain = 1.0 if i == depth else 2.0
            with torch.no_grad():
                lin.weight.copy_(torch.randn(fan_out, fan_in, generator=generator, dtype=dtype)
                                 * math.sqrt(gain / fan_in))
                lin.bias.zero_()
            layers += [lin] if i == depth else [lin, nn.ReLU()]
        self.layers = nn.Sequential(*layers)
        self.d, self.width, self.depth = d, width, depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)[:, 0]


def deep_size(n: int, d: int, s: float, *, rule: str = "fixed", width: int = 64, depth: int = 3) -> tuple[int, int]:
    """(width, depth) of a `DeepReLUNet` for n samples of a beta = s smooth function on R^d.

    ``rule="fixed"``: the given (width, depth).  ``rule="schmidt_hieber"``: the orders of
    Schmidt-Hieber 2020, Theorem 1 for one Holder-s function of d variables (q = 0, t = d): width
    p ~ n phi_n with phi_n = n^{-2s/(2s+d)}, i.e. p ~ n^{d/(2s+d)}, and depth L ~ log2 n.  The
    constants are ours, chosen so that Adam trains the network at the sizes genlab runs:

        width = min(width, ceil(4 n^{d/(2s+d)})),     depth = max(2, ceil(log2(n) / 4)),

    the given ``width`` capping the growth (the cost of a training step grows as width^2).

    (The theorem asks for L >= log2(4 max(d, s)) log2 n, tens of layers at n ~ 10^3: a statement
    about approximation by the empirical-risk minimiser, not a size that gradient training reaches.)

    Returns
    -------
    (width, depth) : tuple of int
    """
    n, d = check_positive_int("n", n), check_positive_int("d", d)
    s = check_positive("s", s)
    check_in("rule", rule, DEEP_SIZE_RULES)
    if rule == "fixed":
        return _check_width(width), check_positive_int("depth", depth)
    p = min(_check_width(width), math.ceil(4.0 * n ** (d / (2.0 * s + d))))
    L = max(2, math.ceil(math.log2(n) / 4.0))
    return p, L
