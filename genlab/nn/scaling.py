"""Width scalings of an MLP's linear layers: standard, NTK and mean-field / muP (issue 17).

A layer computes y = m x w + b with a fixed multiplier m on its stored weight w ~ N(0, s^2) and
b = 0 at initialisation.  Adam moves every stored weight by about the learning rate lr whatever its
gradient's scale, so the effective weight m w moves by about m lr: the multiplier and the init scale
fix the layer's learning rate under genlab's one Adam rate (the multiplier / init / learning-rate
symmetry of the abc-parametrisation, Yang & Hu 2021; its Adam form, Yang et al. 2022).
With fan-in f of a layer and width n:

- ``standard``: PyTorch's ``nn.Linear`` (m = 1, w and b ~ U(-1/sqrt(f), 1/sqrt(f))), the plain
  `ReplicaLinear`; the default, bit for bit the module genlab always had.
- ``ntk``: the network of Jacot, Gabriel & Hongler (2018): every effective weight m w is
  N(0, 1/f) at init, multiplier 1/sqrt(f) on N(0, 1) weights for the input and output layers;
  b = 0 at init (they draw b ~ N(0, beta^2)).  The hidden (width-to-width) layers store the same
  law as m = 1/n on w ~ N(0, n), which changes how Adam moves them and nothing else: Adam moves a
  stored weight by about lr, so a hidden layer's effective weights move by lr m, and n of them
  add up coherently in each output, which changes by about lr n m.  With Jacot's m = 1/sqrt(n)
  that is lr sqrt(n), and the hidden features would move O(1) per step at the lr ~ 1/sqrt(n) the
  output layer needs; with m = 1/n it is lr, so at lr ~ 1/sqrt(n) every layer moves by O(1/sqrt(n)) relative to its
  init while the output moves by O(1) per step: the lazy (kernel) regime of Chizat, Oyallon &
  Bach (2019) for Adam.  Under gradient descent Jacot's scaling is lazy at lr O(1).
- ``mean_field``: as ntk, with the output layer's m = 1/n (s = 1) in place of 1/sqrt(n): the 1/n of
  Mei, Montanari & Nguyen 2018's two-layer mean-field network and muP's readout (Yang & Hu 2021).
  At init the output is ntk's divided by sqrt(n).  Under Adam at rate lr the effective rates are
  lr / sqrt(f) (input), lr / n (hidden), lr / n (output) and lr (biases): muP's Adam rule (Yang et
  al. 2022, "Tensor Programs V", Table 3; Table 8 is the same with the output multiplier), so lr
  transfers across widths.  Adam's eps (1e-8) sits beside the hidden weights' gradients, which are
  1/n^2 of the effective ones: at n = 2048 it damps their steps by a few per cent.

Shapes as `ReplicaLinear`: x (..., f) -> (..., out), or (R, B, f) -> (R, B, out) for R replicas.
"""

from __future__ import annotations

import math

import torch

from genlab.core.validation import check_in
from genlab.nn.linear import ReplicaLinear

__all__ = ["SCALINGS", "LAYER_KINDS", "ScaledLinear", "layer_scale", "make_linear", "weight_movement"]

#: the width scalings a TimeMLP takes (``diffusion.network_scaling``)
SCALINGS = ("standard", "ntk", "mean_field")
#: where a layer sits: input (fan-in fixed as the width grows), hidden (width to width), output (width to d)
LAYER_KINDS = ("input", "hidden", "output")


def layer_scale(scaling: str, kind: str, fan_in: int) -> tuple[float, float]:
    """(multiplier m, init std s) of a layer's stored weight under ``scaling``, ntk or mean_field.

    >>> layer_scale("mean_field", "hidden", 256)
    (0.00390625, 16.0)
    """
    check_in("network_scaling", scaling, SCALINGS[1:])
    check_in("kind", kind, LAYER_KINDS)
    if kind == "hidden":
        return 1.0 / fan_in, math.sqrt(fan_in)
    if kind == "output" and scaling == "mean_field":
        return 1.0 / fan_in, 1.0
    return 1.0 / math.sqrt(fan_in), 1.0


class ScaledLinear(ReplicaLinear):
    """y = multiplier * x w + b, w ~ N(0, init_std^2) and b = 0 at init; parameters named as
    `ReplicaLinear`'s, so `genlab.nn.replicas` stacks and unstacks them alike.

    Replica r drawn from the generator state g_r equals a plain layer drawn from g_r.
    """

    def __init__(self, in_features: int, out_features: int, multiplier: float, init_std: float,
                 replicas: int | None = None, generator: torch.Generator | None = None):
        self.multiplier, self.init_std = float(multiplier), float(init_std)
        super().__init__(in_features, out_features, replicas, generator)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for i in range(1 if self.replicas is None else self.replicas):
            w = self.weight if self.replicas is None else self.weight[i]
            # drawn in nn.Linear's (out, in) order, as ReplicaLinear draws
            w.copy_(torch.empty(self.out_features, self.in_features).normal_(
                0.0, self.init_std, generator=generator).T)
        self.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.replicas is None:
            return torch.addmm(self.bias, x.reshape(-1, self.in_features), self.weight,
                               alpha=self.multiplier).reshape(*x.shape[:-1], self.out_features)
        return torch.baddbmm(self.bias, x, self.weight, alpha=self.multiplier)  # (R, B, out)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, multiplier={self.multiplier:g}, init_std={self.init_std:g}"


def make_linear(scaling: str, kind: str, in_features: int, out_features: int, replicas: int | None = None,
                generator: torch.Generator | None = None) -> ReplicaLinear:
    """The layer of ``kind`` (input, hidden, output) under ``scaling``: a plain `ReplicaLinear` for
    standard, else a `ScaledLinear` with `layer_scale`'s multiplier and init."""
    check_in("network_scaling", scaling, SCALINGS)
    if scaling == "standard":
        return ReplicaLinear(in_features, out_features, replicas, generator)
    m, s = layer_scale(scaling, kind, in_features)
    return ScaledLinear(in_features, out_features, m, s, replicas, generator)


@torch.no_grad()
def weight_movement(net: torch.nn.Module, net0: torch.nn.Module) -> dict[str, float]:
    """How far ``net``'s weight matrices moved from ``net0``'s (its initialisation).

    Returns ``weight_movement``, ||W - W_0||_F / ||W_0||_F pooled over every linear layer,
    ``weight_movement_spectral``, the largest over layers of ||W - W_0||_2 / ||W_0||_2, and that
    ratio per layer as ``weight_movement_spectral_<layer>`` (the module's name, dots as
    underscores: which layer moved, e.g. a time branch against the x-pathway); all in the
    coordinates the layers compute with (multiplier x stored weight), biases left out (the scaled
    layers start them at 0).  Chizat, Oyallon & Bach (2019) call training lazy when the weights
    barely move while the function does.  The spectral ratio is the one that bounds how much a
    layer's outputs change (Yang, Simon & Bernstein 2023): a rank-one step of Frobenius size e is
    e / sqrt(n) of a width-n random layer's Frobenius norm but about e / 2 of its spectral norm, so
    a small Frobenius ratio alone does not rule out feature learning.
    """
    layers0 = dict(net0.named_modules())
    num = den = 0.0
    per_layer = {}
    for name, layer in net.named_modules():
        if isinstance(layer, ReplicaLinear):
            m = getattr(layer, "multiplier", 1.0)
            w = m * layer.weight.double()
            w0 = m * layers0[name].weight.double().to(w.device)
            num += float((w - w0).pow(2).sum())
            den += float(w0.pow(2).sum())
            ratio = torch.linalg.matrix_norm(w - w0, ord=2) / torch.linalg.matrix_norm(w0, ord=2)
            per_layer[f"weight_movement_spectral_{name.replace('.', '_')}"] = float(ratio.max())
    return {"weight_movement": math.sqrt(num / den),
            "weight_movement_spectral": max(per_layer.values(), default=0.0), **per_layer}
