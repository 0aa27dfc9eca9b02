"""``regression.png`` of a run: what `genlab.plots.regression` draws, from a fitted estimator and its target."""

from __future__ import annotations

import torch

from genlab.plots.regression import plot_regression_fit

__all__ = ["plot_regression"]

#: grid points of the one-dimensional curve
_GRID = 512


def plot_regression(path, target, fit, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor, *,
                    title: str) -> None:
    """Draw ``fit`` (a `genlab.regression.fit.RegressionFit`) against ``target`` to ``path``."""
    curve = scatter = losses = None
    if target.dim == 1:
        lo, hi = float(x_test.min()), float(x_test.max())
        grid = torch.linspace(lo, hi, _GRID, dtype=torch.float64)[:, None]
        curve = {"grid": grid[:, 0].numpy(), "f_star": target.f(grid).numpy(),
                 "f_hat": fit.predict(grid).numpy(), "x": x[:, 0].numpy(), "y": y.numpy()}
    else:
        k = min(len(x_test), 2000)
        scatter = (target.f(x_test[:k]).numpy(), fit.predict(x_test[:k]).numpy())
    if fit.history is not None:
        losses = (fit.history.loss_steps, fit.history.losses)
    plot_regression_fit(path, title=title, curve=curve, scatter=scatter, losses=losses)
