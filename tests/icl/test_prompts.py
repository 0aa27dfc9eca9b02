"""Prompt shapes, seeding, task pools and argument checks."""

import pytest
import torch

from genlab.icl.prompts import PromptSampler, covariance_eigenvalues


def g(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("family", ["linear", "noisy_linear", "sparse_linear", "relu"])
def test_shapes_and_seed(family):
    s = PromptSampler(family, 4, 7, sigma2=0.0 if family == "linear" else 0.1)
    xs, ys, ws = s.sample(16, g(1))
    assert xs.shape == (16, 8, 4) and ys.shape == (16, 8)
    assert ws.shape == ((16, 100, 5) if family == "relu" else (16, 4))
    again = s.sample(16, g(1))
    assert torch.equal(xs, again.xs) and torch.equal(ys, again.ys)
    assert not torch.equal(xs, s.sample(16, g(2)).xs)


def test_noiseless_labels_are_linear():
    xs, ys, ws = PromptSampler("linear", 3, 5).sample(8, g())
    torch.testing.assert_close(ys, torch.einsum("bkd,bd->bk", xs, ws))


def test_sparse_support_size():
    _, _, ws = PromptSampler("sparse_linear", 8, 4, sparsity=3).sample(50, g())
    assert ((ws != 0).sum(1) == 3).all()


def test_pool_is_fixed_and_used():
    s = PromptSampler("noisy_linear", 3, 4, sigma2=0.1, n_tasks=2, pool_seed=5)
    _, _, ws = s.sample(40, g())
    assert s.pool.shape == (2, 3)
    assert all(any(torch.equal(w, p) for p in s.pool) for w in ws)
    assert torch.equal(s.pool, PromptSampler("noisy_linear", 3, 4, sigma2=0.1, n_tasks=2, pool_seed=5).pool)


def test_covariance_moments():
    # second moments within ~5 standard errors: var of x_i^2 is 2 lambda_i^2, n = 40,000
    s = PromptSampler("linear", 4, 9, covariance="skewed")
    xs = s.sample(4000, g()).xs.reshape(-1, 4).double()
    lam = covariance_eigenvalues(4, "skewed")
    se = (2 * lam**2 / xs.shape[0]).sqrt()
    assert ((xs.pow(2).mean(0) - lam).abs() < 5 * se).all()
    assert abs(float(lam.sum()) - 4) < 1e-12


@pytest.mark.parametrize("kwargs, name", [
    (dict(family="linear", d=0, k=3), "d"),
    (dict(family="linear", d=3, k=0), "k"),
    (dict(family="noisy_linear", d=3, k=3, sigma2=-1.0), "sigma2"),
    (dict(family="cubic", d=3, k=3), "family"),
    (dict(family="linear", d=3, k=3, sigma2=0.5), "sigma2"),
    (dict(family="linear", d=3, k=3, n_tasks=-2), "n_tasks"),
    (dict(family="linear", d=3, k=3, covariance="odd"), "covariance"),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}") as e:
        PromptSampler(**kwargs)
    assert "\n" not in str(e.value)


def test_generator_required():
    with pytest.raises(ValueError, match="^generator"):
        PromptSampler("linear", 2, 2).sample(4, None)
