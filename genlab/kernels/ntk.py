r"""Infinite-width kernels of the two-layer ReLU network, and its finite-width (empirical) NTK.

Parametrisation (NTK parametrisation, no bias), fixed for all of genlab:

    f(x; a, W) = m^{-1/2} sum_{j=1}^m a_j relu(<w_j, x> / sqrt(d)),   x in R^d,

with width m, output weights a in R^m, hidden weights W in R^{m x d} (rows
w_j), initialised a_j ~ N(0, 1), w_j ~ N(0, I_d) independently; both layers
are trained.  There is no bias: to have one, append a constant coordinate to
every input (x -> (x, 1), so d -> d + 1 in every formula, including the
1/sqrt(d)).  relu'(0) = 0, as in torch's autograd.

Arc-cosine kernels (Cho & Saul 2009, "Kernel methods for deep learning",
NIPS).  For w ~ N(0, I_d) and theta the angle between x and y,

    k_n(x, y) = 2 E_w[1{<w,x> > 0} 1{<w,y> > 0} <w,x>^n <w,y>^n] = (1/pi) |x|^n |y|^n J_n(theta),
    J_0(theta) = pi - theta,     J_1(theta) = sin(theta) + (pi - theta) cos(theta),

so E[relu'(<w,x>) relu'(<w,y>)] = k_0(x, y) / 2 = (pi - theta) / (2 pi) and
E[relu(<w,x>) relu(<w,y>)] = k_1(x, y) / 2.  k_1 is homogeneous of degree 1
in each argument and k_0 of degree 0, so the 1/sqrt(d) inside relu gives
k_1(x/sqrt(d), y/sqrt(d)) = k_1(x, y) / d and leaves k_0 unchanged.

NNGP kernel (Neal 1996; Lee et al. 2018, "Deep neural networks as Gaussian
processes", ICLR; Matthews et al. 2018): at initialisation f is, as m -> oo,
a centred Gaussian process with covariance

    Sigma(x, y) = E[f(x) f(y)] = E[a^2] E_w[relu(<w,x>/sqrt d) relu(<w,y>/sqrt d)] = k_1(x, y) / (2 d).

Neural tangent kernel (Jacot, Gabriel & Hongler 2018, NeurIPS).  The
gradients of f are

    df/da_j = m^{-1/2} relu(<w_j,x>/sqrt d),     df/dw_j = m^{-1/2} a_j relu'(<w_j,x>/sqrt d) x / sqrt(d),

so the empirical (finite-width) NTK is a mean over the m neurons,

    Theta_m(x, y) = <grad f(x), grad f(y)>
                  = (1/m) sum_j [ relu(u_j) relu(v_j) + a_j^2 relu'(u_j) relu'(v_j) <x,y>/d ],
    u_j = <w_j,x>/sqrt d,  v_j = <w_j,y>/sqrt d,

and by the law of large numbers (a_j independent of w_j, E a_j^2 = 1) it
tends to

    Theta(x, y) = k_1(x, y)/(2 d)  +  (<x,y>/d) k_0(x, y)/2
                  [output layer (a): Sigma]  [hidden layer (W)]
                = [k_1(x, y) + <x,y> k_0(x, y)] / (2 d)
                = [ |x||y| sin(theta) + 2 (pi - theta) <x,y> ] / (2 pi d).

On the diagonal Theta(x, x) = |x|^2 / d (both parts |x|^2/(2d)), so
E Theta(x, x) = 1 for x ~ N(0, I_d).  The error Theta_m - Theta is a mean of
m i.i.d. centred terms: O(m^{-1/2}) with a per-entry standard error
sd(term)/sqrt(m).  The hidden-layer part alone, times d, is the Gram matrix
H^oo of Du, Zhai, Poczos & Singh 2019 (ICLR, "Gradient descent provably
optimizes over-parameterized neural networks") and Arora, Du, Hu, Li & Wang
2019 (ICML, "Fine-grained analysis of optimization and generalization for
overparameterized two-layer neural networks"), who train W only, with no
1/sqrt(d) and unit-norm inputs: H^oo_ij = <x_i,x_j> (pi - theta_ij) / (2 pi).
``part`` selects the output-layer ("output"), hidden-layer ("hidden") or full
("both") kernel.  Under the mean-field parametrisation (1/m instead of
m^{-1/2}) the NTK vanishes like 1/m; it is not covered here.

Numerics: theta = arccos(cos) loses half the digits as theta -> 0 or pi, so
pairs with 1 - |cos| < 1e-4 get their angle from Kahan's formula
theta = 2 atan2(|x^ - y^|, |x^ + y^|) on the unit vectors (x^ = x/|x|) and
sin(theta) = |x^ - y^| |x^ + y^| / 2, good to a few ulps (y = x and y = -x
give theta = 0 and pi exactly; other parallel pairs give theta ~ eps).  Where x = 0 or y = 0 both kernels are 0 (k_1 by its factor |x||y|;
k_0 because relu'(0) = 0).

Every function takes numpy arrays or torch tensors of shape (n, d), computes
in float64 and returns the kind it was given.  A float64 result larger than
``max_bytes`` is refused before allocation; the computation peaks at about
eight matrices of the result's size.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.kernels._arrays import DEFAULT_MAX_BYTES, as_float64, check_matrix_bytes, is_torch, like

__all__ = ["TwoLayerReLU", "two_layer_relu", "arccos_kernel", "nngp_kernel", "ntk_kernel", "empirical_ntk",
           "ntk_min_eigenvalue", "PARTS"]

#: Which parameters' gradients enter the NTK: both layers, a only (= the NNGP kernel), W only (Du et al.).
PARTS = ("both", "output", "hidden")

# Pairs with 1 - |cos theta| below this take theta from Kahan's formula: elsewhere arccos has
# condition number |cos| / sin(theta) <= 1 / sqrt(2e-4) ~ 71, i.e. an error of ~ 71 d eps in theta.
_REFINE = 1e-4


def two_layer_relu(a: torch.Tensor, W: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """f(X; a, W) = m^{-1/2} relu(X W^T / sqrt(d)) a: a shape (m,), W shape (m, d), X shape (n, d) -> (n,)."""
    m, d = W.shape
    return torch.relu(X @ W.T / math.sqrt(d)) @ a / math.sqrt(m)   # (n, m) @ (m,)


class TwoLayerReLU(nn.Module):
    """The two-layer ReLU network of this module's docstring, in the NTK parametrisation, float64.

    Parameters ``a`` shape (width,) and ``W`` shape (width, d), drawn i.i.d. N(0, 1)
    from ``generator``; ``forward`` maps (n, d) to (n,).
    """

    def __init__(self, d: int, width: int, *, generator: torch.Generator | None = None,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        for name, v in (("d", d), ("width", width)):
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.d, self.width = int(d), int(width)
        self.a = nn.Parameter(torch.randn(self.width, generator=generator, dtype=dtype))
        self.W = nn.Parameter(torch.randn(self.width, self.d, generator=generator, dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return two_layer_relu(self.a, self.W, x)


def _pair(X, Y, max_bytes):
    torch_out = is_torch(X)
    X = as_float64(X, "X")
    Y = X if Y is None else as_float64(Y, "Y")
    if X.shape[1] == 0:
        raise ValueError("X must have at least one column (d >= 1)")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(f"X and Y must have the same dimension d, got {X.shape[1]} and {Y.shape[1]}")
    check_matrix_bytes(X.shape[0], Y.shape[0], max_bytes)
    return X, Y, torch_out


def _angles(X: torch.Tensor, Y: torch.Tensor):
    """G = X Y^T, the norms, psi = pi - theta and sin(theta), each (n, m), accurate near theta = 0 and pi."""
    nx, ny = torch.linalg.vector_norm(X, dim=1), torch.linalg.vector_norm(Y, dim=1)   # (n,), (m,)
    G = X @ Y.T                                                                       # (n, m)
    denom = nx[:, None] * ny[None, :]
    zero = denom == 0
    cos = torch.where(zero, 0.0, G / torch.where(zero, 1.0, denom)).clamp(-1.0, 1.0)
    psi = torch.arccos(-cos)                                  # pi - theta
    sin = torch.sqrt((1.0 - cos) * (1.0 + cos))
    near = (1.0 - cos.abs() < _REFINE) & ~zero
    idx = near.nonzero()                                      # (p, 2): the near-(anti)parallel pairs
    if len(idx):
        Xh = X / torch.where(nx == 0, 1.0, nx)[:, None]
        Yh = Y / torch.where(ny == 0, 1.0, ny)[:, None]
        chunk = max(1, 2 ** 22 // max(1, X.shape[1]))        # bounds the (chunk, d) temporaries at 32 MiB
        for s in range(0, len(idx), chunk):
            i, j = idx[s:s + chunk].T
            xh, yh = Xh[i], Yh[j]                                    # (chunk, d)
            minus = torch.linalg.vector_norm(xh - yh, dim=1)         # 2 sin(theta/2)
            plus = torch.linalg.vector_norm(xh + yh, dim=1)          # 2 cos(theta/2)
            psi[i, j] = 2.0 * torch.atan2(plus, minus)
            sin[i, j] = minus * plus / 2.0
    return G, nx, ny, psi, sin, zero


def _symmetrise(K: torch.Tensor, same: bool) -> torch.Tensor:
    return (K + K.T) / 2.0 if same else K


def arccos_kernel(X, Y=None, order: int = 1, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """Cho & Saul (2009) arc-cosine kernel k_order(x, y) = (1/pi) |x|^n |y|^n J_n(theta), n = 0 or 1.

    k_0 = 1 - theta/pi,  k_1 = (|x||y|/pi) (sin theta + (pi - theta) cos theta);
    equivalently k_n(x, y) = 2 E_{w ~ N(0, I_d)}[relu'(<w,x>) relu'(<w,y>)] for n = 0
    and 2 E[relu(<w,x>) relu(<w,y>)] for n = 1 (the factor 2 is Cho & Saul's).
    Zero rows give 0 for both orders (relu'(0) = 0).

    Parameters
    ----------
    X : array, shape (n, d)
    Y : array, shape (m, d), optional
        Defaults to X (the Gram matrix, returned exactly symmetric).
    order : 0 or 1
    max_bytes : int
        Refuse (before allocating) an (n, m) float64 result larger than this.

    Returns
    -------
    array, shape (n, m), float64; torch if X is a tensor, else numpy.

    >>> import numpy as np
    >>> K = arccos_kernel(np.array([[1.0, 0.0], [0.0, 2.0]]), order=1)
    >>> float(K[0, 0]), float(K[1, 1]), round(float(K[0, 1]) * np.pi, 12)   # |x|^2; 2/pi at theta = pi/2
    (1.0, 4.0, 2.0)
    """
    if order not in (0, 1):
        raise ValueError(f"order must be 0 or 1, got {order!r}")
    X, Yt, torch_out = _pair(X, Y, max_bytes)
    G, nx, ny, psi, sin, zero = _angles(X, Yt)
    if order == 0:
        K = torch.where(zero, 0.0, psi / math.pi)
    else:
        K = (nx[:, None] * ny[None, :] * sin + psi * G) / math.pi     # |x||y| cos(theta) = G
    return like(_symmetrise(K, Y is None), torch_out)


def nngp_kernel(X, Y=None, *, max_bytes: int = DEFAULT_MAX_BYTES):
    """NNGP kernel Sigma(x, y) = E[f(x) f(y)] = k_1(x, y) / (2 d) of the network at initialisation, m -> oo.

    Shapes and types as `arccos_kernel`; it is also ``ntk_kernel(X, Y, part="output")``.
    Reference: Neal 1996; Lee et al. 2018 (ICLR); Cho & Saul 2009 for k_1.
    """
    return ntk_kernel(X, Y, part="output", max_bytes=max_bytes)


def ntk_kernel(X, Y=None, *, part: str = "both", max_bytes: int = DEFAULT_MAX_BYTES):
    """Analytic (m -> oo) NTK Theta(x, y) = [k_1(x, y) + <x, y> k_0(x, y)] / (2 d) of the two-layer ReLU net.

    ``part="output"`` keeps k_1/(2d) (gradients in a: the NNGP kernel), ``"hidden"``
    keeps <x,y> k_0/(2d) (gradients in W), ``"both"`` their sum.  Derivation in
    the module docstring (Jacot, Gabriel & Hongler 2018; Du et al. 2019; Arora et al. 2019).

    Parameters
    ----------
    X : array, shape (n, d)
    Y : array, shape (m, d), optional (defaults to X: an exactly symmetric Gram matrix)
    part : "both", "output" or "hidden"
    max_bytes : int
        Refuse (before allocating) an (n, m) float64 result larger than this.

    Returns
    -------
    array, shape (n, m), float64; torch if X is a tensor, else numpy.

    >>> import numpy as np
    >>> K = ntk_kernel(np.eye(2))            # orthonormal inputs, d = 2
    >>> float(K[0, 0]), round(float(K[0, 1]) * 4 * np.pi, 12)   # |x|^2/d; 1/(2 pi d) off the diagonal
    (0.5, 1.0)
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    X, Yt, torch_out = _pair(X, Y, max_bytes)
    G, nx, ny, psi, sin, zero = _angles(X, Yt)
    d = X.shape[1]
    output = nx[:, None] * ny[None, :] * sin + psi * G         # pi k_1
    hidden = psi * G                                            # pi <x,y> k_0 (0 where x or y is 0)
    K = {"both": output + hidden, "output": output, "hidden": hidden}[part] / (2.0 * math.pi * d)
    return like(_symmetrise(K, Y is None), torch_out)


def ntk_min_eigenvalue(X, *, part: str = "both", max_bytes: int = DEFAULT_MAX_BYTES) -> float:
    """lambda_min of the analytic NTK Gram matrix Theta(X, X), shape (n, d) -> float.

    Under gradient flow on L = (1/(2n)) sum_i (f(x_i) - y_i)^2 in the linear regime the training
    residual decays at least like exp(-lr t lambda_min / n), so L(t) <= exp(-2 lr t lambda_min / n) L(0)
    (`genlab.kernels.ntk_flow_loss` gives the whole curve).  Du, Zhai, Poczos & Singh 2019's lambda_0
    (unit-norm x, only W trained, no 1/sqrt(d)) is d times ``ntk_min_eigenvalue(X, part="hidden")``;
    it is positive when no two inputs are parallel.  Both parts are 1-homogeneous in each input, so
    two inputs that are positive multiples of each other make the full Gram matrix singular too.
    """
    X = as_float64(X, "X")
    if X.shape[0] == 0:
        raise ValueError("X must have at least one row")
    K = ntk_kernel(X, part=part, max_bytes=max_bytes)
    return float(torch.linalg.eigvalsh(K)[0])


def _two_layer_params(model):
    """(a, W) as float64 tensors when ``model`` is the two-layer net or an (a, W) pair, else None."""
    if isinstance(model, TwoLayerReLU):
        return model.a.detach().to(torch.float64), model.W.detach().to(torch.float64)
    if isinstance(model, (tuple, list)) and len(model) == 2:
        a, W = as_float64(model[0], "a", (1,)), as_float64(model[1], "W", (2,))
        if a.shape[0] != W.shape[0]:
            raise ValueError(f"a has {a.shape[0]} entries but W has {W.shape[0]} rows")
        return a, W
    return None


def _closed_form_ntk(a, W, X, Y, part, max_bytes):
    m, d = W.shape
    for name, Z in (("X", X), ("Y", Y)):
        check_matrix_bytes(Z.shape[0], m, max_bytes, f"feature matrix of {name}")
    ZX, ZY = X @ W.T / math.sqrt(d), Y @ W.T / math.sqrt(d)      # (n, m), (n_y, m)
    K = torch.zeros(X.shape[0], Y.shape[0], dtype=torch.float64, device=X.device)
    if part in ("both", "output"):
        K += torch.relu(ZX) @ torch.relu(ZY).T
    if part in ("both", "hidden"):
        K += (X @ Y.T / d) * (((ZX > 0) * a ** 2) @ (ZY > 0).to(torch.float64).T)
    return K / m


def _jacobian(fn, params: dict, X, max_bytes) -> torch.Tensor:
    """(n, P) Jacobian of fn(params, X), shape (n,) or (n, 1), in the flattened parameters."""
    n, P = X.shape[0], sum(p.numel() for p in params.values())
    check_matrix_bytes(n, P, max_bytes, "Jacobian")
    jac = torch.func.jacrev(fn)(params, X)
    return torch.cat([j.reshape(n, -1) for j in jac.values()], dim=1)   # (n, P)


def empirical_ntk(model, X, Y=None, *, part: str = "both", method: str = "closed_form",
                  max_bytes: int = DEFAULT_MAX_BYTES):
    """Finite-width NTK <grad_theta f(x), grad_theta f(y)> at the current parameters, float64.

    Parameters
    ----------
    model : TwoLayerReLU, (a, W) with shapes (m,) and (m, d), or any torch.nn.Module
        A module maps (n, d) to (n,) or (n, 1); its parameters and floating buffers
        are used in float64 (the module itself is not changed).
    X : array, shape (n, d);  Y : array, shape (n_y, d), optional (defaults to X)
    part : "both", "output" (a only) or "hidden" (W only); a general module takes "both"
    method : "closed_form" (the two-layer net only: the neuron mean of the module
        docstring, O(n m d)) or "autograd" (``torch.func.jacrev``, any module)
    max_bytes : int
        Refuse (before allocating) a Gram, feature or Jacobian matrix larger than this.

    Returns
    -------
    array, shape (n, n_y), float64; torch if X is a tensor, else numpy.
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, got {part!r}")
    if method not in ("closed_form", "autograd"):
        raise ValueError(f"method must be 'closed_form' or 'autograd', got {method!r}")
    X, Yt, torch_out = _pair(X, Y, max_bytes)
    two_layer = _two_layer_params(model)
    if two_layer is not None:
        a, W = two_layer
        if W.shape[1] != X.shape[1]:
            raise ValueError(f"the network takes d = {W.shape[1]} inputs, X has {X.shape[1]} columns")
        if method == "closed_form":
            return like(_symmetrise(_closed_form_ntk(a, W, X, Yt, part, max_bytes), Y is None), torch_out)
        names = {"both": ("a", "W"), "output": ("a",), "hidden": ("W",)}[part]
        fixed = {"a": a, "W": W}

        def fn(p, Z):
            q = {**fixed, **p}
            return two_layer_relu(q["a"], q["W"], Z)
        params = {k: fixed[k] for k in names}
    else:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a TwoLayerReLU, an (a, W) pair or a torch.nn.Module, got {type(model)}")
        if method == "closed_form":
            raise ValueError("method='closed_form' is for the two-layer ReLU net only; use method='autograd'")
        if part != "both":
            raise ValueError(f"part={part!r} is for the two-layer ReLU net only; a general module takes 'both'")
        params = {k: v.detach().to(torch.float64) for k, v in model.named_parameters()}
        buffers = {k: (v.detach().to(torch.float64) if v.is_floating_point() else v)
                   for k, v in model.named_buffers()}

        def fn(p, Z):
            out = torch.func.functional_call(model, {**p, **buffers}, (Z,))
            if out.ndim == 2 and out.shape[1] == 1:
                out = out[:, 0]
            if out.shape != (Z.shape[0],):
                raise ValueError(f"the module must map (n, d) to (n,) or (n, 1), got {tuple(out.shape)}")
            return out
    JX = _jacobian(fn, params, X, max_bytes)
    JY = JX if Y is None else _jacobian(fn, params, Yt, max_bytes)
    return like(_symmetrise(JX @ JY.T, Y is None), torch_out)
