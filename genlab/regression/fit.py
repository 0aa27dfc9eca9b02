"""Fit one estimator of f* to n labelled points, as ``cfg.regression`` names it.

Every tuning choice is made on a held-out 20% of the n points (`held_out_split`):
the network's stopping step (``early_stopping``), NTK kernel ridge's ridge, k-NN's k.
The kernel and k-NN estimators are then refitted on all n points with the chosen
value; the network keeps the weights of least held-out error, trained on the other 80%.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from genlab.core.seeding import derive_seed, make_generator
from genlab.regression.held_out import held_out_split, select_by_held_out
from genlab.regression.knn import KNNRegressor, knn_theory_k
from genlab.regression.krr import NTKRidge
from genlab.regression.networks import DeepReLUNet, TwoLayerNet, deep_size
from genlab.regression.train import TrainResult, train_regression

__all__ = ["RegressionFit", "fit_estimator", "make_network", "network_inputs"]


@dataclass
class RegressionFit:
    """A fitted estimator.

    Attributes
    ----------
    predict : callable
        ``x (k, D) float64 -> (k,) float64``, the estimate f_hat.
    train_loss : float
        (1/(2 n_fit)) sum (f_hat(x_i) - y_i)^2 over the points it was fitted on.
    extras : dict
        Flat numbers the run reports (chosen ridge, k, width, depth, stopping step, ...).
    net : torch.nn.Module or None
        The trained network (model deep or two_layer).
    history : TrainResult or None
        Its training record.
    fit_idx : Tensor or None
        The indices of the points a network was trained on (None: all n).
    fit_seconds : float
    """

    predict: Callable[[torch.Tensor], torch.Tensor]
    train_loss: float
    extras: dict = field(default_factory=dict)
    net: Optional[torch.nn.Module] = None
    history: Optional[TrainResult] = None
    fit_idx: Optional[torch.Tensor] = None
    fit_seconds: float = 0.0


def make_network(r, n: int, dim: int, generator: torch.Generator) -> torch.nn.Module:
    """The untrained network of ``r`` (a RegressionConfig) for n points in R^dim."""
    if r.model == "two_layer":
        return TwoLayerNet(dim, r.width, parametrisation=r.parametrisation, alpha=r.alpha, generator=generator)
    width, depth = deep_size(n, r.d, r.s, rule=r.size_rule, width=r.width, depth=r.depth)
    return DeepReLUNet(dim, width, depth, generator=generator)


def network_inputs(r, x: torch.Tensor) -> torch.Tensor:
    """The inputs a two-layer network sees: x, with a constant coordinate 1 appended when
    ``r.input_bias`` (x -> (x, 1), so that its hidden units relu(<w, x> + b) have a bias), shape (k, D [+ 1])."""
    if r.model != "two_layer" or not r.input_bias:
        return x
    return torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)], dim=1)


def _half_mse(pred: torch.Tensor, y: torch.Tensor) -> float:
    return float(0.5 * ((pred - y) ** 2).mean())


def _fit_network(r, x, y, *, seed: int, device, progress: bool, init_tag: str = "init",
                 on_init=None) -> RegressionFit:
    x = network_inputs(r, x)
    n, dim = x.shape
    net = make_network(r, n, dim, make_generator(derive_seed(seed, "regression_" + init_tag))).to(device)
    if on_init is not None:
        on_init(net)
    fit_idx, val = (held_out_split(n, generator=make_generator(derive_seed(seed, "regression_split")))
                    if r.early_stopping else (torch.arange(n), None))
    xv, yv = (x[val].to(device), y[val].to(device)) if val is not None else (None, None)
    hist = train_regression(net, x[fit_idx].to(device), y[fit_idx].to(device), lr=r.lr, optim=r, optimizer=r.optimizer,
                            steps=r.steps, batch_size=r.batch_size,
                            generator=make_generator(derive_seed(seed, "regression_batches")),
                            x_val=xv, y_val=yv, eval_every=r.eval_every, progress=progress)

    def predict(z):
        with torch.no_grad():
            return net(network_inputs(r, z).to(device)).to("cpu", torch.float64)
    extras = {"best_step": hist.best_step} if r.early_stopping else {}
    if r.model == "deep":
        extras.update(width=net.width, depth=net.depth)
    return RegressionFit(predict, hist.final_train_loss, extras, net, hist, fit_idx)


def _fit_krr(r, x, y, *, seed: int, **_) -> RegressionFit:
    model = NTKRidge(bias=r.input_bias).fit(x, y, ridge=r.ridge, max_bytes=r.max_gram_bytes,
                           generator=make_generator(derive_seed(seed, "regression_split")))
    return RegressionFit(model.predict, _half_mse(model.predict(x), y), {"ridge": float(model.ridge)})


def _fit_knn(r, x, y, *, seed: int, **_) -> RegressionFit:
    n = x.shape[0]
    k = r.knn_k
    if not k:
        train, val = held_out_split(n, generator=make_generator(derive_seed(seed, "regression_split")))
        k0 = knn_theory_k(len(train), r.d, r.s)
        grid = sorted({max(1, min(len(train), round(k0 * f))) for f in (0.25, 0.5, 1.0, 2.0, 4.0)})

        def score(kk):
            pred = KNNRegressor(x[train], y[train], kk).predict(x[val])
            return float(((pred - y[val]) ** 2).mean())
        k, _ = select_by_held_out(grid, score)
    model = KNNRegressor(x, y, min(int(k), n))
    return RegressionFit(model.predict, _half_mse(model.predict(x), y), {"knn_k": int(model.k)})


_FITS = {"deep": _fit_network, "two_layer": _fit_network, "ntk_krr": _fit_krr, "knn": _fit_knn}


def fit_estimator(r, x: torch.Tensor, y: torch.Tensor, *, seed: int, device="cpu", progress: bool = False,
                  **network_kw) -> RegressionFit:
    """Fit ``r.model`` to x (n, D), y (n,) float64; the run's ``seed`` derives every random choice.

    ``network_kw`` go to a network's fit: ``init_tag`` (another initialisation stream, for a twin) and
    ``on_init(net)``, called with the untrained network (to record what the regime measurements need).
    """
    t0 = time.perf_counter()
    out = _FITS[r.model](r, x, y, seed=seed, device=device, progress=progress, **network_kw)
    out.fit_seconds = time.perf_counter() - t0
    return out
