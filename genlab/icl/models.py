"""Models that read a prompt: a small causal transformer and one linear self-attention layer.

Both map xs (B, K, d), ys (B, K) to preds (B, K), where preds[:, j] depends
only on (x_i, y_i) for i < j and on x_j -- the same contract as
`genlab.icl.baselines`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from genlab.core.validation import check_positive_int

__all__ = ["MODELS", "ICLTransformer", "LinearSelfAttention", "make_model", "interleave"]

MODELS = ("transformer", "lsa")


def interleave(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
    """Tokens x_1, (y_1, 0..0), x_2, (y_2, 0..0), ... of shape (B, 2K, d) (Garg et al. 2022, Sec. 2)."""
    B, K, d = xs.shape
    y_tok = torch.zeros_like(xs)
    y_tok[..., 0] = ys
    return torch.stack([xs, y_tok], dim=2).reshape(B, 2 * K, d)


class _Block(nn.Module):
    """Pre-LayerNorm GPT block: causal multi-head attention and a 4x GELU MLP (as nanoGPT)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        B, T, C = h.shape
        q, k, v = self.qkv(self.ln1(h)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.heads, C // self.heads).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        h = h + self.proj(a.transpose(1, 2).reshape(B, T, C))
        return h + self.mlp(self.ln2(h))


class ICLTransformer(nn.Module):
    """GPT-style causal transformer on interleaved (x, y) tokens, linear read-in and read-out.

    Predictions are read at the x-token positions, so preds[:, j] has seen
    x_1, y_1, ..., x_{j-1}, y_{j-1}, x_j (Garg, Tsipras, Liang & Valiant 2022,
    "What can transformers learn in-context?", Sec. 2; their model is GPT-2 with
    12 layers, width 256; this one is a few layers of width 64 for a CPU).

    Parameters
    ----------
    d : int
        Input dimension.
    max_points : int
        Longest prompt K (pairs); sets the learned positional embedding.
    """

    def __init__(self, d: int, max_points: int, width: int = 64, depth: int = 3, heads: int = 2):
        super().__init__()
        self.d = check_positive_int("d", d)
        self.max_points = check_positive_int("max_points", max_points)
        width, depth, heads = (check_positive_int(n, v) for n, v in (("width", width), ("depth", depth), ("heads", heads)))
        if width % heads:
            raise ValueError(f"width must be a multiple of heads = {heads}, got {width}")
        self.read_in = nn.Linear(d, width)
        self.pos = nn.Parameter(torch.randn(2 * max_points, width) * 0.02)
        self.blocks = nn.ModuleList(_Block(width, heads) for _ in range(depth))
        self.ln_f = nn.LayerNorm(width)
        self.read_out = nn.Linear(width, 1)

    def forward(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        K = xs.shape[1]
        if K > self.max_points:
            raise ValueError(f"xs has {K} points, more than max_points = {self.max_points}")
        h = self.read_in(interleave(xs, ys)) + self.pos[: 2 * K]  # (B, 2K, width)
        for block in self.blocks:
            h = block(h)
        return self.read_out(self.ln_f(h[:, ::2]))[..., 0]  # x-token positions -> (B, K)


class LinearSelfAttention(nn.Module):
    """One linear self-attention layer in the parametrisation of Zhang, Frei & Bartlett (JMLR 2024).

    Embedding (their Eq. 3.1, columns are tokens), for N examples and a query,

        Z = [[x_1 ... x_N  x_q],
             [y_1 ... y_N   0 ]]            shape (d + 1, N + 1),

    layer f(Z) = Z + W^{PV} Z M (Z^T W^{KQ} Z) / N with M = diag(I_N, 0), and the
    prediction is the bottom-right entry, y_hat = f(Z)_{d+1, N+1}.  Initialised
    as ZFB Sec. 3.3: W^{PV} = s [[0, 0], [0, 1]], W^{KQ} = s [[Theta Theta^T, 0], [0, 0]].
    With W^{PV}_{22} = 1, W^{KQ}_{11} = eta I it is one GD step of rate eta on
    (1/2N) sum (w . x_i - y_i)^2 from w = 0 (von Oswald et al. 2023, Prop. 1).
    """

    def __init__(self, d: int, init_scale: float = 0.1, generator: torch.Generator | None = None):
        super().__init__()
        self.d = check_positive_int("d", d)
        theta = torch.randn(d, d, generator=generator) / math.sqrt(d)
        w_kq = torch.zeros(d + 1, d + 1)
        w_kq[:d, :d] = init_scale * theta @ theta.T
        w_pv = torch.zeros(d + 1, d + 1)
        w_pv[d, d] = init_scale
        self.W_KQ, self.W_PV = nn.Parameter(w_kq), nn.Parameter(w_pv)

    @staticmethod
    def embed(xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """Z (B, d+1, N+1) from xs (B, N+1, d), ys (B, N+1); the query label is replaced by 0."""
        y = ys.clone()
        y[:, -1] = 0
        return torch.cat([xs, y[..., None]], dim=2).transpose(1, 2)

    def layer(self, Z: torch.Tensor) -> torch.Tensor:
        """f(Z) = Z + W^{PV} Z M Z^T W^{KQ} Z / N, literally (ZFB Eq. 3.2); shape (B, d+1, N+1)."""
        N = Z.shape[2] - 1
        ZM = Z.clone()
        ZM[..., -1] = 0  # M = diag(I_N, 0): the query is not a key/value
        return Z + self.W_PV @ ZM @ ZM.transpose(1, 2) @ self.W_KQ @ Z / N

    def predict_query(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """y_hat for the last point of each prompt from the literal layer, shape (B,)."""
        return self.layer(self.embed(xs, ys))[:, -1, -1]

    def forward(self, xs: torch.Tensor, ys: torch.Tensor) -> torch.Tensor:
        """Predictions at every prefix, preds (B, K); prefix j uses the layer on the first j pairs + x_j.

        Because f is bilinear in Z, the prefix-j prediction is
        w_pv^T (S_j / j) W^{KQ}[:, :d] x_j with S_j = sum_{i<j} z_i z_i^T, computed
        by one exclusive cumulative sum; it equals `predict_query` on each prefix.
        """
        z = torch.cat([xs, ys[..., None]], dim=2)  # (B, K, d+1)
        outer = z[..., :, None] * z[..., None, :]
        S = outer.cumsum(1) - outer  # (B, K, d+1, d+1)
        j = torch.arange(xs.shape[1], dtype=xs.dtype, device=xs.device).clamp(min=1)
        q = xs @ self.W_KQ[:, : self.d].T  # (B, K, d+1): W^{KQ} (x_j; 0)
        return torch.einsum("e,bkef,bkf->bk", self.W_PV[self.d], S, q) / j

    def effective_gamma_inv(self) -> torch.Tensor:
        """W^{PV}_{22} W^{KQ}_{11} (d, d): the preconditioner Gamma^{-1} the layer applies when the
        off-diagonal blocks vanish, as at the ZFB global minimum."""
        return self.W_PV[self.d, self.d] * self.W_KQ[: self.d, : self.d]


def make_model(name: str, d: int, k: int, *, width: int = 64, depth: int = 3, heads: int = 2,
               generator: torch.Generator | None = None) -> nn.Module:
    """Build ``transformer`` (for prompts of up to k + 1 points) or ``lsa``; raises on an unknown name."""
    if name == "transformer":
        if generator is None:
            return ICLTransformer(d, k + 1, width, depth, heads)
        # nn.Linear's init reads the global RNG: seed it from the generator inside a fork,
        # so the caller's global stream is left as it was
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))
            return ICLTransformer(d, k + 1, width, depth, heads)
    if name == "lsa":
        return LinearSelfAttention(d, generator=generator)
    raise ValueError(f"model must be one of {', '.join(MODELS)}; got {name!r}")
