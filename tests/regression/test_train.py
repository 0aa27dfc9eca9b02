"""genlab.regression.train: gradient descent against its closed form, early stopping, divergence, SGD seeding.

Tolerances: float64 iterations of a contracting linear map against their closed form, ~1e-12
(rounding of eps per step, not amplified since |1 - lr lambda| <= 1).
"""

import numpy as np
import pytest
import torch
from torch import nn

from genlab.regression.networks import TwoLayerNet
from genlab.regression.train import train_regression
from genlab.training import TrainingDiverged


class _Linear(nn.Module):
    """f(x) = <beta, x>, beta (d,): the model whose gradient descent has a closed form."""

    def __init__(self, beta0: torch.Tensor):
        super().__init__()
        self.beta = nn.Parameter(beta0.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.beta



def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_gradient_descent_on_a_linear_model_is_the_closed_form_iteration():
    n, d, lr, steps = 20, 3, 0.3, 60
    X = torch.randn(n, d, generator=_gen(0), dtype=torch.float64)
    y = torch.randn(n, generator=_gen(1), dtype=torch.float64)
    beta0 = torch.randn(d, generator=_gen(2), dtype=torch.float64)
    model = _Linear(beta0)
    res = train_regression(model, X, y, lr=lr, steps=steps)
    # L = (1/(2n)) |X beta - y|^2: beta_k - beta* = (I - lr X^T X / n)^k (beta_0 - beta*), beta* least squares
    H = X.T @ X / n
    assert float(torch.linalg.eigvalsh(H)[-1]) * lr < 1          # a contraction: rounding is not amplified
    beta_star = torch.linalg.lstsq(X, y[:, None]).solution[:, 0]
    A = torch.eye(d, dtype=torch.float64) - lr * H
    betas = [beta_star + torch.linalg.matrix_power(A, k) @ (beta0 - beta_star) for k in range(steps + 1)]
    torch.testing.assert_close(model.beta.detach(), betas[steps], rtol=1e-12, atol=1e-13)
    want = np.array([float(((X @ b - y) ** 2).sum()) / (2 * n) for b in betas])
    np.testing.assert_array_equal(res.loss_steps, np.arange(steps))
    np.testing.assert_allclose(res.losses, want[:steps], rtol=1e-12)
    assert res.final_train_loss == pytest.approx(want[steps], rel=1e-12)
    assert res.best_step == steps and res.val_loss is None and res.steps == steps and res.wall_s > 0
    # record_every thins the record
    res2 = train_regression(_Linear(beta0), X, y, lr=lr, steps=steps, record_every=25)
    np.testing.assert_array_equal(res2.loss_steps, [0, 25, 50])
    np.testing.assert_allclose(res2.losses, want[[0, 25, 50]], rtol=1e-12)


def test_gd_step_is_lr_times_the_models_multiplier_on_the_scaled_loss():
    # lazy, alpha = 2, m = 8: one step changes theta by -lr * m * (1/alpha^2) grad (1/(2n)) sum (f - y)^2
    X = torch.randn(5, 3, generator=_gen(3), dtype=torch.float64)
    y = torch.randn(5, generator=_gen(4), dtype=torch.float64)
    net = TwoLayerNet(3, 8, parametrisation="lazy", alpha=2.0, generator=_gen(5))
    with torch.no_grad():
        net.a.add_(0.3)                       # away from theta_0, where the centred net's residual is -y
    a_before = net.a.detach().clone()
    loss = 0.5 * ((net(X) - y) ** 2).mean()
    (grad_a,) = torch.autograd.grad(loss, net.a)
    train_regression(net, X, y, lr=0.01, steps=1)
    torch.testing.assert_close(net.a.detach(), a_before - 0.01 * 8 / 4 * grad_a, rtol=1e-14, atol=1e-15)


def test_early_stopping_restores_the_parameters_of_the_best_held_out_step():
    # f(x) = w x from w_0 = 0 on one point (x, y) = (1, 2): w_k = 2 (1 - (1 - lr)^k); held-out target 1 at
    # x = 1, so the held-out MSE (w_k - 1)^2 is smallest where w_k is closest to 1: (1 - lr)^k ~ 1/2
    x = torch.ones(1, 1, dtype=torch.float64)
    y, y_val = torch.full((1,), 2.0, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    lr, steps = 0.1, 40
    w = 2 * (1 - 0.9 ** np.arange(steps + 1))
    for every, best in ((1, 7), (5, 5)):
        # every step: |w_7 - 1| = 0.0434 < |w_6 - 1| = 0.0629; every 5: |w_5 - 1| = 0.181 < |w_10 - 1| = 0.303
        model = _Linear(torch.zeros(1, dtype=torch.float64))
        res = train_regression(model, x, y, lr=lr, steps=steps, x_val=x, y_val=y_val, eval_every=every)
        assert res.best_step == best == int(np.argmin(np.abs(w[::every] - 1))) * every
        assert float(model.beta.detach()) == pytest.approx(w[best], rel=1e-14)
        assert res.val_loss == pytest.approx((w[best] - 1) ** 2, rel=1e-13)
        assert res.final_train_loss == pytest.approx((w[best] - 2) ** 2 / 2, rel=1e-13)
        np.testing.assert_array_equal(res.val_steps, np.arange(0, steps + 1, every))
        np.testing.assert_allclose(res.val_losses, (w[::every] - 1) ** 2, rtol=1e-13, atol=1e-30)


def test_divergence_raises_naming_the_step():
    # w_k = (1 - lr)^k = (-1e10)^k: the loss w_k^2 / 2 is 5e299 at k = 15 and overflows at k = 16
    x, y = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    model = _Linear(torch.ones(1, dtype=torch.float64))
    with pytest.raises(TrainingDiverged, match=r"^non-finite loss at step 16 \(gd, lr = 1e\+10\)") as info:
        train_regression(model, x, y, lr=1.0 + 1e10, steps=100)
    assert info.value.step == 16 and "\n" not in str(info.value)


def test_sgd_is_reproducible_from_its_generator_and_visits_every_point_once_per_epoch():
    n = 12
    X = torch.randn(n, 2, generator=_gen(6), dtype=torch.float64)
    y = torch.sin(X[:, 0])

    def run(seed):
        net = TwoLayerNet(2, 16, generator=_gen(7))
        res = train_regression(net, X, y, optimizer="sgd", lr=0.05, steps=30, batch_size=5, generator=_gen(seed))
        return res.losses, torch.cat([net.a.detach(), net.W.detach().reshape(-1)])

    (l1, p1), (l2, p2), (l3, p3) = run(8), run(8), run(9)
    assert np.array_equal(l1, l2) and bool((p1 == p2).all())
    assert not np.array_equal(l1, l3)
    # the batches are successive cuts (5, 5, 2) of torch.randperm(n, generator): one epoch covers every point;
    # with lr = 1e-300 the parameters move by ~1e-300, so the recorded losses are those at theta_0
    g = _gen(8)
    perm = torch.randperm(n, generator=g)
    net = TwoLayerNet(2, 16, generator=_gen(7))
    res = train_regression(net, X, y, optimizer="sgd", lr=1e-300, steps=3, batch_size=5, generator=_gen(8))
    f0 = TwoLayerNet(2, 16, generator=_gen(7))(X).detach()
    want = [float(((f0[b] - y[b]) ** 2).mean()) / 2 for b in perm.split(5)]
    np.testing.assert_allclose(res.losses, want, rtol=1e-12)


def test_adam_trains_and_bad_arguments_are_refused():
    X = torch.randn(30, 2, generator=_gen(10), dtype=torch.float64)
    y = X[:, 0] - X[:, 1]
    net = TwoLayerNet(2, 32, generator=_gen(11))
    res = train_regression(net, X, y, optimizer="adam", lr=1e-2, steps=200)
    assert res.final_train_loss < 0.1 * res.losses[0]
    for kwargs, msg in (({"optimizer": "lbfgs"}, r"^optimizer must be one of gd, sgd, adam; got 'lbfgs'$"),
                        ({"lr": 0.0}, r"^lr must be > 0, got 0.0$"),
                        ({"steps": 0}, r"^steps must be a positive integer, got 0$"),
                        ({"batch_size": 5}, r"^batch_size must be 0 \(the full batch\) for optimizer 'gd', got 5$"),
                        ({"optimizer": "sgd"}, r"^batch_size must be >= 1 for optimizer 'sgd', got 0$"),
                        ({"batch_size": 31, "optimizer": "sgd"}, r"^batch_size must be an integer in 0..n = 30"),
                        ({"x_val": X}, r"^x_val and y_val must be torch tensors")):
        with pytest.raises(ValueError, match=msg):
            train_regression(net, X, y, **kwargs)
    with pytest.raises(ValueError, match=r"^model must map x of shape \(n, d\) to \(n,\), got \(30, 1\)$"):
        train_regression(nn.Linear(2, 1, dtype=torch.float64), X, y)
