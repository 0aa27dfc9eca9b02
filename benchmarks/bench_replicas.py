"""Replica-batched against sequential training of the diffusion MLP, and FLOP/s against the matmul peak.

    .venv/bin/python benchmarks/bench_replicas.py [--replicas 16] [--widths 32 64 256] [--steps 100]

For each width: R = ``--replicas`` networks (``TimeMLP(replicas=R)``, weights (R, in, out),
torch.baddbmm) trained as one model, against the same R networks trained one after another.
The R sequential networks are identical in cost, so the sequential time is measured on two of
them and scaled by R / 2 (stated in the output).  FLOPs count the network's matrix products only:
2 * B * (sum of in * out over layers) per forward pass, times 3 for forward + backward.  The peak
is a 2048^3 fp32 matmul on the same threads, measured in the same run.  Results go in
benchmarks/README.md (## Replicas).
"""

from __future__ import annotations

import argparse
import time

import torch

from genlab.nn.mlp import TimeMLP


def matmul_peak(threads: int, size: int = 2048, reps: int = 5) -> float:
    """fp32 GFLOP/s of a size^3 matrix product (best of ``reps``)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * size ** 3 / best / 1e9


def matmul_flops_per_step(dim: int, width: int, depth: int, embed: int, batch: int) -> float:
    """Forward + backward FLOPs of one training step of one network (matrix products only)."""
    macs = embed * width + width * width + dim * width + depth * width * width + width * dim
    return 3 * 2 * batch * macs


def _train(model: TimeMLP, x: torch.Tensor, tau: torch.Tensor, steps: int) -> float:
    """Seconds for ``steps`` Adam steps on a regression loss (after 5 warm-up steps)."""
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    target = torch.zeros_like(x)
    for i in range(steps + 5):
        if i == 5:
            t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = ((model(x, tau) - target) ** 2).mean(dim=(-2, -1)).sum()
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicas", type=int, default=16)
    ap.add_argument("--widths", type=int, nargs="+", default=[32, 64, 256])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--batch", type=int, default=256, help="minibatch per replica")
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--dim", type=int, default=2)
    args = ap.parse_args()
    threads = torch.get_num_threads()
    peak = matmul_peak(threads)
    R, B, d = args.replicas, args.batch, args.dim
    print(f"threads {threads}; fp32 matmul peak (2048^3) {peak:.0f} GFLOP/s; R = {R}, batch {B}/replica, "
          f"depth {args.depth}, {args.steps} steps; sequential = 2 networks timed x R/2")
    g = torch.Generator().manual_seed(0)
    for w in args.widths:
        batched = TimeMLP(d, w, args.depth, replicas=R, generator=g)
        t_b = _train(batched, torch.randn(R, B, d), torch.rand(R, B), args.steps)
        t_s = sum(_train(TimeMLP(d, w, args.depth, generator=g), torch.randn(B, d), torch.rand(B), args.steps)
                  for _ in range(2)) * R / 2
        flops = matmul_flops_per_step(d, w, args.depth, 64, B) * R * args.steps
        print(f"width {w:4d}: batched {R * args.steps / t_b:8.0f} replica-steps/s "
              f"({flops / t_b / 1e9:6.1f} GFLOP/s, {100 * flops / t_b / 1e9 / peak:4.1f}% of peak); "
              f"sequential {R * args.steps / t_s:8.0f} ({flops / t_s / 1e9:6.1f} GFLOP/s, "
              f"{100 * flops / t_s / 1e9 / peak:4.1f}%); batched / sequential speed {t_s / t_b:5.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
