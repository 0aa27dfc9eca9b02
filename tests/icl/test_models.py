"""The LSA layer as one GD step (von Oswald et al. 2023), causality, and the transformer's contract."""

import pytest
import torch

from genlab.icl.models import ICLTransformer, LinearSelfAttention, interleave, make_model
from genlab.icl.prompts import PromptSampler


def test_lsa_von_oswald_is_one_gd_step():
    d, n, eta = 4, 9, 0.37
    s = PromptSampler("noisy_linear", d, n, sigma2=0.2, dtype=torch.float64)
    xs, ys, _ = s.sample(32, torch.Generator().manual_seed(0))
    m = LinearSelfAttention(d).double()
    with torch.no_grad():
        m.W_KQ.zero_()
        m.W_KQ[:d, :d] = eta * torch.eye(d, dtype=torch.float64)
        m.W_PV.zero_()
        m.W_PV[d, d] = 1.0
    # one GD step on L(w) = (1/2N) sum (w . x_i - y_i)^2 from w = 0, gradient by autograd
    w = torch.zeros(32, d, dtype=torch.float64, requires_grad=True)
    loss = 0.5 * ((torch.einsum("bnd,bd->bn", xs[:, :n], w) - ys[:, :n]) ** 2).mean(1).sum()
    (grad,) = torch.autograd.grad(loss, w)
    y_gd = torch.einsum("bd,bd->b", xs[:, n], -eta * grad)
    with torch.no_grad():
        assert (m.predict_query(xs, ys) - y_gd).abs().max() < 1e-10
        assert (m(xs, ys)[:, n] - y_gd).abs().max() < 1e-10


def test_lsa_prefix_forward_equals_literal_layer():
    d = 3
    xs, ys, _ = PromptSampler("linear", d, 6, dtype=torch.float64).sample(5, torch.Generator().manual_seed(1))
    m = LinearSelfAttention(d, generator=torch.Generator().manual_seed(2)).double()
    with torch.no_grad():
        m.W_KQ.normal_(generator=torch.Generator().manual_seed(3))
        m.W_PV.normal_(generator=torch.Generator().manual_seed(4))
        all_prefixes = m(xs, ys)
        for j in range(1, 7):
            literal = m.predict_query(xs[:, : j + 1], ys[:, : j + 1])
            assert (all_prefixes[:, j] - literal).abs().max() < 1e-10


def test_transformer_is_causal_and_shaped():
    torch.manual_seed(0)
    m = ICLTransformer(3, 5, width=16, depth=2, heads=2).eval()
    xs, ys = torch.randn(2, 5, 3), torch.randn(2, 5)
    p = m(xs, ys)
    assert p.shape == (2, 5)
    ys2 = ys.clone()
    ys2[:, 2] += 5.0
    xs2 = xs.clone()
    xs2[:, 3] += 5.0
    with torch.no_grad():
        assert torch.allclose(m(xs, ys2)[:, :3], p[:, :3], atol=1e-6)  # y_2 is unseen up to prefix 2
        assert torch.allclose(m(xs2, ys)[:, :3], p[:, :3], atol=1e-6)
        assert not torch.allclose(m(xs, ys2)[:, 3], p[:, 3])


def test_interleave_layout():
    xs, ys = torch.arange(12.0).reshape(1, 3, 4), torch.tensor([[7.0, 8.0, 9.0]])
    t = interleave(xs, ys)
    assert t.shape == (1, 6, 4)
    assert torch.equal(t[0, 2], xs[0, 1]) and t[0, 3].tolist() == [8.0, 0.0, 0.0, 0.0]


def test_make_model_rejects_unknown():
    with pytest.raises(ValueError, match="^model"):
        make_model("rnn", 3, 4)
    with pytest.raises(ValueError, match="^width"):
        make_model("transformer", 3, 4, width=15, heads=2)


def test_make_model_is_seeded_and_leaves_global_rng():
    state = torch.random.get_rng_state()
    a = make_model("transformer", 3, 4, width=16, depth=1, generator=torch.Generator().manual_seed(7))
    b = make_model("transformer", 3, 4, width=16, depth=1, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
